//! Waiting on many futures and tasks: asyncio's `gather`, `wait`,
//! `as_completed`, `TaskGroup`, and cancelling the rest.
//!
//! | asyncio | windlass | result |
//! |---|---|---|
//! | `await gather(*aws)` | [`join_all`] | `Vec` of outputs, input order |
//! | `gather(*aws, return_exceptions=True)` | [`join_all`] over `JoinHandle`s | one `Result<T, JoinError>` per task |
//! | `gather(*tasks)`, cancelled with its children | [`join_all`] over `handle.abort_on_drop()` | as above; dropping the `JoinAll` aborts the tasks |
//! | `gather` where the first exception propagates | [`try_join_all`] | `Ok(Vec)` or the first `Err`; the rest are cancelled (owned tasks aborted) |
//! | `wait(aws, timeout, return_when)` | [`wait`] + [`ReturnWhen`] | `(done outputs, pending inputs)` |
//! | `as_completed(aws)` | [`as_completed`] | a `Stream` of outputs, completion order |
//! | `wait_for(task, timeout)` | [`time::wait_for`](crate::time::wait_for) | `Err(Elapsed)` once the task is aborted and stopped |
//! | `wait_for(coro, timeout)` | [`time::timeout`](crate::time::timeout) | `Err(Elapsed)`, the future dropped |
//! | `TaskGroup()` | [`TaskGroup`] (fail-fast), [`JoinSet`] (plain set) | aborts the rest on failure / on drop |
//! | `tg.create_task(coro)` inside a task | [`GroupSpawner`] ([`TaskGroup::spawner`]) | `Err` once the group stops or finishes |
//! | select / race of two | [`race`], [`or`], [`zip`], [`try_zip`] | re-exported from `futures-lite` |
//! | `task.cancel()` on drop | [`AbortOnDrop`] ([`JoinHandle::abort_on_drop`](crate::JoinHandle::abort_on_drop)) | a `JoinHandle` that aborts when dropped |
//!
//! # What every helper here has in common
//!
//! - **Inputs** are plain futures or [`JoinHandle`](crate::JoinHandle)s.
//!   Plain futures run *concurrently* inside the helper, on the task that
//!   awaits it (like asyncio coroutines on one loop); spawned tasks run *in
//!   parallel* on all workers, and the helper only waits for them. Handles
//!   spawned from any thread, or another runtime, work the same.
//! - **Outputs** are what the inputs return. For a `JoinHandle<T>` that is
//!   `Result<T, JoinError>`: a task's panic or cancellation is a value, not a
//!   panic in the caller.
//! - **An "exception"** ([`try_join_all`], [`ReturnWhen::FirstException`])
//!   is an `Err` output. Over `JoinHandle`s that means the task panicked or
//!   was cancelled; a task that *returns* `Err(e)` has output `Ok(Err(e))`,
//!   which is a normal completion. [`TaskGroup`] is the exception: its tasks
//!   return `Result`, and both an `Err` and a panic count as failure.
//! - **Empty input** never hangs: `join_all` gives `vec![]`, `try_join_all`
//!   `Ok(vec![])`, `wait` `(vec![], vec![])`, `as_completed` an empty
//!   stream, `JoinSet::join_next` `None`, `TaskGroup::join` `Ok(vec![])`.
//! - **Cost** is O(n) for n inputs: each gets its own waker, and only the
//!   inputs that were woken are polled again (the same idea as
//!   `FuturesUnordered`, written for windlass: one allocation of wakers for
//!   the whole set, not one per input). The helpers also stop after the
//!   task's cooperative budget, so a huge batch of finished tasks does not
//!   hold a worker for long.
//! - **Dropping** a helper cancels the inputs it still holds, by the rule
//!   below.
//!
//! # Cancellation: ownership decides
//!
//! One rule covers [`join_all`], [`try_join_all`], [`wait`],
//! [`as_completed`], [`race`]/[`or`]/[`zip`], and
//! [`time::timeout`](crate::time::timeout):
//!
//! 1. **A helper owns its inputs, and cancels an input by dropping it.** It
//!    drops every input it does not run to the end: when it gives up
//!    ([`try_join_all`]'s first error, the loser of a [`race`], the
//!    deadline of a `timeout`) and when it is itself dropped unfinished (a
//!    `timeout` around it, an aborted task awaiting it: asyncio's cancelled
//!    `gather`). When it gives up, it drops them before it returns.
//! 2. **The input's type says what dropping it does to a task**, the same
//!    inside a helper as anywhere else:
//!    - a plain future is cancelled (its drop guards run);
//!    - an [`AbortOnDrop`] (`handle.abort_on_drop()`) **owns** its task and
//!      aborts it: asyncio's gather, whose children are cancelled with it;
//!    - a bare [`JoinHandle`](crate::JoinHandle) is only a reference to a
//!      task the runtime runs, and dropping it **detaches** the task, which
//!      runs on (asyncio's `wait` and `as_completed`, which never cancel).
//! 3. **What a helper hands back is yours**: outputs, the `pending` inputs
//!    of [`wait`], a `JoinHandle` an input returned. A helper that finishes
//!    normally cancels nothing.
//! 4. **Two kinds of owner abort their tasks themselves**: [`JoinSet`] and
//!    [`TaskGroup`] abort theirs when dropped (a `TaskGroup` also on its
//!    first failure); [`time::wait_for`](crate::time::wait_for) takes a
//!    task, aborts it at the deadline and waits for it to stop: asyncio's
//!    `wait_for(task, t)`.
//!
//! Why the input's type decides and not the helper: a helper is generic
//! over any future, and without specialization it cannot tell a
//! `JoinHandle` from another future. (Round 1 had `try_join_all` set a
//! thread-local scope that `JoinHandle`'s drop read: every handle drop paid
//! for the read, a handle buried in a user's future changed meaning inside
//! the scope, and the other helpers behaved differently.) The type is
//! explicit, costs nothing, and means the same in every helper.
//!
//! ```
//! use std::time::Duration;
//! use windlass::join::join_all;
//! use windlass::time::timeout;
//!
//! windlass::Runtime::new().unwrap().block_on(async {
//!     let (tx, delivered) = futures_channel::oneshot::channel();
//!     let owned = windlass::spawn(std::future::pending::<()>()).abort_on_drop();
//!     let owned_abort = owned.abort_handle();
//!     let referenced = windlass::spawn(async move {
//!         windlass::time::sleep(Duration::from_millis(20)).await;
//!         tx.send("delivered").unwrap();
//!     });
//!
//!     // A gather of the owned task, cancelled by a timeout: the task is aborted.
//!     assert!(timeout(Duration::from_millis(5), join_all([owned])).await.is_err());
//!     // The same with a bare handle: the task runs on, detached.
//!     assert!(timeout(Duration::from_millis(5), join_all([referenced])).await.is_err());
//!     assert_eq!(delivered.await, Ok("delivered"));
//!     while !owned_abort.is_finished() {
//!         windlass::task::yield_now().await; // aborted, though it waited forever
//!     }
//! });
//! ```
//!
//! # Cancellation, made visible
//!
//! [`JoinHandle::abort`](crate::JoinHandle::abort) takes effect at once for
//! a task that is waiting (in `sleep`, on a channel, on a socket): its future
//! is dropped on a worker right away, without waiting for the timer or the
//! data. A task that is being polled is cancelled when that poll returns.
//! There is no `CancelledError` to catch; cleanup goes in a drop guard, which
//! runs whether the task finishes, panics or is cancelled:
//!
//! ```
//! use std::time::Duration;
//!
//! /// asyncio's `try: ... finally: cleanup()`.
//! struct Cleanup(Option<futures_channel::oneshot::Sender<&'static str>>);
//!
//! impl Drop for Cleanup {
//!     fn drop(&mut self) {
//!         let why = if std::thread::panicking() { "panicked" } else { "cancelled or done" };
//!         let _ = self.0.take().unwrap().send(why);
//!     }
//! }
//!
//! windlass::Runtime::new().unwrap().block_on(async {
//!     let (tx, cleaned_up) = futures_channel::oneshot::channel();
//!     let (started_tx, started) = futures_channel::oneshot::channel();
//!     let task = windlass::spawn(async move {
//!         let _cleanup = Cleanup(Some(tx));
//!         started_tx.send(()).unwrap();
//!         windlass::time::sleep(Duration::from_secs(3600)).await;
//!     });
//!     started.await.unwrap(); // (a task aborted before it starts never runs)
//!     task.abort();
//!     // The hour-long sleep did not delay the cancellation.
//!     assert_eq!(cleaned_up.await, Ok("cancelled or done"));
//!     assert!(task.await.unwrap_err().is_cancelled());
//! });
//! ```

mod as_completed;
mod group_spawner;
mod group_state;
mod join_all;
mod join_set;
mod ready;
pub mod select;
mod task_group;
mod wait;

use std::task::Context;

pub use crate::task::abort_on_drop::AbortOnDrop;
pub use as_completed::{AsCompleted, as_completed};
pub use group_spawner::{GroupSpawnError, GroupSpawner};
pub use join_all::{JoinAll, TryJoinAll, join_all, try_join_all};
pub use join_set::JoinSet;
#[doc(no_inline)]
pub use select::{Or, Race, TryZip, Zip, or, race, try_zip, zip};
pub use task_group::{TaskGroup, TaskGroupError};
pub use wait::{ReturnWhen, Wait, wait};

use ready::ReadyQueue;

/// If the current task has spent its cooperative budget and `ready` still
/// holds a batch, wakes the task (so the rest of the batch is polled on its
/// next turn) and returns true: rule 4 of the ready queue.
fn yield_if_budget_spent(cx: &Context<'_>, ready: &ReadyQueue) -> bool {
    if ready.has_batch() && crate::task::coop::budget_get() == Some(0) {
        cx.waker().wake_by_ref();
        return true;
    }
    false
}

/// Runtime-free checks of the unsafe parts (pinned items, raw wakers), small
/// enough for Miri.
#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use futures_channel::oneshot;
    use futures_lite::StreamExt;
    use futures_lite::future::block_on;

    /// !Unpin futures that finish when their sender fires, from another thread.
    fn gated(
        n: usize,
    ) -> (
        Vec<oneshot::Sender<usize>>,
        Vec<impl Future<Output = usize> + Send>,
    ) {
        let (txs, rxs): (Vec<_>, Vec<_>) = (0..n).map(|_| oneshot::channel()).unzip();
        let futs = rxs
            .into_iter()
            .map(|rx| async move {
                let pinned_local = [0u8; 4];
                let v = rx.await.unwrap();
                v + usize::from(pinned_local[0])
            })
            .collect();
        (txs, futs)
    }

    fn fire_reversed(txs: Vec<oneshot::Sender<usize>>) -> std::thread::JoinHandle<()> {
        std::thread::spawn(move || {
            for (i, tx) in txs.into_iter().enumerate().rev() {
                tx.send(i).unwrap();
            }
        })
    }

    #[test]
    fn join_all_and_as_completed_without_a_runtime() {
        let (txs, futs) = gated(5);
        let t = fire_reversed(txs);
        assert_eq!(block_on(join_all(futs)), [0, 1, 2, 3, 4]);
        t.join().unwrap();

        let (txs, futs) = gated(5);
        let t = fire_reversed(txs);
        let mut got: Vec<usize> = block_on(as_completed(futs).collect());
        got.sort_unstable();
        assert_eq!(got, [0, 1, 2, 3, 4]);
        t.join().unwrap();
    }

    #[test]
    fn try_join_all_drops_the_rest_in_place() {
        let (mut txs, futs) = gated(3);
        let fallible = futs.into_iter().map(|f| async move {
            let v = f.await;
            if v == 1 { Err("no") } else { Ok(v) }
        });
        txs.remove(1).send(1).unwrap();
        // Inputs 0 and 2 never finish: dropped in place on the error.
        assert_eq!(block_on(try_join_all(fallible)), Err("no"));
    }

    #[test]
    fn wait_hands_back_pending_inputs() {
        let (mut txs, futs) = gated(3);
        let boxed: Vec<_> = futs
            .into_iter()
            .map(|f| Box::pin(async move { Ok::<_, ()>(f.await) }))
            .collect();
        txs.remove(1).send(1).unwrap();
        let (done, pending) = block_on(wait(boxed, ReturnWhen::FirstCompleted, None));
        assert_eq!(done, [Ok(1)]);
        assert_eq!(pending.len(), 2);
        let t = std::thread::spawn(move || {
            for (tx, v) in txs.into_iter().zip([0, 2]) {
                tx.send(v).unwrap();
            }
        });
        let (done, pending) = block_on(wait(pending, ReturnWhen::AllCompleted, None));
        assert!(pending.is_empty());
        assert_eq!(done.len(), 2);
        t.join().unwrap();
    }
}
