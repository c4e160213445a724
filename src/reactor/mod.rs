//! The reactor: one epoll poller (`epoll.rs`) per runtime, waited on for I/O
//! readiness and for the earliest timer, and the wake-ups of the tasks
//! concerned.
//!
//! # Who waits
//!
//! Holding the reactor's *turn* (a lock that also keeps the buffers of a
//! turn, [`Reactor::try_turn`]) is the right to wait on the poller; one
//! [`Turn`] waits ([`Turn::wait`]: poll, then collect the wakers of ready
//! sources and expired timers) and then wakes what it collected outside
//! every reactor lock ([`Turn::wake`]). Who takes the turn depends on the
//! runtime ([`DriveMode`](driver::DriveMode), kept by the runtime's
//! [`Driver`]):
//!
//! - **Multi-thread runtimes: the workers.** A worker with nothing to run
//!   takes the turn, if free, and sleeps in the poller instead of its
//!   parker; the tasks it wakes land in its own queues (see the worker
//!   module, "Sleeping in the reactor"). Busy workers look without blocking
//!   every few dozen tasks. No thread of its own: readiness that arrives
//!   while every worker is busy waits in the kernel and is collected in one
//!   wait, instead of one reactor wake-up and one cross-thread wake per
//!   event.
//! - **Current-thread runtimes: a reactor thread** (named like the
//!   runtime's threads, `windlass-reactor` by default) that loops on the
//!   turn, so timers and I/O complete even between two `block_on` calls.
//!
//! The poller (its descriptors) is created when the runtime is built, so
//! that running out of descriptors fails `Builder::build` with an
//! `io::Error` instead of a later timer or socket (a timer has no error to
//! return). The reactor *starts* on first use of I/O or timers: for the
//! workers a start hook then unparks every sleeping worker so that one of
//! them takes the turn; for a current-thread runtime the reactor thread is
//! spawned then. Starting needs no new descriptor, so it cannot fail with
//! `EMFILE`; if spawning the reactor thread fails, the reactor stays
//! reserved and the next use tries again.
//!
//! # Registration
//!
//! An I/O object ([`Async`](crate::io::Async)) registers its file descriptor
//! once, in *edge-triggered* mode with interest in both directions, under a
//! key that packs a slab index and that slot's generation. The slab holds an
//! `Arc<Source>` per registration. Deregistration deletes the descriptor
//! from the poller (before the descriptor is closed, so that a reused
//! number is never reported under the old key) and frees the slot, bumping its generation, so an event still
//! in flight for the old key is recognised as stale and dropped instead of
//! being delivered to a newer source in the same slot.
//!
//! # Readiness
//!
//! Each `Source` has a *tick*, incremented (under its lock) by every event
//! delivered for it, and per direction the wakers of every task waiting
//! through the `poll_*` path plus any number of waiters (`readable()` /
//! `writable()` futures); the full protocol is the doc of `source.rs`. An I/O operation is tried
//! first, optimistically. On `WouldBlock` the task registers its waker *if
//! the tick is still the one it read before trying*; if the tick moved, an
//! event arrived during the attempt and the task retries at once. With
//! edge-triggered events nothing else can be lost: the kernel reports every
//! transition to ready after registration, and any transition during the
//! attempt moved the tick. Per-direction "ready" bits (set by events, cleared
//! when an attempt at the current tick would block) serve the waiters.
//!
//! # Timers
//!
//! Timers live in an ordered map keyed by `(deadline, id)`. The reactor
//! sleeps until the earliest deadline (a `timerfd`, set again only when
//! that deadline changed: `epoll.rs`, rule 3); inserting a timer that
//! becomes the earliest calls `Poller::notify`, which makes the current or
//! next wait return at once so the new deadline is taken into account.
//!
//! # Waking
//!
//! Each turn of the loop collects the wakers of every ready source and
//! expired timer first, then wakes them together, outside every lock.
//!
//! # A failed wait
//!
//! A wait on the poller that fails with anything but `EINTR` is an
//! OS-level fault. It is reported through the runtime's report channel
//! ([`WaitFailed`], which the builder points at `Builder::on_debug_event`),
//! then the turn pauses 1 ms and goes on: the next wait may succeed, and
//! expired timers still fire in the meantime.
//!
//! # Shutdown
//!
//! `shutdown` sets the flag, notifies the poller and joins the reactor
//! thread, if there is one (a runtime's workers have exited by then). After
//! that, I/O that would need to wait fails with an error naming the cause,
//! and timers panic with a message saying their runtime is gone (waiting on
//! them would hang).

pub(crate) mod activity;
pub(crate) mod clock;
mod driver;
pub(crate) mod epoll;
pub(crate) mod source;
pub(crate) mod timers;

use std::io;
use std::os::fd::BorrowedFd;
use std::task::Waker;
use std::time::{Duration, Instant};

// The real primitives in every build (an exception listed in
// `crate::loom`'s docs): under loom the reactor is driven by a plain OS
// thread (see `Driver::for_workers`), which must not touch loom objects.
use crate::loom::std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::*};
use crate::loom::std::sync::{Arc, Mutex, MutexGuard};

use self::clock::Clock;
pub(crate) use self::driver::Driver;
use self::epoll::{Event, Events, Poller};
pub(crate) use self::source::{Direction, Source};
use self::timers::Timers;
use crate::task::waker::wake_contained;

/// How long a turn pauses after a failed wait before the next one, so that
/// a poller that keeps failing does not spin a thread.
const WAIT_RETRY: Duration = Duration::from_millis(1);

/// Where a failed wait on the poller (any error but `EINTR`) is reported:
/// the runtime's report channel, set by the builder (`runtime::debug`,
/// `DebugEvent::ReactorWaitFailed`). Called on the thread that holds the
/// turn, once per failed wait; the turn then pauses for [`WAIT_RETRY`] and
/// goes on (timers that expired meanwhile still fire), as the next wait may
/// succeed.
pub(crate) type WaitFailed = Arc<dyn Fn(io::Error) + Send + Sync>;

/// Bits of a key: slot index in the low half, generation in the high half.
const INDEX_BITS: u32 = usize::BITS / 2;
const INDEX_MASK: usize = (1 << INDEX_BITS) - 1;

#[derive(Default)]
struct Slot {
    generation: usize,
    source: Option<Arc<Source>>,
}

#[derive(Default)]
struct Slab {
    slots: Vec<Slot>,
    free: Vec<usize>,
}

pub(crate) struct Reactor {
    poller: Poller,
    sources: Mutex<Slab>,
    timers: Mutex<Timers>,
    /// The runtime's clock: the "now" of every timer (see `clock.rs`).
    pub(crate) clock: Arc<Clock>,
    /// Registered sources plus pending timers, kept beside the two locks
    /// for [`has_interest`](Self::has_interest).
    interest: AtomicUsize,
    /// Holding this lock is the right to wait on `poller` (see "Who
    /// waits"); it also keeps the buffers of a turn.
    turn: Mutex<TurnBufs>,
    shutdown: AtomicBool,
    /// Turns and readiness events so far, for `Handle::metrics`. Written
    /// only by the holder of `turn` (one at a time; the mutex orders one
    /// holder's writes before the next's), so a `Relaxed` load and store
    /// cannot lose an update; read with `Relaxed` (a statistic; see
    /// `runtime::metrics`). Once per wait on the poller, not per task, so
    /// they share the reactor's lines.
    turns: AtomicU64,
    events: AtomicU64,
    /// The reactor thread, for a reactor driven by one.
    thread: Mutex<Option<crate::loom::std::thread::JoinHandle<()>>>,
    /// Where a failed wait is reported.
    report: WaitFailed,
}

/// Buffers reused from turn to turn.
#[derive(Default)]
struct TurnBufs {
    events: Events,
    ready: Vec<(Arc<Source>, Event)>,
    wakers: Vec<Waker>,
}

/// One turn of the reactor: the right to wait on the poller, held by the
/// reactor thread or by a worker about to sleep.
pub(crate) struct Turn<'a> {
    reactor: &'a Reactor,
    bufs: MutexGuard<'a, TurnBufs>,
}

impl Turn<'_> {
    /// Waits until an event, the earliest timer, a [`notify`](Reactor::notify)
    /// or `max` (`None`: no limit of its own; `Some(ZERO)`: just look), and
    /// collects the wakers of the ready sources and the expired timers.
    /// Wakes nobody yet: see [`wake`](Self::wake).
    pub(crate) fn wait(&mut self, max: Option<Duration>) {
        let r = self.reactor;
        let plan = r.clock.plan(r.timers.lock().next_deadline(), max);
        let bufs = &mut *self.bufs;
        // The poller's timerfd runs on the real clock: it gets the deadline
        // while the runtime's timeline is the real one (never paused, the
        // fast path), and otherwise the plan's timeout bounds the wait.
        let polled = if r.clock.is_real() {
            r.poller.wait(&mut bufs.events, plan.deadline, max)
        } else {
            r.poller.wait(&mut bufs.events, None, plan.timeout)
        };
        if plan.waiting {
            r.clock.activity.stop_waiting();
        }
        if let Err(e) = polled {
            if e.kind() != io::ErrorKind::Interrupted {
                // Nothing sensible to do but report and retry; a poller
                // that keeps failing is an OS-level problem. The report
                // goes to the runtime's report channel (see `WaitFailed`).
                (r.report)(e);
                std::thread::sleep(WAIT_RETRY);
            }
        }
        crate::runtime::metrics::add(&r.turns, 1);
        if !bufs.events.is_empty() {
            let slab = r.sources.lock();
            let mut n = 0;
            for ev in bufs.events.iter() {
                n += 1;
                if let Some(source) = slab.get(ev.key) {
                    bufs.ready.push((source.clone(), ev));
                }
            }
            crate::runtime::metrics::add(&r.events, n);
        }
        for (source, ev) in bufs.ready.drain(..) {
            source.on_event(&ev, &mut bufs.wakers);
        }
        if let Some(deadline) = plan.deadline {
            if let (Some(idle), true) = (plan.jump, bufs.wakers.is_empty()) {
                // No jump if a unit was entered since the idle test
                // (`activity.rs`, rule 7); the next turn tests again.
                r.clock.jump_to(deadline, idle);
            }
            let mut timers = r.timers.lock();
            let fired = timers.fire(r.clock.now(), &mut bufs.wakers);
            r.interest.fetch_sub(fired, Relaxed);
        }
    }

    /// True if the wait collected something to wake.
    pub(crate) fn has_wakers(&self) -> bool {
        !self.bufs.wakers.is_empty()
    }

    /// Ends the turn, then wakes what [`wait`](Self::wait) collected,
    /// outside every reactor lock. Returns how many.
    pub(crate) fn wake(mut self) -> usize {
        let wakers = std::mem::take(&mut self.bufs.wakers);
        drop(self);
        let n = wakers.len();
        for w in wakers {
            wake_contained(w);
        }
        n
    }
}

impl Reactor {
    /// Creates the reactor and its poller on `clock`, without starting
    /// anyone waiting on it (see [`Driver`]); failed waits go to `report`.
    /// Fails if the poller cannot be created (e.g. `EMFILE`).
    pub(crate) fn new(clock: Arc<Clock>, report: WaitFailed) -> io::Result<Arc<Reactor>> {
        let poller = Poller::new()?;
        let reactor = Arc::new(Reactor {
            poller,
            sources: Mutex::new(Slab::default()),
            timers: Mutex::new(Timers::default()),
            clock,
            interest: AtomicUsize::new(0),
            turn: Mutex::new(TurnBufs::default()),
            shutdown: AtomicBool::new(false),
            turns: AtomicU64::new(0),
            events: AtomicU64::new(0),
            thread: Mutex::new(None),
            report,
        });
        // Rule 5 of the auto-advance (`activity.rs`): the last leave wakes
        // the turn's holder. Weak: the clock outlives no reactor.
        let weak = Arc::downgrade(&reactor);
        reactor.clock.activity.set_wake_hook(Box::new(move || {
            if let Some(r) = weak.upgrade() {
                r.notify();
            }
        }));
        Ok(reactor)
    }

    /// Spawns the thread, named `name`, that drives this reactor (see
    /// "Who waits"). Needs no descriptor; fails only if the OS refuses a
    /// thread.
    fn spawn_thread(self: &Arc<Reactor>, name: &str) -> io::Result<()> {
        let r = self.clone();
        let handle = crate::loom::std::thread::Builder::new()
            .name(name.to_string())
            .spawn(move || r.run())?;
        *self.thread.lock() = Some(handle);
        Ok(())
    }

    /// The reactor thread's loop.
    fn run(&self) {
        while !self.shutdown.load(Acquire) {
            let mut turn = self.lock_turn();
            turn.wait(None);
            turn.wake();
        }
    }

    /// The right to wait on the poller, if nobody holds it.
    pub(crate) fn try_turn(&self) -> Option<Turn<'_>> {
        let bufs = self.turn.try_lock()?;
        Some(Turn {
            reactor: self,
            bufs,
        })
    }

    fn lock_turn(&self) -> Turn<'_> {
        Turn {
            reactor: self,
            bufs: self.turn.lock(),
        }
    }

    /// True if anything is registered that a turn could wake: a source or a
    /// timer. (A hint for the workers' periodic check: a stale answer only
    /// moves that check by one interval.)
    pub(crate) fn has_interest(&self) -> bool {
        self.interest.load(Relaxed) != 0
    }

    /// Interrupts the turn in progress (or makes the next one return at
    /// once).
    pub(crate) fn notify(&self) {
        self.poller.notify();
    }

    /// Registers `fd`. The caller must call [`deregister`](Self::deregister)
    /// before the descriptor is closed.
    pub(crate) fn register(&self, fd: BorrowedFd<'_>) -> io::Result<Arc<Source>> {
        use std::os::fd::AsRawFd;
        if self.is_shutdown() {
            return Err(gone());
        }
        let mut slab = self.sources.lock();
        let index = slab.free.pop().unwrap_or_else(|| {
            slab.slots.push(Slot::default());
            slab.slots.len() - 1
        });
        let key = (slab.slots[index].generation << INDEX_BITS) | index;
        let source = Arc::new(Source::new(key, fd.as_raw_fd()));
        slab.slots[index].source = Some(source.clone());
        self.interest.fetch_add(1, Relaxed);
        drop(slab);
        // The descriptor must leave the poller before it is closed (else a
        // later descriptor with the same number could be reported under
        // this key): every registered source belongs to one `Async`, whose
        // drop calls `deregister` (which deletes it) before dropping the
        // I/O object that owns the descriptor.
        if let Err(e) = self.poller.add(fd, key) {
            self.free_slot(key);
            return Err(e);
        }
        // Shutdown sets the flag, then closes every source in the slab. If
        // it did so before we inserted ours, we see the flag now: close ours
        // so that waiting on it fails instead of hanging.
        if self.is_shutdown() {
            let mut wakers = Vec::new();
            source.wake_all(&mut wakers);
        }
        Ok(source)
    }

    /// Deletes the source's descriptor from the poller and frees its slot.
    pub(crate) fn deregister(&self, source: &Source, fd: BorrowedFd<'_>) -> io::Result<()> {
        let res = self.poller.delete(fd);
        self.free_slot(source.key());
        res
    }

    fn free_slot(&self, key: usize) {
        let mut slab = self.sources.lock();
        let index = key & INDEX_MASK;
        if let Some(slot) = slab.slots.get_mut(index) {
            if slot.generation == key >> INDEX_BITS && slot.source.is_some() {
                slot.source = None;
                slot.generation = (slot.generation + 1) & INDEX_MASK;
                slab.free.push(index);
                self.interest.fetch_sub(1, Relaxed);
            }
        }
    }

    /// Adds a timer; returns its id. Wakes the reactor if it is now the
    /// earliest.
    pub(crate) fn insert_timer(&self, deadline: Instant, waker: Waker) -> u64 {
        if self.is_shutdown() {
            timer_after_shutdown();
        }
        let (id, earliest) = {
            let mut timers = self.timers.lock();
            self.interest.fetch_add(1, Relaxed);
            timers.insert(deadline, waker)
        };
        // As in `register`: a shutdown that drained the timers before our
        // insert is visible now; this timer would never fire.
        if self.is_shutdown() {
            self.remove_timer(deadline, id);
            timer_after_shutdown();
        }
        if earliest {
            // Whoever waits on the poller recomputes its timeout.
            self.notify();
        }
        id
    }

    /// Replaces the waker of a timer if it would not wake the same task.
    pub(crate) fn update_timer(&self, deadline: Instant, id: u64, waker: &Waker) -> bool {
        self.timers.lock().update(deadline, id, waker)
    }

    /// Moves a registered timer to `deadline`, keeping its waker (so the
    /// task that polled it is woken at the new deadline without polling
    /// again); returns its new id, or `None` if it had fired. Never panics:
    /// a shutdown drains the moved timer like any other.
    pub(crate) fn reset_timer(&self, old: Instant, id: u64, deadline: Instant) -> Option<u64> {
        let (id, earliest) = self.timers.lock().reset(old, id, deadline)?;
        if earliest {
            self.notify();
        }
        Some(id)
    }

    pub(crate) fn remove_timer(&self, deadline: Instant, id: u64) {
        let mut timers = self.timers.lock();
        if timers.remove(deadline, id) {
            self.interest.fetch_sub(1, Relaxed);
        }
    }

    /// Timers registered now (for tests: a dropped sleep leaves none).
    pub(crate) fn num_timers(&self) -> usize {
        self.timers.lock().len()
    }

    /// `(turns, events)` so far (see the fields).
    pub(crate) fn turn_counts(&self) -> (u64, u64) {
        (self.turns.load(Relaxed), self.events.load(Relaxed))
    }

    /// Sources registered now.
    pub(crate) fn num_sources(&self) -> usize {
        self.sources
            .lock()
            .slots
            .iter()
            .filter(|s| s.source.is_some())
            .count()
    }

    pub(crate) fn is_shutdown(&self) -> bool {
        self.shutdown.load(Acquire)
    }

    /// Stops and joins the reactor thread (if it has one), waking every
    /// waiter so that it sees the error. Idempotent.
    pub(crate) fn shutdown(&self) {
        if self.shutdown.swap(true, AcqRel) {
            return;
        }
        self.notify();
        if let Some(t) = self.thread.lock().take() {
            if t.thread().id() != std::thread::current().id() {
                let _ = t.join();
            }
        }
        let mut wakers = Vec::new();
        let sources: Vec<Arc<Source>> = self
            .sources
            .lock()
            .slots
            .iter()
            .filter_map(|s| s.source.clone())
            .collect();
        for s in sources {
            s.wake_all(&mut wakers);
        }
        {
            let mut timers = self.timers.lock();
            let drained = timers.drain(&mut wakers);
            self.interest.fetch_sub(drained, Relaxed);
        }
        for w in wakers {
            wake_contained(w);
        }
    }
}

impl Slab {
    fn get(&self, key: usize) -> Option<&Arc<Source>> {
        let slot = self.slots.get(key & INDEX_MASK)?;
        if slot.generation != key >> INDEX_BITS {
            return None; // stale event for a freed slot
        }
        slot.source.as_ref()
    }
}

/// The error for I/O that would have to wait after its runtime shut down.
pub(crate) fn gone() -> io::Error {
    io::Error::other("windlass: the runtime this I/O object belongs to has shut down")
}

#[track_caller]
pub(crate) fn timer_after_shutdown() -> ! {
    panic!(
        "windlass: a timer was polled after its runtime shut down; a sleep, timeout or interval can only \
         be awaited while the runtime that created it is running"
    )
}
