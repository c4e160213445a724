//! The one place where windlass chooses between `std` and `loom`.
//!
//! Every module takes its atomics, locks, cells and threads from here, never
//! from `std` or `parking_lot` directly. A normal build gets `std` atomics and
//! `parking_lot` locks (under Miri, `std` locks: Miri rejects the raw futex
//! syscall `parking_lot_core` makes); a build with `RUSTFLAGS="--cfg loom"` gets loom's
//! instrumented types, so the models in `loom-tests/` run the real scheduler and
//! task code rather than a copy of it.
//!
//! The API is the `parking_lot` one (`lock()` returns the guard, `Condvar::wait`
//! takes `&mut guard`); the loom side adapts loom's std-like API to it.

#[cfg(not(loom))]
mod imp {
    pub(crate) mod sync {
        pub(crate) use std::sync::Arc;

        pub(crate) mod atomic {
            pub(crate) use std::sync::atomic::{
                AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering,
            };
        }

        #[cfg(not(miri))]
        pub(crate) use parking_lot::{Mutex, MutexGuard};

        /// `parking_lot::Condvar` with the few methods windlass uses, named
        /// the same on the loom side.
        #[cfg(not(miri))]
        #[derive(Debug, Default)]
        pub(crate) struct Condvar(parking_lot::Condvar);

        #[cfg(not(miri))]
        impl Condvar {
            pub(crate) const fn new() -> Condvar {
                Condvar(parking_lot::Condvar::new())
            }

            pub(crate) fn wait<T>(&self, guard: &mut MutexGuard<'_, T>) {
                self.0.wait(guard);
            }

            /// Waits at most `timeout`; true if it timed out.
            pub(crate) fn wait_timeout<T>(
                &self,
                guard: &mut MutexGuard<'_, T>,
                timeout: std::time::Duration,
            ) -> bool {
                self.0.wait_for(guard, timeout).timed_out()
            }

            pub(crate) fn notify_one(&self) -> bool {
                self.0.notify_one()
            }

            pub(crate) fn notify_all(&self) -> usize {
                self.0.notify_all()
            }
        }

        // Under Miri: std's locks behind the same API. Recent Miri rejects
        // the raw futex syscall `parking_lot_core` makes (it passes an
        // `&AtomicI32` where Miri's shim wants `*mut u32`); std's locks go
        // through Miri's own futex support.
        #[cfg(miri)]
        pub(crate) use crate::loom::std_locks::{Condvar, Mutex, MutexGuard};
    }

    pub(crate) mod cell {
        /// `std::cell::UnsafeCell` with loom's closure-based access API, so
        /// the same code compiles against both.
        #[derive(Debug)]
        pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

        impl<T> UnsafeCell<T> {
            pub(crate) const fn new(data: T) -> UnsafeCell<T> {
                UnsafeCell(std::cell::UnsafeCell::new(data))
            }

            /// Runs `f` with a shared pointer to the contents.
            #[inline(always)]
            pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
                f(self.0.get())
            }

            /// Runs `f` with a unique pointer to the contents.
            #[inline(always)]
            pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
                f(self.0.get())
            }
        }
    }

    pub(crate) mod thread {
        pub(crate) use std::thread::{Builder, JoinHandle};
    }

    pub(crate) use std::thread_local;

    pub(crate) mod task_id {
        use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

        /// The next task id. Ids need uniqueness only.
        pub(crate) fn next() -> u64 {
            static NEXT: AtomicU64 = AtomicU64::new(1);
            NEXT.fetch_add(1, Relaxed)
        }
    }
}

/// std's `Mutex` and `Condvar` behind the `parking_lot` API, for Miri.
#[cfg(all(miri, not(loom)))]
mod std_locks {
    use std::time::Duration;

    #[derive(Debug, Default)]
    pub(crate) struct Mutex<T>(std::sync::Mutex<T>);

    /// The `Option` lets [`Condvar::wait`] move the inner guard in and out.
    pub(crate) struct MutexGuard<'a, T>(Option<std::sync::MutexGuard<'a, T>>);

    impl<T> Mutex<T> {
        pub(crate) const fn new(value: T) -> Self {
            Mutex(std::sync::Mutex::new(value))
        }

        pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
            MutexGuard(Some(self.0.lock().unwrap_or_else(|e| e.into_inner())))
        }

        // Unused by the crate's own modules today (the reactor takes its
        // locks from parking_lot directly); kept so both sides offer
        // parking_lot's API.
        #[allow(dead_code)]
        pub(crate) fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
            self.0.try_lock().ok().map(|g| MutexGuard(Some(g)))
        }

        pub(crate) fn into_inner(self) -> T {
            self.0.into_inner().unwrap_or_else(|e| e.into_inner())
        }

        pub(crate) fn get_mut(&mut self) -> &mut T {
            self.0.get_mut().unwrap_or_else(|e| e.into_inner())
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

    #[derive(Debug, Default)]
    pub(crate) struct Condvar(std::sync::Condvar);

    impl Condvar {
        pub(crate) const fn new() -> Condvar {
            Condvar(std::sync::Condvar::new())
        }

        pub(crate) fn wait<T>(&self, guard: &mut MutexGuard<'_, T>) {
            let inner = guard.0.take().expect("guard present");
            guard.0 = Some(self.0.wait(inner).unwrap_or_else(|e| e.into_inner()));
        }

        /// Waits at most `timeout`; true if it timed out.
        pub(crate) fn wait_timeout<T>(
            &self,
            guard: &mut MutexGuard<'_, T>,
            timeout: Duration,
        ) -> bool {
            let inner = guard.0.take().expect("guard present");
            let (inner, res) = self
                .0
                .wait_timeout(inner, timeout)
                .unwrap_or_else(|e| e.into_inner());
            guard.0 = Some(inner);
            res.timed_out()
        }

        pub(crate) fn notify_one(&self) -> bool {
            self.0.notify_one();
            true
        }

        pub(crate) fn notify_all(&self) -> usize {
            self.0.notify_all();
            0
        }
    }
}

#[cfg(loom)]
mod imp {
    pub(crate) mod sync {
        pub(crate) use loom::sync::Arc;

        pub(crate) mod atomic {
            pub(crate) use loom::sync::atomic::{
                AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering,
            };
        }

        /// loom's mutex behind the `parking_lot` API.
        #[derive(Debug)]
        pub(crate) struct Mutex<T>(loom::sync::Mutex<T>);

        /// Guard of [`Mutex`]; the `Option` lets [`Condvar::wait`] move the
        /// inner guard in and out.
        pub(crate) struct MutexGuard<'a, T>(Option<loom::sync::MutexGuard<'a, T>>);

        impl<T> Mutex<T> {
            pub(crate) fn new(value: T) -> Self {
                Mutex(loom::sync::Mutex::new(value))
            }

            pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
                MutexGuard(Some(self.0.lock().expect("loom mutex poisoned")))
            }

            // Unused today; kept so both sides offer parking_lot's API.
            #[allow(dead_code)]
            pub(crate) fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
                self.0.try_lock().ok().map(|g| MutexGuard(Some(g)))
            }

            pub(crate) fn into_inner(self) -> T {
                self.0.into_inner().expect("loom mutex poisoned")
            }

            pub(crate) fn get_mut(&mut self) -> &mut T {
                self.0.get_mut().expect("loom mutex poisoned")
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

        /// loom's condition variable behind the `parking_lot` API.
        #[derive(Debug, Default)]
        pub(crate) struct Condvar(loom::sync::Condvar);

        impl Condvar {
            pub(crate) fn new() -> Self {
                Condvar(loom::sync::Condvar::new())
            }

            pub(crate) fn wait<T>(&self, guard: &mut MutexGuard<'_, T>) {
                let inner = guard.0.take().expect("guard present");
                guard.0 = Some(self.0.wait(inner).expect("loom mutex poisoned"));
            }

            /// loom has no clock: a timed wait is an untimed one that may
            /// also end early, which models every timing.
            pub(crate) fn wait_timeout<T>(
                &self,
                guard: &mut MutexGuard<'_, T>,
                _timeout: std::time::Duration,
            ) -> bool {
                self.wait(guard);
                false
            }

            pub(crate) fn notify_one(&self) -> bool {
                self.0.notify_one();
                true
            }

            pub(crate) fn notify_all(&self) -> usize {
                self.0.notify_all();
                0
            }
        }
    }

    pub(crate) mod cell {
        pub(crate) use loom::cell::UnsafeCell;
    }

    pub(crate) mod thread {
        pub(crate) use loom::thread::{Builder, JoinHandle};
    }

    pub(crate) use loom::thread_local;

    /// Task ids under loom: a plain counter, outside the model (no loom
    /// operation, so no extra interleavings and no hidden happens-before
    /// edge), per OS thread (a model's loom threads all run on the test's
    /// thread) and reset by each model iteration, so that every execution
    /// hands out the same ids and picks the same owned-list shards; loom
    /// requires that determinism.
    pub(crate) mod task_id {
        use std::cell::Cell;

        std::thread_local! {
            static NEXT: Cell<u64> = const { Cell::new(1) };
        }

        pub(crate) fn next() -> u64 {
            NEXT.with(|n| {
                let id = n.get();
                n.set(id + 1);
                id
            })
        }

        /// Restarts the ids at 1; called at the start of each model run.
        pub(crate) fn reset() {
            NEXT.with(|n| n.set(1));
        }
    }
}

pub(crate) use imp::*;
