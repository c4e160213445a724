//! What a [`TaskGroup`](super::TaskGroup) shares with its tasks and its
//! [`GroupSpawner`](super::GroupSpawner)s: who failed first, how to reach
//! every member, and the members spawned since the owner last looked.
//!
//! # States
//!
//! A group is **open**, then maybe **stopping** (a member failed, or
//! `abort_all` was called), and at last **closed** (`join` has seen every
//! member finish, or the group was dropped). A group can be stopping without
//! being closed, and closed without having stopped.
//!
//! # Rules
//!
//! 1. **Register under the lock.** A new member goes into `incoming` (for
//!    the owner's `join` to adopt) and `tasks` (for a failure to abort) in
//!    one critical section. A failure takes `tasks`
//!    in one critical section too, so each member is either aborted by the
//!    failure or registered after it, and then aborted on registration (the
//!    group is stopping). No member escapes the cancellation.
//! 2. **Reserve before spawning.** Every spawn first *reserves*: it takes
//!    its spawn position and `reserved += 1`. Then it spawns outside the
//!    lock, then registers (`reserved -= 1`). The position is taken before
//!    the task can run, so a task that spawns siblings at once still comes
//!    before them. A spawner's reservation is refused once the group is
//!    stopping or closed: that spawn never happens, and its future is
//!    dropped unpolled. A spawn that panics (outside a runtime) gives its
//!    reservation back, leaving a position with no member.
//! 3. **Close only when nothing can arrive.** `join` closes the group only
//!    when its own set is empty, `incoming` is empty and `reserved` is zero,
//!    all under the lock. A spawn that reserved before that is waited for;
//!    one that tries after it is refused (rule 2). So a spawn racing the
//!    group's end is either joined or refused, never lost.
//! 4. **Wake the joiner.** `join` stores its waker under the lock whenever it
//!    looks at `incoming`; a registration (or a reservation given back)
//!    takes it and wakes it after unlocking. So a `join` waiting on its set
//!    also wakes for members spawned meanwhile.
//! 5. **Drop closes.** Dropping the group closes it and aborts every member.
//!    A registration that comes after that (it reserved before) aborts its
//!    task and drops the handle, detaching a cancelled task.

use crate::loom::std::sync::Arc;
use std::future::Future;
use std::task::Waker;

use crate::loom::sync::Mutex;
use crate::task::JoinHandle;
use crate::task::{AbortHandle, Id};

/// The state behind the lock; see the module docs for the rules.
pub(super) struct Shared<T, E> {
    state: Mutex<State<T, E>>,
    /// The task that created the group, if any: its members' parent in
    /// `Handle::dump` (debug mode).
    pub(super) owner: Option<Id>,
}

struct State<T, E> {
    /// The member that failed first; set once.
    first_failure: Option<Id>,
    /// A member failed or `abort_all` was called: no new work (rule 2), and
    /// late registrations are aborted (rule 1).
    stopping: bool,
    /// `join` has finished or the group was dropped (rules 3 and 5).
    closed: bool,
    /// Every member registered while not stopping, to abort on failure.
    /// Emptied when the group stops or closes.
    tasks: Vec<AbortHandle>,
    /// Members registered since `join` last adopted them.
    incoming: Vec<Member<T, E>>,
    /// Spawn position of the next member.
    next_position: usize,
    /// Spawns reserved and not yet registered (rule 2).
    reserved: usize,
    /// `join`'s waker (rule 4).
    joiner: Option<Waker>,
}

/// A registered member, on its way to the owner's set.
pub(super) struct Member<T, E> {
    /// Its place in `join`'s result: the order of registration.
    pub(super) position: usize,
    pub(super) handle: JoinHandle<Result<T, E>>,
}

/// Why a reservation was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Refused {
    /// The group is stopping.
    Stopping,
    /// The group is closed.
    Closed,
}

/// What `try_close` found.
pub(super) enum Closing {
    /// Nothing can arrive any more: the group is now closed.
    Closed,
    /// Members arrived; adopt them and look again.
    Incoming,
    /// A spawn is under way; its registration will wake the joiner.
    Reserved,
}

impl<T, E> Shared<T, E> {
    pub(super) fn new() -> Shared<T, E> {
        Shared {
            owner: crate::task::try_id(),
            state: Mutex::new(State {
                first_failure: None,
                stopping: false,
                closed: false,
                tasks: Vec::new(),
                incoming: Vec::new(),
                next_position: 0,
                reserved: 0,
                joiner: None,
            }),
        }
    }

    /// Rule 2: reserves a spawn and its position, unless the group is closed
    /// or (if `refuse_when_stopping`) stopping.
    pub(super) fn reserve(
        &self,
        refuse_when_stopping: bool,
    ) -> Result<Reservation<'_, T, E>, Refused> {
        let mut state = self.state.lock();
        if state.closed {
            return Err(Refused::Closed);
        }
        if state.stopping && refuse_when_stopping {
            return Err(Refused::Stopping);
        }
        state.reserved += 1;
        let position = state.next_position;
        state.next_position += 1;
        Ok(Reservation {
            shared: self,
            position,
        })
    }

    /// Rule 2: gives back a reservation whose spawn did not happen (it
    /// panicked), so that `join` does not wait for it.
    fn unreserve(&self) {
        let joiner = {
            let mut state = self.state.lock();
            state.reserved -= 1;
            state.joiner.take()
        };
        if let Some(joiner) = joiner {
            joiner.wake();
        }
    }

    /// Rule 1: makes the spawned `handle` the member at `position`, ending
    /// its reservation, or aborts it if the group is stopping or closed.
    fn register(&self, handle: JoinHandle<Result<T, E>>, position: usize) -> AbortHandle {
        let abort = handle.abort_handle();
        let (joiner, orphan) = {
            let mut state = self.state.lock();
            state.reserved -= 1;
            if state.stopping || state.closed {
                abort.abort();
            } else {
                state.tasks.push(abort.clone());
            }
            let orphan = if state.closed {
                Some(handle) // rule 5: nobody will join it
            } else {
                state.incoming.push(Member { position, handle });
                None
            };
            (state.joiner.take(), orphan)
        };
        drop(orphan);
        if let Some(joiner) = joiner {
            joiner.wake();
        }
        abort
    }

    /// Records the failure of member `id` and, if it is the first, stops the
    /// group and aborts every other member.
    pub(super) fn fail(&self, id: Id) {
        let members = {
            let mut state = self.state.lock();
            if state.first_failure.is_some() {
                return;
            }
            state.first_failure = Some(id);
            state.stopping = true;
            std::mem::take(&mut state.tasks)
        };
        // Not the failing task itself: an abort would replace its `Err`
        // (or panic) with a cancellation.
        for task in members.iter().filter(|t| t.id() != id) {
            task.abort();
        }
    }

    /// Stops the group without a failure and aborts every member.
    pub(super) fn abort_all(&self) {
        let members = {
            let mut state = self.state.lock();
            state.stopping = true;
            std::mem::take(&mut state.tasks)
        };
        for task in members {
            task.abort();
        }
    }

    /// Rule 4: stores `joiner` and takes the members registered since the
    /// last call.
    pub(super) fn adopt(&self, joiner: &Waker) -> Vec<Member<T, E>> {
        let mut state = self.state.lock();
        store_waker(&mut state.joiner, joiner);
        std::mem::take(&mut state.incoming)
    }

    /// Rule 3: called by `join` once its own set is empty.
    pub(super) fn try_close(&self, joiner: &Waker) -> Closing {
        let mut state = self.state.lock();
        if !state.incoming.is_empty() {
            return Closing::Incoming;
        }
        if state.reserved > 0 {
            store_waker(&mut state.joiner, joiner);
            return Closing::Reserved;
        }
        state.closed = true;
        state.joiner = None;
        state.tasks = Vec::new();
        Closing::Closed
    }

    /// Rule 5: closes the group and aborts every member not yet finished.
    pub(super) fn close_and_abort(&self) {
        let (members, incoming) = {
            let mut state = self.state.lock();
            state.closed = true;
            state.stopping = true;
            state.joiner = None;
            (
                std::mem::take(&mut state.tasks),
                std::mem::take(&mut state.incoming),
            )
        };
        for task in members {
            task.abort();
        }
        drop(incoming);
    }

    /// The member that failed first, if any.
    pub(super) fn first_failure(&self) -> Option<Id> {
        self.state.lock().first_failure
    }

    /// Members registered but not yet adopted by `join`.
    pub(super) fn incoming_len(&self) -> usize {
        self.state.lock().incoming.len()
    }

    /// Spawn positions handed out so far.
    pub(super) fn spawned(&self) -> usize {
        self.state.lock().next_position
    }
}

/// A reserved spawn (rule 2): registers the task, or gives the reservation
/// back if dropped unused (the spawn panicked), so that `join` does not wait
/// for a task that will never come.
pub(super) struct Reservation<'a, T, E> {
    shared: &'a Shared<T, E>,
    /// The spawn position taken for the task.
    position: usize,
}

impl<T, E> Reservation<'_, T, E> {
    /// Registers the spawned `task` (rule 1).
    pub(super) fn register(self, task: JoinHandle<Result<T, E>>) -> AbortHandle {
        let abort = self.shared.register(task, self.position);
        std::mem::forget(self); // used up: nothing to give back
        abort
    }
}

impl<T, E> Drop for Reservation<'_, T, E> {
    fn drop(&mut self) {
        self.shared.unreserve();
    }
}

/// Keeps `slot` holding a waker that wakes `waker`'s task, cloning only when
/// it changed.
fn store_waker(slot: &mut Option<Waker>, waker: &Waker) {
    match slot {
        Some(w) if w.will_wake(waker) => {}
        slot => *slot = Some(waker.clone()),
    }
}

/// `future` as a member of the group behind `shared`: reports its failure
/// (an `Err` or a panic) to the group.
pub(super) async fn member<T, E, F>(shared: Arc<Shared<T, E>>, future: F) -> Result<T, E>
where
    F: Future<Output = Result<T, E>>,
{
    let guard = PanicGuard { shared };
    let out = future.await;
    if let (Err(_), Some(id)) = (&out, crate::task::try_id()) {
        guard.shared.fail(id);
    }
    out
}

/// Inside each member: reports a panic to the group if dropped while
/// unwinding (a plain drop is a cancellation or a normal completion).
struct PanicGuard<T, E> {
    shared: Arc<Shared<T, E>>,
}

impl<T, E> Drop for PanicGuard<T, E> {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            return;
        }
        if let Some(id) = crate::task::try_id() {
            self.shared.fail(id);
        }
    }
}
