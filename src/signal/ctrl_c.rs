//! `ctrl_c()`: the next SIGINT, asyncio's `KeyboardInterrupt`.

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::kind::SignalKind;
use super::listener::Signal;

/// Completes on the next Ctrl+C (SIGINT) received after this call.
///
/// Listening starts when `ctrl_c()` is *called*, not when the future is
/// first polled: a SIGINT that arrives in between is not lost. The call
/// itself needs no runtime; the future must be awaited inside a windlass
/// runtime (any flavor), and fails with an error naming the fix otherwise.
///
/// The first call installs a process-wide SIGINT handler that stays for
/// the life of the process: from then on Ctrl+C no longer kills the
/// program by default, it only completes these futures (see the
/// [module docs](super#handlers-are-process-wide-and-permanent)).
///
/// # Errors
///
/// When the handler cannot be installed, when awaited outside a windlass
/// runtime, or when that runtime shut down before a SIGINT came.
///
/// ```
/// use std::time::Duration;
/// use rustix::process::{Signal, getpid, kill_process};
/// use windlass::time::sleep;
///
/// windlass::Runtime::new().unwrap().block_on(async {
///     let ctrl_c = windlass::signal::ctrl_c();
///     let work = windlass::spawn(async { sleep(Duration::from_secs(3600)).await });
///     kill_process(getpid(), Signal::INT).unwrap(); // the user presses Ctrl+C
///     ctrl_c.await.unwrap();
///     work.abort(); // and we cancel the work
///     assert!(work.await.unwrap_err().is_cancelled());
/// });
/// ```
pub fn ctrl_c() -> CtrlC {
    CtrlC {
        listener: Some(Signal::unregistered(SignalKind::interrupt())),
    }
}

/// The future returned by [`ctrl_c`].
#[must_use = "a ctrl_c() future does nothing unless awaited"]
pub struct CtrlC {
    /// The SIGINT listener, or the error that creating it gave (reported by
    /// the first poll); `None` once the result was returned.
    listener: Option<io::Result<Signal>>,
}

impl Future for CtrlC {
    type Output = io::Result<()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let slot = self.listener.as_mut().expect(
            "windlass::signal::ctrl_c future polled after it completed; \
             call ctrl_c() again to wait for the next Ctrl+C",
        );
        let res = match slot {
            Ok(listener) => {
                std::task::ready!(listener.poll_delivery(cx, "windlass::signal::ctrl_c"))
            }
            // Creation failed: report that error (taken out below).
            Err(_) => Ok(()),
        };
        // Done: drop the listener now (its reactor registration with it).
        match self.listener.take() {
            Some(Err(e)) => Poll::Ready(Err(e)),
            _ => Poll::Ready(res),
        }
    }
}

impl fmt::Debug for CtrlC {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CtrlC")
            .field("listener", &self.listener)
            .finish()
    }
}
