//! Which threads of a runtime are busy, for the auto-advance of a paused
//! clock: while time is paused and nothing in the runtime can make progress
//! on its own, the clock jumps to the next timer (see `clock.rs`).
//!
//! # Protocol
//!
//! Terms: a *unit* is one count in the activity word; the *decider* is
//! whoever holds the reactor's turn (a sleeping worker of a multi-thread
//! runtime, the reactor thread of a current-thread one) and is itself never
//! counted; a *visible queue* is a run queue the decider can look at (the
//! injector and the workers' queues, or the current-thread queue: the
//! scheduler hands the decider a hook that says whether any holds a task).
//!
//! 1. **One word.** The activity word holds the number of units (low 32
//!    bits) and an *epoch* (high 32 bits) that every [`enter`] bumps. Every
//!    access is a SeqCst read-modify-write, so all of them are totally
//!    ordered.
//! 2. **Who holds a unit.** An awake worker (it leaves just before it
//!    sleeps, and enters as soon as it wakes, before it wakes any task it
//!    collected from the reactor); a `block_on` thread that is polling or
//!    has been woken (a [`Presence`]); a queued or running blocking-pool
//!    job (entered by whoever submits it, left by the pool thread after the
//!    job completed and woke its awaiter).
//! 3. **Hand-off before leave.** A thread that makes work for another
//!    (pushes a task, wakes a `block_on` future, submits a blocking job)
//!    does so *before* it leaves. Work that lands in a visible queue needs
//!    nothing more; any other hand-off enters a unit on the receiver's
//!    behalf during the hand-off ([`Presence::wake`]), which the receiver
//!    takes over.
//! 4. **Idle test.** The decider reads the word (`w1`); if it has units,
//!    the runtime is busy. Otherwise it asks the hook whether a visible
//!    queue holds a task; if so, busy. Otherwise it reads the word again
//!    (`w2`): idle if and only if `w1 == w2`.
//! 5. **Waiting for idle.** A decider that found the runtime busy while
//!    timers are pending sets `waiting` (SeqCst) *before* its idle test and
//!    then waits on the poller; a [`leave`] that drops the count to zero
//!    reads `waiting` after its RMW and, if set, wakes the poller.
//! 6. **A sleeping watcher.** A thread outside the count that only has
//!    work while some unit is held (debug mode's watchdog,
//!    `runtime::debug::watchdog` rule 8) may sleep while the count is zero.
//!    It stores `watcher` (SeqCst), then reads the word with an RMW: if the
//!    count is zero it sleeps until its wake hook is called, else it
//!    clears `watcher` and goes on. An [`enter`] whose RMW found the count
//!    at zero then loads `watcher` (SeqCst) and, if set, calls the hook.
//!    As in rule 5, the two RMWs are ordered: if the watcher's comes
//!    first, the enter's reads from it (or a later RMW) and so sees
//!    `watcher` set; if the enter's comes first, the watcher reads a
//!    non-zero count, or a zero left by a later leave (then nothing is
//!    awake and sleeping is right; the next enter finds the count at zero
//!    again). An enter that finds units already held loads nothing more.
//! 7. **The jump.** Between rule 4's test and the jump itself the decider
//!    looks at I/O once (a syscall): a thread may enter meanwhile (a
//!    `block_on` starting, a blocking job submitted from outside), read
//!    the clock and register a timer earlier than the one the decider
//!    chose. So the jump re-reads the word, with an RMW, *under the
//!    clock's lock*, and jumps only if it still equals `w2`
//!    ([`Activity::still_idle`], `Clock::jump_to`). If an enter's RMW
//!    comes before that read, the epoch moved: no jump (the next turn
//!    tests again). If it comes after, it reads from the decider's RMW,
//!    which was made while holding the clock's lock, so the entering
//!    thread's first read of the clock (under the same lock, after its
//!    enter) sees the jumped time, and any timer it registers is measured
//!    from there.
//!
//! # Why the decider never jumps while work is pending
//!
//! Suppose rule 4 says idle while some work W is pending. W was made by a
//! thread P that held a unit (rule 2: only runtime threads make work; work
//! from threads outside the runtime is invisible to the protocol, see
//! below). By rule 3, P handed W off before leaving.
//!
//! - If W sits in a visible queue: P's push happens before P's leave, and
//!   `w1` reads a count of zero, so it reads P's leave or a later RMW (total
//!   order, rule 1), which synchronises with it: the hook sees W unless a
//!   worker took W first. A worker takes a task only while holding a unit,
//!   entered after `w1` (the count was zero) and before the pop; the hook's
//!   read comes before `w2`, so that enter falls between `w1` and `w2` and
//!   bumped the epoch: `w1 != w2`.
//! - If W is a woken `block_on` future: P entered a unit on its behalf
//!   before leaving, so the count is non-zero from the wake until the
//!   `block_on` thread has polled and leaves; [`Presence::before_park`]
//!   never leaves while its `woken` flag is set (its re-check after giving
//!   up the flag pairs with the waker's set-then-RMW; see [`Presence`]).
//! - If W is a blocking job: its unit was entered at submit and is left
//!   after the job completed and woke its awaiter (a visible-queue or
//!   `block_on` hand-off, the two cases above).
//!
//! The epoch makes the two reads a snapshot: no enter happened between
//! them, so nothing became busy in between, and the count was zero at both.
//!
//! # No lost wake-up of the decider (rule 5)
//!
//! The decider stores `waiting`, then does its RMW on the word; a leaver
//! does its RMW on the word, then reads `waiting`. The two RMWs are ordered
//! (rule 1). If the decider's comes first, the leaver's reads from it (or a
//! later RMW) and so sees `waiting == true`: it wakes the poller (a wake
//! before the wait makes the wait return at once). If the leaver's comes
//! first, the decider reads a count of zero. (Only acquire/release through
//! the word is needed, which loom can check; no store-load SeqCst
//! reasoning.)
//!
//! # Outside the protocol
//!
//! Threads the runtime does not know (a `std::thread` sending on a channel)
//! hold no unit: a paused runtime waiting only on such a thread jumps its
//! clock. The same holds for Trio's autojump clock and tokio's auto-advance.
//!
//! [`enter`]: Activity::enter
//! [`leave`]: Activity::leave

use crate::loom::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::SeqCst};

/// One unit in the count; the count is the low 32 bits.
const UNIT: u64 = 1;
const COUNT_MASK: u64 = (1 << 32) - 1;
/// What [`Activity::enter`] adds: a unit and an epoch step.
const ENTER: u64 = UNIT | (1 << 32);

/// Rule 4's hook: true if a visible queue holds a task.
pub(crate) type Hook = crate::loom::std::sync::Arc<dyn Fn() -> bool + Send + Sync>;
/// Rule 5's wake: interrupts the decider's wait.
pub(crate) type WakeHook = Box<dyn Fn() + Send + Sync>;

/// The activity word and the decider's `waiting` flag (module docs).
pub(crate) struct Activity {
    /// Units (low 32 bits) and epoch (high 32 bits); rule 1.
    word: AtomicU64,
    /// Rule 5: a decider waits for the count to reach zero.
    waiting: AtomicBool,
    /// Rule 4's hook. It holds the scheduler, which holds this activity:
    /// the scheduler clears it at shutdown to break the cycle. (A plain
    /// lock, not loom's: see `stop_waiting`.)
    queued: crate::loom::std::sync::Mutex<Option<Hook>>,
    /// Rule 5's wake: interrupts the decider's wait.
    wake_decider: crate::loom::std::sync::OnceLock<WakeHook>,
    /// Rule 6: a watcher sleeps until the count leaves zero.
    watcher: AtomicBool,
    /// Rule 6's wake of the watcher.
    wake_watcher: crate::loom::std::sync::OnceLock<WakeHook>,
}

impl Activity {
    pub(crate) fn new() -> Activity {
        Activity {
            word: AtomicU64::new(0),
            waiting: AtomicBool::new(false),
            queued: crate::loom::std::sync::Mutex::new(None),
            wake_decider: crate::loom::std::sync::OnceLock::new(),
            watcher: AtomicBool::new(false),
            wake_watcher: crate::loom::std::sync::OnceLock::new(),
        }
    }

    /// Sets rule 4's hook (by the scheduler that owns the queues; `None` at
    /// its shutdown).
    pub(crate) fn set_queued_hook(&self, hook: Option<Hook>) {
        *self.queued.lock() = hook;
    }

    /// Sets rule 5's wake (once, when the reactor starts).
    pub(crate) fn set_wake_hook(&self, hook: WakeHook) {
        let _ = self.wake_decider.set(hook);
    }

    /// Takes a unit (rule 2): for this thread, or on another's behalf
    /// (rule 3).
    pub(crate) fn enter(&self) {
        // SeqCst RMW: rule 1; its epoch step is what the decider's second
        // read (rule 4) detects.
        let prev = self.word.fetch_add(ENTER, SeqCst);
        // Rule 6, only on the way out of zero: a load after the RMW.
        if prev & COUNT_MASK == 0 && self.watcher.load(SeqCst) {
            self.wake_watcher_now();
        }
    }

    #[cold]
    fn wake_watcher_now(&self) {
        if let Some(wake) = self.wake_watcher.get() {
            wake();
        }
    }

    /// Sets rule 6's wake of the watcher (once, when the watcher starts).
    pub(crate) fn set_watcher_hook(&self, hook: WakeHook) {
        let _ = self.wake_watcher.set(hook);
    }

    /// Rule 6, the watcher's side: true if it may sleep now (the count is
    /// zero; `watcher` stays set, so the next enter calls the hook);
    /// false, with `watcher` cleared, if some unit is held. A plain load
    /// first, so that a watcher looking at a busy runtime writes nothing.
    pub(crate) fn watch_idle(&self) -> bool {
        if self.word.load(SeqCst) & COUNT_MASK != 0 {
            return false;
        }
        // SeqCst store before the RMW: the watcher's half of rule 6.
        self.watcher.store(true, SeqCst);
        if self.word.fetch_add(0, SeqCst) & COUNT_MASK == 0 {
            return true;
        }
        self.stop_watching();
        false
    }

    /// Rule 6: the watcher is awake again.
    pub(crate) fn stop_watching(&self) {
        self.watcher.store(false, SeqCst);
    }

    /// Gives a unit back; wakes a waiting decider when the count reaches
    /// zero (rule 5).
    pub(crate) fn leave(&self) {
        // SeqCst RMW: rule 1; released to the decider's read of the word,
        // which then sees what this thread handed off before (rule 3).
        let prev = self.word.fetch_sub(UNIT, SeqCst);
        debug_assert!(prev & COUNT_MASK > 0, "Activity::leave without a unit");
        // SeqCst load after the RMW: the leaver's half of rule 5's
        // store-load pair.
        if prev & COUNT_MASK == 1 && self.waiting.load(SeqCst) {
            if let Some(wake) = self.wake_decider.get() {
                wake();
            }
        }
    }

    /// Rule 4, with rule 5's flag: true if the runtime is idle. Called by
    /// the decider only. When false, `waiting` stays set until
    /// [`stop_waiting`](Self::stop_waiting): a leave to zero wakes it.
    #[cfg_attr(not(loom), allow(dead_code))] // the loom models' entry
    pub(crate) fn is_idle(&self) -> bool {
        self.idle_word().is_some()
    }

    /// [`is_idle`](Self::is_idle), returning the word it read twice (`w2`)
    /// when idle, for rule 7's re-check ([`still_idle`](Self::still_idle)).
    pub(crate) fn idle_word(&self) -> Option<u64> {
        // SeqCst store before the reads: the decider's half of rule 5.
        self.waiting.store(true, SeqCst);
        // RMWs, not loads: they take part in rule 1's total order and
        // acquire from the leave they read.
        let w1 = self.word.fetch_add(0, SeqCst);
        if w1 & COUNT_MASK != 0 {
            return None;
        }
        // Called outside the lock: the hook reads the queues.
        let queued = self.queued.lock().clone();
        if queued.is_some_and(|queued| queued()) {
            return None;
        }
        let w2 = self.word.fetch_add(0, SeqCst);
        if w1 != w2 {
            return None;
        }
        self.stop_waiting();
        Some(w2)
    }

    /// Rule 7: true if no unit was entered since the idle test that read
    /// `w2` (the count is still zero and the epoch has not moved). Called
    /// by the decider under the clock's lock, just before it jumps.
    pub(crate) fn still_idle(&self, w2: u64) -> bool {
        // An RMW, as in `is_idle`: it takes part in rule 1's order.
        self.word.fetch_add(0, SeqCst) == w2
    }

    /// The decider stopped waiting (rule 5).
    pub(crate) fn stop_waiting(&self) {
        self.waiting.store(false, SeqCst);
    }

    /// Units held now (a plain read: for the loom models, and for rule
    /// 6's watcher, which counts quiet looks before it registers).
    pub(crate) fn units(&self) -> u64 {
        self.word.load(SeqCst) & COUNT_MASK
    }
}

/// The unit of a thread that parks and is woken by others: a `block_on`
/// thread (rule 2; the `woken` flag is its future's).
///
/// Both sides reach the state word with RMWs only, so the hand-off needs
/// no store-load (SeqCst) reasoning: the waker sets `woken`, then reads
/// the state with an RMW (and, finding `RELEASED`, enters a unit and
/// moves the state to `COUNTED`); the parking thread swaps `RELEASED` in,
/// then reads `woken`. If the waker's RMW comes first in the word's order, the
/// thread's swap reads from it (or a later RMW) and so sees `woken`; if the
/// thread's swap comes first, the waker's RMW reads `RELEASED` and enters a
/// unit on the thread's behalf.
///
/// `COUNTED` is only ever set by whoever has already entered the unit it
/// stands for: the waker enters first and then moves `RELEASED` to
/// `COUNTED` with a compare-exchange (leaving its unit again if the thread
/// got there first, or closed). Setting the flag first and entering after
/// left a window in which the thread saw `COUNTED`, ran, and left a unit
/// that was not in the count yet: the count dipped below the units the
/// presences held (a debug assertion in `leave`; in release a moment of
/// "idle" while the woken thread polled, in which the decider could jump).
#[derive(Debug)]
pub(crate) struct Presence {
    /// `COUNTED` while a unit is held for this thread, by itself or
    /// entered on its behalf by a waker; `RELEASED` while it sleeps without
    /// one; the `CLOSED` bit once the thread is done (later wakes enter
    /// nothing).
    state: AtomicUsize,
}

const RELEASED: usize = 0;
const COUNTED: usize = 1;
const CLOSED: usize = 2;

impl Presence {
    /// A presence holding a unit (the thread is about to poll).
    pub(crate) fn entered(activity: &Activity) -> Presence {
        activity.enter();
        Presence {
            state: AtomicUsize::new(COUNTED),
        }
    }

    /// The waker's side of rule 3. Call after setting the `woken` flag and
    /// before unparking the thread.
    pub(crate) fn wake(&self, activity: &Activity) {
        // RMW (AcqRel would do; SeqCst like the rest): releases the
        // caller's `woken` store to `before_park`'s swap (type docs). An
        // RMW that adds nothing: the unit must be in the count before
        // `COUNTED` says so (type docs).
        if self.state.fetch_or(RELEASED, SeqCst) != RELEASED {
            return; // counted already (or closed): the thread holds a unit
        }
        activity.enter();
        if self
            .state
            .compare_exchange(RELEASED, COUNTED, SeqCst, SeqCst)
            .is_err()
        {
            // The thread took a unit of its own meanwhile (`after_park`,
            // `before_park`'s re-check), another waker did, or the thread
            // is done: ours is one too many.
            activity.leave();
        }
    }

    /// Before parking: gives up the unit unless `woken()` says the future
    /// was woken meanwhile. True if the caller may park.
    pub(crate) fn before_park(&self, activity: &Activity, woken: impl Fn() -> bool) -> bool {
        // Release the flag first, keeping the unit: a waker from now on
        // enters a unit of its own.
        let held = self.state.swap(RELEASED, SeqCst);
        debug_assert_eq!(held, COUNTED, "Presence::before_park without a unit");
        // A waker whose RMW came before our swap is seen here (type docs).
        if woken() {
            if self.state.swap(COUNTED, SeqCst) == COUNTED {
                // A waker entered a unit after our swap: we hold two.
                activity.leave();
            }
            return false;
        }
        activity.leave();
        true
    }

    /// After parking: takes a unit unless a waker entered one for us.
    pub(crate) fn after_park(&self, activity: &Activity) {
        if self.state.fetch_or(COUNTED, SeqCst) == RELEASED {
            activity.enter();
        }
    }

    /// The thread is done (its `block_on` returns or unwinds): gives up the
    /// unit; wakes from now on enter nothing.
    pub(crate) fn exit(&self, activity: &Activity) {
        if self.state.swap(CLOSED, SeqCst) & COUNTED != 0 {
            activity.leave();
        }
    }
}
