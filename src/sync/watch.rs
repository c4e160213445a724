//! A watch channel: one value that a sender updates and any number of
//! receivers observe, each learning when it changed since it last looked.
//!
//! Receivers see only the latest value: updates that happen while a
//! receiver is not looking are merged (it sees one change, to the newest
//! value). Useful for configuration, state or shutdown flags.
//!
//! **Closing.** When the [`Sender`] is dropped, [`Receiver::changed`]
//! returns any change not yet seen, then fails; the last value stays
//! readable. With every receiver gone, [`Sender::send`] fails.
//!
//! ```
//! use windlass::sync::watch;
//!
//! # windlass::Runtime::new().unwrap().block_on(async {
//! let (tx, mut rx) = watch::channel("starting");
//! let observer = windlass::spawn(async move {
//!     while rx.changed().await.is_ok() {
//!         if *rx.borrow_and_update() == "ready" {
//!             return true;
//!         }
//!     }
//!     false
//! });
//! tx.send("ready").unwrap();
//! assert!(observer.await.unwrap());
//! # });
//! ```
//!
//! # Design
//!
//! A mutex holds the value; an atomic *version* word counts the changes
//! (above bit 0, which says the sender is gone). A sender changes the value
//! and bumps the version while it holds the mutex, so a receiver that reads
//! the version under the same mutex knows exactly which value it saw. A
//! waiting receiver reads the version, registers an `event-listener`
//! listener, reads it again, and sleeps; every change and the close notify
//! all listeners after the bump. (`listen` and `notify` each put a full
//! fence, so the second read or the notify sees the other.)

use std::fmt;
use std::ops::Deref;

use event_listener::Event as Listeners;

use crate::loom::sync::atomic::{AtomicUsize, Ordering::*};
use crate::loom::sync::{Arc, Mutex, MutexGuard};

/// Bit 0 of the version word: the sender is gone.
const CLOSED: usize = 1;
/// One change, above the flag.
const CHANGE: usize = 2;

/// Creates a watch channel holding `init`.
///
/// ```
/// let (tx, rx) = windlass::sync::watch::channel(1);
/// tx.send(2).unwrap();
/// assert_eq!(*rx.borrow(), 2);
/// ```
pub fn channel<T>(init: T) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        value: Mutex::new(init),
        version: AtomicUsize::new(0),
        receivers: AtomicUsize::new(1),
        changed: Listeners::new(),
        no_receivers: Listeners::new(),
    });
    let rx = Receiver {
        shared: shared.clone(),
        seen: 0,
    };
    (Sender { shared }, rx)
}

struct Shared<T> {
    value: Mutex<T>,
    /// `changes * CHANGE | CLOSED`; changed only under the `value` mutex
    /// (except for `CLOSED`).
    version: AtomicUsize,
    receivers: AtomicUsize,
    /// Receivers waiting for a change or the close.
    changed: Listeners,
    /// Senders waiting in `closed()`.
    no_receivers: Listeners,
}

/// A borrow of the value in a watch channel; holds a lock, so keep it
/// short and do not hold it across an `.await`.
///
/// ```
/// let (_tx, rx) = windlass::sync::watch::channel(String::from("v"));
/// let value = rx.borrow();
/// assert_eq!(value.len(), 1);
/// ```
pub struct Ref<'a, T> {
    guard: MutexGuard<'a, T>,
}

impl<T> Deref for Ref<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T: fmt::Debug> fmt::Debug for Ref<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// The sending half: the one that changes the value.
///
/// ```
/// let (tx, rx) = windlass::sync::watch::channel(0);
/// tx.send_modify(|v| *v += 1);
/// assert_eq!(*rx.borrow(), 1);
/// ```
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

impl<T> Sender<T> {
    /// Replaces the value and tells every receiver. Fails, handing the
    /// value back, if no receiver is left.
    ///
    /// ```
    /// let (tx, rx) = windlass::sync::watch::channel(0);
    /// drop(rx);
    /// assert_eq!(tx.send(1).unwrap_err().0, 1);
    /// ```
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        if self.shared.receivers.load(Acquire) == 0 {
            return Err(SendError(value));
        }
        self.send_replace(value);
        Ok(())
    }

    /// Replaces the value, even with no receiver, and returns the old one.
    ///
    /// ```
    /// let (tx, _rx) = windlass::sync::watch::channel(1);
    /// assert_eq!(tx.send_replace(2), 1);
    /// ```
    pub fn send_replace(&self, value: T) -> T {
        let mut old = Some(value);
        self.send_if_modified(|v| {
            old = Some(std::mem::replace(v, old.take().expect("set above")));
            true
        });
        old.expect("swapped")
    }

    /// Changes the value in place and tells every receiver.
    ///
    /// ```
    /// let (tx, rx) = windlass::sync::watch::channel(vec![1]);
    /// tx.send_modify(|v| v.push(2));
    /// assert_eq!(*rx.borrow(), [1, 2]);
    /// ```
    pub fn send_modify(&self, modify: impl FnOnce(&mut T)) {
        self.send_if_modified(|v| {
            modify(v);
            true
        });
    }

    /// Runs `modify` on the value; tells the receivers only if it returns
    /// true (it changed something). Returns what `modify` returned. If
    /// `modify` panics, the value counts as changed (it may have been) and
    /// the receivers are told before the panic goes on.
    ///
    /// ```
    /// let (tx, rx) = windlass::sync::watch::channel(5);
    /// assert!(!tx.send_if_modified(|v| false));
    /// assert!(!rx.has_changed().unwrap());
    /// ```
    pub fn send_if_modified(&self, modify: impl FnOnce(&mut T) -> bool) -> bool {
        let mut value = self.shared.value.lock();
        let modified =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| modify(&mut value)));
        let modified = match modified {
            Ok(modified) => modified,
            Err(payload) => {
                // `modify` may have changed the value before it panicked:
                // publish it as changed, so no receiver keeps a stale view
                // without a wake-up, then let the panic go on.
                self.shared.version.fetch_add(CHANGE, Release);
                drop(value);
                self.shared.changed.notify(usize::MAX);
                std::panic::resume_unwind(payload);
            }
        };
        if !modified {
            return false;
        }
        // Under the value lock: a receiver that reads the version under
        // the lock knows which value goes with it. Release pairs with the
        // receivers' Acquire loads in `changed`.
        self.shared.version.fetch_add(CHANGE, Release);
        drop(value);
        self.shared.changed.notify(usize::MAX);
        true
    }

    /// The current value.
    ///
    /// ```
    /// let (tx, _rx) = windlass::sync::watch::channel('a');
    /// assert_eq!(*tx.borrow(), 'a');
    /// ```
    pub fn borrow(&self) -> Ref<'_, T> {
        Ref {
            guard: self.shared.value.lock(),
        }
    }

    /// A new receiver; the current value counts as seen by it.
    ///
    /// ```
    /// let (tx, _rx) = windlass::sync::watch::channel(0);
    /// let rx2 = tx.subscribe();
    /// assert!(!rx2.has_changed().unwrap());
    /// ```
    pub fn subscribe(&self) -> Receiver<T> {
        let value = self.shared.value.lock();
        let seen = self.shared.version.load(Acquire) / CHANGE;
        self.shared.receivers.fetch_add(1, Relaxed);
        drop(value);
        Receiver {
            shared: self.shared.clone(),
            seen,
        }
    }

    /// Receivers now.
    ///
    /// ```
    /// let (tx, rx) = windlass::sync::watch::channel(0);
    /// let rx2 = rx.clone();
    /// assert_eq!(tx.receiver_count(), 2);
    /// ```
    pub fn receiver_count(&self) -> usize {
        self.shared.receivers.load(Acquire)
    }

    /// True if every receiver is gone.
    ///
    /// ```
    /// let (tx, rx) = windlass::sync::watch::channel(0);
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.receiver_count() == 0
    }

    /// Waits until every receiver is gone.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: it only watches.
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let (tx, rx) = windlass::sync::watch::channel(0);
    /// windlass::spawn(async move { drop(rx) });
    /// tx.closed().await;
    /// # });
    /// ```
    pub async fn closed(&self) {
        loop {
            if self.is_closed() {
                return;
            }
            let listener = self.shared.no_receivers.listen();
            if self.is_closed() {
                return;
            }
            super::listener::wait(listener).await;
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        self.shared.version.fetch_or(CLOSED, Release);
        self.shared.changed.notify(usize::MAX);
    }
}

impl<T: fmt::Debug> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("watch::Sender")
            .field("value", &*self.borrow())
            .finish()
    }
}

/// A receiving half; clone it for more observers (a clone has seen what
/// the original has seen).
///
/// ```
/// # windlass::Runtime::new().unwrap().block_on(async {
/// let (tx, mut rx) = windlass::sync::watch::channel(0);
/// tx.send(1).unwrap();
/// rx.changed().await.unwrap();
/// assert_eq!(*rx.borrow(), 1);
/// # });
/// ```
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
    /// The change count this receiver has seen.
    seen: usize,
}

impl<T> Receiver<T> {
    /// The current value, without marking it seen.
    ///
    /// ```
    /// let (_tx, rx) = windlass::sync::watch::channel(3);
    /// assert_eq!(*rx.borrow(), 3);
    /// ```
    pub fn borrow(&self) -> Ref<'_, T> {
        Ref {
            guard: self.shared.value.lock(),
        }
    }

    /// The current value, marking it seen: [`changed`](Self::changed) then
    /// waits for a later change.
    ///
    /// ```
    /// let (tx, mut rx) = windlass::sync::watch::channel(0);
    /// tx.send(1).unwrap();
    /// assert_eq!(*rx.borrow_and_update(), 1);
    /// assert!(!rx.has_changed().unwrap());
    /// ```
    pub fn borrow_and_update(&mut self) -> Ref<'_, T> {
        let guard = self.shared.value.lock();
        // Under the value lock: the version matches the value we return.
        self.seen = self.shared.version.load(Acquire) / CHANGE;
        Ref { guard }
    }

    /// True if the value changed since this receiver last saw it. Fails if
    /// the sender is gone and there is no unseen change.
    ///
    /// ```
    /// let (tx, rx) = windlass::sync::watch::channel(0);
    /// assert!(!rx.has_changed().unwrap());
    /// tx.send(1).unwrap();
    /// assert!(rx.has_changed().unwrap());
    /// ```
    pub fn has_changed(&self) -> Result<bool, RecvError> {
        let version = self.shared.version.load(Acquire);
        if version / CHANGE != self.seen {
            Ok(true)
        } else if version & CLOSED != 0 {
            Err(RecvError(()))
        } else {
            Ok(false)
        }
    }

    /// Waits until the value changes from the one this receiver last saw,
    /// and marks the change seen (read it with [`borrow`](Self::borrow)).
    /// Returns at once if it already changed. Fails once the sender is gone
    /// and every change was seen.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: the change is marked seen only by the poll that returns
    /// `Ok`.
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let (tx, mut rx) = windlass::sync::watch::channel(0);
    /// windlass::spawn(async move { tx.send(1).unwrap() });
    /// rx.changed().await.unwrap();
    /// assert!(rx.changed().await.is_err()); // sender gone, nothing new
    /// # });
    /// ```
    pub async fn changed(&mut self) -> Result<(), RecvError> {
        super::budgeted(wait_changed(&self.shared, &mut self.seen)).await
    }

    /// Waits until `predicate` holds for the value (checking the current
    /// one first), marks it seen, and returns it borrowed. Fails if the
    /// sender goes away first.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe, like [`changed`](Self::changed).
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let (tx, mut rx) = windlass::sync::watch::channel(0);
    /// windlass::spawn(async move {
    ///     for i in 1..=5 {
    ///         tx.send(i).unwrap();
    ///         windlass::task::yield_now().await;
    ///     }
    /// });
    /// let value = rx.wait_for(|v| *v >= 3).await.unwrap();
    /// assert!(*value >= 3);
    /// # });
    /// ```
    pub async fn wait_for(
        &mut self,
        mut predicate: impl FnMut(&T) -> bool,
    ) -> Result<Ref<'_, T>, RecvError> {
        let Receiver { shared, seen } = self;
        let shared: &Shared<T> = shared;
        loop {
            {
                let guard = shared.value.lock();
                // Under the value lock: this version goes with this value.
                *seen = shared.version.load(Acquire) / CHANGE;
                if predicate(&guard) {
                    return Ok(Ref { guard });
                }
            }
            super::budgeted(wait_changed(shared, seen)).await?;
        }
    }

    /// True if both receivers belong to the same channel.
    ///
    /// ```
    /// let (_tx, rx) = windlass::sync::watch::channel(0);
    /// assert!(rx.same_channel(&rx.clone()));
    /// ```
    pub fn same_channel(&self, other: &Receiver<T>) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

/// Waits until `shared` has a change past `seen`, and marks it seen; fails
/// if the sender is gone and there is none.
async fn wait_changed<T>(shared: &Shared<T>, seen: &mut usize) -> Result<(), RecvError> {
    loop {
        if let Some(result) = check_changed(shared, seen) {
            return result;
        }
        let listener = shared.changed.listen();
        // Re-check after registering (fences in `listen` and `notify`).
        if let Some(result) = check_changed(shared, seen) {
            return result;
        }
        super::listener::wait(listener).await;
    }
}

/// `Some(Ok)` (and marks it seen) if there is an unseen change, `Some(Err)`
/// if closed with none, `None` to keep waiting.
fn check_changed<T>(shared: &Shared<T>, seen: &mut usize) -> Option<Result<(), RecvError>> {
    // Acquire: pairs with the sender's Release bump and close.
    let version = shared.version.load(Acquire);
    if version / CHANGE != *seen {
        *seen = version / CHANGE;
        Some(Ok(()))
    } else if version & CLOSED != 0 {
        Some(Err(RecvError(())))
    } else {
        None
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Receiver<T> {
        self.shared.receivers.fetch_add(1, Relaxed);
        Receiver {
            shared: self.shared.clone(),
            seen: self.seen,
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        // AcqRel: the last receiver's drop is seen by `is_closed`.
        if self.shared.receivers.fetch_sub(1, AcqRel) == 1 {
            self.shared.no_receivers.notify(usize::MAX);
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("watch::Receiver")
            .field("value", &*self.borrow())
            .finish()
    }
}

/// The error of [`Sender::send`]: no receiver is left. Holds the value.
///
/// ```
/// let (tx, rx) = windlass::sync::watch::channel(0);
/// drop(rx);
/// assert!(tx.send(1).is_err());
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SendError<T>(pub T);

/// The error of [`Receiver::changed`]: the sender is gone and every change
/// was seen.
///
/// ```
/// let (tx, rx) = windlass::sync::watch::channel(0);
/// drop(tx);
/// assert!(rx.has_changed().is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecvError(());

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SendError(..)")
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("watch channel has no receivers")
    }
}

impl<T> std::error::Error for SendError<T> {}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("watch sender dropped")
    }
}

impl std::error::Error for RecvError {}
