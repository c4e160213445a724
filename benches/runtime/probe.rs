//! `BENCH_PROBE=1`: per-sample counts of where the threads ran.
//!
//! For workloads whose time depends on how the OS shares the CPUs out
//! (more runnable threads than CPUs, as in `spawn_many_remote_busy`), the
//! wall time alone cannot say *why* one process is slower than another.
//! This prints, after every timed sample, one line per thread of the
//! process: how long it ran and how long it waited runnable on a run queue
//! (`/proc/self/task/T/schedstat`), its voluntary and involuntary context
//! switches and its migrations between CPUs (`/proc/self/task/T/sched`),
//! and the CPU it was last on (`stat` field 39). These are counts the
//! kernel keeps for each thread, so they do not depend on when the reader
//! looks. The contender may add its own counters ([`super::DynContender::
//! counters`]); windlass gives its workers' polls, steals and parks.
//!
//! Two lines per sample: `probe ...` covers the whole sample (set-up and
//! tear-down included), `probe ... timed` only the timed regions, for the
//! workloads that mark them ([`begin_timed`], [`end_timed`]; today
//! `spawn_many_remote_busy`). The busy tasks of that workload also add
//! their yields to [`BUSY_YIELDS`] when they stop, printed as
//! `busy_yields`.
//!
//! ```text
//! BENCH_PROBE=1 BENCH_CONTENDERS=windlass,tokio,smol BENCH_WORKERS=2 \
//!     runtime-<hash> --bench =spawn_many_remote_busy 2>&1 | grep timed
//! ```
//!
//! Off by default; reading procfs costs about 10 µs per thread per
//! snapshot, outside the timed region.

use std::fs;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use super::DynContender;

/// A contender's named counters ([`super::Contender::counters`]).
pub(crate) type Counters = Vec<(String, u64)>;

/// Yields done by `spawn_many_remote_busy`'s busy tasks, added once per
/// run when each task stops (so counting costs nothing in its loop).
pub(crate) static BUSY_YIELDS: AtomicU64 = AtomicU64::new(0);

/// The contender's counters and [`BUSY_YIELDS`].
pub(crate) fn counters(c: &dyn DynContender) -> Counters {
    let mut out = c.counters();
    out.push(("busy_yields".into(), BUSY_YIELDS.load(Ordering::Relaxed)));
    out
}

/// One thread's scheduler counts at one moment.
#[derive(Clone, Debug, Default)]
pub(crate) struct ThreadStat {
    tid: u32,
    /// `comm`: the thread's name, truncated to 15 bytes by the kernel.
    name: String,
    /// CPU the thread last ran on.
    cpu: u32,
    /// Nanoseconds on a CPU.
    run_ns: u64,
    /// Nanoseconds runnable but waiting for a CPU.
    wait_ns: u64,
    voluntary: u64,
    involuntary: u64,
    migrations: u64,
}

impl ThreadStat {
    /// This thread's change since its entry in `before` (from zero if it
    /// has none: a thread started meanwhile); name and CPU are the latest.
    fn since(&self, before: &[ThreadStat]) -> ThreadStat {
        let b = before
            .iter()
            .find(|b| b.tid == self.tid)
            .cloned()
            .unwrap_or_default();
        ThreadStat {
            tid: self.tid,
            name: self.name.clone(),
            cpu: self.cpu,
            run_ns: self.run_ns - b.run_ns,
            wait_ns: self.wait_ns - b.wait_ns,
            voluntary: self.voluntary - b.voluntary,
            involuntary: self.involuntary - b.involuntary,
            migrations: self.migrations - b.migrations,
        }
    }
}

/// True when `BENCH_PROBE` is set to anything but `0`.
pub(crate) fn enabled() -> bool {
    std::env::var("BENCH_PROBE").is_ok_and(|v| v != "0")
}

/// Reads every thread of this process. Threads that exit while it reads
/// are left out.
pub(crate) fn snapshot() -> Vec<ThreadStat> {
    let Ok(dir) = fs::read_dir("/proc/self/task") else {
        return Vec::new();
    };
    let mut out: Vec<ThreadStat> = dir
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .filter_map(read_thread)
        .collect();
    out.sort_by_key(|t| t.tid);
    out
}

fn read_thread(tid: u32) -> Option<ThreadStat> {
    let base = format!("/proc/self/task/{tid}");
    let name = fs::read_to_string(format!("{base}/comm")).ok()?;
    let schedstat = fs::read_to_string(format!("{base}/schedstat")).ok()?;
    let mut ss = schedstat.split_whitespace().map(|v| v.parse().unwrap_or(0));
    let (run_ns, wait_ns) = (ss.next()?, ss.next()?);
    let stat = fs::read_to_string(format!("{base}/stat")).ok()?;
    // Fields after the parenthesised name, which may itself hold spaces;
    // field 39 (processor) is the 37th after it.
    let rest = &stat[stat.rfind(')')? + 2..];
    let cpu = rest.split_whitespace().nth(36)?.parse().ok()?;
    let sched = fs::read_to_string(format!("{base}/sched")).unwrap_or_default();
    let field = |key: &str| {
        sched
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.rsplit(':').next()?.trim().parse().ok())
            .unwrap_or(0)
    };
    Some(ThreadStat {
        tid,
        name: name.trim().to_string(),
        cpu,
        run_ns,
        wait_ns,
        voluntary: field("nr_voluntary_switches"),
        involuntary: field("nr_involuntary_switches"),
        migrations: field("se.nr_migrations"),
    })
}

/// Thread counts summed over the timed regions of the current sample: each
/// entry is (tid, name, last CPU, the summed change of the counts).
static TIMED: Mutex<Vec<ThreadStat>> = Mutex::new(Vec::new());
/// The contender's counters, summed the same way.
static TIMED_COUNTERS: Mutex<Counters> = Mutex::new(Vec::new());

/// Marks the start of a timed region (a workload calls this only when
/// [`enabled`]); returns the snapshot to hand to [`end_timed`].
pub(crate) fn begin_timed(counters: Counters) -> (Vec<ThreadStat>, Counters) {
    (snapshot(), counters)
}

/// Marks the end of a timed region: adds each thread's change since
/// `before` to the sample's sum.
pub(crate) fn end_timed(
    before: (Vec<ThreadStat>, Vec<(String, u64)>),
    counters: Vec<(String, u64)>,
) {
    let after = snapshot();
    let (before, counters_before) = before;
    {
        let mut sum = TIMED_COUNTERS.lock().unwrap();
        for ((name, a), (_, b)) in counters.into_iter().zip(counters_before) {
            match sum.iter_mut().find(|(n, _)| *n == name) {
                Some((_, v)) => *v += a - b,
                None => sum.push((name, a - b)),
            }
        }
    }
    let mut sum = TIMED.lock().unwrap();
    for a in after {
        let d = a.since(&before);
        match sum.iter_mut().find(|s| s.tid == a.tid) {
            Some(s) => {
                s.cpu = d.cpu;
                s.run_ns += d.run_ns;
                s.wait_ns += d.wait_ns;
                s.voluntary += d.voluntary;
                s.involuntary += d.involuntary;
                s.migrations += d.migrations;
            }
            None => sum.push(d),
        }
    }
}

/// Takes the sums of [`end_timed`] since the last call, as a change from
/// zero (for [`report`]'s `after`, with an empty `before`).
pub(crate) fn take_timed() -> (Vec<ThreadStat>, Counters) {
    (
        std::mem::take(&mut *TIMED.lock().unwrap()),
        std::mem::take(&mut *TIMED_COUNTERS.lock().unwrap()),
    )
}

/// Prints the change from `before` to `after` for every thread that ran
/// during the sample, and the contender's own counters' change.
pub(crate) fn report(
    label: &str,
    ns_per_op: f64,
    before: &[ThreadStat],
    after: &[ThreadStat],
    counters: (&Counters, &Counters),
) {
    let mut line = format!("probe {label} ns/op={ns_per_op:.0}");
    for a in after {
        let d = a.since(before);
        if d.run_ns < 100_000 {
            continue;
        }
        line += &format!(
            " | {}:{} cpu{} run={:.1}ms wait={:.1}ms vol={} invol={} migr={}",
            d.name,
            d.tid,
            d.cpu,
            d.run_ns as f64 / 1e6,
            d.wait_ns as f64 / 1e6,
            d.voluntary,
            d.involuntary,
            d.migrations,
        );
    }
    let (cb, ca) = counters;
    for ((name, a), (_, b)) in ca.iter().zip(cb) {
        line += &format!(" {name}={}", a - b);
    }
    eprintln!("{line}");
}
