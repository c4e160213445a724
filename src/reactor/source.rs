//! One registered file descriptor: its tick, readiness bits and wakers.
//! The protocol is in the [`reactor`](super) module docs ("Readiness").

use std::os::fd::RawFd;
use std::sync::atomic::{AtomicU64, Ordering::*};
use std::task::{Context, Poll, Waker};

use parking_lot::Mutex;

/// Read or write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    Read = 0,
    Write = 1,
}

#[derive(Default)]
struct Wakers {
    /// The task using the `poll_*` path (one reader, one writer at a time).
    main: Option<Waker>,
    /// `readable()` / `writable()` futures, by id; `None` once woken.
    waiters: Vec<(u64, Option<Waker>)>,
    /// An event arrived since the last attempt that would block.
    ready: bool,
}

struct State {
    dirs: [Wakers; 2],
    next_waiter: u64,
    /// The reactor shut down: nothing will wake us any more.
    closed: bool,
}

pub(crate) struct Source {
    key: usize,
    fd: RawFd,
    /// Events delivered so far. Written under `state`'s lock (Release),
    /// read without it (Acquire) before an I/O attempt.
    tick: AtomicU64,
    state: Mutex<State>,
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
        if self.tick.load(Relaxed) != tick {
            return Poll::Ready(Ok(()));
        }
        let w = &mut state.dirs[dir as usize];
        w.ready = false;
        match &mut w.main {
            Some(existing) if existing.will_wake(cx.waker()) => {}
            slot => *slot = Some(cx.waker().clone()),
        }
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
        if state.dirs[dir as usize].ready {
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
    /// waker in the direction's main slot.
    pub(crate) fn poll_ready_main(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
    ) -> Poll<std::io::Result<()>> {
        let mut state = self.state.lock();
        if state.closed {
            return Poll::Ready(Err(super::gone()));
        }
        let w = &mut state.dirs[dir as usize];
        if w.ready {
            return Poll::Ready(Ok(()));
        }
        match &mut w.main {
            Some(existing) if existing.will_wake(cx.waker()) => {}
            slot => *slot = Some(cx.waker().clone()),
        }
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
    pub(crate) fn on_event(&self, readable: bool, writable: bool, out: &mut Vec<Waker>) {
        let mut state = self.state.lock();
        // Release: see `tick`.
        self.tick.fetch_add(1, Release);
        for (dir, hit) in [(Direction::Read, readable), (Direction::Write, writable)] {
            if hit {
                take_wakers(&mut state.dirs[dir as usize], out);
            }
        }
    }

    /// Shutdown: every waiter is woken and will see the error.
    pub(crate) fn wake_all(&self, out: &mut Vec<Waker>) {
        let mut state = self.state.lock();
        state.closed = true;
        for w in state.dirs.iter_mut() {
            take_wakers(w, out);
        }
    }
}

fn take_wakers(w: &mut Wakers, out: &mut Vec<Waker>) {
    w.ready = true;
    out.extend(w.main.take());
    out.extend(w.waiters.iter_mut().filter_map(|(_, slot)| slot.take()));
}
