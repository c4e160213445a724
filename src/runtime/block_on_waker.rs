//! The waker of a multi-thread `block_on`: it parks the calling thread
//! between polls and keeps the thread's unit of the clock's activity (see
//! `reactor/activity.rs`, rules 2 and 3), so that a paused clock never
//! jumps while a woken `block_on` future waits for its poll.

use crate::loom::std::sync::Arc as StdArc;
use std::task::{Wake, Waker};

use crate::loom::sync::atomic::{AtomicBool, Ordering::SeqCst};
use crate::reactor::activity::Presence;
use crate::reactor::clock::Clock;
use crate::runtime::park::Parker;

/// Shared by the `block_on` thread and its wakers.
pub(crate) struct BlockOnSignal {
    /// Set by every wake, cleared before every poll.
    woken: AtomicBool,
    /// Where the `block_on` thread sleeps.
    parker: Parker,
    /// The thread's unit (held while polling or woken).
    presence: Presence,
    clock: StdArc<Clock>,
}

impl BlockOnSignal {
    /// A signal for the calling thread, which now holds a unit, and its
    /// waker.
    pub(crate) fn new(clock: StdArc<Clock>) -> (StdArc<BlockOnSignal>, Waker) {
        let signal = StdArc::new(BlockOnSignal {
            woken: AtomicBool::new(false),
            parker: Parker::new(),
            presence: Presence::entered(&clock.activity),
            clock,
        });
        let waker = Waker::from(signal.clone());
        (signal, waker)
    }

    /// Before each poll: wakes from now on are for the next poll.
    pub(crate) fn before_poll(&self) {
        // SeqCst: ordered with the wakers' stores (a wake during the poll
        // sets it again and `park` then returns at once).
        self.woken.store(false, SeqCst);
    }

    /// After a poll that returned `Pending`: sleeps until woken, giving up
    /// the thread's unit meanwhile.
    pub(crate) fn park(&self) {
        let activity = &self.clock.activity;
        // SeqCst load: the re-check of `Presence::before_park`.
        if self
            .presence
            .before_park(activity, || self.woken.load(SeqCst))
        {
            self.parker.park();
            self.presence.after_park(activity);
        }
    }
}

/// Gives up the `block_on` thread's unit when dropped (the `block_on`
/// returned or unwound); wakers that outlive it enter nothing.
pub(crate) struct ExitGuard<'a>(pub(crate) &'a BlockOnSignal);

impl Drop for ExitGuard<'_> {
    fn drop(&mut self) {
        self.0.presence.exit(&self.0.clock.activity);
    }
}

impl Wake for BlockOnSignal {
    fn wake(self: StdArc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &StdArc<Self>) {
        // Before the presence's RMW, which releases it to
        // `Presence::before_park`'s swap and re-check (rule 3's hand-off).
        self.woken.store(true, SeqCst);
        self.presence.wake(&self.clock.activity);
        self.parker.unpark();
    }
}
