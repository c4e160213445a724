//! `wait` with each `ReturnWhen`, with and without a timeout, on empty
//! input, and what happens to the pending handles afterwards.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use crate::support::{gates, multi, watchdog};
use futures_channel::oneshot;
use windlass::JoinHandle;
use windlass::join::{ReturnWhen, wait};

const MODES: [ReturnWhen; 3] = [
    ReturnWhen::FirstCompleted,
    ReturnWhen::FirstException,
    ReturnWhen::AllCompleted,
];

/// Tasks that each wait for their gate, then return their index (or panic
/// if `fails` says so).
fn gated_tasks(n: usize, fails: &[usize]) -> (Vec<oneshot::Sender<()>>, Vec<JoinHandle<usize>>) {
    let (txs, rxs) = gates(n);
    let tasks = rxs
        .into_iter()
        .enumerate()
        .map(|(i, rx)| {
            let fails = fails.contains(&i);
            windlass::spawn(async move {
                rx.await.expect("gate dropped");
                if fails {
                    panic!("task {i} failed");
                }
                i
            })
        })
        .collect();
    (txs, tasks)
}

fn oks(done: Vec<Result<usize, windlass::JoinError>>) -> Vec<usize> {
    done.into_iter().map(Result::unwrap).collect()
}

#[test]
fn all_completed_waits_for_every_task() {
    watchdog(|| {
        multi(2).block_on(async {
            let (txs, tasks) = gated_tasks(4, &[]);
            let waiting = wait(tasks, ReturnWhen::AllCompleted, None);
            for tx in txs {
                tx.send(()).unwrap();
            }
            let (done, pending) = waiting.await;
            assert!(pending.is_empty());
            let mut outs = oks(done);
            outs.sort_unstable();
            assert_eq!(outs, [0, 1, 2, 3]);
        });
    });
}

#[test]
fn first_completed_returns_the_finished_and_hands_back_the_rest() {
    watchdog(|| {
        multi(2).block_on(async {
            let (mut txs, tasks) = gated_tasks(4, &[]);
            let ids: Vec<_> = tasks.iter().map(JoinHandle::id).collect();
            txs.remove(2).send(()).unwrap();
            let (done, pending) = wait(tasks, ReturnWhen::FirstCompleted, None).await;
            assert_eq!(oks(done), [2]);
            // Pending: the others, in input order, still running and usable.
            let pending_ids: Vec<_> = pending.iter().map(JoinHandle::id).collect();
            assert_eq!(pending_ids, [ids[0], ids[1], ids[3]]);
            assert!(pending.iter().all(|t| !t.is_finished()));
            let mut pending = pending.into_iter();
            let (t0, t1, t3) = (
                pending.next().unwrap(),
                pending.next().unwrap(),
                pending.next().unwrap(),
            );
            t1.abort();
            assert!(t1.await.unwrap_err().is_cancelled());
            let mut txs = txs.into_iter();
            txs.next().unwrap().send(()).unwrap(); // gate 0
            assert_eq!(t0.await.unwrap(), 0);
            let _ = txs.next(); // gate 1: its task is gone
            txs.next().unwrap().send(()).unwrap(); // gate 3
            assert_eq!(t3.await.unwrap(), 3);
        });
    });
}

#[test]
fn first_exception_returns_at_the_first_panic() {
    watchdog(|| {
        multi(2).block_on(async {
            let (mut txs, tasks) = gated_tasks(3, &[1]);
            let ids: Vec<_> = tasks.iter().map(JoinHandle::id).collect();
            let waiting = wait(tasks, ReturnWhen::FirstException, None);
            txs.remove(1).send(()).unwrap(); // task 1 panics
            let (done, pending) = waiting.await;
            assert_eq!(done.len(), 1);
            let err = done.into_iter().next().unwrap().unwrap_err();
            assert!(err.is_panic());
            assert_eq!(err.id(), ids[1]);
            assert_eq!(
                pending.iter().map(JoinHandle::id).collect::<Vec<_>>(),
                [ids[0], ids[2]]
            );
            for t in pending {
                t.abort();
            }
        });
    });
}

#[test]
fn first_exception_without_failures_waits_for_all() {
    watchdog(|| {
        multi(2).block_on(async {
            type Fut = Pin<Box<dyn Future<Output = Result<usize, ()>> + Send>>;
            let (txs, rxs) = gates(2);
            let mut futs: Vec<Fut> = vec![Box::pin(async { Ok(0) })];
            for (i, rx) in rxs.into_iter().enumerate() {
                futs.push(Box::pin(async move {
                    rx.await.unwrap();
                    Ok(i + 1)
                }));
            }
            let mut waiting = wait(futs, ReturnWhen::FirstException, None);
            // Input 0 finishes on the first poll; unlike FirstCompleted, a
            // success does not end the wait.
            assert!(
                futures_lite::future::poll_once(&mut waiting)
                    .await
                    .is_none()
            );
            for tx in txs {
                tx.send(()).unwrap();
            }
            let (done, pending) = waiting.await;
            assert!(pending.is_empty());
            assert_eq!(done, [Ok(0), Ok(1), Ok(2)]);
        });
    });
}

#[test]
fn first_exception_counts_err_outputs_of_plain_futures() {
    watchdog(|| {
        multi(2).block_on(async {
            type Fut = Pin<Box<dyn Future<Output = Result<u8, &'static str>> + Send>>;
            let futs: Vec<Fut> = vec![
                Box::pin(std::future::pending()),
                Box::pin(async { Err("bad input") }),
                Box::pin(async { Ok(1) }),
            ];
            let (done, pending) = wait(futs, ReturnWhen::FirstException, None).await;
            assert!(done.contains(&Err("bad input")), "{done:?}");
            assert!(!pending.is_empty());
        });
    });
}

#[test]
fn each_mode_with_a_timeout_returns_what_is_done_and_the_rest() {
    watchdog(|| {
        multi(2).block_on(async {
            for mode in MODES {
                // Task 0 finishes; task 1 never does (its gate is kept).
                let (mut txs, tasks) = gated_tasks(2, &[]);
                txs.remove(0).send(()).unwrap();
                let timeout = Duration::from_millis(200);
                let start = Instant::now();
                let (done, pending) = wait(tasks, mode, Some(timeout)).await;
                let took = start.elapsed();
                assert_eq!(oks(done), [0], "{mode:?}");
                assert_eq!(pending.len(), 1, "{mode:?}");
                if mode == ReturnWhen::FirstCompleted {
                    assert!(
                        took < timeout,
                        "{mode:?} should not wait for the timeout: {took:?}"
                    );
                } else {
                    assert!(took >= timeout, "{mode:?} returned early: {took:?}");
                }
                // The pending task is untouched by the timeout: still running,
                // and finishes when released.
                let task = pending.into_iter().next().unwrap();
                assert!(!task.is_finished());
                txs.remove(0).send(()).unwrap();
                assert_eq!(task.await.unwrap(), 1);
            }
        });
    });
}

#[test]
fn timeout_with_nothing_finished_returns_everything_pending() {
    watchdog(|| {
        multi(2).block_on(async {
            for mode in MODES {
                let (txs, tasks) = gated_tasks(3, &[]);
                let (done, pending) = wait(tasks, mode, Some(Duration::from_millis(30))).await;
                assert!(done.is_empty(), "{mode:?}");
                assert_eq!(pending.len(), 3, "{mode:?}");
                for t in pending {
                    t.abort();
                    assert!(t.await.unwrap_err().is_cancelled());
                }
                drop(txs);
            }
        });
    });
}

#[test]
fn zero_timeout_polls_once() {
    watchdog(|| {
        multi(2).block_on(async {
            type Fut = Pin<Box<dyn Future<Output = Result<u8, ()>> + Send>>;
            for mode in MODES {
                let futs: Vec<Fut> =
                    vec![Box::pin(std::future::pending()), Box::pin(async { Ok(5) })];
                let (done, pending) = wait(futs, mode, Some(Duration::ZERO)).await;
                assert_eq!(done, [Ok(5)], "{mode:?}");
                assert_eq!(pending.len(), 1, "{mode:?}");
            }
        });
    });
}

#[test]
fn empty_input_returns_at_once_in_every_mode() {
    watchdog(|| {
        let rt = multi(2);
        for mode in MODES {
            for timeout in [None, Some(Duration::ZERO), Some(Duration::from_secs(3600))] {
                let start = Instant::now();
                let (done, pending) =
                    rt.block_on(wait(Vec::<JoinHandle<()>>::new(), mode, timeout));
                assert!(done.is_empty() && pending.is_empty());
                // The hour-long timeout is not waited for.
                assert!(
                    start.elapsed() < Duration::from_secs(60),
                    "{mode:?} {timeout:?}"
                );
            }
        }
        // Without a timeout it needs no runtime at all.
        let (done, pending) = futures_lite::future::block_on(wait(
            Vec::<JoinHandle<()>>::new(),
            ReturnWhen::AllCompleted,
            None,
        ));
        assert!(done.is_empty() && pending.is_empty());
    });
}

#[test]
fn wait_on_handles_spawned_from_other_threads() {
    watchdog(|| {
        let rt = multi(2);
        let handle = rt.handle().clone();
        let (txs, rxs) = gates(3);
        let tasks: Vec<JoinHandle<usize>> = rxs
            .into_iter()
            .enumerate()
            .map(|(i, rx)| {
                let handle = handle.clone();
                std::thread::spawn(move || {
                    handle.spawn(async move {
                        rx.await.unwrap();
                        i
                    })
                })
                .join()
                .unwrap()
            })
            .collect();
        let mut txs = txs.into_iter();
        txs.next().unwrap().send(()).unwrap();
        // Waited on from a plain thread, without a timeout.
        let (done, pending) =
            futures_lite::future::block_on(wait(tasks, ReturnWhen::FirstCompleted, None));
        assert_eq!(oks(done), [0]);
        for tx in txs {
            tx.send(()).unwrap();
        }
        let (done, pending) = rt.block_on(wait(
            pending,
            ReturnWhen::AllCompleted,
            Some(Duration::from_secs(30)),
        ));
        assert!(pending.is_empty());
        let mut outs = oks(done);
        outs.sort_unstable();
        assert_eq!(outs, [1, 2]);
    });
}

#[test]
fn wait_on_many_tasks() {
    watchdog(|| {
        const N: usize = 20_000;
        let rt = multi(2);
        let (done, pending) = rt.block_on(async {
            let tasks: Vec<_> = (0..N).map(|i| windlass::spawn(async move { i })).collect();
            wait(tasks, ReturnWhen::AllCompleted, None).await
        });
        assert!(pending.is_empty());
        let mut outs = oks(done);
        outs.sort_unstable();
        assert!(outs.into_iter().eq(0..N));
    });
}
