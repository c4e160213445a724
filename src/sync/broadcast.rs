//! A broadcast channel: every receiver gets every message sent after it
//! subscribed; a receiver that falls too far behind is told how many it
//! missed.
//!
//! [`channel(capacity)`](channel) keeps at most `capacity` messages that
//! some receiver has not read. `send` never waits: when the buffer is full
//! it drops the oldest message, and each receiver that had not read it gets
//! [`RecvError::Lagged(n)`](RecvError::Lagged) on its next `recv`, then
//! continues from the oldest message still kept.
//!
//! **Closing.** When every [`Sender`] is dropped, receivers get the
//! messages still kept, then [`RecvError::Closed`]. With no receiver left,
//! `send` fails and hands the message back (a new receiver can still
//! [`subscribe`](Sender::subscribe)).
//!
//! ```
//! use windlass::sync::broadcast;
//!
//! # windlass::Runtime::new().unwrap().block_on(async {
//! let (tx, mut rx1) = broadcast::channel(16);
//! let mut rx2 = tx.subscribe();
//! tx.send("to everyone").unwrap();
//! assert_eq!(rx1.recv().await.unwrap(), "to everyone");
//! assert_eq!(rx2.recv().await.unwrap(), "to everyone");
//! # });
//! ```
//!
//! # Design
//!
//! One mutex guards a ring (`VecDeque`) of the kept messages, each with the
//! number of receivers that still have to read it, plus the sequence number
//! of the oldest one. Each receiver holds the sequence number it reads
//! next. A read clones the message (or moves it out, for its last reader),
//! and messages every receiver has read leave the ring at once, so values
//! are not kept longer than needed. Receivers wait on an `event-listener`
//! event that every send notifies after it unlocks; a receiver that found
//! nothing registers a listener and looks again before it sleeps, so a
//! send is either seen by that second look or notifies the listener.

use std::collections::VecDeque;
use std::fmt;

use event_listener::Event as Listeners;

use crate::loom::sync::{Arc, Mutex, MutexGuard};

/// Creates a broadcast channel keeping at most `capacity` unread messages.
///
/// Panics if `capacity` is 0.
///
/// ```
/// # windlass::Runtime::new().unwrap().block_on(async {
/// let (tx, mut rx) = windlass::sync::broadcast::channel(2);
/// assert_eq!(tx.send(1).unwrap(), 1); // one receiver got it
/// assert_eq!(rx.recv().await.unwrap(), 1);
/// # });
/// ```
#[track_caller]
pub fn channel<T: Clone>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    assert!(
        capacity > 0,
        "broadcast::channel capacity must be at least 1"
    );
    let shared = Arc::new(Shared {
        capacity,
        state: Mutex::new(State {
            ring: VecDeque::with_capacity(capacity.min(1024)),
            head: 0,
            senders: 1,
            receivers: 1,
        }),
        listeners: Listeners::new(),
    });
    let rx = Receiver {
        shared: shared.clone(),
        next: 0,
    };
    (Sender { shared }, rx)
}

struct Shared<T> {
    capacity: usize,
    state: Mutex<State<T>>,
    /// Receivers waiting for a message or the close.
    listeners: Listeners,
}

struct State<T> {
    /// Kept messages, oldest first; `ring[i]` has sequence `head + i`.
    ring: VecDeque<Slot<T>>,
    /// Sequence number of `ring[0]` (of the next message, if empty).
    head: u64,
    senders: usize,
    receivers: usize,
}

struct Slot<T> {
    value: T,
    /// Receivers that were subscribed when it was sent and have not read
    /// it yet.
    unread: usize,
}

impl<T> State<T> {
    /// Sequence number the next message will get.
    fn tail(&self) -> u64 {
        self.head + self.ring.len() as u64
    }

    /// Drops the messages every receiver has read. They form a prefix: a
    /// receiver that has not read message `i` has not read any later one.
    fn trim(&mut self) {
        while self.ring.front().is_some_and(|s| s.unread == 0) {
            self.ring.pop_front();
            self.head += 1;
        }
    }
}

/// The sending half; clone it for more senders.
///
/// ```
/// let (tx, _rx) = windlass::sync::broadcast::channel::<u8>(4);
/// let tx2 = tx.clone();
/// assert_eq!(tx2.receiver_count(), 1);
/// ```
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

impl<T> Sender<T> {
    /// Sends `value` to every current receiver; returns how many there are.
    /// Never waits: a full buffer drops its oldest message (the receivers
    /// behind learn it as [`RecvError::Lagged`]). Fails, handing the value
    /// back, if there is no receiver.
    ///
    /// ```
    /// let (tx, rx) = windlass::sync::broadcast::channel(1);
    /// drop(rx);
    /// assert_eq!(tx.send(5).unwrap_err().0, 5);
    /// ```
    pub fn send(&self, value: T) -> Result<usize, SendError<T>> {
        let mut state = self.shared.state.lock();
        if state.receivers == 0 {
            return Err(SendError(value));
        }
        let dropped = if state.ring.len() == self.shared.capacity {
            state.head += 1;
            state.ring.pop_front()
        } else {
            None
        };
        let receivers = state.receivers;
        state.ring.push_back(Slot {
            value,
            unread: receivers,
        });
        drop(state);
        // Wake first: the evicted message's destructor is user code, and a
        // panic from it must not cost the receivers the new message's
        // wake-up (the ring is already consistent).
        self.shared.listeners.notify(usize::MAX);
        drop(dropped);
        Ok(receivers)
    }

    /// A new receiver, which gets the messages sent from now on.
    ///
    /// ```
    /// let (tx, _rx) = windlass::sync::broadcast::channel(4);
    /// tx.send(1).unwrap();
    /// let mut late = tx.subscribe();
    /// tx.send(2).unwrap();
    /// assert_eq!(late.try_recv().unwrap(), 2);
    /// ```
    pub fn subscribe(&self) -> Receiver<T> {
        let mut state = self.shared.state.lock();
        state.receivers += 1;
        let next = state.tail();
        drop(state);
        Receiver {
            shared: self.shared.clone(),
            next,
        }
    }

    /// Receivers now.
    ///
    /// ```
    /// let (tx, rx) = windlass::sync::broadcast::channel::<u8>(1);
    /// drop(rx);
    /// assert_eq!(tx.receiver_count(), 0);
    /// ```
    pub fn receiver_count(&self) -> usize {
        self.shared.state.lock().receivers
    }

    /// Messages kept now (not yet read by every receiver).
    ///
    /// ```
    /// let (tx, _rx) = windlass::sync::broadcast::channel(4);
    /// tx.send(1).unwrap();
    /// assert_eq!(tx.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.shared.state.lock().ring.len()
    }

    /// True if every receiver has read every message.
    ///
    /// ```
    /// let (tx, _rx) = windlass::sync::broadcast::channel::<u8>(4);
    /// assert!(tx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Sender<T> {
        self.shared.state.lock().senders += 1;
        Sender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let mut state = self.shared.state.lock();
        state.senders -= 1;
        let last = state.senders == 0;
        drop(state);
        if last {
            self.shared.listeners.notify(usize::MAX);
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("broadcast::Sender").finish_non_exhaustive()
    }
}

/// A receiving half: gets every message sent after it was created.
///
/// ```
/// # windlass::Runtime::new().unwrap().block_on(async {
/// let (tx, mut rx) = windlass::sync::broadcast::channel(4);
/// tx.send('a').unwrap();
/// drop(tx);
/// assert_eq!(rx.recv().await.unwrap(), 'a');
/// assert!(rx.recv().await.is_err()); // closed
/// # });
/// ```
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
    /// Sequence number of the next message to read.
    next: u64,
}

impl<T: Clone> Receiver<T> {
    /// Waits for the next message.
    ///
    /// Fails with [`RecvError::Lagged(n)`](RecvError::Lagged) if `n`
    /// messages were dropped before this receiver read them (the next call
    /// continues with the oldest kept one), and with [`RecvError::Closed`]
    /// once every sender is gone and nothing is left to read.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: a message is taken only by the poll that returns it, so
    /// dropping a pending `recv()` loses nothing.
    ///
    /// ```
    /// use windlass::sync::broadcast::{self, RecvError};
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let (tx, mut rx) = broadcast::channel(2);
    /// for i in 0..5 {
    ///     tx.send(i).unwrap();
    /// }
    /// assert_eq!(rx.recv().await, Err(RecvError::Lagged(3)));
    /// assert_eq!(rx.recv().await, Ok(3));
    /// # });
    /// ```
    pub async fn recv(&mut self) -> Result<T, RecvError> {
        super::budgeted(self.recv_inner()).await
    }

    async fn recv_inner(&mut self) -> Result<T, RecvError> {
        loop {
            match self.try_recv() {
                Err(TryRecvError::Empty) => {}
                other => return other.map_err(recv_error),
            }
            // Listen, then check again: a send between the check above and
            // the registration would otherwise go unnoticed.
            let listener = self.shared.listeners.listen();
            match self.try_recv() {
                Err(TryRecvError::Empty) => {}
                other => return other.map_err(recv_error),
            }
            super::listener::wait(listener).await;
        }
    }

    /// Takes the next message if there is one; never waits.
    ///
    /// ```
    /// use windlass::sync::broadcast::{self, TryRecvError};
    /// let (tx, mut rx) = broadcast::channel(2);
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.send(1).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let state = self.shared.state.lock();
        try_recv_locked(&mut self.next, state)
    }

    /// Blocks the thread until the next message, for code outside tasks.
    ///
    /// Panics on a thread that runs windlass tasks: use [`recv`](Self::recv).
    ///
    /// ```
    /// let (tx, mut rx) = windlass::sync::broadcast::channel(1);
    /// std::thread::spawn(move || tx.send(3).unwrap());
    /// assert_eq!(rx.blocking_recv(), Ok(3));
    /// ```
    #[track_caller]
    pub fn blocking_recv(&mut self) -> Result<T, RecvError> {
        super::block_on("broadcast::Receiver::blocking_recv", self.recv())
    }
}

/// Reads the message numbered `*next` (see [`Receiver::try_recv`]).
fn try_recv_locked<T: Clone>(
    next: &mut u64,
    mut state: MutexGuard<'_, State<T>>,
) -> Result<T, TryRecvError> {
    if *next < state.head {
        let missed = state.head - *next;
        *next = state.head;
        return Err(TryRecvError::Lagged(missed));
    }
    let index = (*next - state.head) as usize;
    let Some(slot) = state.ring.get_mut(index) else {
        return Err(if state.senders == 0 {
            TryRecvError::Closed
        } else {
            TryRecvError::Empty
        });
    };
    if slot.unread > 1 || index > 0 {
        // Clone before the cursor moves: a panicking `clone` leaves the
        // message unread, not half-received.
        let value = slot.value.clone();
        slot.unread -= 1;
        *next += 1;
        return Ok(value);
    }
    *next += 1;
    slot.unread -= 1;
    // The last reader of the oldest message: move it out.
    let slot = state.ring.pop_front().expect("slot just read");
    state.head += 1;
    state.trim();
    Ok(slot.value)
}

/// The `recv` error for a `try_recv` error other than `Empty`.
fn recv_error(e: TryRecvError) -> RecvError {
    match e {
        TryRecvError::Lagged(n) => RecvError::Lagged(n),
        TryRecvError::Closed | TryRecvError::Empty => RecvError::Closed,
    }
}

impl<T> Receiver<T> {
    /// A new receiver of the same channel that gets the messages sent from
    /// now on.
    ///
    /// ```
    /// let (tx, rx) = windlass::sync::broadcast::channel::<u8>(1);
    /// let rx2 = rx.resubscribe();
    /// assert_eq!(tx.receiver_count(), 2);
    /// ```
    pub fn resubscribe(&self) -> Receiver<T> {
        let mut state = self.shared.state.lock();
        state.receivers += 1;
        let next = state.tail();
        drop(state);
        Receiver {
            shared: self.shared.clone(),
            next,
        }
    }

    /// Messages this receiver has not read yet (kept ones only).
    ///
    /// ```
    /// let (tx, rx) = windlass::sync::broadcast::channel(4);
    /// tx.send(1).unwrap();
    /// tx.send(2).unwrap();
    /// assert_eq!(rx.len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        let state = self.shared.state.lock();
        (state.tail() - self.next.max(state.head)) as usize
    }

    /// True if this receiver has read every kept message.
    ///
    /// ```
    /// let (_tx, rx) = windlass::sync::broadcast::channel::<u8>(4);
    /// assert!(rx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T> Drop for Receiver<T> {
    /// Marks every kept message this receiver had not read as read by it.
    fn drop(&mut self) {
        let mut state = self.shared.state.lock();
        state.receivers -= 1;
        let start = self.next.saturating_sub(state.head) as usize;
        for slot in state.ring.iter_mut().skip(start) {
            slot.unread -= 1;
        }
        let mut dropped = Vec::new();
        while state.ring.front().is_some_and(|s| s.unread == 0) {
            dropped.extend(state.ring.pop_front());
            state.head += 1;
        }
        drop(state);
        // Values may run arbitrary code when dropped: outside the lock.
        drop(dropped);
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("broadcast::Receiver")
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}

/// The error of [`Sender::send`]: there is no receiver. Holds the message.
///
/// ```
/// let (tx, rx) = windlass::sync::broadcast::channel(1);
/// drop(rx);
/// assert_eq!(tx.send('x').unwrap_err().0, 'x');
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SendError<T>(pub T);

/// The error of [`Receiver::recv`].
///
/// ```
/// use windlass::sync::broadcast::{self, RecvError};
/// # windlass::Runtime::new().unwrap().block_on(async {
/// let (tx, mut rx) = broadcast::channel::<u8>(1);
/// drop(tx);
/// assert_eq!(rx.recv().await, Err(RecvError::Closed));
/// # });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecvError {
    /// Every sender is gone and every kept message was read.
    Closed,
    /// This many messages were dropped before this receiver read them; the
    /// next `recv` continues with the oldest kept one.
    Lagged(u64),
}

/// The error of [`Receiver::try_recv`].
///
/// ```
/// use windlass::sync::broadcast::{self, TryRecvError};
/// let (_tx, mut rx) = broadcast::channel::<u8>(1);
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TryRecvError {
    /// Nothing to read now.
    Empty,
    /// Every sender is gone and every kept message was read.
    Closed,
    /// This many messages were dropped before this receiver read them.
    Lagged(u64),
}

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SendError(..)")
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("broadcast channel has no receivers")
    }
}

impl<T> std::error::Error for SendError<T> {}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecvError::Closed => f.write_str("broadcast channel closed"),
            RecvError::Lagged(n) => write!(f, "receiver lagged: {n} messages missed"),
        }
    }
}

impl std::error::Error for RecvError {}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("broadcast channel empty"),
            TryRecvError::Closed => f.write_str("broadcast channel closed"),
            TryRecvError::Lagged(n) => write!(f, "receiver lagged: {n} messages missed"),
        }
    }
}

impl std::error::Error for TryRecvError {}
