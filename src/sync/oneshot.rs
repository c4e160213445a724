//! A one-value channel: the "future you complete yourself" of asyncio's
//! `loop.create_future()` + `fut.set_result(v)`.
//!
//! [`channel`] returns a [`Sender`] (the `set_result` side) and a
//! [`Receiver`], which is itself a future of the value. Dropping the sender
//! without sending makes the receiver fail with [`RecvError`] (asyncio's
//! future would never complete); dropping or [closing](Receiver::close) the
//! receiver (asyncio's `fut.cancel()`) makes `send` hand the value back,
//! and the sender can watch for it with [`Sender::closed`].
//!
//! ```
//! use windlass::sync::oneshot;
//!
//! # windlass::Runtime::new().unwrap().block_on(async {
//! let (tx, rx) = oneshot::channel();
//! windlass::spawn(async move {
//!     tx.send(6 * 7).unwrap(); // fut.set_result(42)
//! });
//! assert_eq!(rx.await.unwrap(), 42); // await fut
//! # });
//! ```
//!
//! # Protocol
//!
//! One allocation holds a state word and three cells: the value, the
//! receiver's waker (`rx_waker`) and the sender's waker (`tx_waker`, for
//! `closed()`). The word's bits:
//!
//! | bit | set by | meaning |
//! |---|---|---|
//! | `VALUE` | sender, once | the value cell holds the value |
//! | `TX_DROPPED` | sender, once | the sender is gone without sending |
//! | `RX_CLOSED` | receiver, once | the receiver closed or is gone |
//! | `RX_WAKER` | receiver | `rx_waker` holds its waker |
//! | `TX_WAKER` | sender | `tx_waker` holds its waker |
//!
//! Who may touch which cell, and when:
//!
//! 1. **Value.** The sender writes it before setting `VALUE` (one
//!    `fetch_or`, AcqRel); the receiver reads it only after seeing `VALUE`
//!    (Acquire). If that `fetch_or` shows `RX_CLOSED`, the receiver closed
//!    before the value existed and will never read it, so the sender takes
//!    it back. A receiver that closes first remembers it locally and never
//!    reads the cell afterwards.
//! 2. **`rx_waker`.** The receiver writes it only while `RX_WAKER` is clear
//!    and neither `VALUE` nor `TX_DROPPED` is set, then sets `RX_WAKER`
//!    (AcqRel). The sender reads it (wakes by reference, never moves it)
//!    only if its finishing `fetch_or` (`VALUE` or `TX_DROPPED`) shows
//!    `RX_WAKER`. To change its waker the receiver first clears `RX_WAKER`
//!    with a `fetch_and`; if that shows the sender finished, the sender may
//!    be reading the cell, so the receiver leaves it alone and completes.
//!    If the sender finishes between the receiver's write and its
//!    `fetch_or(RX_WAKER)`, the sender saw no waker and the receiver sees
//!    the finish in that `fetch_or`'s result, and completes. All of these
//!    are read-modify-writes of one word, so one of each pair sees the
//!    other: no wake-up is lost and no cell is written while read.
//! 3. **`tx_waker`.** The same as 2 with the roles swapped: the sender (in
//!    `closed()`) writes it under `TX_WAKER`; the receiver reads it if its
//!    `fetch_or(RX_CLOSED)` shows `TX_WAKER`.
//!
//! The receiver compares a stored waker with its current one (`will_wake`)
//! by reading the cell while `RX_WAKER` is set; the sender only ever reads
//! the cell too, so the two reads may overlap.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker, ready};

use crate::loom::cell::UnsafeCell;
use crate::loom::sync::Arc;
use crate::loom::sync::atomic::{AtomicUsize, Ordering::*};
use crate::task::coop;

/// The value cell holds the value.
const VALUE: usize = 0b00001;
/// The sender was dropped without sending.
const TX_DROPPED: usize = 0b00010;
/// The receiver was closed or dropped.
const RX_CLOSED: usize = 0b00100;
/// `rx_waker` holds the receiver's waker.
const RX_WAKER: usize = 0b01000;
/// `tx_waker` holds the sender's waker.
const TX_WAKER: usize = 0b10000;

/// The sender is done: sent or dropped.
const TX_DONE: usize = VALUE | TX_DROPPED;

/// Creates a one-value channel: the [`Sender`] completes the [`Receiver`],
/// which is a future of the value.
///
/// ```
/// # windlass::Runtime::new().unwrap().block_on(async {
/// let (tx, rx) = windlass::sync::oneshot::channel::<&str>();
/// tx.send("done").unwrap();
/// assert_eq!(rx.await, Ok("done"));
/// # });
/// ```
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let inner = Arc::new(Inner {
        state: AtomicUsize::new(0),
        value: UnsafeCell::new(None),
        rx_waker: UnsafeCell::new(None),
        tx_waker: UnsafeCell::new(None),
    });
    let tx = Sender {
        inner: Some(inner.clone()),
    };
    let rx = Receiver {
        inner: Some(inner),
        closed_empty: false,
    };
    (tx, rx)
}

/// The shared allocation (see the module docs for the protocol).
struct Inner<T> {
    state: AtomicUsize,
    value: UnsafeCell<Option<T>>,
    rx_waker: UnsafeCell<Option<Waker>>,
    tx_waker: UnsafeCell<Option<Waker>>,
}

// SAFETY: the cells are accessed as the protocol allows (one writer at a
// time, reads only after the Acquire that publishes a write); the value
// moves from the sender's thread to the receiver's, hence `T: Send`.
unsafe impl<T: Send> Send for Inner<T> {}
// SAFETY: as above; `&Inner` only gives access through the protocol.
unsafe impl<T: Send> Sync for Inner<T> {}

impl<T> Inner<T> {
    /// Registers `waker` in `cell` under `bit` (rules 2 and 3); returns the
    /// state once registered, or as soon as one of `done` shows up (then
    /// nothing was registered).
    ///
    /// # Safety
    ///
    /// Only the owner of `cell` (the receiver for `RX_WAKER`, the sender
    /// for `TX_WAKER`) may call this.
    unsafe fn register(
        &self,
        cell: &UnsafeCell<Option<Waker>>,
        bit: usize,
        done: usize,
        waker: &Waker,
    ) -> usize {
        let mut state = self.state.load(Acquire);
        if state & done != 0 {
            return state;
        }
        if state & bit != 0 {
            // SAFETY: we own the cell and its bit is set.
            if unsafe { will_wake(cell, waker) } {
                return state;
            }
            // Take the bit back before writing; the other side may have
            // finished (and be reading the cell) meanwhile.
            state = self.state.fetch_and(!bit, AcqRel);
            if state & done != 0 {
                return state;
            }
        }
        // SAFETY: the bit is clear and the other side has not finished, so
        // it will not read the cell until we set the bit; we are its only
        // writer.
        cell.with_mut(|w| unsafe { *w = Some(waker.clone()) });
        // AcqRel: Release publishes the waker to the other side's Acquire
        // (its finishing fetch_or); Acquire for the value if it finished.
        self.state.fetch_or(bit, AcqRel)
    }
}

/// Wakes the waker in `cell` by reference.
///
/// # Safety
///
/// The caller's read-modify-write showed the waker bit of `cell` set
/// together with its own finishing bit, so the owner of `cell` will not
/// write it any more (rules 2 and 3).
unsafe fn wake(cell: &UnsafeCell<Option<Waker>>) {
    cell.with(|w| {
        // SAFETY: no writer, per the caller's contract; reads may overlap.
        let waker = unsafe { &*w };
        if let Some(w) = waker {
            w.wake_by_ref();
        }
    });
}

/// True if `cell` holds a waker that wakes the same task as `waker`.
///
/// # Safety
///
/// The caller owns `cell` (it is its writer), and its waker bit is set,
/// so the other side at most reads it too.
unsafe fn will_wake(cell: &UnsafeCell<Option<Waker>>, waker: &Waker) -> bool {
    // SAFETY: only reads happen while the bit is set (caller's contract).
    cell.with(|w| unsafe { &*w }.as_ref().is_some_and(|w| w.will_wake(waker)))
}

/// The sending half: asyncio's `fut.set_result(v)`, once.
///
/// Dropping it without sending makes the receiver fail with [`RecvError`].
///
/// ```
/// # windlass::Runtime::new().unwrap().block_on(async {
/// let (tx, rx) = windlass::sync::oneshot::channel::<u8>();
/// drop(tx);
/// assert!(rx.await.is_err());
/// # });
/// ```
pub struct Sender<T> {
    /// `None` once sent.
    inner: Option<Arc<Inner<T>>>,
}

impl<T> Sender<T> {
    /// Completes the receiver with `value`. Fails, handing `value` back, if
    /// the receiver was dropped or closed (asyncio's cancelled future).
    ///
    /// Never waits.
    ///
    /// ```
    /// let (tx, rx) = windlass::sync::oneshot::channel();
    /// drop(rx);
    /// assert_eq!(tx.send(3), Err(3));
    /// ```
    pub fn send(mut self, value: T) -> Result<(), T> {
        let inner = self.inner.take().expect("sender used after send");
        // SAFETY: rule 1: only the sender writes the value cell, before it
        // sets VALUE; the receiver reads it only after seeing VALUE.
        inner.value.with_mut(|v| unsafe { *v = Some(value) });
        // AcqRel: Release publishes the value to the receiver's Acquire.
        let prev = inner.state.fetch_or(VALUE, AcqRel);
        if prev & RX_CLOSED != 0 {
            // SAFETY: rule 1: the receiver closed before VALUE was set, so
            // it never reads the cell; take the value back.
            let value = inner.value.with_mut(|v| unsafe { (*v).take() });
            return Err(value.expect("value just stored"));
        }
        if prev & RX_WAKER != 0 {
            // SAFETY: our fetch_or showed RX_WAKER with VALUE now set: the
            // receiver will not write rx_waker again (rule 2).
            unsafe { wake(&inner.rx_waker) };
        }
        Ok(())
    }

    /// True if the receiver was dropped or closed: a `send` would fail.
    ///
    /// ```
    /// let (tx, mut rx) = windlass::sync::oneshot::channel::<()>();
    /// assert!(!tx.is_closed());
    /// rx.close();
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        let inner = self.inner.as_ref().expect("sender used after send");
        inner.state.load(Acquire) & RX_CLOSED != 0
    }

    /// Waits until the receiver is dropped or closed: the sender's way to
    /// notice that nobody wants the value any more (asyncio's
    /// `fut.cancelled()`), for example to stop computing it.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: it only watches.
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let (mut tx, rx) = windlass::sync::oneshot::channel::<u8>();
    /// windlass::spawn(async move { drop(rx) });
    /// tx.closed().await;
    /// assert!(tx.is_closed());
    /// # });
    /// ```
    pub async fn closed(&mut self) {
        std::future::poll_fn(|cx| self.poll_closed(cx)).await
    }

    /// `Ready` once the receiver is closed or dropped; otherwise registers
    /// `cx`'s waker to be woken then.
    ///
    /// ```
    /// use std::task::Poll;
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let (mut tx, rx) = windlass::sync::oneshot::channel::<u8>();
    /// drop(rx);
    /// std::future::poll_fn(|cx| tx.poll_closed(cx)).await;
    /// # });
    /// ```
    pub fn poll_closed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let inner = self.inner.as_ref().expect("sender used after send");
        // SAFETY: the sender owns tx_waker.
        let state = unsafe { inner.register(&inner.tx_waker, TX_WAKER, RX_CLOSED, cx.waker()) };
        if state & RX_CLOSED != 0 {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let Some(inner) = self.inner.take() else {
            return;
        };
        let prev = inner.state.fetch_or(TX_DROPPED, AcqRel);
        if prev & RX_WAKER != 0 && prev & RX_CLOSED == 0 {
            // SAFETY: our fetch_or showed RX_WAKER with TX_DROPPED now set:
            // the receiver will not write rx_waker again (rule 2).
            unsafe { wake(&inner.rx_waker) };
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("oneshot::Sender").finish_non_exhaustive()
    }
}

/// The receiving half: a future of the value (asyncio's `await fut`).
///
/// Resolves to `Ok(value)`, or to `Err(RecvError)` if the sender was
/// dropped without sending (or the receiver was closed first).
///
/// # Cancel safety
///
/// Awaiting `&mut receiver` is cancel-safe: the value is taken only by the
/// poll that returns it, so a dropped `select!` branch loses nothing and
/// the receiver can be awaited again.
///
/// ```
/// # windlass::Runtime::new().unwrap().block_on(async {
/// let (tx, rx) = windlass::sync::oneshot::channel();
/// tx.send([1, 2]).unwrap();
/// assert_eq!(rx.await.unwrap(), [1, 2]);
/// # });
/// ```
pub struct Receiver<T> {
    /// `None` once the value (or the error) was returned.
    inner: Option<Arc<Inner<T>>>,
    /// [`close`](Receiver::close) was called before a value arrived: no
    /// value will ever be read (rule 1).
    closed_empty: bool,
}

impl<T> Receiver<T> {
    /// Takes the value if it is there; never waits.
    ///
    /// ```
    /// use windlass::sync::oneshot::{self, TryRecvError};
    /// let (tx, mut rx) = oneshot::channel();
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.send(1).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let Some(inner) = self.inner.as_ref() else {
            return Err(TryRecvError::Closed);
        };
        let state = inner.state.load(Acquire);
        if state & VALUE != 0 && !self.closed_empty {
            return Ok(self.take_value());
        }
        if state & TX_DROPPED != 0 || self.closed_empty {
            self.inner = None;
            return Err(TryRecvError::Closed);
        }
        Err(TryRecvError::Empty)
    }

    /// Closes the receiver without dropping it (asyncio's `fut.cancel()`):
    /// a later `send` fails and hands its value back, and
    /// [`Sender::closed`] completes. A value sent before the close can
    /// still be received.
    ///
    /// ```
    /// let (tx, mut rx) = windlass::sync::oneshot::channel();
    /// rx.close();
    /// assert_eq!(tx.send(5), Err(5));
    /// assert!(rx.try_recv().is_err());
    /// ```
    pub fn close(&mut self) {
        let Some(inner) = self.inner.as_ref() else {
            return;
        };
        let prev = inner.state.fetch_or(RX_CLOSED, AcqRel);
        if prev & VALUE == 0 {
            self.closed_empty = true;
        }
        if prev & TX_WAKER != 0 && prev & TX_DONE == 0 {
            // SAFETY: our fetch_or showed TX_WAKER with RX_CLOSED now set:
            // the sender will not write tx_waker again (rule 3).
            unsafe { wake(&inner.tx_waker) };
        }
    }

    /// Blocks the thread until the value arrives, for code outside tasks
    /// (asyncio's `concurrent.futures.Future.result()`).
    ///
    /// Panics on a thread that runs windlass tasks: `.await` the receiver.
    ///
    /// ```
    /// let (tx, rx) = windlass::sync::oneshot::channel();
    /// std::thread::spawn(move || tx.send("from a thread").unwrap());
    /// assert_eq!(rx.blocking_recv().unwrap(), "from a thread");
    /// ```
    #[track_caller]
    pub fn blocking_recv(self) -> Result<T, RecvError> {
        super::block_on("oneshot::Receiver::blocking_recv", self)
    }

    /// Takes the value out; the caller saw `VALUE` (Acquire) and
    /// `!closed_empty`.
    fn take_value(&mut self) -> T {
        let inner = self.inner.take().expect("receiver has its allocation");
        // SAFETY: rule 1: VALUE was seen with Acquire, so the sender's write
        // is visible and it will not touch the cell again (its fetch_or saw
        // no RX_CLOSED, or we would be `closed_empty`).
        let value = inner.value.with_mut(|v| unsafe { (*v).take() });
        value.expect("VALUE set with an empty cell")
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        ready!(coop::poll_proceed(cx));
        let Some(inner) = this.inner.as_ref() else {
            // Already returned its output.
            return Poll::Ready(Err(RecvError(())));
        };
        if this.closed_empty {
            this.inner = None;
            return Poll::Ready(Err(RecvError(())));
        }
        // SAFETY: the receiver owns rx_waker.
        let state = unsafe { inner.register(&inner.rx_waker, RX_WAKER, TX_DONE, cx.waker()) };
        let out = if state & VALUE != 0 {
            Ok(this.take_value())
        } else if state & TX_DROPPED != 0 {
            this.inner = None;
            Err(RecvError(()))
        } else {
            return Poll::Pending;
        };
        coop::consume();
        Poll::Ready(out)
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        if self.inner.is_some() && !self.closed_empty {
            self.close();
        }
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("oneshot::Receiver").finish_non_exhaustive()
    }
}

/// The error of awaiting a [`Receiver`]: the sender was dropped without
/// sending (or the receiver was closed first).
///
/// ```
/// let (tx, rx) = windlass::sync::oneshot::channel::<u8>();
/// drop(tx);
/// let err = rx.blocking_recv().unwrap_err();
/// assert_eq!(err.to_string(), "oneshot sender dropped without sending");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecvError(());

/// The error of [`Receiver::try_recv`].
///
/// ```
/// use windlass::sync::oneshot::{self, TryRecvError};
/// let (tx, mut rx) = oneshot::channel::<u8>();
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
/// drop(tx);
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TryRecvError {
    /// No value yet; the sender may still send.
    Empty,
    /// No value will come: the sender was dropped, the receiver closed, or
    /// the value was already taken.
    Closed,
}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("oneshot sender dropped without sending")
    }
}

impl std::error::Error for RecvError {}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("no value sent yet"),
            TryRecvError::Closed => f.write_str("no value will be sent"),
        }
    }
}

impl std::error::Error for TryRecvError {}
