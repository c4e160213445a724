//! [`Condition`]: asyncio's `Condition`, used with a [`Mutex`] guard.
//!
//! A waiter joins a FIFO wait list (the one of [`Notify`], without its
//! permit) *before* it releases the mutex, so a notification sent after the
//! release cannot be missed; then it waits, then re-locks. A waiter that
//! was picked by `notify(n)` but is dropped before it holds the lock again
//! passes its notification on to the next waiter.

use std::fmt;

use super::mutex::MutexGuard;
use super::notify::{By, Notify};

/// Waits for a change to data behind a [`Mutex`](super::Mutex): asyncio's
/// `Condition`.
///
/// [`wait`](Condition::wait) takes the mutex's guard, unlocks, sleeps until
/// notified, then locks again and returns the guard.
/// [`wait_for`](Condition::wait_for) loops until a predicate over the data
/// holds (asyncio's `wait_for(predicate)`). [`notify(n)`](Condition::notify)
/// wakes the `n` longest waiters, [`notify_all`](Condition::notify_all)
/// every waiter. With nobody waiting, a notification does nothing.
///
/// One `Condition` is meant for one mutex (as in asyncio, where it owns its
/// lock), but nothing ties them: waiters of different mutexes just share a
/// queue. Unlike asyncio, `notify` does not require the lock to be held;
/// change the data under the lock, then notify, holding it or not.
///
/// ```
/// use std::sync::Arc;
/// use windlass::sync::{Condition, Mutex};
///
/// # windlass::Runtime::new().unwrap().block_on(async {
/// let state = Arc::new((Mutex::new(Vec::<u32>::new()), Condition::new()));
/// let s = state.clone();
/// let consumer = windlass::spawn(async move {
///     let (items, cond) = &*s;
///     let mut guard = cond.wait_for(items.lock().await, |v| !v.is_empty()).await;
///     guard.pop().unwrap()
/// });
/// let (items, cond) = &*state;
/// items.lock().await.push(7);
/// cond.notify(1);
/// assert_eq!(consumer.await.unwrap(), 7);
/// # });
/// ```
pub struct Condition {
    waiters: Notify,
}

impl Condition {
    /// A condition with nobody waiting.
    ///
    /// ```
    /// let cond = windlass::sync::Condition::new();
    /// assert_eq!(cond.notify_all(), 0);
    /// ```
    pub fn new() -> Condition {
        Condition {
            waiters: Notify::with_permits(false),
        }
    }

    /// Unlocks `guard`'s mutex, waits until notified, locks it again and
    /// returns the new guard. asyncio's `await cond.wait()`.
    ///
    /// As with any condition variable, check the condition again after
    /// waking (or use [`wait_for`](Self::wait_for)): another task may have
    /// changed the data between the notification and the re-lock.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: a dropped `wait` leaves the queue; if `notify(n)` had
    /// picked it, the notification passes to the next waiter. The guard
    /// passed in is gone either way (the mutex was unlocked).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use windlass::sync::{Condition, Mutex};
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let pair = Arc::new((Mutex::new(false), Condition::new()));
    /// let p = pair.clone();
    /// windlass::spawn(async move {
    ///     *p.0.lock().await = true;
    ///     p.1.notify_all();
    /// });
    /// let (ready, cond) = &*pair;
    /// let mut guard = ready.lock().await;
    /// while !*guard {
    ///     guard = cond.wait(guard).await;
    /// }
    /// # });
    /// ```
    pub async fn wait<'a, T: ?Sized>(&self, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
        let mutex = MutexGuard::mutex(&guard);
        let mut notified = std::pin::pin!(self.waiters.notified());
        // In the queue before the unlock: no notification can slip between.
        notified.as_mut().enable();
        drop(guard);
        notified.as_mut().await;
        // Picked by `notify(n)`: if this future is dropped while re-locking,
        // the notification goes to the next waiter.
        let pass_on = PassOn {
            waiters: &self.waiters,
            armed: notified.received() == Some(By::One),
        };
        let guard = mutex.lock().await;
        pass_on.disarm();
        guard
    }

    /// Waits until `predicate` returns true for the data, re-checking after
    /// each notification: asyncio's `await cond.wait_for(predicate)`.
    /// Returns at once (without unlocking) if it already holds.
    ///
    /// (`std::sync::Condvar::wait_while` takes the opposite predicate: it
    /// waits *while* it holds.)
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe, like [`wait`](Self::wait).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use windlass::sync::{Condition, Mutex};
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let pair = Arc::new((Mutex::new(0), Condition::new()));
    /// let p = pair.clone();
    /// windlass::spawn(async move {
    ///     for _ in 0..3 {
    ///         *p.0.lock().await += 1;
    ///         p.1.notify_all();
    ///     }
    /// });
    /// let guard = pair.1.wait_for(pair.0.lock().await, |n| *n == 3).await;
    /// assert_eq!(*guard, 3);
    /// # });
    /// ```
    pub async fn wait_for<'a, T: ?Sized>(
        &self,
        mut guard: MutexGuard<'a, T>,
        mut predicate: impl FnMut(&mut T) -> bool,
    ) -> MutexGuard<'a, T> {
        while !predicate(&mut guard) {
            guard = self.wait(guard).await;
        }
        guard
    }

    /// Wakes the `n` longest waiters (fewer if fewer wait); returns how
    /// many it woke. With nobody waiting it does nothing (as asyncio).
    ///
    /// ```
    /// let cond = windlass::sync::Condition::new();
    /// assert_eq!(cond.notify(1), 0);
    /// ```
    pub fn notify(&self, n: usize) -> usize {
        self.waiters.notify_n(n)
    }

    /// Wakes every waiter; returns how many it woke.
    ///
    /// ```
    /// let cond = windlass::sync::Condition::new();
    /// assert_eq!(cond.notify_all(), 0);
    /// ```
    pub fn notify_all(&self) -> usize {
        self.waiters.notify_all()
    }

    /// Tasks waiting to be notified now (not counting those re-locking).
    ///
    /// ```
    /// let cond = windlass::sync::Condition::new();
    /// assert_eq!(cond.waiting(), 0);
    /// ```
    pub fn waiting(&self) -> usize {
        self.waiters.waiting()
    }
}

impl Default for Condition {
    fn default() -> Condition {
        Condition::new()
    }
}

impl fmt::Debug for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condition")
            .field("waiting", &self.waiting())
            .finish()
    }
}

/// Passes a `notify(n)` notification on if dropped while armed.
struct PassOn<'a> {
    waiters: &'a Notify,
    armed: bool,
}

impl PassOn<'_> {
    fn disarm(mut self) {
        self.armed = false;
    }
}

impl Drop for PassOn<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.waiters.notify_n(1);
        }
    }
}
