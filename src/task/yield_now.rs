//! `yield_now`: asyncio's `await asyncio.sleep(0)`.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Gives the other tasks of this worker a turn, then resumes.
///
/// The task wakes itself and returns `Pending` once; a task that wakes itself
/// while it is being polled goes to the *back* of its worker's queue, so
/// every task queued before it runs first.
///
/// ```
/// windlass::Runtime::new().unwrap().block_on(async {
///     let other = windlass::spawn(async { "ran" });
///     windlass::task::yield_now().await;
///     assert_eq!(other.await.unwrap(), "ran");
/// });
/// ```
pub async fn yield_now() {
    YieldNow { yielded: false }.await
}

struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
