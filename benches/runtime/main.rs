//! Side-by-side scheduler benchmark: windlass vs tokio vs smol (`async-executor`).
//!
//! # Methodology
//!
//! The benchmark is meant to give stable *relative* numbers on a small, shared,
//! noisy machine, so every decision below favours comparing contenders under the
//! same conditions over measuring absolute throughput:
//!
//! * **Build once.** Every runtime is built once at start-up with the same number
//!   of worker threads `N` (default: number of CPUs, override with
//!   `BENCH_WORKERS`) and kept alive for the whole run, so thread start-up and
//!   pool growth are never measured.
//! * **Warm-up.** For each workload every contender first runs it `BENCH_WARMUP`
//!   times (default 3) untimed. This fills allocator caches and grows the
//!   blocking pools. The slowest contender's best warm-up run sets a repetition
//!   count so that one sample takes about `BENCH_SAMPLE_MS` (default 50 ms);
//!   all contenders use the same repetition count.
//! * **Interleaved rounds.** Then `BENCH_ROUNDS` rounds (default 15) are run. In
//!   each round every contender takes one sample, and the order rotates from one
//!   round to the next. A burst of background load therefore hits all
//!   contenders about equally, instead of spoiling one contender's whole series.
//! * **Robust statistics.** Each sample is converted to ns per op (the doc comment
//!   of each workload function says what one op is). The table reports the
//!   **median** over rounds, and the ratio of medians to tokio (`< 1` means
//!   faster than tokio). A second table reports the **minimum** (best case),
//!   a third the median **CPU time per op** of the whole process (all its
//!   threads; see [`process_cpu`]): CPU over wall time per op is how many
//!   cores a contender kept busy, which tells idle workers from dear
//!   operations.
//! * **Only the workload is timed.** Set-up that is not part of the workload
//!   (starting the busy tasks, idling before `spawn_many_remote_idle`, stopping
//!   the busy tasks) happens outside the timed region.
//! * Completion is always signalled through runtime-neutral primitives
//!   (`futures-channel` oneshots plus atomics), so no contender's own sync
//!   primitives are measured.
//!
//! # Usage
//!
//! ```text
//! cargo bench --bench runtime                 # everything
//! cargo bench --bench runtime -- spawn_many   # workloads whose name contains "spawn_many"
//! BENCH_WORKERS=4 BENCH_ROUNDS=31 cargo bench --bench runtime
//! ```
//!
//! The filter may be a comma-separated list (`-- spawn_many,tcp_echo`);
//! a part written `=name` picks that workload alone (`-- =fan_in` runs
//! `fan_in` without `fan_in_bounded`);
//! `BENCH_CONTENDERS=windlass` runs one runtime alone (for `perf stat`).
//!
//! After the ns/op tables come reports that are not ns/op: bytes per
//! spawned `async {}` (always, split into the task and run-queue growth;
//! see [`spawn_bytes`]), and, when the filter picks them, `latency`
//! (wake-to-poll percentiles at 50% and 90% of the saturated rate),
//! `idle_tasks` (a million idle tasks: RSS and heap per task, time to wake
//! them all; each runtime in a fresh process) and `timers` (lateness).
//! Their sizes shrink in smoke mode. For the scaling table, run the binary
//! once per `BENCH_WORKERS` value and feed the outputs to
//! `benches/runtime/plot_scaling.py`.
//!
//! Other knobs: `BENCH_WARMUP` (default 3), `BENCH_SAMPLE_MS` (default 50),
//! `BENCH_VERBOSE=1` (print every sample to stderr), `BENCH_PROBE=1`
//! (per-thread scheduler counts per sample, see [`probe`]) and
//! `BENCH_TIMEOUT_S` (default 60): a watchdog that aborts the bench,
//! naming the contender and workload, when a single run takes longer (a
//! lost wake-up, say).
//!
//! When the binary runs without `--bench` (for example under
//! `cargo test --benches`), it runs in quick smoke-test mode: no warm-up, one
//! round, one repetition.
//!
//! # Adding a contender
//!
//! Implement [`Contender`] for a type (about 30 lines; see `Tokio`) and add one
//! line to the list in `main`.

use std::future::Future;
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use futures_channel::oneshot;

#[cfg(feature = "hyper")]
mod http;
mod io;
mod join;
mod load;
mod probe;
mod report;
mod sync;

// ---------------------------------------------------------------------------
// Contender abstraction
// ---------------------------------------------------------------------------

/// A runtime under test.
///
/// The operations that run inside a task (`spawn`, `yield_now`, `spawn_blocking`)
/// are associated functions: they use the runtime's ambient context, as
/// `tokio::spawn` does.
trait Contender: 'static + join::JoinContender {
    /// Column name in the output table.
    const NAME: &'static str;

    /// Builds the runtime with `workers` worker threads.
    fn build(workers: usize) -> Self;

    /// Runs `fut` to completion on the calling (main) thread.
    fn block_on<F: Future>(&self, fut: F) -> F::Output;

    /// Spawns a detached task from *inside* a task running on this runtime.
    fn spawn<F>(fut: F)
    where
        F: Future<Output = ()> + Send + 'static;

    /// Spawns a detached task from *outside* the runtime (the main thread, or
    /// inside `block_on`) through the runtime handle.
    fn spawn_remote<F>(&self, fut: F)
    where
        F: Future<Output = ()> + Send + 'static;

    /// Yields to the scheduler once.
    fn yield_now() -> impl Future<Output = ()> + Send;

    /// Runs `f` on the runtime's blocking pool. The work must be submitted
    /// *eagerly*, when this is called and not when the returned future is first
    /// polled, so that callers can submit many and then await them.
    fn spawn_blocking<F, R>(f: F) -> impl Future<Output = R> + Send + 'static
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static;

    /// Sleeps on the runtime's timer.
    fn sleep(d: Duration) -> impl Future<Output = ()> + Send;

    /// Accepts `conns` connections on `listener` (a blocking std listener;
    /// the runtime makes it non-blocking) and spawns an echo task for each:
    /// read [`io::MSG`] bytes, write them back, until end-of-file.
    fn echo_server(
        listener: std::net::TcpListener,
        conns: usize,
    ) -> impl Future<Output = ()> + Send + 'static;

    /// Connects to `addr` and does `rounds` round trips of [`io::MSG`] bytes.
    fn echo_client(
        addr: std::net::SocketAddr,
        rounds: usize,
    ) -> impl Future<Output = ()> + Send + 'static;

    /// The runtime's own cumulative counters, named, for `BENCH_PROBE`
    /// ([`probe`]); none by default.
    fn counters(&self) -> Vec<(String, u64)> {
        Vec::new()
    }
}

/// Object-safe view of a [`Contender`], so the harness can keep a list of them.
trait DynContender {
    fn name(&self) -> &'static str;
    /// Runs `workload` once and returns the time spent in its timed region.
    fn run(&self, workload: Workload, workers: usize) -> Duration;
    /// Bytes allocated per spawned `async {}`; see [`spawn_bytes`].
    fn spawn_bytes(&self) -> SpawnBytes;
    /// Mean and p99 timer lateness in µs; see [`io::timer_lateness`].
    fn timer_lateness(&self, n: usize, max_ms: u32) -> (f64, f64);
    /// Wake-to-poll latency at a paced load; see [`load::latency`].
    fn latency(&self, rate: Option<f64>) -> load::LatencyReport;
    /// A million idle tasks; see [`load::idle_tasks`].
    fn idle_tasks(&self) -> load::IdleReport;
    /// See [`Contender::counters`].
    fn counters(&self) -> Vec<(String, u64)>;
}

impl<C: Contender> DynContender for C {
    fn name(&self) -> &'static str {
        C::NAME
    }

    fn run(&self, workload: Workload, workers: usize) -> Duration {
        workload.run(self, workers)
    }

    fn spawn_bytes(&self) -> SpawnBytes {
        spawn_bytes(self)
    }

    fn timer_lateness(&self, n: usize, max_ms: u32) -> (f64, f64) {
        io::timer_lateness(self, n, max_ms)
    }

    fn latency(&self, rate: Option<f64>) -> load::LatencyReport {
        load::latency(self, rate)
    }

    fn idle_tasks(&self) -> load::IdleReport {
        // Relaxed: a statistic. The tasks the report spawns reach the
        // workers through the runtime's queues, whose hand-off orders this
        // store before the workers' allocations for them.
        TRACKING_LIVE.store(true, Ordering::Relaxed);
        let report = load::idle_tasks(self, &LIVE);
        TRACKING_LIVE.store(false, Ordering::Relaxed);
        report
    }

    fn counters(&self) -> Vec<(String, u64)> {
        Contender::counters(self)
    }
}

// ---------------------------------------------------------------------------
// tokio
// ---------------------------------------------------------------------------

struct Tokio(tokio::runtime::Runtime);

impl Contender for Tokio {
    const NAME: &'static str = "tokio";

    fn build(workers: usize) -> Self {
        // With the I/O and time drivers, as tokio is normally used.
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .enable_all()
            .build()
            .expect("build tokio runtime");
        Tokio(rt)
    }

    fn block_on<F: Future>(&self, fut: F) -> F::Output {
        self.0.block_on(fut)
    }

    fn spawn<F>(fut: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        drop(tokio::spawn(fut));
    }

    fn spawn_remote<F>(&self, fut: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        drop(self.0.handle().spawn(fut));
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        tokio::task::yield_now()
    }

    fn spawn_blocking<F, R>(f: F) -> impl Future<Output = R> + Send + 'static
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let handle = tokio::task::spawn_blocking(f);
        async move { handle.await.expect("blocking task failed") }
    }

    fn sleep(d: Duration) -> impl Future<Output = ()> + Send {
        tokio::time::sleep(d)
    }

    fn echo_server(
        listener: std::net::TcpListener,
        conns: usize,
    ) -> impl Future<Output = ()> + Send + 'static {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        async move {
            listener.set_nonblocking(true).expect("nonblocking");
            let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
            for _ in 0..conns {
                let (mut s, _) = listener.accept().await.expect("accept");
                tokio::spawn(async move {
                    let mut buf = [0u8; io::MSG];
                    while s.read_exact(&mut buf).await.is_ok() {
                        s.write_all(&buf).await.expect("echo write");
                    }
                });
            }
        }
    }

    fn echo_client(
        addr: std::net::SocketAddr,
        rounds: usize,
    ) -> impl Future<Output = ()> + Send + 'static {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        async move {
            let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
            s.set_nodelay(true).expect("nodelay");
            let mut buf = [7u8; io::MSG];
            for _ in 0..rounds {
                s.write_all(&buf).await.expect("write");
                s.read_exact(&mut buf).await.expect("read");
            }
        }
    }
}

// ---------------------------------------------------------------------------
// smol: async-executor on N threads + the `blocking` pool
// ---------------------------------------------------------------------------

/// Like `smol::spawn`, the executor is a global, so tasks can spawn without a
/// handle. Only one [`Smol`] contender may exist.
static SMOL_EX: async_executor::Executor<'static> = async_executor::Executor::new();
static SMOL_BUILT: AtomicBool = AtomicBool::new(false);

struct Smol {
    /// Dropping this closes the channel, which makes every worker's `run` return.
    stop: Option<async_channel::Sender<()>>,
    threads: Vec<thread::JoinHandle<()>>,
}

impl Contender for Smol {
    const NAME: &'static str = "smol";

    fn build(workers: usize) -> Self {
        assert!(
            !SMOL_BUILT.swap(true, Ordering::SeqCst),
            "only one Smol contender may exist"
        );
        let (stop, stopped) = async_channel::bounded::<()>(1);
        let threads = (0..workers)
            .map(|i| {
                let stopped = stopped.clone();
                thread::Builder::new()
                    .name(format!("smol-worker-{i}"))
                    .spawn(move || {
                        futures_lite::future::block_on(SMOL_EX.run(async move {
                            // Returns `Err` once the sender is dropped.
                            let _ = stopped.recv().await;
                        }));
                    })
                    .expect("spawn smol worker")
            })
            .collect();
        Smol {
            stop: Some(stop),
            threads,
        }
    }

    fn block_on<F: Future>(&self, fut: F) -> F::Output {
        // What `smol::block_on` is: also drives the async-io reactor while idle.
        async_io::block_on(fut)
    }

    fn spawn<F>(fut: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        SMOL_EX.spawn(fut).detach();
    }

    fn spawn_remote<F>(&self, fut: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        SMOL_EX.spawn(fut).detach();
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        futures_lite::future::yield_now()
    }

    fn spawn_blocking<F, R>(f: F) -> impl Future<Output = R> + Send + 'static
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        // `unblock` queues the closure immediately, so submission is eager.
        blocking::unblock(f)
    }

    async fn sleep(d: Duration) {
        async_io::Timer::after(d).await;
    }

    fn echo_server(
        listener: std::net::TcpListener,
        conns: usize,
    ) -> impl Future<Output = ()> + Send + 'static {
        use futures_lite::{AsyncReadExt, AsyncWriteExt};
        async move {
            let listener = async_io::Async::new(listener).expect("smol listener");
            for _ in 0..conns {
                let (mut s, _) = listener.accept().await.expect("accept");
                SMOL_EX
                    .spawn(async move {
                        let mut buf = [0u8; io::MSG];
                        while s.read_exact(&mut buf).await.is_ok() {
                            s.write_all(&buf).await.expect("echo write");
                        }
                    })
                    .detach();
            }
        }
    }

    fn echo_client(
        addr: std::net::SocketAddr,
        rounds: usize,
    ) -> impl Future<Output = ()> + Send + 'static {
        use futures_lite::{AsyncReadExt, AsyncWriteExt};
        async move {
            let mut s = async_io::Async::<std::net::TcpStream>::connect(addr)
                .await
                .expect("connect");
            s.get_ref().set_nodelay(true).expect("nodelay");
            let mut buf = [7u8; io::MSG];
            for _ in 0..rounds {
                s.write_all(&buf).await.expect("write");
                s.read_exact(&mut buf).await.expect("read");
            }
        }
    }
}

impl Drop for Smol {
    fn drop(&mut self) {
        drop(self.stop.take());
        for t in self.threads.drain(..) {
            t.join().expect("smol worker panicked");
        }
    }
}

// ---------------------------------------------------------------------------
// windlass
// ---------------------------------------------------------------------------

/// windlass; `Windlass<true>` is the same runtime in debug mode
/// (`windlass_debug`, only when `BENCH_CONTENDERS` names it), for the
/// debug-mode cost in the same run.
struct Windlass<const DEBUG: bool = false>(windlass::runtime::Runtime);

impl<const DEBUG: bool> Contender for Windlass<DEBUG> {
    const NAME: &'static str = if DEBUG { "windlass_debug" } else { "windlass" };

    fn build(workers: usize) -> Self {
        let mut builder = windlass::runtime::Builder::new_multi_thread();
        builder.worker_threads(workers).debug(DEBUG);
        if DEBUG {
            // Measures the debug-mode machinery, not report printing: under
            // valgrind (callgrind counts) a descheduled worker would
            // otherwise be reported as blocked, and the spawn-bytes report
            // leaves thousands of tasks pending at shutdown.
            builder
                .slow_poll_threshold(Duration::from_secs(3600))
                .on_debug_event(|_| {});
        }
        let rt = builder.build().expect("build windlass runtime");
        Windlass(rt)
    }

    fn block_on<F: Future>(&self, fut: F) -> F::Output {
        self.0.block_on(fut)
    }

    // Like tokio: dropping a JoinHandle detaches the task; it does not cancel it.
    fn spawn<F>(fut: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        drop(windlass::spawn(fut));
    }

    fn spawn_remote<F>(&self, fut: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        drop(self.0.handle().spawn(fut));
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        windlass::task::yield_now()
    }

    fn spawn_blocking<F, R>(f: F) -> impl Future<Output = R> + Send + 'static
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let handle = windlass::spawn_blocking(f);
        async move { handle.await.expect("blocking task failed") }
    }

    fn sleep(d: Duration) -> impl Future<Output = ()> + Send {
        windlass::time::sleep(d)
    }

    fn echo_server(
        listener: std::net::TcpListener,
        conns: usize,
    ) -> impl Future<Output = ()> + Send + 'static {
        use futures_lite::{AsyncReadExt, AsyncWriteExt};
        async move {
            let listener =
                windlass::net::TcpListener::from_std(listener).expect("windlass listener");
            for _ in 0..conns {
                let (mut s, _) = listener.accept().await.expect("accept");
                drop(windlass::spawn(async move {
                    let mut buf = [0u8; io::MSG];
                    while s.read_exact(&mut buf).await.is_ok() {
                        s.write_all(&buf).await.expect("echo write");
                    }
                }));
            }
        }
    }

    fn echo_client(
        addr: std::net::SocketAddr,
        rounds: usize,
    ) -> impl Future<Output = ()> + Send + 'static {
        use futures_lite::{AsyncReadExt, AsyncWriteExt};
        async move {
            let mut s = windlass::net::TcpStream::connect(addr)
                .await
                .expect("connect");
            s.set_nodelay(true).expect("nodelay");
            let mut buf = [7u8; io::MSG];
            for _ in 0..rounds {
                s.write_all(&buf).await.expect("write");
                s.read_exact(&mut buf).await.expect("read");
            }
        }
    }

    fn counters(&self) -> Vec<(String, u64)> {
        let m = self.0.handle().metrics();
        let mut out = Vec::new();
        for (i, w) in m.workers.iter().enumerate() {
            out.push((format!("w{i}.polls"), w.polls));
            out.push((format!("w{i}.steals"), w.steal_operations));
            out.push((format!("w{i}.parks"), w.parks));
        }
        out
    }
}

// ---------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------

/// Counts down from `n`; whoever brings it to zero fires the oneshot.
///
/// Aligned to (and so alone on) its own pair of cache lines: every task of
/// a spawn workload writes `work` and `remaining`, so any other object the
/// allocator happened to place on the same line would be falsely shared,
/// in some processes and not others, depending on the heap's history.
#[repr(align(128))]
struct Latch {
    /// The "tiny amount of work" that the spawn workloads do.
    work: AtomicUsize,
    remaining: AtomicUsize,
    /// `spawn_many_remote_busy` with `BENCH_STOP_FLAG=shared` only: the busy
    /// tasks' stop flag, on the line every spawned task writes.
    stop: AtomicBool,
    done: Mutex<Option<oneshot::Sender<()>>>,
}

impl Latch {
    fn new(n: usize) -> (Arc<Self>, oneshot::Receiver<()>) {
        assert!(n > 0);
        let (tx, rx) = oneshot::channel();
        let latch = Latch {
            work: AtomicUsize::new(0),
            remaining: AtomicUsize::new(n),
            stop: AtomicBool::new(false),
            done: Mutex::new(Some(tx)),
        };
        (Arc::new(latch), rx)
    }

    /// Does the tiny unit of work, then counts down.
    fn work_and_count_down(&self) {
        self.work.fetch_add(1, Ordering::Relaxed);
        self.count_down();
    }

    fn count_down(&self) {
        if self.remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
            let tx = self.done.lock().unwrap().take();
            if let Some(tx) = tx {
                let _ = tx.send(());
            }
        }
    }
}

/// Waits on the main thread for a completion signal.
fn wait<C: Contender>(c: &C, rx: oneshot::Receiver<()>) {
    c.block_on(rx).expect("completion signal dropped");
}

/// Spawns `driver` from inside `block_on` and waits until `rx` fires.
/// Returns the time for the whole thing.
fn time_driver<C, F>(c: &C, rx: oneshot::Receiver<()>, driver: F) -> Duration
where
    C: Contender,
    F: Future<Output = ()> + Send + 'static,
{
    let start = Instant::now();
    c.block_on(async {
        c.spawn_remote(driver);
        rx.await.expect("completion signal dropped");
    });
    start.elapsed()
}

// ---------------------------------------------------------------------------
// Workloads
// ---------------------------------------------------------------------------

const SPAWN_TASKS: usize = 10_000;
const YIELD_TASKS: usize = 200;
const YIELDS_PER_TASK: usize = 1_000;
const PING_PONG_ROUNDS: usize = 1_000;
const CHAIN_DEPTH: usize = 1_000;
const BLOCKING_CALLS: usize = 10_000;
const BATCHES: usize = 100;
const BATCH_SIZE: usize = 16;

#[derive(Clone, Copy, Debug)]
enum Workload {
    SpawnManyLocal,
    SpawnManyRemoteIdle,
    SpawnManyRemoteBusy,
    YieldMany,
    PingPong,
    ChainedSpawn,
    BlockingOffload,
    BlockingBatched,
    TcpEcho,
    ManyConnections,
    Timers,
    JoinAll,
    JoinSet,
    SyncMutexUncontended,
    SyncMutexContended,
    SyncMutexHandoff,
    SyncSemaphore,
    SyncMpscBounded,
    SyncMpscUnbounded,
    SyncOneshot,
    FanIn,
    FanInBounded,
    RequestResponse,
    CpuFanout,
}

impl Workload {
    const ALL: [Workload; 24] = [
        Workload::SpawnManyLocal,
        Workload::SpawnManyRemoteIdle,
        Workload::SpawnManyRemoteBusy,
        Workload::YieldMany,
        Workload::PingPong,
        Workload::ChainedSpawn,
        Workload::BlockingOffload,
        Workload::BlockingBatched,
        Workload::TcpEcho,
        Workload::ManyConnections,
        Workload::Timers,
        Workload::JoinAll,
        Workload::JoinSet,
        Workload::SyncMutexUncontended,
        Workload::SyncMutexContended,
        Workload::SyncMutexHandoff,
        Workload::SyncSemaphore,
        Workload::SyncMpscBounded,
        Workload::SyncMpscUnbounded,
        Workload::SyncOneshot,
        Workload::FanIn,
        Workload::FanInBounded,
        Workload::RequestResponse,
        Workload::CpuFanout,
    ];

    fn name(self) -> &'static str {
        match self {
            Workload::SpawnManyLocal => "spawn_many_local",
            Workload::SpawnManyRemoteIdle => "spawn_many_remote_idle",
            Workload::SpawnManyRemoteBusy => "spawn_many_remote_busy",
            Workload::YieldMany => "yield_many",
            Workload::PingPong => "ping_pong",
            Workload::ChainedSpawn => "chained_spawn",
            Workload::BlockingOffload => "blocking_offload",
            Workload::BlockingBatched => "blocking_batched",
            Workload::TcpEcho => "tcp_echo",
            Workload::ManyConnections => "many_connections",
            Workload::Timers => "timers",
            Workload::JoinAll => "join_all",
            Workload::JoinSet => "join_set",
            Workload::SyncMutexUncontended => "sync_mutex_uncontended",
            Workload::SyncMutexContended => "sync_mutex_contended",
            Workload::SyncMutexHandoff => "sync_mutex_handoff",
            Workload::SyncSemaphore => "sync_semaphore",
            Workload::SyncMpscBounded => "sync_mpsc_bounded",
            Workload::SyncMpscUnbounded => "sync_mpsc_unbounded",
            Workload::SyncOneshot => "sync_oneshot",
            Workload::FanIn => "fan_in",
            Workload::FanInBounded => "fan_in_bounded",
            Workload::RequestResponse => "request_response",
            Workload::CpuFanout => "cpu_fanout",
        }
    }

    /// Number of ops in one run.
    fn ops(self, workers: usize) -> usize {
        match self {
            Workload::SpawnManyLocal
            | Workload::SpawnManyRemoteIdle
            | Workload::SpawnManyRemoteBusy => SPAWN_TASKS,
            Workload::YieldMany => YIELD_TASKS * YIELDS_PER_TASK,
            Workload::PingPong => PING_PONG_ROUNDS,
            Workload::ChainedSpawn => CHAIN_DEPTH,
            Workload::BlockingOffload => BLOCKING_CALLS,
            Workload::BlockingBatched => workers * BATCHES * BATCH_SIZE,
            Workload::TcpEcho => io::ECHO_CONNS * io::ECHO_ROUNDS,
            Workload::ManyConnections => io::MANY_CONNS,
            Workload::Timers => io::TIMER_TASKS,
            Workload::JoinAll | Workload::JoinSet => join::JOIN_TASKS,
            Workload::SyncMutexUncontended => sync::UNCONTENDED_LOCKS,
            Workload::SyncMutexContended => sync::MUTEX_TASKS * sync::CONTENDED_LOCKS,
            Workload::SyncMutexHandoff => sync::MUTEX_TASKS * sync::HANDOFF_LOCKS,
            Workload::SyncSemaphore => sync::SEM_TASKS * sync::SEM_ROUNDS,
            Workload::SyncMpscBounded | Workload::SyncMpscUnbounded => {
                sync::MPSC_PRODUCERS * sync::MPSC_MESSAGES
            }
            Workload::SyncOneshot => sync::ONESHOT_ROUNDS,
            Workload::FanIn | Workload::FanInBounded => {
                let (producers, messages) = load::fan_in_size();
                producers * messages
            }
            Workload::RequestResponse => load::CLIENTS * load::requests_per_client(),
            Workload::CpuFanout => load::FANOUT_TASKS,
        }
    }

    fn run<C: Contender>(self, c: &C, workers: usize) -> Duration {
        match self {
            Workload::SpawnManyLocal => spawn_many_local(c),
            Workload::SpawnManyRemoteIdle => spawn_many_remote_idle(c),
            Workload::SpawnManyRemoteBusy => spawn_many_remote_busy(c, workers),
            Workload::YieldMany => yield_many(c),
            Workload::PingPong => ping_pong(c),
            Workload::ChainedSpawn => chained_spawn(c),
            Workload::BlockingOffload => blocking_offload(c),
            Workload::BlockingBatched => blocking_batched(c, workers),
            Workload::TcpEcho => io::tcp_echo(c),
            Workload::ManyConnections => io::many_connections(c),
            Workload::Timers => io::timers(c),
            Workload::JoinAll => join::join_all(c),
            Workload::JoinSet => join::join_set(c),
            Workload::SyncMutexUncontended => sync::mutex_uncontended(c),
            Workload::SyncMutexContended => sync::mutex_contended(c),
            Workload::SyncMutexHandoff => sync::mutex_handoff(c),
            Workload::SyncSemaphore => sync::semaphore(c),
            Workload::SyncMpscBounded => sync::mpsc_bounded(c),
            Workload::SyncMpscUnbounded => sync::mpsc_unbounded(c),
            Workload::SyncOneshot => sync::oneshot(c),
            Workload::FanIn => load::fan_in(c),
            Workload::FanInBounded => load::fan_in_bounded(c),
            Workload::RequestResponse => load::request_response(c),
            Workload::CpuFanout => load::cpu_fanout(c),
        }
    }
}

/// Inside `block_on`, one task is spawned, and it spawns 10,000 tiny tasks
/// (one atomic increment plus a count-down each). The last one to finish
/// signals completion.
///
/// **op** = one spawned task (spawn, schedule, run, complete), spawned from a
/// worker thread.
fn spawn_many_local<C: Contender>(c: &C) -> Duration {
    let (latch, rx) = Latch::new(SPAWN_TASKS);
    time_driver(c, rx, async move {
        for _ in 0..SPAWN_TASKS {
            let latch = latch.clone();
            C::spawn(async move { latch.work_and_count_down() });
        }
    })
}

/// The main thread (not a worker) spawns 10,000 tiny tasks through the handle
/// while all workers are idle, then waits for all of them.
///
/// **op** = one task spawned remotely (injection queue, waking idle workers,
/// run, complete).
fn spawn_many_remote_idle<C: Contender>(c: &C) -> Duration {
    // Untimed: give the workers time to finish spinning and go to sleep.
    thread::sleep(Duration::from_millis(1));
    let (latch, rx) = Latch::new(SPAWN_TASKS);
    let start = Instant::now();
    for _ in 0..SPAWN_TASKS {
        let latch = latch.clone();
        c.spawn_remote(async move { latch.work_and_count_down() });
    }
    wait(c, rx);
    start.elapsed()
}

/// Like [`spawn_many_remote_idle`], but every worker is kept busy by one of N
/// background tasks that loop on `yield_now`. This measures how quickly a busy
/// scheduler picks up remotely injected work, which is a fairness test of the
/// global queue against local queues.
///
/// With N = CPUs, the spawning main thread competes with N spinning workers
/// for the CPUs, so this workload is noisy (samples spread about 3x on 2
/// cores). Use more rounds before drawing conclusions.
///
/// The busy tasks read their stop flag at every yield. By default
/// (`BENCH_STOP_FLAG=padded`) it has a cache line of its own; with
/// `BENCH_STOP_FLAG=shared` it sits on the latch's line, which every
/// spawned task writes: a deliberate false sharing, to test whether an
/// accidental one (the heap placing the flag next to the latch in some
/// processes) explains this workload's two speeds per process.
///
/// **op** = one task spawned remotely onto busy workers, run and completed.
fn spawn_many_remote_busy<C: Contender>(c: &C, workers: usize) -> Duration {
    let shared_flag = std::env::var("BENCH_STOP_FLAG").is_ok_and(|v| v == "shared");
    let (latch, rx) = Latch::new(SPAWN_TASKS);
    let own_flag = Arc::new(crossbeam_utils::CachePadded::new(AtomicBool::new(false)));
    let started = Arc::new(crossbeam_utils::CachePadded::new(AtomicUsize::new(0)));
    let (busy_done, busy_rx) = Latch::new(workers);
    for _ in 0..workers {
        let (own_flag, latch, started, busy_done) = (
            own_flag.clone(),
            latch.clone(),
            started.clone(),
            busy_done.clone(),
        );
        c.spawn_remote(async move {
            let stop: &AtomicBool = if shared_flag { &latch.stop } else { &own_flag };
            started.fetch_add(1, Ordering::AcqRel);
            let mut yields = 0;
            while !stop.load(Ordering::Relaxed) {
                C::yield_now().await;
                yields += 1;
            }
            probe::BUSY_YIELDS.fetch_add(yields, Ordering::Relaxed);
            busy_done.count_down();
        });
    }
    while started.load(Ordering::Acquire) < workers {
        thread::yield_now();
    }

    let probed = probe::enabled().then(|| probe::begin_timed(c.counters()));
    let start = Instant::now();
    for _ in 0..SPAWN_TASKS {
        let latch = latch.clone();
        c.spawn_remote(async move { latch.work_and_count_down() });
    }
    wait(c, rx);
    let elapsed = start.elapsed();
    if let Some(before) = probed {
        probe::end_timed(before, c.counters());
    }

    own_flag.store(true, Ordering::Relaxed);
    latch.stop.store(true, Ordering::Relaxed);
    wait(c, busy_rx);
    elapsed
}

/// 200 tasks each call `yield_now` 1,000 times.
///
/// **op** = one `yield_now().await` (reschedule plus re-poll).
fn yield_many<C: Contender>(c: &C) -> Duration {
    let (latch, rx) = Latch::new(YIELD_TASKS);
    time_driver(c, rx, async move {
        for _ in 0..YIELD_TASKS {
            let latch = latch.clone();
            C::spawn(async move {
                for _ in 0..YIELDS_PER_TASK {
                    C::yield_now().await;
                }
                latch.count_down();
            });
        }
    })
}

/// 1,000 concurrent rounds. In each round a task is spawned, which spawns a
/// partner and bounces a message off it through two oneshots
/// (`futures-channel`): ping goes out, pong comes back. All rounds are awaited.
///
/// **op** = one round (2 spawns plus 2 cross-task wake-ups).
fn ping_pong<C: Contender>(c: &C) -> Duration {
    let (latch, rx) = Latch::new(PING_PONG_ROUNDS);
    time_driver(c, rx, async move {
        for _ in 0..PING_PONG_ROUNDS {
            let latch = latch.clone();
            C::spawn(async move {
                let (ping_tx, ping_rx) = oneshot::channel::<()>();
                let (pong_tx, pong_rx) = oneshot::channel::<()>();
                C::spawn(async move {
                    ping_rx.await.expect("ping");
                    pong_tx.send(()).expect("pong");
                });
                ping_tx.send(()).expect("ping");
                pong_rx.await.expect("pong");
                latch.count_down();
            });
        }
    })
}

/// A task spawns a task which spawns a task ... 1,000 deep. The last one
/// signals. This stresses the spawn-to-run latency of a single chain (the LIFO
/// slot, if the runtime has one).
///
/// **op** = one link of the chain (spawn from a task plus run).
fn chained_spawn<C: Contender>(c: &C) -> Duration {
    fn link<C: Contender>(depth: usize, done: oneshot::Sender<()>) {
        if depth == 0 {
            let _ = done.send(());
        } else {
            C::spawn(async move { link::<C>(depth - 1, done) });
        }
    }
    let (tx, rx) = oneshot::channel();
    time_driver(c, rx, async move { link::<C>(CHAIN_DEPTH, tx) })
}

/// One task submits 10,000 cheap closures with `spawn_blocking` (all in
/// flight at once), then awaits them all.
///
/// Both pools grow to hundreds of threads here (tokio allows up to 512, and
/// `blocking` up to 500), so on a small machine this mostly measures OS
/// thread wake-ups and is noisy.
///
/// **op** = one `spawn_blocking` round trip (submit, run on the pool, wake the
/// awaiting task).
fn blocking_offload<C: Contender>(c: &C) -> Duration {
    let (tx, rx) = oneshot::channel();
    time_driver(c, rx, async move {
        let pending: Vec<_> = (0..BLOCKING_CALLS)
            .map(|i| C::spawn_blocking(move || black_box(i).wrapping_mul(31)))
            .collect();
        let mut sum = 0usize;
        for p in pending {
            sum = sum.wrapping_add(p.await);
        }
        black_box(sum);
        let _ = tx.send(());
    })
}

/// N async tasks each run 100 batches. A batch submits 16 `spawn_blocking`
/// calls and awaits all of them before the next batch starts. This is the
/// bursty offload pattern of, for example, file-system-heavy servers.
///
/// **op** = one `spawn_blocking` call.
fn blocking_batched<C: Contender>(c: &C, workers: usize) -> Duration {
    let (latch, rx) = Latch::new(workers);
    let start = Instant::now();
    c.block_on(async {
        for _ in 0..workers {
            let latch = latch.clone();
            c.spawn_remote(async move {
                for b in 0..BATCHES {
                    let batch: Vec<_> = (0..BATCH_SIZE)
                        .map(|i| C::spawn_blocking(move || black_box(b * BATCH_SIZE + i)))
                        .collect();
                    for f in batch {
                        black_box(f.await);
                    }
                }
                latch.count_down();
            });
        }
        rx.await.expect("completion signal dropped");
    });
    start.elapsed()
}

// ---------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------

struct Config {
    workers: usize,
    rounds: usize,
    warmup: usize,
    sample_target: Duration,
    /// Set when run without `--bench` (for example `cargo test --benches`).
    quick: bool,
    /// `BENCH_VERBOSE=1`: print every sample to stderr.
    verbose: bool,
    /// A single run taking longer than this aborts the bench (see [`watchdog`]).
    timeout: Duration,
    filter: Option<String>,
}

fn env_usize(name: &str) -> Option<usize> {
    let v = std::env::var(name).ok()?;
    match v.trim().parse() {
        Ok(n) => Some(n),
        Err(_) => panic!("{name}={v:?} is not a non-negative integer"),
    }
}

impl Config {
    /// True if the filter (a comma-separated list of name fragments, or of
    /// exact names written `=name`) picks `name`, or there is no filter.
    fn wants(&self, name: &str) -> bool {
        self.filter.as_deref().is_none_or(|f| {
            f.split(',').any(|part| match part.strip_prefix('=') {
                Some(exact) => name == exact,
                None => name.contains(part),
            })
        })
    }

    fn from_env() -> Self {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let quick = !args.iter().any(|a| a == "--bench");
        let filter = args.into_iter().find(|a| !a.starts_with('-'));
        let cpus = thread::available_parallelism().map_or(1, |n| n.get());
        let workers = env_usize("BENCH_WORKERS").unwrap_or(cpus).max(1);
        let (rounds, warmup) = if quick {
            (1, 0)
        } else {
            (
                env_usize("BENCH_ROUNDS").unwrap_or(15).max(1),
                env_usize("BENCH_WARMUP").unwrap_or(3),
            )
        };
        let sample_ms = env_usize("BENCH_SAMPLE_MS").unwrap_or(50);
        let timeout_s = env_usize("BENCH_TIMEOUT_S").unwrap_or(60).max(1);
        Config {
            workers,
            rounds,
            warmup,
            sample_target: Duration::from_millis(sample_ms as u64),
            quick,
            timeout: Duration::from_secs(timeout_s as u64),
            verbose: env_usize("BENCH_VERBOSE").unwrap_or(0) != 0,
            filter,
        }
    }
}

/// Per-contender summary of one workload, in ns/op.
struct Stats {
    median: f64,
    min: f64,
    /// Median over rounds of the process's CPU time per op (all threads),
    /// see [`process_cpu`].
    cpu_median: f64,
}

fn median_of(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    let n = samples.len();
    if n % 2 == 1 {
        samples[n / 2]
    } else {
        (samples[n / 2 - 1] + samples[n / 2]) / 2.0
    }
}

fn summarize(samples: Vec<f64>, cpu: Vec<f64>) -> Stats {
    let min = samples.iter().copied().fold(f64::INFINITY, f64::min);
    Stats {
        median: median_of(samples),
        min,
        cpu_median: median_of(cpu),
    }
}

/// CPU time used so far by every thread of this process. Sampled around a
/// timed sample, it gives the CPU cost per op next to the wall time per
/// op: their ratio is how many cores the contender kept busy, which tells
/// a slower wall time from idle workers (wake-ups, imbalance) apart from
/// one from dearer operations. Only the contender being timed runs then
/// (the others' workers are parked), so the count is its own, plus the
/// main thread waiting in `block_on`.
fn process_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a
    // constant every Linux supports.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_PROCESS_CPUTIME_ID) failed");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// What is running now, and since when; read by [`watchdog`].
static CURRENT_RUN: Mutex<Option<(Instant, &str, &str)>> = Mutex::new(None);

/// Runs `w` once on `c` under the watchdog. Returns the timed duration.
fn run_one(c: &dyn DynContender, w: Workload, workers: usize) -> Duration {
    *CURRENT_RUN.lock().unwrap() = Some((Instant::now(), c.name(), w.name()));
    let elapsed = c.run(w, workers);
    *CURRENT_RUN.lock().unwrap() = None;
    elapsed
}

/// Starts a thread that ends the process if one run exceeds `limit`
/// (`BENCH_TIMEOUT_S`, default 60 s). A runtime under development with a lost
/// wake-up then fails loudly and says where, instead of hanging the bench.
fn watchdog(limit: Duration) {
    thread::Builder::new()
        .name("bench-watchdog".into())
        .spawn(move || {
            loop {
                thread::sleep(Duration::from_millis(250));
                if let Some((since, contender, workload)) = *CURRENT_RUN.lock().unwrap()
                    && since.elapsed() > limit
                {
                    eprintln!(
                        "watchdog: {contender} has been stuck in {workload} for more than \
                         {limit:?} (lost wake-up or starvation?); aborting"
                    );
                    std::process::exit(2);
                }
            }
        })
        .expect("spawn watchdog thread");
}

/// Warms up, calibrates the repetition count, then runs interleaved rounds.
/// Returns one [`Stats`] per contender, in the order of `contenders`.
fn bench_workload(cfg: &Config, contenders: &[Box<dyn DynContender>], w: Workload) -> Vec<Stats> {
    let k = contenders.len();
    let rotated = |round: usize| (0..k).map(move |i| (i + round) % k);

    // Warm-up, interleaved as well. Calibrate on the slowest contender's best
    // warm-up run, which ignores cold first runs and one-off hiccups.
    let mut best = vec![Duration::MAX; k];
    for round in 0..cfg.warmup {
        for i in rotated(round) {
            best[i] = best[i].min(run_one(&*contenders[i], w, cfg.workers));
        }
    }
    let slowest = if cfg.warmup == 0 {
        Duration::ZERO
    } else {
        best.into_iter().max().unwrap_or_default()
    };
    let reps = if cfg.quick || slowest.is_zero() {
        1
    } else {
        (cfg.sample_target.as_nanos() / slowest.as_nanos()).clamp(1, 1_000) as usize
    };

    let ops_per_sample = (w.ops(cfg.workers) * reps) as f64;
    let mut samples = vec![Vec::with_capacity(cfg.rounds); k];
    let mut cpu = vec![Vec::with_capacity(cfg.rounds); k];
    let probing = probe::enabled();
    for round in 0..cfg.rounds {
        for i in rotated(round) {
            let probed = probing.then(|| (probe::snapshot(), probe::counters(&*contenders[i])));
            let cpu_before = process_cpu();
            let total: Duration = (0..reps)
                .map(|_| run_one(&*contenders[i], w, cfg.workers))
                .sum();
            let cpu_used = process_cpu().saturating_sub(cpu_before);
            let ns_per_op = total.as_nanos() as f64 / ops_per_sample;
            samples[i].push(ns_per_op);
            cpu[i].push(cpu_used.as_nanos() as f64 / ops_per_sample);
            if let Some((threads, counters)) = probed {
                let label = format!(
                    "{} {} round={round} reps={reps}",
                    w.name(),
                    contenders[i].name()
                );
                let after = (probe::snapshot(), probe::counters(&*contenders[i]));
                probe::report(&label, ns_per_op, &threads, &after.0, (&counters, &after.1));
                let (timed, timed_counters) = probe::take_timed();
                if !timed.is_empty() {
                    let zero: Vec<_> = timed_counters.iter().map(|(n, _)| (n.clone(), 0)).collect();
                    probe::report(
                        &format!("{label} timed"),
                        ns_per_op,
                        &[],
                        &timed,
                        (&zero, &timed_counters),
                    );
                }
            }
        }
    }
    eprintln!(
        "  {:<24} done: {} rounds x {} reps, {} ops/run",
        w.name(),
        cfg.rounds,
        reps,
        w.ops(cfg.workers)
    );
    if cfg.verbose {
        for (c, s) in contenders.iter().zip(&samples) {
            let s: Vec<String> = s.iter().map(|v| format!("{v:.0}")).collect();
            eprintln!("    {:<9} ns/op by round: {}", c.name(), s.join(" "));
        }
    }
    samples
        .into_iter()
        .zip(cpu)
        .map(|(s, c)| summarize(s, c))
        .collect()
}

/// The table columns, in order. A contender that is not in the run shows `-`.
const COLUMNS: [&str; 3] = ["windlass", "tokio", "smol"];
/// Contenders run only when `BENCH_CONTENDERS` names them, with a column
/// only then: windlass in debug mode (docs/PERFORMANCE.md, "Debug mode and
/// metrics cost").
const OPTIONAL_COLUMNS: [&str; 1] = ["windlass_debug"];
const BASELINE: &str = "tokio";

fn fmt_ns(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), |v| format!("{v:.1}"))
}

fn fmt_ratio(v: Option<f64>, base: Option<f64>) -> String {
    match (v, base) {
        (Some(v), Some(b)) if b > 0.0 => format!("{:.2}", v / b),
        _ => "-".to_string(),
    }
}

/// Prints a Markdown table: one ns/op column per [`COLUMNS`] entry, then the
/// ratios to [`BASELINE`] for every other column.
fn print_table(rows: &[(&str, Vec<(&str, f64)>)]) {
    let in_run = |c: &&str| rows.iter().any(|(_, v)| v.iter().any(|(n, _)| n == c));
    let columns: Vec<&str> = COLUMNS
        .into_iter()
        .chain(OPTIONAL_COLUMNS.into_iter().filter(in_run))
        .collect();
    let others: Vec<&str> = columns.iter().copied().filter(|c| *c != BASELINE).collect();
    let mut header = String::from("| workload |");
    let mut rule = String::from("|---|");
    for &c in &columns {
        header += &format!(" {c} ns/op |");
        rule += "---:|";
    }
    for c in &others {
        header += &format!(" {c}/{BASELINE} |");
        rule += "---:|";
    }
    println!("{header}\n{rule}");
    for (name, values) in rows {
        let get = |col: &str| values.iter().find(|(n, _)| *n == col).map(|(_, v)| *v);
        let base = get(BASELINE);
        let mut line = format!("| {name} |");
        for &c in &columns {
            line += &format!(" {} |", fmt_ns(get(c)));
        }
        for c in &others {
            line += &format!(" {} |", fmt_ratio(get(c), base));
        }
        println!("{line}");
    }
}

/// Counts bytes allocated while `COUNTING` is set, split by allocation
/// size, and live bytes while `TRACKING_LIVE` is set (the idle-tasks
/// report only); otherwise a plain pass-through to the system allocator
/// (two relaxed loads per call).
///
/// Live bytes are not tracked at all times: one process-wide counter
/// written on every allocation and free is a cache line that every
/// allocating worker writes, and it made every allocating workload pay a
/// cross-core miss per allocation on 2 workers (request_response: 346
/// against 170 ns per round trip, the same for every runtime;
/// docs/PERFORMANCE.md, "request_response: placement").
struct CountingAlloc;

/// Allocations at least this big are counted apart: they are run-queue
/// buffers and blocks, not tasks (see [`spawn_bytes`]).
const LARGE_ALLOC: usize = 1024;

static COUNTING: AtomicBool = AtomicBool::new(false);
/// Set only around the idle-tasks report, which reads `LIVE`.
static TRACKING_LIVE: AtomicBool = AtomicBool::new(false);
static ALLOCATED_SMALL: AtomicUsize = AtomicUsize::new(0);
static ALLOCATED_LARGE: AtomicUsize = AtomicUsize::new(0);
/// Bytes allocated less bytes freed while `TRACKING_LIVE` was set
/// (wrapping: a free of a block from before counts too).
static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call unchanged to `System`, which upholds the
// `GlobalAlloc` contract; the counters have no effect on the memory.
unsafe impl std::alloc::GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        count_alloc(layout.size());
        // SAFETY: same layout contract as our caller's.
        unsafe { std::alloc::System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        count_free(layout.size());
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        count_free(layout.size());
        count_alloc(new_size);
        // SAFETY: same contract as our caller's.
        unsafe { std::alloc::System.realloc(ptr, layout, new_size) }
    }
}

fn count_free(size: usize) {
    if TRACKING_LIVE.load(Ordering::Relaxed) {
        LIVE.fetch_sub(size, Ordering::Relaxed);
    }
}

fn count_alloc(size: usize) {
    if TRACKING_LIVE.load(Ordering::Relaxed) {
        LIVE.fetch_add(size, Ordering::Relaxed);
    }
    if COUNTING.load(Ordering::Relaxed) {
        let counter = if size >= LARGE_ALLOC {
            &ALLOCATED_LARGE
        } else {
            &ALLOCATED_SMALL
        };
        counter.fetch_add(size, Ordering::Relaxed);
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

/// Bytes allocated per spawned `async {}`.
struct SpawnBytes {
    /// In allocations under [`LARGE_ALLOC`]: the task itself (and, for a
    /// runtime that allocates per-task queue nodes, those).
    task: f64,
    /// In allocations of [`LARGE_ALLOC`] or more: run-queue buffers growing
    /// while 10,000 tasks are queued. This part depends on how many tasks
    /// the other workers take while the spawner is still spawning, so it
    /// changes from run to run; the per-task part does not.
    queues: f64,
}

/// Bytes allocated (by any thread) while spawning 10,000 detached
/// `async {}` tasks from inside a task.
fn spawn_bytes<C: Contender>(c: &C) -> SpawnBytes {
    const N: usize = 10_000;
    let (small, large) = c.block_on(async {
        let (tx, rx) = oneshot::channel();
        C::spawn(async move {
            ALLOCATED_SMALL.store(0, Ordering::Relaxed);
            ALLOCATED_LARGE.store(0, Ordering::Relaxed);
            COUNTING.store(true, Ordering::Relaxed);
            for _ in 0..N {
                C::spawn(async {});
            }
            COUNTING.store(false, Ordering::Relaxed);
            let small = ALLOCATED_SMALL.load(Ordering::Relaxed);
            let _ = tx.send((small, ALLOCATED_LARGE.load(Ordering::Relaxed)));
        });
        rx.await.expect("spawn_bytes task")
    });
    SpawnBytes {
        task: small as f64 / N as f64,
        queues: large as f64 / N as f64,
    }
}

/// Set in the child process that prints the bytes-per-spawn table.
const SPAWN_BYTES_CHILD_ENV: &str = "BENCH_SPAWN_BYTES_CHILD";

/// Prints the bytes per spawned `async {}` table from a fresh copy of this
/// process (the same flags and environment) with windlass's task-cell
/// cache off (`WINDLASS_TASK_CELL_CACHE=0`): a spawn into a cached cell
/// allocates nothing, so with the cache on the count would say how many
/// cells came back, not how large a task is.
fn print_spawn_bytes_in_child() {
    let exe = std::env::current_exe().expect("current exe");
    let out = std::process::Command::new(exe)
        .args(std::env::args().skip(1))
        .env(SPAWN_BYTES_CHILD_ENV, "1")
        .env("WINDLASS_TASK_CELL_CACHE", "0")
        .output()
        .expect("run the spawn-bytes child");
    assert!(
        out.status.success(),
        "spawn-bytes child failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    print!("{}", String::from_utf8_lossy(&out.stdout));
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
}

/// Prints the bytes per spawned `async {}` table: three runs per runtime
/// after a warm-up run, so that the stable part (the task) and the moving part (queue growth)
/// can be told apart.
fn print_spawn_bytes(contenders: &[Box<dyn DynContender>]) {
    println!(
        "\nBytes allocated per spawned `async {{}}`, 3 runs (task: allocations under \
         {LARGE_ALLOC} B; queues: run-queue buffers that grew meanwhile; windlass's \
         task-cell cache off):\n"
    );
    println!("| runtime | task bytes | queue bytes, 3 runs |\n|---|---:|---|");
    for c in contenders {
        // A warm-up run first: in the fresh child process, first uses
        // (thread-locals, lazily built parts of a runtime) allocate too.
        c.spawn_bytes();
        let runs: Vec<SpawnBytes> = (0..3).map(|_| c.spawn_bytes()).collect();
        let queues: Vec<String> = runs.iter().map(|r| format!("{:.1}", r.queues)).collect();
        let tasks: Vec<String> = runs.iter().map(|r| format!("{:.1}", r.task)).collect();
        tasks.windows(2).for_each(|w| {
            if w[0] != w[1] {
                eprintln!(
                    "note: {} task bytes differ between runs: {tasks:?}",
                    c.name()
                );
            }
        });
        println!("| {} | {} | {} |", c.name(), tasks[0], queues.join(", "));
    }
}

/// The contender called `name`, built with `workers` workers.
fn build_one(name: &str, workers: usize) -> Box<dyn DynContender> {
    match name {
        "windlass" => Box::new(Windlass::<false>::build(workers)),
        "windlass_debug" => Box::new(Windlass::<true>::build(workers)),
        "tokio" => Box::new(Tokio::build(workers)),
        "smol" => Box::new(Smol::build(workers)),
        other => panic!("unknown contender {other:?}"),
    }
}

fn main() {
    let cfg = Config::from_env();
    load::QUICK.store(cfg.quick, Ordering::Relaxed);
    io::raise_fd_limit();
    #[cfg(feature = "hyper")]
    if let Ok(name) = std::env::var("BENCH_HTTP_SERVE") {
        http::serve_forever(&name);
    }
    if cfg.filter.as_deref() == Some("http") {
        return run_http(&cfg); // the HTTP group only (benches/runtime/http.rs)
    }
    watchdog(cfg.timeout);
    if let Ok(name) = std::env::var(report::IDLE_CHILD_ENV) {
        report::idle_child(&*build_one(&name, cfg.workers));
        return;
    }

    // `BENCH_CONTENDERS=windlass,smol` runs only those (for `perf stat`
    // of one runtime); default: all three.
    let only = std::env::var("BENCH_CONTENDERS").unwrap_or_default();
    let contenders: Vec<Box<dyn DynContender>> = COLUMNS
        .into_iter()
        .chain(OPTIONAL_COLUMNS)
        .filter(|name| {
            let named = only.split(',').any(|o| o == *name);
            named || (only.is_empty() && COLUMNS.contains(name))
        })
        .map(|name| build_one(name, cfg.workers))
        .collect();

    if std::env::var_os(SPAWN_BYTES_CHILD_ENV).is_some() {
        print_spawn_bytes(&contenders);
        return;
    }

    let workloads: Vec<Workload> = Workload::ALL
        .into_iter()
        .filter(|w| cfg.wants(w.name()))
        .collect();
    let reports = ["timers", "idle_tasks", "latency"];
    if workloads.is_empty() && !reports.iter().any(|r| cfg.wants(r)) {
        eprintln!("no workload matches {:?}", cfg.filter);
        return;
    }

    let names: Vec<&str> = contenders.iter().map(|c| c.name()).collect();
    eprintln!(
        "windlass runtime bench: contenders {names:?}, workers={}, rounds={}, warmup={}, \
         sample~{:?}{}",
        cfg.workers,
        cfg.rounds,
        cfg.warmup,
        cfg.sample_target,
        if cfg.quick {
            " (quick mode: no --bench flag)"
        } else {
            ""
        },
    );

    let started = Instant::now();
    let live_before = LIVE.load(Ordering::Relaxed);
    let mut median_rows = Vec::new();
    let mut min_rows = Vec::new();
    let mut cpu_rows = Vec::new();
    for w in workloads {
        let stats = bench_workload(&cfg, &contenders, w);
        // Only the idle-tasks report tracks live bytes (`CountingAlloc`):
        // a counter written on every allocation would be a line that
        // every allocating worker writes, in every workload.
        assert_eq!(
            LIVE.load(Ordering::Relaxed),
            live_before,
            "{}: the counting allocator tracked live bytes outside the idle-tasks report",
            w.name()
        );
        median_rows.push((
            w.name(),
            names
                .iter()
                .copied()
                .zip(stats.iter().map(|s| s.median))
                .collect(),
        ));
        min_rows.push((
            w.name(),
            names
                .iter()
                .copied()
                .zip(stats.iter().map(|s| s.min))
                .collect(),
        ));
        cpu_rows.push((
            w.name(),
            names
                .iter()
                .copied()
                .zip(stats.iter().map(|s| s.cpu_median))
                .collect(),
        ));
    }

    if !median_rows.is_empty() {
        println!(
            "\nMedian ns/op over {} interleaved rounds ({} workers; ratio < 1 = faster than {BASELINE}):\n",
            cfg.rounds, cfg.workers
        );
        print_table(&median_rows);
        println!("\nMinimum ns/op (best round):\n");
        print_table(&min_rows);
        println!(
            "\nMedian CPU ns/op (the process's CPU time, all threads, per op; CPU over wall \
             ns/op is how many cores were kept busy):\n"
        );
        print_table(&cpu_rows);
    }

    print_spawn_bytes_in_child();
    if cfg.wants("latency") {
        report::print_latency(&contenders);
    }
    if cfg.wants("idle_tasks") {
        report::print_idle_tasks(&names);
    }
    if cfg.wants("timers") {
        for (n, max_ms, what) in [
            (
                io::TIMER_TASKS,
                10,
                "100,000 sleeps of 0-10 ms (saturated: measures wake throughput)",
            ),
            (
                1_000,
                100,
                "1,000 sleeps of 0-100 ms (light load: measures timer precision)",
            ),
        ] {
            println!("\nTimer lateness, {what}, median of 3 runs:\n");
            println!("| runtime | mean µs | p99 µs |\n|---|---:|---:|");
            for c in &contenders {
                let mut runs: Vec<(f64, f64)> =
                    (0..3).map(|_| c.timer_lateness(n, max_ms)).collect();
                runs.sort_by(|a, b| a.1.total_cmp(&b.1));
                let (mean, p99) = runs[1];
                println!("| {} | {mean:.0} | {p99:.0} |", c.name());
            }
        }
    }
    if cfg.filter.is_none() {
        run_http(&cfg);
    }
    eprintln!("\ntotal bench time: {:.1?}", started.elapsed());
}

/// The HTTP group (`http.rs`), which needs the `hyper` feature.
fn run_http(cfg: &Config) {
    #[cfg(feature = "hyper")]
    http::run(cfg.quick);
    #[cfg(not(feature = "hyper"))]
    {
        let _ = cfg;
        eprintln!("the http workload needs the hyper feature: cargo bench --features hyper");
    }
}
