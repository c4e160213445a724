//! Parking a thread until something wakes it: the worker's sleep and
//! `block_on`'s wait.
//!
//! One state word, `EMPTY` / `PARKED` / `NOTIFIED`, in front of a mutex and a
//! condition variable. `unpark` on a thread that is not parked only swaps the
//! word to `NOTIFIED` (no lock, no syscall); the next `park` consumes it and
//! returns at once. A notification is never lost: `park` moves to `PARKED`
//! while holding the mutex, and `unpark` takes that mutex before notifying,
//! so the notify cannot fall between the check and the wait.
//!
//! A worker may instead sleep *in the reactor* ([`Parker::park_driving`]):
//! the word is `DRIVING` while it waits on the poller, and `unpark` then
//! returns true, telling the caller to interrupt that wait
//! ([`Reactor::notify`](crate::reactor::Reactor::notify)). A notification
//! is never lost here either: an `unpark` before the move to `DRIVING`
//! makes that move fail; one during the wait interrupts it (and one just
//! after the wait leaves only a spurious early return of a later wait);
//! the swap back to `EMPTY` after the wait consumes the token either way.

use crate::loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use crate::loom::sync::{Condvar, Mutex};

const EMPTY: usize = 0;
const PARKED: usize = 1;
const NOTIFIED: usize = 2;
const DRIVING: usize = 3;

/// A one-token parker (like `std::thread::park`, but for any thread).
#[derive(Debug)]
pub(crate) struct Parker {
    state: AtomicUsize,
    lock: Mutex<()>,
    cvar: Condvar,
}

impl Parker {
    pub(crate) fn new() -> Parker {
        Parker {
            state: AtomicUsize::new(EMPTY),
            lock: Mutex::new(()),
            cvar: Condvar::new(),
        }
    }

    /// Blocks until `unpark` is called (returns at once if it already was
    /// since the last `park`).
    pub(crate) fn park(&self) {
        // SeqCst on every access of `state`: it pairs with `unpark`'s swap so
        // that what the unparker wrote before `unpark` is seen after `park`.
        if self
            .state
            .compare_exchange(NOTIFIED, EMPTY, SeqCst, SeqCst)
            .is_ok()
        {
            return;
        }
        self.park_slow();
    }

    /// [`park`](Self::park), giving up after `timeout`. An `unpark` that
    /// comes after the timeout is kept for the next park, as always.
    pub(crate) fn park_timeout(&self, timeout: std::time::Duration) {
        // SeqCst throughout, for the same pairing with `unpark` as `park`.
        if self
            .state
            .compare_exchange(NOTIFIED, EMPTY, SeqCst, SeqCst)
            .is_ok()
        {
            return;
        }
        let mut guard = self.lock.lock();
        if !self.to_parked() {
            return;
        }
        // One wait: a spurious wake-up only shortens this sleep, which the
        // caller treats like a timeout.
        self.cvar.wait_timeout(&mut guard, timeout);
        // Back to EMPTY, consuming an unpark if one came: the state is
        // PARKED or NOTIFIED here, and only this thread leaves either.
        if self
            .state
            .compare_exchange(PARKED, EMPTY, SeqCst, SeqCst)
            .is_err()
        {
            self.state.swap(EMPTY, SeqCst);
        }
    }

    /// Under the lock: EMPTY -> PARKED, true if this thread may now wait;
    /// false if an `unpark` came first (its token is consumed).
    fn to_parked(&self) -> bool {
        match self.state.compare_exchange(EMPTY, PARKED, SeqCst, SeqCst) {
            Ok(_) => true,
            Err(NOTIFIED) => {
                // A swap, not a store: another `unpark` may have come since
                // the failed CAS read NOTIFIED, and we must read from its
                // write to see what it wrote before unparking us.
                let old = self.state.swap(EMPTY, SeqCst);
                debug_assert_eq!(old, NOTIFIED);
                false
            }
            Err(actual) => panic!(
                "windlass: parker in unexpected state {actual}; two threads parked on one parker"
            ),
        }
    }

    #[cold]
    fn park_slow(&self) {
        let mut guard = self.lock.lock();
        if !self.to_parked() {
            return;
        }
        loop {
            self.cvar.wait(&mut guard);
            if self
                .state
                .compare_exchange(NOTIFIED, EMPTY, SeqCst, SeqCst)
                .is_ok()
            {
                return;
            }
            // Spurious wake-up: still PARKED.
        }
    }

    /// Sleeps by running `drive`, a wait on the reactor that returns when
    /// the reactor is notified, unless `unpark` was called since the last
    /// park (then returns at once without calling it).
    pub(crate) fn park_driving(&self, drive: impl FnOnce()) {
        match self.state.compare_exchange(EMPTY, DRIVING, SeqCst, SeqCst) {
            Ok(_) => {}
            Err(NOTIFIED) => {
                // As in `park_slow`: a swap, to read from the latest unpark.
                self.state.swap(EMPTY, SeqCst);
                return;
            }
            Err(actual) => panic!(
                "windlass: parker in unexpected state {actual}; two threads parked on one parker"
            ),
        }
        drive();
        // DRIVING or NOTIFIED back to EMPTY: a token that came during the
        // wait is consumed (its reactor notification only cut the wait
        // short, or will make the next one return early).
        self.state.swap(EMPTY, SeqCst);
    }

    /// Wakes the parked thread, or makes its next `park` return at once.
    /// Returns true if the thread sleeps in the reactor: the caller must
    /// then notify the reactor to wake it.
    pub(crate) fn unpark(&self) -> bool {
        match self.state.swap(NOTIFIED, SeqCst) {
            PARKED => {
                self.unpark_slow();
                false
            }
            DRIVING => true,
            _ => false,
        }
    }

    #[cold]
    fn unpark_slow(&self) {
        // Taking the lock waits out a parker between its CAS to PARKED and
        // its wait, so the notification reaches it.
        drop(self.lock.lock());
        self.cvar.notify_one();
    }
}

impl Default for Parker {
    fn default() -> Self {
        Parker::new()
    }
}
