//! `timeout`: asyncio's `wait_for`.

use std::error::Error;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::sleep::Sleep;

/// Runs `future` for at most `duration`: asyncio's `wait_for(aw, timeout)`.
///
/// If the time runs out first, the inner future is dropped (cancelled, so
/// its destructors run) and the result is `Err(Elapsed)`.
///
/// ```
/// use std::time::Duration;
/// use windlass::time::{sleep, timeout};
///
/// windlass::Runtime::new().unwrap().block_on(async {
///     let fast = timeout(Duration::from_secs(1), async { 7 }).await;
///     assert_eq!(fast, Ok(7));
///     let slow = timeout(Duration::from_millis(10), sleep(Duration::from_secs(60))).await;
///     assert!(slow.is_err());
/// });
/// ```
#[track_caller]
pub fn timeout<F: Future>(duration: Duration, future: F) -> Timeout<F> {
    Timeout {
        future: Some(future),
        sleep: Sleep::new(Instant::now().checked_add(duration)),
    }
}

/// Runs `future` until `deadline` at most; see [`timeout`].
#[track_caller]
pub fn timeout_at<F: Future>(deadline: Instant, future: F) -> Timeout<F> {
    Timeout {
        future: Some(future),
        sleep: Sleep::new(Some(deadline)),
    }
}

/// The time ran out before the future completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed(());

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl Error for Elapsed {}

impl From<Elapsed> for std::io::Error {
    fn from(_: Elapsed) -> std::io::Error {
        std::io::ErrorKind::TimedOut.into()
    }
}

/// Future of [`timeout`].
#[must_use = "futures do nothing unless awaited"]
pub struct Timeout<F> {
    /// `None` once it completed or was cancelled by the deadline.
    future: Option<F>,
    sleep: Sleep,
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: `future` is structurally pinned: it is never moved out
        // while `Some` (only dropped in place via `set(None)`-style writes
        // below), and `Timeout` has no `Unpin` impl that would allow moving
        // it; `sleep` is `Unpin` and not pinned.
        let this = unsafe { self.get_unchecked_mut() };
        if let Some(fut) = this.future.as_mut() {
            // SAFETY: see above; `fut` lives in the pinned `Timeout`.
            if let Poll::Ready(out) = unsafe { Pin::new_unchecked(fut) }.poll(cx) {
                this.future = None;
                return Poll::Ready(Ok(out));
            }
        } else {
            panic!("windlass: Timeout polled after it completed");
        }
        match Pin::new(&mut this.sleep).poll(cx) {
            Poll::Ready(()) => {
                // Cancel the inner future now, not when the Timeout drops.
                this.future = None;
                Poll::Ready(Err(Elapsed(())))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<F> fmt::Debug for Timeout<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timeout")
            .field("deadline", &self.sleep.deadline())
            .finish()
    }
}
