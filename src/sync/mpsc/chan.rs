//! The state an `mpsc` channel's senders and receiver share, and the
//! protocol that wakes the receiver.
//!
//! # Messages and room
//!
//! Messages travel through a lock-free `concurrent_queue::ConcurrentQueue`
//! (an array for a bounded channel, linked blocks for an unbounded one).
//! *Room* is counted apart from the queue:
//!
//! - **bounded**: a fair [`Semaphore`] with `capacity` permits. A sender
//!   takes a permit before it pushes; the receiver gives one back per
//!   message it takes. Waiting senders are served FIFO, and a dropped
//!   `send` gives its permit back (the semaphore's rule 6). Closing the
//!   channel closes the semaphore.
//! - **unbounded**: a word `messages << 1 | CLOSED`. A sender adds one
//!   message and then looks at `CLOSED`: if set, it takes the message back
//!   and wakes the receiver (which may be waiting for the count to drop).
//!   The receiver subtracts one per message it takes.
//!
//! Either way the count is the messages *in flight*: queued, or about to be
//! pushed by a sender that already counted it (no `.await` lies between
//! counting and pushing). After the receiver closes the channel, nothing
//! new is counted, and the receiver ends only once the count is zero; so a
//! `send` that returned `Ok` is always received (or dropped with the
//! receiver).
//!
//! # Waking the receiver
//!
//! One word, `rx_state`, holds two bits, `PARKED` and `NOTIFIED`, and a
//! mutex holds the receiver's waker.
//!
//! 1. **Send.** After pushing, a sender does `fetch_or(NOTIFIED)`. If the
//!    previous value was exactly `PARKED` (parked, not yet notified), it
//!    takes the waker under the mutex and wakes it.
//! 2. **Park.** A receiver that found the queue empty stores its waker
//!    under the mutex, then does `swap(PARKED)` (clearing `NOTIFIED`), then
//!    tries to pop once more before it returns `Pending`.
//! 3. **End.** The last sender's drop decrements `senders` after all its
//!    pushes, then notifies as in rule 1. A receiver that reads
//!    `senders == 0` pops once more; if that finds nothing, the channel has
//!    ended.
//!
//! Rules 1 and 2 are read-modify-writes of one word, so they are totally
//! ordered. A sender whose `fetch_or` comes before the receiver's `swap`
//! pushed before it, and the `swap` (AcqRel) makes that push visible to the
//! pop that follows it. A sender whose `fetch_or` comes after sees
//! `PARKED`; the first such sender sees `NOTIFIED` clear and wakes the
//! receiver, later ones see it set and skip the wake, which is safe
//! because the woken receiver pops until the queue is empty before it
//! parks again (and parking clears `NOTIFIED`). The waker stored under the
//! mutex before the `swap` is visible to the sender that locks the mutex
//! after seeing `PARKED`. So no message is left unseen by a sleeping
//! receiver. `PARKED` stays set while the receiver runs; the cost is at
//! most one spurious wake per park.

use std::task::{Context, Poll, Waker};

use concurrent_queue::ConcurrentQueue;
use event_listener::Event as Listeners;

use super::super::semaphore::{Acquire, Semaphore, TryAcquireError};
use super::super::waiters::set_waker;
use crate::loom::sync::Mutex;
use crate::loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering::*};

/// `rx_state`: the receiver stored its waker and may be sleeping.
const PARKED: usize = 0b01;
/// `rx_state`: a sender has notified since the receiver last parked.
const NOTIFIED: usize = 0b10;

/// Unbounded room word: the receiver closed the channel.
const CLOSED: usize = 1;
/// Unbounded room word: one message in flight.
const MESSAGE: usize = 2;

/// Why room could not be taken.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum NoRoom {
    /// The bounded channel is full.
    Full,
    /// The receiver closed the channel (or is gone).
    Closed,
}

/// How the channel counts messages in flight.
enum Room {
    Bounded {
        sem: Semaphore,
        capacity: usize,
    },
    Unbounded {
        /// `messages << 1 | CLOSED`.
        state: AtomicUsize,
    },
}

/// Shared by every sender and the receiver (in an `Arc`).
pub(super) struct Chan<T> {
    queue: ConcurrentQueue<T>,
    room: Room,
    /// Senders alive; the channel ends for the receiver at 0 (rule 3).
    senders: AtomicUsize,
    /// `PARKED | NOTIFIED` (rules 1 and 2).
    rx_state: AtomicUsize,
    /// The receiver's waker, stored by rule 2 and taken by rule 1.
    rx_waker: Mutex<Option<Waker>>,
    /// Set once when the receiver closes the channel or is dropped.
    rx_closed: AtomicBool,
    /// Senders waiting in `closed()`.
    closed_listeners: Listeners,
}

impl<T> Chan<T> {
    /// A channel with one sender; bounded to `capacity` messages if some.
    pub(super) fn new(capacity: Option<usize>) -> Chan<T> {
        let (queue, room) = match capacity {
            Some(capacity) => (
                ConcurrentQueue::bounded(capacity),
                Room::Bounded {
                    sem: Semaphore::new(capacity),
                    capacity,
                },
            ),
            None => (
                ConcurrentQueue::unbounded(),
                Room::Unbounded {
                    state: AtomicUsize::new(0),
                },
            ),
        };
        Chan {
            queue,
            room,
            senders: AtomicUsize::new(1),
            rx_state: AtomicUsize::new(0),
            rx_waker: Mutex::new(None),
            rx_closed: AtomicBool::new(false),
            closed_listeners: Listeners::new(),
        }
    }

    /// Takes room for one message now, or says why not.
    pub(super) fn try_reserve(&self) -> Result<(), NoRoom> {
        match &self.room {
            Room::Bounded { sem, .. } => sem.try_take(1).map_err(|e| match e {
                TryAcquireError::NoPermits => NoRoom::Full,
                TryAcquireError::Closed => NoRoom::Closed,
            }),
            Room::Unbounded { state } => {
                // One RMW, no CAS loop: count the message first, then look
                // at `CLOSED`. Relaxed: the count orders nothing; the
                // message itself is published by the queue and by rule 1.
                if state.fetch_add(MESSAGE, Relaxed) & CLOSED == 0 {
                    return Ok(());
                }
                // Closed: take the count back, and wake the receiver in
                // case it saw it and is waiting for it to reach zero.
                state.fetch_sub(MESSAGE, Relaxed);
                self.notify_rx();
                Err(NoRoom::Closed)
            }
        }
    }

    /// Waits for room for one message (bounded); `Err` once closed.
    pub(super) async fn reserve(&self) -> Result<(), NoRoom> {
        match &self.room {
            Room::Bounded { sem, .. } => Acquire::new(sem, 1).await.map_err(|_| NoRoom::Closed),
            Room::Unbounded { .. } => self.try_reserve(),
        }
    }

    /// Pushes a message for which room was reserved, then wakes the
    /// receiver (rule 1).
    pub(super) fn push(&self, value: T) {
        if self.queue.push(value).is_err() {
            unreachable!("mpsc: room was reserved, so the queue has space");
        }
        self.notify_rx();
    }

    /// Rule 1.
    fn notify_rx(&self) {
        // AcqRel: Release publishes the push to the receiver's swap;
        // Acquire pairs with that swap, so the waker stored before it is
        // seen under the mutex.
        if self.rx_state.fetch_or(NOTIFIED, AcqRel) == PARKED {
            let waker = self.rx_waker.lock().take();
            if let Some(waker) = waker {
                waker.wake();
            }
        }
    }

    /// Takes the next message and gives its room back.
    fn pop(&self) -> Option<T> {
        let value = self.queue.pop().ok()?;
        match &self.room {
            Room::Bounded { sem, .. } => sem.release(1),
            Room::Unbounded { state } => {
                state.fetch_sub(MESSAGE, Relaxed);
            }
        }
        Some(value)
    }

    /// Messages counted and not yet taken.
    fn in_flight(&self) -> usize {
        match &self.room {
            Room::Bounded { sem, capacity } => capacity - sem.available_permits(),
            Room::Unbounded { state } => state.load(Acquire) / MESSAGE,
        }
    }

    /// `Some` if the channel has ended (`Ready(None)`) or a last message
    /// turned up while checking (rule 3); `None` to keep waiting.
    fn check_end(&self) -> Option<Poll<Option<T>>> {
        // Acquire: pairs with the last sender's AcqRel decrement, so its
        // pushes are visible to the pop below.
        if self.senders.load(Acquire) == 0 {
            return Some(Poll::Ready(self.pop()));
        }
        if self.rx_closed.load(Relaxed) && self.in_flight() == 0 {
            return Some(Poll::Ready(None));
        }
        None
    }

    /// The receiver's poll: a message, the end (`None`), or `Pending` with
    /// `cx`'s waker parked (rule 2). Only the receiver calls this.
    pub(super) fn poll_recv(&self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        if let Some(value) = self.pop() {
            return Poll::Ready(Some(value));
        }
        if let Some(end) = self.check_end() {
            return end;
        }
        set_waker(&mut self.rx_waker.lock(), cx.waker());
        // AcqRel: Acquire sees every push whose notification came first;
        // Release publishes the stored waker (see rule 1).
        self.rx_state.swap(PARKED, AcqRel);
        if let Some(value) = self.pop() {
            return Poll::Ready(Some(value));
        }
        self.check_end().unwrap_or(Poll::Pending)
    }

    /// Takes the next message without waiting: `Ok(None)` if none is
    /// queued, `Err(())` if the channel has ended.
    pub(super) fn try_recv(&self) -> Result<Option<T>, ()> {
        if let Some(value) = self.pop() {
            return Ok(Some(value));
        }
        match self.check_end() {
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
        match &self.room {
            Room::Bounded { sem, .. } => sem.close(),
            Room::Unbounded { state } => {
                state.fetch_or(CLOSED, AcqRel);
            }
        }
        self.closed_listeners.notify(usize::MAX);
    }

    /// The receiver is dropped: close, then drop the queued messages.
    pub(super) fn close_and_drain(&self) {
        self.close();
        while self.pop().is_some() {}
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
            listener.await;
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
        self.queue.len()
    }

    /// `(free room, capacity)` of a bounded channel.
    pub(super) fn bounded_room(&self) -> Option<(usize, usize)> {
        match &self.room {
            Room::Bounded { sem, capacity } => Some((sem.available_permits(), *capacity)),
            Room::Unbounded { .. } => None,
        }
    }
}
