//! `TaskGroup`: spawn-order results, a failure (error or panic) cancels the
//! siblings at once, the first failure is reported, external aborts, drop.

mod common;
mod join_support;

use std::time::Duration;

use common::{DropCounter, watchdog};
use futures_channel::oneshot;
use join_support::{drop_signals, gates, recv_n, rt2};
use windlass::join::{TaskGroup, TaskGroupError};
use windlass::time::sleep;

#[test]
fn values_come_back_in_spawn_order() {
    watchdog(|| {
        rt2().block_on(async {
            // Finish in reverse spawn order: task i waits for task i + 1.
            let n = 6;
            let (txs, rxs) = gates(n);
            let mut txs: Vec<_> = txs.into_iter().map(Some).collect();
            txs[n - 1].take().unwrap().send(()).unwrap();
            let mut group = TaskGroup::<usize, ()>::new();
            for (i, rx) in rxs.into_iter().enumerate() {
                let next = if i > 0 { txs[i - 1].take() } else { None };
                group.spawn(async move {
                    rx.await.unwrap();
                    if let Some(next) = next {
                        next.send(()).unwrap();
                    }
                    Ok(i)
                });
            }
            assert_eq!(group.len(), n);
            assert_eq!(group.join().await.unwrap(), [0, 1, 2, 3, 4, 5]);
        });
    });
}

#[test]
fn empty_group_joins_at_once() {
    watchdog(|| {
        let group = TaskGroup::<(), ()>::new();
        assert!(group.is_empty());
        assert!(
            futures_lite::future::block_on(group.join())
                .unwrap()
                .is_empty()
        );
    });
}

#[test]
fn an_error_cancels_the_siblings_and_join_waits_for_them() {
    watchdog(|| {
        rt2().block_on(async {
            let drops = DropCounter::new();
            let (started_tx, started_rx) = async_channel::unbounded::<()>();
            let (fail_tx, fail_rx) = oneshot::channel::<()>();
            let mut group = TaskGroup::<u32, String>::new();
            for i in 0..20u32 {
                let token = drops.token();
                let started = started_tx.clone();
                group.spawn(async move {
                    let _token = token;
                    started.send(()).await.unwrap();
                    sleep(Duration::from_secs(3600)).await;
                    Ok(i)
                });
            }
            group.spawn(async move {
                fail_rx.await.unwrap();
                Err("disk full".to_string())
            });
            for _ in 0..20 {
                started_rx.recv().await.unwrap();
            }
            fail_tx.send(()).unwrap();
            let err = group.join().await.unwrap_err();
            // The task's own error, not one of the siblings' cancellations
            // (which may well be seen first).
            assert!(
                matches!(&err, TaskGroupError::Task(e) if e == "disk full"),
                "{err:?}"
            );
            // join returned only after every sibling was cancelled and gone.
            assert_eq!(drops.dropped(), 20);
        });
    });
}

#[test]
fn a_panic_cancels_the_siblings() {
    watchdog(|| {
        rt2().block_on(async {
            let drops = DropCounter::new();
            let mut group = TaskGroup::<(), ()>::new();
            for _ in 0..5 {
                let token = drops.token();
                group.spawn(async move {
                    let _token = token;
                    std::future::pending().await
                });
            }
            group.spawn(async {
                windlass::task::yield_now().await;
                panic!("worker crashed")
            });
            let err = group.join().await.unwrap_err();
            assert!(
                matches!(&err, TaskGroupError::Join(e) if e.is_panic()),
                "{err:?}"
            );
            assert_eq!(drops.dropped(), 5);
        });
    });
}

#[test]
fn siblings_are_cancelled_even_while_nobody_joins() {
    watchdog(|| {
        rt2().block_on(async {
            let (signal, dropped) = drop_signals();
            let (started_tx, started_rx) = async_channel::unbounded::<()>();
            let (fail_tx, fail_rx) = oneshot::channel::<()>();
            let mut group = TaskGroup::<(), &str>::new();
            for i in 0..4 {
                let guard = signal(i);
                let started = started_tx.clone();
                group.spawn(async move {
                    let _guard = guard;
                    started.send(()).await.unwrap();
                    std::future::pending().await
                });
            }
            group.spawn(async move {
                fail_rx.await.unwrap();
                Err("bad")
            });
            for _ in 0..4 {
                started_rx.recv().await.unwrap();
            }
            fail_tx.send(()).unwrap();
            // Not joining: the failing task itself aborted the siblings.
            assert_eq!(recv_n(&dropped, 4).await, [0, 1, 2, 3]);
            // A task spawned into a failed group is cancelled at once.
            let late = group.spawn(std::future::pending());
            let err = group.join().await.unwrap_err();
            assert!(matches!(err, TaskGroupError::Task("bad")));
            assert!(late.is_finished());
        });
    });
}

#[test]
fn an_external_abort_is_reported_but_does_not_cancel_siblings() {
    watchdog(|| {
        rt2().block_on(async {
            let (tx, rx) = oneshot::channel::<()>();
            let (done_tx, done_rx) = oneshot::channel::<()>();
            let mut group = TaskGroup::<u8, ()>::new();
            let stuck = group.spawn(std::future::pending());
            group.spawn(async move {
                rx.await.unwrap();
                done_tx.send(()).unwrap();
                Ok(1)
            });
            stuck.abort();
            let join = windlass::spawn(group.join());
            // The sibling still runs to completion.
            tx.send(()).unwrap();
            assert_eq!(done_rx.await, Ok(()));
            let err = join.await.unwrap().unwrap_err();
            assert!(
                matches!(&err, TaskGroupError::Join(e) if e.is_cancelled()),
                "{err:?}"
            );
        });
    });
}

#[test]
fn dropping_the_group_aborts_every_task() {
    watchdog(|| {
        rt2().block_on(async {
            let (signal, dropped) = drop_signals();
            let mut group = TaskGroup::<(), ()>::new();
            for i in 0..10 {
                let guard = signal(i);
                group.spawn(async move {
                    let _guard = guard;
                    sleep(Duration::from_secs(3600)).await;
                    Ok(())
                });
            }
            drop(group);
            assert_eq!(recv_n(&dropped, 10).await, (0..10).collect::<Vec<_>>());
        });
    });
}

#[test]
fn spawn_on_from_a_plain_thread() {
    watchdog(|| {
        let rt = rt2();
        let mut group = TaskGroup::<u32, ()>::new();
        for i in 0..3 {
            group.spawn_on(async move { Ok(i) }, rt.handle());
        }
        assert_eq!(rt.block_on(group.join()).unwrap(), [0, 1, 2]);
    });
}
