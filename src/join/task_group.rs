//! `TaskGroup`: asyncio's `TaskGroup`, fail-fast structured concurrency.

use std::error::Error;
use std::fmt;
use std::future::Future;
use std::sync::Arc;

use super::join_set::JoinSet;
use crate::loom::sync::Mutex;
use crate::runtime::Handle;
use crate::task::{AbortHandle, Id, JoinError};

/// Tasks that succeed together or fail together: asyncio 3.11's
/// `async with asyncio.TaskGroup() as tg`.
///
/// Each task returns a `Result<T, E>`. A task **fails** if it returns `Err`
/// or panics. The first failure **aborts every sibling at once** (from the
/// failing task itself, even while nobody awaits the group), and later
/// spawns into a failed group are aborted too. [`join`](Self::join) waits
/// until every task has finished (cancelled ones included, so their drop
/// guards have run) and returns the values in **spawn order**, or the
/// **first failure**.
///
/// - **First failure**: the task that failed first (in real time) is
///   reported; the others' errors, and the siblings' cancellations, are
///   dropped. (asyncio collects all exceptions into an `ExceptionGroup`.)
/// - **Cancellation is not failure**: a task aborted from outside (through
///   the [`AbortHandle`] that `spawn` returns, or runtime shutdown) does not
///   abort its siblings; `join` still reports it, as
///   `TaskGroupError::Join(e)` with `e.is_cancelled()`, if nothing failed.
/// - **Dropping** the group (or the `join` future) aborts every task still
///   running, like [`JoinSet`].
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
    set: JoinSet<Result<T, E>>,
    /// Spawn position and task id, by `set` slot.
    slots: Vec<(usize, Id)>,
    /// Tasks spawned so far.
    spawned: usize,
    shared: Arc<Mutex<GroupState>>,
}

/// What the tasks of a group share: who failed first, and how to reach the
/// siblings.
#[derive(Default)]
struct GroupState {
    /// The task that failed first; set once.
    first_failure: Option<Id>,
    /// Every task's abort handle, until the group fails (then emptied).
    tasks: Vec<AbortHandle>,
}

impl GroupState {
    /// Records the failure of task `id` and, if it is the first, aborts
    /// every other task of the group.
    fn fail(state: &Mutex<GroupState>, id: Id) {
        let siblings = {
            let mut state = state.lock();
            if state.first_failure.is_some() {
                return;
            }
            state.first_failure = Some(id);
            std::mem::take(&mut state.tasks)
        };
        // Not the failing task itself: an abort would replace its `Err`
        // (or panic) with a cancellation.
        for task in siblings.iter().filter(|t| t.id() != id) {
            task.abort();
        }
    }
}

/// Inside each task: reports a panic to the group if dropped while
/// unwinding (a plain drop is a cancellation or normal completion).
struct PanicGuard {
    shared: Arc<Mutex<GroupState>>,
}

impl Drop for PanicGuard {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            return;
        }
        if let Some(id) = crate::task::try_id() {
            GroupState::fail(&self.shared, id);
        }
    }
}

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
            spawned: 0,
            shared: Arc::default(),
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
        let task = crate::spawn(self.member(future));
        self.adopt(task)
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
    pub fn spawn_on<F>(&mut self, future: F, handle: &Handle) -> AbortHandle
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
    {
        let task = handle.spawn(self.member(future));
        self.adopt(task)
    }

    /// `future`, reporting its failure (an `Err` or a panic) to the group.
    fn member<F>(&self, future: F) -> impl Future<Output = Result<T, E>> + Send + 'static
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
    {
        let shared = self.shared.clone();
        async move {
            let guard = PanicGuard { shared };
            let out = future.await;
            if let (Err(_), Some(id)) = (&out, crate::task::try_id()) {
                GroupState::fail(&guard.shared, id);
            }
            out
        }
    }

    /// Registers a spawned member with the group and its set.
    fn adopt(&mut self, task: crate::JoinHandle<Result<T, E>>) -> AbortHandle {
        let (id, abort) = (task.id(), task.abort_handle());
        {
            let mut state = self.shared.lock();
            if state.first_failure.is_some() {
                // The group has failed: no new work.
                abort.abort();
            } else {
                state.tasks.push(abort.clone());
            }
        }
        let slot = self.set.insert_slot(task);
        if slot == self.slots.len() {
            self.slots.push((self.spawned, id));
        } else {
            self.slots[slot] = (self.spawned, id);
        }
        self.spawned += 1;
        abort
    }

    /// Waits for every task; returns their values in spawn order, or the
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
        let mut values: Vec<Option<T>> = (0..self.spawned).map(|_| None).collect();
        let mut failure: Option<TaskGroupError<E>> = None;
        while let Some((slot, res)) =
            std::future::poll_fn(|cx| self.set.poll_join_next_slot(cx)).await
        {
            let (position, id) = self.slots[slot];
            let err = match res {
                Ok(Ok(value)) => {
                    values[position] = Some(value);
                    continue;
                }
                Ok(Err(e)) => TaskGroupError::Task(e),
                Err(e) => TaskGroupError::Join(e),
            };
            // Keep the error of the task that failed first; until it
            // comes, the first error seen (a sibling's cancellation may
            // arrive before the failure that caused it).
            let first = self.shared.lock().first_failure;
            if failure.is_none() || first == Some(id) {
                failure = Some(err);
            }
        }
        match failure {
            Some(err) => Err(err),
            None => Ok(values
                .into_iter()
                .map(|v| v.expect("every task joined"))
                .collect()),
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
        self.set.len()
    }

    /// True if the group has no task left to join.
    ///
    /// ```
    /// assert!(windlass::join::TaskGroup::<(), ()>::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }

    /// Aborts every task of the group (as a failure would, but without one:
    /// `join` then reports a cancelled [`JoinError`]).
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
        self.set.abort_all();
    }
}

impl<T: Send + 'static, E: Send + 'static> Default for TaskGroup<T, E> {
    fn default() -> TaskGroup<T, E> {
        TaskGroup::new()
    }
}

impl<T, E> fmt::Debug for TaskGroup<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskGroup")
            .field("len", &self.set.len())
            .field("spawned", &self.spawned)
            .field("first_failure", &self.shared.lock().first_failure)
            .finish()
    }
}

/// Why a [`TaskGroup`] failed: its first failure.
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
