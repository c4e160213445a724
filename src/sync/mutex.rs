//! [`Mutex`]: asyncio's `Lock`, holding the data it protects.
//!
//! A semaphore with one permit (see `semaphore.rs` for the protocol): the
//! holder of the permit may touch the data. Locking when free is one CAS and
//! unlocking with nobody waiting is one CAS; under contention the permit is
//! handed to the longest waiter, as asyncio's `Lock` does.

use crate::loom::std::sync::Arc;
use std::cell::UnsafeCell;
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};

use super::semaphore::{Acquire, Semaphore};

/// A lock for tasks that owns the data it protects: asyncio's `Lock`.
///
/// [`lock`](Mutex::lock) waits for the lock and returns a guard through
/// which the data is reached; dropping the guard unlocks (asyncio's
/// `async with lock:`). Unlike `std::sync::Mutex`, waiting suspends the task
/// instead of blocking the thread, and the guard may be held across
/// `.await`. Waiters get the lock in the order they asked for it.
///
/// Prefer `std::sync::Mutex` (or `parking_lot`) when the lock is never held
/// across an `.await`: it is cheaper. Use this one when it is.
///
/// ```
/// use std::sync::Arc;
/// use windlass::sync::Mutex;
///
/// # windlass::Runtime::new().unwrap().block_on(async {
/// let balance = Arc::new(Mutex::new(0u64));
/// let tasks: Vec<_> = (0..8)
///     .map(|_| {
///         let balance = balance.clone();
///         windlass::spawn(async move {
///             let mut b = balance.lock().await;
///             let read = *b;
///             windlass::task::yield_now().await; // held across an await
///             *b = read + 1;
///         })
///     })
///     .collect();
/// for t in tasks {
///     t.await.unwrap();
/// }
/// assert_eq!(*balance.lock().await, 8);
/// # });
/// ```
pub struct Mutex<T: ?Sized> {
    /// One permit: whoever holds it may touch `data`.
    sem: Semaphore,
    data: UnsafeCell<T>,
}

// SAFETY: the mutex hands `&mut T` to one holder at a time, on whatever
// thread it runs, so sharing it needs only `T: Send` (as std's Mutex).
unsafe impl<T: ?Sized + Send> Sync for Mutex<T> {}

/// The error of [`Mutex::try_lock`] (and [`RwLock`](super::RwLock)'s
/// `try_*`): the lock is held, or tasks are waiting for it.
///
/// ```
/// use windlass::sync::{Mutex, TryLockError};
///
/// let m = Mutex::new(0);
/// let guard = m.try_lock().unwrap();
/// let err: TryLockError = m.try_lock().unwrap_err(); // held
/// assert_eq!(err.to_string(), "lock is held");
/// drop(guard);
/// assert!(m.try_lock().is_ok());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TryLockError(pub(crate) ());

impl<T> Mutex<T> {
    /// An unlocked mutex holding `value`.
    ///
    /// ```
    /// let m = windlass::sync::Mutex::new(5);
    /// assert_eq!(m.into_inner(), 5);
    /// ```
    pub fn new(value: T) -> Mutex<T> {
        Mutex {
            sem: Semaphore::new(1),
            data: UnsafeCell::new(value),
        }
    }

    /// Consumes the mutex, returning the data.
    ///
    /// ```
    /// let m = windlass::sync::Mutex::new(vec![1]);
    /// assert_eq!(m.into_inner(), [1]);
    /// ```
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Waits for the lock, in FIFO order, and returns its guard.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: a dropped `lock()` leaves the queue, and if the lock
    /// had already been handed to it, passes it on to the next waiter.
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let m = windlass::sync::Mutex::new(1);
    /// *m.lock().await += 1;
    /// assert_eq!(*m.lock().await, 2);
    /// # });
    /// ```
    pub async fn lock(&self) -> MutexGuard<'_, T> {
        self.acquire().await;
        MutexGuard {
            mutex: self,
            _not_sync: PhantomData,
        }
    }

    /// [`lock`](Self::lock) for a mutex in an [`Arc`]: the guard owns a
    /// reference, so it can move into a spawned task or live in a struct.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe, like [`lock`](Self::lock).
    ///
    /// ```
    /// use std::sync::Arc;
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let m = Arc::new(windlass::sync::Mutex::new(0));
    /// let mut guard = m.clone().lock_owned().await;
    /// windlass::spawn(async move { *guard += 1 }).await.unwrap();
    /// assert_eq!(*m.lock().await, 1);
    /// # });
    /// ```
    pub async fn lock_owned(self: Arc<Self>) -> OwnedMutexGuard<T> {
        self.acquire().await;
        OwnedMutexGuard {
            mutex: self,
            _not_sync: PhantomData,
        }
    }

    /// Locks if the lock is free and nobody waits for it; never waits.
    ///
    /// ```
    /// let m = windlass::sync::Mutex::new(1);
    /// let guard = m.try_lock().unwrap();
    /// assert!(m.try_lock().is_err());
    /// drop(guard);
    /// assert!(m.try_lock().is_ok());
    /// ```
    pub fn try_lock(&self) -> Result<MutexGuard<'_, T>, TryLockError> {
        self.sem.try_take(1).map_err(|_| TryLockError(()))?;
        Ok(MutexGuard {
            mutex: self,
            _not_sync: PhantomData,
        })
    }

    /// [`try_lock`](Self::try_lock) with an owned guard.
    ///
    /// ```
    /// use std::sync::Arc;
    /// let m = Arc::new(windlass::sync::Mutex::new(1));
    /// let guard = m.clone().try_lock_owned().unwrap();
    /// assert!(m.try_lock().is_err());
    /// ```
    pub fn try_lock_owned(self: Arc<Self>) -> Result<OwnedMutexGuard<T>, TryLockError> {
        self.sem.try_take(1).map_err(|_| TryLockError(()))?;
        Ok(OwnedMutexGuard {
            mutex: self,
            _not_sync: PhantomData,
        })
    }

    /// Blocks the thread until the lock is free, for code outside tasks
    /// (a plain thread, or a `spawn_blocking` closure).
    ///
    /// Panics if called on a thread that runs windlass tasks (a worker, or
    /// inside `block_on`): use [`lock`](Self::lock) there.
    ///
    /// ```
    /// use std::sync::Arc;
    /// let m = Arc::new(windlass::sync::Mutex::new(0));
    /// let m2 = m.clone();
    /// std::thread::spawn(move || *m2.blocking_lock() += 1).join().unwrap();
    /// assert_eq!(*m.blocking_lock(), 1);
    /// ```
    #[track_caller]
    pub fn blocking_lock(&self) -> MutexGuard<'_, T> {
        super::block_on("Mutex::blocking_lock", self.lock())
    }

    /// [`blocking_lock`](Self::blocking_lock) with an owned guard.
    ///
    /// ```
    /// use std::sync::Arc;
    /// let m = Arc::new(windlass::sync::Mutex::new(0));
    /// let mut guard = m.clone().blocking_lock_owned();
    /// *guard = 3;
    /// drop(guard);
    /// assert_eq!(*m.blocking_lock(), 3);
    /// ```
    #[track_caller]
    pub fn blocking_lock_owned(self: Arc<Self>) -> OwnedMutexGuard<T> {
        super::block_on("Mutex::blocking_lock_owned", self.lock_owned())
    }

    /// The data, without locking: `&mut self` proves nobody else holds it.
    ///
    /// ```
    /// let mut m = windlass::sync::Mutex::new(1);
    /// *m.get_mut() = 2;
    /// assert_eq!(m.into_inner(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }

    /// Waits for the permit (never fails: the semaphore is never closed).
    async fn acquire(&self) {
        let acquired = Acquire::new(&self.sem, 1).await;
        debug_assert!(acquired.is_ok(), "a mutex's semaphore is never closed");
    }

    /// Unlocks: gives the permit back (to the longest waiter, if any).
    fn unlock(&self) {
        self.sem.release(1);
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Mutex<T> {
        Mutex::new(T::default())
    }
}

impl<T> From<T> for Mutex<T> {
    fn from(value: T) -> Mutex<T> {
        Mutex::new(value)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Mutex");
        match self.try_lock() {
            Ok(guard) => d.field("data", &&*guard),
            Err(_) => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

/// Access to a [`Mutex`]'s data; unlocks when dropped.
///
/// ```
/// # windlass::Runtime::new().unwrap().block_on(async {
/// let m = windlass::sync::Mutex::new(String::new());
/// let mut guard = m.lock().await;
/// guard.push_str("held");
/// drop(guard); // unlocks
/// assert_eq!(*m.lock().await, "held");
/// # });
/// ```
#[must_use = "the mutex unlocks as soon as the guard is dropped"]
pub struct MutexGuard<'a, T: ?Sized> {
    mutex: &'a Mutex<T>,
    /// The guard hands out `&T` to whoever shares it, so it is `Sync` only
    /// for `T: Sync` (and `Send` for `T: Send`, through `&Mutex<T>`).
    _not_sync: PhantomData<&'a mut T>,
}

impl<'a, T: ?Sized> MutexGuard<'a, T> {
    /// The mutex this guard locks (what [`Condition`](super::Condition)
    /// re-locks after waiting).
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let m = windlass::sync::Mutex::new(0);
    /// let guard = m.lock().await;
    /// assert!(std::ptr::eq(windlass::sync::MutexGuard::mutex(&guard), &m));
    /// # });
    /// ```
    pub fn mutex(this: &Self) -> &'a Mutex<T> {
        this.mutex
    }
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the mutex's only permit, so no other
        // reference to the data exists while it lives.
        unsafe { &*self.mutex.data.get() }
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`, and `&mut self` makes this the only
        // reference derived from the guard.
        unsafe { &mut *self.mutex.data.get() }
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        self.mutex.unlock();
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

/// A [`MutexGuard`] that owns an `Arc` of its mutex, from
/// [`Mutex::lock_owned`]: it has no lifetime, so it can move into a task.
///
/// ```
/// use std::sync::Arc;
/// # windlass::Runtime::new().unwrap().block_on(async {
/// let m = Arc::new(windlass::sync::Mutex::new(1));
/// let guard = m.clone().lock_owned().await;
/// assert!(Arc::ptr_eq(windlass::sync::OwnedMutexGuard::mutex(&guard), &m));
/// # });
/// ```
#[must_use = "the mutex unlocks as soon as the guard is dropped"]
pub struct OwnedMutexGuard<T: ?Sized> {
    mutex: Arc<Mutex<T>>,
    /// As in [`MutexGuard`]: `Sync` only for `T: Sync`.
    _not_sync: PhantomData<*const ()>,
}

// SAFETY: the guard gives `&mut T` on the thread that holds it: moving it
// needs `T: Send`.
unsafe impl<T: ?Sized + Send> Send for OwnedMutexGuard<T> {}
// SAFETY: sharing the guard shares `&T`: needs `T: Sync` (and `T: Send`
// for the `Arc<Mutex<T>>` inside).
unsafe impl<T: ?Sized + Send + Sync> Sync for OwnedMutexGuard<T> {}

impl<T: ?Sized> OwnedMutexGuard<T> {
    /// The mutex this guard locks.
    ///
    /// ```
    /// use std::sync::Arc;
    /// let m = Arc::new(windlass::sync::Mutex::new(1));
    /// let guard = m.clone().try_lock_owned().unwrap();
    /// assert!(Arc::ptr_eq(windlass::sync::OwnedMutexGuard::mutex(&guard), &m));
    /// ```
    pub fn mutex(this: &Self) -> &Arc<Mutex<T>> {
        &this.mutex
    }
}

impl<T: ?Sized> Deref for OwnedMutexGuard<T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the mutex's only permit.
        unsafe { &*self.mutex.data.get() }
    }
}

impl<T: ?Sized> DerefMut for OwnedMutexGuard<T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds the mutex's only permit, and `&mut self`
        // makes this the only reference derived from it.
        unsafe { &mut *self.mutex.data.get() }
    }
}

impl<T: ?Sized> Drop for OwnedMutexGuard<T> {
    fn drop(&mut self) {
        self.mutex.unlock();
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for OwnedMutexGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for OwnedMutexGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

impl fmt::Display for TryLockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("lock is held")
    }
}

impl std::error::Error for TryLockError {}
