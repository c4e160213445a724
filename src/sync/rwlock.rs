//! [`RwLock`]: many readers or one writer, served in FIFO order.
//!
//! A semaphore with [`MAX_READS`] permits (see `semaphore.rs`): a reader
//! takes one, a writer takes them all. Because the semaphore is fair, a
//! waiting writer holds back the readers that come after it, so writers are
//! never starved, and readers that queued before a writer go first.

use std::cell::UnsafeCell;
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};

use super::TryLockError;
use super::semaphore::{Acquire, Semaphore};

/// Readers that may hold an [`RwLock`] at once: a writer takes them all.
const MAX_READS: usize = u32::MAX as usize >> 3;

/// A reader-writer lock for tasks: any number of readers, or one writer.
///
/// asyncio has no reader-writer lock; this is the async form of
/// `std::sync::RwLock`. Lock requests are served in FIFO order: a writer
/// waits for the readers ahead of it, and readers behind a waiting writer
/// wait for it, so neither side starves.
///
/// ```
/// use std::sync::Arc;
/// use windlass::sync::RwLock;
///
/// # windlass::Runtime::new().unwrap().block_on(async {
/// let config = Arc::new(RwLock::new(String::from("v1")));
/// {
///     let a = config.read().await;
///     let b = config.read().await; // readers share
///     assert_eq!(*a, *b);
/// }
/// config.write().await.push_str("+patch");
/// assert_eq!(*config.read().await, "v1+patch");
/// # });
/// ```
pub struct RwLock<T: ?Sized> {
    /// `MAX_READS` permits: one per reader, all of them for a writer.
    sem: Semaphore,
    data: UnsafeCell<T>,
}

// SAFETY: readers on several threads share `&T` (needs `T: Sync`), a writer
// gets `&mut T` on its thread (needs `T: Send`).
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLock<T> {}

impl<T> RwLock<T> {
    /// An unlocked lock holding `value`.
    ///
    /// ```
    /// let lock = windlass::sync::RwLock::new(1);
    /// assert_eq!(lock.into_inner(), 1);
    /// ```
    pub fn new(value: T) -> RwLock<T> {
        RwLock {
            sem: Semaphore::new(MAX_READS),
            data: UnsafeCell::new(value),
        }
    }

    /// Consumes the lock, returning the data.
    ///
    /// ```
    /// let lock = windlass::sync::RwLock::new("x");
    /// assert_eq!(lock.into_inner(), "x");
    /// ```
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> RwLock<T> {
    /// Waits for shared access, in FIFO order with the other requests.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: a dropped `read()` leaves the queue and passes on
    /// anything it was handed.
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let lock = windlass::sync::RwLock::new(5);
    /// assert_eq!(*lock.read().await, 5);
    /// # });
    /// ```
    pub async fn read(&self) -> RwLockReadGuard<'_, T> {
        self.acquire(1).await;
        RwLockReadGuard {
            lock: self,
            _not_send: PhantomData,
        }
    }

    /// Waits for exclusive access, in FIFO order with the other requests.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: a dropped `write()` leaves the queue, and the read
    /// permits it had gathered go to the requests behind it.
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let lock = windlass::sync::RwLock::new(5);
    /// *lock.write().await += 1;
    /// assert_eq!(*lock.read().await, 6);
    /// # });
    /// ```
    pub async fn write(&self) -> RwLockWriteGuard<'_, T> {
        self.acquire(MAX_READS).await;
        RwLockWriteGuard {
            lock: self,
            _not_send: PhantomData,
        }
    }

    /// Shared access if no writer holds or waits for the lock; never waits.
    ///
    /// ```
    /// let lock = windlass::sync::RwLock::new(1);
    /// let r = lock.try_read().unwrap();
    /// assert!(lock.try_read().is_ok());
    /// assert!(lock.try_write().is_err());
    /// ```
    pub fn try_read(&self) -> Result<RwLockReadGuard<'_, T>, TryLockError> {
        self.sem.try_take(1).map_err(|_| TryLockError(()))?;
        Ok(RwLockReadGuard {
            lock: self,
            _not_send: PhantomData,
        })
    }

    /// Exclusive access if nobody holds or waits for the lock; never waits.
    ///
    /// ```
    /// let lock = windlass::sync::RwLock::new(1);
    /// let w = lock.try_write().unwrap();
    /// assert!(lock.try_read().is_err());
    /// ```
    pub fn try_write(&self) -> Result<RwLockWriteGuard<'_, T>, TryLockError> {
        self.sem.try_take(MAX_READS).map_err(|_| TryLockError(()))?;
        Ok(RwLockWriteGuard {
            lock: self,
            _not_send: PhantomData,
        })
    }

    /// Blocks the thread for shared access, for code outside tasks.
    ///
    /// Panics on a thread that runs windlass tasks: use [`read`](Self::read).
    ///
    /// ```
    /// let lock = windlass::sync::RwLock::new(2);
    /// assert_eq!(*lock.blocking_read(), 2);
    /// ```
    #[track_caller]
    pub fn blocking_read(&self) -> RwLockReadGuard<'_, T> {
        super::block_on("RwLock::blocking_read", self.read())
    }

    /// Blocks the thread for exclusive access, for code outside tasks.
    ///
    /// Panics on a thread that runs windlass tasks: use [`write`](Self::write).
    ///
    /// ```
    /// let lock = windlass::sync::RwLock::new(2);
    /// *lock.blocking_write() = 3;
    /// assert_eq!(*lock.blocking_read(), 3);
    /// ```
    #[track_caller]
    pub fn blocking_write(&self) -> RwLockWriteGuard<'_, T> {
        super::block_on("RwLock::blocking_write", self.write())
    }

    /// The data, without locking: `&mut self` proves nobody else holds it.
    ///
    /// ```
    /// let mut lock = windlass::sync::RwLock::new(1);
    /// *lock.get_mut() = 2;
    /// assert_eq!(lock.into_inner(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }

    async fn acquire(&self, n: usize) {
        let acquired = Acquire::new(&self.sem, n).await;
        debug_assert!(acquired.is_ok(), "an RwLock's semaphore is never closed");
    }
}

impl<T: Default> Default for RwLock<T> {
    fn default() -> RwLock<T> {
        RwLock::new(T::default())
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("RwLock");
        match self.try_read() {
            Ok(guard) => d.field("data", &&*guard),
            Err(_) => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

/// Shared access to an [`RwLock`]'s data; released when dropped.
///
/// ```
/// # windlass::Runtime::new().unwrap().block_on(async {
/// let lock = windlass::sync::RwLock::new(vec![1, 2]);
/// let guard = lock.read().await;
/// assert_eq!(guard.len(), 2);
/// # });
/// ```
#[must_use = "the read lock is released as soon as the guard is dropped"]
pub struct RwLockReadGuard<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
    /// Shares `&T`: `Send` and `Sync` only for `T: Sync`.
    _not_send: PhantomData<&'a T>,
}

impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds a read permit, so no writer holds all of
        // them: only shared references exist.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> Drop for RwLockReadGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.sem.release(1);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// Exclusive access to an [`RwLock`]'s data; released when dropped.
///
/// ```
/// # windlass::Runtime::new().unwrap().block_on(async {
/// let lock = windlass::sync::RwLock::new(0);
/// let mut guard = lock.write().await;
/// *guard = 7;
/// drop(guard);
/// assert_eq!(*lock.read().await, 7);
/// # });
/// ```
#[must_use = "the write lock is released as soon as the guard is dropped"]
pub struct RwLockWriteGuard<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
    /// Gives `&mut T`: `Send` for `T: Send`, `Sync` for `T: Sync` (with
    /// `&RwLock<T>`, which requires both).
    _not_send: PhantomData<&'a mut T>,
}

impl<T: ?Sized> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds every permit: no other guard exists.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds every permit, and `&mut self` makes this
        // the only reference derived from it.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T: ?Sized> Drop for RwLockWriteGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.sem.release(MAX_READS);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
