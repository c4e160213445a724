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
///     // Three sleeps in parallel take about as long as one.
///     let tasks: Vec<_> = [40, 40, 40]
///         .map(|ms| windlass::spawn(windlass::time::sleep(Duration::from_millis(ms))))
///         .into_iter()
///         .collect();
///     for t in tasks { t.await.unwrap(); }
///     let took = start.elapsed();
///     assert!(took >= Duration::from_millis(40));
///     assert!(took < Duration::from_millis(100)); // one after another: 120 ms
/// });
/// ```
#[track_caller]
pub fn sleep(duration: Duration) -> Sleep {
    Sleep::new(Instant::now().checked_add(duration))
}

/// Waits until `deadline`: for steps on a fixed schedule, where a `sleep`
/// after each step would add up the steps' own time. Must be created
/// inside a runtime, like [`sleep`].
///
/// ```
/// use std::time::{Duration, Instant};
///
/// windlass::Runtime::new().unwrap().block_on(async {
///     let start = Instant::now();
///     for step in 1..=3 {
///         // ... work of any length shorter than 10 ms ...
///         windlass::time::sleep_until(start + Duration::from_millis(10) * step).await;
///     }
///     assert!(start.elapsed() >= Duration::from_millis(30));
/// });
/// ```
#[track_caller]
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep::new(Some(deadline))
}

/// Future of [`sleep`] and [`sleep_until`]. `Unpin`; can be reset.
///
/// Being `Unpin`, a `Sleep` can be kept in a variable and awaited through
/// `&mut`, for a deadline shared by several waits:
///
/// ```
/// use std::time::Duration;
/// use futures_lite::future;
///
/// windlass::Runtime::new().unwrap().block_on(async {
///     let (tx, mut rx) = windlass::sync::mpsc::unbounded_channel();
///     windlass::spawn(async move { for n in 1..=3 { tx.send(n).unwrap(); } });
///     let mut deadline = windlass::time::sleep(Duration::from_millis(50));
///     let mut got = Vec::new();
///     // Collect messages until the channel closes or the deadline passes.
///     loop {
///         let message = async { rx.recv().await };
///         let too_late = async { (&mut deadline).await; None };
///         match future::or(message, too_late).await {
///             Some(n) => got.push(n),
///             None => break,
///         }
///     }
///     assert_eq!(got, [1, 2, 3]);
/// });
/// ```
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
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    ///
    /// windlass::Runtime::new().unwrap().block_on(async {
    ///     let at = Instant::now() + Duration::from_secs(60);
    ///     assert_eq!(windlass::time::sleep_until(at).deadline(), Some(at));
    ///     // Too far to represent: never completes.
    ///     assert_eq!(windlass::time::sleep(Duration::MAX).deadline(), None);
    /// });
    /// ```
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// True if the deadline has passed (whether or not the sleep was
    /// awaited).
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// windlass::Runtime::new().unwrap().block_on(async {
    ///     let mut nap = windlass::time::sleep(Duration::from_millis(5));
    ///     assert!(!nap.is_elapsed());
    ///     (&mut nap).await;
    ///     assert!(nap.is_elapsed());
    /// });
    /// ```
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
