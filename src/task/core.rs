//! The task allocation: one `Cell<F, S>` holding header, scheduler handle,
//! future-or-output stage and join waker, and the type-erased vtable that lets
//! the rest of the runtime drive it through a `NonNull<Header>`.

use std::future::Future;
use std::ptr::NonNull;
use std::task::{Context, Poll, Waker};

use super::error::JoinError;
use super::id::Id;
use super::list::Pointers;
use super::site::Site;
use super::state::{State, WorkerTag};
use super::{Notified, Task};
use crate::loom::cell::UnsafeCell;

/// The part of every task that is the same whatever its future: the fields
/// the scheduler, wakers and lists touch through a `NonNull<Header>`.
///
/// `repr(C)` and first in [`Cell`], so a `*Header` is also a `*Cell<F, S>`.
#[repr(C)]
pub(crate) struct Header {
    /// Flags and reference count; see [`state`](super::state).
    pub(crate) state: State,
    /// Monomorphised functions for this task's `F` and `S`.
    pub(crate) vtable: &'static Vtable,
    /// Links of the owned-task list. Only touched with that list's shard
    /// lock held.
    pub(crate) pointers: UnsafeCell<Pointers>,
    /// The task's id, unique for the life of the process.
    pub(crate) id: Id,
    /// Spawn site, and name and counters when the task has them; one word,
    /// immutable after spawn (see [`site`](super::site)).
    pub(crate) site: Site,
}

/// Functions that need the concrete future and scheduler types.
pub(crate) struct Vtable {
    /// Runs the task once, consuming a `Notified` reference; records the
    /// worker tag (rule 10).
    pub(crate) poll: unsafe fn(NonNull<Header>, WorkerTag),
    /// Hands a `Notified` reference to the task's scheduler.
    pub(crate) schedule: unsafe fn(NonNull<Header>),
    /// Frees the cell; called once, after the last reference is released.
    pub(crate) dealloc: unsafe fn(NonNull<Header>),
    /// `JoinHandle::poll`: writes `Poll<Result<T, JoinError>>` to the
    /// pointer if the output is ready, else stores the waker.
    pub(crate) try_read_output: unsafe fn(NonNull<Header>, *mut (), &Waker),
    /// Drop of a `JoinHandle` whose fast path failed.
    pub(crate) drop_join_handle_slow: unsafe fn(NonNull<Header>),
    /// Cancels the task on behalf of runtime shutdown, consuming one reference.
    pub(crate) shutdown: unsafe fn(NonNull<Header>),
}

/// What the task holds: the future, then its output (or why there is
/// none), then nothing.
///
/// The failure cases are kept apart from the output instead of storing a
/// whole `Result<F::Output, JoinError>`: a `JoinError` is 32 bytes (id,
/// lock, fat payload pointer), while the id is already in the header. A
/// panic's payload is not here either but in the cold
/// [`panic_table`](super::panic_table), under the cell's address, so the stage
/// is a tag and the larger of the future and the output: for an
/// `async {}`, one byte where a thin pointer and a tag took 16; see
/// "Where the bytes of a task go" in docs/ARCHITECTURE.md.
pub(crate) enum Stage<F: Future> {
    Running(F),
    Finished(F::Output),
    /// Cancelled by `abort()` or shutdown (rules 6, 7).
    Cancelled,
    /// The future (or the destructor of the future) panicked; the payload
    /// is in the panic table while the stage says this
    /// (`panic_table` rule 1).
    Panicked,
    Consumed,
}

/// How a task ended, as its poller stores it in the stage.
pub(crate) enum Outcome<T> {
    /// The future returned.
    Output(T),
    /// Cancelled by `abort()` or shutdown (rules 6, 7).
    Cancelled,
    /// The future, or the destructor of the future, panicked.
    Panicked(super::panic_table::Payload),
}

/// The whole allocation of one task.
#[repr(C)]
pub(crate) struct Cell<F: Future, S> {
    pub(crate) header: Header,
    /// The scheduler that runs this task (an `Arc` of the runtime's handle).
    pub(crate) scheduler: S,
    /// Owned by whoever holds `RUNNING`, or by the `JoinHandle` once
    /// `COMPLETE` is set while `JOIN_INTEREST` is held (rules 2-4, 8).
    pub(crate) stage: UnsafeCell<Stage<F>>,
    /// Written by the `JoinHandle` only while `JOIN_WAKER` is clear; read by
    /// the completing thread only if `JOIN_WAKER` was set (rule 9).
    pub(crate) join_waker: UnsafeCell<Option<Waker>>,
}

/// What a scheduler does for the tasks it owns.
pub(crate) trait Schedule: Send + Sync + Sized + 'static {
    /// A task was woken: queue it.
    fn schedule(&self, task: Notified);

    /// The task woke itself while running (it yielded): queue it behind the
    /// others, never in a "run next" slot.
    fn yield_now(&self, task: Notified) {
        self.schedule(task);
    }

    /// The task completed: take it out of the owned list, returning the
    /// list's reference if it was still there.
    fn release(&self, task: NonNull<Header>) -> Option<Task>;

    /// A task panicked; apply the runtime's unhandled-panic policy.
    fn unhandled_panic(&self) {}

    /// The clock a timed poll is measured with, in nanoseconds since the
    /// process epoch (`task::site::now_ns`): read exactly by default; a
    /// multi-thread runtime in debug mode reads its watchdog's coarse
    /// clock instead, one load (`runtime::debug::watchdog`, rule 6).
    fn poll_clock_ns(&self) -> u64 {
        super::site::now_ns()
    }

    /// A timed poll of `task` ran from `start_ns` to `end_ns` (both read
    /// with [`poll_clock_ns`](Schedule::poll_clock_ns)): debug mode's
    /// slow-poll report.
    fn polled(&self, _task: &Header, _start_ns: u64, _end_ns: u64) {}

    /// A task's panic can no longer be retrieved: its `JoinHandle` is gone.
    fn panic_lost(&self, _task: &Header, _message: Option<String>) {}

    /// The run of `task` that starts now carries the wake this scheduler
    /// marked for timing (`site` rule 6, `runtime::sampling` rule 3): time
    /// it from its queueing.
    fn wake_sampled(&self, _task: NonNull<Header>) {}
}

impl<F: Future, S: Schedule> Cell<F, S> {
    /// Allocates a task in its initial state (rule 1: three references),
    /// in a cell from the [cell cache](super::cell_cache).
    pub(crate) fn allocate(future: F, scheduler: S, id: Id, site: Site) -> NonNull<Header> {
        let ptr = super::cell_cache::alloc(std::alloc::Layout::new::<Self>()).cast::<Self>();
        // SAFETY: `alloc` returned memory for this layout (size and
        // alignment), uninitialised and referenced by nobody else.
        unsafe {
            ptr.as_ptr().write(Cell {
                header: Header {
                    state: State::new(),
                    vtable: Self::VTABLE,
                    pointers: UnsafeCell::new(Pointers::new()),
                    id,
                    site,
                },
                scheduler,
                stage: UnsafeCell::new(Stage::Running(future)),
                join_waker: UnsafeCell::new(None),
            })
        };
        ptr.cast()
    }

    const VTABLE: &'static Vtable = &Vtable {
        poll: super::harness::poll::<F, S>,
        schedule: super::harness::schedule::<F, S>,
        dealloc: super::harness::dealloc::<F, S>,
        try_read_output: super::harness::try_read_output::<F, S>,
        drop_join_handle_slow: super::harness::drop_join_handle_slow::<F, S>,
        shutdown: super::harness::shutdown::<F, S>,
    };

    /// Polls the future.
    ///
    /// # Safety
    /// The caller holds `RUNNING` and the stage is `Running`.
    pub(crate) unsafe fn poll_future(&self, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.stage.with_mut(|stage| {
            // SAFETY: the caller holds RUNNING, which gives it the stage
            // alone (rule 2); the cell is heap-allocated and never moved, so
            // the future is pinned.
            match unsafe { &mut *stage } {
                // SAFETY: as above: the future never moves out of the cell.
                Stage::Running(fut) => unsafe { std::pin::Pin::new_unchecked(fut) }.poll(cx),
                _ => unreachable!("windlass: a task's future was polled after it completed"),
            }
        })
    }

    /// Drops what the stage holds (the future, or an output nobody will
    /// read) and leaves it `Consumed`. A panic from that destructor
    /// propagates; the stage is `Consumed` either way.
    ///
    /// # Safety
    /// The caller owns the stage (rules 2-4, 8).
    #[inline]
    pub(crate) unsafe fn drop_stage(&self) {
        let was_panicked = self.stage.with_mut(|stage| {
            // SAFETY: exclusive access per the caller's contract.
            let stage = unsafe { &mut *stage };
            let was_panicked = matches!(stage, Stage::Panicked);
            *stage = Stage::Consumed;
            was_panicked
        });
        if was_panicked {
            // `panic_table` rule 1: the stage moved on, so does the entry.
            drop_payload(&self.header);
        }
    }

    /// Stores how the task ended. The stage must be `Consumed` (the
    /// future already dropped by [`drop_stage`](Self::drop_stage)).
    ///
    /// # Safety
    /// The caller owns the stage (rules 2-4, 8).
    #[inline]
    pub(crate) unsafe fn store(&self, outcome: Outcome<F::Output>) {
        let new = match outcome {
            Outcome::Output(output) => Stage::Finished(output),
            Outcome::Cancelled => Stage::Cancelled,
            Outcome::Panicked(payload) => {
                // `panic_table` rule 1: the entry first, then the stage
                // that says it is there.
                super::panic_table::stash(&self.header, payload);
                Stage::Panicked
            }
        };
        self.stage.with_mut(|stage| {
            // SAFETY: exclusive access per the caller's contract.
            let stage = unsafe { &mut *stage };
            debug_assert!(
                matches!(stage, Stage::Consumed),
                "the future is dropped first"
            );
            // Writing over `Consumed` drops nothing, so nothing can panic
            // between the stash and this store.
            *stage = new;
        });
    }

    /// The message of the panic stored in the stage, if it holds one (the
    /// outer `Option`) and the payload is a string (the inner one).
    ///
    /// # Safety
    /// The caller owns the stage (rules 2-4, 8).
    pub(crate) unsafe fn panic_message(&self) -> Option<Option<String>> {
        let panicked = self.stage.with(|stage| {
            // SAFETY: exclusive access per the caller's contract.
            matches!(unsafe { &*stage }, Stage::Panicked)
        });
        if panicked {
            super::panic_table::message(&self.header)
        } else {
            None
        }
    }

    /// Takes the output out of the stage.
    ///
    /// # Safety
    /// The caller is the `JoinHandle`, the task is complete, and the output
    /// was not taken before.
    pub(crate) unsafe fn take_output(&self) -> Result<F::Output, JoinError> {
        let stage = self.stage.with_mut(|stage| {
            // SAFETY: after COMPLETE, with JOIN_INTEREST, the stage belongs
            // to the JoinHandle (rule 8).
            std::mem::replace(unsafe { &mut *stage }, Stage::Consumed)
        });
        match stage {
            Stage::Finished(out) => Ok(out),
            Stage::Cancelled => Err(JoinError::cancelled(&self.header)),
            Stage::Panicked => Err(JoinError::panic(&self.header, take_payload(&self.header))),
            _ => panic!("windlass: JoinHandle polled after it returned Ready"),
        }
    }
}

/// The payload of a stage that was `Panicked` and has moved on
/// (`panic_table` rule 1).
#[cold]
fn take_payload(task: &Header) -> super::panic_table::Payload {
    super::panic_table::take(task).expect(
        "windlass: a panicked task's payload is missing from the panic table (panic_table rule 1)",
    )
}

/// Drops the payload of a stage that was `Panicked` and is now `Consumed`,
/// outside the table's lock (`panic_table` rule 3). A panic from the
/// payload's destructor propagates to the caller, which catches it as it
/// catches one from an output's.
#[cold]
fn drop_payload(task: &Header) {
    drop(take_payload(task));
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn header_fits_in_a_cache_line() {
        assert_eq!(std::mem::size_of::<Header>(), 48);
        assert!(std::mem::size_of::<Header>() <= 64);
    }

    fn cell_size<F: Future, S>(_: &F) -> usize {
        std::mem::size_of::<Cell<F, S>>()
    }

    /// The byte budget of docs/ARCHITECTURE.md ("Where the bytes of a task
    /// go"): header 48 (of which 8 for the spawn site), scheduler 8, stage
    /// 8 (one byte and padding), join waker 16. A name lives out of line,
    /// in the site's extras; a panic's payload in the panic table.
    #[test]
    fn an_empty_task_is_80_bytes() {
        use crate::runtime::multi_thread::Handle;
        use std::sync::Arc;
        let fut = async {};
        // The stage is the future's byte and a tag, packed into the byte's
        // spare values: no pointer for the rare panic (see `panic_table`).
        assert_eq!(std::mem::size_of::<Stage<std::future::Ready<()>>>(), 1);
        assert_eq!(cell_size::<_, Arc<Handle>>(&fut), 80);
        // A future that holds a word (16 bytes with its state byte): the
        // stage is the future and a tag, 24. The panic pointer fitted in
        // the future's space here, so leaving it out changes nothing; the
        // compiler does not pack the tag into the future's state byte.
        let n = 7u64;
        let fut = async move { n };
        assert_eq!(cell_size::<_, Arc<Handle>>(&fut), 96);
    }
}
