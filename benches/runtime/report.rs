//! The reports printed after the timing tables that are not ns/op: the
//! million idle tasks (each runtime in a fresh process) and latency under
//! a paced load.

use std::process::Command;

use super::DynContender;
use super::load::{self, IdleReport};

/// Set (to a contender's name) in the child process that measures idle
/// tasks for that one runtime.
pub(crate) const IDLE_CHILD_ENV: &str = "BENCH_IDLE_CHILD";

/// In the child: measure, and print one line the parent parses.
pub(crate) fn idle_child(c: &dyn DynContender) {
    let r = c.idle_tasks();
    println!(
        "idle_result {} {:.1} {:.1} {}",
        r.tasks,
        r.peak_rss_per_task,
        r.live_heap_per_task,
        r.wake_all.as_nanos()
    );
}

fn parse_idle(stdout: &str) -> Option<IdleReport> {
    let line = stdout.lines().find(|l| l.starts_with("idle_result "))?;
    let f: Vec<&str> = line.split_whitespace().collect();
    Some(IdleReport {
        tasks: f.get(1)?.parse().ok()?,
        peak_rss_per_task: f.get(2)?.parse().ok()?,
        live_heap_per_task: f.get(3)?.parse().ok()?,
        wake_all: std::time::Duration::from_nanos(f.get(4)?.parse().ok()?),
    })
}

/// Runs the idle-tasks measurement once per runtime, each in a fresh copy
/// of this process (the same flags and environment), and prints a table.
pub(crate) fn print_idle_tasks(names: &[&str]) {
    let exe = std::env::current_exe().expect("current exe");
    let args: Vec<String> = std::env::args().skip(1).collect();
    println!(
        "\n{} idle tasks waiting on one event, each runtime in a fresh process:\n",
        load::idle_tasks_count()
    );
    println!(
        "| runtime | peak RSS bytes/task | live heap bytes/task | wake all ms |\n|---|---:|---:|---:|"
    );
    for name in names {
        let out = Command::new(&exe)
            .args(&args)
            .env(IDLE_CHILD_ENV, name)
            .output()
            .expect("run idle-tasks child");
        let stdout = String::from_utf8_lossy(&out.stdout);
        match parse_idle(&stdout) {
            Some(r) if out.status.success() => println!(
                "| {name} | {:.0} | {:.0} | {:.1} |",
                r.peak_rss_per_task,
                r.live_heap_per_task,
                r.wake_all.as_secs_f64() * 1e3
            ),
            _ => panic!(
                "idle-tasks child for {name} failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ),
        }
    }
}

/// Latency under load: first each runtime's saturated rate (requests sent
/// as fast as the pacer can, median of 3), then the slowest runtime's rate
/// sets the common 100%, and every runtime runs at 50% and 90% of it
/// (interleaved, median-p99 of 3 runs).
pub(crate) fn print_latency(contenders: &[Box<dyn DynContender>]) {
    let mut saturated = Vec::new();
    for c in contenders {
        let mut rates: Vec<f64> = (0..3).map(|_| c.latency(None).rate).collect();
        rates.sort_by(f64::total_cmp);
        saturated.push(rates[1]);
    }
    let full = saturated.iter().copied().fold(f64::INFINITY, f64::min);
    println!(
        "\nLatency under load, {} paced requests (pacer thread -> server task -> client \
         task), wake-to-poll of both hops; 100% = {full:.0} req/s (the slowest runtime's \
         saturated rate; saturated: {}):\n",
        load::latency_requests(),
        contenders
            .iter()
            .zip(&saturated)
            .map(|(c, r)| format!("{} {r:.0}", c.name()))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!("| load | runtime | p50 µs | p99 µs | p999 µs | achieved req/s |");
    println!("|---|---|---:|---:|---:|---:|");
    for load in [0.5, 0.9] {
        let mut runs: Vec<Vec<load::LatencyReport>> = contenders.iter().map(|_| vec![]).collect();
        for round in 0..3 {
            for i in (0..contenders.len()).map(|i| (i + round) % contenders.len()) {
                runs[i].push(contenders[i].latency(Some(full * load)));
            }
        }
        for (c, mut r) in contenders.iter().zip(runs) {
            r.sort_by_key(|r| r.p99);
            let m = &r[1];
            println!(
                "| {:.0}% | {} | {:.1} | {:.1} | {:.1} | {:.0} |",
                load * 100.0,
                c.name(),
                m.p50 as f64 / 1e3,
                m.p99 as f64 / 1e3,
                m.p999 as f64 / 1e3,
                m.rate
            );
        }
    }
}
