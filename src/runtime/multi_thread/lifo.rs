//! The LIFO slot, and how a task in it escapes a worker stuck in one poll.
//!
//! A worker runs the task most recently woken by its own task next, from
//! its LIFO slot (see `worker`). The slot used to be private: if the worker
//! then blocked inside a poll (a synchronous call in a task), the woken task
//! waited for the whole block while other workers slept (issue #13: 2,000 ms
//! in the probe). Now the slot is an atomic pointer the other workers can
//! take from, and a sleeping worker checks for stuck peers.
//!
//! # Protocol
//!
//! 1. **Slot.** One `AtomicPtr` per worker holding a `Notified` reference,
//!    or null. Only the owner *puts*; anyone may *take* (swap in null), so
//!    a task is taken exactly once. The owner puts into an empty slot with a
//!    plain store (no one else makes an empty slot full, so nothing can
//!    slip in between its load and its store) and into a full one with a
//!    swap, which returns what was there (or null, if it was just stolen).
//! 2. **Poll counter.** The owner bumps its `polls` counter before each
//!    task it runs. Only the owner writes it; others only compare it (and
//!    `Handle::metrics` reports it as the worker's `polls`: a `u64`, so it
//!    does not wrap in practice).
//! 3. **Rescue.** A worker that parks while another worker is awake sleeps
//!    at most [`RESCUE_INTERVAL`] at a time. Before each such sleep it
//!    snapshots every peer's counter; after it, a peer whose counter has
//!    not moved, with a task in its slot, has spent the whole interval in
//!    one poll, and the sleeper takes that task (or, with the slot empty,
//!    half of that peer's queue, where a lone task is not announced to
//!    sleepers either), takes itself off the sleepers (idle protocol, as
//!    after an unpark) and runs it. With every
//!    other worker asleep there is nobody to rescue from, and it sleeps
//!    without a timeout as before.
//! 4. **Announce after the poller.** A worker woken by the poller counts
//!    itself awake without notifying anyone (idle protocol, "Woken by the
//!    poller"), so peers that went to sleep while every worker slept keep
//!    sleeping without a timeout, and rule 3 would never look at it. So
//!    the first task it queues locally after the ones it collected (into
//!    its LIFO slot or its queue) notifies a sleeper, as a found-work
//!    step would: that peer finds nothing, and parks again with a timeout,
//!    now that a worker is awake. The tasks the poller collected do not
//!    announce (they are the poller's I/O, which wakes no peer); a task
//!    they wake does, once per wake by the poller. (Session 13: a task
//!    woken this way, just before its worker blocked, waited for the whole
//!    block.)
//!
//! Taking the task of a peer that is not stuck after all (its counter
//! wrapped, or a stale wake-up shortened the sleep) is harmless: the task
//! runs elsewhere, as any stolen task does. The hot path pays one load and
//! one store per wake (rule 1) and one load and one swap per LIFO run,
//! instead of plain moves; benches/runtime measures it (docs/RELIABILITY.md).

use std::ptr::{NonNull, null_mut};
use std::time::Duration;

use crossbeam_utils::CachePadded;

use crate::loom::sync::atomic::{AtomicPtr, AtomicU64, Ordering::*};
use crate::task::core::Header;
use crate::task::{Notified, Task};

/// How long a sleeping worker waits before it looks for a peer stuck in
/// one poll with a task in its LIFO slot (rule 3). A task woken just
/// before its worker blocks waits between one and two intervals.
pub(super) const RESCUE_INTERVAL: Duration = Duration::from_millis(10);

/// One worker's LIFO slot and poll counter, on a cache line of their own
/// (the owner writes both on every task).
pub(crate) struct LifoSlot(CachePadded<Inner>);

struct Inner {
    /// Rule 1: a `Notified` reference turned into a raw pointer, or null.
    task: AtomicPtr<Header>,
    /// Rule 2: tasks the owner has started running.
    polls: AtomicU64,
}

impl LifoSlot {
    pub(crate) fn new() -> LifoSlot {
        LifoSlot(CachePadded::new(Inner {
            task: AtomicPtr::new(null_mut()),
            polls: AtomicU64::new(0),
        }))
    }

    /// Owner only (rule 1): puts `task` in the slot and returns the task it
    /// replaced, if any.
    pub(crate) fn put(&self, task: Notified) -> Option<Notified> {
        let new = task.0.into_raw().as_ptr();
        // Relaxed: only the owner makes the slot non-null, so an empty slot
        // stays empty until our store.
        if self.0.task.load(Relaxed).is_null() {
            // Release: pairs with the Acquire of `take`, so a thief sees
            // the reference we hand over.
            self.0.task.store(new, Release);
            None
        } else {
            // AcqRel: Release as above; Acquire for the task we take back.
            from_raw(self.0.task.swap(new, AcqRel))
        }
    }

    /// Anyone (rule 1): takes the task in the slot, if any.
    pub(crate) fn take(&self) -> Option<Notified> {
        if self.0.task.load(Relaxed).is_null() {
            return None;
        }
        // Acquire: pairs with the Release of `put`.
        from_raw(self.0.task.swap(null_mut(), Acquire))
    }

    /// True if a task is in the slot right now.
    pub(super) fn is_occupied(&self) -> bool {
        !self.0.task.load(Relaxed).is_null()
    }

    /// Owner only (rule 2), before each task it runs.
    pub(super) fn begin_poll(&self) {
        // Relaxed: only a progress marker, compared for equality (rule 3);
        // the task it might lead to is handed over through `task`.
        let n = self.0.polls.load(Relaxed);
        self.0.polls.store(n.wrapping_add(1), Relaxed);
    }

    /// The owner's poll counter (rule 3).
    pub(super) fn polls(&self) -> u64 {
        self.0.polls.load(Relaxed)
    }
}

/// Turns a pointer taken out of a slot back into the `Notified` it was.
fn from_raw(ptr: *mut Header) -> Option<Notified> {
    let ptr = NonNull::new(ptr)?;
    // SAFETY: a non-null slot value is a `Notified` reference put there by
    // `put` (rule 1), and the swap that took it out made us its only owner.
    Some(Notified(unsafe { Task::from_raw(ptr) }))
}

impl Drop for LifoSlot {
    fn drop(&mut self) {
        // The worker drains its slot on exit; release anything left anyway.
        drop(self.take());
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

    use super::*;
    use crate::task::core::Schedule;
    use crate::task::list::OwnedTasks;
    use crate::task::{Id, JoinHandle};

    /// A scheduler that only owns: the tests run the `Notified`s by hand.
    #[derive(Clone)]
    struct Owner(Arc<OwnedTasks>);

    impl Schedule for Owner {
        fn schedule(&self, _task: Notified) {
            unreachable!("these tasks never wake")
        }
        fn release(&self, task: NonNull<Header>) -> Option<Task> {
            self.0.remove(task)
        }
    }

    /// A task that bumps `runs` when polled; its handle and its `Notified`.
    fn task(owner: &Owner, runs: &Arc<AtomicUsize>) -> (JoinHandle<()>, Notified) {
        let runs = runs.clone();
        let fut = async move {
            runs.fetch_add(1, SeqCst);
        };
        let site = crate::task::site::SpawnMeta::here().into_site(false);
        let (join, notified) = owner.0.bind(fut, owner.clone(), Id::next(), site);
        (join, notified.expect("the list is open"))
    }

    #[test]
    fn put_take_and_replace() {
        let owner = Owner(Arc::new(OwnedTasks::new(1)));
        let runs = Arc::new(AtomicUsize::new(0));
        let slot = LifoSlot::new();
        let (ja, a) = task(&owner, &runs);
        let (jb, b) = task(&owner, &runs);
        let (a_id, b_id) = (a.id(), b.id());
        assert!(slot.take().is_none());
        assert!(slot.put(a).is_none());
        assert!(slot.is_occupied());
        let replaced = slot.put(b).expect("the previous task comes back");
        assert_eq!(replaced.id(), a_id);
        let taken = slot.take().expect("b is in the slot");
        assert_eq!(taken.id(), b_id);
        assert!(!slot.is_occupied() && slot.take().is_none());
        replaced.run();
        taken.run();
        assert_eq!(runs.load(SeqCst), 2);
        drop((ja, jb));
        assert_eq!(owner.0.len(), 0);
    }

    #[test]
    fn polls_count_up() {
        let slot = LifoSlot::new();
        let before = slot.polls();
        slot.begin_poll();
        slot.begin_poll();
        assert_eq!(slot.polls(), before.wrapping_add(2));
    }

    /// The owner keeps putting while a thief keeps taking: every task is
    /// run exactly once, by whoever took it.
    #[test]
    fn owner_and_thief_take_each_task_once() {
        const N: usize = if cfg!(miri) { 20 } else { 2_000 };
        let owner = Owner(Arc::new(OwnedTasks::new(1)));
        let runs = Arc::new(AtomicUsize::new(0));
        let slot = Arc::new(LifoSlot::new());
        let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let thief = {
            let (slot, done) = (slot.clone(), done.clone());
            std::thread::spawn(move || {
                let mut stolen = 0;
                while !done.load(SeqCst) {
                    if let Some(t) = slot.take() {
                        t.run();
                        stolen += 1;
                    }
                }
                stolen
            })
        };
        let mut joins = Vec::with_capacity(N);
        for _ in 0..N {
            let (join, t) = task(&owner, &runs);
            joins.push(join);
            if let Some(prev) = slot.put(t) {
                prev.run();
            }
        }
        done.store(true, SeqCst);
        let _stolen = thief.join().unwrap();
        if let Some(last) = slot.take() {
            last.run();
        }
        assert_eq!(runs.load(SeqCst), N, "every task ran exactly once");
        drop(joins);
        assert_eq!(owner.0.len(), 0);
    }
}
