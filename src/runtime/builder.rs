//! `Builder`: how a runtime is configured.

use crate::loom::std::sync::Arc as StdArc;
use std::fmt;
use std::io;

use super::unhandled_panic::UnhandledPanic;
use super::{Handle, Runtime, RuntimeFlavor, context, debug, scheduler};
use crate::blocking::pool::{BlockingPool, PoolConfig, ThreadStart};
use crate::runtime::DebugEvent;

type Callback = StdArc<dyn Fn() + Send + Sync + 'static>;

/// Settings shared by the workers and the blocking pool.
#[derive(Clone)]
pub(crate) struct Config {
    pub(crate) unhandled_panic: UnhandledPanic,
    /// `None`: workers are `windlass-worker`, pool threads `windlass-blocking`.
    pub(crate) thread_name: Option<StdArc<dyn Fn() -> String + Send + Sync + 'static>>,
    pub(crate) stack_size: Option<usize>,
    pub(crate) on_thread_start: Option<Callback>,
    pub(crate) on_thread_stop: Option<Callback>,
    /// Debug mode ([`Builder::debug`]), resolved at `build()`.
    pub(crate) debug: debug::Settings,
}

/// The outcome of `on_thread_start` on a new runtime thread: `Err` holds
/// the hook's panic message.
pub(crate) type HookResult = Result<(), String>;

impl Config {
    /// Spawns a runtime thread with the configured name, stack size and
    /// start/stop callbacks around `f`.
    ///
    /// `f` is told whether `on_thread_start` returned: if the hook panicked,
    /// the panic is caught (a hook's bug must not leave the runtime waiting
    /// for a thread that never counts itself in or out), `f` gets its
    /// message and must only account for the thread, not do its work; the
    /// stop hook then does not run either.
    pub(crate) fn spawn_thread<F>(
        &self,
        default_name: &str,
        f: F,
    ) -> io::Result<crate::loom::thread::JoinHandle<()>>
    where
        F: FnOnce(HookResult) + Send + 'static,
    {
        let name = self.name(default_name)?;
        let mut builder = crate::loom::thread::Builder::new().name(name);
        if let Some(size) = self.stack_size {
            builder = builder.stack_size(size);
        }
        let (start, stop) = (self.on_thread_start.clone(), self.on_thread_stop.clone());
        builder.spawn(move || {
            struct Stop(Option<Callback>);
            impl Drop for Stop {
                fn drop(&mut self) {
                    if let Some(stop) = &self.0 {
                        stop();
                    }
                }
            }
            if let Some(start) = start {
                let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| start()));
                if let Err(payload) = ran {
                    return f(Err(hook_panic_message(payload)));
                }
            }
            let _stop = Stop(stop);
            f(Ok(()));
        })
    }
}

impl Config {
    /// The name of a new runtime thread: `thread_name`'s, else
    /// `default_name`. A name function that panics is an error, not a
    /// panic: it is called where a panic would leave a thread counted that
    /// never started (the blocking pool's lock, a half-started `build`).
    pub(crate) fn name(&self, default_name: &str) -> io::Result<String> {
        let Some(f) = &self.thread_name else {
            return Ok(default_name.to_string());
        };
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f())).map_err(|payload| {
            io::Error::other(format!(
                "windlass: the thread_name_fn panicked ({}); no thread was started",
                hook_panic_message(payload)
            ))
        })
    }
}

/// The message of a hook's panic payload (dropping the payload safely).
fn hook_panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    let msg = if let Some(s) = payload.downcast_ref::<&'static str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a non-string panic payload".to_string()
    };
    crate::task::caught::drop_payload(payload);
    msg
}

/// The blocking pool's thread-start hook (`blocking::pool::ThreadStart`)
/// for the runtime `rt`: a thread with this runtime's name, stack size and
/// callbacks, whose body runs with `rt` current.
fn pool_thread_start(config: Config, rt: Handle) -> ThreadStart {
    crate::loom::std::sync::Arc::new(move |default_name, body| {
        let rt = rt.clone();
        config.spawn_thread(default_name, move |hook| match hook {
            Ok(()) => {
                let _current = context::set_current(&rt);
                body(true);
            }
            Err(_) => body(false),
        })
    })
}

/// The error `build()` returns when `on_thread_start` panicked on a worker.
pub(crate) fn hook_error(msg: &str) -> io::Error {
    io::Error::other(format!(
        "windlass: the on_thread_start hook panicked on a worker thread ({msg}); the runtime was not built. \
         Fix the hook, or catch its panic inside it"
    ))
}

/// Builds a [`Runtime`] with custom settings. The setters take and return
/// `&mut Builder`, so they chain, and one builder can build several
/// runtimes alike.
///
/// ```
/// use windlass::runtime::Builder;
///
/// let rt = Builder::new_multi_thread()
///     .worker_threads(2)
///     .thread_name("my-worker")
///     .build()
///     .unwrap();
/// let name = rt.block_on(rt.spawn(async { std::thread::current().name().map(String::from) }));
/// assert_eq!(name.unwrap().as_deref(), Some("my-worker"));
/// ```
pub struct Builder {
    flavor: RuntimeFlavor,
    worker_threads: Option<usize>,
    /// `None`: `WINDLASS_DEBUG` decides at `build()`.
    debug: Option<bool>,
    config: Config,
    pool: PoolConfig,
    /// Start with the clock paused ([`start_paused`](Self::start_paused)).
    start_paused: bool,
}

impl Builder {
    /// A runtime with worker threads that steal work from each other
    /// (default: one worker per CPU).
    ///
    /// ```
    /// let rt = windlass::runtime::Builder::new_multi_thread().build().unwrap();
    /// let here = std::thread::current().id();
    /// let there = rt.block_on(rt.spawn(async { std::thread::current().id() })).unwrap();
    /// assert_ne!(here, there); // tasks run on the workers
    /// ```
    pub fn new_multi_thread() -> Builder {
        Builder::new(RuntimeFlavor::MultiThread)
    }

    /// A runtime that runs its tasks on the thread that calls
    /// [`Runtime::block_on`]: asyncio's single-threaded event loop.
    ///
    /// ```
    /// let rt = windlass::runtime::Builder::new_current_thread().build().unwrap();
    /// let here = std::thread::current().id();
    /// let there = rt.block_on(rt.spawn(async { std::thread::current().id() })).unwrap();
    /// assert_eq!(here, there);
    /// ```
    pub fn new_current_thread() -> Builder {
        Builder::new(RuntimeFlavor::CurrentThread)
    }

    fn new(flavor: RuntimeFlavor) -> Builder {
        Builder {
            flavor,
            worker_threads: None,
            debug: None,
            config: Config {
                unhandled_panic: UnhandledPanic::Ignore,
                thread_name: None,
                stack_size: None,
                on_thread_start: None,
                on_thread_stop: None,
                debug: debug::Settings::default(),
            },
            pool: PoolConfig::default(),
            start_paused: false,
        }
    }

    /// Number of worker threads (multi-thread runtime only; a current-thread
    /// runtime ignores it).
    ///
    /// ```
    /// let rt = windlass::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
    /// assert_eq!(rt.handle().num_workers(), 2);
    /// ```
    ///
    /// Panics if `n` is 0, with a message pointing to the current-thread
    /// flavor:
    ///
    /// ```should_panic
    /// windlass::runtime::Builder::new_multi_thread().worker_threads(0);
    /// ```
    #[track_caller]
    pub fn worker_threads(&mut self, n: usize) -> &mut Builder {
        assert!(
            n > 0,
            "windlass: worker_threads(0) is not allowed; a runtime needs at least one worker thread (use Builder::new_current_thread() to run tasks on the calling thread only)"
        );
        self.worker_threads = Some(n);
        self
    }

    /// Name of the runtime's threads, workers and blocking pool alike
    /// (default: `windlass-worker` and `windlass-blocking`).
    ///
    /// ```
    /// let rt = windlass::runtime::Builder::new_multi_thread()
    ///     .thread_name("api-server")
    ///     .build()
    ///     .unwrap();
    /// let name = || std::thread::current().name().map(String::from);
    /// let (worker, pool) = rt.block_on(async {
    ///     (windlass::spawn(async move { name() }).await, windlass::spawn_blocking(name).await)
    /// });
    /// assert_eq!(worker.unwrap().as_deref(), Some("api-server"));
    /// assert_eq!(pool.unwrap().as_deref(), Some("api-server"));
    /// ```
    pub fn thread_name(&mut self, name: impl Into<String>) -> &mut Builder {
        let name = name.into();
        self.config.thread_name = Some(StdArc::new(move || name.clone()));
        self
    }

    /// A function that names each new runtime thread; it is called once
    /// per thread, on the thread that starts it.
    ///
    /// If it panics, that thread is not started, and the panic is an error:
    /// `build()` returns it (a worker's name), or, for a blocking-pool
    /// thread, the closure waits for another pool thread, and
    /// `spawn_blocking` panics with it if the pool has none.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    ///
    /// static NEXT: AtomicUsize = AtomicUsize::new(0);
    /// let rt = windlass::runtime::Builder::new_multi_thread()
    ///     .worker_threads(1)
    ///     .thread_name_fn(|| format!("app-{}", NEXT.fetch_add(1, Ordering::Relaxed)))
    ///     .build()
    ///     .unwrap();
    /// let name = rt.block_on(rt.spawn(async { std::thread::current().name().map(String::from) }));
    /// assert!(name.unwrap().unwrap().starts_with("app-"));
    /// ```
    pub fn thread_name_fn(
        &mut self,
        f: impl Fn() -> String + Send + Sync + 'static,
    ) -> &mut Builder {
        self.config.thread_name = Some(StdArc::new(f));
        self
    }

    /// Stack size of the runtime's threads, in bytes (default: the
    /// standard library's, 2 MiB unless `RUST_MIN_STACK` says otherwise).
    /// Raise it for deeply recursive tasks or blocking closures.
    ///
    /// ```
    /// fn depth(n: u64) -> u64 {
    ///     let frame = std::hint::black_box([n; 64]); // 512 bytes per call
    ///     if n == 0 { 0 } else { 1 + depth(frame[0] - 1) }
    /// }
    ///
    /// let rt = windlass::runtime::Builder::new_multi_thread()
    ///     .thread_stack_size(32 * 1024 * 1024)
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(rt.block_on(rt.spawn_blocking(|| depth(20_000))).unwrap(), 20_000);
    /// ```
    pub fn thread_stack_size(&mut self, bytes: usize) -> &mut Builder {
        self.config.stack_size = Some(bytes);
        self
    }

    /// Runs `f` on each new runtime thread (worker or blocking-pool thread)
    /// before it does anything else: set up thread-locals or logging there.
    ///
    /// If `f` panics on a worker thread (workers start in
    /// [`build`](Self::build), which waits for every worker's hook), the
    /// runtime shuts down again and `build()` returns an `io::Error` naming
    /// the hook and its panic message. If it panics on a blocking-pool
    /// thread (those start later, on demand), that thread exits without
    /// running anything and `on_thread_stop` is not called for it; closures
    /// left queued with no pool thread to run them are cancelled (their
    /// handles give a cancelled `JoinError`). Either way nothing hangs.
    ///
    /// ```
    /// let err = windlass::runtime::Builder::new_multi_thread()
    ///     .worker_threads(2)
    ///     .on_thread_start(|| panic!("no config file"))
    ///     .build()
    ///     .unwrap_err();
    /// assert!(err.to_string().contains("no config file"));
    /// ```
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    ///
    /// let (started, stopped) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    /// let (s, t) = (started.clone(), stopped.clone());
    /// let rt = windlass::runtime::Builder::new_multi_thread()
    ///     .worker_threads(2)
    ///     .on_thread_start(move || { s.fetch_add(1, SeqCst); })
    ///     .on_thread_stop(move || { t.fetch_add(1, SeqCst); })
    ///     .build()
    ///     .unwrap();
    /// rt.block_on(rt.spawn_blocking(|| ())).unwrap(); // starts one pool thread
    /// drop(rt); // joins them all
    /// assert_eq!((started.load(SeqCst), stopped.load(SeqCst)), (3, 3));
    /// ```
    pub fn on_thread_start(&mut self, f: impl Fn() + Send + Sync + 'static) -> &mut Builder {
        self.config.on_thread_start = Some(StdArc::new(f));
        self
    }

    /// Runs `f` on each runtime thread just before it exits: at shutdown,
    /// or when an idle blocking-pool thread's keep-alive runs out.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    ///
    /// static STOPPED: AtomicUsize = AtomicUsize::new(0);
    /// let rt = windlass::runtime::Builder::new_current_thread()
    ///     .thread_keep_alive(std::time::Duration::from_millis(1))
    ///     .on_thread_stop(|| { STOPPED.fetch_add(1, SeqCst); })
    ///     .build()
    ///     .unwrap();
    /// rt.block_on(rt.spawn_blocking(|| ())).unwrap();
    /// while STOPPED.load(SeqCst) == 0 {
    ///     std::thread::yield_now(); // the idle pool thread exits after 1 ms
    /// }
    /// assert_eq!(rt.handle().blocking_pool().num_threads(), 0);
    /// ```
    pub fn on_thread_stop(&mut self, f: impl Fn() + Send + Sync + 'static) -> &mut Builder {
        self.config.on_thread_stop = Some(StdArc::new(f));
        self
    }

    /// What to do when a spawned task panics (default: nothing more than
    /// the `JoinError`). See [`UnhandledPanic`] for the other policy at
    /// work.
    ///
    /// ```
    /// use windlass::runtime::{Builder, UnhandledPanic};
    ///
    /// let rt = Builder::new_current_thread()
    ///     .unhandled_panic(UnhandledPanic::Ignore) // the default, spelled out
    ///     .build()
    ///     .unwrap();
    /// let survived = rt.block_on(async {
    ///     let err = windlass::spawn(async { panic!("one bad task") }).await.unwrap_err();
    ///     assert!(err.is_panic());
    ///     windlass::spawn(async { "the others go on" }).await.unwrap()
    /// });
    /// assert_eq!(survived, "the others go on");
    /// assert!(!rt.handle().is_shutdown());
    /// ```
    pub fn unhandled_panic(&mut self, policy: UnhandledPanic) -> &mut Builder {
        self.config.unhandled_panic = policy;
        self
    }

    /// Most threads the blocking pool may run at once (default 512). Work
    /// beyond the cap waits in a queue. Panics if `n` is 0.
    ///
    /// ```
    /// let rt = windlass::runtime::Builder::new_multi_thread()
    ///     .max_blocking_threads(2)
    ///     .build()
    ///     .unwrap();
    /// let squares = rt.block_on(async {
    ///     let jobs: Vec<_> = (0..8u64).map(|n| windlass::spawn_blocking(move || n * n)).collect();
    ///     windlass::join_all(jobs).await
    /// });
    /// assert_eq!(squares.into_iter().map(Result::unwrap).sum::<u64>(), 140);
    /// assert!(rt.handle().blocking_pool().high_water() <= 2);
    /// ```
    #[track_caller]
    pub fn max_blocking_threads(&mut self, n: usize) -> &mut Builder {
        assert!(
            n > 0,
            "windlass: max_blocking_threads(0) is not allowed; the blocking pool needs at least one thread"
        );
        self.pool.max_threads = n;
        self
    }

    /// How long an idle blocking-pool thread waits for work before it exits
    /// (default 10 s).
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = windlass::runtime::Builder::new_multi_thread()
    ///     .thread_keep_alive(Duration::from_millis(1))
    ///     .build()
    ///     .unwrap();
    /// rt.block_on(rt.spawn_blocking(|| ())).unwrap();
    /// let pool = rt.handle().blocking_pool();
    /// while pool.num_threads() > 0 {
    ///     std::thread::yield_now(); // the idle thread exits after 1 ms
    /// }
    /// assert_eq!(pool.high_water(), 1);
    /// ```
    pub fn thread_keep_alive(&mut self, keep_alive: std::time::Duration) -> &mut Builder {
        self.pool.keep_alive = keep_alive;
        self
    }

    /// Starts the runtime with its clock paused (default `false`): virtual
    /// time from the first instant, as if [`time::pause`] were called first
    /// thing. While every task is idle the clock jumps to the next timer;
    /// see [`time::pause`]. Works on both flavors. For tests; the
    /// `#[windlass::test(start_paused = true)]` attribute sets it.
    ///
    /// [`time::pause`]: crate::time::pause
    ///
    /// ```
    /// use std::time::Duration;
    /// use windlass::time::{Instant, sleep};
    ///
    /// let rt = windlass::runtime::Builder::new_multi_thread()
    ///     .start_paused(true)
    ///     .build()
    ///     .unwrap();
    /// let wall = std::time::Instant::now();
    /// let virtual_elapsed = rt.block_on(async {
    ///     let start = Instant::now();
    ///     sleep(Duration::from_secs(24 * 3600)).await;
    ///     start.elapsed()
    /// });
    /// assert_eq!(virtual_elapsed, Duration::from_secs(24 * 3600));
    /// assert!(wall.elapsed() < Duration::from_secs(60)); // a day, instantly
    /// ```
    pub fn start_paused(&mut self, start_paused: bool) -> &mut Builder {
        self.start_paused = start_paused;
        self
    }

    /// Debug mode, asyncio's `PYTHONASYNCIODEBUG=1`: slow polls, workers
    /// blocked inside a poll (reported while they are blocked), tasks still
    /// pending at shutdown and panics nobody retrieved are reported as
    /// [`DebugEvent`]s, and every task keeps poll counters for
    /// [`Handle::dump`](crate::runtime::Handle::dump). Default: off, unless
    /// the environment has `WINDLASS_DEBUG=1` when the runtime is built;
    /// calling this overrides the environment either way.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use std::time::Duration;
    /// use windlass::runtime::{Builder, DebugEvent};
    ///
    /// let events = Arc::new(Mutex::new(Vec::new()));
    /// let log = events.clone();
    /// let rt = Builder::new_multi_thread()
    ///     .debug(true)
    ///     .slow_poll_threshold(Duration::from_millis(20))
    ///     .on_debug_event(move |e| log.lock().unwrap().push(e.clone()))
    ///     .build()
    ///     .unwrap();
    /// rt.block_on(async {
    ///     windlass::task::Builder::new()
    ///         .name("sleepy")
    ///         .spawn(async { std::thread::sleep(Duration::from_millis(30)) }) // blocks a worker!
    ///         .await
    ///         .unwrap();
    /// });
    /// let events = events.lock().unwrap();
    /// assert!(events.iter().any(|e| matches!(e, DebugEvent::SlowPoll { task, took }
    ///     if task.name() == Some("sleepy") && *took >= Duration::from_millis(30))));
    /// ```
    pub fn debug(&mut self, on: bool) -> &mut Builder {
        self.debug = Some(on);
        self
    }

    /// In debug mode, how long one poll may take before it is reported as
    /// slow, and before a worker stuck in one poll is reported as blocked
    /// (default 100 ms, asyncio's `slow_callback_duration`). Zero is
    /// rejected by [`build`](Self::build).
    ///
    /// ```
    /// use std::time::Duration;
    /// let err = windlass::runtime::Builder::new_multi_thread()
    ///     .slow_poll_threshold(Duration::ZERO)
    ///     .build()
    ///     .unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    /// assert!(err.to_string().contains("Duration::from_millis(100)"));
    /// ```
    pub fn slow_poll_threshold(&mut self, threshold: std::time::Duration) -> &mut Builder {
        self.config.debug.threshold = threshold;
        self
    }

    /// Where debug-mode reports go (default: one line each to stderr), and
    /// the runtime's fault reports ([`DebugEvent::ReactorWaitFailed`]), which
    /// come in debug mode or not. The callback runs on the thread that found
    /// the event (a worker, the watchdog, the reactor's waiter, the thread
    /// shutting the runtime down); keep it short. A
    /// panic in it is caught and reported on stderr, and the runtime goes on.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    /// use std::sync::Arc;
    ///
    /// let pending = Arc::new(AtomicUsize::new(0));
    /// let count = pending.clone();
    /// let rt = windlass::runtime::Builder::new_current_thread()
    ///     .debug(true)
    ///     .on_debug_event(move |e| {
    ///         if let windlass::runtime::DebugEvent::PendingAtShutdown { .. } = e {
    ///             count.fetch_add(1, SeqCst);
    ///         }
    ///     })
    ///     .build()
    ///     .unwrap();
    /// rt.spawn(std::future::pending::<()>());
    /// drop(rt);
    /// assert_eq!(pending.load(SeqCst), 1);
    /// ```
    pub fn on_debug_event(
        &mut self,
        f: impl Fn(&DebugEvent) + Send + Sync + 'static,
    ) -> &mut Builder {
        self.config.debug.callback = Some(StdArc::new(f));
        self
    }

    /// Resolves debug mode for `build()`: the setter, else the environment;
    /// rejects a zero threshold.
    fn resolve_debug(&mut self) -> io::Result<()> {
        if self.config.debug.threshold.is_zero() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "windlass: Builder::slow_poll_threshold(Duration::ZERO) would report every poll as slow; \
                 pass a positive duration, such as Duration::from_millis(100) (the default)",
            ));
        }
        self.config.debug.enabled = self.debug.unwrap_or_else(debug::env_enabled);
        Ok(())
    }

    /// Creates the runtime and starts its worker threads (blocking-pool
    /// threads start on demand). Fails if a thread cannot be started, if
    /// the reactor's poller cannot be created (e.g. out of file
    /// descriptors: it is created here so that a timer never fails later),
    /// or if `on_thread_start` panics on a worker.
    ///
    /// ```
    /// let mut builder = windlass::runtime::Builder::new_multi_thread();
    /// builder.worker_threads(2);
    /// let (a, b) = (builder.build().unwrap(), builder.build().unwrap());
    /// assert_eq!(a.handle().num_workers(), b.handle().num_workers());
    /// ```
    pub fn build(&mut self) -> io::Result<Runtime> {
        crate::task::panic_report::install();
        crate::task::coop::set_forced_yield_hook(scheduler::count_forced_yield);
        self.resolve_debug()?;
        let mut pool_config = self.pool.clone();
        pool_config.debug = self.config.debug.enabled;
        let blocking = BlockingPool::from_config(pool_config);
        let reactor_name = self.config.name("windlass-reactor")?;
        // The poller's descriptors are taken now: out of descriptors, the
        // build fails here rather than a timer later (issue #13). A failed
        // wait is reported through the debug-event channel (debug rule 6).
        let report = debug::reactor_wait_failed(&self.config.debug);
        let driver = crate::loom::std::sync::Arc::new(scheduler::new_driver(
            self.flavor,
            reactor_name,
            report,
        )?);
        if self.start_paused {
            // A fresh clock is running: pausing it cannot be refused.
            let _ = driver.clock().pause();
        }
        let clock = driver.clock().clone();
        let workers = self.worker_threads.unwrap_or_else(default_workers);
        // The runtime's one handle; from here on only cloned.
        let (handle, threads) = scheduler::start(
            self.flavor,
            workers,
            self.config.clone(),
            blocking.handle().clone(),
            driver,
        )?;
        blocking.attach(
            pool_thread_start(self.config.clone(), handle.clone()),
            clock,
        );
        Ok(Runtime::from_parts(handle, threads, blocking))
    }
}

fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("kind", &self.flavor)
            .field("worker_threads", &self.worker_threads)
            .field("unhandled_panic", &self.config.unhandled_panic)
            .field("start_paused", &self.start_paused)
            .finish_non_exhaustive()
    }
}
