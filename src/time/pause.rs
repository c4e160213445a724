//! Virtual time: [`pause`], [`resume`], [`advance`], and the auto-advance
//! of a paused clock (see the module docs of [`time`](super)).

use crate::loom::std::sync::Arc;
use std::future::Future;
use std::time::Duration;

use crate::reactor::clock::{Clock, Misuse};

/// The current runtime's clock; panics outside a runtime, naming `what`
/// and the fix.
#[track_caller]
fn current_clock(what: &str) -> Arc<Clock> {
    match crate::runtime::context::with_current(|h| h.driver().clock().clone()) {
        Some(clock) => clock,
        None => panic!(
            "windlass::time::{what} called outside a windlass runtime; call it inside a task or \
             Runtime::block_on, or build the runtime with Builder::start_paused(true)"
        ),
    }
}

/// Stops the current runtime's clock: asyncio tests know this as a mock
/// clock (Trio's `MockClock(autojump_threshold=0)`, `looptime`).
///
/// While the clock is paused, [`Instant::now`](super::Instant::now) stands
/// still, and whenever every task is idle (nothing runnable or running on
/// any worker, nothing on the blocking pool), the clock jumps to the next
/// timer: a test that sleeps for an hour takes microseconds. This works on
/// both runtime flavors. I/O still wakes a paused runtime; timers fire in
/// deadline order, each after everything woken by the earlier ones has
/// gone idle again.
///
/// Work on threads the runtime does not know (a `std::thread` the test
/// started) is invisible to it: a task waiting only for such a thread
/// lets the clock jump. Conversely, a blocking-pool closure holds the
/// clock still for as long as it runs, so a closure that blocks until a
/// timer fires (say `blocking_recv` on a channel fed by a sleeping task)
/// waits forever while paused; tokio's auto-advance behaves the same.
///
/// # Panics
///
/// Outside a runtime, and if the clock is already paused (the message
/// names the fix: call [`resume`] first, or pause once).
///
/// ```
/// use std::time::Duration;
/// use windlass::time::{Instant, pause, sleep};
///
/// let rt = windlass::runtime::Builder::new_multi_thread().build().unwrap();
/// rt.block_on(async {
///     pause();
///     let start = Instant::now();
///     sleep(Duration::from_secs(3600)).await; // no real hour passes
///     assert_eq!(start.elapsed(), Duration::from_secs(3600));
/// });
/// ```
#[track_caller]
pub fn pause() {
    let clock = current_clock("pause()");
    if clock.pause() == Err(Misuse::AlreadyPaused) {
        panic!(
            "windlass::time::pause(): the clock is already paused; pause once, or call \
             windlass::time::resume() first"
        );
    }
    wake_reactor();
}

/// Lets the paused clock of the current runtime run again, in real time,
/// from the virtual instant it stood at.
///
/// # Panics
///
/// Outside a runtime, and if the clock is not paused (the message names
/// the fix: call [`pause`] first).
///
/// ```
/// use std::time::Duration;
/// use windlass::time::{Instant, pause, resume, sleep};
///
/// windlass::Runtime::new().unwrap().block_on(async {
///     pause();
///     let start = Instant::now();
///     sleep(Duration::from_secs(60)).await;
///     resume();
///     sleep(Duration::from_millis(1)).await; // a real millisecond
///     assert!(start.elapsed() >= Duration::from_secs(60) + Duration::from_millis(1));
/// });
/// ```
#[track_caller]
pub fn resume() {
    let clock = current_clock("resume()");
    if clock.resume() == Err(Misuse::NotPaused) {
        panic!(
            "windlass::time::resume(): the clock is not paused; call windlass::time::pause() first \
             (or build the runtime with Builder::start_paused(true))"
        );
    }
    wake_reactor();
}

/// Moves the paused clock forward by `duration`, firing the timers due on
/// the way in deadline order, and returns when the clock has got there.
///
/// With the auto-advance, this is a virtual [`sleep`](super::sleep) that
/// insists on a paused clock: the clock moves from timer to timer, each
/// time everything is idle, then to `now + duration`. (tokio's `advance`
/// moves the clock at once; here the timers woken on the way run at their
/// own instants.)
///
/// # Panics
///
/// When called (not when awaited) outside a runtime, and if the clock is
/// not paused.
///
/// ```
/// use std::time::Duration;
/// use windlass::time::{Instant, advance, pause, sleep};
///
/// windlass::Runtime::new().unwrap().block_on(async {
///     pause();
///     let start = Instant::now();
///     let napper = windlass::spawn(async move {
///         sleep(Duration::from_secs(5)).await;
///         start.elapsed()
///     });
///     advance(Duration::from_secs(10)).await;
///     assert_eq!(start.elapsed(), Duration::from_secs(10));
///     assert_eq!(napper.await.unwrap(), Duration::from_secs(5)); // woke at +5 s
/// });
/// ```
#[track_caller]
pub fn advance(duration: Duration) -> impl Future<Output = ()> + Send + Sync + Unpin {
    let clock = current_clock("advance()");
    if !clock.is_paused() {
        panic!(
            "windlass::time::advance(): the clock is not paused; call windlass::time::pause() first, \
             or build the runtime with Builder::start_paused(true)"
        );
    }
    super::sleep(duration)
}

/// Makes the reactor's decider look at the clock again (its wait may be
/// planned for the old mode).
fn wake_reactor() {
    crate::runtime::context::with_current(|h| {
        if let Some(r) = h.driver().started() {
            r.notify();
        }
    });
}
