//! One registered file descriptor: its tick, readiness bits and wakers.
//!
//! This is the reactor's readiness protocol. The [`reactor`](super) module
//! docs cover what surrounds it: keys and the slab, who waits on the poller,
//! timers. The protocol is checked by the loom models in
//! `loom-tests/tests/reactor_source.rs`, on this code.
//!
//! # State
//!
//! - `tick` (an atomic): how many events were delivered to this source.
//!   Written only by [`on_event`](Source::on_event), under the lock; read
//!   without the lock before each I/O attempt.
//! - Under the `state` lock, per direction (read, write):
//!   - `ready`: an event came in this direction since the last attempt that
//!     would block at the current tick. True at registration (nothing was
//!     tried yet), so a first `readable()` is an attempt, not a wait.
//!   - `main`, `more`: the wakers of the tasks that wait through the
//!     `poll_*` path (I/O attempts, `poll_readable`), each task once.
//!   - `waiters`: `readable()` / `writable()` futures, by id. A woken waiter
//!     keeps its entry (with no waker) until it completes or is dropped.
//! - `closed` (under the lock): the reactor shut down.
//! - `drained` (an atomic per direction, no lock): `T + 1` when an attempt
//!   made at tick `T` found that direction used up without failing (a
//!   short read or write on a byte stream, rule 7); 0 at first. It means
//!   something only while the tick is still `T`.
//! - `closed` (an atomic per direction): an event reported the peer's
//!   half-close (`EPOLLRDHUP`), a hang-up or an error in that direction,
//!   or, for reads, TCP urgent data (`EPOLLPRI`). Sticky. A short read
//!   that met the end of stream leaves the next read able to return 0 at
//!   once, with no new edge to come, and a TCP read stops short at the
//!   urgent mark with in-band data queued behind it; so rule 7 stands down
//!   for a closed direction.
//!
//! # Who does what
//!
//! - **An event** (whoever waits on the poller, [`on_event`](Source::on_event)):
//!   lock; `tick += 1`; for each direction the event names, set `ready` and
//!   take every waker; unlock; then wake them, outside every lock.
//! - **An I/O attempt** (`io::async_fd::poll_io`): read the tick `T`; try
//!   the operation; on `WouldBlock` call
//!   [`poll_would_block`](Source::poll_would_block) with `T`: lock; if
//!   closed, the error; if the tick moved, an event came during the
//!   attempt: retry now; otherwise clear `ready`, register the waker and
//!   return `Pending`.
//! - **A short transfer** on a byte stream (a read or write that moved
//!   fewer bytes than asked, but more than none:
//!   [`mark_drained`](Source::mark_drained), rule 7): store `T + 1` in
//!   that direction's `drained`, with no lock. The next attempt that reads
//!   tick `T` and sees `drained == T + 1` skips the syscall and goes
//!   straight to `poll_would_block` with `T`, exactly as if it had tried
//!   and got `WouldBlock`; `poll_ready` treats the direction as not ready.
//! - **`poll_readable` / `readable()`**
//!   ([`poll_ready_main`](Source::poll_ready_main),
//!   [`poll_ready`](Source::poll_ready)): lock; if closed, the error; if
//!   `ready`, done (the caller attempts next); otherwise register and return
//!   `Pending`. A `readable()` future dropped while pending removes its
//!   entry ([`remove_waiter`](Source::remove_waiter)).
//! - **Shutdown** ([`wake_all`](Source::wake_all), once nobody waits on the
//!   poller any more, and by a registration that raced shutdown): lock; set
//!   `closed`; take every waker of both directions; wake them. Each task
//!   polls again and gets the error; later waits get it at once.
//! - **Deregistration** drops the slab's `Arc`; the source (and any waker
//!   left in it) is freed with the last one, which may be a turn of the
//!   poller that took it from the slab before. Such a late event reaches
//!   only this source and the tasks that waited on it, never a newer
//!   registration of the same descriptor or slot: that is another `Source`,
//!   under another key.
//!
//! # Why no wake-up is lost
//!
//! Events are edge-triggered: the kernel reports each transition to ready
//! after registration. Take an attempt that read tick `T` and would block,
//! and the event `E` for the next transition to ready. All changes of the
//! tick and every registration happen under the lock, so one of three holds:
//! `E` was delivered before the attempt read the tick (then the attempt saw
//! its data: it did not block, or someone else consumed that data and the
//! next transition brings another event); after the read but before the
//! lock in `poll_would_block` (the tick moved: retry); or after that lock
//! (the waker is registered, and `E` takes and wakes it). The ready bits
//! follow the same rule: only an attempt at an unchanged tick clears one,
//! so a `WouldBlock` from an attempt older than an event (a stale one) never
//! hides that event from the waiters.
//!
//! # Rule 7: a short transfer drains the direction
//!
//! A `read` on a TCP socket or a pipe that returns `0 < n < len` took
//! everything the kernel had: at that instant the receive queue was empty
//! (TCP's one exception, the urgent mark, comes with `EPOLLPRI`, which
//! closes the direction for this rule: see `closed` above).
//! Likewise a short `write` filled the send buffer. Any later transition to
//! ready is a new edge, so a new event and a new tick. So "an attempt at
//! tick `T` returned short" implies "an attempt at tick `T` would now
//! block", and the skipped attempt is the `WouldBlock` case above: the
//! proof of "Why no wake-up is lost" covers it unchanged (it only needs an
//! attempt that started after tick `T` was read; the short one did). A
//! stale mark (the tick moved since) is ignored, because it is compared
//! with the current tick. Only the byte-stream types (`TcpStream`,
//! `UnixStream`, their halves) mark, and a
//! Unix stream only its writes: a read there ends after a message that
//! carried descriptors (`SCM_RIGHTS`), or at a change of writer with
//! `SO_PASSCRED`, with data queued behind it and no edge to come
//! (`net::stream::ShortReadDrains`). A datagram socket returns one message
//! per read (always "short"), and a terminal returns one line, so a short
//! read there proves nothing. `readable()` / `writable()` honour the mark,
//! so a loop of `try_read` and `readable()` waits after a short read
//! instead of failing once more with `EAGAIN`. This is what saves hyper's
//! extra reads after each request (it reads again to look for the next
//! one).
//!
//! # Orderings
//!
//! - `tick`: `fetch_add(Release)` in `on_event` pairs with the `Acquire`
//!   load in [`tick`](Source::tick): an attempt made after seeing tick `T`
//!   sees everything that happened before event `T` was delivered. (The
//!   kernel orders the data itself; the pairing keeps the protocol from
//!   depending on that.)
//! - The `Relaxed` load in `poll_would_block` is made under the lock, and
//!   every write is made under the same lock, which orders them.
//! - `drained`: `Relaxed` both ways. It is a hint compared with a tick the
//!   reader already holds; acting on it leads to `poll_would_block`, which
//!   re-checks the tick under the lock. A lost or late mark costs one
//!   `EAGAIN` syscall, never a wake-up.
//!
//! # Several tasks in one direction
//!
//! `accept(&self)`, `recv_from(&self)` and the like may be awaited by many
//! tasks at once, all through the main slots. Each task's waker is kept
//! (`main` first, then `more`; a waker that wakes the same task as one
//! already there is not added), so one event wakes all of them; they race
//! for the data, and the losers register again at the new tick. The cost: a
//! task that waited and then went away leaves its waker here until the next
//! event in that direction or the source's drop.

use std::os::fd::RawFd;
use std::task::{Context, Poll, Waker};

use crate::loom::sync::Mutex;
use crate::loom::sync::atomic::{AtomicBool, AtomicU64, Ordering::*};

/// Read or write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    Read = 0,
    Write = 1,
}

/// The wakers and ready bit of one direction.
#[derive(Default)]
struct Wakers {
    /// The first task waiting through the `poll_*` path.
    main: Option<Waker>,
    /// Further tasks waiting through the `poll_*` path at the same time
    /// (several acceptors on one listener, say). Empty in the common case,
    /// so it costs no allocation there.
    more: Vec<Waker>,
    /// `readable()` / `writable()` futures, by id; `None` once woken.
    waiters: Vec<(u64, Option<Waker>)>,
    /// An event arrived since the last attempt that would block.
    ready: bool,
}

impl Wakers {
    /// Keeps `waker` to be woken by the next event in this direction,
    /// unless a waker kept already wakes the same task.
    fn register(&mut self, waker: &Waker) {
        match &self.main {
            None => self.main = Some(waker.clone()),
            Some(main) if main.will_wake(waker) => {}
            Some(_) => {
                // Another task waits too: keep both. (Replacing the first
                // task's waker would leave that task asleep for good.)
                if !self.more.iter().any(|w| w.will_wake(waker)) {
                    self.more.push(waker.clone());
                }
            }
        }
    }

    /// Event or shutdown: sets `ready` and moves every waker into `out`.
    fn take_all(&mut self, out: &mut Vec<Waker>) {
        self.ready = true;
        out.extend(self.main.take());
        out.append(&mut self.more);
        out.extend(self.waiters.iter_mut().filter_map(|(_, slot)| slot.take()));
    }
}

/// Everything behind the lock.
struct State {
    /// By [`Direction`].
    dirs: [Wakers; 2],
    /// The id of the next `readable()` / `writable()` waiter.
    next_waiter: u64,
    /// The reactor shut down: nothing will wake us any more.
    closed: bool,
}

/// One registration: the protocol's state for one descriptor.
pub(crate) struct Source {
    /// The key the poller reports this registration's events under.
    key: usize,
    /// The registered descriptor (owned by the `Async`, not by us).
    fd: RawFd,
    /// Events delivered so far. Written under `state`'s lock (Release),
    /// read without it (Acquire) before an I/O attempt.
    tick: AtomicU64,
    /// The ready bits, wakers and `closed`.
    state: Mutex<State>,
    /// Per direction: `T + 1` if a short transfer at tick `T` used it up
    /// (rule 7), else anything else (0 at first).
    drained: [AtomicU64; 2],
    /// Per direction: an event said the peer closed it or the socket
    /// failed, so it never blocks again and rule 7 no longer applies.
    closed: [AtomicBool; 2],
}

impl Source {
    pub(crate) fn new(key: usize, fd: RawFd) -> Source {
        let mut dirs: [Wakers; 2] = Default::default();
        // Unknown at registration: assume ready, so the first wait is an
        // attempt (the protocol tolerates a spurious "ready").
        dirs[0].ready = true;
        dirs[1].ready = true;
        Source {
            key,
            fd,
            tick: AtomicU64::new(0),
            state: Mutex::new(State {
                dirs,
                next_waiter: 0,
                closed: false,
            }),
            drained: [AtomicU64::new(0), AtomicU64::new(0)],
            closed: [AtomicBool::new(false), AtomicBool::new(false)],
        }
    }

    pub(crate) fn key(&self) -> usize {
        self.key
    }

    pub(crate) fn raw_fd(&self) -> RawFd {
        self.fd
    }

    /// The tick to pass to [`poll_would_block`](Self::poll_would_block),
    /// read before an I/O attempt.
    pub(crate) fn tick(&self) -> u64 {
        // Acquire: pairs with the Release in `on_event`, so an attempt made
        // after reading tick T sees the state that produced event T.
        self.tick.load(Acquire)
    }

    /// True if an attempt at `tick` in `dir` would block by rule 7 (a short
    /// transfer at this tick used the direction up): skip the syscall and
    /// call [`poll_would_block`](Self::poll_would_block) with `tick`.
    pub(crate) fn is_drained(&self, dir: Direction, tick: u64) -> bool {
        // Relaxed: a hint, see "Orderings". `closed` was stored before the
        // tick the caller read moved (Release/Acquire on the tick).
        self.drained[dir as usize].load(Relaxed) == tick.wrapping_add(1)
            && !self.closed[dir as usize].load(Relaxed)
    }

    /// Rule 7: an attempt made at `tick` moved fewer bytes than asked (but
    /// some) on a byte stream, so `dir` is used up until the next event.
    pub(crate) fn mark_drained(&self, dir: Direction, tick: u64) {
        // Relaxed: a hint, see "Orderings". `fetch_max`: a slower attempt
        // from an older tick does not erase a newer mark.
        self.drained[dir as usize].fetch_max(tick.wrapping_add(1), Relaxed);
    }

    /// An attempt made at `tick` returned `WouldBlock`: registers the task
    /// to be woken by the next event, or returns `Ready(Ok)` if an event
    /// already came since `tick` (retry now).
    pub(crate) fn poll_would_block(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
        tick: u64,
    ) -> Poll<std::io::Result<()>> {
        let mut state = self.state.lock();
        if state.closed {
            return Poll::Ready(Err(super::gone()));
        }
        // Relaxed: under the lock, which every write of the tick holds.
        if self.tick.load(Relaxed) != tick {
            return Poll::Ready(Ok(()));
        }
        let w = &mut state.dirs[dir as usize];
        // The attempt started after the last event and still would block:
        // the readiness that event reported is used up.
        w.ready = false;
        w.register(cx.waker());
        Poll::Pending
    }

    /// `readable()` / `writable()`: ready if an event came since the last
    /// attempt that would block; else registers waiter `id` (allocated on
    /// first call, kept across polls).
    pub(crate) fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
        id: &mut Option<u64>,
    ) -> Poll<std::io::Result<()>> {
        let mut state = self.state.lock();
        if state.closed {
            return Poll::Ready(Err(super::gone()));
        }
        // Relaxed: under the lock, which every write of the tick holds.
        let drained = self.is_drained(dir, self.tick.load(Relaxed));
        if state.dirs[dir as usize].ready && !drained {
            if let Some(id) = id.take() {
                state.dirs[dir as usize].waiters.retain(|(w, _)| *w != id);
            }
            return Poll::Ready(Ok(()));
        }
        let waiter = match *id {
            Some(w) => w,
            None => {
                let w = state.next_waiter;
                state.next_waiter += 1;
                *id = Some(w);
                w
            }
        };
        let waiters = &mut state.dirs[dir as usize].waiters;
        match waiters.iter_mut().find(|(w, _)| *w == waiter) {
            Some((_, slot)) => *slot = Some(cx.waker().clone()),
            None => waiters.push((waiter, Some(cx.waker().clone()))),
        }
        Poll::Pending
    }

    /// `poll_readable` / `poll_writable`: like `poll_ready`, keeping the
    /// waker with the direction's main wakers.
    pub(crate) fn poll_ready_main(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
    ) -> Poll<std::io::Result<()>> {
        let mut state = self.state.lock();
        if state.closed {
            return Poll::Ready(Err(super::gone()));
        }
        // Relaxed: under the lock, which every write of the tick holds.
        let drained = self.is_drained(dir, self.tick.load(Relaxed));
        let w = &mut state.dirs[dir as usize];
        if w.ready && !drained {
            return Poll::Ready(Ok(()));
        }
        w.register(cx.waker());
        Poll::Pending
    }

    /// A waiter future was dropped.
    pub(crate) fn remove_waiter(&self, dir: Direction, id: u64) {
        self.state.lock().dirs[dir as usize]
            .waiters
            .retain(|(w, _)| *w != id);
    }

    /// The reactor saw an event: bump the tick, mark the directions ready
    /// and collect their wakers.
    pub(crate) fn on_event(&self, ev: &super::epoll::Event, out: &mut Vec<Waker>) {
        let mut state = self.state.lock();
        // Before the tick moves, so that an attempt that reads the new tick
        // sees them (Relaxed: the tick's Release publishes them).
        for (dir, closed) in [
            (Direction::Read, ev.read_closed),
            (Direction::Write, ev.write_closed),
        ] {
            if closed {
                self.closed[dir as usize].store(true, Relaxed);
            }
        }
        // Release: see `tick`.
        self.tick.fetch_add(1, Release);
        let (readable, writable) = (ev.readable, ev.writable);
        for (dir, hit) in [(Direction::Read, readable), (Direction::Write, writable)] {
            if hit {
                state.dirs[dir as usize].take_all(out);
            }
        }
    }

    /// Shutdown: every waiter is woken and will see the error.
    pub(crate) fn wake_all(&self, out: &mut Vec<Waker>) {
        let mut state = self.state.lock();
        state.closed = true;
        for w in state.dirs.iter_mut() {
            w.take_all(out);
        }
    }
}

/// Test hooks for the loom models (`crate::loom_test_hooks`).
#[cfg(loom)]
impl Source {
    /// `readable()` / `writable()` waiters registered in `dir` (woken or not).
    pub(crate) fn waiters(&self, dir: Direction) -> usize {
        self.state.lock().dirs[dir as usize].waiters.len()
    }
}
