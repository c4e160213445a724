//! The real primitives: `std` atomics, cells and threads, `parking_lot`
//! locks (under Miri, `std`'s behind the [guard adapter](super::guard)).
//!
//! A normal build takes every primitive from here through
//! [`crate::loom::sync`](super) and its siblings. Code that must have the
//! real primitive *in every build, loom's included* names this module
//! directly (`crate::loom::std::...`); each such use is an exception
//! listed, with its reason, in the [facade's docs](super) ("Exceptions").
//! Items that loom has no counterpart of (`OnceLock`, `Once`) exist only
//! here, so they can only be used as such exceptions.

// Under loom only the exceptions use this side; the rest is loom's.
#![cfg_attr(loom, allow(unused_imports, dead_code))]

pub(crate) mod sync {
    pub(crate) use std::sync::{Arc, Once, OnceLock};

    pub(crate) mod atomic {
        pub(crate) use std::sync::atomic::{
            AtomicBool, AtomicPtr, AtomicU8, AtomicU64, AtomicUsize, Ordering, fence,
        };
    }

    #[cfg(not(miri))]
    pub(crate) use parking_lot::{Mutex, MutexGuard};

    /// `std`'s mutex, for a lock that a thread outside the runtime takes
    /// while busy workers take it too: a waiter spins briefly, then sleeps
    /// in the kernel. `parking_lot`'s waiter calls `sched_yield` between
    /// spins, and on Linux's EEVDF scheduler a yield gives up the rest of
    /// the caller's time slice, to the worker on its CPU (PERFORMANCE.md,
    /// "Task cells", section 3). Poisoning is the caller's to ignore.
    pub(crate) use std::sync::{Mutex as StdMutex, MutexGuard as StdMutexGuard};

    /// A lock with the crate's (`parking_lot`'s) API over `std`'s, whose
    /// waiter does not yield its CPU: for a lock that threads outside the
    /// runtime take while busy workers take it too, as the owned-task
    /// list's shards (`StdMutex`'s doc says why). Under loom it is loom's
    /// lock, like every other [`Mutex`].
    pub(crate) use crate::loom::guard::Mutex as NoYieldMutex;

    /// `parking_lot::Condvar` with the few methods windlass uses, named
    /// as on the other sides (the [guard adapter](crate::loom::guard)).
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

    // Under Miri: std's locks behind the same API (see `guard` for why).
    #[cfg(miri)]
    pub(crate) use crate::loom::guard::{Condvar, Mutex, MutexGuard};
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
    use std::cell::Cell;
    use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

    /// Ids a thread takes from the process-wide counter at once.
    const BLOCK: u64 = 1024;

    /// The process-wide counter: the first id of the next block.
    static NEXT: AtomicU64 = AtomicU64::new(1);

    std::thread_local! {
        /// This thread's block: the next id to hand out, and one past the
        /// last. A `const` `Cell` of plain numbers has no destructor, so it
        /// stays usable inside other thread-locals' destructors (a spawn
        /// from one).
        static BLOCK_LEFT: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
    }

    /// The next task id. Ids need uniqueness only: a thread takes
    /// [`BLOCK`] of them at a time, so a spawn writes no line that other
    /// threads write (PERFORMANCE.md, "Contention model", the task-id
    /// counter).
    pub(crate) fn next() -> u64 {
        BLOCK_LEFT.with(|left| {
            let (next, end) = left.get();
            if next < end {
                left.set((next + 1, end));
                return next;
            }
            // Relaxed: uniqueness needs only the RMW's atomicity.
            let first = NEXT.fetch_add(BLOCK, Relaxed);
            left.set((first + 1, first + BLOCK));
            first
        })
    }
}
