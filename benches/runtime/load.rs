//! Workloads shaped like servers: many producers into one consumer, pools
//! of tasks that call each other, a million idle tasks, and latency under
//! a paced load.
//!
//! As in `sync.rs`, each contender uses its own channels (`windlass::sync`,
//! `tokio::sync`, `async-channel` for smol), so a wake-up costs what that
//! runtime's scheduler charges for it. The one exception is the request
//! channel of [`request_response`], which carries a reply sender and uses
//! `futures-channel` for every contender (as `sync_oneshot` does).
//!
//! Sizes shrink in smoke mode (see [`quick`]), so that
//! `cargo test --release --bench runtime` stays quick.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures_lite::StreamExt;

use super::sync::{SmolSync, SyncApi, TokioSync, WindlassSync};
use super::{Contender, Latch, time_driver};

/// Set by `main` in smoke mode (no `--bench`): every workload here runs
/// at a tenth of its size or less.
pub(crate) static QUICK: AtomicBool = AtomicBool::new(false);

fn quick() -> bool {
    QUICK.load(Ordering::Relaxed)
}

/// Producer tasks and messages per producer in `fan_in`.
pub(crate) fn fan_in_size() -> (usize, usize) {
    if quick() { (1_000, 10) } else { (10_000, 100) }
}

/// Capacity of the bounded channel in `fan_in_bounded`.
const FAN_IN_CAPACITY: usize = 1_024;

/// Server tasks, client tasks and requests per client in
/// `request_response`.
const SERVERS: usize = 8;
pub(crate) const CLIENTS: usize = 100;
pub(crate) fn requests_per_client() -> usize {
    if quick() { 10 } else { 100 }
}

/// Tasks in `cpu_fanout`, and the work each does.
pub(crate) const FANOUT_TASKS: usize = 1_000;
const FANOUT_ITERS: u64 = 5_000;

macro_rules! dispatch {
    ($f:ident::<$c:ident>($($arg:expr),*)) => {
        match $c::NAME {
            "windlass" => $f::<$c, WindlassSync>($($arg),*),
            "tokio" => $f::<$c, TokioSync>($($arg),*),
            "smol" => $f::<$c, SmolSync>($($arg),*),
            other => panic!("no sync primitives for contender {other}"),
        }
    };
}

/// 10,000 producer tasks send 100 messages each to one consumer task over
/// an unbounded channel.
///
/// **op** = one message.
pub(crate) fn fan_in<C: Contender>(c: &C) -> Duration {
    dispatch!(fan_in_with::<C>(c, None))
}

/// As [`fan_in`], over a bounded channel of 1,024: most producers wait
/// for room, so every receive also wakes a producer.
///
/// **op** = one message.
pub(crate) fn fan_in_bounded<C: Contender>(c: &C) -> Duration {
    dispatch!(fan_in_with::<C>(c, Some(FAN_IN_CAPACITY)))
}

fn fan_in_with<C: Contender, S: SyncApi>(c: &C, capacity: Option<usize>) -> Duration {
    let (producers, messages) = fan_in_size();
    let (done, rx) = futures_channel::oneshot::channel();
    time_driver(c, rx, async move {
        let (tx, mut chan) = S::mpsc(capacity);
        for p in 0..producers {
            let tx = tx.clone();
            C::spawn(async move {
                for i in 0..messages {
                    S::send(&tx, (p * messages + i) as u64).await;
                }
            });
        }
        drop(tx);
        C::spawn(async move {
            let mut n = 0;
            while S::recv(&mut chan).await.is_some() {
                n += 1;
            }
            assert_eq!(n, producers * messages);
            let _ = done.send(());
        });
    })
}

/// Two pools: 100 client tasks each make 100 sequential requests to one of
/// 8 server tasks; every request carries a oneshot sender for its reply.
///
/// **op** = one request/reply round trip.
pub(crate) fn request_response<C: Contender>(c: &C) -> Duration {
    dispatch!(request_response_with::<C>(c))
}

fn request_response_with<C: Contender, S: SyncApi>(c: &C) -> Duration {
    let rounds = requests_per_client();
    let (latch, rx) = Latch::new(CLIENTS);
    time_driver(c, rx, async move {
        let mut servers = Vec::with_capacity(SERVERS);
        for _ in 0..SERVERS {
            let (tx, mut requests) = futures_channel::mpsc::unbounded::<(u64, S::OneTx)>();
            servers.push(tx);
            C::spawn(async move {
                while let Some((n, reply)) = requests.next().await {
                    S::oneshot_send(reply, n + 1);
                }
            });
        }
        for client in 0..CLIENTS {
            let server = servers[client % SERVERS].clone();
            let latch = latch.clone();
            C::spawn(async move {
                let mut sum = 0;
                for n in 0..rounds as u64 {
                    let (tx, rx) = S::oneshot();
                    server.unbounded_send((n, tx)).expect("server gone");
                    sum += S::oneshot_recv(rx).await;
                }
                assert_eq!(sum, (1..=rounds as u64).sum());
                latch.count_down();
            });
        }
    })
}

/// 1,000 tasks each do about 10 µs of arithmetic: how work spreads over
/// the workers (the scaling table's CPU-bound row).
///
/// **op** = one task.
pub(crate) fn cpu_fanout<C: Contender>(c: &C) -> Duration {
    let (latch, rx) = Latch::new(FANOUT_TASKS);
    time_driver(c, rx, async move {
        for t in 0..FANOUT_TASKS as u64 {
            let latch = latch.clone();
            C::spawn(async move {
                let mut x = t | 1;
                for _ in 0..FANOUT_ITERS {
                    // xorshift: cheap, and the optimiser cannot skip it.
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                }
                std::hint::black_box(x);
                latch.count_down();
            });
        }
    })
}

// ---------------------------------------------------------------------------
// A million idle tasks
// ---------------------------------------------------------------------------

/// What [`idle_tasks`] measured.
pub(crate) struct IdleReport {
    pub(crate) tasks: usize,
    /// Growth of the process's peak RSS (VmHWM) over its RSS before the
    /// spawns, per task.
    pub(crate) peak_rss_per_task: f64,
    /// Heap bytes live (allocated, not freed) once every task waits, per
    /// task.
    pub(crate) live_heap_per_task: f64,
    /// From `notify` until the last task has run.
    pub(crate) wake_all: Duration,
}

/// Tasks in [`idle_tasks`].
pub(crate) fn idle_tasks_count() -> usize {
    if quick() { 10_000 } else { 1_000_000 }
}

fn proc_status_kib(field: &str) -> usize {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/self/status"))
}

/// Spawns `n` tasks that all wait on one `event_listener::Event` (the same
/// event type for every runtime; windlass's and smol's own events are built
/// on it), then wakes them all at once.
///
/// Run in a fresh process per runtime (see `main`), so that memory freed
/// by one runtime is not reused by the next one and hidden from RSS.
pub(crate) fn idle_tasks<C: Contender>(c: &C, live: &std::sync::atomic::AtomicUsize) -> IdleReport {
    let n = idle_tasks_count();
    // Reset the peak RSS to the current RSS (Linux >= 4.0).
    std::fs::write("/proc/self/clear_refs", "5").expect("reset VmHWM");
    let rss_before = proc_status_kib("VmRSS:");
    let live_before = live.load(Ordering::Relaxed);

    let event = Arc::new(event_listener::Event::new());
    let (registered, all_registered) = Latch::new(n);
    let (finished, all_finished) = Latch::new(n);
    c.block_on(async {
        for _ in 0..n {
            let (event, registered, finished) =
                (event.clone(), registered.clone(), finished.clone());
            c.spawn_remote(async move {
                let listener = event.listen();
                registered.count_down();
                listener.await;
                finished.count_down();
            });
        }
        all_registered.await.expect("registration latch");
    });
    let live_after = live.load(Ordering::Relaxed);
    let start = Instant::now();
    event.notify(usize::MAX);
    c.block_on(all_finished).expect("finish latch");
    let wake_all = start.elapsed();
    let peak = proc_status_kib("VmHWM:");
    IdleReport {
        tasks: n,
        peak_rss_per_task: (peak.saturating_sub(rss_before) * 1024) as f64 / n as f64,
        // The counter wraps (frees of blocks from before the report count
        // too); a net decrease reads as zero.
        live_heap_per_task: (live_after.wrapping_sub(live_before) as isize).max(0) as f64
            / n as f64,
        wake_all,
    }
}

// ---------------------------------------------------------------------------
// Latency under load
// ---------------------------------------------------------------------------

/// Server and client tasks in [`latency`].
const LAT_SERVERS: usize = 4;

/// Requests in one latency run.
pub(crate) fn latency_requests() -> usize {
    if quick() { 2_000 } else { 200_000 }
}

/// What one latency run measured, in ns.
pub(crate) struct LatencyReport {
    pub(crate) p50: u64,
    pub(crate) p99: u64,
    pub(crate) p999: u64,
    /// Requests per second actually achieved.
    pub(crate) rate: f64,
}

/// A paced ping: a pacer thread (outside the runtime) sends a request
/// every `1 / rate` seconds (`rate = None`: as fast as it can) to one of 4
/// server tasks; the server answers with a message to its client task.
/// Each message carries the time it was sent, and the receiving task
/// records how long after that it was polled with it: the schedule
/// latency from wake to poll (plus one channel operation). Both hops are
/// recorded: pacer to server (a wake from outside the runtime) and server
/// to client (a wake between tasks).
pub(crate) fn latency<C: Contender>(c: &C, rate: Option<f64>) -> LatencyReport {
    dispatch!(latency_with::<C>(c, rate))
}

/// An empty buffer for `capacity` samples whose pages are already
/// written. A fresh buffer of this size comes from `mmap`, so each of its
/// pages would otherwise fault on the first sample stored there: about 400
/// faults per run, inside the timed run, on the threads being measured.
/// Written here, before the pacer starts, they are no part of any
/// runtime's latency (docs/PERFORMANCE.md, "Latency under load: a searcher
/// spins before it parks").
fn sample_buffer(capacity: usize) -> Vec<u64> {
    let mut buf = vec![u64::MAX; capacity];
    buf.clear();
    buf
}

fn latency_with<C: Contender, S: SyncApi>(c: &C, rate: Option<f64>) -> LatencyReport {
    let n = latency_requests();
    let epoch = Instant::now();
    let now_ns = move || epoch.elapsed().as_nanos() as u64;
    let (samples_tx, mut samples_rx) = futures_channel::mpsc::unbounded::<Vec<u64>>();
    let mut requests = Vec::with_capacity(LAT_SERVERS);
    for _ in 0..LAT_SERVERS {
        let (req_tx, mut req_rx) = S::mpsc(None);
        let (resp_tx, mut resp_rx) = S::mpsc(None);
        requests.push(req_tx);
        let samples = samples_tx.clone();
        let mut seen = sample_buffer(n / LAT_SERVERS + 1);
        c.spawn_remote(async move {
            while let Some(sent) = S::recv(&mut req_rx).await {
                seen.push(now_ns().saturating_sub(sent));
                S::send(&resp_tx, now_ns()).await;
            }
            let _ = samples.unbounded_send(seen);
        });
        let samples = samples_tx.clone();
        let mut seen = sample_buffer(n / LAT_SERVERS + 1);
        c.spawn_remote(async move {
            while let Some(sent) = S::recv(&mut resp_rx).await {
                seen.push(now_ns().saturating_sub(sent));
            }
            let _ = samples.unbounded_send(seen);
        });
    }
    drop(samples_tx);

    // The pacer: spins until each request's slot, so the load is open-loop
    // (requests do not wait for replies).
    let start = Instant::now();
    for i in 0..n {
        if let Some(rate) = rate {
            let due = start + Duration::from_secs_f64(i as f64 / rate);
            while Instant::now() < due {
                std::hint::spin_loop();
            }
        }
        futures_lite::future::block_on(S::send(&requests[i % LAT_SERVERS], now_ns()));
    }
    drop(requests);
    let mut all: Vec<u64> = c.block_on(async {
        let mut all = Vec::with_capacity(2 * n);
        while let Some(part) = samples_rx.next().await {
            all.extend(part);
        }
        all
    });
    let elapsed = start.elapsed();
    assert_eq!(all.len(), 2 * n, "lost latency samples");
    all.sort_unstable();
    let pick = |q: f64| all[((all.len() as f64 * q) as usize).min(all.len() - 1)];
    LatencyReport {
        p50: pick(0.50),
        p99: pick(0.99),
        p999: pick(0.999),
        rate: n as f64 / elapsed.as_secs_f64(),
    }
}
