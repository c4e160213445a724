//! Which task this thread is polling, and that poll's cooperative budget:
//! one thread-local, set around each poll (or drop) of a task by the
//! harness, and read by `task::id()`, `task::name()`, the panic report and
//! the budget's leaf futures (`coop`).
//!
//! It lives in the task layer, not with the runtime's per-thread state
//! (`runtime::context`), because the task machinery sets and reads it and
//! must not import the runtime (docs/ARCHITECTURE.md, "Layers").

#![allow(clippy::missing_const_for_thread_local)]

use std::cell::Cell;
use std::ptr::NonNull;

use super::Id;
use super::coop::BUDGET;
use super::core::Header;

struct TaskContext {
    /// The task being polled here, if any. Set only by [`in_task`], whose
    /// caller holds a reference to the task for as long as it is set.
    task: Cell<Option<NonNull<Header>>>,
    /// The budget of the task being polled (`coop`); `None` outside tasks
    /// and in blocking closures (unlimited).
    budget: Cell<Option<u8>>,
}

// Not `const`-initialised (see the module-level `allow`): loom's
// `thread_local!` has no const form, and one definition serves both builds.
crate::loom::thread_local! {
    static CONTEXT: TaskContext = TaskContext {
        task: Cell::new(None),
        budget: Cell::new(None),
    };
}

/// Runs `f` as the poll (or drop) of `task`: `task::id()` and
/// `task::name()` answer for it and the cooperative budget starts full.
///
/// The caller holds a reference to `task` until this returns.
#[inline]
pub(crate) fn in_task<R>(task: NonNull<Header>, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<NonNull<Header>>, Option<u8>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let _ = CONTEXT.try_with(|c| {
                c.task.set(self.0);
                c.budget.set(self.1);
            });
        }
    }
    let _restore =
        CONTEXT.with(|c| Restore(c.task.replace(Some(task)), c.budget.replace(Some(BUDGET))));
    f()
}

/// The id of the task being polled on this thread.
pub(crate) fn current_task() -> Option<Id> {
    with_current_task(|header| header.id)
}

/// Runs `f` with the header of the task being polled on this thread.
pub(crate) fn with_current_task<R>(f: impl FnOnce(&Header) -> R) -> Option<R> {
    let task = CONTEXT.try_with(|c| c.task.get()).ok().flatten()?;
    // SAFETY: set by `in_task`, whose caller holds a reference to the task
    // until the pointer is cleared again, so the header is alive; we are on
    // that thread, inside that call.
    Some(f(unsafe { task.as_ref() }))
}

/// The current task's budget; `None` is unlimited (outside tasks).
pub(crate) fn budget_get() -> Option<u8> {
    CONTEXT.try_with(|c| c.budget.get()).ok().flatten()
}

/// Sets the current task's budget (`None`: unlimited).
pub(crate) fn budget_set(budget: Option<u8>) {
    let _ = CONTEXT.try_with(|c| c.budget.set(budget));
}

/// Runs `f` with a full cooperative budget, outside any task: one poll of
/// a `block_on` future on a current-thread runtime, which shares its thread
/// with the runtime's tasks and so must yield to them as a task does.
pub(crate) fn with_budget<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(Option<u8>);
    impl Drop for Restore {
        fn drop(&mut self) {
            budget_set(self.0);
        }
    }
    let _restore = Restore(CONTEXT.with(|c| c.budget.replace(Some(BUDGET))));
    f()
}
