//! The poller: Linux `epoll`, driven directly so that a wait is one
//! `epoll_wait` in the common case.
//!
//! A general-purpose poller wrapper re-arms its timer and its wake-up
//! descriptor around every wait (five syscalls per wait). Here:
//!
//! 1. **Sources** are registered once, edge-triggered, for both directions
//!    and for the peer's half-close (`EPOLLRDHUP`), which the readiness
//!    protocol needs (a short read that met the end of stream does not mean
//!    the next read blocks: `source.rs`, rule 7).
//! 2. **Wake-ups** ([`notify`](Poller::notify)) write to an `eventfd`
//!    registered edge-triggered: every write is a new edge, so the counter
//!    is never read back (no syscall after the wait). A flag makes the
//!    notifications between two waits cost one write: it is set by the
//!    write and reset only by a wait that *returned that edge*. So while
//!    the flag is set an edge is pending, and the next wait ends at once;
//!    a notification that finds the flag set needs no write of its own.
//!    (Resetting the flag before every wait instead loses a wake-up: a
//!    notification after one wait returned, finding the flag still set
//!    from an edge that wait consumed, would write nothing, and the next
//!    wait would block. A notification that finds the flag set between the
//!    wait's return and its reset is harmless: it came before the caller's
//!    re-checks, which see what it announced through the flag's AcqRel.)
//! 3. **The timer** is a `timerfd`, also edge-triggered, set only when the
//!    earliest deadline differs from the one it is set to ([`Events::armed`]):
//!    a wait with the same next timer as the last one costs no timer
//!    syscall. It keeps nanosecond precision (`epoll_wait` counts in
//!    milliseconds).
//!
//! The two internal descriptors use keys that no source key reaches (a
//! source key packs a slot index below 2^32 - 2 in practice).

use crate::loom::std::sync::atomic::{AtomicBool, Ordering::*};
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::{Duration, Instant};

use rustix::event::epoll::{self, CreateFlags, EventData, EventFlags};
use rustix::event::{EventfdFlags, eventfd};
use rustix::time::{
    Itimerspec, TimerfdClockId, TimerfdFlags, TimerfdTimerFlags, Timespec, timerfd_create,
    timerfd_settime,
};

/// The key of the wake-up `eventfd`.
const NOTIFY_KEY: u64 = u64::MAX;
/// The key of the `timerfd`.
const TIMER_KEY: u64 = u64::MAX - 1;

/// One readiness event of a source.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Event {
    pub(crate) key: usize,
    pub(crate) readable: bool,
    pub(crate) writable: bool,
    /// The peer closed its write side, or the socket failed: reads will
    /// not block any more. Also set for TCP urgent data (`EPOLLPRI`): a
    /// read stops short at the urgent mark with in-band data still queued
    /// behind it, so a short read no longer proves the queue empty and rule
    /// 7 of `source.rs` must stand down for reads (sticky, like a close).
    pub(crate) read_closed: bool,
    /// The connection hung up or failed: writes will not block any more.
    pub(crate) write_closed: bool,
}

/// The event buffer of a wait, and the deadline the timer is set to.
pub(crate) struct Events {
    list: Vec<epoll::Event>,
    /// The deadline the `timerfd` is set to, if any (rule 3).
    armed: Option<Instant>,
}

// SAFETY: `epoll::Event` is not `Send` only because its data field may
// hold a pointer. Ours only ever hold `u64` keys (`EventData::new_u64`),
// which are plain integers, so moving the buffer to another thread is fine.
unsafe impl Send for Events {}

impl Default for Events {
    fn default() -> Events {
        Events {
            list: Vec::with_capacity(1024),
            armed: None,
        }
    }
}

impl Events {
    /// The source events of the last wait (the internal ones left out).
    pub(crate) fn iter(&self) -> impl Iterator<Item = Event> + '_ {
        self.list.iter().filter_map(|ev| {
            let key = ev.data.u64();
            if key == NOTIFY_KEY || key == TIMER_KEY {
                return None;
            }
            let f = ev.flags;
            let err_hup = f.intersects(EventFlags::ERR | EventFlags::HUP);
            Some(Event {
                key: key as usize,
                readable: f.intersects(EventFlags::IN | EventFlags::PRI | EventFlags::RDHUP)
                    || err_hup,
                writable: f.contains(EventFlags::OUT) || err_hup,
                read_closed: f.intersects(EventFlags::RDHUP | EventFlags::PRI) || err_hup,
                write_closed: err_hup,
            })
        })
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

pub(crate) struct Poller {
    epoll: OwnedFd,
    notify_fd: OwnedFd,
    timer_fd: OwnedFd,
    /// A notification was written since the last wait began (rule 2).
    notified: AtomicBool,
}

impl Poller {
    pub(crate) fn new() -> io::Result<Poller> {
        let epoll = epoll::create(CreateFlags::CLOEXEC)?;
        let notify_fd = eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)?;
        let timer_fd = timerfd_create(
            TimerfdClockId::Monotonic,
            TimerfdFlags::CLOEXEC | TimerfdFlags::NONBLOCK,
        )?;
        let edge_in = EventFlags::IN | EventFlags::ET;
        epoll::add(&epoll, &notify_fd, EventData::new_u64(NOTIFY_KEY), edge_in)?;
        epoll::add(&epoll, &timer_fd, EventData::new_u64(TIMER_KEY), edge_in)?;
        Ok(Poller {
            epoll,
            notify_fd,
            timer_fd,
            notified: AtomicBool::new(false),
        })
    }

    /// Registers `fd` under `key`, edge-triggered, both directions (rule
    /// 1). The caller must [`delete`](Self::delete) it before closing it.
    pub(crate) fn add(&self, fd: BorrowedFd<'_>, key: usize) -> io::Result<()> {
        let flags =
            EventFlags::IN | EventFlags::OUT | EventFlags::RDHUP | EventFlags::PRI | EventFlags::ET;
        epoll::add(&self.epoll, fd, EventData::new_u64(key as u64), flags)?;
        Ok(())
    }

    pub(crate) fn delete(&self, fd: BorrowedFd<'_>) -> io::Result<()> {
        epoll::delete(&self.epoll, fd)?;
        Ok(())
    }

    /// Waits for events until `deadline` (the earliest timer) or for at
    /// most `max` (`Some(ZERO)`: just look), or a notification.
    pub(crate) fn wait(
        &self,
        events: &mut Events,
        deadline: Option<Instant>,
        max: Option<Duration>,
    ) -> io::Result<()> {
        events.list.clear();
        let mut timeout = max.map(to_timespec);
        if max != Some(Duration::ZERO) {
            if let Some(d) = deadline {
                let now = Instant::now();
                if d <= now {
                    timeout = Some(Timespec::default());
                } else if events.armed != Some(d) {
                    self.arm(d - now)?;
                    events.armed = Some(d);
                }
            }
        }
        let res = epoll::wait(
            &self.epoll,
            rustix::buffer::spare_capacity(&mut events.list),
            timeout.as_ref(),
        );
        // Rule 2: this wait consumed the wake-up edge, so the next
        // notification must write again. AcqRel: pairs with `notify`'s
        // swap (its announcement is visible to the caller's re-checks).
        if events.list.iter().any(|ev| ev.data.u64() == NOTIFY_KEY) {
            self.notified.swap(false, AcqRel);
        }
        if events.armed.is_some_and(|a| a <= Instant::now()) {
            events.armed = None; // fired: a one-shot timer is disarmed
        }
        res?;
        Ok(())
    }

    fn arm(&self, after: Duration) -> io::Result<()> {
        let spec = Itimerspec {
            it_interval: Timespec::default(),
            it_value: to_timespec(after.max(Duration::from_nanos(1))),
        };
        timerfd_settime(&self.timer_fd, TimerfdTimerFlags::empty(), &spec)?;
        Ok(())
    }

    /// Ends the wait in progress, or the next one (rule 2).
    pub(crate) fn notify(&self) {
        // AcqRel: pairs with the reset in `wait`.
        if self.notified.swap(true, AcqRel) {
            return; // an edge is pending: the next wait ends at once
        }
        let one = 1u64.to_ne_bytes();
        if let Err(rustix::io::Errno::AGAIN) = rustix::io::write(&self.notify_fd, &one) {
            // The counter is full (after 2^64 - 2 writes): empty it, write again.
            let _ = rustix::io::read(&self.notify_fd, &mut [0u8; 8]);
            let _ = rustix::io::write(&self.notify_fd, &one);
        }
    }
}

impl AsFd for Poller {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.epoll.as_fd()
    }
}

fn to_timespec(d: Duration) -> Timespec {
    Timespec {
        tv_sec: d.as_secs().min(i64::MAX as u64) as _,
        tv_nsec: d.subsec_nanos() as _,
    }
}

#[cfg(all(test, not(miri), not(loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// True if the last wait returned the wake-up edge.
    fn woken(events: &Events) -> bool {
        events.list.iter().any(|ev| ev.data.u64() == NOTIFY_KEY)
    }

    /// Rule 2's lost wake-up: a notification ends a wait, and a second one,
    /// made after that wait returned, must end the next wait too. With the
    /// flag reset before each wait (the earlier rule), the second found it
    /// still set and wrote nothing, and the next wait slept to its limit.
    /// A wait that a signal interrupts (EINTR: the process tests in the
    /// same binary make children, so SIGCHLD arrives at any thread) is
    /// waited again, as the reactor's own loop does; any other error fails.
    fn wait_past_signals(p: &Poller, events: &mut Events, limit: Option<Duration>) {
        loop {
            match p.wait(events, None, limit) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                other => return other.unwrap(),
            }
        }
    }

    #[test]
    fn a_notification_after_a_woken_wait_ends_the_next_wait() {
        let poller = Arc::new(Poller::new().unwrap());
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let (again_tx, again_rx) = std::sync::mpsc::channel::<()>();
        let (returned_tx, returned_rx) = std::sync::mpsc::channel::<()>();
        let p = poller.clone();
        let waiter = std::thread::spawn(move || {
            let mut events = Events::default();
            started_tx.send(()).unwrap();
            wait_past_signals(&p, &mut events, None);
            assert!(
                woken(&events),
                "only a notification ends a wait with no limit"
            );
            returned_tx.send(()).unwrap();
            again_rx.recv().unwrap();
            let start = Instant::now();
            wait_past_signals(&p, &mut events, Some(Duration::from_secs(10)));
            (woken(&events), start.elapsed())
        });
        started_rx.recv().unwrap();
        // Not for correctness (the assertions hold in any interleaving):
        // it lets the waiter block in `epoll_wait` first, the order in
        // which the earlier rule lost the second notification.
        std::thread::sleep(Duration::from_millis(50));
        poller.notify();
        returned_rx.recv().unwrap();
        poller.notify(); // after the waiter's first wait, before its next
        again_tx.send(()).unwrap();
        let (woken_again, took) = waiter.join().unwrap();
        assert!(
            woken_again,
            "the second notification was lost (waited {took:?})"
        );
    }

    /// The cheap path stays: notifications between two waits write once,
    /// and the flag tells the truth (set exactly while an edge is pending).
    #[test]
    fn notifications_between_waits_cost_one_edge() {
        let poller = Poller::new().unwrap();
        let mut events = Events::default();
        poller.notify();
        poller.notify();
        assert!(poller.notified.load(SeqCst));
        poller
            .wait(&mut events, None, Some(Duration::ZERO))
            .unwrap();
        assert!(woken(&events));
        assert!(!poller.notified.load(SeqCst), "the wait took the edge");
        poller
            .wait(&mut events, None, Some(Duration::ZERO))
            .unwrap();
        assert!(!woken(&events), "one edge for the two notifications");
    }
}
