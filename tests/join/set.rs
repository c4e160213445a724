//! `JoinSet`: completion order, abort_all, drop aborts everything,
//! shutdown, handles from other threads, cancel safety, 100,000 tasks.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use crate::support::{DropCounter, drop_signals, gates, multi, recv_n, watchdog};
use futures_channel::oneshot;
use windlass::join::JoinSet;

#[test]
fn join_next_on_empty_set_is_none() {
    watchdog(|| {
        let mut set = JoinSet::<()>::new();
        assert!(futures_lite::future::block_on(set.join_next()).is_none());
        assert!(set.try_join_next().is_none());
        assert_eq!(set.len(), 0);
    });
}

#[test]
fn results_come_in_completion_order() {
    watchdog(|| {
        multi(2).block_on(async {
            let order = [2usize, 4, 0, 3, 1];
            let (txs, rxs) = gates(order.len());
            let mut txs: Vec<_> = txs.into_iter().map(Some).collect();
            let mut set = JoinSet::new();
            for (i, rx) in rxs.into_iter().enumerate() {
                set.spawn(async move {
                    rx.await.unwrap();
                    i
                });
            }
            for (k, &i) in order.iter().enumerate() {
                txs[i].take().unwrap().send(()).unwrap();
                assert_eq!(set.join_next().await.unwrap().unwrap(), i);
                assert_eq!(set.len(), order.len() - k - 1);
            }
            assert!(set.join_next().await.is_none());
        });
    });
}

#[test]
fn abort_all_gives_cancelled_results() {
    watchdog(|| {
        multi(2).block_on(async {
            let mut set = JoinSet::new();
            set.spawn(async { 1 });
            // Make sure the quick one has finished before the abort.
            assert_eq!(set.join_next().await.unwrap().unwrap(), 1);
            for _ in 0..5 {
                set.spawn(std::future::pending::<i32>());
            }
            set.abort_all();
            assert_eq!(set.len(), 5);
            let mut cancelled = 0;
            while let Some(res) = set.join_next().await {
                assert!(res.unwrap_err().is_cancelled());
                cancelled += 1;
            }
            assert_eq!(cancelled, 5);
        });
    });
}

#[test]
fn one_abort_handle_cancels_one_task() {
    watchdog(|| {
        multi(2).block_on(async {
            let mut set = JoinSet::new();
            let (tx, rx) = oneshot::channel::<()>();
            let stuck = set.spawn(std::future::pending::<&str>());
            set.spawn(async move {
                rx.await.unwrap();
                "released"
            });
            stuck.abort();
            assert!(set.join_next().await.unwrap().unwrap_err().is_cancelled());
            tx.send(()).unwrap();
            assert_eq!(set.join_next().await.unwrap().unwrap(), "released");
        });
    });
}

#[test]
fn dropping_the_set_aborts_every_task() {
    watchdog(|| {
        const N: usize = 100;
        let rt = multi(2);
        rt.block_on(async {
            let (signal, dropped) = drop_signals();
            let (started_tx, started_rx) = async_channel::unbounded::<()>();
            let mut set = JoinSet::new();
            for i in 0..N {
                let guard = signal(i);
                let started = started_tx.clone();
                set.spawn(async move {
                    let _guard = guard;
                    started.send(()).await.unwrap();
                    // Blocked for an hour unless aborted.
                    windlass::time::sleep(std::time::Duration::from_secs(3600)).await;
                });
            }
            for _ in 0..N {
                started_rx.recv().await.unwrap();
            }
            drop(set);
            assert_eq!(recv_n(&dropped, N).await, (0..N).collect::<Vec<_>>());
        });
        // Nothing outlives the set's drop (a detached task would still be
        // alive, sleeping).
        let handle = rt.handle().clone();
        rt.block_on(async move {
            while handle.num_alive_tasks() > 0 {
                windlass::task::yield_now().await;
            }
        });
    });
}

#[test]
fn shutdown_waits_until_every_task_is_gone() {
    watchdog(|| {
        multi(2).block_on(async {
            let drops = DropCounter::new();
            let mut set = JoinSet::new();
            for _ in 0..50 {
                let token = drops.token();
                set.spawn(async move {
                    let _token = token;
                    std::future::pending::<()>().await;
                });
            }
            set.shutdown().await;
            assert!(set.is_empty());
            // Deterministic: shutdown joined every cancelled task.
            assert_eq!(drops.dropped(), 50);
        });
    });
}

#[test]
fn detach_all_leaves_tasks_running() {
    watchdog(|| {
        multi(2).block_on(async {
            let (go_tx, go_rx) = oneshot::channel::<()>();
            let (done_tx, done_rx) = oneshot::channel();
            let mut set = JoinSet::new();
            set.spawn(async move {
                go_rx.await.unwrap();
                done_tx.send("still ran").unwrap();
            });
            set.detach_all();
            assert!(set.is_empty());
            drop(set);
            go_tx.send(()).unwrap();
            assert_eq!(done_rx.await, Ok("still ran"));
        });
    });
}

#[test]
fn handles_from_other_threads_and_spawn_on() {
    watchdog(|| {
        let rt = multi(2);
        let handle = rt.handle().clone();
        let mut set: JoinSet<u32> = (0..4u32)
            .map(|i| {
                let handle = handle.clone();
                std::thread::spawn(move || handle.spawn(async move { i }))
                    .join()
                    .unwrap()
            })
            .collect();
        // From a plain thread, outside the runtime.
        set.spawn_on(async { 10 }, &handle);
        assert_eq!(set.len(), 5);
        let mut sum = 0;
        // Joined from a plain thread with another executor.
        while let Some(res) = futures_lite::future::block_on(set.join_next()) {
            sum += res.unwrap();
        }
        assert_eq!(sum, 16);
    });
}

#[test]
fn join_next_is_cancel_safe() {
    watchdog(|| {
        multi(2).block_on(async {
            let mut set = JoinSet::new();
            let (tx, rx) = oneshot::channel::<()>();
            set.spawn(async move {
                rx.await.unwrap();
                7
            });
            // Start waiting, then give up on this join_next.
            {
                let next = set.join_next();
                futures_lite::pin!(next);
                assert!(
                    futures_lite::future::poll_once(next.as_mut())
                        .await
                        .is_none()
                );
            }
            tx.send(()).unwrap();
            assert_eq!(set.join_next().await.unwrap().unwrap(), 7);
        });
    });
}

#[test]
fn slots_are_reused_while_tasks_come_and_go() {
    watchdog(|| {
        multi(2).block_on(async {
            let mut set = JoinSet::new();
            let live = Arc::new(AtomicUsize::new(0));
            let mut joined = 0;
            for round in 0..200u64 {
                for i in 0..round % 7 + 1 {
                    let live = live.clone();
                    live.fetch_add(1, SeqCst);
                    set.spawn(async move {
                        windlass::task::yield_now().await;
                        live.fetch_sub(1, SeqCst);
                        round * 10 + i
                    });
                }
                // Join about half before spawning more.
                for _ in 0..set.len() / 2 {
                    set.join_next().await.unwrap().unwrap();
                    joined += 1;
                }
            }
            while let Some(res) = set.join_next().await {
                res.unwrap();
                joined += 1;
            }
            assert_eq!(joined, (0..200u64).map(|r| r % 7 + 1).sum::<u64>());
            assert_eq!(live.load(SeqCst), 0);
        });
    });
}

#[test]
fn join_set_100_000_tasks() {
    watchdog(|| {
        const N: u64 = 100_000;
        let sum = multi(2).block_on(async {
            let mut set = JoinSet::new();
            for i in 0..N {
                set.spawn(async move { i });
            }
            assert_eq!(set.len(), N as usize);
            let mut sum = 0;
            while let Some(res) = set.join_next().await {
                sum += res.unwrap();
            }
            sum
        });
        assert_eq!(sum, N * (N - 1) / 2);
    });
}
