//! `sleep` and `Sleep`.

use crate::loom::std::sync::Arc;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::reactor::{Reactor, timer_after_shutdown};

/// Waits until `duration` has passed: asyncio's `await asyncio.sleep(x)`.
///
/// Binds to the runtime current when it is created, else to the one current
/// at its first poll; polling it outside any runtime panics, with a message
/// saying so. The duration is measured on the runtime's clock, which may be
/// [paused](super::pause).
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
    Sleep::after(duration)
}

/// Waits until `deadline`: for steps on a fixed schedule, where a `sleep`
/// after each step would add up the steps' own time. Accepts a
/// [`time::Instant`](super::Instant) or a `std::time::Instant`; binds to a
/// runtime like [`sleep`].
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
pub fn sleep_until(deadline: impl Into<super::Instant>) -> Sleep {
    Sleep::new(Some(deadline.into().into_std()))
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
    /// `None`: too far in the future to represent; never fires. On the
    /// clock's timeline (see `reactor/clock.rs`).
    deadline: Option<Instant>,
    /// The runtime's reactor: the one current at creation, else the one
    /// current at the first poll.
    reactor: Option<Arc<Reactor>>,
    /// `(deadline, id)` while registered with the reactor.
    registered: Option<(Instant, u64)>,
    /// The duration of a `sleep(d)` built outside a runtime (its deadline
    /// is then on the real clock): at binding, on a runtime whose clock is
    /// not the real one (paused, or resumed after a pause), the deadline is
    /// `d` from that clock's now instead.
    unbound_duration: Option<Duration>,
}

impl Sleep {
    #[track_caller]
    pub(crate) fn new(deadline: Option<Instant>) -> Sleep {
        Sleep {
            deadline,
            reactor: current_reactor(),
            registered: None,
            unbound_duration: None,
        }
    }

    /// A sleep of `duration` from the current runtime's now (the real now
    /// outside a runtime).
    #[track_caller]
    pub(crate) fn after(duration: Duration) -> Sleep {
        let reactor = current_reactor();
        let now = reactor
            .as_ref()
            .map_or_else(Instant::now, |r| r.clock.now());
        Sleep {
            deadline: now.checked_add(duration),
            unbound_duration: reactor.is_none().then_some(duration),
            reactor,
            registered: None,
        }
    }

    /// The now of the clock this sleep runs on.
    pub(crate) fn now(&self) -> Instant {
        self.reactor
            .as_ref()
            .map_or_else(super::clock_now, |r| r.clock.now())
    }

    /// Binds a sleep created outside a runtime to the current one.
    #[cold]
    #[track_caller]
    fn bind(&mut self) {
        self.reactor = current_reactor();
        if let (Some(reactor), Some(d)) = (&self.reactor, self.unbound_duration.take()) {
            if !reactor.clock.is_real() {
                self.deadline = reactor.clock.now().checked_add(d);
            }
        }
        if self.reactor.is_none() {
            panic!(
                "windlass::time: a sleep, timeout or interval was polled outside a windlass runtime; await it \
                 inside a task or Runtime::block_on"
            );
        }
    }

    /// The instant this sleep completes at (`None` if never).
    ///
    /// ```
    /// use std::time::Duration;
    /// use windlass::time::Instant;
    ///
    /// windlass::Runtime::new().unwrap().block_on(async {
    ///     let at = Instant::now() + Duration::from_secs(60);
    ///     assert_eq!(windlass::time::sleep_until(at).deadline(), Some(at));
    ///     // Too far to represent: never completes.
    ///     assert_eq!(windlass::time::sleep(Duration::MAX).deadline(), None);
    /// });
    /// ```
    pub fn deadline(&self) -> Option<super::Instant> {
        self.effective_deadline().map(super::Instant::from)
    }

    /// The deadline as this sleep's next poll will use it: a sleep built
    /// outside a runtime that is not bound yet measures its duration from
    /// the current runtime's clock if that clock is not the real one, as
    /// `bind` will (so `deadline` and `is_elapsed` agree with awaiting it).
    fn effective_deadline(&self) -> Option<Instant> {
        let Some(d) = self.unbound_duration else {
            return self.deadline;
        };
        let on_clock = crate::runtime::context::with_current(|h| {
            let clock = h.driver().clock();
            (!clock.is_real()).then(|| clock.now().checked_add(d))
        });
        on_clock.flatten().unwrap_or(self.deadline)
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
        self.effective_deadline().is_some_and(|d| d <= self.now())
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
    ///
    /// A sleep that is registered (polled, pending) stays registered at the
    /// new deadline with the waker of its last poll, as tokio's does: the
    /// task waiting on it is woken then even if it does not poll it again.
    pub fn reset(&mut self, deadline: impl Into<super::Instant>) {
        let deadline = deadline.into().into_std();
        self.deadline = Some(deadline);
        self.unbound_duration = None;
        if let (Some((d, id)), Some(reactor)) = (self.registered.take(), &self.reactor) {
            if let Some(id) = reactor.reset_timer(d, id, deadline) {
                self.registered = Some((deadline, id));
            }
        }
    }

    fn deregister(&mut self) {
        if let (Some((d, id)), Some(reactor)) = (self.registered.take(), &self.reactor) {
            reactor.remove_timer(d, id);
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if this.deadline.is_none() {
            return Poll::Pending;
        }
        if this.reactor.is_none() {
            this.bind();
        }
        // Read after binding, which may move it to the runtime's clock.
        let Some(deadline) = this.deadline else {
            return Poll::Pending;
        };
        let Some(reactor) = &this.reactor else {
            unreachable!("bound above")
        };
        if deadline <= reactor.clock.now() {
            if let Some((d, id)) = this.registered.take() {
                reactor.remove_timer(d, id);
            }
            return Poll::Ready(());
        }
        if reactor.is_shutdown() {
            timer_after_shutdown();
        }
        match this.registered {
            Some((d, id)) => {
                if !reactor.update_timer(d, id, cx.waker()) {
                    // Fired between our clock read and now: the reactor's
                    // clock said it was due.
                    this.registered = None;
                    return Poll::Ready(());
                }
            }
            None => {
                let id = reactor.insert_timer(deadline, cx.waker().clone());
                this.registered = Some((deadline, id));
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

/// The current runtime's reactor (started now if needed), if a runtime is
/// current.
#[track_caller]
fn current_reactor() -> Option<Arc<Reactor>> {
    crate::runtime::context::with_current(|h| h.driver().get())
        .map(|r| r.unwrap_or_else(|e| panic!("windlass::time: cannot start the reactor: {e}")))
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline)
            .finish()
    }
}
