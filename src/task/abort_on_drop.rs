//! `AbortOnDrop`: a `JoinHandle` that cancels its task when dropped. Public
//! as `windlass::join::AbortOnDrop`; it lives here, beside `JoinHandle`,
//! because `JoinHandle::abort_on_drop` returns it and the task layer does
//! not import `join` (docs/ARCHITECTURE.md, "Layers").

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::{AbortHandle, Id, JoinError, JoinHandle};

/// A [`JoinHandle`] that **aborts** its task when dropped, instead of
/// detaching it: asyncio's ownership, where a task nobody waits for any more
/// is cancelled.
///
/// Awaiting it gives the task's output, as the handle would. It is the
/// *owned* handle of [the cancellation rule](crate::join#cancellation-ownership-decides):
/// pass tasks to a helper wrapped in it and every helper that gives up on
/// them or is cancelled aborts them ([`join_all`](crate::join::join_all),
/// [`try_join_all`](crate::join::try_join_all) and
/// [`as_completed`](crate::join::as_completed) dropped early or failing, the
/// loser of [`race`](crate::join::race), a [`timeout`](crate::time::timeout)
/// around it, a dropped [`wait`](crate::join::wait)), where a bare `JoinHandle`
/// would leave the task running. [`JoinHandle::abort_on_drop`] is the same
/// as [`AbortOnDrop::new`].
///
/// ```
/// use windlass::join::AbortOnDrop;
///
/// windlass::Runtime::new().unwrap().block_on(async {
///     let task = AbortOnDrop::new(windlass::spawn(std::future::pending::<()>()));
///     let abort = task.abort_handle();
///     drop(task); // cancels the task
///     while !abort.is_finished() {
///         windlass::task::yield_now().await;
///     }
/// });
/// ```
pub struct AbortOnDrop<T>(
    /// `Some` until `into_inner` takes it.
    Option<JoinHandle<T>>,
);

impl<T> AbortOnDrop<T> {
    /// Wraps `handle`; dropping the wrapper aborts the task.
    ///
    /// ```
    /// windlass::Runtime::new().unwrap().block_on(async {
    ///     let task = windlass::join::AbortOnDrop::new(windlass::spawn(async { 1 }));
    ///     assert_eq!(task.await.unwrap(), 1);
    /// });
    /// ```
    pub fn new(handle: JoinHandle<T>) -> AbortOnDrop<T> {
        AbortOnDrop(Some(handle))
    }

    fn handle(&self) -> &JoinHandle<T> {
        self.0.as_ref().expect("present until into_inner")
    }

    /// Takes the handle back out: dropping *it* detaches the task again.
    ///
    /// ```
    /// windlass::Runtime::new().unwrap().block_on(async {
    ///     let task = windlass::join::AbortOnDrop::new(windlass::spawn(async { 2 }));
    ///     let handle = task.into_inner();
    ///     assert_eq!(handle.await.unwrap(), 2);
    /// });
    /// ```
    pub fn into_inner(mut self) -> JoinHandle<T> {
        self.0.take().expect("present until into_inner")
    }

    /// Aborts the task now; see [`JoinHandle::abort`].
    ///
    /// ```
    /// windlass::Runtime::new().unwrap().block_on(async {
    ///     let task = windlass::join::AbortOnDrop::new(windlass::spawn(std::future::pending::<()>()));
    ///     task.abort();
    ///     assert!(task.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn abort(&self) {
        self.handle().abort();
    }

    /// A handle that can abort the task but not wait for it.
    ///
    /// ```
    /// windlass::Runtime::new().unwrap().block_on(async {
    ///     let task = windlass::join::AbortOnDrop::new(windlass::spawn(async {}));
    ///     let abort = task.abort_handle();
    ///     assert_eq!(abort.id(), task.id());
    /// });
    /// ```
    pub fn abort_handle(&self) -> AbortHandle {
        self.handle().abort_handle()
    }

    /// True once the task has finished.
    ///
    /// ```
    /// windlass::Runtime::new().unwrap().block_on(async {
    ///     let task = windlass::join::AbortOnDrop::new(windlass::spawn(std::future::pending::<()>()));
    ///     assert!(!task.is_finished());
    /// });
    /// ```
    pub fn is_finished(&self) -> bool {
        self.handle().is_finished()
    }

    /// The task's id.
    ///
    /// ```
    /// windlass::Runtime::new().unwrap().block_on(async {
    ///     let handle = windlass::spawn(async {});
    ///     let id = handle.id();
    ///     assert_eq!(windlass::join::AbortOnDrop::new(handle).id(), id);
    /// });
    /// ```
    pub fn id(&self) -> Id {
        self.handle().id()
    }
}

impl<T> From<JoinHandle<T>> for AbortOnDrop<T> {
    fn from(handle: JoinHandle<T>) -> AbortOnDrop<T> {
        AbortOnDrop::new(handle)
    }
}

impl<T> Future for AbortOnDrop<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let handle = self.0.as_mut().expect("present until into_inner");
        Pin::new(handle).poll(cx)
    }
}

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        if let Some(handle) = &self.0 {
            handle.abort();
        }
    }
}

impl<T> fmt::Debug for AbortOnDrop<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("AbortOnDrop").field(&self.0).finish()
    }
}
