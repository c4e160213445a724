//! The cooperative budget: a task that is always ready (looping on a channel
//! that never runs dry, say) must still let the other tasks of its worker run.
//!
//! Each poll of a task starts with a budget of [`BUDGET`] units. windlass's
//! own leaf futures (`JoinHandle`, and later channels, locks and I/O) check
//! [`poll_proceed`] before doing work and [`consume`] a unit when they make
//! progress; once the budget is spent they return `Pending` after waking the
//! task, which then goes to the back of its worker's queue. The future of
//! a current-thread runtime's `block_on` has a budget too (it shares its
//! thread with the runtime's tasks, as asyncio's main task does). Anywhere
//! else outside a windlass task the budget is unlimited.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Units of progress one poll of a task may make before it must yield.
///
/// Why 128: a unit is one ready leaf operation (a `JoinHandle` output, a
/// channel message, an I/O call), each from a few hundred nanoseconds to a
/// few microseconds, so a poll that spends the whole budget holds its
/// worker for well under a millisecond: short enough for fairness, long
/// enough that a task draining a busy channel yields only once per 128
/// messages. It also fits the `u8` the budget is kept in.
pub(crate) const BUDGET: u8 = 128;

pub(crate) use super::context::{budget_get, budget_set};

/// Counts a forced yield for `Handle::metrics`: set once by the runtime
/// (`Builder::build`), which knows where the current worker's counters
/// are. A hook rather than an import: the task layer does not know the
/// runtime (docs/ARCHITECTURE.md, "Layers").
static FORCED_YIELD_HOOK: crate::loom::std::sync::OnceLock<fn()> =
    crate::loom::std::sync::OnceLock::new();

/// Installs the forced-yield counter; later calls keep the first hook (it
/// is always the same function).
pub(crate) fn set_forced_yield_hook(hook: fn()) {
    let _ = FORCED_YIELD_HOOK.set(hook);
}

/// `Ready` if the current task may make progress; otherwise wakes it and
/// returns `Pending`.
pub(crate) fn poll_proceed(cx: &mut Context<'_>) -> Poll<()> {
    match budget_get() {
        Some(0) => {
            count_forced_yield();
            cx.waker().wake_by_ref();
            Poll::Pending
        }
        _ => Poll::Ready(()),
    }
}

/// Counts the yield in `Handle::metrics` (`forced_yields` of this
/// thread's worker). Out of line: the budget runs out once per 128 units.
#[cold]
#[inline(never)]
fn count_forced_yield() {
    if let Some(hook) = FORCED_YIELD_HOOK.get() {
        hook();
    }
}

/// Spends one unit of the current task's budget.
pub(crate) fn consume() {
    if let Some(n) = budget_get() {
        budget_set(Some(n.saturating_sub(1)));
    }
}

/// Spends one unit of the current task's budget, yielding to the scheduler
/// first if the budget is used up.
///
/// Call it in a loop that may never hit a `Pending` of its own, so that the
/// loop cannot starve other tasks of its worker. Outside a windlass task
/// (and the `block_on` future of a current-thread runtime) it never yields.
///
/// ```
/// # windlass::Runtime::new().unwrap().block_on(async {
/// let mut sum = 0u64;
/// for i in 0..10_000u64 {
///     windlass::task::consume_budget().await;
///     sum += i;
/// }
/// assert_eq!(sum, 49_995_000);
/// # });
/// ```
pub async fn consume_budget() {
    ConsumeBudget.await
}

struct ConsumeBudget;

impl Future for ConsumeBudget {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        std::task::ready!(poll_proceed(cx));
        consume();
        Poll::Ready(())
    }
}
