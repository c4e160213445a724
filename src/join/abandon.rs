//! Abandoning inputs: the scope in which dropping a `JoinHandle` aborts its
//! task instead of detaching it.
//!
//! Dropping a [`JoinHandle`](crate::JoinHandle) detaches its task, and a
//! helper that takes any future cannot tell a handle from another future
//! (that would need specialization). So [`try_join_all`](super::try_join_all)
//! marks the moment instead: it drops the inputs it gives up on inside
//! [`abort_dropped_handles`], and `JoinHandle`'s `Drop` asks
//! [`aborting_dropped_handles`] whether to abort first. Every handle dropped
//! in that scope is covered, whether it is an input or held by one, and only
//! on this thread: the scope is a thread-local counter, entered and left
//! around a synchronous drop, so no other code runs inside it.

// `crate::loom::thread_local!` has no const form under loom, and one
// definition serves both builds.
#![allow(clippy::missing_const_for_thread_local)]

use std::cell::Cell;

crate::loom::thread_local! {
    // How many `abort_dropped_handles` calls are running on this thread.
    static DEPTH: Cell<usize> = Cell::new(0);
}

/// Runs `f` so that every `JoinHandle` it drops on this thread aborts its
/// task instead of detaching it. Calls may nest.
pub(super) fn abort_dropped_handles<R>(f: impl FnOnce() -> R) -> R {
    /// Leaves the scope, even if `f` panics.
    struct Leave;

    impl Drop for Leave {
        fn drop(&mut self) {
            DEPTH.with(|depth| depth.set(depth.get() - 1));
        }
    }

    DEPTH.with(|depth| depth.set(depth.get() + 1));
    let _leave = Leave;
    f()
}

/// True inside [`abort_dropped_handles`] on this thread: `JoinHandle`'s
/// `Drop` then aborts the task.
pub(crate) fn aborting_dropped_handles() -> bool {
    // `try_with`: a handle may be dropped while the thread's locals are torn
    // down; no scope is running then.
    DEPTH.try_with(|depth| depth.get() > 0).unwrap_or(false)
}
