//! The one guard adapter: a lock with `std::sync`'s API behind the
//! `parking_lot` API the crate is written against.
//!
//! `std::sync` and `loom::sync` lock the same way: `lock()` returns a
//! `LockResult` (std's type, on both), and `Condvar::wait` takes the guard by value and hands it
//! back. `parking_lot`, which the crate uses, returns the guard from
//! `lock()`, has no poisoning, and waits on `&mut guard`. This module wraps
//! the first kind into the second, once, for whichever lock the build uses:
//! loom's under `--cfg loom` ([`mocked`](super::mocked)), and std's under
//! Miri ([`std`](super::std); Miri rejects the raw futex syscall
//! `parking_lot_core` makes: it passes an `&AtomicI32` where Miri's shim
//! wants a `*mut u32`; std's locks go through Miri's own futex support).
//! In a normal build only its `Mutex` is used, as
//! [`NoYieldMutex`](super::std::sync::NoYieldMutex): std's lock where a
//! `parking_lot` waiter's `sched_yield` would cost.
//!
//! Poisoning is ignored, as `parking_lot` does: a panic under a lock leaves
//! the data as the panicking code left it, and every windlass primitive
//! keeps its state consistent across a panic (no state is half-written
//! under a lock across a call that may panic).

// A normal build uses only `Mutex::{new, lock}` (as `NoYieldMutex`).
#![cfg_attr(not(any(loom, miri)), allow(dead_code))]

use std::sync::{PoisonError, TryLockError};
use std::time::Duration;

#[cfg(loom)]
use loom::sync as inner;
#[cfg(not(loom))]
use std::sync as inner;

/// A mutex with the `parking_lot` API over `inner::Mutex`.
#[derive(Debug)]
pub(crate) struct Mutex<T>(inner::Mutex<T>);

/// Guard of [`Mutex`]. The `Option` lets [`Condvar::wait`] move the inner
/// guard out (std's and loom's `wait` take it by value) and back in; it is
/// `Some` whenever user code can see the guard.
pub(crate) struct MutexGuard<'a, T>(Option<inner::MutexGuard<'a, T>>);

impl<T> Mutex<T> {
    pub(crate) fn new(value: T) -> Self {
        Mutex(inner::Mutex::new(value))
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
        MutexGuard(Some(self.0.lock().unwrap_or_else(PoisonError::into_inner)))
    }

    /// The guard if the lock is free now. (Unused by the modelled code
    /// today: the reactor's turn, its one user, is outside the models.)
    #[cfg_attr(loom, allow(dead_code))]
    pub(crate) fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        match self.0.try_lock() {
            Ok(guard) => Some(MutexGuard(Some(guard))),
            Err(TryLockError::Poisoned(e)) => Some(MutexGuard(Some(e.into_inner()))),
            Err(TryLockError::WouldBlock) => None,
        }
    }

    pub(crate) fn into_inner(self) -> T {
        self.0.into_inner().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn get_mut(&mut self) -> &mut T {
        self.0.get_mut().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Self {
        Mutex::new(T::default())
    }
}

impl<T> std::ops::Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.0.as_ref().expect("guard present")
    }
}

impl<T> std::ops::DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.0.as_mut().expect("guard present")
    }
}

/// A condition variable with the `parking_lot` API over `inner::Condvar`.
#[derive(Debug, Default)]
pub(crate) struct Condvar(inner::Condvar);

impl Condvar {
    pub(crate) fn new() -> Condvar {
        Condvar(inner::Condvar::new())
    }

    pub(crate) fn wait<T>(&self, guard: &mut MutexGuard<'_, T>) {
        let held = guard.0.take().expect("guard present");
        guard.0 = Some(self.0.wait(held).unwrap_or_else(PoisonError::into_inner));
    }

    /// Waits at most `timeout`; true if it timed out. (loom has no clock:
    /// its timed wait is an untimed one that never reports a timeout, and
    /// a model that needs the timeout to end a wait deadlocks, which loom
    /// reports.)
    pub(crate) fn wait_timeout<T>(&self, guard: &mut MutexGuard<'_, T>, timeout: Duration) -> bool {
        let held = guard.0.take().expect("guard present");
        let (held, res) = self
            .0
            .wait_timeout(held, timeout)
            .unwrap_or_else(PoisonError::into_inner);
        guard.0 = Some(held);
        res.timed_out()
    }

    /// Wakes one waiter. Returns true (std and loom do not say whether
    /// anyone was waiting; nothing in windlass reads the answer).
    pub(crate) fn notify_one(&self) -> bool {
        self.0.notify_one();
        true
    }

    /// Wakes every waiter. Returns 0 (as [`notify_one`](Self::notify_one)).
    pub(crate) fn notify_all(&self) -> usize {
        self.0.notify_all();
        0
    }
}
