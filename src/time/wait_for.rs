//! `wait_for`: asyncio's `wait_for(task, timeout)`, which cancels the task
//! at the deadline.
//!
//! [`timeout`](super::timeout) gives up on a *future*: at the deadline it
//! drops it, and what that does to a task depends on the handle (the rule
//! in the [`join`](crate::join#cancellation-ownership-decides) docs: a bare
//! `JoinHandle` detaches). `wait_for` gives up on a *task*: it owns it, so
//! at the deadline it aborts it, and then waits until the task has stopped,
//! as asyncio's `wait_for` waits for the cancellation to finish. When it
//! returns `Err(Elapsed)`, the task's drop guards have run.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::sleep::Sleep;
use super::timeout::Elapsed;
use crate::join::AbortOnDrop;
use crate::task::JoinError;

/// Waits for a task for at most `duration`, and **aborts** it if the time
/// runs out: asyncio's `await wait_for(task, timeout)`.
///
/// - **In time**: `Ok(output)`, where the output is the task's
///   `Result<T, JoinError>` (it may have panicked or been aborted by
///   someone else).
/// - **At the deadline**: the task is aborted, and `wait_for` waits until
///   it has stopped: at once for a task that is waiting (in `sleep`, on a
///   channel or a socket), at the end of the current poll for one that is
///   running. Then `Err(Elapsed)`, with the task's drop guards already run.
///   If the task returned its output anyway (it had completed before the
///   abort reached it, or the poll that was running at the deadline
///   returned `Ready`), that output is returned instead (`Ok`): the work
///   was done (task rule 6), as asyncio returns a result that beat the
///   cancellation.
/// - **Dropped early** (the caller was cancelled): the task is aborted,
///   since `wait_for` owns it.
///
/// Takes a [`JoinHandle`](crate::JoinHandle) or an
/// [`AbortOnDrop`]. To give up *waiting* and leave the task running, use
/// [`timeout`](super::timeout) with a bare handle (or with `&mut handle`, to
/// keep it); for a plain future, `timeout` is already asyncio's `wait_for`.
///
/// ```
/// use std::time::Duration;
/// use windlass::time::{sleep, wait_for};
///
/// windlass::Runtime::new().unwrap().block_on(async {
///     let quick = windlass::spawn(async { 7 });
///     assert_eq!(wait_for(Duration::from_secs(1), quick).await.unwrap().unwrap(), 7);
///
///     let (tx, cleaned_up) = futures_channel::oneshot::channel::<()>();
///     let slow = windlass::spawn(async move {
///         let _guard = tx; // dropped when the task stops
///         sleep(Duration::from_secs(3600)).await;
///     });
///     let abort = slow.abort_handle();
///     assert!(wait_for(Duration::from_millis(10), slow).await.is_err());
///     // The task was cancelled, and had stopped when wait_for returned.
///     assert!(abort.is_finished());
///     assert!(cleaned_up.await.is_err(), "the guard dropped the sender");
/// });
/// ```
#[track_caller]
pub fn wait_for<T>(duration: Duration, task: impl Into<AbortOnDrop<T>>) -> WaitFor<T> {
    WaitFor {
        task: task.into(),
        // On the runtime's clock (virtual while paused), as `timeout`.
        sleep: Sleep::after(duration),
        state: State::Waiting,
    }
}

/// Future of [`wait_for`]. Dropping it aborts the task.
///
/// ```
/// use std::time::Duration;
/// use windlass::time::{WaitFor, wait_for};
///
/// windlass::Runtime::new().unwrap().block_on(async {
///     let task = windlass::spawn(std::future::pending::<()>());
///     let abort = task.abort_handle();
///     let waiting: WaitFor<()> = wait_for(Duration::from_secs(60), task);
///     drop(waiting); // the caller gave up: the task is aborted too
///     while !abort.is_finished() {
///         windlass::task::yield_now().await;
///     }
/// });
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct WaitFor<T> {
    /// The task, owned: dropping the `WaitFor` aborts it.
    task: AbortOnDrop<T>,
    /// The deadline's timer; not polled again once it fired.
    sleep: Sleep,
    state: State,
}

/// Where a [`WaitFor`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before the deadline.
    Waiting,
    /// The deadline passed and the task was aborted; waiting for it to stop.
    Aborted,
    /// The output was returned.
    Done,
}

impl<T> Future for WaitFor<T> {
    type Output = Result<Result<T, JoinError>, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        assert!(
            this.state != State::Done,
            "windlass: WaitFor polled after it completed"
        );
        loop {
            if let Poll::Ready(out) = Pin::new(&mut this.task).poll(cx) {
                let timed_out = this.state == State::Aborted;
                this.state = State::Done;
                return Poll::Ready(match out {
                    // Our abort (or another) stopped it after the deadline.
                    Err(e) if timed_out && e.is_cancelled() => Err(Elapsed::new()),
                    // It finished first, or panicked: the task's own output.
                    out => Ok(out),
                });
            }
            if this.state == State::Aborted || Pin::new(&mut this.sleep).poll(cx).is_pending() {
                return Poll::Pending;
            }
            // The deadline passed: cancel the task, then poll its handle
            // again so that the abort's completion wakes us.
            this.task.abort();
            this.state = State::Aborted;
        }
    }
}

impl<T> fmt::Debug for WaitFor<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitFor")
            .field("task", &self.task)
            .field("deadline", &self.sleep.deadline())
            .field("state", &self.state)
            .finish()
    }
}
