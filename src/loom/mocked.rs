//! loom's primitives (built only with `RUSTFLAGS="--cfg loom"`), behind
//! the same API as [`std`](super::std): loom's atomics, cell and threads
//! as they are, its locks through the [guard adapter](super::guard).

pub(crate) mod sync {
    pub(crate) use loom::sync::Arc;

    pub(crate) mod atomic {
        pub(crate) use loom::sync::atomic::{
            AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering, fence,
        };
    }

    pub(crate) use crate::loom::guard::Mutex as NoYieldMutex;
    pub(crate) use crate::loom::guard::{Condvar, Mutex, MutexGuard};
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
