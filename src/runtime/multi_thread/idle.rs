//! Which workers sleep, which search, and who wakes whom.
//!
//! # Protocol
//!
//! One atomic word counts *unparked* workers (awake: running or searching)
//! and, among them, *searching* workers (awake, out of local work, looking
//! in other queues). A mutex-guarded list names the sleeping workers.
//!
//! - **Notify** (after a task is pushed where another worker could take it):
//!   read the word with an RMW. If some worker is searching, or none is
//!   asleep, do nothing: a searcher will find the task, or a busy worker
//!   will reach it. Otherwise pop one sleeper, count it as unparked and
//!   searching, and unpark it.
//! - **Search**: a worker out of local work becomes a searcher only while
//!   fewer than half of the workers search, so wake-ups do not stampede.
//! - **Found work**: a searcher that finds a task stops searching; if it was
//!   the last searcher it notifies (above), so that work it left behind is
//!   picked up by someone.
//! - **Park**: a worker with no work adds itself to the sleepers and
//!   decrements the counts with an RMW, then re-checks: it reads the word
//!   once more and, only if no *other* worker is searching, every queue.
//!   If a searcher exists, or no queue holds anything, it sleeps; only if
//!   work is visible and nobody searches does it take itself off the list
//!   and search again. A sleeper sleeps until unparked, and on waking
//!   checks that it was really taken off the list (else it sleeps again).
//!   Why a searcher is enough: see "A searcher takes over the re-check".
//! - **Woken by the poller**: a sleeper whose wait on the poller returned
//!   with tasks to wake takes itself off the sleepers and counts itself as
//!   unparked but *not* searching: it has work (the tasks it is about to
//!   queue locally) and looked for none. Only if a notifier took it off the
//!   list first (and so counted it as searching) is it a searcher, bound by
//!   the found-work step.
//!
//! # Why no wake-up is lost
//!
//! A pusher P pushes, then does its RMW on the word. A parking worker W does
//! its RMW, then re-checks the queues. RMWs on one word are totally ordered.
//! If W's RMW comes first, P reads W's decrement: P sees a sleeper and wakes
//! one unless a searcher exists, and that searcher is bound by the same rule
//! when it stops searching (it parks with a re-check, or it found work and,
//! if last, notifies). If P's RMW comes first, it is released to W's RMW, so
//! P's push happens-before W's re-check, which finds the task. Either way a
//! pushed task is never left with every worker asleep.
//!
//! # A searcher takes over the re-check
//!
//! The re-check exists so that a task pushed while W parks is not left
//! with everyone asleep. If W's read of the word, which comes after W's own
//! RMW in the word's order, still counts a searcher S, then S's leaving
//! the search (its found-work RMW, or its own park RMW) comes after W's
//! RMW too, and S is bound at that point exactly as W would have been:
//!
//! - S finds work: if it was the last searcher, its notify's RMW comes
//!   after W's decrement: it wakes a sleeper (W or another), which
//!   searches, unless it sees a searcher that appeared since (which carries
//!   the duty) or W already woken. If S was not the last, the remaining
//!   searchers carry the same duty, each leaving later in the order.
//! - S parks: its re-check sees every task whose pusher's RMW came before
//!   S's (the argument above), and either another searcher exists after
//!   S's RMW (and the duty passes on) or S takes itself off and searches.
//!   A pusher whose RMW comes after S's sees S asleep and notifies, unless
//!   a searcher exists then, which carries the duty.
//!
//! Searchers are finite and each hand-over moves later in the word's order,
//! so the chain ends with a worker that takes the work: one that leaves by
//! parking and reads a count of zero looks itself, and one that leaves by
//! finding work as the last searcher wakes a sleeper to look.
//!
//! The price is latency in one narrow case: a worker that was running used
//! to take the work at once, and now leaves it to a searcher that may not
//! be running yet (a sleeper a notifier has just counted, still being
//! woken; or, with more workers than CPUs, one the OS has descheduled). A
//! notifier that skips its wake-up because a searcher exists trusts
//! searchers the same way. This is the same argument that lets a notifier skip the
//! wake-up when a searcher exists; the re-check now uses it too. Before
//! this rule every parking worker that saw work came back, so with one
//! producer and W - 1 idle workers each of them looped search, park,
//! re-check, unpark, two lock acquisitions and two RMWs on this block per
//! pass (docs/PERFORMANCE.md, "Contention model"); now one searcher does
//! the looking and the others sleep until the found-work notify chain
//! reaches them. The word is read before the queues, so a worker that
//! defers to a searcher also skips the scan of every worker's queue.
//!
//! A worker woken by the poller does not break this: while it is counted
//! searching it is a searcher like any other; otherwise it is an awake
//! worker with local work, which suppresses no notify (a pusher that reads
//! its count sees a busy worker, exactly as if it had never slept), so it
//! owes nobody the found-work notify. The tasks it queues follow the
//! ordinary push rule of `worker.rs`. Counting it as searching instead (as
//! before this rule) made its first task's found-work step wake a peer on
//! every poller wait that returned work, even a lone task: a futex wake,
//! and a peer that found nothing and went back to sleep.

use crate::loom::sync::Mutex;
use crate::loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};

/// Searching workers in the low bits, unparked workers above them.
const UNPARK_SHIFT: usize = 16;
const SEARCH_MASK: usize = (1 << UNPARK_SHIFT) - 1;
const UNPARK_ONE: usize = 1 << UNPARK_SHIFT;

pub(crate) struct Idle {
    /// See the module docs. Every access is a SeqCst RMW or load: the proof
    /// above leans on the total order of RMWs on this word.
    state: AtomicUsize,
    /// Indexes of sleeping workers. Changed together with `state`, under
    /// this lock, so the two agree for anyone holding it.
    sleepers: Mutex<Vec<usize>>,
    num_workers: usize,
}

fn searching(state: usize) -> usize {
    state & SEARCH_MASK
}

fn unparked(state: usize) -> usize {
    state >> UNPARK_SHIFT
}

impl Idle {
    pub(crate) fn new(num_workers: usize) -> Idle {
        assert!(
            num_workers < SEARCH_MASK,
            "windlass: too many worker threads"
        );
        Idle {
            state: AtomicUsize::new(num_workers * UNPARK_ONE),
            sleepers: Mutex::new(Vec::with_capacity(num_workers)),
            num_workers,
        }
    }

    /// Notify step: the worker to unpark, if one must be woken. The caller
    /// pushed its task before calling.
    pub(crate) fn worker_to_notify(&self) -> Option<usize> {
        if !self.should_notify() {
            return None;
        }
        self.worker_to_notify_slow()
    }

    #[inline]
    fn should_notify(&self) -> bool {
        // An RMW, not a load: it must take part in the total order of RMWs
        // with `transition_worker_to_parked` (see "Why no wake-up is lost").
        let state = self.state.fetch_add(0, SeqCst);
        searching(state) == 0 && unparked(state) < self.num_workers
    }

    #[cold]
    fn worker_to_notify_slow(&self) -> Option<usize> {
        let mut sleepers = self.sleepers.lock();
        if !self.should_notify() {
            return None;
        }
        let index = sleepers.pop()?;
        self.state.fetch_add(UNPARK_ONE | 1, SeqCst);
        Some(index)
    }

    /// Search step: true if the worker may start searching.
    pub(crate) fn transition_worker_to_searching(&self) -> bool {
        let state = self.state.load(SeqCst);
        if 2 * searching(state) >= self.num_workers {
            return false;
        }
        self.state.fetch_add(1, SeqCst);
        true
    }

    /// Found-work step: true if the caller was the last searcher and must
    /// notify.
    pub(crate) fn transition_worker_from_searching(&self) -> bool {
        let prev = self.state.fetch_sub(1, SeqCst);
        debug_assert!(searching(prev) > 0);
        searching(prev) == 1
    }

    /// Park step, first half: registers the worker as asleep. The caller
    /// must re-check the queues before it actually sleeps.
    pub(crate) fn transition_worker_to_parked(&self, index: usize, is_searching: bool) {
        let mut sleepers = self.sleepers.lock();
        let dec = UNPARK_ONE + usize::from(is_searching);
        let prev = self.state.fetch_sub(dec, SeqCst);
        debug_assert!(unparked(prev) > 0);
        // Every searcher is an awake worker: a worker that left the count
        // of searchers out of step with its own flag (say, a poller-woken
        // worker that forgot a notifier had counted it searching) trips
        // this in the loom models.
        let now = prev - dec;
        debug_assert!(
            searching(now) <= unparked(now),
            "windlass: idle counts more searchers than awake workers"
        );
        sleepers.push(index);
    }

    /// Park step, the re-check's first read: true if a worker other than
    /// the caller is searching, in which case the caller sleeps without
    /// looking at the queues ("A searcher takes over the re-check"). The
    /// caller's own search count was taken off by its
    /// [`transition_worker_to_parked`](Self::transition_worker_to_parked);
    /// the count includes the caller again only if a notifier has since
    /// taken it off the sleepers (and counted it searching), and then its
    /// unpark is on the way: sleeping returns at once and it searches.
    pub(crate) fn another_is_searching(&self) -> bool {
        // SeqCst load after the caller's own RMW: by coherence it reads a
        // value at or after that RMW in the word's order, which is all the
        // argument needs (a searcher counted here leaves the search later
        // in that order). No RMW: the caller writes nothing it must order.
        searching(self.state.load(SeqCst)) > 0
    }

    /// Park step, re-check found work: takes the worker off the sleepers
    /// and counts it as searching. False if a notifier already did so (and
    /// will unpark it).
    pub(crate) fn unpark_worker_by_id(&self, index: usize) -> bool {
        let mut sleepers = self.sleepers.lock();
        let Some(pos) = sleepers.iter().position(|&i| i == index) else {
            return false;
        };
        sleepers.swap_remove(pos);
        self.state.fetch_add(UNPARK_ONE | 1, SeqCst);
        true
    }

    /// Woken-by-the-poller step: takes the worker off the sleepers and
    /// counts it as unparked, not searching. Returns whether the worker is
    /// searching: true if a notifier already took it off the list (and
    /// counted it as searching; its unpark token comes later).
    pub(crate) fn transition_worker_from_poller(&self, index: usize) -> bool {
        let mut sleepers = self.sleepers.lock();
        let Some(pos) = sleepers.iter().position(|&i| i == index) else {
            return true;
        };
        sleepers.swap_remove(pos);
        // Under the lock, as every change of the sleepers list; an RMW, so
        // it takes part in the total order of "Why no wake-up is lost".
        self.state.fetch_add(UNPARK_ONE, SeqCst);
        false
    }

    /// True if the worker is still on the sleepers list (its wake-up was
    /// spurious or stale).
    pub(crate) fn is_parked(&self, index: usize) -> bool {
        self.sleepers.lock().contains(&index)
    }

    /// `(unparked, searching)` right now: for the loom models, and for a
    /// parking worker deciding whether to sleep with a rescue timeout
    /// (`lifo` rule 3; a stale answer only costs one timed sleep more or
    /// one rescue later).
    pub(crate) fn counts(&self) -> (usize, usize) {
        let state = self.state.load(SeqCst);
        (unparked(state), searching(state))
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::Idle;

    /// Two workers asleep: worker 0 in the poller, worker 1 in its parker.
    fn both_asleep() -> Idle {
        let idle = Idle::new(2);
        idle.transition_worker_to_parked(1, false);
        idle.transition_worker_to_parked(0, false);
        assert_eq!(idle.counts(), (0, 0));
        idle
    }

    /// "A searcher takes over the re-check": with three workers two may
    /// search; a worker parking while another searches defers to it, and
    /// the last to leave the search reads nobody and must look itself.
    #[test]
    fn a_parking_worker_defers_only_to_another_searcher() {
        let idle = Idle::new(3);
        assert!(idle.transition_worker_to_searching());
        assert!(idle.transition_worker_to_searching());
        assert!(
            !idle.transition_worker_to_searching(),
            "at most half search"
        );
        assert_eq!(idle.counts(), (3, 2));
        // Worker 2 was not searching: two others are.
        idle.transition_worker_to_parked(2, false);
        assert!(idle.another_is_searching());
        // Worker 1 leaves the search by parking: worker 0 still searches.
        idle.transition_worker_to_parked(1, true);
        assert!(idle.another_is_searching());
        // Worker 0 is the last: its own count is gone, nobody is left.
        idle.transition_worker_to_parked(0, true);
        assert!(!idle.another_is_searching());
        assert_eq!(idle.counts(), (0, 0));
        // Its re-check found work: off the list, searching, and a notify
        // now sees that searcher and wakes nobody.
        assert!(idle.unpark_worker_by_id(0));
        assert_eq!(idle.counts(), (1, 1));
        assert_eq!(idle.worker_to_notify(), None);
    }

    /// "Woken by the poller": awake, not searching, so it owes no
    /// found-work notify, and a push elsewhere still wakes the other
    /// sleeper (nothing is suppressed).
    #[test]
    fn woken_by_poller_is_awake_not_searching() {
        let idle = both_asleep();
        assert!(!idle.transition_worker_from_poller(0));
        assert_eq!(idle.counts(), (1, 0));
        assert!(!idle.is_parked(0));
        assert_eq!(idle.worker_to_notify(), Some(1));
        assert_eq!(idle.counts(), (2, 1));
    }

    /// A notifier that took the worker off the sleepers first counted it
    /// as searching: it stays a searcher, and its found-work step says it
    /// was the last one.
    #[test]
    fn woken_by_poller_after_a_notifier_is_searching() {
        let idle = both_asleep();
        assert_eq!(idle.worker_to_notify(), Some(0));
        assert!(idle.transition_worker_from_poller(0));
        assert_eq!(idle.counts(), (1, 1));
        assert!(idle.transition_worker_from_searching());
        assert_eq!(idle.counts(), (1, 0));
    }
}
