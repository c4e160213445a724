//! `timeout`: asyncio's `wait_for`.

use std::error::Error;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::sleep::Sleep;

/// Runs `future` for at most `duration`: asyncio's `wait_for(aw, timeout)`.
///
/// If the time runs out first, the inner future is dropped (cancelled, so
/// its destructors run) and the result is `Err(Elapsed)`.
///
/// Over a task, dropping is what cancels, so the handle decides
/// ([the rule](crate::join#cancellation-ownership-decides)): `timeout(d,
/// handle)` with a bare `JoinHandle` stops *waiting* and leaves the task
/// running, detached; with `handle.abort_on_drop()` it aborts the task
/// (without waiting for it to stop). [`wait_for`](super::wait_for) is
/// asyncio's `wait_for(task, t)`: it aborts the task at the deadline and
/// returns once the task has stopped.
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
        sleep: Sleep::after(duration),
    }
}

/// Runs `future` until `deadline` at most; see [`timeout`]. One deadline
/// can bound several steps:
///
/// ```
/// use std::time::Duration;
/// use windlass::time::{Instant, sleep, timeout_at};
///
/// windlass::Runtime::new().unwrap().block_on(async {
///     let deadline = Instant::now() + Duration::from_millis(30);
///     let first = timeout_at(deadline, async { "connected" }).await;
///     assert_eq!(first, Ok("connected"));
///     // The second step gets only what is left of the 30 ms.
///     let second = timeout_at(deadline, sleep(Duration::from_secs(60))).await;
///     assert!(second.is_err());
///     assert!(Instant::now() >= deadline);
/// });
/// ```
#[track_caller]
pub fn timeout_at<F: Future>(deadline: impl Into<super::Instant>, future: F) -> Timeout<F> {
    Timeout {
        future: Some(future),
        sleep: Sleep::new(Some(deadline.into().into_std())),
    }
}

/// The time ran out before the future completed: the error of
/// [`Timeout`]. Converts into an [`std::io::Error`] of kind `TimedOut`, so
/// `?` works in I/O code.
///
/// ```
/// use std::time::Duration;
///
/// async fn read_with_deadline() -> std::io::Result<Vec<u8>> {
///     let never = std::future::pending::<std::io::Result<Vec<u8>>>();
///     windlass::time::timeout(Duration::from_millis(5), never).await?
/// }
///
/// windlass::Runtime::new().unwrap().block_on(async {
///     let err = read_with_deadline().await.unwrap_err();
///     assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
/// });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed(());

impl Elapsed {
    /// The error; built only by this module's timeouts and
    /// [`wait_for`](super::wait_for).
    pub(super) fn new() -> Elapsed {
        Elapsed(())
    }
}

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

/// Future of [`timeout`] and [`timeout_at`]. When the time runs out, the
/// inner future is dropped at once, so its cleanup runs before the
/// `Err(Elapsed)` is returned.
///
/// ```
/// use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
/// use std::time::Duration;
///
/// static CLEANED_UP: AtomicBool = AtomicBool::new(false);
/// struct Cleanup;
/// impl Drop for Cleanup {
///     fn drop(&mut self) { CLEANED_UP.store(true, SeqCst); }
/// }
///
/// windlass::Runtime::new().unwrap().block_on(async {
///     let slow = async {
///         let _cleanup = Cleanup;
///         windlass::time::sleep(Duration::from_secs(60)).await;
///     };
///     let result = windlass::time::timeout(Duration::from_millis(5), slow).await;
///     assert!(result.is_err());
///     assert!(CLEANED_UP.load(SeqCst));
/// });
/// ```
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
