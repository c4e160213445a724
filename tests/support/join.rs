//! Helpers for the `join` tests (and any test that awaits drops): gates,
//! drop signals, tallies and poll counting.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::task::{Context, Poll};

use futures_channel::oneshot;
/// `n` gates: a task waits on `rx[i]` until the test sends on `tx[i]`.
pub fn gates(n: usize) -> (Vec<oneshot::Sender<()>>, Vec<oneshot::Receiver<()>>) {
    (0..n).map(|_| oneshot::channel()).unzip()
}

/// Sends its id on a channel when dropped: proves a future's destructors
/// ran (it finished or was cancelled), and lets a test *await* that
/// instead of sleeping.
pub struct DropSignal {
    id: usize,
    tx: async_channel::Sender<usize>,
}

impl Drop for DropSignal {
    fn drop(&mut self) {
        let _ = self.tx.try_send(self.id);
    }
}

/// A source of [`DropSignal`]s and the receiving end.
pub fn drop_signals() -> (
    impl Fn(usize) -> DropSignal + Clone,
    async_channel::Receiver<usize>,
) {
    let (tx, rx) = async_channel::unbounded();
    (move |id| DropSignal { id, tx: tx.clone() }, rx)
}

/// Receives `n` drop signals and returns their ids, sorted.
pub async fn recv_n(rx: &async_channel::Receiver<usize>, n: usize) -> Vec<usize> {
    let mut ids = Vec::with_capacity(n);
    for _ in 0..n {
        ids.push(rx.recv().await.expect("drop signal channel closed"));
    }
    ids.sort_unstable();
    ids
}

/// A future that counts its polls into a shared counter.
pub struct CountPolls<F> {
    pub inner: Pin<Box<F>>,
    pub polls: Arc<AtomicUsize>,
}

impl<F: Future> Future for CountPolls<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.polls.fetch_add(1, SeqCst);
        self.inner.as_mut().poll(cx)
    }
}

/// Wraps `fut` so that each poll bumps `polls`.
pub fn count_polls<F: Future>(fut: F, polls: &Arc<AtomicUsize>) -> CountPolls<F> {
    CountPolls {
        inner: Box::pin(fut),
        polls: polls.clone(),
    }
}

/// Drop guards for spawned tasks: each guard bumps a shared count when
/// dropped *and* sends on a channel, so a test can await the drops (no
/// sleeping) and then check that there were exactly that many.
#[derive(Clone)]
pub struct Tally {
    count: Arc<AtomicUsize>,
    tx: async_channel::Sender<()>,
    rx: async_channel::Receiver<()>,
}

/// One guard of a [`Tally`].
pub struct TallyGuard {
    count: Arc<AtomicUsize>,
    tx: async_channel::Sender<()>,
}

impl Drop for TallyGuard {
    fn drop(&mut self) {
        self.count.fetch_add(1, SeqCst);
        let _ = self.tx.try_send(());
    }
}

impl Tally {
    pub fn new() -> Tally {
        let (tx, rx) = async_channel::unbounded();
        Tally {
            count: Arc::default(),
            tx,
            rx,
        }
    }

    /// A new guard.
    pub fn guard(&self) -> TallyGuard {
        TallyGuard {
            count: self.count.clone(),
            tx: self.tx.clone(),
        }
    }

    /// Guards dropped so far.
    pub fn dropped(&self) -> usize {
        self.count.load(SeqCst)
    }

    /// Waits until `n` guards have been dropped (each drop's notification
    /// received), then returns the count.
    pub async fn wait_for(&self, n: usize) -> usize {
        for _ in 0..n {
            self.rx.recv().await.expect("tally channel closed");
        }
        self.dropped()
    }
}
