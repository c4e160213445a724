//! The task state word: six flag bits and a reference count in one
//! `AtomicUsize`. The rules for each bit are in the [`task`](super) module
//! documentation; every transition here names the rule it implements.
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

/// A new task: referenced by its `JoinHandle`, the owned-task list and the
/// first `Notified` that puts it into a run queue.
const INITIAL: usize = (3 * REF_ONE) | JOIN_INTEREST | NOTIFIED;

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
        self.0 >> REF_SHIFT
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
    /// The task woke itself while running: reschedule it, reusing the
    /// poller's reference as the new `Notified`.
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

    /// Rule 2: a scheduler that holds a `Notified` takes `RUNNING`.
    pub(crate) fn transition_to_running(&self) -> ToRunning {
        self.update(|s| {
            debug_assert!(s.is_notified() || s.is_complete() || s.is_running());
            if !s.is_idle() {
                // Shutdown cancelled it (or it ran) while it sat in a queue.
                return (None, ToRunning::Skip);
            }
            let next = Snapshot((s.0 | RUNNING) & !NOTIFIED);
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
                // Keep NOTIFIED and the poller's reference: it becomes the
                // new `Notified`.
                return (Some(Snapshot(s.0 & !RUNNING)), ToIdle::Yielded);
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

    /// Rule 5, `wake` by value: the waker's reference becomes the `Notified`
    /// one if the task must be submitted, and is released otherwise.
    pub(crate) fn transition_to_notified_by_val(&self) -> ToNotified {
        self.update(|s| {
            if s.is_idle() && !s.is_notified() {
                return (Some(Snapshot(s.0 | NOTIFIED)), ToNotified::Submit);
            }
            let mut next = s.0 - REF_ONE;
            if s.is_running() {
                next |= NOTIFIED;
            }
            let action = if next >> REF_SHIFT == 0 {
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
        if prev > isize::MAX as usize {
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
        assert_eq!(st.transition_to_running(), ToRunning::Poll);
        assert_eq!(st.transition_to_notified_by_ref(), ToNotified::Done);
        assert_eq!(st.transition_to_idle(), ToIdle::Yielded);
        let s = st.load();
        assert!(s.is_notified() && !s.is_running());
        assert_eq!(s.ref_count(), 3, "the poller's ref became the Notified ref");
    }

    #[test]
    fn idle_then_wake_submits_with_new_ref() {
        let st = State::new();
        assert_eq!(st.transition_to_running(), ToRunning::Poll);
        assert_eq!(st.transition_to_idle(), ToIdle::Idle);
        assert_eq!(st.load().ref_count(), 2);
        assert_eq!(st.transition_to_notified_by_ref(), ToNotified::Submit);
        assert_eq!(st.load().ref_count(), 3);
        assert_eq!(st.transition_to_notified_by_ref(), ToNotified::Done);
    }

    #[test]
    fn abort_idle_task_submits_and_cancels() {
        let st = State::new();
        assert_eq!(st.transition_to_running(), ToRunning::Poll);
        assert_eq!(st.transition_to_idle(), ToIdle::Idle);
        assert_eq!(st.transition_to_notified_and_cancel(), ToNotified::Submit);
        assert_eq!(st.transition_to_running(), ToRunning::Cancel);
        assert_eq!(st.transition_to_notified_and_cancel(), ToNotified::Done);
    }

    #[test]
    fn shutdown_takes_idle_task_but_not_running_one() {
        let st = State::new();
        assert!(st.transition_to_shutdown());
        let st = State::new();
        assert_eq!(st.transition_to_running(), ToRunning::Poll);
        assert!(!st.transition_to_shutdown());
        assert_eq!(st.transition_to_idle(), ToIdle::Cancel);
    }

    #[test]
    fn join_waker_fails_after_complete() {
        let st = State::new();
        assert_eq!(st.transition_to_running(), ToRunning::Poll);
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
        assert_eq!(st.transition_to_running(), ToRunning::Poll);
        let _ = st.transition_to_complete();
        assert!(!st.ref_dec(2));
        assert_eq!(st.transition_to_notified_by_val(), ToNotified::Dealloc);
    }
}
