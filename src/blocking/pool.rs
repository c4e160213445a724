//! The blocking thread pool.
//!
//! One mutex guards the queue and the thread counts; idle threads wait on a
//! condition variable. An idle thread exits after `keep_alive` without work.
//!
//! # Waking threads
//!
//! The hand-off rule, applied by `spawn` after it queues a task and by a
//! pool thread each time it takes one (and when it starts): if work is
//! queued and no thread is on its way to it (`notified` woken threads plus
//! `starting` new ones is 0), wake one idle thread, or, if none is idle,
//! start a thread if the cap allows; otherwise leave the task queued
//! (nothing is dropped: the next thread to finish takes it).
//!
//! So at most one wake-up is in flight, and each woken thread passes it on
//! only while work remains. A burst of 10,000 cheap closures used to wake
//! every idle thread, one futex call by the submitter per closure, and the
//! woken threads then fought the submitter for the lock on 2 cores; now the
//! first threads drain the queue and the chain stops when it is empty.
//! Nothing waits forever: a queued task has either a thread on its way
//! (that thread takes it or passes the wake on), or every
//! thread is busy and takes it when done, or a new thread was started.
//! `notified` is corrected when a wake-up races with a keep-alive timeout
//! (the timed-out thread clamps it to the idle count and checks the queue
//! itself before exiting).
//!
//! Shutdown: mark the pool shut, take the queue, cancel every task that is
//! not running (through the pool's owned-task list, so each handle resolves
//! to a cancelled `JoinError`), wake the idle threads so they exit, then
//! wait (up to a timeout, or not at all) for the running closures. A
//! shutdown that runs on one of the pool's own threads (a runtime dropped
//! inside its own `spawn_blocking` closure) waits for the others only and
//! detaches its own thread, which exits when the closure returns.
//!
//! A thread whose `on_thread_start` hook panicked runs nothing; if it was
//! the last thread, the closures still queued are cancelled (the next
//! `spawn` tries a new thread).

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::deadline::Deadline;
use crate::loom::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use crate::loom::sync::{Arc, Condvar, Mutex};
use crate::reactor::clock::Clock;
use crate::task::core::{Header, Schedule};
use crate::task::list::OwnedTasks;
use crate::task::site::SpawnMeta;
use crate::task::{Id, JoinHandle, Notified, Task};

/// How a runtime's pool starts a thread: the hook the runtime gives its
/// pool ([`BlockingPool::attach`]), so that the pool needs nothing of the
/// runtime (docs/ARCHITECTURE.md, "Layers").
///
/// Called with the pool's default thread name and the thread's body, it
/// starts a thread with the runtime's name, stack size and start/stop
/// callbacks, and runs the body inside the runtime's context. The body is
/// told whether `on_thread_start` returned: `false` (the hook panicked)
/// means the thread must run nothing. A pool with no hook (one built with
/// [`BlockingPool::builder`]) starts plain threads.
pub(crate) type ThreadStart = crate::loom::std::sync::Arc<
    dyn Fn(&str, Box<dyn FnOnce(bool) + Send>) -> io::Result<crate::loom::thread::JoinHandle<()>>
        + Send
        + Sync,
>;

/// Settings of a pool.
#[derive(Clone)]
pub(crate) struct PoolConfig {
    pub(crate) max_threads: usize,
    pub(crate) keep_alive: Duration,
    pub(crate) name: String,
    /// Debug mode of the owning runtime: its closures keep their spawn
    /// site and name (`task::site`). False for a user-built pool.
    pub(crate) debug: bool,
}

impl Default for PoolConfig {
    fn default() -> Self {
        PoolConfig {
            // Blocking work is mostly waiting (files, DNS, `std` locks),
            // not CPU: a cap far above the core count lets that many waits
            // overlap, while still stopping a runaway loop of
            // `spawn_blocking` from creating threads without end.
            max_threads: 512,
            // Long enough that a burst of file operations reuses warm
            // threads instead of creating one per call; short enough that
            // an idle program gives the threads back within seconds.
            keep_alive: Duration::from_secs(10),
            name: "windlass-blocking".into(),
            debug: false,
        }
    }
}

struct State {
    queue: VecDeque<Notified>,
    /// Threads alive (running a closure or idle).
    threads: usize,
    /// Threads waiting for work.
    idle: usize,
    /// Idle threads already signalled and not yet awake; they will take
    /// queued work, so `spawn` does not wake more than needed.
    notified: usize,
    /// Threads started and not yet at their first look at the queue; like
    /// `notified`, a hand-off in flight.
    starting: usize,
    shutdown: bool,
    next_thread: usize,
    /// Join handles of live threads, by thread number; a thread that exits
    /// on keep-alive removes (detaches) its own.
    handles: HashMap<usize, crate::loom::thread::JoinHandle<()>>,
    /// How to start a thread, if a runtime owns the pool; dropped at
    /// shutdown (the hook holds the runtime's handle, which holds the pool:
    /// dropping it breaks that cycle, as the runtime's task lists do).
    start: Option<ThreadStart>,
}

pub(crate) struct Inner {
    state: Mutex<State>,
    /// Idle threads wait here for work.
    work: Condvar,
    /// Signalled when the last thread exits after shutdown.
    all_exited: Condvar,
    owned: OwnedTasks,
    config: PoolConfig,
    /// Most threads alive at once so far.
    high_water: AtomicUsize,
    /// The runtime's clock: a queued or running job holds a unit of its
    /// activity (`reactor/activity.rs`, rule 2).
    clock: crate::loom::std::sync::OnceLock<crate::loom::std::sync::Arc<Clock>>,
}

/// A pool of threads for blocking work, like passing a
/// `ThreadPoolExecutor(max_workers=n)` to asyncio's `run_in_executor`.
///
/// Dropping the pool shuts it down: queued closures are cancelled and the
/// drop waits for running ones to finish (use
/// [`shutdown_timeout`](Self::shutdown_timeout) to bound the wait).
///
/// ```
/// use windlass::blocking::BlockingPool;
///
/// let pool = BlockingPool::builder().max_threads(5).build();
/// let rt = windlass::Runtime::new().unwrap();
/// let handles: Vec<_> = (0..20).map(|i| pool.spawn(move || i * 2)).collect();
/// let total: i32 = rt.block_on(async {
///     let mut total = 0;
///     for h in handles { total += h.await.unwrap(); }
///     total
/// });
/// assert_eq!(total, 380);
/// assert!(pool.high_water() <= 5);
/// ```
pub struct BlockingPool {
    handle: BlockingHandle,
}

/// A cloneable handle that spawns onto a [`BlockingPool`] and reads its
/// counters; it does not keep the pool from shutting down.
///
/// ```
/// use windlass::blocking::BlockingPool;
///
/// let pool = BlockingPool::builder().build();
/// let handle = pool.handle().clone();
/// let from_thread = std::thread::spawn(move || {
///     futures_lite::future::block_on(handle.spawn(|| 6 * 7)).unwrap()
/// });
/// assert_eq!(from_thread.join().unwrap(), 42);
///
/// // Once the pool is dropped, the handle's spawns are cancelled at once.
/// let handle = pool.handle().clone();
/// drop(pool);
/// let err = futures_lite::future::block_on(handle.spawn(|| 1)).unwrap_err();
/// assert!(err.is_cancelled());
/// ```
#[derive(Clone)]
pub struct BlockingHandle {
    inner: Arc<Inner>,
}

/// Configures a [`BlockingPool`]; made by [`BlockingPool::builder`].
///
/// ```
/// use std::time::Duration;
/// use windlass::blocking::BlockingPool;
///
/// let pool = BlockingPool::builder()
///     .max_threads(4)
///     .keep_alive(Duration::from_secs(1))
///     .thread_name("image-resizer")
///     .build();
/// let name = pool.spawn(|| std::thread::current().name().map(String::from));
/// let name = futures_lite::future::block_on(name).unwrap();
/// assert_eq!(name.as_deref(), Some("image-resizer"));
/// assert_eq!(pool.handle().max_threads(), 4);
/// ```
#[derive(Debug)]
pub struct BlockingPoolBuilder {
    config: PoolConfig,
}

impl BlockingPool {
    /// Settings for a new pool, starting from the defaults (at most 512
    /// threads, 10 s keep-alive, threads named `windlass-blocking`).
    ///
    /// ```
    /// let pool = windlass::blocking::BlockingPool::builder().build();
    /// assert_eq!(pool.handle().max_threads(), 512);
    /// ```
    pub fn builder() -> BlockingPoolBuilder {
        BlockingPoolBuilder {
            config: PoolConfig::default(),
        }
    }

    pub(crate) fn from_config(config: PoolConfig) -> BlockingPool {
        let owned = OwnedTasks::new(4);
        let inner = Arc::new(Inner {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                threads: 0,
                idle: 0,
                notified: 0,
                starting: 0,
                shutdown: false,
                next_thread: 0,
                handles: HashMap::new(),
                start: None,
            }),
            work: Condvar::new(),
            all_exited: Condvar::new(),
            owned,
            config,
            high_water: AtomicUsize::new(0),
            clock: crate::loom::std::sync::OnceLock::new(),
        });
        BlockingPool {
            handle: BlockingHandle { inner },
        }
    }

    /// Runs `f` on one of the pool's threads, starting one if none is idle
    /// and the cap allows; otherwise `f` waits in the queue. Works from any
    /// thread, no runtime needed: await the handle anywhere.
    ///
    /// ```
    /// let pool = windlass::blocking::BlockingPool::builder().max_threads(2).build();
    /// let rt = windlass::Runtime::new().unwrap();
    /// let lengths = rt.block_on(async {
    ///     let a = pool.spawn(|| "first file".len());
    ///     let b = pool.spawn(|| "second file".len());
    ///     (a.await.unwrap(), b.await.unwrap())
    /// });
    /// assert_eq!(lengths, (10, 11));
    /// ```
    #[track_caller]
    pub fn spawn<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.handle.spawn(f)
    }

    /// A handle for spawning from elsewhere; clone it to move it to
    /// another thread or task. See the example on [`BlockingHandle`].
    pub fn handle(&self) -> &BlockingHandle {
        &self.handle
    }

    /// Threads alive now, busy or idle. Threads start on demand and exit
    /// after the keep-alive without work.
    ///
    /// ```
    /// let pool = windlass::blocking::BlockingPool::builder().build();
    /// assert_eq!(pool.num_threads(), 0);
    /// futures_lite::future::block_on(pool.spawn(|| ())).unwrap();
    /// assert_eq!(pool.num_threads(), 1); // idle now, kept alive for 10 s
    /// ```
    pub fn num_threads(&self) -> usize {
        self.handle.num_threads()
    }

    /// Most threads alive at once so far; never above the cap.
    ///
    /// ```
    /// use std::sync::{Arc, Barrier};
    ///
    /// let pool = windlass::blocking::BlockingPool::builder().max_threads(3).build();
    /// // Three closures that wait for each other need three threads at once.
    /// let all_in = Arc::new(Barrier::new(3));
    /// let jobs: Vec<_> = (0..3)
    ///     .map(|_| {
    ///         let all_in = all_in.clone();
    ///         pool.spawn(move || { all_in.wait(); })
    ///     })
    ///     .collect();
    /// for job in jobs {
    ///     futures_lite::future::block_on(job).unwrap();
    /// }
    /// assert_eq!(pool.high_water(), 3);
    /// ```
    pub fn high_water(&self) -> usize {
        self.handle.high_water()
    }

    /// Shuts the pool down, waiting at most `timeout` for running closures.
    /// Returns true if every thread exited in time.
    ///
    /// Queued closures never run: their handles resolve to a cancelled
    /// [`JoinError`](crate::JoinError). Running ones run to the end, and
    /// their handles yield their results (an output that was produced is
    /// never reported as cancelled).
    ///
    /// ```
    /// use std::sync::mpsc::channel;
    /// use std::time::Duration;
    /// use futures_lite::future::block_on;
    ///
    /// let pool = windlass::blocking::BlockingPool::builder().max_threads(1).build();
    /// let (started_tx, started) = channel();
    /// let (release, wait) = channel::<()>();
    /// let (done_tx, done) = channel();
    /// let running = pool.spawn(move || {
    ///     started_tx.send(()).unwrap();
    ///     wait.recv().unwrap();
    ///     done_tx.send("finished").unwrap();
    /// });
    /// let queued = pool.spawn(|| "never runs");
    /// started.recv().unwrap();
    ///
    /// // The running closure is still blocked: the wait times out.
    /// assert!(!pool.shutdown_timeout(Duration::from_millis(10)));
    /// assert!(block_on(queued).unwrap_err().is_cancelled());
    /// // It still runs to the end, in the background.
    /// release.send(()).unwrap();
    /// assert_eq!(done.recv().unwrap(), "finished");
    /// assert!(block_on(running).is_ok());
    /// ```
    pub fn shutdown_timeout(self, timeout: Duration) -> bool {
        // Dropping `self` afterwards finds the pool shut down and does not
        // wait again.
        self.handle.inner.shutdown(Deadline::after(Some(timeout)))
    }

    /// Shuts the pool down without waiting for running closures: queued
    /// ones are cancelled, running ones finish in the background and keep
    /// their results, as with [`shutdown_timeout`](Self::shutdown_timeout).
    ///
    /// ```
    /// use std::sync::mpsc::channel;
    ///
    /// let pool = windlass::blocking::BlockingPool::builder().build();
    /// let (started_tx, started) = channel();
    /// let (release, wait) = channel::<()>();
    /// let running = pool.spawn(move || {
    ///     started_tx.send(()).unwrap();
    ///     wait.recv().unwrap();
    /// });
    /// started.recv().unwrap();
    /// pool.shutdown_background(); // returns although a closure is blocked
    /// release.send(()).unwrap();
    /// let result = futures_lite::future::block_on(running);
    /// assert!(result.is_ok()); // it finished, so its result stands
    /// ```
    pub fn shutdown_background(self) {
        self.shutdown_timeout(Duration::ZERO);
    }

    /// Gives a runtime's pool its thread-start hook and the runtime's
    /// clock, whose activity a queued or running job holds a unit of
    /// (`reactor/activity.rs`, rule 2). Called once, by `Builder::build`.
    pub(crate) fn attach(&self, start: ThreadStart, clock: crate::loom::std::sync::Arc<Clock>) {
        let _ = self.handle.inner.clock.set(clock);
        self.handle.inner.state.lock().start = Some(start);
    }

    /// Shuts the pool down, waiting for running closures until `deadline`;
    /// true if every thread exited in time. See the module docs.
    pub(crate) fn shutdown(&self, deadline: Deadline) -> bool {
        self.handle.inner.shutdown(deadline)
    }
}

impl Drop for BlockingPool {
    fn drop(&mut self) {
        // Already shut down (`shutdown_timeout`, or a runtime's shutdown,
        // which bounds its own wait): do not wait again.
        if self.handle.inner.state.lock().shutdown {
            return;
        }
        self.handle.inner.shutdown(Deadline::NEVER);
    }
}

impl fmt::Debug for BlockingPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.handle.fmt(f)
    }
}

impl BlockingHandle {
    /// Runs `f` on one of the pool's threads; see [`BlockingPool::spawn`].
    /// After shutdown the handle resolves to a cancelled `JoinError` at once.
    ///
    /// ```
    /// let pool = windlass::blocking::BlockingPool::builder().build();
    /// let handle = pool.handle().clone();
    /// assert_eq!(futures_lite::future::block_on(handle.spawn(|| 2 + 2)).unwrap(), 4);
    /// pool.shutdown_background();
    /// let late = futures_lite::future::block_on(handle.spawn(|| 2 + 2));
    /// assert!(late.unwrap_err().is_cancelled());
    /// ```
    #[track_caller]
    pub fn spawn<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.spawn_with(f, SpawnMeta::here())
    }

    /// [`spawn`](Self::spawn) with the caller's site and name.
    pub(crate) fn spawn_with<F, R>(&self, f: F, meta: SpawnMeta) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let id = Id::next();
        let (join, notified) = self.inner.owned.bind(
            BlockingTask::new(f),
            self.inner.clone(),
            id,
            meta.into_site(self.inner.config.debug),
        );
        if let Some(task) = notified {
            Inner::schedule_task(&self.inner, task);
        }
        join
    }

    /// The pool's counts, read together under its lock (for
    /// `Handle::metrics` and `Handle::dump`).
    pub(crate) fn counts(&self) -> PoolCounts {
        let state = self.inner.state.lock();
        PoolCounts {
            threads: state.threads,
            idle: state.idle,
            starting: state.starting,
            queued: state.queue.len(),
        }
    }

    /// Every closure of the pool, queued or running (for `Handle::dump`).
    pub(crate) fn owned_tasks(&self) -> &OwnedTasks {
        &self.inner.owned
    }

    /// Threads alive now; see [`BlockingPool::num_threads`].
    pub fn num_threads(&self) -> usize {
        self.inner.state.lock().threads
    }

    /// Threads alive and waiting for work now.
    ///
    /// ```
    /// let pool = windlass::blocking::BlockingPool::builder().build();
    /// let handle = pool.handle();
    /// futures_lite::future::block_on(pool.spawn(|| ())).unwrap();
    /// // The thread goes idle right after handing over the result.
    /// while handle.num_idle_threads() == 0 {
    ///     std::thread::yield_now();
    /// }
    /// assert_eq!((handle.num_threads(), handle.num_idle_threads()), (1, 1));
    /// ```
    pub fn num_idle_threads(&self) -> usize {
        self.inner.state.lock().idle
    }

    /// Closures waiting for a thread now: work beyond the cap queues up.
    ///
    /// ```
    /// use std::sync::mpsc::channel;
    ///
    /// let pool = windlass::blocking::BlockingPool::builder().max_threads(1).build();
    /// let (started_tx, started) = channel();
    /// let (release, wait) = channel::<()>();
    /// let busy = pool.spawn(move || {
    ///     started_tx.send(()).unwrap();
    ///     wait.recv().unwrap();
    /// });
    /// started.recv().unwrap();
    /// let queued: Vec<_> = (0..2).map(|i| pool.spawn(move || i)).collect();
    /// assert_eq!(pool.handle().queue_depth(), 2);
    /// release.send(()).unwrap();
    /// futures_lite::future::block_on(busy).unwrap();
    /// for job in queued {
    ///     futures_lite::future::block_on(job).unwrap();
    /// }
    /// assert_eq!(pool.handle().queue_depth(), 0);
    /// ```
    pub fn queue_depth(&self) -> usize {
        self.inner.state.lock().queue.len()
    }

    /// Most threads alive at once so far; see [`BlockingPool::high_water`].
    pub fn high_water(&self) -> usize {
        self.inner.high_water.load(Relaxed)
    }

    /// The cap on threads, as set by [`BlockingPoolBuilder::max_threads`].
    /// See the example on [`BlockingPoolBuilder`].
    pub fn max_threads(&self) -> usize {
        self.inner.config.max_threads
    }
}

/// [`BlockingHandle::counts`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct PoolCounts {
    /// Threads alive, busy or idle.
    pub(crate) threads: usize,
    /// Threads waiting for work.
    pub(crate) idle: usize,
    /// Threads started and not yet at their first look at the queue.
    pub(crate) starting: usize,
    /// Closures waiting for a thread.
    pub(crate) queued: usize,
}

impl fmt::Debug for BlockingHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.inner.state.lock();
        f.debug_struct("BlockingPool")
            .field("threads", &state.threads)
            .field("idle", &state.idle)
            .field("queued", &state.queue.len())
            .field("max_threads", &self.inner.config.max_threads)
            .finish()
    }
}

impl BlockingPoolBuilder {
    /// Most threads at once (default 512); more work waits in the queue.
    /// See [`BlockingPool::high_water`] for the cap at work.
    ///
    /// Panics if `n` is 0, with a message saying a pool needs a thread:
    ///
    /// ```should_panic
    /// let _pool = windlass::blocking::BlockingPool::builder().max_threads(0);
    /// ```
    #[track_caller]
    pub fn max_threads(mut self, n: usize) -> Self {
        assert!(
            n > 0,
            "windlass: BlockingPoolBuilder::max_threads(0) is not allowed; a pool needs at least one thread"
        );
        self.config.max_threads = n;
        self
    }

    /// How long an idle thread waits for work before it exits (default 10 s).
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let pool = windlass::blocking::BlockingPool::builder()
    ///     .keep_alive(Duration::from_millis(1))
    ///     .build();
    /// futures_lite::future::block_on(pool.spawn(|| ())).unwrap();
    /// // With nothing more to do, the thread exits after a millisecond.
    /// while pool.num_threads() > 0 {
    ///     std::thread::yield_now();
    /// }
    /// assert_eq!(pool.high_water(), 1);
    /// ```
    pub fn keep_alive(mut self, keep_alive: Duration) -> Self {
        self.config.keep_alive = keep_alive;
        self
    }

    /// Name of the pool's threads (default `windlass-blocking`), as seen in
    /// debuggers, `top -H` and panic messages.
    ///
    /// ```
    /// let pool = windlass::blocking::BlockingPool::builder().thread_name("thumbnailer").build();
    /// let name = pool.spawn(|| std::thread::current().name().map(String::from));
    /// let name = futures_lite::future::block_on(name).unwrap();
    /// assert_eq!(name.as_deref(), Some("thumbnailer"));
    /// ```
    pub fn thread_name(mut self, name: impl Into<String>) -> Self {
        self.config.name = name.into();
        self
    }

    /// Creates the pool. Threads start on demand, so an unused pool costs
    /// no thread.
    ///
    /// ```
    /// let pool = windlass::blocking::BlockingPool::builder().max_threads(8).build();
    /// assert_eq!(pool.num_threads(), 0);
    /// assert_eq!(pool.handle().max_threads(), 8);
    /// ```
    pub fn build(self) -> BlockingPool {
        BlockingPool::from_config(self.config)
    }
}

impl fmt::Debug for PoolConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PoolConfig")
            .field("max_threads", &self.max_threads)
            .field("keep_alive", &self.keep_alive)
            .field("name", &self.name)
            .finish()
    }
}

impl Inner {
    fn schedule_task(me: &Arc<Self>, task: Notified) {
        let mut state = me.state.lock();
        if state.shutdown {
            // The owned list is closed too: the task was or will be
            // cancelled by the shutdown pass.
            drop(state);
            drop(task);
            return;
        }
        // Rule 3: entered on the job's behalf while the caller still holds
        // its own unit; left by the pool thread once the job has run.
        if let Some(clock) = me.clock.get() {
            clock.activity.enter();
        }
        state.queue.push_back(task);
        Inner::hand_off(me, state);
    }

    /// The hand-off rule (module docs, "Waking threads"): while work is
    /// queued and no thread is on its way to it, wake one idle thread, or
    /// start one if none is idle and the cap allows. At most one wake-up
    /// is in flight; the woken thread applies this rule again when it takes
    /// a task, so a burst wakes threads one after another, only while the
    /// queue still holds work. Releases the lock.
    fn hand_off(me: &Arc<Self>, mut state: crate::loom::sync::MutexGuard<'_, State>) {
        if state.queue.is_empty() || state.notified + state.starting > 0 {
            return;
        }
        if state.idle > 0 {
            state.notified += 1;
            drop(state);
            me.work.notify_one();
        } else if state.threads < me.config.max_threads {
            Inner::start_thread(me, state);
        }
    }

    /// Starts a thread; called with the state lock held, releases it.
    fn start_thread(me: &Arc<Self>, mut state: crate::loom::sync::MutexGuard<'_, State>) {
        let number = state.next_thread;
        state.next_thread += 1;
        state.threads += 1;
        state.starting += 1;
        me.high_water.fetch_max(state.threads, Relaxed);
        let inner = me.clone();
        let body = move |started: bool| match started {
            true => Inner::run(inner, number),
            false => Inner::hook_failed(&inner, number),
        };
        let spawned = match &state.start {
            Some(start) => start(&me.config.name, Box::new(body)),
            None => crate::loom::thread::Builder::new()
                .name(me.config.name.clone())
                .spawn(move || body(true)),
        };
        match spawned {
            Ok(handle) => {
                state.handles.insert(number, handle);
            }
            Err(err) => {
                state.threads -= 1;
                state.starting -= 1;
                if state.threads == 0 {
                    // Nothing will run what is queued (the caller's closure
                    // among it, which the panic below refuses): cancel it,
                    // as `hook_failed` does, rather than run it later.
                    let orphans = std::mem::take(&mut state.queue);
                    drop(state);
                    Inner::cancel_orphans(me, orphans);
                    panic!(
                        "windlass: the blocking pool could not start a thread ({err}) and has none to run the closure"
                    );
                }
                // The queued task waits for one of the running threads.
            }
        }
    }

    /// A pool thread whose `on_thread_start` hook panicked: it runs
    /// nothing and detaches itself. If no thread is left to run the queued
    /// closures, they are cancelled rather than left waiting forever (the
    /// next `spawn` tries a new thread again).
    fn hook_failed(me: &Arc<Self>, number: usize) {
        let mut state = me.state.lock();
        state.handles.remove(&number);
        state.threads -= 1;
        // The hand-off this thread carried ends here (it never reaches the
        // queue, where `run` counts it out): left counted, it stopped every
        // later hand-off, and queued closures waited forever.
        state.starting -= 1;
        let orphans = if state.threads == 0 {
            std::mem::take(&mut state.queue)
        } else {
            VecDeque::new()
        };
        if state.threads == 0 || state.shutdown {
            me.all_exited.notify_all();
        }
        // Other threads are left: pass the wake-up on to an idle one if
        // work waits (not a new thread, whose hook may panic again; a busy
        // one takes the work when it is done).
        if !state.shutdown
            && !state.queue.is_empty()
            && state.idle > 0
            && state.notified + state.starting == 0
        {
            state.notified += 1;
            drop(state);
            me.work.notify_one();
        } else {
            drop(state);
        }
        Inner::cancel_orphans(me, orphans);
    }

    /// Cancels queued closures that no thread will run (none is left, and
    /// none could be started).
    fn cancel_orphans(me: &Arc<Self>, orphans: VecDeque<Notified>) {
        for task in orphans {
            // Rule 7 of the task protocol, for one task: take it out of the
            // owned list and cancel it; its `Notified` then finds it done.
            if let Some(list_ref) = me.owned.remove(task.header_ptr()) {
                list_ref.shutdown();
            }
            drop(task);
            // The job's unit of the clock's activity (rule 2 of
            // `reactor/activity.rs`), left once its awaiter was woken, as
            // `run` does for a job that ran: kept, a paused clock never
            // advanced again.
            if let Some(clock) = me.clock.get() {
                clock.activity.leave();
            }
        }
    }

    /// The body of a pool thread.
    fn run(me: Arc<Self>, number: usize) {
        // The runtime's context, if any, was entered by the thread-start
        // hook around this body.
        let _own = OwnThread::enter(&me, number);
        let mut state = me.state.lock();
        // Arrived: the hand-off this thread carried is taken over below.
        state.starting -= 1;
        loop {
            if let Some(task) = state.queue.pop_front() {
                // Pass the wake-up on if more work waits (hand-off rule).
                Inner::hand_off(&me, state);
                task.run();
                if let Some(clock) = me.clock.get() {
                    clock.activity.leave();
                }
                state = me.state.lock();
                continue;
            }
            if state.shutdown {
                break;
            }
            state.idle += 1;
            let timed_out = me.work.wait_timeout(&mut state, me.config.keep_alive);
            state.idle -= 1;
            if state.notified > 0 && !timed_out {
                state.notified -= 1;
            } else if state.notified > state.idle {
                state.notified = state.idle;
            }
            if timed_out && state.queue.is_empty() && !state.shutdown {
                // Keep-alive expired: exit and detach.
                state.handles.remove(&number);
                break;
            }
        }
        state.threads -= 1;
        // At shutdown, every exit: a shutdown running on one of our own
        // threads waits for the count to reach 1, not 0.
        if state.threads == 0 || state.shutdown {
            me.all_exited.notify_all();
        }
    }

    /// Shutdown; see the module docs. True if all threads exited in time.
    ///
    /// Called from one of this pool's own threads (a runtime dropped inside
    /// its own `spawn_blocking` closure), it cannot wait for that thread,
    /// which is busy running the very closure that called it: it waits for
    /// the others only and leaves its own to exit, detached, once the
    /// closure returns. (Waiting for it hung forever.)
    fn shutdown(&self, deadline: Deadline) -> bool {
        let own = OwnThread::number_in(self);
        let (queued, start) = {
            let mut state = self.state.lock();
            state.shutdown = true;
            (std::mem::take(&mut state.queue), state.start.take())
        };
        // Outside the lock: the hook holds a runtime handle, whose drop may
        // be the runtime's last.
        drop(start);
        self.work.notify_all();
        // Cancelled closures are dropped here; one that carries data it must
        // still write (a `fs::File`'s) asks `in_bounded_shutdown` whether
        // this thread may wait for the write.
        let _bounded = BoundedShutdown::enter(deadline.left().is_some());
        self.owned.close_and_shutdown(&|_| {});
        drop(queued);
        drop(_bounded);
        let mut state = self.state.lock();
        let ours = usize::from(own.is_some());
        let done = deadline.wait(&self.all_exited, &mut state, |s| s.threads <= ours);
        if let Some(number) = own {
            // Detach our own thread: joining it from itself would deadlock.
            state.handles.remove(&number);
        }
        let handles: Vec<_> = state.handles.drain().map(|(_, h)| h).collect();
        drop(state);
        if done {
            for h in handles {
                let _ = h.join();
            }
        }
        done
    }
}

/// The future of a blocking task: runs the closure on its first poll.
pub(crate) struct BlockingTask<F>(Option<F>);

impl<F> BlockingTask<F> {
    pub(crate) fn new(f: F) -> BlockingTask<F> {
        BlockingTask(Some(f))
    }
}

impl<F> Unpin for BlockingTask<F> {}

impl<F, R> Future for BlockingTask<F>
where
    F: FnOnce() -> R,
{
    type Output = R;

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<R> {
        let f = self
            .0
            .take()
            .expect("windlass: a blocking task was polled twice");
        // The closure may run for long; the cooperative budget is for
        // async tasks sharing a worker and means nothing here.
        crate::task::coop::budget_set(None);
        Poll::Ready(f())
    }
}

crate::loom::std::thread_local! {
    /// The pool (by address) and thread number of the pool thread running
    /// here, if any; see `Inner::shutdown`.
    static OWN_THREAD: std::cell::Cell<(usize, usize)> = const { std::cell::Cell::new((0, 0)) };
    /// True while this thread cancels the queued closures of a shutdown
    /// with a deadline (`shutdown_timeout`, `shutdown_background`).
    static BOUNDED_SHUTDOWN: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// True while this thread cancels queued closures for a pool shutdown that
/// promised not to wait past a deadline (`shutdown_background` waits for
/// nothing): a cancelled closure's drop must not block it then, and hands
/// any work it cannot drop (a file's buffered write) to a thread of its
/// own instead.
pub(crate) fn in_bounded_shutdown() -> bool {
    BOUNDED_SHUTDOWN
        .try_with(std::cell::Cell::get)
        .unwrap_or(false)
}

/// Sets `BOUNDED_SHUTDOWN` for its lifetime.
struct BoundedShutdown(bool);

impl BoundedShutdown {
    fn enter(bounded: bool) -> BoundedShutdown {
        let before = BOUNDED_SHUTDOWN.with(|c| c.replace(bounded));
        BoundedShutdown(before)
    }
}

impl Drop for BoundedShutdown {
    fn drop(&mut self) {
        let _ = BOUNDED_SHUTDOWN.try_with(|c| c.set(self.0));
    }
}

/// Marks the current thread as `number` of a pool while it runs.
struct OwnThread;

impl OwnThread {
    fn enter(pool: &Arc<Inner>, number: usize) -> OwnThread {
        let addr = std::ptr::from_ref::<Inner>(pool) as usize;
        OWN_THREAD.with(|c| c.set((addr, number)));
        OwnThread
    }

    /// This thread's number if it is one of `pool`'s threads.
    fn number_in(pool: &Inner) -> Option<usize> {
        let (addr, number) = OWN_THREAD.with(std::cell::Cell::get);
        (addr == std::ptr::from_ref(pool) as usize).then_some(number)
    }
}

impl Drop for OwnThread {
    fn drop(&mut self) {
        OWN_THREAD.with(|c| c.set((0, 0)));
    }
}

impl Schedule for Arc<Inner> {
    fn schedule(&self, task: Notified) {
        // Only `abort()` of a queued task gets here (a blocking task never
        // wakes itself): put it back so a thread cancels it.
        Inner::schedule_task(self, task);
    }

    fn release(&self, task: NonNull<Header>) -> Option<Task> {
        self.owned.remove(task)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_and_caps() {
        let pool = BlockingPool::builder().max_threads(2).build();
        let handles: Vec<_> = (0..8).map(|i| pool.spawn(move || i + 1)).collect();
        let sum: i32 = handles
            .into_iter()
            .map(|h| futures_lite::future::block_on(h).unwrap())
            .sum();
        assert_eq!(sum, 36);
        assert!(pool.high_water() <= 2 && pool.high_water() >= 1);
    }
}
