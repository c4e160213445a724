//! `JoinSet`: a set of tasks that is joined as they finish and aborted
//! together.

use crate::task::site::SpawnMeta;
use std::fmt;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use super::ready::ReadyQueue;
use super::yield_if_budget_spent;
use crate::runtime::Handle;
use crate::task::{AbortHandle, JoinError, JoinHandle};

/// A set of spawned tasks, joined **in completion order** and aborted
/// together: the building block of asyncio's `TaskGroup` (see
/// [`TaskGroup`](super::TaskGroup) for the fail-fast form).
///
/// - [`spawn`](Self::spawn) (or [`spawn_on`](Self::spawn_on), or
///   [`insert`](Self::insert) for a handle spawned elsewhere, from any
///   thread) adds a task;
/// - [`join_next`](Self::join_next) waits for the next one to finish and
///   gives its `Result<T, JoinError>`, or `None` once the set is empty;
/// - [`abort_all`](Self::abort_all) cancels every task still in the set;
///   their results (cancelled errors) still come out of `join_next`;
/// - **dropping the set aborts every task still in it.** Cancellation is
///   asynchronous: each task's future is dropped on a worker soon after. To
///   wait until they are all gone, `shutdown().await` first.
///
/// A task leaves the set when `join_next` returns its result. The set wakes
/// only for tasks that finished: joining n tasks costs O(n) in all.
///
/// ```
/// use std::time::Duration;
/// use windlass::join::JoinSet;
/// use windlass::time::sleep;
///
/// windlass::Runtime::new().unwrap().block_on(async {
///     let mut set = JoinSet::new();
///     for ms in [60u64, 20, 40] {
///         set.spawn(async move {
///             sleep(Duration::from_millis(ms)).await;
///             ms
///         });
///     }
///     assert_eq!(set.len(), 3);
///     let mut order = Vec::new();
///     while let Some(res) = set.join_next().await {
///         order.push(res.unwrap());
///     }
///     assert_eq!(order, [20, 40, 60]);
///     assert!(set.is_empty());
/// });
/// ```
pub struct JoinSet<T> {
    /// The handles by slot; `None` marks a free slot.
    handles: Vec<Option<JoinHandle<T>>>,
    /// Free slots, reused before `handles` grows.
    free: Vec<usize>,
    /// Wakes per slot; a task's completion lists its slot.
    ready: ReadyQueue,
    /// Tasks in the set (`Some` slots).
    len: usize,
    /// The task that created the set, if any: its tasks' parent in
    /// `Handle::dump` (debug mode).
    owner: Option<crate::task::Id>,
}

impl<T> JoinSet<T> {
    /// An empty set.
    ///
    /// ```
    /// let set = windlass::join::JoinSet::<()>::new();
    /// assert!(set.is_empty());
    /// ```
    pub fn new() -> JoinSet<T> {
        JoinSet {
            handles: Vec::new(),
            free: Vec::new(),
            ready: ReadyQueue::with_capacity(0),
            len: 0,
            owner: crate::task::try_id(),
        }
    }

    /// Number of tasks in the set (finished or not) not yet joined.
    ///
    /// ```
    /// windlass::Runtime::new().unwrap().block_on(async {
    ///     let mut set = windlass::join::JoinSet::new();
    ///     set.spawn(async { 1 });
    ///     assert_eq!(set.len(), 1);
    ///     set.join_next().await;
    ///     assert_eq!(set.len(), 0);
    /// });
    /// ```
    pub fn len(&self) -> usize {
        self.len
    }

    /// True if no task is left to join.
    ///
    /// ```
    /// assert!(windlass::join::JoinSet::<u8>::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds a task that was spawned elsewhere (any runtime, any thread). The
    /// set now owns it: it is joined by [`join_next`](Self::join_next) and
    /// aborted with the set.
    ///
    /// ```
    /// let rt = windlass::Runtime::new().unwrap();
    /// let handle = std::thread::scope(|s| s.spawn(|| rt.spawn(async { 7 })).join().unwrap());
    /// let mut set: windlass::join::JoinSet<i32> = windlass::join::JoinSet::new();
    /// set.insert(handle);
    /// assert_eq!(rt.block_on(set.join_next()).unwrap().unwrap(), 7);
    /// ```
    pub fn insert(&mut self, handle: JoinHandle<T>) -> AbortHandle {
        let abort = handle.abort_handle();
        self.insert_slot(handle);
        abort
    }

    /// Puts `handle` in a slot, marked for a first poll; returns the slot.
    pub(super) fn insert_slot(&mut self, handle: JoinHandle<T>) -> usize {
        let slot = match self.free.pop() {
            Some(slot) => {
                self.handles[slot] = Some(handle);
                slot
            }
            None => {
                self.handles.push(Some(handle));
                self.handles.len() - 1
            }
        };
        // The first poll registers the slot's waker with the task.
        self.ready.insert(slot);
        self.len += 1;
        slot
    }

    /// Waits for the next task to finish and returns its result, or `None`
    /// if the set is empty. Tasks come out in the order they finish.
    ///
    /// Cancel-safe: if the returned future is dropped before it completes,
    /// no result is lost; it stays in the set for the next call.
    ///
    /// ```
    /// windlass::Runtime::new().unwrap().block_on(async {
    ///     let mut set = windlass::join::JoinSet::new();
    ///     set.spawn(async { panic!("boom") });
    ///     assert!(set.join_next().await.unwrap().unwrap_err().is_panic());
    ///     assert!(set.join_next().await.is_none());
    /// });
    /// ```
    pub async fn join_next(&mut self) -> Option<Result<T, JoinError>> {
        poll_fn(|cx| self.poll_join_next(cx)).await
    }

    /// The result of a task that has already finished, if any, without
    /// waiting. `None` if none has finished (or the set is empty).
    ///
    /// ```
    /// let rt = windlass::Runtime::new().unwrap();
    /// let mut set = windlass::join::JoinSet::new();
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// set.insert(rt.spawn(async move { tx.send(()).unwrap(); 5 }));
    /// rx.recv().unwrap(); // the task has run (and is about to finish)
    /// let out = loop {
    ///     if let Some(out) = set.try_join_next() { break out; }
    ///     std::thread::yield_now();
    /// };
    /// assert_eq!(out.unwrap(), 5);
    /// ```
    pub fn try_join_next(&mut self) -> Option<Result<T, JoinError>> {
        match self.poll_join_next(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(res) => res,
            Poll::Pending => None,
        }
    }

    /// Polls for the next finished task: the poll form of
    /// [`join_next`](Self::join_next), for hand-written futures.
    ///
    /// ```
    /// use std::future::poll_fn;
    /// windlass::Runtime::new().unwrap().block_on(async {
    ///     let mut set = windlass::join::JoinSet::new();
    ///     set.spawn(async { 3 });
    ///     let res = poll_fn(|cx| set.poll_join_next(cx)).await;
    ///     assert_eq!(res.unwrap().unwrap(), 3);
    /// });
    /// ```
    pub fn poll_join_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T, JoinError>>> {
        self.poll_join_next_slot(cx)
            .map(|next| next.map(|(_slot, res)| res))
    }

    /// [`poll_join_next`](Self::poll_join_next), also naming the slot the
    /// task had (free again from now on).
    pub(super) fn poll_join_next_slot(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<(usize, Result<T, JoinError>)>> {
        if self.len == 0 {
            return Poll::Ready(None);
        }
        self.ready.begin(cx.waker());
        loop {
            if yield_if_budget_spent(cx, &self.ready) {
                return Poll::Pending;
            }
            let Some(slot) = self.ready.pop() else {
                return Poll::Pending;
            };
            let Some(handle) = &mut self.handles[slot] else {
                continue; // a late wake for a task already joined
            };
            let waker = self.ready.waker(slot);
            if let Poll::Ready(res) = Pin::new(handle).poll(&mut Context::from_waker(&waker)) {
                self.handles[slot] = None;
                self.free.push(slot);
                self.len -= 1;
                return Poll::Ready(Some((slot, res)));
            }
        }
    }

    /// Aborts every task in the set. They stay in the set: `join_next`
    /// returns their results, a cancelled [`JoinError`] for each task that
    /// had not finished already.
    ///
    /// ```
    /// windlass::Runtime::new().unwrap().block_on(async {
    ///     let mut set = windlass::join::JoinSet::new();
    ///     for _ in 0..3 {
    ///         set.spawn(std::future::pending::<()>());
    ///     }
    ///     set.abort_all();
    ///     while let Some(res) = set.join_next().await {
    ///         assert!(res.unwrap_err().is_cancelled());
    ///     }
    /// });
    /// ```
    pub fn abort_all(&self) {
        for handle in self.handles.iter().flatten() {
            handle.abort();
        }
    }

    /// Removes every task from the set *without* aborting it: each keeps
    /// running, detached, as if its `JoinHandle` had been dropped.
    ///
    /// ```
    /// windlass::Runtime::new().unwrap().block_on(async {
    ///     let (tx, rx) = futures_channel::oneshot::channel();
    ///     let mut set = windlass::join::JoinSet::new();
    ///     set.spawn(async move { tx.send(1).unwrap() });
    ///     set.detach_all();
    ///     drop(set); // does not abort the detached task
    ///     assert_eq!(rx.await, Ok(1));
    /// });
    /// ```
    pub fn detach_all(&mut self) {
        self.handles.clear();
        self.free.clear();
        self.len = 0;
    }

    /// Aborts every task and waits until all of them have finished, so that
    /// their futures (and drop guards) are gone when it returns. The set is
    /// empty afterwards.
    ///
    /// ```
    /// windlass::Runtime::new().unwrap().block_on(async {
    ///     let mut set = windlass::join::JoinSet::new();
    ///     set.spawn(std::future::pending::<()>());
    ///     set.shutdown().await;
    ///     assert!(set.is_empty());
    /// });
    /// ```
    pub async fn shutdown(&mut self) {
        self.abort_all();
        while self.join_next().await.is_some() {}
    }
}

impl<T: Send + 'static> JoinSet<T> {
    /// Spawns `future` onto the current runtime and adds it to the set:
    /// asyncio's `tg.create_task(coro)`.
    ///
    /// Panics outside a runtime, like [`spawn`](crate::spawn); see
    /// [`spawn_on`](Self::spawn_on). Returns a handle that can abort just
    /// this task.
    ///
    /// ```
    /// windlass::Runtime::new().unwrap().block_on(async {
    ///     let mut set = windlass::join::JoinSet::new();
    ///     let slow = set.spawn(std::future::pending::<u8>());
    ///     set.spawn(async { 1 });
    ///     assert_eq!(set.join_next().await.unwrap().unwrap(), 1);
    ///     slow.abort();
    ///     assert!(set.join_next().await.unwrap().unwrap_err().is_cancelled());
    /// });
    /// ```
    #[track_caller]
    pub fn spawn<F>(&mut self, future: F) -> AbortHandle
    where
        F: Future<Output = T> + Send + 'static,
    {
        let meta = SpawnMeta::here().child_of(self.owner);
        self.insert(crate::runtime::spawn_meta(future, meta))
    }

    /// Spawns `future` through `handle` (from any thread) and adds it to
    /// the set.
    ///
    /// ```
    /// let rt = windlass::Runtime::new().unwrap();
    /// let mut set = windlass::join::JoinSet::new();
    /// set.spawn_on(async { 2 }, rt.handle()); // not inside the runtime
    /// assert_eq!(rt.block_on(set.join_next()).unwrap().unwrap(), 2);
    /// ```
    #[track_caller]
    pub fn spawn_on<F>(&mut self, future: F, handle: &Handle) -> AbortHandle
    where
        F: Future<Output = T> + Send + 'static,
    {
        let meta = SpawnMeta::here().child_of(self.owner);
        self.insert(handle.spawn_with(future, meta))
    }
}

impl<T> Drop for JoinSet<T> {
    /// Aborts every task still in the set.
    fn drop(&mut self) {
        self.abort_all();
    }
}

impl<T> Default for JoinSet<T> {
    fn default() -> JoinSet<T> {
        JoinSet::new()
    }
}

impl<T> Extend<JoinHandle<T>> for JoinSet<T> {
    fn extend<I: IntoIterator<Item = JoinHandle<T>>>(&mut self, iter: I) {
        for handle in iter {
            self.insert_slot(handle);
        }
    }
}

/// Collects handles into a set, which then owns (and may abort) them.
///
/// ```
/// windlass::Runtime::new().unwrap().block_on(async {
///     let mut set: windlass::join::JoinSet<u32> =
///         (0..4).map(|i| windlass::spawn(async move { i })).collect();
///     let mut sum = 0;
///     while let Some(res) = set.join_next().await {
///         sum += res.unwrap();
///     }
///     assert_eq!(sum, 6);
/// });
/// ```
impl<T> FromIterator<JoinHandle<T>> for JoinSet<T> {
    fn from_iter<I: IntoIterator<Item = JoinHandle<T>>>(iter: I) -> JoinSet<T> {
        let mut set = JoinSet::new();
        set.extend(iter);
        set
    }
}

impl<T> fmt::Debug for JoinSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinSet").field("len", &self.len).finish()
    }
}
