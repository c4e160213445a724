//! `Deadline`: the time limit of a shutdown, and the one loop that waits
//! on a condition variable until a condition holds or that limit passes.
//!
//! A runtime's shutdown waits twice (for its workers to clean up, then for
//! the blocking pool's threads); it takes one `Deadline` at the start and
//! hands it to both, so the two waits share the caller's time limit
//! instead of each starting its own. A user-built `BlockingPool` uses the
//! same loop for `shutdown_timeout`.
//!
//! Below `runtime` and `blocking` in the layers (docs/ARCHITECTURE.md): it
//! imports nothing of windlass but the loom facade.

use std::time::{Duration, Instant};

use crate::loom::sync::{Condvar, MutexGuard};

/// When a wait gives up: an instant, or never.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Deadline(
    /// `None`: never (no timeout, or one too long to represent).
    Option<Instant>,
);

impl Deadline {
    /// A deadline that never passes.
    pub(crate) const NEVER: Deadline = Deadline(None);

    /// `timeout` from now; `None`, or a timeout past the end of `Instant`'s
    /// range, never passes.
    pub(crate) fn after(timeout: Option<Duration>) -> Deadline {
        Deadline(timeout.and_then(|t| Instant::now().checked_add(t)))
    }

    /// Time left until the deadline (zero once it passed); `None` if it
    /// never passes.
    pub(crate) fn left(self) -> Option<Duration> {
        self.0.map(|d| d.saturating_duration_since(Instant::now()))
    }

    /// Waits on `cvar` (with `guard` held) until `done` holds or the
    /// deadline passes, whichever is first; returns whether `done` holds.
    /// Whoever makes `done` true notifies `cvar` with the lock held or
    /// after releasing it, as for any condition variable.
    pub(crate) fn wait<T>(
        self,
        cvar: &Condvar,
        guard: &mut MutexGuard<'_, T>,
        mut done: impl FnMut(&T) -> bool,
    ) -> bool {
        while !done(guard) {
            match self.left() {
                None => cvar.wait(guard),
                Some(left) if left.is_zero() => return false,
                // Timed out or not, the loop looks at `done` again.
                Some(left) => _ = cvar.wait_timeout(guard, left),
            }
        }
        true
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::loom::sync::Mutex;

    #[test]
    fn zero_timeout_gives_up_at_once_unless_done() {
        let (lock, cvar) = (Mutex::new(false), Condvar::new());
        let mut guard = lock.lock();
        assert!(!Deadline::after(Some(Duration::ZERO)).wait(&cvar, &mut guard, |d| *d));
        *guard = true;
        assert!(Deadline::after(Some(Duration::ZERO)).wait(&cvar, &mut guard, |d| *d));
    }

    #[test]
    fn a_huge_timeout_never_passes() {
        assert_eq!(Deadline::after(Some(Duration::MAX)).left(), None);
        assert_eq!(Deadline::after(None).left(), None);
        assert_eq!(Deadline::NEVER.left(), None);
    }

    #[test]
    fn wakes_when_done_is_set_by_another_thread() {
        let shared = std::sync::Arc::new((Mutex::new(false), Condvar::new()));
        let setter = shared.clone();
        let t = std::thread::spawn(move || {
            *setter.0.lock() = true;
            setter.1.notify_all();
        });
        let mut guard = shared.0.lock();
        assert!(Deadline::NEVER.wait(&shared.1, &mut guard, |d| *d));
        drop(guard);
        t.join().unwrap();
    }

    #[test]
    fn times_out_when_nobody_sets_done() {
        let (lock, cvar) = (Mutex::new(false), Condvar::new());
        let mut guard = lock.lock();
        let deadline = Deadline::after(Some(Duration::from_millis(20)));
        assert!(!deadline.wait(&cvar, &mut guard, |d| *d));
        assert_eq!(deadline.left(), Some(Duration::ZERO));
    }
}
