//! The task state word: six flag bits, a reference count and the tag of
//! the worker that last ran the task, in one `AtomicUsize`. The rules for
//! each bit are in the [`task`](super) module documentation; every
//! transition here names the rule it implements.
//!
//! Layout, low bits first: the six flags (bits 0-5), the reference count
//! (bits 6-47), the worker tag (bits 48-63; rule 10). The tag is written
//! only by `transition_to_running`, in the compare-and-swap that takes
//! `RUNNING`, and read by a scheduler deciding where a wake goes; every
//! other transition carries it along unchanged. The count's 42 bits are
//! far more than live references can need: `ref_inc` aborts before the
//! count would carry into the tag, as `Arc` does at `isize::MAX`.
//!
//! Orderings: a transition that hands the future over to another thread
//! (into `RUNNING`, out of `RUNNING`) is `AcqRel`, so the thread that polls
//! next sees everything the previous poller wrote to the stage. Reference
//! increments are `Relaxed` (a new reference is made from an existing one,
//! which already synchronises); decrements are `AcqRel` so the thread that
//! frees the cell sees every other thread's last use of it.

use crate::loom::sync::atomic::{AtomicUsize, Ordering::*};

/// The future is being polled (or cancelled) by the thread that set this bit;
/// that thread alone may touch the stage.
const RUNNING: usize = 1 << 0;
/// The future is gone: its output (or error) is in the stage, or was taken.
const COMPLETE: usize = 1 << 1;
/// A `Notified` reference for this task exists (in a queue, or about to be),
/// or the task was woken while `RUNNING` and must run again.
const NOTIFIED: usize = 1 << 2;
/// The `JoinHandle` still exists and will read the output.
const JOIN_INTEREST: usize = 1 << 3;
/// The join waker slot holds a waker the runtime may read; while it is set
/// the `JoinHandle` must not write the slot.
const JOIN_WAKER: usize = 1 << 4;
/// `abort()` or shutdown asked for the task to be cancelled.
const CANCELLED: usize = 1 << 5;

const REF_SHIFT: usize = 6;
const REF_ONE: usize = 1 << REF_SHIFT;
/// Where the worker tag starts; the count has the 42 bits below it.
const TAG_SHIFT: usize = 48;
/// The reference count's bits.
const REF_MASK: usize = ((1 << TAG_SHIFT) - 1) & !(REF_ONE - 1);
/// The largest count: one more reference would carry into the tag.
const MAX_REFS: usize = REF_MASK >> REF_SHIFT;

/// A new task: referenced by its `JoinHandle`, the owned-task list and the
/// first `Notified` that puts it into a run queue.
const INITIAL: usize = (3 * REF_ONE) | JOIN_INTEREST | NOTIFIED;

/// Rule 10: what `transition_to_running` records as the task's last
/// worker. `WorkerTag::NONE` keeps the recorded tag (schedulers with one
/// thread, and anything that runs a task outside a worker).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct WorkerTag(usize);

impl WorkerTag {
    /// Records nothing.
    pub(crate) const NONE: WorkerTag = WorkerTag(0);
    /// The largest tag the word holds.
    const MAX: usize = usize::MAX >> TAG_SHIFT;

    /// The tag of worker `index`; workers past the 65,534th share
    /// `NONE`'s (no record), which only costs them the placement rule.
    pub(crate) fn of_worker(index: usize) -> WorkerTag {
        if index < Self::MAX {
            WorkerTag(index + 1)
        } else {
            WorkerTag::NONE
        }
    }

    /// The value [`Snapshot::worker_tag`] returns for this tag.
    pub(crate) fn get(self) -> usize {
        self.0
    }
}

/// A copy of the state word.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Snapshot(usize);

impl Snapshot {
    pub(crate) fn is_running(self) -> bool {
        self.0 & RUNNING != 0
    }
    pub(crate) fn is_complete(self) -> bool {
        self.0 & COMPLETE != 0
    }
    pub(crate) fn is_notified(self) -> bool {
        self.0 & NOTIFIED != 0
    }
    pub(crate) fn is_join_interested(self) -> bool {
        self.0 & JOIN_INTEREST != 0
    }
    pub(crate) fn is_join_waker_set(self) -> bool {
        self.0 & JOIN_WAKER != 0
    }
    pub(crate) fn is_cancelled(self) -> bool {
        self.0 & CANCELLED != 0
    }
    pub(crate) fn ref_count(self) -> usize {
        (self.0 & REF_MASK) >> REF_SHIFT
    }
    /// Rule 10: the tag the last `transition_to_running` recorded (a
    /// scheduler's worker index plus one), or 0 if the task has not run on
    /// a tagging scheduler yet.
    pub(crate) fn worker_tag(self) -> usize {
        self.0 >> TAG_SHIFT
    }
    fn is_idle(self) -> bool {
        self.0 & (RUNNING | COMPLETE) == 0
    }
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("running", &self.is_running())
            .field("complete", &self.is_complete())
            .field("notified", &self.is_notified())
            .field("cancelled", &self.is_cancelled())
            .field("join_interest", &self.is_join_interested())
            .field("join_waker", &self.is_join_waker_set())
            .field("refs", &self.ref_count())
            .field("worker_tag", &self.worker_tag())
            .finish()
    }
}

/// What the poller does after `transition_to_running`.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ToRunning {
    /// Poll the future.
    Poll,
    /// Cancel the task (drop the future) instead of polling it.
    Cancel,
    /// Someone else owns or finished the task: just drop the `Notified` ref.
    Skip,
}

/// What the poller does after the future returned `Pending`.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ToIdle {
    /// Done; the poller's reference was released with the transition.
    Idle,
    /// The task woke itself while running: reschedule it with the new
    /// reference taken for the `Notified`, then release the poller's.
    Yielded,
    /// Cancelled while running: cancel it now (the poller still owns it).
    Cancel,
}

/// What a waker does after marking the task notified.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ToNotified {
    /// Nothing more to do (already queued, running, or complete).
    Done,
    /// Submit the task to its scheduler with one reference.
    Submit,
    /// `wake` by value only: the waker's reference was the last one.
    Dealloc,
}

/// The state word of one task.
pub(crate) struct State(AtomicUsize);

impl State {
    pub(crate) fn new() -> State {
        State(AtomicUsize::new(INITIAL))
    }

    pub(crate) fn load(&self) -> Snapshot {
        Snapshot(self.0.load(Acquire))
    }

    /// Runs `f` on the current value until it returns `Some` and the CAS of
    /// that value succeeds; returns `f`'s other result.
    #[inline]
    fn update<R>(&self, mut f: impl FnMut(Snapshot) -> (Option<Snapshot>, R)) -> R {
        let mut cur = self.0.load(Acquire);
        loop {
            let (next, ret) = f(Snapshot(cur));
            let Some(next) = next else { return ret };
            // AcqRel: see the module docs; a failed CAS re-reads with Acquire.
            match self.0.compare_exchange_weak(cur, next.0, AcqRel, Acquire) {
                Ok(_) => return ret,
                Err(actual) => cur = actual,
            }
        }
    }

    /// Rule 2: a scheduler that holds a `Notified` takes `RUNNING`; rule 10:
    /// a non-zero `tag` (the running worker's, see [`worker_tag`]) replaces
    /// the recorded one in the same step.
    ///
    /// [`worker_tag`]: Snapshot::worker_tag
    pub(crate) fn transition_to_running(&self, tag: WorkerTag) -> ToRunning {
        let tag = tag.0;
        self.update(|s| {
            debug_assert!(s.is_notified() || s.is_complete() || s.is_running());
            if !s.is_idle() {
                // Shutdown cancelled it (or it ran) while it sat in a queue.
                return (None, ToRunning::Skip);
            }
            let mut next = (s.0 | RUNNING) & !NOTIFIED;
            if tag != 0 {
                next = (next & !(usize::MAX << TAG_SHIFT)) | (tag << TAG_SHIFT);
            }
            let next = Snapshot(next);
            let action = if s.is_cancelled() {
                ToRunning::Cancel
            } else {
                ToRunning::Poll
            };
            (Some(next), action)
        })
    }

    /// Rule 3: the poller leaves `RUNNING` after `Pending`.
    pub(crate) fn transition_to_idle(&self) -> ToIdle {
        self.update(|s| {
            debug_assert!(s.is_running() && !s.is_complete());
            if s.is_cancelled() {
                return (None, ToIdle::Cancel);
            }
            if s.is_notified() {
                // Keep NOTIFIED and the poller's reference, and take one
                // more for the new `Notified`: the poller releases its own
                // once `yield_now` returns (the scheduler it calls lives in
                // the cell, which another worker may otherwise run to
                // completion and free meanwhile).
                return (Some(Snapshot((s.0 & !RUNNING) + REF_ONE)), ToIdle::Yielded);
            }
            // The owned list still holds a reference, so this never hits 0.
            debug_assert!(s.ref_count() >= 2);
            (Some(Snapshot((s.0 & !RUNNING) - REF_ONE)), ToIdle::Idle)
        })
    }

    /// Rule 4: the poller publishes completion. Returns the state after.
    pub(crate) fn transition_to_complete(&self) -> Snapshot {
        // AcqRel: Release publishes the output to the `JoinHandle` (paired
        // with its Acquire load in `can_read_output`); Acquire sees the join
        // waker it stored before setting JOIN_WAKER.
        let prev = Snapshot(self.0.fetch_xor(RUNNING | COMPLETE, AcqRel));
        debug_assert!(prev.is_running() && !prev.is_complete());
        Snapshot(prev.0 ^ (RUNNING | COMPLETE))
    }

    /// Rule 5, `wake_by_ref`: take a new reference if the task must be
    /// submitted.
    pub(crate) fn transition_to_notified_by_ref(&self) -> ToNotified {
        self.update(|s| {
            if s.is_complete() || s.is_notified() {
                (None, ToNotified::Done)
            } else if s.is_running() {
                (Some(Snapshot(s.0 | NOTIFIED)), ToNotified::Done)
            } else {
                (
                    Some(Snapshot((s.0 | NOTIFIED) + REF_ONE)),
                    ToNotified::Submit,
                )
            }
        })
    }

    /// Rule 5, `wake` by value: takes a new reference for the `Notified`
    /// if the task must be submitted (the waker keeps its own until the
    /// scheduler has the task, then releases it), and releases the waker's
    /// reference otherwise.
    pub(crate) fn transition_to_notified_by_val(&self) -> ToNotified {
        self.update(|s| {
            if s.is_idle() && !s.is_notified() {
                // Not the waker's reference: the task can run, complete and
                // lose every other reference before `schedule` returns, and
                // `schedule`'s `&self` is the scheduler inside the cell.
                return (
                    Some(Snapshot((s.0 | NOTIFIED) + REF_ONE)),
                    ToNotified::Submit,
                );
            }
            let mut next = s.0 - REF_ONE;
            if s.is_running() {
                next |= NOTIFIED;
            }
            let action = if Snapshot(next).ref_count() == 0 {
                ToNotified::Dealloc
            } else {
                ToNotified::Done
            };
            (Some(Snapshot(next)), action)
        })
    }

    /// Rule 6, `abort()`: mark cancelled and make sure someone acts on it.
    /// `Submit` carries one new reference for a `Notified`.
    pub(crate) fn transition_to_notified_and_cancel(&self) -> ToNotified {
        self.update(|s| {
            if s.is_complete() || s.is_cancelled() {
                (None, ToNotified::Done)
            } else if s.is_running() || s.is_notified() {
                // The poller (rule 3) or the queued `Notified` (rule 2) sees it.
                (Some(Snapshot(s.0 | CANCELLED | NOTIFIED)), ToNotified::Done)
            } else {
                let next = (s.0 | CANCELLED | NOTIFIED) + REF_ONE;
                (Some(Snapshot(next)), ToNotified::Submit)
            }
        })
    }

    /// Rule 7, shutdown: mark cancelled, and take `RUNNING` if the task is
    /// idle. Returns true if the caller now owns the task and must cancel it.
    pub(crate) fn transition_to_shutdown(&self) -> bool {
        self.update(|s| {
            let mut next = s.0 | CANCELLED;
            let owns = s.is_idle();
            if owns {
                next |= RUNNING;
            }
            (Some(Snapshot(next)), owns)
        })
    }

    /// Rule 8, fast path of dropping the `JoinHandle` of a task that is not
    /// complete: clear `JOIN_INTEREST` and release the handle's reference.
    /// Fails (returns false) once the task is complete, or while a join waker
    /// is stored (the slow path sorts those out).
    pub(crate) fn drop_join_handle_fast(&self) -> bool {
        self.update(|s| {
            if s.is_complete() || s.is_join_waker_set() {
                return (None, false);
            }
            debug_assert!(s.ref_count() >= 2, "the owned list still holds a reference");
            (Some(Snapshot((s.0 & !JOIN_INTEREST) - REF_ONE)), true)
        })
    }

    /// Rule 8, slow path: clear `JOIN_INTEREST`. Returns the state before;
    /// if it was complete, the handle must drop the output itself.
    pub(crate) fn unset_join_interested(&self) -> Snapshot {
        Snapshot(self.0.fetch_and(!JOIN_INTEREST, AcqRel))
    }

    /// Rule 9: the `JoinHandle` publishes the waker it just wrote. Fails with
    /// the current state if the task completed first.
    pub(crate) fn set_join_waker(&self) -> Result<(), Snapshot> {
        self.update(|s| {
            debug_assert!(s.is_join_interested() && !s.is_join_waker_set());
            if s.is_complete() {
                return (None, Err(s));
            }
            (Some(Snapshot(s.0 | JOIN_WAKER)), Ok(()))
        })
    }

    /// Rule 9: the `JoinHandle` takes the waker slot back to replace it.
    /// Fails with the current state if the task completed first.
    pub(crate) fn unset_join_waker(&self) -> Result<(), Snapshot> {
        self.update(|s| {
            debug_assert!(s.is_join_interested() && s.is_join_waker_set());
            if s.is_complete() {
                return (None, Err(s));
            }
            (Some(Snapshot(s.0 & !JOIN_WAKER)), Ok(()))
        })
    }

    /// Rule 1: a new reference made from an existing one.
    pub(crate) fn ref_inc(&self) {
        // Relaxed: the caller already holds a reference, so the cell cannot
        // be freed concurrently, and no data is published by this increment.
        let prev = self.0.fetch_add(REF_ONE, Relaxed);
        if Snapshot(prev).ref_count() >= MAX_REFS - 1 {
            // 2^42 references only come from leaked wakers; the next one
            // would carry into the worker tag (as `Arc` does past
            // `isize::MAX`, stop before the count can wrap).
            std::process::abort();
        }
    }

    /// Rule 1: releases `n` references; true if they were the last ones and
    /// the caller must free the cell.
    pub(crate) fn ref_dec(&self, n: usize) -> bool {
        // AcqRel: Release publishes this thread's last use of the cell;
        // Acquire (for the thread that reaches zero) sees every other's.
        let prev = Snapshot(self.0.fetch_sub(n * REF_ONE, AcqRel));
        debug_assert!(prev.ref_count() >= n, "task reference count underflow");
        prev.ref_count() == n
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn initial_state() {
        let s = State::new().load();
        assert!(s.is_notified() && s.is_join_interested());
        assert!(!s.is_running() && !s.is_complete() && !s.is_cancelled());
        assert_eq!(s.ref_count(), 3);
    }

    #[test]
    fn poll_then_wake_while_running_yields() {
        let st = State::new();
        assert_eq!(st.transition_to_running(WorkerTag::NONE), ToRunning::Poll);
        assert_eq!(st.transition_to_notified_by_ref(), ToNotified::Done);
        assert_eq!(st.transition_to_idle(), ToIdle::Yielded);
        let s = st.load();
        assert!(s.is_notified() && !s.is_running());
        assert_eq!(
            s.ref_count(),
            4,
            "a new ref for the Notified; the poller's is still held"
        );
    }

    #[test]
    fn idle_then_wake_submits_with_new_ref() {
        let st = State::new();
        assert_eq!(st.transition_to_running(WorkerTag::NONE), ToRunning::Poll);
        assert_eq!(st.transition_to_idle(), ToIdle::Idle);
        assert_eq!(st.load().ref_count(), 2);
        assert_eq!(st.transition_to_notified_by_ref(), ToNotified::Submit);
        assert_eq!(st.load().ref_count(), 3);
        assert_eq!(st.transition_to_notified_by_ref(), ToNotified::Done);
    }

    #[test]
    fn abort_idle_task_submits_and_cancels() {
        let st = State::new();
        assert_eq!(st.transition_to_running(WorkerTag::NONE), ToRunning::Poll);
        assert_eq!(st.transition_to_idle(), ToIdle::Idle);
        assert_eq!(st.transition_to_notified_and_cancel(), ToNotified::Submit);
        assert_eq!(st.transition_to_running(WorkerTag::NONE), ToRunning::Cancel);
        assert_eq!(st.transition_to_notified_and_cancel(), ToNotified::Done);
    }

    #[test]
    fn shutdown_takes_idle_task_but_not_running_one() {
        let st = State::new();
        assert!(st.transition_to_shutdown());
        let st = State::new();
        assert_eq!(st.transition_to_running(WorkerTag::NONE), ToRunning::Poll);
        assert!(!st.transition_to_shutdown());
        assert_eq!(st.transition_to_idle(), ToIdle::Cancel);
    }

    #[test]
    fn join_waker_fails_after_complete() {
        let st = State::new();
        assert_eq!(st.transition_to_running(WorkerTag::NONE), ToRunning::Poll);
        assert!(st.set_join_waker().is_ok());
        assert!(st.unset_join_waker().is_ok());
        let after = st.transition_to_complete();
        assert!(after.is_complete() && !after.is_running());
        assert!(st.set_join_waker().is_err());
        assert!(!st.drop_join_handle_fast());
    }

    #[test]
    fn wake_by_val_releases_last_ref() {
        let st = State::new();
        assert_eq!(st.transition_to_running(WorkerTag::NONE), ToRunning::Poll);
        let _ = st.transition_to_complete();
        assert!(!st.ref_dec(2));
        assert_eq!(st.transition_to_notified_by_val(), ToNotified::Dealloc);
    }

    #[test]
    fn worker_tag_is_recorded_by_running_and_kept_by_the_rest() {
        let st = State::new();
        assert_eq!(st.load().worker_tag(), 0, "never run");
        let tag = WorkerTag::of_worker(3);
        assert_eq!(tag.get(), 4);
        assert_eq!(st.transition_to_running(tag), ToRunning::Poll);
        assert_eq!(st.load().worker_tag(), 4);
        let refs = st.load().ref_count();
        // Every other transition, and reference changes, keep it.
        assert_eq!(st.transition_to_notified_by_ref(), ToNotified::Done);
        assert_eq!(st.transition_to_idle(), ToIdle::Yielded);
        assert!(!st.ref_dec(1), "the poller releases its reference");
        st.ref_inc();
        assert!(!st.ref_dec(1));
        assert_eq!(st.load().worker_tag(), 4);
        assert_eq!(
            st.load().ref_count(),
            refs,
            "the tag is not part of the count"
        );
        // NONE keeps the record; another worker replaces it.
        assert_eq!(st.transition_to_running(WorkerTag::NONE), ToRunning::Poll);
        assert_eq!(st.load().worker_tag(), 4);
        assert_eq!(st.transition_to_idle(), ToIdle::Idle);
        assert_eq!(st.transition_to_notified_by_ref(), ToNotified::Submit);
        assert_eq!(
            st.transition_to_running(WorkerTag::of_worker(0)),
            ToRunning::Poll
        );
        assert_eq!(st.load().worker_tag(), 1);
        // Past the tag's range a worker records nothing.
        assert_eq!(
            WorkerTag::of_worker(usize::MAX >> TAG_SHIFT),
            WorkerTag::NONE
        );
        assert_eq!(
            WorkerTag::of_worker((usize::MAX >> TAG_SHIFT) - 1).get(),
            usize::MAX >> TAG_SHIFT
        );
    }

    #[test]
    fn a_full_tag_does_not_leak_into_the_count() {
        let st = State::new();
        let top = WorkerTag::of_worker((usize::MAX >> TAG_SHIFT) - 1);
        assert_eq!(st.transition_to_running(top), ToRunning::Poll);
        assert_eq!(st.load().ref_count(), 3);
        let _ = st.transition_to_complete();
        assert!(!st.ref_dec(2));
        assert_eq!(st.transition_to_notified_by_val(), ToNotified::Dealloc);
    }
}
