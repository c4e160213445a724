//! Tasks: spawned futures, their handles, and the protocol that lets any
//! thread wake, cancel, join or drop a task while a worker polls it.
//!
//! A task is a future handed to the runtime with [`spawn`] (asyncio's
//! `create_task`). It starts at once, runs on whichever worker is free, and
//! is reached through its [`JoinHandle`]: await the handle for the output,
//! [`abort`](JoinHandle::abort) it to cancel the task (asyncio's
//! `task.cancel()`), or drop it to let the task run on detached. A task
//! that panics or is cancelled produces a [`JoinError`] instead of its
//! output; nothing is raised in the awaiting task. Inside a task,
//! [`yield_now`] lets the others run (asyncio's `await asyncio.sleep(0)`)
//! and [`id`] names the task.
//!
//! ```
//! use windlass::task;
//!
//! windlass::Runtime::new().unwrap().block_on(async {
//!     let worker = task::spawn(async { task::id() });
//!     let id = worker.id();
//!     assert_eq!(worker.await.unwrap(), id); // the task saw its own id
//!
//!     // Cancelling a waiting task drops its future at its `.await`.
//!     let stuck = task::spawn(std::future::pending::<()>());
//!     stuck.abort();
//!     assert!(stuck.await.unwrap_err().is_cancelled());
//!
//!     // A panic is caught, and the runtime goes on.
//!     let err = task::spawn(async { panic!("oops") }).await.unwrap_err();
//!     assert!(err.is_panic());
//! });
//! ```
//!
//! The rest of this page is for readers of windlass's code: how a task is
//! laid out and which thread may touch what, when.
//!
//! # The cell
//!
//! A task is one heap allocation, a `Cell<F, S>` (`task/core.rs`): a 48-byte
//! `Header` (state word, vtable pointer, owned-list links,
//! id, spawn site: see `task/site.rs`), the scheduler handle `S`, the
//! *stage* (the future, then its output or a cancelled/panicked tag, then
//! nothing) and the *join waker* slot: 80 bytes for an `async {}`
//! (docs/ARCHITECTURE.md, "Where the bytes of a task go"). A panic's
//! payload is not in the cell: it waits in a side table
//! (`task/panic_table.rs`) while the stage says `Panicked`. Everything
//! outside this module holds a `NonNull<Header>` and reaches the typed parts
//! through the vtable.
//!
//! # The state word
//!
//! One `AtomicUsize` (`task/state.rs`): flag bits `RUNNING`, `COMPLETE`,
//! `NOTIFIED`, `JOIN_INTEREST`, `JOIN_WAKER`, `CANCELLED`, above them a
//! reference count, and at the top the tag of the worker that last ran the
//! task. These rules are the whole protocol; the code names them.
//!
//! 1. **References.** A new task has three: the `JoinHandle`'s, the owned
//!    list's, and the first `Notified`'s. Each waker, `AbortHandle` and
//!    queued `Notified` holds one more. The thread that releases the last one
//!    frees the cell. The owned list keeps its reference until the task
//!    completes, so the count cannot reach zero while the future exists.
//! 2. **Running.** Only a thread holding a `Notified` may set `RUNNING`
//!    (clearing `NOTIFIED`). If the task is already running or complete, it
//!    drops its reference instead; if `CANCELLED` is set, it cancels instead
//!    of polling. Whoever holds `RUNNING` owns the stage.
//! 3. **Idle.** After `Pending`, the poller clears `RUNNING`. If `CANCELLED`
//!    was set meanwhile, it keeps `RUNNING` and cancels. If `NOTIFIED` was set
//!    meanwhile (the task woke itself, e.g. `yield_now`), the same
//!    compare-and-swap takes a new reference for the new `Notified`, the task
//!    goes to the back of the queue, and the poller releases its own
//!    reference after the scheduler call returns. Otherwise the poller's
//!    reference is released in the same compare-and-swap.
//! 4. **Complete.** The poller stores the output (or error), takes the task
//!    out of the owned list (the future is gone, so shutdown has nothing
//!    left to do with it), then flips `RUNNING` to `COMPLETE`. If
//!    `JOIN_INTEREST` is gone it drops the output itself; if `JOIN_WAKER` is
//!    set it wakes the join waker. Then it releases the poller's and the
//!    list's references. A panic from that drop (or from the join waker)
//!    is caught and goes to the runtime's unhandled-panic policy.
//! 5. **Wake.** A waker sets `NOTIFIED`. Only if the task was idle and not
//!    already notified does it submit a `Notified`, with a new reference
//!    (`wake` releases the waker's own only after the scheduler call
//!    returns). A scheduler call runs with `&self` in the cell, so whoever
//!    makes it holds a reference of its own until it returns: the task it
//!    hands over may run, complete and lose every other reference first.
//!    Waking a running task only sets the bit (rule 3 acts on it); waking a
//!    complete or queued task does nothing. So no task is ever in a queue
//!    twice, and no wake is lost.
//! 6. **Abort.** `abort()` sets `CANCELLED`. If the task is idle and not
//!    queued it also submits a `Notified`, so a worker cancels it promptly
//!    (rule 2); a running task is cancelled by its poller (rule 3). If the
//!    poll in progress returns `Ready`, the output stands and the join
//!    yields it: the future finished its work, and a caller that reads
//!    "cancelled" as "did not happen" must not do it twice (asyncio's
//!    `cancel()` on a done task). `CANCELLED` only ever stops a future
//!    that has not returned.
//! 7. **Shutdown.** The shutdown pass takes each task out of the owned list,
//!    sets `CANCELLED`, and if the task is idle also takes `RUNNING` and
//!    cancels it right there. A running task is left to its poller (rule 3).
//!    A `Notified` still in a queue then finds the task complete (rule 2).
//! 8. **Join interest.** While `JOIN_INTEREST` is set and the task is
//!    complete, the stage belongs to the `JoinHandle`. Dropping the handle
//!    clears the bit: before completion, the poller drops the output (rule
//!    4); after, the handle does. Exactly one of them sees the other's write,
//!    because both act on the same atomic word. A panic from the output's
//!    destructor never leaves `JoinHandle::drop`: it is caught and goes to
//!    the unhandled-panic policy, so dropping many handles cannot abort.
//!    A panic's payload is part of the stage for this rule and rule 4,
//!    though it lives outside the cell: the stage says only `Panicked`,
//!    and the payload waits in the panic table under the cell's address
//!    (`task/panic_table.rs`). Its entry is inserted by the owner that
//!    stores the panic and removed by the owner that moves the stage on
//!    (the handle taking it, or whoever drops the output), so exactly one
//!    thread touches it at a time, ordered by the same state-word
//!    transitions that hand the stage over.
//! 9. **Join waker.** The `JoinHandle` writes the waker slot only while
//!    `JOIN_WAKER` is clear, then sets the bit (failing if `COMPLETE` came
//!    first, in which case it reads the output). To replace the waker it
//!    first clears the bit (failing likewise). The completing thread reads
//!    the slot only if the bit was set when it published `COMPLETE`. The
//!    slot is freed with the cell.
//! 10. **Worker tag.** A scheduler that runs the task on one of several
//!     workers passes that worker's tag (its index plus one) to
//!     `transition_to_running`, which stores it in the same compare-and-swap
//!     that takes `RUNNING`; every other transition keeps it. It is a hint
//!     for where a wake should go (`runtime::multi_thread::worker`), read
//!     with a plain load, and no other rule depends on it: a stale tag
//!     moves a task to a worker's queue instead of its LIFO slot, nothing
//!     more. Tag 0 means no record (never run by such a scheduler); a
//!     current-thread runtime records none.
//!
//! Every future is therefore dropped exactly once: by its poller when it
//! completes, by the `RUNNING` owner when cancelled (rules 2, 3, 7), and
//! never while another thread polls it.

pub(crate) mod abort_on_drop;
mod builder;
pub(crate) mod caught;
pub(crate) mod cell_cache;
pub(crate) mod context;
pub(crate) mod coop;
pub(crate) mod core;
mod error;
mod harness;
mod id;
mod join;
pub(crate) mod list;
pub(crate) mod panic_report;
mod panic_table;
pub(crate) mod site;
pub(crate) mod state;
pub(crate) mod waker;
mod yield_now;

use std::ptr::NonNull;

pub use builder::Builder;
pub use coop::consume_budget;
pub use error::JoinError;
pub use id::Id;
pub use join::{AbortHandle, JoinHandle};
pub use yield_now::yield_now;

pub use crate::runtime::spawn;

use self::core::Header;
pub(crate) use self::state::WorkerTag;

/// The id of the task being polled on this thread: the same as its
/// [`JoinHandle::id`], so a task can tell a supervisor who it is.
///
/// Panics outside a windlass task (including directly inside `block_on`,
/// which is not a task); see [`try_id`].
///
/// ```
/// windlass::Runtime::new().unwrap().block_on(async {
///     let (a, b) = (
///         windlass::spawn(async { windlass::task::id() }),
///         windlass::spawn(async { windlass::task::id() }),
///     );
///     let (a_id, b_id) = (a.id(), b.id());
///     assert_eq!((a.await.unwrap(), b.await.unwrap()), (a_id, b_id));
///     assert_ne!(a_id, b_id);
/// });
/// ```
#[track_caller]
pub fn id() -> Id {
    try_id().expect(
        "windlass::task::id() called outside a task; use task::try_id() where there may be none",
    )
}

/// The id of the task being polled on this thread, if any: for code that
/// may run in a task or not.
///
/// ```
/// let rt = windlass::Runtime::new().unwrap();
/// assert_eq!(windlass::task::try_id(), None); // a plain thread
/// let task = rt.spawn(async { windlass::task::try_id() });
/// let id = task.id();
/// assert_eq!(rt.block_on(task).unwrap(), Some(id));
/// ```
pub fn try_id() -> Option<Id> {
    context::current_task()
}

/// The name of the task being polled on this thread, if it was given one
/// with [`Builder::name`]; `None` for an unnamed task and outside tasks.
///
/// ```
/// use windlass::task;
///
/// windlass::Runtime::new().unwrap().block_on(async {
///     let named = task::Builder::new().name("worker 1").spawn(async { task::name() });
///     assert_eq!(named.await.unwrap().as_deref(), Some("worker 1"));
///     assert_eq!(windlass::spawn(async { task::name() }).await.unwrap(), None);
/// });
/// ```
pub fn name() -> Option<crate::loom::std::sync::Arc<str>> {
    context::with_current_task(|h| h.site.name().cloned()).flatten()
}

/// Where the task being polled on this thread was spawned, or `None`
/// outside tasks.
///
/// ```
/// windlass::Runtime::new().unwrap().block_on(async {
///     let (task, line) = (windlass::spawn(async { windlass::task::spawned_at() }), line!());
///     assert_eq!(task.await.unwrap().unwrap().line(), line);
/// });
/// ```
pub fn spawned_at() -> Option<&'static std::panic::Location<'static>> {
    context::with_current_task(|h| h.site.location())
}

/// One reference to a task (rule 1). Dropping it releases the reference.
pub(crate) struct Task {
    ptr: NonNull<Header>,
}

// SAFETY: a task reference only reaches the header's atomics and the
// vtable; the typed parts are guarded by the state protocol. The futures
// inside are `Send` (required at spawn).
unsafe impl Send for Task {}
// SAFETY: as above.
unsafe impl Sync for Task {}

impl Task {
    /// # Safety
    /// `ptr` is a live task and the caller hands over one reference.
    pub(crate) unsafe fn from_raw(ptr: NonNull<Header>) -> Task {
        Task { ptr }
    }

    /// Gives up ownership of the reference without releasing it.
    pub(crate) fn into_raw(self) -> NonNull<Header> {
        let ptr = self.ptr;
        std::mem::forget(self);
        ptr
    }

    pub(crate) fn header(&self) -> &Header {
        // SAFETY: our reference keeps the header alive.
        unsafe { self.ptr.as_ref() }
    }

    /// Rule 7: cancels the task for shutdown, consuming this reference.
    pub(crate) fn shutdown(self) {
        let vtable = self.header().vtable;
        // SAFETY: live task; our reference is handed over.
        unsafe { (vtable.shutdown)(self.into_raw()) };
    }
}

impl Drop for Task {
    fn drop(&mut self) {
        if self.header().state.ref_dec(1) {
            // SAFETY: that was the last reference.
            unsafe { (self.header().vtable.dealloc)(self.ptr) };
        }
    }
}

/// A reference that entitles its holder to run the task (rule 2): what the
/// run queues hold.
pub(crate) struct Notified(pub(crate) Task);

impl Notified {
    /// Polls the task once (or cancels it, or skips it), consuming `self`.
    pub(crate) fn run(self) {
        self.run_tagged(WorkerTag::NONE);
    }

    /// As [`run`](Notified::run), recording `tag` as the task's last
    /// worker (rule 10).
    #[inline]
    pub(crate) fn run_tagged(self, tag: WorkerTag) {
        let vtable = self.0.header().vtable;
        // SAFETY: live task; our `Notified` reference is handed over.
        unsafe { (vtable.poll)(self.0.into_raw(), tag) };
    }

    /// Rule 10: the tag of the worker that last ran this task.
    #[inline]
    pub(crate) fn worker_tag(&self) -> usize {
        self.0.header().state.load().worker_tag()
    }

    pub(crate) fn id(&self) -> Id {
        self.0.header().id
    }

    /// The task this entitles to run, e.g. to find it in an owned list.
    pub(crate) fn header_ptr(&self) -> NonNull<Header> {
        self.0.ptr
    }

    /// Marks this wake as the one the runtime times (`site` rule 6): the
    /// task's next run hands it to `Schedule::wake_sampled`. Call before
    /// pushing `self` to a run queue.
    pub(crate) fn mark_wake_sampled(&self) {
        self.0.header().site.mark_wake();
    }
}

impl std::fmt::Debug for Notified {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Notified({})", self.id())
    }
}
