//! `wait`: asyncio's `wait(aws, timeout, return_when)`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::ready::ReadyQueue;
use super::yield_if_budget_spent;
use crate::time::{Instant, Sleep, sleep_until};

/// When [`wait`] returns: asyncio's `return_when`.
///
/// Whatever the mode, `wait` also returns when every input has finished, and
/// when the timeout (if any) runs out. With no inputs it returns at once.
///
/// ```
/// use windlass::join::{ReturnWhen, wait};
///
/// windlass::Runtime::new().unwrap().block_on(async {
///     let tasks = [
///         windlass::spawn(async { panic!("failed") }),
///         windlass::spawn(std::future::pending::<()>()),
///     ];
///     let (done, pending) = wait(tasks, ReturnWhen::FirstException, None).await;
///     assert!(done[0].as_ref().unwrap_err().is_panic());
///     pending[0].abort();
/// });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReturnWhen {
    /// As soon as at least one input has finished (`FIRST_COMPLETED`).
    /// `done` holds every input seen finished by then, at least one.
    FirstCompleted,
    /// As soon as one input finishes with an **exception**: an `Err`
    /// output (`FIRST_EXCEPTION`). For a [`JoinHandle`](crate::JoinHandle)
    /// that is a task that panicked or was cancelled; a task that *returns*
    /// `Err` gives `Ok(Err(_))`, which is not an exception here (see
    /// [`wait`]). If no input fails, this waits for all, like
    /// `AllCompleted`.
    FirstException,
    /// When every input has finished (`ALL_COMPLETED`, asyncio's default).
    AllCompleted,
}

/// Waits for the inputs until `return_when` holds or `timeout` runs out, and
/// returns `(done, pending)`: asyncio's
/// `done, pending = await asyncio.wait(aws, timeout=..., return_when=...)`.
///
/// - **Inputs**: futures whose output is a `Result`, and that are `Unpin`
///   (they are handed back if still pending): [`JoinHandle`](crate::JoinHandle)s
///   above all, or `Box::pin`ned futures. Handles spawned from any thread or
///   runtime work.
/// - **`done`**: the outputs of the inputs that finished, **in completion
///   order** (as seen by `wait`). Each output is taken out of its input; a
///   finished `JoinHandle` is not handed back.
/// - **`pending`**: the inputs that had not finished, **in input order**,
///   untouched and yours: tasks keep running, and you can await them, `wait`
///   on them again, or abort them. What dropping them does follows
///   [the rule](super#cancellation-ownership-decides): a bare `JoinHandle`
///   detaches its task, an owned one ([`AbortOnDrop`](super::AbortOnDrop))
///   aborts it, a plain future is cancelled.
/// - **Dropping** the `Wait` before it returns drops every input by the
///   same rule. asyncio's `wait` never cancels: pass bare handles for that.
/// - **Exception** ([`ReturnWhen::FirstException`]): an `Err` output. With
///   handles, that is a panic or a cancellation (a `JoinError`); a task
///   that *returns* `Err` has completed (`Ok(Err(_))`). To stop on those
///   too, wait on futures that flatten both, such as
///   `Box::pin(async move { handle.await.map_err(MyError::Join)? })` (the
///   pending ones are then such futures; dropping one drops the handle it
///   holds).
/// - **Timeout**: `None` waits as long as it takes. `Some(d)` returns once
///   `d` has passed since `wait` was called, with whatever is done by then
///   (possibly nothing); `Some(Duration::ZERO)` polls each input once and
///   returns. A timeout needs the windlass timer: the `Wait` must then be
///   polled inside a windlass runtime. As in asyncio, this timeout cancels
///   nothing: the unfinished inputs come back in `pending`.
/// - **Empty input**: returns `(vec![], vec![])` at once, in every mode
///   (asyncio raises `ValueError`; here there is simply nothing to wait for).
/// - **Cost**: O(n) in all: each input is polled once to start, then only
///   when its own waker fires.
///
/// ```
/// use std::time::Duration;
/// use windlass::join::{wait, ReturnWhen};
/// use windlass::time::sleep;
///
/// windlass::Runtime::new().unwrap().block_on(async {
///     let tasks: Vec<_> = [10u64, 500].into_iter().map(|ms| {
///         windlass::spawn(async move {
///             sleep(Duration::from_millis(ms)).await;
///             ms
///         })
///     }).collect();
///
///     let (done, pending) = wait(tasks, ReturnWhen::FirstCompleted, None).await;
///     assert_eq!(done.into_iter().map(Result::unwrap).collect::<Vec<_>>(), [10]);
///     assert_eq!(pending.len(), 1);
///
///     // Still running: wait again with a timeout, then give up on it.
///     let (done, pending) =
///         wait(pending, ReturnWhen::AllCompleted, Some(Duration::from_millis(10))).await;
///     assert!(done.is_empty());
///     pending[0].abort();
/// });
/// ```
pub fn wait<I, T, E>(iter: I, return_when: ReturnWhen, timeout: Option<Duration>) -> Wait<I::Item>
where
    I: IntoIterator,
    I::Item: Future<Output = Result<T, E>> + Unpin,
{
    let items: Vec<Option<I::Item>> = iter.into_iter().map(Some).collect();
    Wait {
        ready: ReadyQueue::all_ready(items.len()),
        running: items.len(),
        items,
        done: Vec::new(),
        return_when,
        // A deadline too far out to represent never fires: like no timeout.
        deadline: timeout.and_then(|d| Instant::now().checked_add(d)),
        sleep: None,
        finished: false,
    }
}

/// Future of [`wait`]: `(done, pending)`. It is `Unpin`, and polling it
/// again after it completed panics.
///
/// ```
/// use std::time::Duration;
/// use windlass::join::{ReturnWhen, Wait, wait};
///
/// windlass::Runtime::new().unwrap().block_on(async {
///     let never = windlass::spawn(std::future::pending::<Result<(), ()>>());
///     let waiting: Wait<_> = wait([never], ReturnWhen::AllCompleted, Some(Duration::ZERO));
///     let (done, pending) = waiting.await;
///     assert!(done.is_empty());
///     pending[0].abort();
/// });
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct Wait<F: Future> {
    /// `None` once finished (its output is in `done`).
    items: Vec<Option<F>>,
    ready: ReadyQueue,
    /// Items still `Some`.
    running: usize,
    /// Outputs in completion order.
    done: Vec<F::Output>,
    return_when: ReturnWhen,
    deadline: Option<Instant>,
    /// The timer, created on the first poll (inside the runtime).
    sleep: Option<Sleep>,
    /// Set once the output has been returned.
    finished: bool,
}

// Outputs are never pinned, and the inputs are `Unpin`.
impl<F: Future + Unpin> Unpin for Wait<F> {}

impl<F, T, E> Future for Wait<F>
where
    F: Future<Output = Result<T, E>> + Unpin,
{
    type Output = (Vec<Result<T, E>>, Vec<F>);

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        assert!(!this.finished, "windlass: `Wait` polled after it completed");
        let failed = this.poll_batch(cx);
        let condition_met = this.running == 0
            || failed
            || (this.return_when == ReturnWhen::FirstCompleted && !this.done.is_empty());
        if condition_met || this.poll_timeout(cx).is_ready() {
            return Poll::Ready(this.finish());
        }
        Poll::Pending
    }
}

impl<F, T, E> Wait<F>
where
    F: Future<Output = Result<T, E>> + Unpin,
{
    /// Polls the woken inputs (one batch). True if an input failed and the
    /// mode is `FirstException`.
    fn poll_batch(&mut self, cx: &mut Context<'_>) -> bool {
        if self.running == 0 {
            return false;
        }
        self.ready.begin(cx.waker());
        while !yield_if_budget_spent(cx, &self.ready) {
            let Some(i) = self.ready.pop() else { break };
            let Some(fut) = &mut self.items[i] else {
                continue; // a late wake of a finished input
            };
            let waker = self.ready.waker(i);
            if let Poll::Ready(out) = Pin::new(fut).poll(&mut Context::from_waker(&waker)) {
                self.items[i] = None;
                self.running -= 1;
                let failed = out.is_err();
                self.done.push(out);
                if failed && self.return_when == ReturnWhen::FirstException {
                    return true;
                }
            }
        }
        false
    }

    /// `Ready` once the deadline has passed.
    fn poll_timeout(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Some(deadline) = self.deadline else {
            return Poll::Pending;
        };
        Pin::new(self.sleep.get_or_insert_with(|| sleep_until(deadline))).poll(cx)
    }

    fn finish(&mut self) -> (Vec<Result<T, E>>, Vec<F>) {
        self.finished = true;
        self.sleep = None;
        let pending = std::mem::take(&mut self.items)
            .into_iter()
            .flatten()
            .collect();
        (std::mem::take(&mut self.done), pending)
    }
}

impl<F: Future> fmt::Debug for Wait<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wait")
            .field("return_when", &self.return_when)
            .field("done", &self.done.len())
            .field("running", &self.running)
            .field("deadline", &self.deadline)
            .finish()
    }
}
