//! The reactor: one thread per runtime that waits on a `polling::Poller` for
//! I/O readiness and on the earliest timer, and wakes the tasks concerned.
//!
//! # Registration
//!
//! An I/O object ([`Async`](crate::io::Async)) registers its file descriptor
//! once, in *edge-triggered* mode with interest in both directions, under a
//! key that packs a slab index and that slot's generation. The slab holds an
//! `Arc<Source>` per registration. Deregistration deletes the descriptor
//! from the poller (before the descriptor is closed: `polling`'s contract
//! for `add`) and frees the slot, bumping its generation, so an event still
//! in flight for the old key is recognised as stale and dropped instead of
//! being delivered to a newer source in the same slot.
//!
//! # Readiness
//!
//! Each `Source` has a *tick*, incremented (under its lock) by every event
//! delivered for it, and one waker slot per direction plus any number of
//! waiters (`readable()` / `writable()` futures). An I/O operation is tried
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
//! sleeps until the earliest deadline; inserting a timer that becomes the
//! earliest calls `Poller::notify`, which makes the current or next wait
//! return at once so the new deadline is taken into account.
//!
//! # Waking
//!
//! Each turn of the loop collects the wakers of every ready source and
//! expired timer first, then wakes them together, outside every lock.
//!
//! # Shutdown
//!
//! `shutdown` sets the flag, notifies the poller and joins the thread. After
//! that, I/O that would need to wait fails with an error naming the cause,
//! and timers panic with a message saying their runtime is gone (waiting on
//! them would hang).

pub(crate) mod source;
pub(crate) mod timers;

use std::io;
use std::os::fd::BorrowedFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::*};
use std::task::Waker;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use polling::{Event, Events, PollMode, Poller};

pub(crate) use self::source::{Direction, Source};
use self::timers::Timers;

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
    shutdown: AtomicBool,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Reactor {
    /// Creates the reactor and starts its thread.
    pub(crate) fn start(thread_name: String) -> io::Result<Arc<Reactor>> {
        let poller = Poller::new()?;
        if !poller.supports_edge() {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "windlass needs edge-triggered polling",
            ));
        }
        let reactor = Arc::new(Reactor {
            poller,
            sources: Mutex::new(Slab::default()),
            timers: Mutex::new(Timers::default()),
            shutdown: AtomicBool::new(false),
            thread: Mutex::new(None),
        });
        let r = reactor.clone();
        let handle = std::thread::Builder::new()
            .name(thread_name)
            .spawn(move || r.run())?;
        *reactor.thread.lock() = Some(handle);
        Ok(reactor)
    }

    /// The reactor thread's loop.
    fn run(&self) {
        let mut events = Events::new();
        let mut wakers: Vec<Waker> = Vec::new();
        let mut ready: Vec<(Arc<Source>, Event)> = Vec::new();
        while !self.shutdown.load(Acquire) {
            let deadline = self.timers.lock().next_deadline();
            let timeout = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            events.clear();
            if let Err(e) = self.poller.wait(&mut events, timeout) {
                if e.kind() != io::ErrorKind::Interrupted {
                    // Nothing sensible to do but report and retry; a poller
                    // that keeps failing is an OS-level problem.
                    eprintln!("windlass reactor: poll failed: {e}");
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
            {
                let slab = self.sources.lock();
                for ev in events.iter() {
                    if let Some(source) = slab.get(ev.key) {
                        ready.push((source.clone(), ev));
                    }
                }
            }
            for (source, ev) in ready.drain(..) {
                source.on_event(ev.readable, ev.writable, &mut wakers);
            }
            self.timers.lock().fire(Instant::now(), &mut wakers);
            for w in wakers.drain(..) {
                w.wake();
            }
        }
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
        drop(slab);
        // SAFETY: `polling` requires the descriptor to be deleted before it
        // is closed. Every registered source belongs to one `Async`, whose
        // drop calls `deregister` (which deletes it) before dropping the I/O
        // object that owns the descriptor.
        let added = unsafe {
            self.poller
                .add_with_mode(fd.as_raw_fd(), Event::all(key), PollMode::Edge)
        };
        if let Err(e) = added {
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
            }
        }
    }

    /// Adds a timer; returns its id. Wakes the reactor if it is now the
    /// earliest.
    pub(crate) fn insert_timer(&self, deadline: Instant, waker: Waker) -> u64 {
        if self.is_shutdown() {
            timer_after_shutdown();
        }
        let (id, earliest) = self.timers.lock().insert(deadline, waker);
        // As in `register`: a shutdown that drained the timers before our
        // insert is visible now; this timer would never fire.
        if self.is_shutdown() {
            self.remove_timer(deadline, id);
            timer_after_shutdown();
        }
        if earliest {
            let _ = self.poller.notify();
        }
        id
    }

    /// Replaces the waker of a timer if it would not wake the same task.
    pub(crate) fn update_timer(&self, deadline: Instant, id: u64, waker: &Waker) -> bool {
        self.timers.lock().update(deadline, id, waker)
    }

    pub(crate) fn remove_timer(&self, deadline: Instant, id: u64) {
        self.timers.lock().remove(deadline, id);
    }

    /// Timers registered now (for tests: a dropped sleep leaves none).
    pub(crate) fn num_timers(&self) -> usize {
        self.timers.lock().len()
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

    /// Stops and joins the reactor thread, waking every waiter so that it
    /// sees the error. Idempotent.
    pub(crate) fn shutdown(&self) {
        if self.shutdown.swap(true, AcqRel) {
            return;
        }
        let _ = self.poller.notify();
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
        self.timers.lock().drain(&mut wakers);
        for w in wakers {
            w.wake();
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

/// A runtime's reactor, started on first use (a runtime that never touches
/// I/O or timers never starts the thread) and stopped at shutdown.
pub(crate) struct Driver {
    reactor: std::sync::OnceLock<Arc<Reactor>>,
    /// Serialises start and shutdown; true once shut down.
    init: Mutex<bool>,
    thread_name: String,
}

impl Driver {
    pub(crate) fn new(thread_name: String) -> Driver {
        Driver {
            reactor: std::sync::OnceLock::new(),
            init: Mutex::new(false),
            thread_name,
        }
    }

    /// The reactor, started now if this is the first use.
    pub(crate) fn get(&self) -> io::Result<Arc<Reactor>> {
        if let Some(r) = self.reactor.get() {
            return Ok(r.clone());
        }
        let shut = self.init.lock();
        if let Some(r) = self.reactor.get() {
            return Ok(r.clone());
        }
        if *shut {
            return Err(gone());
        }
        let r = Reactor::start(self.thread_name.clone())?;
        let _ = self.reactor.set(r.clone());
        Ok(r)
    }

    /// The reactor if it was started.
    pub(crate) fn started(&self) -> Option<&Arc<Reactor>> {
        self.reactor.get()
    }

    pub(crate) fn shutdown(&self) {
        let mut shut = self.init.lock();
        *shut = true;
        if let Some(r) = self.reactor.get() {
            r.shutdown();
        }
    }
}
