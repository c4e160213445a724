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
//! One allocation holds a state word and three cells: the receiver's waker
//! (`rx_waker`), the value, and the sender's waker (`tx_waker`, for
//! `closed()`). The word is first and the cells the round trip touches
//! follow it, so a send and its receive share one cache line where the
//! allocator allows (docs/PERFORMANCE.md, "request_response: the oneshot's
//! block, and where a wake goes", section 1). The word's bits:
//!
//! | bit | set by | meaning |
//! |---|---|---|
//! | `VALUE` | sender, once | the value cell holds the value |
//! | `TX_DROPPED` | sender, once | the sender is gone without sending |
//! | `RX_CLOSED` | receiver, once | the receiver closed or is gone |
//! | `RX_WAKER` | receiver | `rx_waker` holds its waker |
//! | `TX_WAKER` | sender | `tx_waker` holds its waker |
//! | `TX_GONE` | sender, once | the sender will not touch the allocation again |
//! | `RX_GONE` | receiver, once | the receiver will not touch the allocation again |
//!
//! Who may touch which cell, and when:
//!
//! 1. **Value.** The sender writes it before setting `VALUE` (AcqRel); the
//!    receiver reads it only after seeing `VALUE` (Acquire). If the
//!    read-modify-write that sets `VALUE` shows `RX_CLOSED`, the receiver
//!    closed before the value existed and will never read it, so the
//!    sender takes it back. A receiver that closes first remembers it
//!    locally and never reads the cell afterwards.
//! 2. **`rx_waker`.** The receiver writes it only while `RX_WAKER` is clear
//!    and neither `VALUE` nor `TX_DROPPED` is set, then sets `RX_WAKER`
//!    (AcqRel). The sender reads it (wakes by reference, never moves it)
//!    only if its finishing read-modify-write (`VALUE` or `TX_DROPPED`)
//!    shows `RX_WAKER`. To change its waker the receiver first clears
//!    `RX_WAKER` with a `fetch_and`; if that shows the sender finished, the
//!    sender may be reading the cell, so the receiver leaves it alone and
//!    completes. If the sender finishes between the receiver's write and
//!    its `fetch_or(RX_WAKER)`, the sender saw no waker and the receiver
//!    sees the finish in that `fetch_or`'s result, and completes. All of
//!    these are read-modify-writes of one word, so one of each pair sees
//!    the other: no wake-up is lost and no cell is written while read.
//! 3. **`tx_waker`.** The same as 2 with the roles swapped: the sender (in
//!    `closed()`) writes it under `TX_WAKER`; the receiver reads it if its
//!    read-modify-write that sets `RX_CLOSED` shows `TX_WAKER` and no
//!    `TX_DROPPED` or `VALUE`.
//! 4. **Freeing.** There is no reference count. Each side sets its `*_GONE`
//!    bit (Release) after its last access to the allocation, and never
//!    touches it after that. The side that sets its bit and sees the other
//!    side's already set (Acquire) frees the allocation, dropping whatever
//!    the cells still hold: exactly one of the two read-modify-writes sees
//!    the other's bit. A side that *reads* the other's bit with an Acquire
//!    load is alone and frees without writing the word at all: that is the
//!    receiver's usual end, since a sender that had nobody to wake set
//!    `TX_GONE` together with `VALUE`.
//! 5. **Finishing and leaving at once.** A finishing read-modify-write
//!    (`send`'s `VALUE`, a drop's `TX_DROPPED` or `RX_CLOSED`) also sets the
//!    side's `*_GONE` bit when the state it replaces needs no access after
//!    it: no waker to wake and no value to take back. It is a
//!    compare-and-swap for that reason. Otherwise the side wakes (or takes
//!    the value back) first and sets its bit with a second `fetch_or`.
//!
//! The receiver compares a stored waker with its current one (`will_wake`)
//! by reading the cell while `RX_WAKER` is set; the sender only ever reads
//! the cell too, so the two reads may overlap.

use std::alloc::Layout;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll, Waker, ready};

use crate::loom::cell::UnsafeCell;
use crate::loom::sync::atomic::{AtomicUsize, Ordering::*};
use crate::task::{cell_cache, coop};

/// The value cell holds the value.
const VALUE: usize = 1 << 0;
/// The sender was dropped without sending.
const TX_DROPPED: usize = 1 << 1;
/// The receiver was closed or dropped.
const RX_CLOSED: usize = 1 << 2;
/// `rx_waker` holds the receiver's waker.
const RX_WAKER: usize = 1 << 3;
/// `tx_waker` holds the sender's waker.
const TX_WAKER: usize = 1 << 4;
/// The sender will not touch the allocation again (rule 4).
const TX_GONE: usize = 1 << 5;
/// The receiver will not touch the allocation again (rule 4).
const RX_GONE: usize = 1 << 6;

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
    let inner = alloc_block::<T>();
    // SAFETY: fresh memory with `Inner<T>`'s layout, ours alone.
    unsafe {
        inner.write(Inner {
            state: AtomicUsize::new(0),
            rx_waker: UnsafeCell::new(None),
            value: UnsafeCell::new(None),
            tx_waker: UnsafeCell::new(None),
        })
    };
    let tx = Sender {
        inner: Some(inner),
        _value: PhantomData,
    };
    let rx = Receiver {
        inner: Some(inner),
        closed_empty: false,
        _value: PhantomData,
    };
    (tx, rx)
}

/// The shared allocation (see the module docs for the protocol). `repr(C)`
/// keeps the order: the word, then the cells in the order a round trip
/// touches them.
#[repr(C)]
struct Inner<T> {
    state: AtomicUsize,
    rx_waker: UnsafeCell<Option<Waker>>,
    value: UnsafeCell<Option<T>>,
    tx_waker: UnsafeCell<Option<Waker>>,
}

impl<T> Inner<T> {
    /// Registers `waker` in `cell` under `bit` (rules 2 and 3); returns the
    /// state once registered, or as soon as one of `done` shows up (then
    /// nothing was registered).
    ///
    /// # Safety
    ///
    /// Only the owner of `cell` (the receiver for `RX_WAKER`, the sender
    /// for `TX_WAKER`) may call this, before it set its `*_GONE` bit.
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
        // (its finishing read-modify-write); Acquire for the value if it
        // finished.
        self.state.fetch_or(bit, AcqRel)
    }

    /// Rule 5: sets `finish`, and with it `gone` if the state it replaces
    /// does not satisfy `needs_more` (the caller has more to do there:
    /// a waker to wake, a value to take back). Returns the state before.
    fn finish(&self, finish: usize, gone: usize, needs_more: impl Fn(usize) -> bool) -> usize {
        let mut cur = self.state.load(Relaxed);
        loop {
            let next = if needs_more(cur) {
                cur | finish
            } else {
                cur | finish | gone
            };
            // AcqRel: Release publishes the value (or our last access, with
            // `gone`) to the other side; Acquire sees its waker, and its
            // last access if it is gone too. A failed CAS only retries.
            match self.state.compare_exchange_weak(cur, next, AcqRel, Relaxed) {
                Ok(prev) => return prev,
                Err(actual) => cur = actual,
            }
        }
    }
}

/// Rule 4: sets `gone` (the caller's `*_GONE` bit) after the caller's last
/// access, and frees the allocation if the other side had left already.
///
/// # Safety
///
/// `inner` is the caller's side's pointer, and this side has not set its
/// bit yet; the caller does not touch the allocation after this.
unsafe fn leave<T>(inner: NonNull<Inner<T>>, gone: usize, other: usize) {
    // SAFETY: our bit is not set, so the other side cannot have freed it.
    let state = unsafe { inner.as_ref() }.state.fetch_or(gone, AcqRel);
    if state & other != 0 {
        // SAFETY: both bits are now set and ours was the second (rule 4):
        // nobody else touches the allocation.
        unsafe { free(inner) };
    }
}

/// Frees the allocation, then drops whatever its cells still held.
///
/// The cells are emptied through `with_mut` first: in a normal build that
/// is the drop's own work, and under loom it is a tracked write of each
/// cell, which loom checks against the other side's last access of it (a
/// side that left before its last access would show up as a race).
/// Their contents are dropped after the block is freed, so a panicking
/// `T::drop` cannot leak it.
///
/// # Safety
///
/// Both sides are gone (rule 4), and the caller saw the other side's bit
/// with Acquire ordering, so every access of theirs happened before.
unsafe fn free<T>(inner: NonNull<Inner<T>>) {
    // SAFETY: initialised by `channel`, and nobody else holds it.
    let block = unsafe { inner.as_ref() };
    // SAFETY: ours alone, per the caller's contract.
    let rx_waker = block.rx_waker.with_mut(|w| unsafe { (*w).take() });
    // SAFETY: as above.
    let value = block.value.with_mut(|v| unsafe { (*v).take() });
    // SAFETY: as above.
    let tx_waker = block.tx_waker.with_mut(|w| unsafe { (*w).take() });
    // SAFETY: the cells are empty now; this drops the state word and the
    // loom bookkeeping of a `--cfg loom` build, nothing else.
    unsafe { inner.drop_in_place() };
    let layout = Layout::new::<Inner<T>>();
    if cfg!(miri) {
        // SAFETY: `alloc_block` took it from the global allocator with
        // this layout; its contents were just dropped.
        unsafe { std::alloc::dealloc(inner.as_ptr().cast(), layout) };
    } else {
        // SAFETY: `alloc_block` took it from the cache with this layout;
        // its contents were just dropped, and nothing touches it again.
        unsafe { cell_cache::free(inner.cast(), layout) };
    }
    drop((rx_waker, value, tx_waker));
}

/// Memory for a channel's block, uninitialised.
///
/// Blocks come from the task-cell cache (`task::cell_cache`): like a task
/// cell, a block is made on one thread and often freed on another, once
/// per request in a request/reply loop, which glibc's per-thread free
/// lists serve badly (docs/PERFORMANCE.md, "request_response: the
/// oneshot's block, and where a wake goes", section 2). Under Miri they come from the global allocator, so
/// that Miri sees each block's own allocation and checks every access
/// against its free.
fn alloc_block<T>() -> NonNull<Inner<T>> {
    let layout = Layout::new::<Inner<T>>();
    if cfg!(miri) {
        // SAFETY: the layout is not empty: it holds the state word.
        let ptr = unsafe { std::alloc::alloc(layout) };
        NonNull::new(ptr)
            .unwrap_or_else(|| std::alloc::handle_alloc_error(layout))
            .cast()
    } else {
        cell_cache::alloc(layout).cast()
    }
}

/// A handle's drop (rules 2-5): sets `finish` (`TX_DROPPED` or
/// `RX_CLOSED`), wakes the other side's waker in `cell` if `must_wake`
/// says the state needs it, and leaves with `gone`, freeing the block if
/// `other_gone` was set already. With nothing to wake, the finish and the
/// leave are one compare-and-swap.
///
/// # Safety
///
/// The caller is the side that owns `gone` and has not left; `cell` picks
/// the other side's waker cell, which `must_wake` guards (`tx_must_wake`
/// for `rx_waker`, `rx_must_wake` for `tx_waker`). (A selector, not a
/// reference: no reference into the block outlives its free.)
unsafe fn drop_side<T>(
    ptr: NonNull<Inner<T>>,
    finish: usize,
    gone: usize,
    other_gone: usize,
    cell: fn(&Inner<T>) -> &UnsafeCell<Option<Waker>>,
    must_wake: fn(usize) -> bool,
) {
    // SAFETY: we have not left, so the allocation is live (rule 4).
    let prev = unsafe { ptr.as_ref() }.finish(finish, gone, must_wake);
    if must_wake(prev) {
        // SAFETY: our read-modify-write showed the other side's waker bit
        // with our finishing bit now set: its owner will not write the
        // cell again (rules 2 and 3); we have not left.
        unsafe { wake(cell(ptr.as_ref())) };
        // SAFETY: the wake was our last access.
        unsafe { leave(ptr, gone, other_gone) };
    } else if prev & other_gone != 0 {
        // SAFETY: we set `gone` and saw `other_gone`: we are the second
        // (rule 4).
        unsafe { free(ptr) };
    }
}

/// Wakes the waker in `cell` by reference.
///
/// # Safety
///
/// The caller's read-modify-write showed the waker bit of `cell` set
/// together with its own finishing bit, so the owner of `cell` will not
/// write it any more (rules 2 and 3), and the caller has not left.
unsafe fn wake(cell: &UnsafeCell<Option<Waker>>) {
    cell.with(|w| {
        // SAFETY: no writer, per the caller's contract; reads may overlap.
        let waker = unsafe { &*w };
        if let Some(w) = waker {
            // Contained: a panic here would unwind out of `send` (the value
            // already delivered) or a handle's drop (an abort if that drop
            // runs during an unwind), skipping the caller's `leave`, so the
            // block would never be freed (rule 4).
            crate::task::waker::wake_by_ref_contained(w);
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

/// The sender's finish must wake the receiver.
fn tx_must_wake(state: usize) -> bool {
    state & RX_WAKER != 0 && state & RX_CLOSED == 0
}

/// The receiver's close must wake the sender.
fn rx_must_wake(state: usize) -> bool {
    state & TX_WAKER != 0 && state & TX_DONE == 0
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
    /// `None` once sent (and left).
    inner: Option<NonNull<Inner<T>>>,
    /// The channel owns (and may drop) a `T`.
    _value: PhantomData<T>,
}

// SAFETY: the sender touches the allocation only as the protocol allows,
// and moves a `T` to the receiver's thread (or drops one there), hence
// `T: Send`. `&Sender` only reads the state word.
unsafe impl<T: Send> Send for Sender<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for Sender<T> {}
// The value lives in the allocation, never in the handle.
impl<T> Unpin for Sender<T> {}

impl<T> Sender<T> {
    fn inner(&self) -> &Inner<T> {
        let inner = self.inner.as_ref().expect("sender used after send");
        // SAFETY: the sender has not left (it would be `None`), so the
        // allocation is live (rule 4).
        unsafe { inner.as_ref() }
    }

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
        let ptr = self.inner.take().expect("sender used after send");
        // SAFETY: we have not left, so the allocation is live (rule 4).
        let inner = unsafe { ptr.as_ref() };
        // SAFETY: rule 1: only the sender writes the value cell, before it
        // sets VALUE; the receiver reads it only after seeing VALUE.
        inner.value.with_mut(|v| unsafe { *v = Some(value) });
        // Rule 5: leave at once unless there is a waker to wake or the
        // value to take back.
        let prev = inner.finish(VALUE, TX_GONE, |s| s & (RX_WAKER | RX_CLOSED) != 0);
        if prev & RX_CLOSED != 0 {
            // SAFETY: rule 1: the receiver closed before VALUE was set, so
            // it never reads the cell; take the value back.
            let value = inner.value.with_mut(|v| unsafe { (*v).take() });
            // SAFETY: our last access was just above.
            unsafe { leave(ptr, TX_GONE, RX_GONE) };
            return Err(value.expect("value just stored"));
        }
        if prev & RX_WAKER != 0 {
            // SAFETY: our read-modify-write showed RX_WAKER with VALUE now
            // set: the receiver will not write rx_waker again (rule 2).
            unsafe { wake(&inner.rx_waker) };
            // SAFETY: the wake was our last access.
            unsafe { leave(ptr, TX_GONE, RX_GONE) };
        }
        // Otherwise TX_GONE was set with VALUE; the receiver frees.
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
        self.inner().state.load(Acquire) & RX_CLOSED != 0
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
        let inner = self.inner();
        // SAFETY: the sender owns tx_waker and has not left.
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
        let Some(ptr) = self.inner.take() else {
            return;
        };
        // SAFETY: the sender has not left; rx_waker is the cell it wakes
        // (rule 2).
        unsafe {
            drop_side(
                ptr,
                TX_DROPPED,
                TX_GONE,
                RX_GONE,
                |i| &i.rx_waker,
                tx_must_wake,
            )
        };
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
    /// `None` once the value (or the error) was returned, and the receiver
    /// left.
    inner: Option<NonNull<Inner<T>>>,
    /// [`close`](Receiver::close) was called before a value arrived: no
    /// value will ever be read (rule 1).
    closed_empty: bool,
    /// The channel owns (and may drop) a `T`.
    _value: PhantomData<T>,
}

// SAFETY: the receiver touches the allocation only as the protocol
// allows, and takes (or drops) a `T` sent from another thread, hence
// `T: Send`. `&Receiver` gives no access at all.
unsafe impl<T: Send> Send for Receiver<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for Receiver<T> {}
// The value lives in the allocation, never in the handle.
impl<T> Unpin for Receiver<T> {}

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
        let Some(ptr) = self.inner else {
            return Err(TryRecvError::Closed);
        };
        // SAFETY: we have not left, so the allocation is live (rule 4).
        let state = unsafe { ptr.as_ref() }.state.load(Acquire);
        if state & VALUE != 0 && !self.closed_empty {
            return Ok(self.take_value(state));
        }
        if state & TX_DROPPED != 0 || self.closed_empty {
            self.leave(state);
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
        let Some(ptr) = self.inner else {
            return;
        };
        // SAFETY: we have not left, so the allocation is live (rule 4).
        let inner = unsafe { ptr.as_ref() };
        let prev = inner.state.fetch_or(RX_CLOSED, AcqRel);
        if prev & VALUE == 0 {
            self.closed_empty = true;
        }
        if rx_must_wake(prev) {
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

    /// Takes the value out and leaves; the caller saw `state` with `VALUE`
    /// (Acquire), and `!closed_empty`.
    fn take_value(&mut self, state: usize) -> T {
        let ptr = self.inner.expect("receiver has its allocation");
        // SAFETY: we have not left, so the allocation is live (rule 4).
        let inner = unsafe { ptr.as_ref() };
        // SAFETY: rule 1: VALUE was seen with Acquire, so the sender's write
        // is visible and it will not touch the cell again (it saw no
        // RX_CLOSED, or we would be `closed_empty`).
        let value = inner.value.with_mut(|v| unsafe { (*v).take() });
        self.leave(state);
        value.expect("VALUE set with an empty cell")
    }

    /// Rule 4 for the receiver, once it has nothing more to do: frees at
    /// once if `state` (read with Acquire) shows the sender gone, else
    /// sets `RX_GONE`.
    fn leave(&mut self, state: usize) {
        let Some(ptr) = self.inner.take() else {
            return;
        };
        if state & TX_GONE != 0 {
            // SAFETY: the sender left before our Acquire read (rule 4), so
            // we are alone.
            unsafe { free(ptr) };
        } else {
            // SAFETY: this is our last access.
            unsafe { leave(ptr, RX_GONE, TX_GONE) };
        }
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        ready!(coop::poll_proceed(cx));
        let Some(ptr) = this.inner else {
            // Already returned its output.
            return Poll::Ready(Err(RecvError(())));
        };
        if this.closed_empty {
            // RX_CLOSED is set and nothing else of ours is left to do.
            // SAFETY: we have not left, so the allocation is live.
            let state = unsafe { ptr.as_ref() }.state.load(Acquire);
            this.leave(state);
            return Poll::Ready(Err(RecvError(())));
        }
        // SAFETY: we have not left, so the allocation is live (rule 4).
        let inner = unsafe { ptr.as_ref() };
        // SAFETY: the receiver owns rx_waker and has not left.
        let state = unsafe { inner.register(&inner.rx_waker, RX_WAKER, TX_DONE, cx.waker()) };
        let out = if state & VALUE != 0 {
            Ok(this.take_value(state))
        } else if state & TX_DROPPED != 0 {
            this.leave(state);
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
        let Some(ptr) = self.inner.take() else {
            return;
        };
        if self.closed_empty {
            // `close` did its part already.
            // SAFETY: this is our last access.
            return unsafe { leave(ptr, RX_GONE, TX_GONE) };
        }
        // SAFETY: the receiver has not left; tx_waker is the cell it wakes
        // (rule 3).
        unsafe {
            drop_side(
                ptr,
                RX_CLOSED,
                RX_GONE,
                TX_GONE,
                |i| &i.tx_waker,
                rx_must_wake,
            )
        };
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

/// Every way the two sides can leave (rule 4), one at a time, with the
/// allocation's contents counted: a value or waker dropped twice, or never,
/// fails here, and under Miri (which sees the allocation itself: the
/// block cache is bypassed there) so does any access after the free.
#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize as StdAtomicUsize;
    use std::sync::{Arc as StdArc, Mutex as StdMutex};
    use std::task::Wake;

    /// Counts its drops.
    struct Token(StdArc<StdAtomicUsize>);
    impl Drop for Token {
        fn drop(&mut self) {
            self.0.fetch_add(1, SeqCst);
        }
    }

    /// Counts wakes, and how many of its wakers are alive.
    #[derive(Default)]
    struct Count {
        wakes: StdAtomicUsize,
        /// Run by `wake_by_ref`, once: a receiver that polls from inside
        /// the sender's wake.
        on_wake: StdMutex<Option<Box<dyn FnOnce() + Send>>>,
    }
    impl Wake for Count {
        fn wake(self: StdArc<Self>) {
            self.wake_by_ref();
        }
        fn wake_by_ref(self: &StdArc<Self>) {
            self.wakes.fetch_add(1, SeqCst);
            let f = self.on_wake.lock().unwrap().take();
            if let Some(f) = f {
                f();
            }
        }
    }
    fn alive(count: &StdArc<Count>) -> usize {
        StdArc::strong_count(count) - 1
    }

    fn poll_rx<T>(rx: &mut Receiver<T>, waker: &Waker) -> Poll<Result<T, RecvError>> {
        Pin::new(rx).poll(&mut Context::from_waker(waker))
    }

    #[test]
    fn send_before_any_poll_leaves_at_once_and_the_receiver_frees() {
        let drops = StdArc::new(StdAtomicUsize::new(0));
        let (tx, mut rx) = channel();
        assert!(tx.send(Token(drops.clone())).is_ok());
        let value = rx.try_recv().expect("sent");
        assert!(rx.inner.is_none(), "the receiver left");
        drop(value);
        drop(rx);
        assert_eq!(drops.load(SeqCst), 1);
    }

    #[test]
    fn a_registered_receiver_is_woken_and_frees_after_the_sender_left() {
        let count = StdArc::new(Count::default());
        let waker = Waker::from(count.clone());
        let (tx, mut rx) = channel::<u32>();
        assert!(poll_rx(&mut rx, &waker).is_pending());
        assert_eq!(alive(&count), 2, "ours and the registered clone");
        // The same waker again: `will_wake`, nothing is stored.
        assert!(poll_rx(&mut rx, &waker.clone()).is_pending());
        assert_eq!(alive(&count), 2, "no second clone");
        tx.send(5).unwrap();
        assert_eq!(count.wakes.load(SeqCst), 1);
        assert_eq!(poll_rx(&mut rx, &waker), Poll::Ready(Ok(5)));
        drop(waker);
        assert_eq!(alive(&count), 0, "the registered waker went with the block");
    }

    #[test]
    fn the_sender_frees_when_the_receiver_left_during_its_wake() {
        // The receiver takes the value and leaves from inside the wake, so
        // the sender's `leave` is the second one and frees.
        let drops = StdArc::new(StdAtomicUsize::new(0));
        let count = StdArc::new(Count::default());
        let waker = Waker::from(count.clone());
        let (tx, rx) = channel();
        let rx = StdArc::new(StdMutex::new(rx));
        assert!(poll_rx(&mut rx.lock().unwrap(), &waker).is_pending());
        let got = StdArc::new(StdMutex::new(None));
        let (rx2, got2, waker2) = (rx.clone(), got.clone(), waker.clone());
        *count.on_wake.lock().unwrap() = Some(Box::new(move || {
            let out = poll_rx(&mut rx2.lock().unwrap(), &waker2);
            *got2.lock().unwrap() = Some(out);
        }));
        assert!(tx.send(Token(drops.clone())).is_ok());
        let out = got.lock().unwrap().take().expect("polled from the wake");
        assert!(matches!(out, Poll::Ready(Ok(_))));
        assert!(rx.lock().unwrap().inner.is_none(), "the receiver left");
        drop(out);
        assert_eq!(drops.load(SeqCst), 1);
        drop(waker);
        assert_eq!(
            alive(&count),
            0,
            "the registered waker was dropped by the sender's free"
        );
    }

    #[test]
    fn a_dropped_receiver_gets_the_value_handed_back_and_the_sender_frees() {
        let drops = StdArc::new(StdAtomicUsize::new(0));
        let (tx, rx) = channel();
        drop(rx);
        let back = tx.send(Token(drops.clone())).expect_err("handed back");
        assert_eq!(drops.load(SeqCst), 0);
        drop(back);
        assert_eq!(drops.load(SeqCst), 1);
    }

    #[test]
    fn an_unread_value_is_dropped_with_the_block() {
        let drops = StdArc::new(StdAtomicUsize::new(0));
        let (tx, rx) = channel();
        assert!(tx.send(Token(drops.clone())).is_ok());
        assert_eq!(drops.load(SeqCst), 0);
        drop(rx);
        assert_eq!(drops.load(SeqCst), 1);
    }

    #[test]
    fn an_unread_value_is_dropped_when_the_receiver_leaves_first() {
        // The receiver is registered, so the send must wake before it
        // leaves; the receiver drops in the wake and leaves first.
        let drops = StdArc::new(StdAtomicUsize::new(0));
        let count = StdArc::new(Count::default());
        let waker = Waker::from(count.clone());
        let (tx, rx) = channel();
        let rx = StdArc::new(StdMutex::new(Some(rx)));
        assert!(poll_rx(rx.lock().unwrap().as_mut().unwrap(), &waker).is_pending());
        let rx2 = rx.clone();
        *count.on_wake.lock().unwrap() = Some(Box::new(move || drop(rx2.lock().unwrap().take())));
        assert!(tx.send(Token(drops.clone())).is_ok());
        assert!(rx.lock().unwrap().is_none());
        assert_eq!(drops.load(SeqCst), 1);
        drop(waker);
        assert_eq!(alive(&count), 0);
    }

    #[test]
    fn a_sender_dropped_unsent_wakes_the_receiver_which_frees() {
        let count = StdArc::new(Count::default());
        let waker = Waker::from(count.clone());
        let (tx, mut rx) = channel::<u8>();
        assert!(poll_rx(&mut rx, &waker).is_pending());
        drop(tx);
        assert_eq!(count.wakes.load(SeqCst), 1);
        assert_eq!(poll_rx(&mut rx, &waker), Poll::Ready(Err(RecvError(()))));
        assert!(rx.inner.is_none());
        drop(waker);
        assert_eq!(alive(&count), 0);
    }

    #[test]
    fn both_dropped_unused_in_either_order() {
        let (tx, rx) = channel::<String>();
        drop(tx);
        drop(rx);
        let (tx, rx) = channel::<String>();
        drop(rx);
        drop(tx);
    }

    #[test]
    fn close_then_send_then_drop() {
        let drops = StdArc::new(StdAtomicUsize::new(0));
        let (tx, mut rx) = channel();
        rx.close();
        assert!(tx.is_closed());
        assert!(tx.send(Token(drops.clone())).is_err());
        assert_eq!(drops.load(SeqCst), 1, "the handed-back value was dropped");
        assert_eq!(rx.try_recv().err(), Some(TryRecvError::Closed));
        drop(rx);
    }

    #[test]
    fn close_after_send_still_receives() {
        let (tx, mut rx) = channel();
        tx.send(3u8).unwrap();
        rx.close();
        assert_eq!(rx.try_recv(), Ok(3));
    }

    #[test]
    fn closed_empty_receiver_polled_then_dropped_sender_frees() {
        let (tx, mut rx) = channel::<u8>();
        rx.close();
        assert_eq!(
            poll_rx(&mut rx, Waker::noop()),
            Poll::Ready(Err(RecvError(())))
        );
        assert!(rx.inner.is_none(), "the receiver left");
        drop(tx);
    }

    #[test]
    fn a_waiting_sender_is_woken_by_the_receiver_drop() {
        let count = StdArc::new(Count::default());
        let waker = Waker::from(count.clone());
        let (mut tx, rx) = channel::<u8>();
        assert!(
            tx.poll_closed(&mut Context::from_waker(&waker))
                .is_pending()
        );
        drop(rx);
        assert_eq!(count.wakes.load(SeqCst), 1);
        assert!(tx.poll_closed(&mut Context::from_waker(&waker)).is_ready());
        drop(tx);
        drop(waker);
        assert_eq!(alive(&count), 0);
    }

    #[test]
    fn a_replaced_receiver_waker_is_dropped_once() {
        let first = StdArc::new(Count::default());
        let second = StdArc::new(Count::default());
        let (tx, mut rx) = channel::<u8>();
        assert!(poll_rx(&mut rx, &Waker::from(first.clone())).is_pending());
        assert!(poll_rx(&mut rx, &Waker::from(second.clone())).is_pending());
        assert_eq!(alive(&first), 0, "replaced");
        tx.send(1).unwrap();
        assert_eq!(
            (first.wakes.load(SeqCst), second.wakes.load(SeqCst)),
            (0, 1)
        );
        assert_eq!(rx.try_recv(), Ok(1));
        assert_eq!(alive(&second), 0);
    }

    #[test]
    fn across_threads_every_value_arrives_once() {
        let drops = StdArc::new(StdAtomicUsize::new(0));
        let n = if cfg!(miri) { 20 } else { 2_000 };
        let (txs, rxs): (Vec<_>, Vec<_>) = (0..n).map(|_| channel::<Token>()).unzip();
        let d = drops.clone();
        let sender = std::thread::spawn(move || {
            for tx in txs {
                let _ = tx.send(Token(d.clone()));
            }
        });
        let mut received = 0;
        for (i, rx) in rxs.into_iter().enumerate() {
            // Every third receiver is dropped instead: its value is dropped
            // by whichever side leaves second.
            if i % 3 == 0 {
                drop(rx);
            } else {
                drop(rx.blocking_recv().expect("sent"));
                received += 1;
            }
        }
        sender.join().unwrap();
        assert!(received > 0);
        assert_eq!(drops.load(SeqCst), n);
    }

    /// A receiver's waker whose `wake` panics (a foreign executor's, a
    /// hand-written future's): the sender's wake-up must not unwind out of
    /// `send` (the value is delivered, yet `send` would panic) nor skip its
    /// `leave` (rule 4: the block, and the wakers and value in it, would
    /// never be freed); out of `Sender::drop` during an unwind it would
    /// abort the process. `task::waker::wake_contained` is the crate's rule
    /// for stored wakers (docs/ARCHITECTURE.md, "A waker that panics").
    #[test]
    fn a_panicking_receiver_waker_neither_unwinds_out_of_send_nor_leaks_the_block() {
        struct Panics;
        impl Wake for Panics {
            fn wake(self: StdArc<Self>) {
                self.wake_by_ref();
            }
            fn wake_by_ref(self: &StdArc<Self>) {
                panic!("a foreign waker panics");
            }
        }
        let panics = StdArc::new(Panics);
        let waker = Waker::from(panics.clone());
        let (tx, mut rx) = channel::<u32>();
        assert!(poll_rx(&mut rx, &waker).is_pending());
        let sent = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| tx.send(7)));
        assert!(
            matches!(sent, Ok(Ok(()))),
            "send unwound with the waker's panic after delivering its value"
        );
        assert_eq!(rx.try_recv(), Ok(7));
        drop(rx);
        drop(waker);
        assert_eq!(
            StdArc::strong_count(&panics),
            1,
            "the registered waker was never dropped: the block leaked"
        );

        // The sender's drop: the same wake, from `Drop`.
        let waker = Waker::from(panics.clone());
        let (tx, mut rx) = channel::<u32>();
        assert!(poll_rx(&mut rx, &waker).is_pending());
        let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(tx)));
        assert!(
            dropped.is_ok(),
            "Sender::drop unwound with the waker's panic"
        );
        assert_eq!(poll_rx(&mut rx, &waker), Poll::Ready(Err(RecvError(()))));
        drop(rx);
        drop(waker);
        assert_eq!(StdArc::strong_count(&panics), 1, "the block leaked");
    }
}
