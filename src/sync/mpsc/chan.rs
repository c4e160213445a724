//! The state an `mpsc` channel's senders and receiver share, and the
//! protocol that wakes the receiver.
//!
//! # Messages and room
//!
//! Messages travel through a lock-free queue: `concurrent_queue`'s array
//! (`ConcurrentQueue::bounded`) for a bounded channel, windlass's own list
//! of recycled blocks (`list.rs`, which allocates nothing in a steady
//! state) for an unbounded one. How a `send` after the receiver's `close`
//! is refused, and how the receiver knows it has every message sent
//! before it:
//!
//! - **bounded**: room is counted apart from the queue, by a fair
//!   [`Semaphore`] with `capacity` permits. A sender takes a permit before
//!   it pushes; the receiver gives one back per message it takes. Waiting
//!   senders are served FIFO, and a dropped `send` gives its permit back
//!   (the semaphore's rule 6). Closing the channel closes the semaphore.
//!   The count is the messages *in flight*: queued, or about to be pushed
//!   by a sender that holds a permit (no `.await` lies between taking it
//!   and pushing), and the closed receiver ends only once it is zero.
//! - **unbounded**: nothing is counted; the list itself is closed
//!   (`List::close`). The list decides a push and the close on one atomic
//!   word (its tail index, `list.rs` rule 1), so each push is either
//!   before the close (the message is queued, and the receiver pops it
//!   before the list reports "closed") or after it (the push fails and
//!   the sender gets its message back). A push that claimed its place
//!   before the close but has not written yet reads as empty; it wakes
//!   the receiver after writing (rule 1 below), so the receiver waits for
//!   it rather than ending. A sender therefore writes no shared word but
//!   the list's, and `rx.state` about once per park (rule 1).
//!
//! Either way a `send` that returned `Ok` is always received (or dropped
//! with the receiver).
//!
//! # Waking the receiver
//!
//! One word, `rx.state`, holds two bits, `PARKED` and `NOTIFIED`, and a
//! mutex, `rx.waker`, holds the receiver's waker. Both sit on a cache line
//! of their own: every sender reads the word after every push.
//!
//! 1. **Send.** After pushing, a sender issues a `SeqCst` fence and loads
//!    `rx.state`. Only if it reads exactly `PARKED` (parked, not yet
//!    notified) does it write: `fetch_or(NOTIFIED)`, and if that returns
//!    exactly `PARKED`, it takes the waker under the mutex and wakes it.
//!    Any other value (the receiver has not parked since it last ran, or a
//!    sender already notified it) means no write at all.
//! 2. **Park.** A receiver that found the queue empty stores its waker
//!    under the mutex, then does `swap(PARKED)` (clearing `NOTIFIED`), then
//!    a `SeqCst` fence, then tries to pop (and to see the end, rule 3)
//!    once more before it returns `Pending`.
//! 3. **End.** The last sender's drop decrements `senders` after all its
//!    pushes, then notifies as in rule 1. A receiver that reads
//!    `senders == 0` pops once more; if that finds nothing, the channel has
//!    ended.
//!
//! Why no message is left unseen by a sleeping receiver. Take a push `P`
//! (or the last sender's decrement), the fence `Fs` after it and the load
//! `L` after that; and the receiver's last park: its swap `W`, its fence
//! `Fr` and the pop `R` after `Fr`. The two fences are in the single
//! total order of `SeqCst` operations.
//!
//! - If `Fs` comes first, `R` (after `Fr`) sees `P` (before `Fs`): the
//!   fence-to-fence rule of the C++ memory model. The receiver finds the
//!   message (or `senders == 0`) and does not sleep.
//! - If `Fr` comes first, `L` (after `Fs`) reads `W` (before `Fr`) or a
//!   later value of `rx.state`. After the last park only senders write it,
//!   and only by `fetch_or(NOTIFIED)`, so `PARKED` is set in what `L`
//!   reads. If `L` reads exactly `PARKED`, this sender does the
//!   `fetch_or`; if it reads `NOTIFIED` too, another sender did. Either
//!   way a `fetch_or` follows `W`, and the first one after `W` returns
//!   exactly `PARKED` and wakes the receiver, which then polls again: a
//!   contradiction with `W` being its last park.
//!
//! The waker stored before `W` is seen by that first sender: its
//! `fetch_or` (AcqRel) reads `W`'s value (AcqRel), and the mutex orders
//! the cell itself. The common case costs a sender one fence and one read
//! of a line that stays shared (it changes once per park); only the first
//! sender after a park writes it. `PARKED` stays set while the receiver
//! runs; the cost is at most one spurious wake per park.

use std::task::{Context, Poll, Waker};

use concurrent_queue::ConcurrentQueue;
use crossbeam_utils::CachePadded;
use event_listener::Event as Listeners;

use super::super::semaphore::{Acquire, Semaphore, TryAcquireError};
use super::super::waiters::set_waker;
use super::list::{List, PopError};
use crate::loom::sync::Mutex;
use crate::loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering::*, fence};

/// `rx.state`: the receiver stored its waker and may be sleeping.
const PARKED: usize = 0b01;
/// `rx.state`: a sender has notified since the receiver last parked.
const NOTIFIED: usize = 0b10;

/// Why room could not be taken.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum NoRoom {
    /// The bounded channel is full.
    Full,
    /// The receiver closed the channel (or is gone).
    Closed,
}

/// Where messages wait, and how the channel refuses sends once closed
/// ("Messages and room").
///
/// Both variants sit inline in the channel's one allocation (its `Arc`):
/// the bounded one is the larger (`ConcurrentQueue` pads its head and tail
/// to cache lines, and the semaphore has 128 bytes of its own), so a
/// `Chan<u64>` of either kind is 1,024 bytes (896 before the semaphore
/// was padded). Boxing the bounded variant would make an unbounded channel
/// about 512, at the cost of an allocation per bounded channel and a
/// pointer chase per bounded message.
#[allow(clippy::large_enum_variant)]
enum Queue<T> {
    /// An array of `capacity` slots; room is counted by the semaphore.
    Bounded {
        queue: ConcurrentQueue<T>,
        /// Padded: once senders wait, its lock and list are written twice
        /// per message, from two cores; next to the enum's tag and
        /// `capacity`, which every push and pop reads, it took that line
        /// along (docs/PERFORMANCE.md, "Bounded channels: a lock on one
        /// line, and no spin before a park").
        sem: CachePadded<Semaphore>,
        capacity: usize,
    },
    /// Not counted: the list itself is closed.
    Unbounded(List<T>),
}

/// Where the receiver sleeps (rules 1 and 2): read by every sender after
/// every push, written about once per park, so it has a cache line of its
/// own, apart from the words the senders and the receiver write per
/// message (the queue's, the semaphore's).
struct RxPark {
    /// `PARKED | NOTIFIED`.
    state: AtomicUsize,
    /// The receiver's waker, stored by rule 2 and taken by rule 1.
    waker: Mutex<Option<Waker>>,
}

/// Shared by every sender and the receiver (in an `Arc`).
pub(super) struct Chan<T> {
    queue: Queue<T>,
    /// Senders alive; the channel ends for the receiver at 0 (rule 3).
    senders: AtomicUsize,
    /// Rules 1 and 2.
    rx: CachePadded<RxPark>,
    /// Set once when the receiver closes the channel or is dropped.
    rx_closed: AtomicBool,
    /// Senders waiting in `closed()`.
    closed_listeners: Listeners,
}

impl<T> Chan<T> {
    /// A channel with one sender; bounded to `capacity` messages if some.
    pub(super) fn new(capacity: Option<usize>) -> Chan<T> {
        let queue = match capacity {
            Some(capacity) => Queue::Bounded {
                queue: ConcurrentQueue::bounded(capacity),
                sem: CachePadded::new(Semaphore::new(capacity)),
                capacity,
            },
            None => Queue::Unbounded(List::new()),
        };
        Chan {
            queue,
            senders: AtomicUsize::new(1),
            rx: CachePadded::new(RxPark {
                state: AtomicUsize::new(0),
                waker: Mutex::new(None),
            }),
            rx_closed: AtomicBool::new(false),
            closed_listeners: Listeners::new(),
        }
    }

    /// Bounded: takes room for one message now, or says why not.
    pub(super) fn try_reserve(&self) -> Result<(), NoRoom> {
        let sem = self.semaphore();
        sem.try_take(1).map_err(|e| match e {
            TryAcquireError::NoPermits => NoRoom::Full,
            TryAcquireError::Closed => NoRoom::Closed,
        })
    }

    /// Bounded: waits for room for one message; `Err` once closed.
    pub(super) async fn reserve(&self) -> Result<(), NoRoom> {
        Acquire::new(self.semaphore(), 1)
            .await
            .map_err(|_| NoRoom::Closed)
    }

    /// The bounded channel's room.
    fn semaphore(&self) -> &Semaphore {
        match &self.queue {
            Queue::Bounded { sem, .. } => sem,
            Queue::Unbounded(_) => unreachable!("mpsc: an unbounded channel counts no room"),
        }
    }

    /// Bounded: pushes a message for which room was reserved, then wakes
    /// the receiver (rule 1).
    pub(super) fn push(&self, value: T) {
        let Queue::Bounded { queue, .. } = &self.queue else {
            unreachable!("mpsc: an unbounded channel reserves no room");
        };
        if queue.push(value).is_err() {
            unreachable!("mpsc: room was reserved, so the queue has space");
        }
        self.notify_rx();
    }

    /// Unbounded: pushes `value` unless the list is closed, then wakes the
    /// receiver (rule 1); hands `value` back if closed.
    pub(super) fn push_unbounded(&self, value: T) -> Result<(), T> {
        let Queue::Unbounded(list) = &self.queue else {
            unreachable!("mpsc: a bounded channel pushes after reserving room");
        };
        list.push(value)?;
        self.notify_rx();
        Ok(())
    }

    /// Rule 1.
    #[inline]
    fn notify_rx(&self) {
        // SeqCst: orders the push (or the decrement of rule 3) before the
        // load below against the receiver's fence after its swap (rule 2):
        // one of the two sides sees the other ("Why no message is left
        // unseen").
        fence(SeqCst);
        // Relaxed: the fence above orders it; a stale value other than
        // PARKED is covered by the proof, and PARKED leads to the RMW.
        if self.rx.state.load(Relaxed) == PARKED {
            self.notify_rx_parked();
        }
    }

    /// Rule 1, the receiver looked parked: the first sender to set
    /// `NOTIFIED` since the park wakes it.
    #[cold]
    fn notify_rx_parked(&self) {
        // AcqRel: Acquire pairs with the receiver's swap, so the waker
        // stored before it is seen under the mutex; Release keeps this
        // RMW in the release sequence the next swap reads.
        if self.rx.state.fetch_or(NOTIFIED, AcqRel) == PARKED {
            let waker = self.rx.waker.lock().take();
            if let Some(waker) = waker {
                waker.wake();
            }
        }
    }

    /// Takes the next message (giving its room back if bounded); `Empty`
    /// if none is queued, `Closed` if none is queued and the (unbounded)
    /// list was closed.
    ///
    /// # Safety
    ///
    /// Only the receiver calls this (the list's single consumer): calls
    /// never overlap, each happening before the next.
    unsafe fn pop(&self) -> Result<T, PopError> {
        match &self.queue {
            Queue::Bounded { queue, sem, .. } => {
                // Never closed: the semaphore is.
                let value = queue.pop().map_err(|_| PopError::Empty)?;
                sem.release(1);
                Ok(value)
            }
            // SAFETY: the caller's.
            Queue::Unbounded(list) => unsafe { list.pop() },
        }
    }

    /// `Some` if the channel has ended (`Ready(None)`) or a last message
    /// turned up while checking (rule 3); `None` to keep waiting.
    ///
    /// # Safety
    ///
    /// As for [`pop`](Self::pop).
    unsafe fn check_end(&self) -> Option<Poll<Option<T>>> {
        // Acquire: pairs with the last sender's AcqRel decrement, so its
        // pushes are visible to the pop below.
        if self.senders.load(Acquire) == 0 {
            // SAFETY: the caller's.
            return Some(Poll::Ready(unsafe { self.pop() }.ok()));
        }
        if !self.rx_closed.load(Relaxed) {
            return None;
        }
        match &self.queue {
            // Every permit back: nothing is queued or about to be.
            Queue::Bounded { sem, capacity, .. } => {
                (sem.available_permits() == *capacity).then_some(Poll::Ready(None))
            }
            // The list was closed with the channel: a push that beat the
            // close is popped; one that has not written yet reads as empty
            // and wakes the receiver when it has (keep waiting); then the
            // list reports closed.
            // SAFETY: the caller's.
            Queue::Unbounded(_) => match unsafe { self.pop() } {
                Ok(value) => Some(Poll::Ready(Some(value))),
                Err(PopError::Closed) => Some(Poll::Ready(None)),
                Err(PopError::Empty) => None,
            },
        }
    }

    /// The receiver's poll: a message, the end (`None`), or `Pending` with
    /// `cx`'s waker parked (rule 2).
    ///
    /// # Safety
    ///
    /// Only the receiver calls this, as for [`pop`](Self::pop).
    pub(super) unsafe fn poll_recv(&self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        // SAFETY: the caller's (this call and the three below).
        if let Ok(value) = unsafe { self.pop() } {
            return Poll::Ready(Some(value));
        }
        // SAFETY: as above.
        if let Some(end) = unsafe { self.check_end() } {
            return end;
        }
        set_waker(&mut self.rx.waker.lock(), cx.waker());
        // AcqRel: Acquire reads the release sequence of every earlier
        // notifying RMW, so their pushes are visible; Release publishes
        // the stored waker to the next notifier's fetch_or (rule 1).
        self.rx.state.swap(PARKED, AcqRel);
        // SeqCst: pairs with the senders' fence before their load (rule
        // 1): either they see PARKED, or the pop below sees their push.
        fence(SeqCst);
        // SAFETY: as above.
        if let Ok(value) = unsafe { self.pop() } {
            return Poll::Ready(Some(value));
        }
        // SAFETY: as above.
        unsafe { self.check_end() }.unwrap_or(Poll::Pending)
    }

    /// Takes the next message without waiting: `Ok(None)` if none is
    /// queued, `Err(())` if the channel has ended.
    ///
    /// # Safety
    ///
    /// Only the receiver calls this, as for [`pop`](Self::pop).
    pub(super) unsafe fn try_recv(&self) -> Result<Option<T>, ()> {
        // SAFETY: the caller's (both calls).
        if let Ok(value) = unsafe { self.pop() } {
            return Ok(Some(value));
        }
        // SAFETY: as above.
        match unsafe { self.check_end() } {
            Some(Poll::Ready(Some(value))) => Ok(Some(value)),
            Some(_) => Err(()),
            None => Ok(None),
        }
    }

    /// The receiver closes the channel: room can no longer be taken, and
    /// senders waiting for room or in `closed()` are woken.
    pub(super) fn close(&self) {
        if self.rx_closed.swap(true, AcqRel) {
            return;
        }
        match &self.queue {
            Queue::Bounded { sem, .. } => sem.close(),
            Queue::Unbounded(list) => list.close(),
        }
        self.closed_listeners.notify(usize::MAX);
    }

    /// The receiver is dropped: close, then drop the queued messages.
    ///
    /// # Safety
    ///
    /// Only the receiver calls this, as for [`pop`](Self::pop).
    pub(super) unsafe fn close_and_drain(&self) {
        self.close();
        // SAFETY: the caller's.
        while unsafe { self.pop() }.is_ok() {}
    }

    /// True once the receiver closed the channel or is gone.
    pub(super) fn is_rx_closed(&self) -> bool {
        self.rx_closed.load(Acquire)
    }

    /// True once no message can arrive any more: every sender is gone, or
    /// the receiver closed the channel.
    pub(super) fn is_closed(&self) -> bool {
        self.senders.load(Acquire) == 0 || self.is_rx_closed()
    }

    /// Waits until the receiver closes the channel or is dropped.
    pub(super) async fn closed(&self) {
        loop {
            if self.is_rx_closed() {
                return;
            }
            let listener = self.closed_listeners.listen();
            if self.is_rx_closed() {
                return;
            }
            crate::sync::listener::wait(listener).await;
        }
    }

    /// A new sender.
    pub(super) fn add_sender(&self) {
        self.senders.fetch_add(1, Relaxed);
    }

    /// A sender is dropped; the last one ends the channel (rule 3).
    pub(super) fn drop_sender(&self) {
        // AcqRel: Release publishes this sender's pushes to the receiver's
        // Acquire load in `check_end`.
        if self.senders.fetch_sub(1, AcqRel) == 1 {
            self.notify_rx();
        }
    }

    /// Messages queued now.
    pub(super) fn len(&self) -> usize {
        match &self.queue {
            Queue::Bounded { queue, .. } => queue.len(),
            Queue::Unbounded(list) => list.len(),
        }
    }

    /// `(free room, capacity)` of a bounded channel.
    pub(super) fn bounded_room(&self) -> Option<(usize, usize)> {
        match &self.queue {
            Queue::Bounded { sem, capacity, .. } => Some((sem.available_permits(), *capacity)),
            Queue::Unbounded(_) => None,
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::AtomicUsize as Count;

    /// The bounded channel's semaphore has 128 bytes to itself. Inline
    /// next to the enum's tag and `capacity` (read by every push and pop),
    /// its lock and list, written twice per message once senders wait,
    /// took that line with them; padding the semaphore alone cut
    /// fan_in_bounded to 0.80 of its time (docs/PERFORMANCE.md, "Bounded
    /// channels: a lock on one line, and no spin before a park").
    #[test]
    fn the_bounded_semaphore_shares_no_line() {
        let chan: Chan<u64> = Chan::new(Some(4));
        let Queue::Bounded {
            queue,
            sem,
            capacity,
        } = &chan.queue
        else {
            unreachable!()
        };
        let sem_at = &**sem as *const Semaphore as usize;
        assert_eq!(sem_at % 128, 0, "the semaphore starts a 128-byte block");
        let block = sem_at..sem_at + 128;
        let fields: [(&str, usize, usize); 5] = [
            (
                "the tag and queue",
                queue as *const _ as usize,
                size_of_val(queue),
            ),
            (
                "capacity",
                capacity as *const _ as usize,
                size_of_val(capacity),
            ),
            ("rx", &chan.rx as *const _ as usize, size_of_val(&chan.rx)),
            ("senders", &chan.senders as *const _ as usize, 8),
            ("rx_closed", &chan.rx_closed as *const _ as usize, 1),
        ];
        for (name, at, len) in fields {
            let overlaps = at < block.end && block.start < at + len;
            assert!(!overlaps, "{name} shares the semaphore's block");
        }
        // Nor does the enum's tag: every byte of the block is the padded
        // semaphore's.
        assert_eq!(size_of_val(sem), 128);
    }

    /// Counts its wakes.
    struct Wakes(Count);

    impl std::task::Wake for Wakes {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, SeqCst);
        }
    }

    /// The receiver's poll; this test is the only receiver.
    fn poll<T>(chan: &Chan<T>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        // SAFETY: one thread, the test's, receives.
        unsafe { chan.poll_recv(cx) }
    }

    fn state<T>(chan: &Chan<T>) -> usize {
        chan.rx.state.load(SeqCst)
    }

    /// Rule 1: a sender writes `rx.state` only when it reads exactly
    /// `PARKED`, so a receiver that is running (not parked) or already
    /// notified costs the senders a read, never a write of the shared
    /// line, and it is woken once per park, whatever the number of sends.
    #[test]
    fn senders_write_the_receiver_word_once_per_park() {
        for chan in [Chan::new(None), Chan::new(Some(64))] {
            let send = |v: u32| match chan.queue {
                Queue::Unbounded(_) => chan.push_unbounded(v).unwrap(),
                Queue::Bounded { .. } => {
                    chan.try_reserve().unwrap();
                    chan.push(v);
                }
            };
            // Never parked: sends leave the word as it was.
            for v in 0..3 {
                send(v);
            }
            assert_eq!(
                state(&chan),
                0,
                "a send wrote the word of a running receiver"
            );
            let wakes = Arc::new(Wakes(Count::new(0)));
            let waker = std::task::Waker::from(wakes.clone());
            let mut cx = Context::from_waker(&waker);
            for v in 0..3 {
                assert_eq!(poll(&chan, &mut cx), Poll::Ready(Some(v)));
            }
            // Parked: the first send notifies and wakes, the next ones only
            // read.
            assert_eq!(poll(&chan, &mut cx), Poll::Pending);
            assert_eq!(state(&chan), PARKED);
            for v in 10..20 {
                send(v);
            }
            assert_eq!(state(&chan), PARKED | NOTIFIED);
            assert_eq!(wakes.0.load(SeqCst), 1, "one wake per park");
            // Parked again after draining: one more wake.
            for v in 10..20 {
                assert_eq!(poll(&chan, &mut cx), Poll::Ready(Some(v)));
            }
            assert_eq!(poll(&chan, &mut cx), Poll::Pending);
            send(30);
            send(31);
            assert_eq!(wakes.0.load(SeqCst), 2, "one wake per park");
        }
    }
}
