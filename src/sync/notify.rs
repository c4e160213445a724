//! [`Notify`]: wake one waiting task, or all of them; the wait list behind
//! [`Condition`](super::Condition) too.
//!
//! # Protocol
//!
//! A mutex guards a [`WaitList`] of waiters and the stored *permit*; an
//! atomic counts [`Notify::notify_waiters`] calls (the *generation*).
//!
//! - A [`Notified`] future records the generation when it is created. On
//!   its first poll (or [`Notified::enable`]), under the mutex: if the
//!   generation moved, `notify_waiters` ran after it was created, so it is
//!   done; else if a permit is stored it takes it and is done; else it
//!   links itself at the tail.
//! - `notify_one`, under the mutex: unlinks the head and marks it notified
//!   *by one*, or, if nobody waits, stores the permit (at most one).
//! - `notify_waiters`, under the mutex: bumps the generation and unlinks
//!   every waiter, marking each notified *by all*.
//! - A [`Notified`] dropped after being notified by one, before it
//!   returned `Ready`, passes its notification on as `notify_one` would:
//!   one a notifier picked, or the permit [`Notified::enable`] took.
//!
//! Everything but the generation's read at creation happens under the
//! mutex, so no notification is lost between a check and a link. A
//! [`Condition`](super::Condition) uses the same list without the permit
//! (asyncio's `notify` with nobody waiting does nothing).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker, ready};

use super::waiters::{Key, WaitList, WakeList, set_waker};
use crate::loom::sync::Mutex;
use crate::loom::sync::atomic::{AtomicUsize, Ordering::*};
use crate::task::coop;

/// Wakes tasks that wait for "something happened", with no data attached.
///
/// [`notified()`](Notify::notified) waits. [`notify_one`](Notify::notify_one)
/// wakes the longest waiter, or, if nobody waits, stores one permit so that
/// the next `notified()` returns at once (a notification sent just before
/// the receiver starts waiting is not lost). [`notify_waiters`](Notify::notify_waiters)
/// wakes every current waiter and stores nothing.
///
/// asyncio has no exact equivalent: it is a one-slot [`Event`](super::Event)
/// that resets itself as it wakes one task, the building block for hand-made
/// primitives.
///
/// ```
/// use std::sync::Arc;
/// use windlass::sync::Notify;
///
/// # windlass::Runtime::new().unwrap().block_on(async {
/// let notify = Arc::new(Notify::new());
/// let n = notify.clone();
/// let waiter = windlass::spawn(async move {
///     n.notified().await;
///     "woken"
/// });
/// notify.notify_one(); // stored if the waiter is not waiting yet
/// assert_eq!(waiter.await.unwrap(), "woken");
/// # });
/// ```
pub struct Notify {
    /// `notify_waiters` calls so far; read without the lock by `notified()`.
    generation: AtomicUsize,
    state: Mutex<State>,
}

struct State {
    /// A `notify_one` with nobody waiting (never set for a `Condition`).
    permit: bool,
    /// False for a `Condition`: a notification with nobody waiting is lost.
    stores_permit: bool,
    waiters: WaitList<Waiter>,
}

struct Waiter {
    waker: Option<Waker>,
    /// Set when unlinked by a notifier.
    notified: Option<By>,
}

/// Who notified a waiter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum By {
    /// `notify_one` or `notify_n`: passed on if the waiter is dropped.
    One,
    /// `notify_waiters` / `notify_all`: everyone got it.
    All,
}

impl Notify {
    /// A `Notify` with no permit stored and nobody waiting.
    ///
    /// ```
    /// let notify = windlass::sync::Notify::new();
    /// # drop(notify);
    /// ```
    pub fn new() -> Notify {
        Notify::with_permits(true)
    }

    /// A wait list that does or does not store a permit.
    pub(crate) fn with_permits(stores_permit: bool) -> Notify {
        Notify {
            generation: AtomicUsize::new(0),
            state: Mutex::new(State {
                permit: false,
                stores_permit,
                waiters: WaitList::new(),
            }),
        }
    }

    /// A future that completes when this `Notify` is notified.
    ///
    /// It completes on [`notify_one`](Self::notify_one) (when first in line,
    /// or by taking a stored permit), or on any
    /// [`notify_waiters`](Self::notify_waiters) called after this method,
    /// even before the future is first polled.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: a dropped future leaves the queue, and if a
    /// `notify_one` had already picked it, the notification goes to the next
    /// waiter (or back to the permit), so it is not lost.
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let notify = windlass::sync::Notify::new();
    /// let notified = notify.notified(); // created before the call ...
    /// notify.notify_waiters();
    /// notified.await; // ... so it completes
    /// # });
    /// ```
    pub fn notified(&self) -> Notified<'_> {
        Notified {
            notify: self,
            // Acquire: pairs with notify_waiters' AcqRel increment; reading
            // the old value means this call precedes that notify_waiters.
            stage: Stage::Start(self.generation.load(Acquire)),
            received: None,
        }
    }

    /// Wakes the longest waiter; if nobody waits, stores a permit for the
    /// next [`notified`](Self::notified) (at most one is stored).
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let notify = windlass::sync::Notify::new();
    /// notify.notify_one();
    /// notify.notify_one(); // still one permit
    /// notify.notified().await; // takes it
    /// # });
    /// ```
    pub fn notify_one(&self) {
        self.notify_n(1);
    }

    /// Wakes every task waiting now; stores no permit. Futures from
    /// [`notified`](Self::notified) that exist but were not polled yet are
    /// woken too.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use windlass::sync::{Notify, mpsc};
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let notify = Arc::new(Notify::new());
    /// let (ready_tx, mut ready_rx) = mpsc::unbounded_channel();
    /// let mut waiters = Vec::new();
    /// for _ in 0..3 {
    ///     let (notify, ready_tx) = (notify.clone(), ready_tx.clone());
    ///     waiters.push(windlass::spawn(async move {
    ///         let mut notified = std::pin::pin!(notify.notified());
    ///         notified.as_mut().enable(); // waiting from here on
    ///         ready_tx.send(()).unwrap();
    ///         notified.await;
    ///     }));
    /// }
    /// for _ in 0..3 {
    ///     ready_rx.recv().await.unwrap();
    /// }
    /// notify.notify_waiters();
    /// for w in waiters {
    ///     w.await.unwrap();
    /// }
    /// # });
    /// ```
    pub fn notify_waiters(&self) {
        self.notify_all();
    }

    /// Wakes up to `n` waiters, oldest first; with nobody waiting, stores
    /// the permit (if this is a `Notify`). Returns how many were woken.
    pub(crate) fn notify_n(&self, n: usize) -> usize {
        let mut state = self.state.lock();
        let mut wakers = WakeList::new();
        let mut woken = 0;
        while woken < n {
            let Some(key) = state.waiters.pop_front() else {
                break;
            };
            let w = state.waiters.get_mut(key);
            w.notified = Some(By::One);
            wakers.push(w.waker.take());
            woken += 1;
        }
        if woken == 0 && n > 0 && state.stores_permit {
            state.permit = true;
        }
        drop(state);
        wakers.wake_all();
        woken
    }

    /// Wakes every waiter (and every future created before this call);
    /// returns how many linked waiters were woken.
    pub(crate) fn notify_all(&self) -> usize {
        let mut state = self.state.lock();
        // AcqRel: Release pairs with `notified()`'s Acquire load.
        self.generation.fetch_add(1, AcqRel);
        let mut wakers = WakeList::new();
        let mut woken = 0;
        while let Some(key) = state.waiters.pop_front() {
            let w = state.waiters.get_mut(key);
            w.notified = Some(By::All);
            wakers.push(w.waker.take());
            woken += 1;
        }
        drop(state);
        wakers.wake_all();
        woken
    }

    /// Tasks waiting now (linked in the list).
    pub(crate) fn waiting(&self) -> usize {
        self.state.lock().waiters.len()
    }
}

impl Default for Notify {
    fn default() -> Notify {
        Notify::new()
    }
}

impl fmt::Debug for Notify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.lock();
        f.debug_struct("Notify")
            .field("permit", &state.permit)
            .field("waiting", &state.waiters.len())
            .finish()
    }
}

/// Where a [`Notified`] is.
#[derive(Clone, Copy, Debug)]
enum Stage {
    /// Not in the list; holds the generation seen at creation.
    Start(usize),
    /// Linked (or unlinked by a notifier) under this key.
    Waiting(Key),
    /// Notified in [`enable`](Notified::enable), not yet polled: the next
    /// poll returns `Ready`, and a drop first passes a `notify_one` on.
    Enabled,
    /// Returned `Ready`.
    Done,
}

/// The future of [`Notify::notified`].
///
/// ```
/// # windlass::Runtime::new().unwrap().block_on(async {
/// let notify = windlass::sync::Notify::new();
/// let mut notified = std::pin::pin!(notify.notified());
/// assert!(!notified.as_mut().enable()); // in the queue now
/// notify.notify_one();
/// notified.await;
/// # });
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct Notified<'a> {
    notify: &'a Notify,
    stage: Stage,
    /// How it was notified, once it was.
    received: Option<By>,
}

impl Notified<'_> {
    /// Joins the queue now, without waiting: a `notify_one` from here on
    /// can pick this future. Returns true if it is already notified (the
    /// next poll returns `Ready`). A notification it took (the stored
    /// permit) is passed on if the future is dropped before that poll, as
    /// one picked by `notify_one` is: the usual "enable, check the
    /// condition, return if it holds" loses nothing.
    ///
    /// Use it to register interest before checking a condition, so that a
    /// notification between the check and the first poll is not missed.
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let notify = windlass::sync::Notify::new();
    /// notify.notify_one();
    /// let mut notified = std::pin::pin!(notify.notified());
    /// assert!(notified.as_mut().enable()); // took the stored permit
    /// notified.await;
    /// # });
    /// ```
    pub fn enable(self: Pin<&mut Self>) -> bool {
        let this = self.get_mut();
        match this.stage {
            Stage::Start(_) => {
                if this.register(None).is_pending() {
                    return false;
                }
                this.stage = Stage::Enabled;
                true
            }
            Stage::Waiting(key) => {
                let mut state = this.notify.state.lock();
                state.waiters.get_mut(key).notified.is_some()
            }
            Stage::Enabled | Stage::Done => true,
        }
    }

    /// How it was notified, once `Ready`.
    pub(crate) fn received(&self) -> Option<By> {
        self.received
    }

    /// The first step: done if notified since creation, else linked.
    fn register(&mut self, waker: Option<&Waker>) -> Poll<()> {
        let Stage::Start(generation) = self.stage else {
            return Poll::Pending;
        };
        let mut state = self.notify.state.lock();
        if self.notify.generation.load(Acquire) != generation {
            self.received = Some(By::All);
            self.stage = Stage::Done;
            return Poll::Ready(());
        }
        if std::mem::take(&mut state.permit) {
            self.received = Some(By::One);
            self.stage = Stage::Done;
            return Poll::Ready(());
        }
        let key = state.waiters.push_back(Waiter {
            waker: waker.cloned(),
            notified: None,
        });
        self.stage = Stage::Waiting(key);
        Poll::Pending
    }

    /// Later polls: done once a notifier unlinked it.
    fn poll_waiting(&mut self, key: Key, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.notify.state.lock();
        let w = state.waiters.get_mut(key);
        match w.notified {
            Some(by) => {
                state.waiters.remove(key);
                self.received = Some(by);
                self.stage = Stage::Done;
                Poll::Ready(())
            }
            None => {
                set_waker(&mut w.waker, cx.waker());
                Poll::Pending
            }
        }
    }
}

impl Future for Notified<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        ready!(coop::poll_proceed(cx));
        let out = match this.stage {
            Stage::Start(_) => this.register(Some(cx.waker())),
            Stage::Waiting(key) => this.poll_waiting(key, cx),
            Stage::Enabled => {
                this.stage = Stage::Done;
                Poll::Ready(())
            }
            Stage::Done => Poll::Ready(()),
        };
        if out.is_ready() {
            coop::consume();
        }
        out
    }
}

impl Drop for Notified<'_> {
    /// Leaves the queue; passes on a `notify_one` it got but did not return
    /// (whether a notifier picked it, or `enable` took the stored permit).
    fn drop(&mut self) {
        let by = match self.stage {
            Stage::Waiting(key) => {
                let mut state = self.notify.state.lock();
                let w = state.waiters.remove(key);
                drop(state);
                w.notified
            }
            Stage::Enabled => self.received,
            Stage::Start(_) | Stage::Done => return,
        };
        if by == Some(By::One) {
            self.notify.notify_n(1);
        }
    }
}

impl fmt::Debug for Notified<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notified")
            .field("stage", &self.stage)
            .finish()
    }
}
