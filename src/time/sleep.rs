//! `sleep` and `Sleep`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::reactor::{Reactor, timer_after_shutdown};

/// Waits until `duration` has passed: asyncio's `await asyncio.sleep(x)`.
///
/// Must be created inside a runtime (a task, `block_on` or
/// `Runtime::enter`); panics otherwise, with a message saying so.
///
/// ```
/// use std::time::{Duration, Instant};
///
/// windlass::Runtime::new().unwrap().block_on(async {
///     let start = Instant::now();
///     // Three sleeps in parallel take as long as the longest one.
///     let tasks: Vec<_> = [30, 20, 10]
///         .map(|ms| windlass::spawn(windlass::time::sleep(Duration::from_millis(ms))))
///         .into_iter()
///         .collect();
///     for t in tasks { t.await.unwrap(); }
///     assert!(start.elapsed() < Duration::from_millis(60));
/// });
/// ```
#[track_caller]
pub fn sleep(duration: Duration) -> Sleep {
    Sleep::new(Instant::now().checked_add(duration))
}

/// Waits until `deadline`.
#[track_caller]
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep::new(Some(deadline))
}

/// Future of [`sleep`] and [`sleep_until`]. `Unpin`; can be reset.
pub struct Sleep {
    /// `None`: too far in the future to represent; never fires.
    deadline: Option<Instant>,
    reactor: Arc<Reactor>,
    /// `(deadline, id)` while registered with the reactor.
    registered: Option<(Instant, u64)>,
}

impl Sleep {
    #[track_caller]
    pub(crate) fn new(deadline: Option<Instant>) -> Sleep {
        let reactor = match crate::runtime::Handle::try_current() {
            Ok(h) => h
                .driver
                .get()
                .unwrap_or_else(|e| panic!("windlass::time: cannot start the reactor: {e}")),
            Err(_) => panic!(
                "windlass::time::sleep (or timeout/interval) called outside a windlass runtime; create timers \
                 inside a task, Runtime::block_on or Runtime::enter"
            ),
        };
        Sleep {
            deadline,
            reactor,
            registered: None,
        }
    }

    /// The instant this sleep completes at (`None` if never).
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// True if the deadline has passed.
    pub fn is_elapsed(&self) -> bool {
        self.deadline.is_some_and(|d| d <= Instant::now())
    }

    /// Moves the deadline, re-arming the sleep even if it had completed.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// windlass::Runtime::new().unwrap().block_on(async {
    ///     let mut s = windlass::time::sleep(Duration::from_secs(3600));
    ///     s.reset(Instant::now() + Duration::from_millis(5));
    ///     (&mut s).await;
    ///     assert!(s.is_elapsed());
    /// });
    /// ```
    pub fn reset(&mut self, deadline: Instant) {
        self.deregister();
        self.deadline = Some(deadline);
    }

    fn deregister(&mut self) {
        if let Some((d, id)) = self.registered.take() {
            self.reactor.remove_timer(d, id);
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let Some(deadline) = self.deadline else {
            return Poll::Pending;
        };
        if deadline <= Instant::now() {
            self.deregister();
            return Poll::Ready(());
        }
        if self.reactor.is_shutdown() {
            timer_after_shutdown();
        }
        match self.registered {
            Some((d, id)) => {
                if !self.reactor.update_timer(d, id, cx.waker()) {
                    // Fired between our clock read and now: the reactor's
                    // clock said it was due.
                    self.registered = None;
                    return Poll::Ready(());
                }
            }
            None => {
                let id = self.reactor.insert_timer(deadline, cx.waker().clone());
                self.registered = Some((deadline, id));
            }
        }
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        self.deregister();
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline)
            .finish()
    }
}
