//! Helpers for the `join_*` tests: runtimes, gates and drop signals.
#![allow(dead_code)]

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::task::{Context, Poll};

use futures_channel::oneshot;
use windlass::Runtime;
use windlass::runtime::Builder;

/// A multi-thread runtime with two workers (the CI machine has two cores).
pub fn rt2() -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap()
}

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
