//! `JoinHandle` and `AbortHandle`.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll};

use super::coop;
use super::core::Header;
use super::error::JoinError;
use super::id::Id;
use super::state::ToNotified;

/// An owned permission to wait for a task's output: asyncio's `Task`.
///
/// Awaiting it gives `Ok(output)`, or a [`JoinError`] if the task panicked
/// or was cancelled. Dropping it *detaches* the task: the task keeps running
/// and its output is dropped when it finishes. To cancel the task with the
/// handle instead, turn it into an [`AbortOnDrop`](crate::join::AbortOnDrop)
/// ([`abort_on_drop`](Self::abort_on_drop)), or put it in a
/// [`JoinSet`](crate::join::JoinSet). Dropping a `JoinHandle` detaches
/// everywhere, inside the [`join`](crate::join) helpers too: a bare handle
/// is a reference to a task, an `AbortOnDrop` owns it (the rule is in the
/// [`join`](crate::join#cancellation-ownership-decides) module docs).
///
/// It can be awaited from any runtime, or from a plain thread with
/// `futures_lite::future::block_on`.
///
/// ```
/// let rt = windlass::Runtime::new().unwrap();
/// let handle = rt.spawn(async { 6 * 7 });
/// // From a plain thread, with any executor:
/// assert_eq!(futures_lite::future::block_on(handle).unwrap(), 42);
/// ```
pub struct JoinHandle<T> {
    raw: NonNull<Header>,
    _output: PhantomData<T>,
}

// SAFETY: the handle only moves `T` out of the task (needs `T: Send`); the
// header is shared through atomics.
unsafe impl<T: Send> Send for JoinHandle<T> {}
// SAFETY: `&JoinHandle` only reads the state word and ids.
unsafe impl<T: Send> Sync for JoinHandle<T> {}
impl<T> Unpin for JoinHandle<T> {}

impl<T> JoinHandle<T> {
    /// # Safety
    /// `raw` is a task whose output type is `T`; the handle takes over the
    /// reference reserved for it (and `JOIN_INTEREST`).
    pub(crate) unsafe fn from_raw(raw: NonNull<Header>) -> JoinHandle<T> {
        JoinHandle {
            raw,
            _output: PhantomData,
        }
    }

    fn header(&self) -> &Header {
        // SAFETY: the handle's reference keeps the header alive.
        unsafe { self.raw.as_ref() }
    }

    /// Cancels the task: asyncio's `task.cancel()`.
    ///
    /// A task that is waiting is cancelled right away (its future is
    /// dropped on a worker); a task being polled is cancelled when that poll
    /// returns. Awaiting the handle then gives a cancelled [`JoinError`],
    /// unless the task had already finished.
    ///
    /// ```
    /// let rt = windlass::Runtime::new().unwrap();
    /// let handle = rt.spawn(std::future::pending::<()>());
    /// handle.abort();
    /// assert!(rt.block_on(handle).unwrap_err().is_cancelled());
    /// ```
    pub fn abort(&self) {
        abort_raw(self.raw);
    }

    /// A handle that can cancel the task but not wait for it; it can be
    /// cloned and sent to other threads while this handle is awaited.
    ///
    /// ```
    /// let rt = windlass::Runtime::new().unwrap();
    /// let handle = rt.spawn(std::future::pending::<()>());
    /// let abort = handle.abort_handle();
    /// std::thread::spawn(move || abort.abort()).join().unwrap();
    /// assert!(rt.block_on(handle).unwrap_err().is_cancelled());
    /// ```
    pub fn abort_handle(&self) -> AbortHandle {
        self.header().state.ref_inc();
        AbortHandle { raw: self.raw }
    }

    /// Wraps the handle so that dropping it **aborts** the task instead of
    /// detaching it: tokio's `AbortOnDropHandle`, asyncio's ownership.
    /// Awaiting the wrapper still gives the task's output.
    ///
    /// ```
    /// use windlass::join::race;
    ///
    /// windlass::Runtime::new().unwrap().block_on(async {
    ///     let slow = windlass::spawn(std::future::pending::<u8>()).abort_on_drop();
    ///     let abort = slow.abort_handle();
    ///     let quick = windlass::spawn(async { 1u8 }).abort_on_drop();
    ///     // The loser of the race is dropped, which cancels its task.
    ///     assert_eq!(race(slow, quick).await.unwrap(), 1);
    ///     while !abort.is_finished() {
    ///         windlass::task::yield_now().await;
    ///     }
    /// });
    /// ```
    pub fn abort_on_drop(self) -> super::abort_on_drop::AbortOnDrop<T> {
        super::abort_on_drop::AbortOnDrop::new(self)
    }

    /// True once the task has finished (completed, panicked or been
    /// cancelled) and awaiting the handle will not wait.
    ///
    /// ```
    /// windlass::Runtime::new().unwrap().block_on(async {
    ///     let (tx, rx) = futures_channel::oneshot::channel::<()>();
    ///     let handle = windlass::spawn(async move { rx.await.unwrap() });
    ///     assert!(!handle.is_finished()); // it waits for `tx`
    ///     tx.send(()).unwrap();
    ///     while !handle.is_finished() {
    ///         windlass::task::yield_now().await;
    ///     }
    ///     assert!(handle.await.is_ok());
    /// });
    /// ```
    pub fn is_finished(&self) -> bool {
        self.header().state.load().is_complete()
    }

    /// The task's id; inside the task, [`task::id()`](crate::task::id)
    /// returns the same.
    ///
    /// ```
    /// windlass::Runtime::new().unwrap().block_on(async {
    ///     let handle = windlass::spawn(async { windlass::task::id() });
    ///     let id = handle.id();
    ///     assert_eq!(handle.await.unwrap(), id);
    /// });
    /// ```
    pub fn id(&self) -> Id {
        self.header().id
    }

    /// The task's name, if it was spawned with one
    /// ([`task::Builder::name`](crate::task::Builder::name)).
    ///
    /// ```
    /// windlass::Runtime::new().unwrap().block_on(async {
    ///     let named = windlass::task::Builder::new().name("fetch br").spawn(async {});
    ///     assert_eq!(named.name(), Some("fetch br"));
    ///     assert_eq!(windlass::spawn(async {}).name(), None);
    /// });
    /// ```
    pub fn name(&self) -> Option<&str> {
        self.header().site.name().map(|n| &**n)
    }

    /// Where the task was spawned (every spawn function is
    /// `#[track_caller]`).
    ///
    /// ```
    /// windlass::Runtime::new().unwrap().block_on(async {
    ///     let (task, line) = (windlass::spawn(async {}), line!());
    ///     assert_eq!(task.spawned_at().line(), line);
    ///     assert_eq!(task.spawned_at().file(), file!());
    /// });
    /// ```
    pub fn spawned_at(&self) -> &'static std::panic::Location<'static> {
        self.header().site.location()
    }
}

fn abort_raw(raw: NonNull<Header>) {
    // SAFETY: callers hold a reference, so the header is alive.
    let header = unsafe { raw.as_ref() };
    if header.state.transition_to_notified_and_cancel() == ToNotified::Submit {
        // SAFETY: the transition took a reference for the `Notified`.
        unsafe { (header.vtable.schedule)(raw) };
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        std::task::ready!(coop::poll_proceed(cx));
        let mut out: Poll<Result<T, JoinError>> = Poll::Pending;
        // SAFETY: we are this task's JoinHandle, `T` is its output type, and
        // `out` is a valid `Poll<Result<T, JoinError>>`.
        unsafe {
            (self.header().vtable.try_read_output)(self.raw, (&raw mut out).cast(), cx.waker())
        };
        if out.is_ready() {
            coop::consume();
        }
        out
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        if !self.header().state.drop_join_handle_fast() {
            // SAFETY: we are the JoinHandle and give up our reference.
            unsafe { (self.header().vtable.drop_join_handle_slow)(self.raw) };
        }
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("id", &self.id())
            .field("name", &self.name())
            .field("spawned_at", &format_args!("{}", self.spawned_at()))
            .field("finished", &self.is_finished())
            .finish()
    }
}

/// Cancels a task without owning its output; cloneable, `Send` and `Sync`.
/// Dropping it does nothing to the task.
///
/// ```
/// let rt = windlass::Runtime::new().unwrap();
/// let handle = rt.spawn(std::future::pending::<()>());
/// let abort = handle.abort_handle();
/// let clone = abort.clone();
/// drop(abort);
/// clone.abort();
/// assert!(rt.block_on(handle).unwrap_err().is_cancelled());
/// ```
pub struct AbortHandle {
    raw: NonNull<Header>,
}

// SAFETY: only touches the state word and calls the scheduler, both
// thread-safe; no output crosses through it.
unsafe impl Send for AbortHandle {}
// SAFETY: as above.
unsafe impl Sync for AbortHandle {}

impl AbortHandle {
    /// Cancels the task; see [`JoinHandle::abort`].
    ///
    /// ```
    /// windlass::Runtime::new().unwrap().block_on(async {
    ///     let handle = windlass::spawn(std::future::pending::<()>());
    ///     handle.abort_handle().abort();
    ///     assert!(handle.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn abort(&self) {
        abort_raw(self.raw);
    }

    /// True once the task has finished.
    ///
    /// ```
    /// windlass::Runtime::new().unwrap().block_on(async {
    ///     let handle = windlass::spawn(async {});
    ///     let abort = handle.abort_handle();
    ///     handle.await.unwrap();
    ///     assert!(abort.is_finished());
    /// });
    /// ```
    pub fn is_finished(&self) -> bool {
        // SAFETY: our reference keeps the header alive.
        unsafe { self.raw.as_ref() }.state.load().is_complete()
    }

    /// The task's id, the same as its [`JoinHandle::id`].
    ///
    /// ```
    /// windlass::Runtime::new().unwrap().block_on(async {
    ///     let handle = windlass::spawn(async {});
    ///     assert_eq!(handle.abort_handle().id(), handle.id());
    /// });
    /// ```
    pub fn id(&self) -> Id {
        // SAFETY: as above.
        unsafe { self.raw.as_ref() }.id
    }

    /// The task's header, for unit tests that look the task up by address.
    #[cfg(test)]
    pub(crate) fn header_ptr(&self) -> NonNull<Header> {
        self.raw
    }
}

impl Clone for AbortHandle {
    fn clone(&self) -> AbortHandle {
        // SAFETY: our reference keeps the header alive.
        unsafe { self.raw.as_ref() }.state.ref_inc();
        AbortHandle { raw: self.raw }
    }
}

impl Drop for AbortHandle {
    fn drop(&mut self) {
        // SAFETY: we give up our reference.
        drop(unsafe { super::Task::from_raw(self.raw) });
    }
}

impl fmt::Debug for AbortHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AbortHandle")
            .field("id", &self.id())
            .finish()
    }
}
