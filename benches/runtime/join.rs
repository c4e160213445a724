//! Workloads on waiting for many tasks: `join_all` over spawned tasks, and
//! `JoinSet` churn.
//!
//! What each runtime uses is what its users would write:
//!
//! | workload | windlass | tokio | smol |
//! |---|---|---|---|
//! | `join_all` | `windlass::join::join_all` | `futures::future::join_all` | `futures::future::join_all` |
//! | `join_set` | `windlass::join::JoinSet` | `tokio::task::JoinSet` | `futures::stream::FuturesUnordered` of tasks |
//!
//! smol has no task set; a `FuturesUnordered` of its `Task`s (which cancel
//! on drop) is the usual stand-in.

use std::future::Future;
use std::time::Duration;

use futures::StreamExt;
use futures_channel::oneshot;

use super::{Contender, SMOL_EX, Smol, Tokio, Windlass, time_driver};

/// Tasks spawned and joined in one run.
pub(crate) const JOIN_TASKS: usize = 10_000;

/// The "wait for many tasks" tools of a runtime; see the module docs.
pub(crate) trait JoinContender {
    /// Spawns `n` tasks, each returning its index, then awaits all of them
    /// at once with the runtime's gather. Returns the sum of the outputs.
    fn join_all_spawned(n: usize) -> impl Future<Output = usize> + Send;

    /// Spawns `n` tasks, each returning its index, into the runtime's task
    /// set, then takes them out one by one as they finish. Returns the sum.
    fn join_set_churn(n: usize) -> impl Future<Output = usize> + Send;
}

impl<const DEBUG: bool> JoinContender for Windlass<DEBUG> {
    async fn join_all_spawned(n: usize) -> usize {
        let tasks: Vec<_> = (0..n).map(|i| windlass::spawn(async move { i })).collect();
        let outs = windlass::join::join_all(tasks).await;
        outs.into_iter().map(|r| r.expect("task")).sum()
    }

    async fn join_set_churn(n: usize) -> usize {
        let mut set = windlass::join::JoinSet::new();
        for i in 0..n {
            set.spawn(async move { i });
        }
        let mut sum = 0;
        while let Some(res) = set.join_next().await {
            sum += res.expect("task");
        }
        sum
    }
}

impl JoinContender for Tokio {
    async fn join_all_spawned(n: usize) -> usize {
        let tasks: Vec<_> = (0..n).map(|i| tokio::spawn(async move { i })).collect();
        let outs = futures::future::join_all(tasks).await;
        outs.into_iter().map(|r| r.expect("task")).sum()
    }

    async fn join_set_churn(n: usize) -> usize {
        let mut set = tokio::task::JoinSet::new();
        for i in 0..n {
            set.spawn(async move { i });
        }
        let mut sum = 0;
        while let Some(res) = set.join_next().await {
            sum += res.expect("task");
        }
        sum
    }
}

impl JoinContender for Smol {
    async fn join_all_spawned(n: usize) -> usize {
        let tasks: Vec<_> = (0..n).map(|i| SMOL_EX.spawn(async move { i })).collect();
        futures::future::join_all(tasks).await.into_iter().sum()
    }

    async fn join_set_churn(n: usize) -> usize {
        let mut set = futures::stream::FuturesUnordered::new();
        for i in 0..n {
            set.push(SMOL_EX.spawn(async move { i }));
        }
        let mut sum = 0;
        while let Some(i) = set.next().await {
            sum += i;
        }
        sum
    }
}

/// Runs `work` in a task and checks it returns the sum of `0..JOIN_TASKS`.
fn run<C: Contender>(c: &C, work: impl Future<Output = usize> + Send + 'static) -> Duration {
    let (tx, rx) = oneshot::channel();
    time_driver(c, rx, async move {
        let sum = work.await;
        assert_eq!(sum, JOIN_TASKS * (JOIN_TASKS - 1) / 2);
        let _ = tx.send(());
    })
}

/// Inside a task: spawn 10,000 tiny tasks, keep their handles, then await
/// them all with one gather (asyncio's `await gather(*tasks)`).
///
/// **op** = one task spawned, run, and collected by the gather.
pub(crate) fn join_all<C: Contender>(c: &C) -> Duration {
    run(c, C::join_all_spawned(JOIN_TASKS))
}

/// Inside a task: spawn 10,000 tiny tasks into a task set, then call
/// `join_next` until it is empty.
///
/// **op** = one task spawned into the set, run, and taken out by
/// `join_next`.
pub(crate) fn join_set<C: Contender>(c: &C) -> Duration {
    run(c, C::join_set_churn(JOIN_TASKS))
}
