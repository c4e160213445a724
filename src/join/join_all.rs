//! `join_all` and `try_join_all`: asyncio's `gather`.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};

use super::ready::ReadyQueue;
use super::yield_if_budget_spent;

/// One input of [`JoinAll`] or [`TryJoinAll`].
pub(super) enum Item<F: Future> {
    /// Not finished; pinned in place in the items' heap allocation.
    Running(F),
    /// Finished; the output waits to be collected.
    Done(F::Output),
    /// Finished and its output handed out (`as_completed`).
    Gone,
}

/// The inputs, polled only when woken: shared by the gathers and
/// `as_completed`.
pub(super) struct Items<F: Future> {
    /// Never reallocated or moved out while an item is `Running`, so the
    /// futures stay pinned (see `poll_item`).
    items: Box<[Item<F>]>,
    ready: ReadyQueue,
    /// Items still `Running`.
    pub(super) running: usize,
}

impl<F: Future> Items<F> {
    pub(super) fn new(iter: impl IntoIterator<Item = impl IntoFuture<IntoFuture = F>>) -> Items<F> {
        let items: Box<[Item<F>]> = iter
            .into_iter()
            .map(|f| Item::Running(f.into_future()))
            .collect();
        let running = items.len();
        Items {
            ready: ReadyQueue::all_ready(running),
            items,
            running,
        }
    }

    /// Polls the woken items (one batch), calling `on_done` with each
    /// output as it comes. `on_done` returns `Some(out)` to stop right there.
    /// `Ready(None)` once every item is done.
    pub(super) fn poll_batch<R>(
        &mut self,
        cx: &mut Context<'_>,
        mut on_done: impl FnMut(&mut Item<F>, F::Output) -> Option<R>,
    ) -> Poll<Option<R>> {
        if self.running == 0 {
            return Poll::Ready(None);
        }
        self.ready.begin(cx.waker());
        loop {
            if yield_if_budget_spent(cx, &self.ready) {
                return Poll::Pending;
            }
            let Some(i) = self.ready.pop() else {
                return Poll::Pending;
            };
            let Item::Running(fut) = &mut self.items[i] else {
                continue; // a late wake of a finished item
            };
            // SAFETY: the future lives in the boxed slice, which is never
            // moved or reallocated while an item runs; it is dropped in
            // place (assignment below, or the slice's drop).
            let fut = unsafe { Pin::new_unchecked(fut) };
            let waker = self.ready.waker(i);
            if let Poll::Ready(out) = fut.poll(&mut Context::from_waker(&waker)) {
                self.running -= 1;
                if let Some(r) = on_done(&mut self.items[i], out) {
                    return Poll::Ready(Some(r));
                }
                if self.running == 0 {
                    return Poll::Ready(None);
                }
            }
        }
    }

    /// Cancels every item still `Running` by dropping it, in place (the
    /// future never moves): [`try_join_all`] giving up on the rest. What
    /// that does to a task depends on the input's type (rule 2 of the
    /// module docs). Finished outputs are left alone.
    fn cancel_running(&mut self) {
        if self.running == 0 {
            return;
        }
        for item in self.items.iter_mut() {
            if let Item::Running(_) = item {
                *item = Item::Gone;
            }
        }
        self.running = 0;
    }

    /// The outputs in input order; every item must be `Done`.
    fn take_outputs<T>(&mut self, mut map: impl FnMut(F::Output) -> T) -> Vec<T> {
        // All futures are gone, so nothing pinned remains in the slice.
        std::mem::take(&mut self.items)
            .into_iter()
            .map(|item| match item {
                Item::Done(out) => map(out),
                Item::Running(_) | Item::Gone => {
                    unreachable!("collected before every item finished")
                }
            })
            .collect()
    }
}

/// Waits for every future and returns their outputs **in input order**:
/// asyncio's `gather(*aws)`.
///
/// Takes anything iterable whose items are futures (or [`IntoFuture`]): plain
/// futures, which run concurrently inside the `JoinAll` (on the task that
/// awaits it), or [`JoinHandle`](crate::JoinHandle)s of spawned tasks, which
/// run in parallel on the workers. Handles from any runtime or thread work.
///
/// - **Order**: `out[i]` is the output of the `i`-th input, whatever order
///   they finished in.
/// - **Empty input**: completes at once with an empty `Vec`.
/// - **Failures**: nothing is special. A `JoinHandle`'s output is
///   `Result<T, JoinError>`, so over handles you get one `Result` per task:
///   gather's `return_exceptions=True`. To stop at the first error instead,
///   use [`try_join_all`].
/// - **Cost**: O(n) in all. Each input is polled once to start, then only
///   when its own waker fires (see the module docs).
/// - **Dropping** the `JoinAll` early (asyncio's cancelled `gather`)
///   cancels the inputs by dropping them ([the rule](super#cancellation-ownership-decides)):
///   plain futures are cancelled, owned handles
///   ([`abort_on_drop`](crate::JoinHandle::abort_on_drop)) abort their
///   tasks, and bare `JoinHandle`s detach theirs.
///
/// ```
/// use std::time::{Duration, Instant};
/// use windlass::join::join_all;
/// use windlass::time::sleep;
///
/// windlass::Runtime::new().unwrap().block_on(async {
///     let start = Instant::now();
///     // Spawned tasks: each output is a Result (return_exceptions=True).
///     let tasks = [60u64, 20, 40].map(|ms| {
///         windlass::spawn(async move {
///             sleep(Duration::from_millis(ms)).await;
///             ms
///         })
///     });
///     let outs: Vec<u64> = join_all(tasks).await.into_iter().map(Result::unwrap).collect();
///     assert_eq!(outs, [60, 20, 40], "input order, not finishing order");
///     assert!(start.elapsed() < Duration::from_millis(120), "they overlapped");
///
///     // Plain futures, run concurrently on this task.
///     let lens = join_all(["a", "bb", "ccc"].map(|s| async move { s.len() })).await;
///     assert_eq!(lens, [1, 2, 3]);
///
///     let none: Vec<u8> = join_all(Vec::<std::future::Ready<u8>>::new()).await;
///     assert!(none.is_empty());
///
///     // Owned tasks: a gather given up on by a timeout aborts them.
///     let owned = [windlass::spawn(std::future::pending::<()>())].map(|t| t.abort_on_drop());
///     let abort = owned[0].abort_handle();
///     assert!(windlass::time::timeout(Duration::from_millis(5), join_all(owned)).await.is_err());
///     while !abort.is_finished() {
///         windlass::task::yield_now().await; // it waited forever, now cancelled
///     }
/// });
/// ```
pub fn join_all<I>(iter: I) -> JoinAll<<I::Item as IntoFuture>::IntoFuture>
where
    I: IntoIterator,
    I::Item: IntoFuture,
{
    JoinAll {
        items: Items::new(iter),
    }
}

/// Future of [`join_all`]: a `Vec` of the outputs, in input order. It can
/// be stored and polled by hand (it is `Unpin`).
///
/// ```
/// use windlass::join::{JoinAll, join_all};
///
/// let all: JoinAll<_> = join_all([1, 2].map(|x| async move { x * 2 }));
/// assert_eq!(futures_lite::future::block_on(all), [2, 4]);
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct JoinAll<F: Future> {
    items: Items<F>,
}

// The inputs live in a heap allocation that does not move with the
// `JoinAll`, so moving the `JoinAll` never moves a pinned future.
impl<F: Future> Unpin for JoinAll<F> {}

impl<F: Future> Future for JoinAll<F> {
    type Output = Vec<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Vec<F::Output>> {
        let items = &mut self.get_mut().items;
        std::task::ready!(items.poll_batch(cx, |item, out| {
            *item = Item::Done(out);
            None::<()>
        }));
        Poll::Ready(items.take_outputs(|out| out))
    }
}

impl<F: Future> fmt::Debug for JoinAll<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinAll")
            .field("len", &self.items.items.len())
            .field("running", &self.items.running)
            .finish()
    }
}

/// Waits for every future, or returns the **first error** and cancels the
/// rest: asyncio's `gather(*aws)` where the first exception propagates, made
/// fail-fast.
///
/// The inputs are futures whose output is a `Result<T, E>`. If all of them
/// return `Ok`, the result is `Ok(vec)` with the values **in input order**.
/// As soon as one returns `Err(e)` (the first one to *finish* with an error,
/// not the first in input order), the result is `Err(e)` and every input
/// still running is cancelled right there, before `try_join_all` returns.
///
/// **Cancelling the rest** follows [the rule](super#cancellation-ownership-decides)
/// of every helper: at the first error, or when the `TryJoinAll` itself is
/// dropped before finishing (say, by a [`timeout`](crate::time::timeout)),
/// every input still running is dropped in place:
///
/// - a plain future is cancelled, so its drop guards have run when you get
///   the error;
/// - an owned handle ([`JoinHandle::abort_on_drop`](crate::JoinHandle::abort_on_drop))
///   aborts its task, inputs and handles held inside input futures alike
///   (such as `async move { owned.await? }`: asyncio cancels the task a
///   cancelled coroutine awaits). `abort` takes effect at once for a task
///   that is waiting, but its drop guards run on a worker: they may still
///   be running when you get the error (a [`TaskGroup`](super::TaskGroup)
///   waits for them);
/// - a bare [`JoinHandle`](crate::JoinHandle) detaches its task, which runs
///   on, as dropping a `JoinHandle` does everywhere;
/// - outputs that had already arrived (`Ok` values of finished inputs) are
///   yours and dropped as they are: a `JoinHandle` *returned* by an input is
///   detached like any dropped handle.
///
/// - **Empty input**: `Ok(vec![])` at once.
/// - **What is an error over handles**: a task's output is
///   `Result<T, JoinError>`, so an error is a task that panicked or was
///   cancelled. A task that *returns* `Err` gives `Ok(Err(_))`, a success
///   here; to stop on those too, pass futures that flatten both layers, such
///   as `async move { handle.await.map_err(MyError::Join)? }` (a handle
///   they hold is aborted with them if it is owned, as above).
///
/// ```
/// use std::time::Duration;
/// use windlass::join::try_join_all;
/// use windlass::time::sleep;
///
/// windlass::Runtime::new().unwrap().block_on(async {
///     // Plain futures: the slow one is dropped when the failure arrives.
///     let jobs = (0..3u64).map(|i| async move {
///         sleep(Duration::from_millis(10 + 100 * i)).await;
///         if i == 1 { Err(format!("job {i} failed")) } else { Ok(i) }
///     });
///     assert_eq!(try_join_all(jobs).await, Err("job 1 failed".to_string()));
///
///     // Owned tasks: the sleeping one is aborted when the other panics.
///     let sleeper = windlass::spawn(async { sleep(Duration::from_secs(60)).await; 1 });
///     let abort = sleeper.abort_handle();
///     let tasks = [sleeper, windlass::spawn(async { panic!("boom") })].map(|t| t.abort_on_drop());
///     let err = try_join_all(tasks).await.unwrap_err();
///     assert!(err.is_panic());
///     while !abort.is_finished() {
///         windlass::task::yield_now().await; // cancelled, not sleeping a minute
///     }
///
///     let all = try_join_all([1, 2].map(|x| async move { Ok::<_, ()>(x) })).await;
///     assert_eq!(all, Ok(vec![1, 2]));
/// });
/// ```
pub fn try_join_all<I, T, E>(iter: I) -> TryJoinAll<<I::Item as IntoFuture>::IntoFuture>
where
    I: IntoIterator,
    I::Item: IntoFuture<Output = Result<T, E>>,
{
    TryJoinAll {
        items: Items::new(iter),
    }
}

/// Future of [`try_join_all`]. Dropping it before it finishes cancels the
/// inputs still running, owned tasks included (see [`try_join_all`]).
///
/// ```
/// use std::time::Duration;
/// use windlass::join::try_join_all;
///
/// windlass::Runtime::new().unwrap().block_on(async {
///     let task = windlass::spawn(async { Ok::<(), ()>(std::future::pending().await) });
///     let abort = task.abort_handle();
///     let owned = task.abort_on_drop();
///     let all = try_join_all([async move { owned.await.unwrap() }]);
///     // Given up on after 10 ms: the TryJoinAll is dropped, the task aborted.
///     assert!(windlass::time::timeout(Duration::from_millis(10), all).await.is_err());
///     while !abort.is_finished() {
///         windlass::task::yield_now().await;
///     }
/// });
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct TryJoinAll<F: Future> {
    items: Items<F>,
}

// As for `JoinAll`: the inputs do not move with the `TryJoinAll`.
impl<F: Future> Unpin for TryJoinAll<F> {}

impl<F, T, E> Future for TryJoinAll<F>
where
    F: Future<Output = Result<T, E>>,
{
    type Output = Result<Vec<T>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<Vec<T>, E>> {
        let items = &mut self.get_mut().items;
        let first_error = std::task::ready!(items.poll_batch(cx, |item, out| match out {
            Ok(v) => {
                *item = Item::Done(Ok(v));
                None
            }
            Err(e) => Some(e),
        }));
        Poll::Ready(match first_error {
            Some(e) => {
                // Cancel the rest now, then free the finished outputs.
                items.cancel_running();
                items.items = Box::default();
                Err(e)
            }
            None => Ok(items.take_outputs(|out| match out {
                Ok(v) => v,
                Err(_) => unreachable!("errors are returned, not stored"),
            })),
        })
    }
}

impl<F: Future> fmt::Debug for TryJoinAll<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TryJoinAll")
            .field("len", &self.items.items.len())
            .field("running", &self.items.running)
            .finish()
    }
}
