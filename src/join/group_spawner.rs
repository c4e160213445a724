//! `GroupSpawner`: adds members to a `TaskGroup` from anywhere, its own
//! tasks included (asyncio's `tg.create_task` called inside a task).

use crate::loom::std::sync::Arc;
use crate::task::site::SpawnMeta;
use std::error::Error;
use std::fmt;
use std::future::Future;

use super::group_state::{Refused, Reservation, Shared, member};
use crate::runtime::Handle;
use crate::task::AbortHandle;

/// A cloneable, `Send + Sync` handle that spawns tasks into a
/// [`TaskGroup`](super::TaskGroup), from its own tasks or from any thread:
/// how a task of the group adds siblings. Get one from
/// [`TaskGroup::spawner`](super::TaskGroup::spawner).
///
/// A task spawned through it is a member like any other: it gets the next
/// spawn position in `join`'s result, `join` waits for it, and it is aborted
/// when a member fails.
///
/// **When the group takes no new work**, [`spawn`](Self::spawn) returns an
/// error and drops the future at once, without ever polling it:
///
/// - [`GroupSpawnError::Stopping`]: a member has failed, or
///   [`abort_all`](super::TaskGroup::abort_all) was called, and the group is
///   cancelling its members.
/// - [`GroupSpawnError::Finished`]: [`join`](super::TaskGroup::join) has
///   returned, or the group (or its `join` future) was dropped.
///
/// A spawn that *races* the group's end is never lost: either it returns
/// `Ok` and `join` waits for that task too, or it returns `Err` and the
/// future never ran. A spawn racing a failure or a drop may return `Ok` for a
/// task that is cancelled at once, like the other members.
///
/// ```
/// use windlass::join::{GroupSpawner, TaskGroup};
///
/// /// Counts the nodes of a binary tree of `depth` levels, one task a node.
/// fn visit(spawner: GroupSpawner<u32, String>, depth: u32) -> impl Future<Output = Result<u32, String>> + Send {
///     async move {
///         if depth > 1 {
///             for _ in 0..2 {
///                 spawner.spawn(visit(spawner.clone(), depth - 1)).expect("group is open");
///             }
///         }
///         Ok(depth)
///     }
/// }
///
/// windlass::Runtime::new().unwrap().block_on(async {
///     let mut group = TaskGroup::new();
///     group.spawn(visit(group.spawner(), 4));
///     let spawner = group.spawner();
///     let depths = group.join().await.unwrap();
///     assert_eq!(depths.len(), 15); // join waited for every grandchild
///     assert_eq!(depths[0], 4); // spawn order: the root first
///
///     // The group is finished: the future is dropped unpolled.
///     let late = spawner.spawn(async { Ok(0) });
///     assert_eq!(late.unwrap_err(), windlass::join::GroupSpawnError::Finished);
/// });
/// ```
pub struct GroupSpawner<T, E> {
    /// The group's state, shared with the group and its members.
    pub(super) shared: Arc<Shared<T, E>>,
}

impl<T: Send + 'static, E: Send + 'static> GroupSpawner<T, E> {
    /// Spawns `future` onto the current runtime as a member of the group,
    /// or drops it unpolled if the group takes no new work (see the type's
    /// docs). Panics outside a runtime, like [`spawn`](crate::spawn); see
    /// [`spawn_on`](Self::spawn_on).
    ///
    /// ```
    /// windlass::Runtime::new().unwrap().block_on(async {
    ///     let mut group = windlass::join::TaskGroup::<&str, ()>::new();
    ///     let spawner = group.spawner();
    ///     group.spawn(async move {
    ///         spawner.spawn(async { Ok("sibling") }).unwrap();
    ///         Ok("first")
    ///     });
    ///     assert_eq!(group.join().await.unwrap(), ["first", "sibling"]);
    /// });
    /// ```
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> Result<AbortHandle, GroupSpawnError>
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
    {
        let reservation = self.reserve()?;
        let meta = SpawnMeta::here().child_of(self.shared.owner);
        let task = crate::runtime::spawn_meta(member(self.shared.clone(), future), meta);
        Ok(reservation.register(task))
    }

    /// Spawns `future` through `handle` as a member of the group; see
    /// [`spawn`](Self::spawn). Works from any thread.
    ///
    /// ```
    /// let rt = windlass::Runtime::new().unwrap();
    /// let group = windlass::join::TaskGroup::<u8, ()>::new();
    /// let spawner = group.spawner();
    /// std::thread::scope(|s| {
    ///     s.spawn(|| spawner.spawn_on(async { Ok(7) }, rt.handle()).unwrap());
    /// });
    /// assert_eq!(rt.block_on(group.join()).unwrap(), [7]);
    /// ```
    #[track_caller]
    pub fn spawn_on<F>(&self, future: F, handle: &Handle) -> Result<AbortHandle, GroupSpawnError>
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
    {
        let reservation = self.reserve()?;
        let meta = SpawnMeta::here().child_of(self.shared.owner);
        let task = handle.spawn_with(member(self.shared.clone(), future), meta);
        Ok(reservation.register(task))
    }

    /// Rule 2 of the group state: a reservation, or why there is none.
    fn reserve(&self) -> Result<Reservation<'_, T, E>, GroupSpawnError> {
        self.shared.reserve(true).map_err(|refused| match refused {
            Refused::Stopping => GroupSpawnError::Stopping,
            Refused::Closed => GroupSpawnError::Finished,
        })
    }
}

impl<T, E> Clone for GroupSpawner<T, E> {
    fn clone(&self) -> GroupSpawner<T, E> {
        GroupSpawner {
            shared: self.shared.clone(),
        }
    }
}

impl<T, E> fmt::Debug for GroupSpawner<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupSpawner")
            .field("spawned", &self.shared.spawned())
            .finish()
    }
}

/// Why [`GroupSpawner::spawn`] spawned nothing; the future was dropped
/// without being polled.
///
/// ```
/// use windlass::join::{GroupSpawnError, TaskGroup};
///
/// windlass::Runtime::new().unwrap().block_on(async {
///     let group = TaskGroup::<(), ()>::new();
///     let spawner = group.spawner();
///     group.abort_all();
///     let err = spawner.spawn(async { Ok(()) }).unwrap_err();
///     assert_eq!(err, GroupSpawnError::Stopping);
///     drop(group);
///     let err = spawner.spawn(async { Ok(()) }).unwrap_err();
///     assert_eq!(err, GroupSpawnError::Finished);
///     assert_eq!(err.to_string(), "the task group is finished: its join has returned or it was dropped");
/// });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GroupSpawnError {
    /// A member failed, or [`abort_all`](super::TaskGroup::abort_all) was
    /// called: the group is cancelling its members and takes no new work.
    Stopping,
    /// The group's [`join`](super::TaskGroup::join) has returned, or the
    /// group (or its `join` future) was dropped.
    Finished,
}

impl fmt::Display for GroupSpawnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            GroupSpawnError::Stopping => {
                "the task group is stopping: a member failed or abort_all was called"
            }
            GroupSpawnError::Finished => {
                "the task group is finished: its join has returned or it was dropped"
            }
        })
    }
}

impl Error for GroupSpawnError {}
