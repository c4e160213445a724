//! `TaskGroup`: asyncio's `TaskGroup`, fail-fast structured concurrency.

use crate::loom::std::sync::Arc;
use crate::task::site::SpawnMeta;
use std::error::Error;
use std::fmt;
use std::future::{Future, poll_fn};
use std::task::{Context, Poll};

use super::group_spawner::GroupSpawner;
use super::group_state::{Closing, Reservation, Shared, member};
use super::join_set::JoinSet;
use crate::runtime::Handle;
use crate::task::{AbortHandle, Id, JoinError};

/// Tasks that succeed together or fail together: asyncio 3.11's
/// `async with asyncio.TaskGroup() as tg`.
///
/// Each task returns a `Result<T, E>`. A task **fails** if it returns `Err`
/// or panics. The first failure **aborts every sibling at once** (from the
/// failing task itself, even while nobody awaits the group).
/// [`join`](Self::join) waits until every task has finished (cancelled ones
/// included, so their drop guards have run) and returns the values in
/// **spawn order**, or the **first failure**.
///
/// - **Spawning from inside**: the group's own tasks (or any thread) add
///   siblings through a [`GroupSpawner`] ([`spawner`](Self::spawner)); `join`
///   waits for those too, and a failure cancels them like the rest.
/// - **After a failure** (or [`abort_all`](Self::abort_all)) the group takes
///   no new work: [`spawn`](Self::spawn) still returns a handle, but the task
///   is aborted at once (it may have started); [`GroupSpawner::spawn`]
///   refuses and drops the future unpolled.
/// - **First failure**: the task that failed first (in real time) is
///   reported; the others' errors, and the siblings' cancellations, are
///   dropped. (asyncio collects all exceptions into an `ExceptionGroup`.)
/// - **Cancellation is not failure**: a task aborted from outside (through
///   the [`AbortHandle`] that `spawn` returns, or runtime shutdown) does not
///   abort its siblings; `join` still reports it, as
///   `TaskGroupError::Join(e)` with `e.is_cancelled()`, if nothing failed.
/// - **Dropping** the group (or the `join` future) aborts every task still
///   running, like [`JoinSet`]; spawners then refuse.
/// - **Empty group**: `join` returns `Ok(vec![])` at once.
///
/// ```
/// use std::time::Duration;
/// use windlass::join::{TaskGroup, TaskGroupError};
/// use windlass::time::sleep;
///
/// windlass::Runtime::new().unwrap().block_on(async {
///     let mut group = TaskGroup::new();
///     for i in 1..=3u64 {
///         group.spawn(async move {
///             sleep(Duration::from_millis(10 * i)).await;
///             Ok::<_, String>(i * i)
///         });
///     }
///     assert_eq!(group.join().await.unwrap(), [1, 4, 9]);
///
///     // One failure cancels the sibling that would sleep for a minute.
///     let mut group = TaskGroup::new();
///     group.spawn(async {
///         sleep(Duration::from_secs(60)).await;
///         Ok(0)
///     });
///     group.spawn(async { Err("no route to host".to_string()) });
///     let started = std::time::Instant::now();
///     let err = group.join().await.unwrap_err();
///     assert!(matches!(err, TaskGroupError::Task(ref e) if e == "no route to host"));
///     assert!(started.elapsed() < Duration::from_secs(30));
/// });
/// ```
pub struct TaskGroup<T, E> {
    /// The members `join` has adopted, by slot.
    set: JoinSet<Result<T, E>>,
    /// Spawn position and task id, by `set` slot.
    slots: Vec<(usize, Id)>,
    /// State shared with the members and the spawners (see `group_state`).
    shared: Arc<Shared<T, E>>,
}

/// One member's end, as `join` sees it: spawn position, id, result.
type Joined<T, E> = (usize, Id, Result<Result<T, E>, JoinError>);

impl<T: Send + 'static, E: Send + 'static> TaskGroup<T, E> {
    /// An empty group.
    ///
    /// ```
    /// let group = windlass::join::TaskGroup::<u8, String>::new();
    /// assert!(group.is_empty());
    /// ```
    pub fn new() -> TaskGroup<T, E> {
        TaskGroup {
            set: JoinSet::new(),
            slots: Vec::new(),
            shared: Arc::new(Shared::new()),
        }
    }

    /// Spawns `future` onto the current runtime as a member of the group:
    /// asyncio's `tg.create_task(coro)`. Panics outside a runtime (see
    /// [`spawn_on`](Self::spawn_on)).
    ///
    /// ```
    /// windlass::Runtime::new().unwrap().block_on(async {
    ///     let mut group = windlass::join::TaskGroup::new();
    ///     group.spawn(async { Ok::<_, ()>("done") });
    ///     assert_eq!(group.join().await.unwrap(), ["done"]);
    /// });
    /// ```
    #[track_caller]
    pub fn spawn<F>(&mut self, future: F) -> AbortHandle
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
    {
        let reservation = self.reserve();
        let meta = SpawnMeta::here().child_of(self.shared.owner);
        let task = crate::runtime::spawn_meta(member(self.shared.clone(), future), meta);
        reservation.register(task)
    }

    /// Spawns `future` through `handle` (from any thread) as a member of
    /// the group.
    ///
    /// ```
    /// let rt = windlass::Runtime::new().unwrap();
    /// let mut group = windlass::join::TaskGroup::new();
    /// group.spawn_on(async { Ok::<_, ()>(1) }, rt.handle());
    /// assert_eq!(rt.block_on(group.join()).unwrap(), [1]);
    /// ```
    #[track_caller]
    pub fn spawn_on<F>(&mut self, future: F, handle: &Handle) -> AbortHandle
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
    {
        let reservation = self.reserve();
        let meta = SpawnMeta::here().child_of(self.shared.owner);
        let task = handle.spawn_with(member(self.shared.clone(), future), meta);
        reservation.register(task)
    }

    /// The owner's reservation: never refused (the group cannot be closed
    /// while the owner can spawn, and a stopping group aborts the task).
    fn reserve(&self) -> Reservation<'_, T, E> {
        self.shared
            .reserve(false)
            .expect("a group is closed only by join or drop, which take the owner")
    }

    /// A cloneable, `Send + Sync` handle that spawns into this group, for
    /// the group's own tasks (asyncio's `tg.create_task` inside a task) or
    /// other threads. See [`GroupSpawner`] for what happens once the group
    /// has failed or finished.
    ///
    /// ```
    /// windlass::Runtime::new().unwrap().block_on(async {
    ///     let mut group = windlass::join::TaskGroup::<u32, ()>::new();
    ///     let spawner = group.spawner();
    ///     group.spawn(async move {
    ///         for i in 1..=3 {
    ///             spawner.spawn(async move { Ok(i * 10) }).unwrap();
    ///         }
    ///         Ok(0)
    ///     });
    ///     assert_eq!(group.join().await.unwrap(), [0, 10, 20, 30]);
    /// });
    /// ```
    pub fn spawner(&self) -> GroupSpawner<T, E> {
        GroupSpawner {
            shared: self.shared.clone(),
        }
    }

    /// Waits for every task, those spawned through a [`GroupSpawner`]
    /// meanwhile included; returns their values in spawn order, or the
    /// first failure once every task (the cancelled siblings included) has
    /// finished. See the type's docs.
    ///
    /// ```
    /// windlass::Runtime::new().unwrap().block_on(async {
    ///     let mut group = windlass::join::TaskGroup::<(), String>::new();
    ///     group.spawn(async { panic!("worker crashed") });
    ///     let err = group.join().await.unwrap_err();
    ///     assert!(matches!(err, windlass::join::TaskGroupError::Join(e) if e.is_panic()));
    /// });
    /// ```
    pub async fn join(mut self) -> Result<Vec<T>, TaskGroupError<E>> {
        let mut values: Vec<Option<T>> = Vec::new();
        let mut failure: Option<TaskGroupError<E>> = None;
        while let Some((position, id, res)) = poll_fn(|cx| self.poll_next_member(cx)).await {
            let err = match res {
                Ok(Ok(value)) => {
                    if values.len() <= position {
                        values.resize_with(position + 1, || None);
                    }
                    values[position] = Some(value);
                    continue;
                }
                Ok(Err(e)) => TaskGroupError::Task(e),
                Err(e) => TaskGroupError::Join(e),
            };
            // Keep the error of the task that failed first; until it
            // comes, the first error seen (a sibling's cancellation may
            // arrive before the failure that caused it).
            if failure.is_none() || self.shared.first_failure() == Some(id) {
                failure = Some(err);
            }
        }
        match failure {
            Some(err) => Err(err),
            // No failure: every member gave a value. A position without
            // one is a spawn that panicked before its task existed.
            None => Ok(values.into_iter().flatten().collect()),
        }
    }

    /// The next member to finish, adopting members spawned meanwhile;
    /// `None` once the group is closed (rule 3 of the group state).
    fn poll_next_member(&mut self, cx: &mut Context<'_>) -> Poll<Option<Joined<T, E>>> {
        loop {
            for new in self.shared.adopt(cx.waker()) {
                let id = new.handle.id();
                let slot = self.set.insert_slot(new.handle);
                if slot == self.slots.len() {
                    self.slots.push((new.position, id));
                } else {
                    self.slots[slot] = (new.position, id);
                }
            }
            match self.set.poll_join_next_slot(cx) {
                Poll::Ready(Some((slot, res))) => {
                    let (position, id) = self.slots[slot];
                    return Poll::Ready(Some((position, id, res)));
                }
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => match self.shared.try_close(cx.waker()) {
                    Closing::Closed => return Poll::Ready(None),
                    Closing::Incoming => continue,
                    Closing::Reserved => return Poll::Pending,
                },
            }
        }
    }

    /// Tasks in the group not yet joined.
    ///
    /// ```
    /// windlass::Runtime::new().unwrap().block_on(async {
    ///     let mut group = windlass::join::TaskGroup::new();
    ///     group.spawn(async { Ok::<_, ()>(()) });
    ///     assert_eq!(group.len(), 1);
    /// });
    /// ```
    pub fn len(&self) -> usize {
        self.set.len() + self.shared.incoming_len()
    }

    /// True if the group has no task left to join.
    ///
    /// ```
    /// assert!(windlass::join::TaskGroup::<(), ()>::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Aborts every task of the group, as a failure would but without one:
    /// the group takes no new work, and `join` then reports a cancelled
    /// [`JoinError`] (unless a task failed first).
    ///
    /// ```
    /// windlass::Runtime::new().unwrap().block_on(async {
    ///     let mut group = windlass::join::TaskGroup::<(), ()>::new();
    ///     group.spawn(async { std::future::pending().await });
    ///     group.abort_all();
    ///     let err = group.join().await.unwrap_err();
    ///     assert!(matches!(err, windlass::join::TaskGroupError::Join(e) if e.is_cancelled()));
    /// });
    /// ```
    pub fn abort_all(&self) {
        self.shared.abort_all();
    }
}

impl<T: Send + 'static, E: Send + 'static> Default for TaskGroup<T, E> {
    fn default() -> TaskGroup<T, E> {
        TaskGroup::new()
    }
}

impl<T, E> Drop for TaskGroup<T, E> {
    /// Closes the group to spawners and aborts every task still running.
    fn drop(&mut self) {
        self.shared.close_and_abort();
    }
}

impl<T, E> fmt::Debug for TaskGroup<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskGroup")
            .field("joining", &self.set.len())
            .field("spawned", &self.shared.spawned())
            .field("first_failure", &self.shared.first_failure())
            .finish()
    }
}

/// Why a [`TaskGroup`] failed: its first failure. It implements
/// [`Error`] when `E` does, with the task's error or the [`JoinError`] as
/// its source.
///
/// ```
/// use windlass::join::{TaskGroup, TaskGroupError};
///
/// windlass::Runtime::new().unwrap().block_on(async {
///     let mut group = TaskGroup::<(), std::io::Error>::new();
///     group.spawn(async { Err(std::io::Error::other("disk full")) });
///     let err = group.join().await.unwrap_err();
///     assert!(matches!(err, TaskGroupError::Task(_)));
///     assert_eq!(err.to_string(), "a task of the group failed: disk full");
/// });
/// ```
#[derive(Debug)]
pub enum TaskGroupError<E> {
    /// A task returned this error.
    Task(E),
    /// A task panicked, or was cancelled from outside the group (see
    /// [`JoinError::is_panic`], [`JoinError::is_cancelled`]).
    Join(JoinError),
}

impl<E: fmt::Display> fmt::Display for TaskGroupError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskGroupError::Task(e) => write!(f, "a task of the group failed: {e}"),
            TaskGroupError::Join(e) => write!(f, "a task of the group did not finish: {e}"),
        }
    }
}

impl<E: Error + 'static> Error for TaskGroupError<E> {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            TaskGroupError::Task(e) => Some(e),
            TaskGroupError::Join(e) => Some(e),
        }
    }
}
