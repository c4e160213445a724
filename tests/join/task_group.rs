//! `TaskGroup`: spawn-order results, a failure (error or panic) cancels the
//! siblings at once, the first failure is reported, external aborts, drop;
//! `GroupSpawner`: members adding siblings, refusals, spawns racing the end.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::time::Duration;

use crate::support::{
    DropCounter, Tally, drop_signals, expect_panic, gates, multi, recv_n, watchdog,
};
use futures_channel::oneshot;
use windlass::join::{GroupSpawnError, GroupSpawner, TaskGroup, TaskGroupError};
use windlass::time::sleep;

#[test]
fn values_come_back_in_spawn_order() {
    watchdog(|| {
        multi(2).block_on(async {
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
        multi(2).block_on(async {
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
        multi(2).block_on(async {
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
        multi(2).block_on(async {
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
        multi(2).block_on(async {
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
        multi(2).block_on(async {
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
        let rt = multi(2);
        let mut group = TaskGroup::<u32, ()>::new();
        for i in 0..3 {
            group.spawn_on(async move { Ok(i) }, rt.handle());
        }
        assert_eq!(rt.block_on(group.join()).unwrap(), [0, 1, 2]);
    });
}

/// Compile-time: a spawner can go anywhere a task can.
#[allow(dead_code)]
fn spawner_is_clone_send_sync() {
    fn check<S: Clone + Send + Sync + 'static>() {}
    check::<GroupSpawner<Vec<u8>, String>>();
}

/// A member that spawns `fanout` children through the group's spawner, each
/// doing the same down to `depth` 1; every member returns its path.
fn tree(
    spawner: GroupSpawner<String, ()>,
    path: String,
    depth: u32,
    fanout: u32,
) -> std::pin::Pin<Box<dyn Future<Output = Result<String, ()>> + Send>> {
    Box::pin(async move {
        if depth > 1 {
            for child in 0..fanout {
                let sub = tree(
                    spawner.clone(),
                    format!("{path}.{child}"),
                    depth - 1,
                    fanout,
                );
                spawner.spawn(sub).expect("the group is open");
                windlass::task::yield_now().await;
            }
        }
        Ok(path)
    })
}

#[test]
fn members_spawn_siblings_and_join_waits_for_all_of_them() {
    watchdog(|| {
        multi(2).block_on(async {
            let mut group = TaskGroup::new();
            group.spawn(tree(group.spawner(), "r".into(), 5, 3));
            let paths = group.join().await.unwrap();
            // 1 + 3 + 9 + 27 + 81 members, each joined once.
            assert_eq!(paths.len(), 121);
            let distinct: BTreeSet<&String> = paths.iter().collect();
            assert_eq!(distinct.len(), 121);
            // Spawn order: the root first, and each parent before its
            // children (a position is taken before the task can run).
            assert_eq!(paths[0], "r");
            for (i, path) in paths.iter().enumerate() {
                if let Some((parent, _)) = path.rsplit_once('.') {
                    let p = paths.iter().position(|q| q == parent).unwrap();
                    assert!(p < i, "{parent} after {path}");
                }
            }
        });
    });
}

#[test]
fn siblings_spawned_through_a_spawner_are_cancelled_on_failure() {
    watchdog(|| {
        multi(2).block_on(async {
            let tally = Tally::new();
            let (spawned_tx, spawned_rx) = async_channel::unbounded::<()>();
            let (fail_tx, fail_rx) = oneshot::channel::<()>();
            let mut group = TaskGroup::<(), String>::new();
            let spawner = group.spawner();
            let parent_tally = tally.clone();
            group.spawn(async move {
                for _ in 0..5 {
                    let guard = parent_tally.guard();
                    let spawned = spawned_tx.clone();
                    spawner
                        .spawn(async move {
                            let _guard = guard;
                            spawned.send(()).await.unwrap();
                            sleep(Duration::from_secs(3600)).await;
                            Ok(())
                        })
                        .unwrap();
                }
                Ok(())
            });
            let spawner = group.spawner();
            group.spawn(async move {
                fail_rx.await.unwrap();
                // The failing member's sibling spawns after the failure are
                // refused (it runs before its own `Err` is seen: fine).
                Err("member failed".to_string())
            });
            for _ in 0..5 {
                spawned_rx.recv().await.unwrap();
            }
            fail_tx.send(()).unwrap();
            let err = group.join().await.unwrap_err();
            assert!(
                matches!(&err, TaskGroupError::Task(e) if e == "member failed"),
                "{err:?}"
            );
            // join returned after the five spawned sleepers were cancelled.
            assert_eq!(tally.dropped(), 5);
            assert_eq!(tally.wait_for(5).await, 5);
            assert_eq!(
                spawner.spawn(async { Ok(()) }).unwrap_err(),
                GroupSpawnError::Finished
            );
        });
    });
}

/// A future that records whether it was ever polled, and holds a drop token.
fn watched(
    drops: &DropCounter,
    polled: &Arc<AtomicBool>,
) -> impl Future<Output = Result<(), ()>> + Send + 'static {
    let token = drops.token();
    let polled = polled.clone();
    async move {
        let _token = token;
        polled.store(true, SeqCst);
        Ok(())
    }
}

#[test]
fn refused_spawns_drop_the_future_unpolled() {
    watchdog(|| {
        multi(2).block_on(async {
            let drops = DropCounter::new();
            let polled = Arc::new(AtomicBool::new(false));

            // A failed group: Stopping.
            let mut group = TaskGroup::<(), ()>::new();
            let spawner = group.spawner();
            group.spawn(async { Err(()) });
            let mut seen = None;
            // The failure happens on a worker; spawn until it shows (each
            // accepted spawn before that is a member, cancelled or done).
            while seen.is_none() {
                if let Err(e) = spawner.spawn(async { Ok(()) }) {
                    seen = Some(e);
                }
                windlass::task::yield_now().await;
            }
            assert_eq!(seen, Some(GroupSpawnError::Stopping));
            let before = drops.dropped();
            assert_eq!(
                spawner.spawn(watched(&drops, &polled)).unwrap_err(),
                GroupSpawnError::Stopping
            );
            assert_eq!(drops.dropped(), before + 1, "dropped at once");
            assert!(group.join().await.is_err());

            // A finished group, and a dropped one: Finished.
            for finish_by_join in [true, false] {
                let group = TaskGroup::<(), ()>::new();
                let spawner = group.spawner();
                if finish_by_join {
                    assert!(group.join().await.unwrap().is_empty());
                } else {
                    drop(group);
                }
                assert_eq!(
                    spawner.spawn(watched(&drops, &polled)).unwrap_err(),
                    GroupSpawnError::Finished
                );
            }

            // abort_all: Stopping.
            let group = TaskGroup::<(), ()>::new();
            let spawner = group.spawner();
            group.abort_all();
            assert_eq!(
                spawner.spawn(watched(&drops, &polled)).unwrap_err(),
                GroupSpawnError::Stopping
            );
            assert_eq!(drops.created(), 4);
            assert_eq!(drops.dropped(), 4);
            assert!(!polled.load(SeqCst), "a refused future is never polled");
        });
    });
}

#[test]
fn spawns_racing_the_end_of_join_are_joined_or_refused() {
    watchdog(|| {
        const ROUNDS: usize = 500;
        const RACER_LIMIT: usize = 100_000;
        let rt = multi(2);
        let drops = DropCounter::new();
        let (mut joined_late, mut refused_total) = (0, 0);
        for round in 0..ROUNDS {
            let mut group = TaskGroup::<usize, ()>::new();
            // A few members, one of which adds a sibling on its way out.
            for i in 0..3 {
                let spawner = group.spawner();
                group.spawn_on(
                    async move {
                        if i == 2 {
                            spawner.spawn(async { Ok(1000) }).unwrap();
                        }
                        Ok(i)
                    },
                    rt.handle(),
                );
            }
            // Another thread spawns as the group ends: each spawn must be
            // joined (Ok) or refused (Err), and then no more are accepted.
            let spawner = group.spawner();
            let handle = rt.handle().clone();
            let thread_drops = drops.clone();
            let racer = std::thread::spawn(move || {
                let mut accepted = Vec::new();
                // Bounded, in case this thread outpaces the workers so much
                // that the group never empties while it spawns.
                for k in 0..RACER_LIMIT {
                    let token = thread_drops.token();
                    let id = 2000 + k;
                    match spawner.spawn_on(
                        async move {
                            let _token = token;
                            Ok(id)
                        },
                        &handle,
                    ) {
                        Ok(_) => accepted.push(id),
                        Err(e) => {
                            assert_eq!(e, GroupSpawnError::Finished);
                            return (accepted, true);
                        }
                    }
                    if k > 50 {
                        std::thread::yield_now();
                    }
                }
                (accepted, false)
            });
            let values = rt.block_on(group.join()).unwrap();
            let (accepted, refused) = racer.join().unwrap();
            // Spawn order within each source, and nothing lost or doubled.
            let mut expected: Vec<usize> = vec![0, 1, 2, 1000];
            expected.extend(&accepted);
            let mut got = values.clone();
            got.sort_unstable();
            expected.sort_unstable();
            assert_eq!(got, expected, "round {round}");
            let racers: Vec<usize> = values.iter().copied().filter(|&v| v >= 2000).collect();
            assert_eq!(racers, accepted, "round {round}: spawn order");
            joined_late += accepted.len();
            refused_total += usize::from(refused);
        }
        // Every future, accepted or refused, was dropped exactly once (the
        // token asserts against a second drop).
        assert_eq!(drops.created(), drops.dropped());
        assert!(refused_total > 0, "the racer never saw the group finish");
        println!("{joined_late} spawns from another thread joined over {ROUNDS} rounds");
    });
}

#[test]
fn a_spawn_outside_a_runtime_panics_and_join_does_not_wait_for_it() {
    watchdog(|| {
        let rt = multi(2);
        let mut group = TaskGroup::<u8, ()>::new();
        group.spawn_on(async { Ok(1) }, rt.handle());
        let spawner = group.spawner();
        let msg = expect_panic(|| spawner.spawn(async { Ok(2) }));
        assert!(msg.contains("outside a windlass runtime"), "{msg}");
        // The reservation was given back: join ends with the one member.
        assert_eq!(rt.block_on(group.join()).unwrap(), [1]);
    });
}

#[test]
fn spawns_racing_a_failure_are_cancelled_or_refused() {
    watchdog(|| {
        const ROUNDS: usize = 200;
        let rt = multi(2);
        let drops = DropCounter::new();
        for round in 0..ROUNDS {
            let mut group = TaskGroup::<(), &str>::new();
            let (go_tx, go_rx) = oneshot::channel::<()>();
            group.spawn_on(
                async move {
                    go_rx.await.unwrap();
                    for _ in 0..round % 7 {
                        windlass::task::yield_now().await;
                    }
                    Err("failed")
                },
                rt.handle(),
            );
            let spawner = group.spawner();
            let handle = rt.handle().clone();
            let thread_drops = drops.clone();
            let racer = std::thread::spawn(move || {
                let mut go = Some(go_tx);
                loop {
                    let token = thread_drops.token();
                    // Would never finish unless cancelled: if one escaped
                    // the failure, join would hang and the watchdog fire.
                    let sleeper = async move {
                        let _token = token;
                        std::future::pending::<Result<(), &str>>().await
                    };
                    match spawner.spawn_on(sleeper, &handle) {
                        Ok(_) => {}
                        // Finished: the racer slept through the failure.
                        Err(GroupSpawnError::Stopping | GroupSpawnError::Finished) => return,
                    }
                    if let Some(go) = go.take() {
                        go.send(()).unwrap();
                    }
                }
            });
            let err = rt.block_on(group.join()).unwrap_err();
            assert!(matches!(err, TaskGroupError::Task("failed")), "{err:?}");
            racer.join().unwrap();
            assert_eq!(drops.created(), drops.dropped(), "round {round}");
        }
    });
}
