//! `hyper::rt::Timer` on windlass timers.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::time::Sleep;

/// hyper's timer (header-read timeout, HTTP/2 keep-alive, the client
/// pool's idle timeout) on windlass's timers. Give it to the connection
/// builders: `http1::Builder::new().timer(WindlassTimer::new())`.
///
/// ```
/// use std::time::{Duration, Instant};
/// use hyper::rt::Timer;
///
/// windlass::Runtime::new().unwrap().block_on(async {
///     let start = Instant::now();
///     windlass::hyper::WindlassTimer::new().sleep(Duration::from_millis(5)).await;
///     assert!(start.elapsed() >= Duration::from_millis(5));
/// });
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct WindlassTimer(());

impl WindlassTimer {
    /// The timer. Its sleeps belong to the runtime they are first polled
    /// on, like [`crate::time::sleep`]'s.
    pub fn new() -> WindlassTimer {
        WindlassTimer(())
    }
}

/// A sleep handed to hyper: a windlass [`Sleep`] that hyper can reset in
/// place (see `Timer::reset`), with no new allocation.
#[derive(Debug)]
pub struct WindlassSleep(Sleep);

impl Future for WindlassSleep {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.0).poll(cx)
    }
}

impl ::hyper::rt::Sleep for WindlassSleep {}

impl ::hyper::rt::Timer for WindlassTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn ::hyper::rt::Sleep>> {
        Box::pin(WindlassSleep(crate::time::sleep(duration)))
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn ::hyper::rt::Sleep>> {
        Box::pin(WindlassSleep(crate::time::sleep_until(deadline)))
    }

    /// The runtime's clock, not hyper's default `std::time::Instant::now()`:
    /// hyper adds its timeouts to this and hands the sum to
    /// `sleep_until` (above), whose deadline is on the
    /// runtime's timeline (virtual while the clock is paused).
    fn now(&self) -> Instant {
        crate::time::Instant::now().into_std()
    }

    fn reset(&self, sleep: &mut Pin<Box<dyn ::hyper::rt::Sleep>>, new_deadline: Instant) {
        match sleep.as_mut().downcast_mut_pin::<WindlassSleep>() {
            Some(ours) => ours.get_mut().0.reset(new_deadline),
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}
