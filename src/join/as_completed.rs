//! `as_completed`: outputs in the order the inputs finish.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;

use super::join_all::{Item, Items};

/// A [`Stream`] of the outputs **in completion order**: asyncio's
/// `for task in as_completed(aws): result = await task`.
///
/// Takes plain futures (run concurrently inside the stream, on the task
/// that polls it) or [`JoinHandle`](crate::JoinHandle)s (tasks running in
/// parallel; each item is then a `Result<T, JoinError>`).
///
/// - **Order**: an output is yielded as soon as the stream sees its input
///   finish. Inputs that finish between two polls of the stream come out in
///   the order their wakers fired.
/// - **Empty input**: the stream ends at once (`next()` gives `None`).
/// - **Identity**: the stream yields outputs only; to know which input
///   finished, make each return its key (`async move { (key, fut.await) }`).
/// - **Cost**: O(n) in all, as for [`join_all`](super::join_all).
/// - **Dropping** the stream cancels the inputs not yet yielded by dropping
///   them ([the rule](super#cancellation-ownership-decides)): plain futures
///   are cancelled, owned handles
///   ([`abort_on_drop`](crate::JoinHandle::abort_on_drop)) abort their
///   tasks, bare `JoinHandle`s detach theirs (asyncio's `as_completed`,
///   which cancels nothing).
///
/// Use it with `futures_lite::StreamExt` (`next().await`), or any other
/// `Stream` combinator crate.
///
/// ```
/// use std::time::Duration;
/// use futures_lite::StreamExt;
/// use windlass::join::as_completed;
/// use windlass::time::sleep;
///
/// windlass::Runtime::new().unwrap().block_on(async {
///     let tasks = [60u64, 20, 40].map(|ms| {
///         windlass::spawn(async move {
///             sleep(Duration::from_millis(ms)).await;
///             ms
///         })
///     });
///     let mut finished = as_completed(tasks);
///     let mut order = Vec::new();
///     while let Some(out) = finished.next().await {
///         order.push(out.unwrap());
///     }
///     assert_eq!(order, [20, 40, 60]);
/// });
/// ```
pub fn as_completed<I>(iter: I) -> AsCompleted<<I::Item as IntoFuture>::IntoFuture>
where
    I: IntoIterator,
    I::Item: IntoFuture,
{
    AsCompleted {
        items: Items::new(iter),
    }
}

/// Stream of [`as_completed`]: the outputs in completion order. It is
/// `Unpin`, so `next()` works on it directly.
///
/// ```
/// use futures_lite::StreamExt;
/// use windlass::join::{AsCompleted, as_completed};
///
/// let mut stream: AsCompleted<_> = as_completed([async { 1 }]);
/// assert_eq!(futures_lite::future::block_on(stream.next()), Some(1));
/// assert!(stream.is_empty());
/// ```
#[must_use = "streams do nothing unless polled"]
pub struct AsCompleted<F: Future> {
    items: Items<F>,
}

// The inputs live in a heap allocation that does not move with the stream.
impl<F: Future> Unpin for AsCompleted<F> {}

impl<F: Future> AsCompleted<F> {
    /// Inputs not yielded yet.
    ///
    /// ```
    /// let s = windlass::join::as_completed([1, 2].map(|x| async move { x }));
    /// assert_eq!(s.len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        self.items.running
    }

    /// True once every output has been yielded.
    ///
    /// ```
    /// let s = windlass::join::as_completed(Vec::<std::future::Ready<()>>::new());
    /// assert!(s.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.items.running == 0
    }
}

impl<F: Future> Stream for AsCompleted<F> {
    type Item = F::Output;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<F::Output>> {
        self.get_mut().items.poll_batch(cx, |item, out| {
            *item = Item::Gone;
            Some(out)
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.items.running, Some(self.items.running))
    }
}

impl<F: Future> fmt::Debug for AsCompleted<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsCompleted")
            .field("remaining", &self.items.running)
            .finish()
    }
}
