//! Multi-producer, single-consumer channels, bounded and unbounded.
//!
//! [`channel(capacity)`](channel) gives a [`Sender`] whose `send` waits
//! while `capacity` messages are queued (backpressure);
//! [`unbounded_channel`] gives an [`UnboundedSender`] whose `send` never
//! waits. Both deliver to a [`Receiver`], in the order sent (per sender).
//! Senders waiting for room are served in the order they started waiting.
//!
//! **Closing.** The channel closes when every sender is dropped, or when
//! the receiver calls [`close`](Receiver::close) or is dropped. Once closed,
//! `send` fails and hands the message back; `recv` still returns every
//! message already sent, then `None`. A `send` that returned `Ok` is always
//! received, unless the receiver is dropped first (the message is then
//! dropped with it).
//!
//! The design (lock-free queues for the messages: `concurrent-queue`'s
//! array when bounded, windlass's own list of recycled blocks when
//! unbounded, in `src/sync/mpsc/list.rs`; windlass's fair semaphore for the
//! room; and the protocol that wakes the receiver) is the module doc of
//! `src/sync/mpsc/chan.rs`.
//!
//! ```
//! use windlass::sync::mpsc;
//!
//! # windlass::Runtime::new().unwrap().block_on(async {
//! let (tx, mut rx) = mpsc::channel(16);
//! for id in 0..4 {
//!     let tx = tx.clone();
//!     windlass::spawn(async move {
//!         for i in 0..10 {
//!             tx.send(id * 100 + i).await.unwrap();
//!         }
//!     });
//! }
//! drop(tx); // the receiver ends when every producer is done
//! let mut count = 0;
//! while let Some(_msg) = rx.recv().await {
//!     count += 1;
//! }
//! assert_eq!(count, 40);
//! # });
//! ```

mod chan;
pub(crate) mod list;

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures_core::Stream;

use self::chan::{Chan, NoRoom};
use crate::loom::sync::Arc;
use crate::task::coop;

/// A bounded channel: `send` waits while `capacity` messages are queued.
///
/// Panics if `capacity` is 0 or above
/// [`Semaphore::MAX_PERMITS`](crate::sync::Semaphore::MAX_PERMITS). The
/// buffer for `capacity` messages is allocated up front.
///
/// ```
/// # windlass::Runtime::new().unwrap().block_on(async {
/// let (tx, mut rx) = windlass::sync::mpsc::channel(1);
/// tx.send(1).await.unwrap();
/// assert!(tx.try_send(2).is_err()); // full
/// assert_eq!(rx.recv().await, Some(1));
/// # });
/// ```
#[track_caller]
pub fn channel<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    assert!(capacity > 0, "mpsc::channel capacity must be at least 1");
    assert!(
        capacity <= crate::sync::Semaphore::MAX_PERMITS,
        "mpsc::channel capacity is too large"
    );
    let chan = Arc::new(Chan::new(Some(capacity)));
    (Sender { chan: chan.clone() }, Receiver { chan })
}

/// An unbounded channel: `send` never waits (memory is the limit).
///
/// ```
/// # windlass::Runtime::new().unwrap().block_on(async {
/// let (tx, mut rx) = windlass::sync::mpsc::unbounded_channel();
/// for i in 0..1000 {
///     tx.send(i).unwrap();
/// }
/// assert_eq!(rx.len(), 1000);
/// assert_eq!(rx.recv().await, Some(0));
/// # });
/// ```
pub fn unbounded_channel<T>() -> (UnboundedSender<T>, Receiver<T>) {
    let chan = Arc::new(Chan::new(None));
    (UnboundedSender { chan: chan.clone() }, Receiver { chan })
}

/// The sending half of a bounded [`channel`]; clone it for more producers.
///
/// ```
/// # windlass::Runtime::new().unwrap().block_on(async {
/// let (tx, mut rx) = windlass::sync::mpsc::channel(4);
/// let tx2 = tx.clone();
/// tx.send("a").await.unwrap();
/// tx2.send("b").await.unwrap();
/// assert_eq!(rx.recv().await, Some("a"));
/// # });
/// ```
pub struct Sender<T> {
    chan: Arc<Chan<T>>,
}

impl<T> Sender<T> {
    /// Sends `value`, waiting while the channel is full (in FIFO order with
    /// the other waiting senders). Fails, handing the value back, if the
    /// channel is closed.
    ///
    /// # Cancel safety
    ///
    /// If the future is dropped before it completes, `value` was not sent
    /// and is dropped with it; room that was already handed to it goes to
    /// the next waiting sender. Use [`try_send`](Self::try_send) to keep
    /// the value on failure.
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let (tx, rx) = windlass::sync::mpsc::channel(1);
    /// drop(rx);
    /// assert_eq!(tx.send(7).await.unwrap_err().0, 7);
    /// # });
    /// ```
    pub async fn send(&self, value: T) -> Result<(), SendError<T>> {
        // Waiting for room spends the cooperative budget.
        match self.chan.reserve().await {
            Ok(()) => {
                self.chan.push(value);
                Ok(())
            }
            Err(_) => Err(SendError(value)),
        }
    }

    /// Sends `value` if there is room now (and nobody waits for room);
    /// never waits.
    ///
    /// ```
    /// use windlass::sync::mpsc::{self, TrySendError};
    /// let (tx, _rx) = mpsc::channel(1);
    /// tx.try_send(1).unwrap();
    /// assert!(matches!(tx.try_send(2), Err(TrySendError::Full(2))));
    /// ```
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        match self.chan.try_reserve() {
            Ok(()) => {
                self.chan.push(value);
                Ok(())
            }
            Err(NoRoom::Full) => Err(TrySendError::Full(value)),
            Err(NoRoom::Closed) => Err(TrySendError::Closed(value)),
        }
    }

    /// Blocks the thread until `value` is sent, for code outside tasks.
    ///
    /// Panics on a thread that runs windlass tasks: use [`send`](Self::send).
    ///
    /// ```
    /// let (tx, mut rx) = windlass::sync::mpsc::channel(1);
    /// std::thread::spawn(move || tx.blocking_send(5).unwrap());
    /// assert_eq!(rx.blocking_recv(), Some(5));
    /// ```
    #[track_caller]
    pub fn blocking_send(&self, value: T) -> Result<(), SendError<T>> {
        super::block_on("mpsc::Sender::blocking_send", self.send(value))
    }

    /// Waits until the channel is closed (the receiver dropped or closed
    /// it), for example to stop producing.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: it only watches.
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let (tx, rx) = windlass::sync::mpsc::channel::<u8>(1);
    /// windlass::spawn(async move { drop(rx) });
    /// tx.closed().await;
    /// assert!(tx.is_closed());
    /// # });
    /// ```
    pub async fn closed(&self) {
        self.chan.closed().await
    }

    /// True if the receiver closed the channel or is gone: `send` would
    /// fail.
    ///
    /// ```
    /// let (tx, mut rx) = windlass::sync::mpsc::channel::<u8>(1);
    /// rx.close();
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.chan.is_rx_closed()
    }

    /// Free room now: how many messages could be sent without waiting.
    ///
    /// ```
    /// let (tx, _rx) = windlass::sync::mpsc::channel(3);
    /// tx.try_send(()).unwrap();
    /// assert_eq!(tx.capacity(), 2);
    /// ```
    pub fn capacity(&self) -> usize {
        self.chan.bounded_room().map_or(0, |(free, _)| free)
    }

    /// The capacity given to [`channel`].
    ///
    /// ```
    /// let (tx, _rx) = windlass::sync::mpsc::channel::<u8>(3);
    /// assert_eq!(tx.max_capacity(), 3);
    /// ```
    pub fn max_capacity(&self) -> usize {
        self.chan.bounded_room().map_or(0, |(_, capacity)| capacity)
    }

    /// True if both senders belong to the same channel.
    ///
    /// ```
    /// let (tx, _rx) = windlass::sync::mpsc::channel::<u8>(1);
    /// assert!(tx.same_channel(&tx.clone()));
    /// ```
    pub fn same_channel(&self, other: &Sender<T>) -> bool {
        Arc::ptr_eq(&self.chan, &other.chan)
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Sender<T> {
        self.chan.add_sender();
        Sender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        self.chan.drop_sender();
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::Sender")
            .field("len", &self.chan.len())
            .field("closed", &self.chan.is_rx_closed())
            .finish()
    }
}

/// The sending half of an [`unbounded_channel`]; clone it for more
/// producers.
///
/// ```
/// # windlass::Runtime::new().unwrap().block_on(async {
/// let (tx, mut rx) = windlass::sync::mpsc::unbounded_channel();
/// tx.clone().send(1).unwrap();
/// assert_eq!(rx.recv().await, Some(1));
/// # });
/// ```
pub struct UnboundedSender<T> {
    chan: Arc<Chan<T>>,
}

impl<T> UnboundedSender<T> {
    /// Sends `value`; never waits. Fails, handing it back, if the channel
    /// is closed.
    ///
    /// ```
    /// let (tx, rx) = windlass::sync::mpsc::unbounded_channel();
    /// drop(rx);
    /// assert_eq!(tx.send(1).unwrap_err().0, 1);
    /// ```
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        self.chan.push_unbounded(value).map_err(SendError)
    }

    /// Waits until the channel is closed (the receiver dropped or closed
    /// it).
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: it only watches.
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let (tx, rx) = windlass::sync::mpsc::unbounded_channel::<u8>();
    /// drop(rx);
    /// tx.closed().await;
    /// # });
    /// ```
    pub async fn closed(&self) {
        self.chan.closed().await
    }

    /// True if the receiver closed the channel or is gone: `send` would
    /// fail.
    ///
    /// ```
    /// let (tx, rx) = windlass::sync::mpsc::unbounded_channel::<u8>();
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.chan.is_rx_closed()
    }

    /// True if both senders belong to the same channel.
    ///
    /// ```
    /// let (tx, _rx) = windlass::sync::mpsc::unbounded_channel::<u8>();
    /// assert!(tx.same_channel(&tx.clone()));
    /// ```
    pub fn same_channel(&self, other: &UnboundedSender<T>) -> bool {
        Arc::ptr_eq(&self.chan, &other.chan)
    }
}

impl<T> Clone for UnboundedSender<T> {
    fn clone(&self) -> UnboundedSender<T> {
        self.chan.add_sender();
        UnboundedSender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for UnboundedSender<T> {
    fn drop(&mut self) {
        self.chan.drop_sender();
    }
}

impl<T> fmt::Debug for UnboundedSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::UnboundedSender")
            .field("len", &self.chan.len())
            .field("closed", &self.chan.is_rx_closed())
            .finish()
    }
}

/// The receiving half of a [`channel`] or an [`unbounded_channel`].
///
/// Also a [`Stream`] of the messages (asyncio's `async for`), ending when
/// the channel is closed and empty.
///
/// ```
/// use futures_lite::StreamExt;
/// # windlass::Runtime::new().unwrap().block_on(async {
/// let (tx, rx) = windlass::sync::mpsc::unbounded_channel();
/// for i in 0..3 {
///     tx.send(i).unwrap();
/// }
/// drop(tx);
/// let all: Vec<i32> = rx.collect().await;
/// assert_eq!(all, [0, 1, 2]);
/// # });
/// ```
pub struct Receiver<T> {
    chan: Arc<Chan<T>>,
}

impl<T> Receiver<T> {
    /// Waits for the next message; `None` once the channel is closed and
    /// every message sent was received.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: a message leaves the channel only in the poll that
    /// returns it, so dropping a pending `recv()` (in a `select`, say)
    /// loses nothing.
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let (tx, mut rx) = windlass::sync::mpsc::channel(1);
    /// windlass::spawn(async move { tx.send("hi").await.unwrap() });
    /// assert_eq!(rx.recv().await, Some("hi"));
    /// assert_eq!(rx.recv().await, None); // sender gone
    /// # });
    /// ```
    pub async fn recv(&mut self) -> Option<T> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// The poll behind [`recv`](Self::recv): `Ready(Some)` with the next
    /// message, `Ready(None)` once the channel has ended, or `Pending` with
    /// `cx`'s waker registered.
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let (tx, mut rx) = windlass::sync::mpsc::unbounded_channel();
    /// tx.send(1).unwrap();
    /// let got = std::future::poll_fn(|cx| rx.poll_recv(cx)).await;
    /// assert_eq!(got, Some(1));
    /// # });
    /// ```
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        ready!(coop::poll_proceed(cx));
        // SAFETY: the receiver (`&mut self`) is the channel's one consumer.
        let out = ready!(unsafe { self.chan.poll_recv(cx) });
        coop::consume();
        Poll::Ready(out)
    }

    /// Takes the next message if one is queued; never waits.
    ///
    /// ```
    /// use windlass::sync::mpsc::{self, TryRecvError};
    /// let (tx, mut rx) = mpsc::unbounded_channel();
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.send(1).unwrap();
    /// drop(tx);
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        // SAFETY: the receiver (`&mut self`) is the channel's one consumer.
        match unsafe { self.chan.try_recv() } {
            Ok(Some(value)) => Ok(value),
            Ok(None) => Err(TryRecvError::Empty),
            Err(()) => Err(TryRecvError::Disconnected),
        }
    }

    /// Blocks the thread until a message arrives, for code outside tasks.
    ///
    /// Panics on a thread that runs windlass tasks: use [`recv`](Self::recv).
    ///
    /// ```
    /// let (tx, mut rx) = windlass::sync::mpsc::unbounded_channel();
    /// std::thread::spawn(move || tx.send(9).unwrap());
    /// assert_eq!(rx.blocking_recv(), Some(9));
    /// ```
    #[track_caller]
    pub fn blocking_recv(&mut self) -> Option<T> {
        super::block_on("mpsc::Receiver::blocking_recv", self.recv())
    }

    /// Closes the channel from the receiving side: senders fail from now
    /// on (waiting ones too), and the messages already sent can still be
    /// received.
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let (tx, mut rx) = windlass::sync::mpsc::channel(2);
    /// tx.send(1).await.unwrap();
    /// rx.close();
    /// assert!(tx.send(2).await.is_err());
    /// assert_eq!(rx.recv().await, Some(1));
    /// assert_eq!(rx.recv().await, None);
    /// # });
    /// ```
    pub fn close(&mut self) {
        self.chan.close();
    }

    /// True once no new message can be sent: every sender is gone, or the
    /// channel was closed (messages may still be queued).
    ///
    /// ```
    /// let (tx, rx) = windlass::sync::mpsc::channel::<u8>(1);
    /// drop(tx);
    /// assert!(rx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.chan.is_closed()
    }

    /// Messages queued now.
    ///
    /// ```
    /// let (tx, rx) = windlass::sync::mpsc::unbounded_channel();
    /// tx.send(()).unwrap();
    /// assert_eq!(rx.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.chan.len()
    }

    /// True if no message is queued.
    ///
    /// ```
    /// let (_tx, rx) = windlass::sync::mpsc::unbounded_channel::<u8>();
    /// assert!(rx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T> Stream for Receiver<T> {
    type Item = T;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.poll_recv(cx)
    }
}

impl<T> Drop for Receiver<T> {
    /// Closes the channel and drops the messages still queued.
    fn drop(&mut self) {
        // SAFETY: the receiver (being dropped) is the channel's one
        // consumer.
        unsafe { self.chan.close_and_drain() };
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::Receiver")
            .field("len", &self.chan.len())
            .field("closed", &self.chan.is_closed())
            .finish()
    }
}

/// The error of `send`: the channel is closed. Holds the message.
///
/// ```
/// let (tx, rx) = windlass::sync::mpsc::unbounded_channel();
/// drop(rx);
/// let err = tx.send("lost?").unwrap_err();
/// assert_eq!(err.0, "lost?"); // handed back
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SendError<T>(pub T);

/// The error of [`Sender::try_send`]. Holds the message.
///
/// ```
/// use windlass::sync::mpsc::{self, TrySendError};
/// let (tx, rx) = mpsc::channel(1);
/// drop(rx);
/// assert!(matches!(tx.try_send(1), Err(TrySendError::Closed(1))));
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum TrySendError<T> {
    /// The channel holds `capacity` messages.
    Full(T),
    /// The channel is closed.
    Closed(T),
}

impl<T> TrySendError<T> {
    /// The message that was not sent.
    ///
    /// ```
    /// let (tx, _rx) = windlass::sync::mpsc::channel(1);
    /// tx.try_send(1).unwrap();
    /// assert_eq!(tx.try_send(2).unwrap_err().into_inner(), 2);
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            TrySendError::Full(v) | TrySendError::Closed(v) => v,
        }
    }
}

/// The error of [`Receiver::try_recv`].
///
/// ```
/// use windlass::sync::mpsc::{self, TryRecvError};
/// let (_tx, mut rx) = mpsc::channel::<u8>(1);
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TryRecvError {
    /// Nothing queued; senders remain.
    Empty,
    /// Nothing queued and the channel is closed: nothing will come.
    Disconnected,
}

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SendError(..)")
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("channel closed")
    }
}

impl<T> std::error::Error for SendError<T> {}

impl<T> fmt::Debug for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("Full(..)"),
            TrySendError::Closed(_) => f.write_str("Closed(..)"),
        }
    }
}

impl<T> fmt::Display for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("channel full"),
            TrySendError::Closed(_) => f.write_str("channel closed"),
        }
    }
}

impl<T> std::error::Error for TrySendError<T> {}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("channel empty"),
            TryRecvError::Disconnected => f.write_str("channel closed and empty"),
        }
    }
}

impl std::error::Error for TryRecvError {}
