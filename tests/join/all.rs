//! `join_all` and `try_join_all`: input order, failures, cancellation of the
//! rest (plain futures dropped, owned tasks aborted, bare handles detached:
//! more in `join_ownership.rs`), O(n) polling, the cooperative budget,
//! 100,000 tasks.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use crate::support::{
    DropCounter, Tally, count_polls, current, drop_signals, gates, multi, recv_n, watchdog,
};
use futures_channel::oneshot;
use windlass::join::{AbortOnDrop, join_all, try_join_all};

/// Futures that finish in *reverse* input order (each waits for the next one
/// to finish), so input order and completion order differ completely.
fn reverse_chain(
    n: usize,
    log: &Arc<Mutex<Vec<usize>>>,
) -> Vec<impl Future<Output = usize> + Send + use<>> {
    let (txs, rxs) = gates(n);
    let mut txs: Vec<Option<oneshot::Sender<()>>> = txs.into_iter().map(Some).collect();
    // The last one starts the chain.
    txs[n - 1].take().unwrap().send(()).unwrap();
    rxs.into_iter()
        .enumerate()
        .map(|(i, rx)| {
            let next = if i > 0 { txs[i - 1].take() } else { None };
            let log = log.clone();
            async move {
                rx.await.unwrap();
                log.lock().unwrap().push(i);
                if let Some(next) = next {
                    next.send(()).unwrap();
                }
                i * 10
            }
        })
        .collect()
}

#[test]
fn join_all_keeps_input_order_for_plain_futures_and_tasks() {
    watchdog(|| {
        let rt = multi(2);
        rt.block_on(async {
            // Plain futures, run concurrently inside join_all.
            let log = Arc::new(Mutex::new(Vec::new()));
            let outs = join_all(reverse_chain(8, &log)).await;
            assert_eq!(outs, (0..8).map(|i| i * 10).collect::<Vec<_>>());
            assert_eq!(
                *log.lock().unwrap(),
                (0..8).rev().collect::<Vec<_>>(),
                "finished in reverse"
            );

            // Spawned tasks.
            let log = Arc::new(Mutex::new(Vec::new()));
            let tasks: Vec<_> = reverse_chain(8, &log)
                .into_iter()
                .map(windlass::spawn)
                .collect();
            let outs: Vec<usize> = join_all(tasks)
                .await
                .into_iter()
                .map(Result::unwrap)
                .collect();
            assert_eq!(outs, (0..8).map(|i| i * 10).collect::<Vec<_>>());
            assert_eq!(*log.lock().unwrap(), (0..8).rev().collect::<Vec<_>>());
        });
    });
}

#[test]
fn empty_inputs_complete_at_once() {
    watchdog(|| {
        // No runtime needed for plain futures.
        let none: Vec<u8> =
            futures_lite::future::block_on(join_all(Vec::<std::future::Ready<u8>>::new()));
        assert!(none.is_empty());
        let ok: Result<Vec<u8>, ()> = futures_lite::future::block_on(try_join_all(Vec::<
            std::future::Ready<Result<u8, ()>>,
        >::new(
        )));
        assert_eq!(ok, Ok(vec![]));
    });
}

#[test]
fn join_all_over_handles_returns_each_tasks_result() {
    watchdog(|| {
        let rt = multi(2);
        let outs = rt.block_on(async {
            let tasks = (0..4u32).map(|i| {
                windlass::spawn(async move {
                    if i == 2 {
                        panic!("task 2 failed");
                    }
                    i
                })
            });
            join_all(tasks).await
        });
        // gather(return_exceptions=True): one Result per task, in order.
        assert_eq!(outs.len(), 4);
        assert_eq!(*outs[0].as_ref().unwrap(), 0);
        assert_eq!(*outs[1].as_ref().unwrap(), 1);
        assert!(outs[2].as_ref().unwrap_err().is_panic());
        assert_eq!(*outs[3].as_ref().unwrap(), 3);
    });
}

#[test]
fn join_all_of_handles_spawned_on_other_threads_outside_any_runtime() {
    watchdog(|| {
        let rt = multi(2);
        let handle = rt.handle().clone();
        let tasks: Vec<_> = (0..4u64)
            .map(|i| {
                let handle = handle.clone();
                std::thread::spawn(move || handle.spawn(async move { i * i }))
                    .join()
                    .unwrap()
            })
            .collect();
        // Awaited from a plain thread with another executor.
        let outs = futures_lite::future::block_on(join_all(tasks));
        let outs: Vec<u64> = outs.into_iter().map(Result::unwrap).collect();
        assert_eq!(outs, [0, 1, 4, 9]);
    });
}

#[test]
fn try_join_all_returns_first_error_and_drops_the_rest_at_once() {
    watchdog(|| {
        let rt = multi(2);
        let drops = DropCounter::new();
        let (fail_tx, fail_rx) = oneshot::channel::<()>();
        let mut fail_rx = Some(fail_rx);
        // Unboxed: the futures are pinned inside the TryJoinAll itself.
        let futs: Vec<_> = (0..10u32)
            .map(|i| {
                let token = drops.token();
                let fail_rx = if i == 7 { fail_rx.take() } else { None };
                async move {
                    let _token = token;
                    match fail_rx {
                        Some(rx) => {
                            rx.await.unwrap();
                            Err(format!("item {i} failed"))
                        }
                        None => std::future::pending::<Result<u32, String>>().await,
                    }
                }
            })
            .collect();
        let res = rt.block_on(async move {
            let all = try_join_all(futs);
            fail_tx.send(()).unwrap();
            all.await
        });
        assert_eq!(res, Err("item 7 failed".to_string()));
        // Every future, the nine that never finish included, is gone by the
        // time try_join_all returns.
        assert_eq!(drops.dropped(), 10);
    });
}

#[test]
fn try_join_all_with_abort_on_drop_cancels_the_other_tasks() {
    watchdog(|| {
        let rt = multi(2);
        rt.block_on(async {
            let (signal, dropped) = drop_signals();
            let (started_tx, started_rx) = async_channel::unbounded::<()>();
            let tasks: Vec<AbortOnDrop<u32>> = (0..6u32)
                .map(|i| {
                    let guard = signal(i as usize);
                    let started = started_tx.clone();
                    AbortOnDrop::new(windlass::spawn(async move {
                        let _guard = guard;
                        started.send(()).await.unwrap();
                        if i == 3 {
                            panic!("task 3 failed");
                        }
                        // Would sleep for an hour unless cancelled.
                        windlass::time::sleep(std::time::Duration::from_secs(3600)).await;
                        i
                    }))
                })
                .collect();
            for _ in 0..6 {
                started_rx.recv().await.unwrap();
            }
            let err = try_join_all(tasks).await.unwrap_err();
            assert!(err.is_panic(), "{err:?}");
            // All six futures are dropped: the panicking one by unwinding, the
            // five sleepers by the abort, not by their hour-long timers.
            assert_eq!(recv_n(&dropped, 6).await, [0, 1, 2, 3, 4, 5]);
        });
    });
}

/// `n` tasks that start, then sleep for an hour holding a guard of `tally`
/// unless `fail` says otherwise; returns them once all have started.
async fn sleepers(
    n: u32,
    tally: &Tally,
    fail: impl Fn(u32) -> bool + Send + Sync + Clone + 'static,
) -> Vec<windlass::JoinHandle<u32>> {
    let (started_tx, started_rx) = async_channel::unbounded::<()>();
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let guard = tally.guard();
            let started = started_tx.clone();
            let fail = fail.clone();
            windlass::spawn(async move {
                let _guard = guard;
                started.send(()).await.unwrap();
                if fail(i) {
                    panic!("task {i} failed");
                }
                windlass::time::sleep(std::time::Duration::from_secs(3600)).await;
                i
            })
        })
        .collect();
    for _ in 0..n {
        started_rx.recv().await.unwrap();
    }
    tasks
}

#[test]
fn try_join_all_over_owned_handles_aborts_the_other_tasks() {
    watchdog(|| {
        let rt = multi(2);
        rt.block_on(async {
            let tally = Tally::new();
            let tasks = sleepers(6, &tally, |i| i == 3).await;
            let owned = tasks.into_iter().map(windlass::JoinHandle::abort_on_drop);
            let err = try_join_all(owned).await.unwrap_err();
            assert!(err.is_panic(), "{err:?}");
            // All six guards are dropped: the panicking task's by unwinding,
            // the five sleepers' by the abort, not by their hour-long timers
            // (the watchdog would fire long before).
            assert_eq!(tally.wait_for(6).await, 6);
        });
    });
}

#[test]
fn try_join_all_aborts_owned_handles_held_inside_input_futures() {
    watchdog(|| {
        let rt = multi(2);
        rt.block_on(async {
            let tally = Tally::new();
            let tasks = sleepers(4, &tally, |_| false).await;
            // Flatten both layers, so that a task *returning* Err stops the
            // gather; the handles live inside the input futures.
            let mut inputs: Vec<_> = tasks
                .into_iter()
                .map(|h| {
                    let h = h.abort_on_drop();
                    Box::pin(async move { h.await.map_err(|e| e.to_string()) })
                        as std::pin::Pin<Box<dyn Future<Output = Result<u32, String>> + Send>>
                })
                .collect();
            let failing = windlass::spawn(async { Err::<u32, _>("bad input") });
            inputs.push(Box::pin(async move {
                failing.await.unwrap().map_err(String::from)
            }));
            assert_eq!(try_join_all(inputs).await, Err("bad input".to_string()));
            assert_eq!(tally.wait_for(4).await, 4);
        });
    });
}

#[test]
fn dropping_an_unfinished_try_join_all_aborts_its_owned_tasks() {
    watchdog(|| {
        let rt = multi(2);
        rt.block_on(async {
            let tally = Tally::new();
            let tasks = sleepers(5, &tally, |_| false).await;
            let tasks: Vec<_> = tasks.into_iter().map(|t| t.abort_on_drop()).collect();
            let out =
                windlass::time::timeout(std::time::Duration::from_millis(20), try_join_all(tasks))
                    .await;
            assert!(out.is_err(), "the sleepers cannot finish in time");
            // The timeout dropped the TryJoinAll, which aborted the tasks.
            assert_eq!(tally.wait_for(5).await, 5);
        });
    });
}

#[test]
fn try_join_all_leaves_handles_returned_as_outputs_running() {
    watchdog(|| {
        let rt = multi(2);
        rt.block_on(async {
            // Input 0 spawns a task and returns its handle (a finished
            // output); input 1 fails afterwards. Dropping that output
            // detaches the task, as dropping any handle does.
            let (go_tx, go_rx) = oneshot::channel::<()>();
            let (out_tx, out_rx) = oneshot::channel();
            let (spawned_tx, spawned_rx) = oneshot::channel::<()>();
            let spawns = Box::pin(async move {
                let task = windlass::spawn(async move {
                    go_rx.await.unwrap();
                    out_tx.send("still ran").unwrap();
                });
                spawned_tx.send(()).unwrap();
                Ok::<_, &str>(Some(task))
            }) as std::pin::Pin<Box<dyn Future<Output = _> + Send>>;
            let fails = Box::pin(async move {
                spawned_rx.await.unwrap();
                Err("later failure")
            });
            assert_eq!(
                try_join_all([spawns, fails]).await.unwrap_err(),
                "later failure"
            );
            go_tx.send(()).unwrap();
            assert_eq!(out_rx.await, Ok("still ran"));
        });
    });
}

/// Panics when dropped.
struct PanicOnDrop;

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        panic!("drop of an abandoned input panicked");
    }
}

#[test]
fn a_panicking_drop_of_an_abandoned_input_propagates() {
    watchdog(|| {
        assert_eq!(
            futures_lite::future::block_on(try_join_all([async { Err::<(), _>(1) }])),
            Err(1)
        );

        let pending_with_bomb = Box::pin(async {
            let _bomb = PanicOnDrop;
            std::future::pending::<Result<(), i32>>().await
        }) as Pin<Box<dyn Future<Output = Result<(), i32>> + Send>>;
        let failing = Box::pin(async { Err(2) });
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            futures_lite::future::block_on(try_join_all([pending_with_bomb, failing]))
        }));
        assert!(caught.is_err(), "the panicking drop propagates");
    });
}

#[test]
fn join_all_polls_only_woken_futures() {
    watchdog(|| {
        const N: usize = 2_000;
        let rt = multi(2);
        let polls = Arc::new(AtomicUsize::new(0));
        let (txs, rxs) = gates(N);
        let futs: Vec<_> = rxs.into_iter().map(|rx| count_polls(rx, &polls)).collect();
        rt.block_on(async move {
            let all = join_all(futs);
            // Release them one by one from another task, so that join_all is
            // woken many times.
            windlass::spawn(async move {
                for tx in txs {
                    tx.send(()).unwrap();
                    windlass::task::yield_now().await;
                }
            });
            let outs = all.await;
            assert!(outs.iter().all(Result::is_ok));
        });
        // One poll to start and one per wake: 2N. Polling every input on
        // each wake would be about N * N / 2.
        let polls = polls.load(SeqCst);
        assert!(polls <= 2 * N, "{polls} polls for {N} futures");
    });
}

/// Counts how often the wrapped future is polled.
struct Polls<F>(F, Arc<AtomicUsize>);

impl<F: Future + Unpin> Future for Polls<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.1.fetch_add(1, SeqCst);
        Pin::new(&mut self.0).poll(cx)
    }
}

#[test]
fn join_all_of_many_finished_tasks_yields_to_other_tasks() {
    watchdog(|| {
        const N: usize = 10_000;
        // One thread: while join_all runs, nothing else does unless it yields.
        let rt = current();
        let join_polls = Arc::new(AtomicUsize::new(0));
        let handle_polls = Arc::new(AtomicUsize::new(0));
        let (jp, hp) = (join_polls.clone(), handle_polls.clone());
        let collected = rt.block_on(async move {
            let tasks: Vec<_> = (0..N).map(|i| windlass::spawn(async move { i })).collect();
            // Let every task finish before join_all looks at them.
            while !tasks.iter().all(|t| t.is_finished()) {
                windlass::task::yield_now().await;
            }
            let tasks = tasks.into_iter().map(|t| count_polls(t, &hp));
            let all = Polls(join_all(tasks), jp);
            windlass::spawn(all).await.unwrap()
        });
        assert_eq!(collected.len(), N);
        // Each poll may take at most one cooperative budget of results (128),
        // so collecting N finished tasks takes many polls, each a chance for
        // other tasks to run.
        let polls = join_polls.load(SeqCst);
        assert!(
            polls >= N / 128,
            "join_all took {polls} polls for {N} finished tasks: it did not yield"
        );
        assert!(
            polls <= N / 64 + 2,
            "join_all took {polls} polls: more than one per budget"
        );
        // And it stops polling handles when the budget is spent, rather than
        // polling the rest of its batch only to be told to yield by each.
        let handle_polls = handle_polls.load(SeqCst);
        assert!(
            handle_polls <= 2 * N,
            "{handle_polls} handle polls for {N} handles"
        );
    });
}

#[test]
fn join_all_100_000_tasks() {
    watchdog(|| {
        const N: u64 = 100_000;
        let rt = multi(2);
        let outs = rt.block_on(async {
            let tasks: Vec<_> = (0..N).map(|i| windlass::spawn(async move { i })).collect();
            join_all(tasks).await
        });
        assert_eq!(outs.len(), N as usize);
        for (i, out) in outs.into_iter().enumerate() {
            assert_eq!(out.unwrap(), i as u64);
        }
        assert_eq!(rt.handle().num_alive_tasks(), 0);
    });
}

#[test]
fn dropping_join_all_cancels_plain_futures_and_detaches_tasks() {
    watchdog(|| {
        let rt = multi(2);
        let drops = DropCounter::new();
        rt.block_on(async {
            let futs: Vec<_> = (0..5)
                .map(|_| {
                    let token = drops.token();
                    async move {
                        let _token = token;
                        std::future::pending::<()>().await
                    }
                })
                .collect();
            let mut all = join_all(futs);
            // Poll it once so the futures have started, then drop it.
            assert!(futures_lite::future::poll_once(&mut all).await.is_none());
            drop(all);
            assert_eq!(drops.dropped(), 5);

            // Handles are detached, not aborted: the task still delivers.
            let (tx, rx) = oneshot::channel();
            let (go_tx, go_rx) = oneshot::channel::<()>();
            let task = windlass::spawn(async move {
                go_rx.await.unwrap();
                tx.send(42).unwrap();
            });
            let mut all = join_all([task]);
            assert!(futures_lite::future::poll_once(&mut all).await.is_none());
            drop(all);
            go_tx.send(()).unwrap();
            assert_eq!(rx.await, Ok(42));
        });
    });
}
