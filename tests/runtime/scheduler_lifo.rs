//! The LIFO slot: who takes it, and who may not.
//!
//! Fairness past a blocked worker (issue #13): a task woken into the LIFO
//! slot (or queue) of a worker that then blocks inside a poll is run by
//! another worker while the first one is still blocked. Synchronised with
//! channels only: the blocking task blocks on a channel the test releases
//! only after the woken task has run elsewhere. Before the fix the woken
//! task waited in the blocked worker's private slot, so the test's wait
//! for it ran out (a failure after 10 s, not a hang: the blocked worker is
//! released either way).
//!
//! Placement: a wake from another worker than the task's last one does
//! not take the LIFO slot.

use std::sync::mpsc;
use std::thread::ThreadId;
use std::time::Duration;

use crate::support::{multi, watchdog_for};

#[test]
fn task_woken_before_its_worker_blocks_runs_on_another_worker() {
    watchdog_for(Duration::from_secs(60), || {
        let rt = multi(2);
        for round in 0..20 {
            let (wake_tx, wake_rx) = futures_channel::oneshot::channel::<()>();
            let (pending_tx, pending_rx) = mpsc::channel::<()>();
            let (ran_tx, ran_rx) = mpsc::channel::<ThreadId>();
            let (release_tx, release_rx) = mpsc::channel::<()>();
            let (blocker_tx, blocker_rx) = mpsc::channel::<ThreadId>();
            // The task to be woken: waits on `wake_rx`.
            let woken = rt.spawn(async move {
                let mut wake_rx = std::pin::pin!(wake_rx);
                std::future::poll_fn(|cx| {
                    let poll = wake_rx.as_mut().poll(cx);
                    if poll.is_pending() {
                        let _ = pending_tx.send(());
                    }
                    poll
                })
                .await
                .unwrap();
                ran_tx.send(std::thread::current().id()).unwrap();
            });
            pending_rx.recv().unwrap();
            // The blocker: wakes it (into this worker's LIFO slot), then
            // blocks its worker until the test releases it.
            let blocker = rt.spawn(async move {
                wake_tx.send(()).unwrap();
                blocker_tx.send(std::thread::current().id()).unwrap();
                release_rx.recv().unwrap(); // a blocking call inside a poll
            });
            let blocked_thread = blocker_rx.recv().unwrap();
            let ran_on = ran_rx.recv_timeout(Duration::from_secs(10));
            release_tx.send(()).unwrap();
            let ran_on = ran_on.unwrap_or_else(|_| {
                panic!("round {round}: the woken task did not run while its worker was blocked")
            });
            assert_ne!(ran_on, blocked_thread, "round {round}");
            rt.block_on(woken).unwrap();
            rt.block_on(blocker).unwrap();
        }
    });
}

/// Placement (`worker.rs`, "Where a task this worker schedules goes"): a
/// task woken on a worker other than the one it last ran on, while that
/// worker's queue holds tasks, goes to the back of the queue, not into the
/// LIFO slot. Before the rule, every such wake was a LIFO hit on the
/// waker's worker.
///
/// The woken task T records the worker thread it waited on; the waker W is
/// spawned until it runs on the other worker (the injector hands it to
/// either), spawns a filler task into its own queue, and wakes T. Nothing
/// else in the runtime wakes a task from a worker, so with the rule the
/// runtime's LIFO hits do not move while W wakes T. (The other worker,
/// asleep, may wake on its 10 ms rescue timer and steal the filler within
/// W's few microseconds; hence the margin below: without the rule every
/// case is a hit.)
#[test]
fn a_task_woken_from_another_worker_does_not_take_the_lifo_slot() {
    watchdog_for(Duration::from_secs(60), || {
        let rt = multi(2);
        let lifo_hits = || -> u64 {
            rt.handle()
                .metrics()
                .workers
                .iter()
                .map(|w| w.lifo_hits)
                .sum()
        };
        let (mut checked, mut queued_behind) = (0, 0);
        for _attempt in 0..1_000 {
            let (wake_tx, wake_rx) = futures_channel::oneshot::channel::<()>();
            let (home_tx, home_rx) = mpsc::channel::<ThreadId>();
            let woken = rt.spawn(async move {
                let mut wake_rx = std::pin::pin!(wake_rx);
                std::future::poll_fn(|cx| {
                    let poll = wake_rx.as_mut().poll(cx);
                    if poll.is_pending() {
                        let _ = home_tx.send(std::thread::current().id());
                    }
                    poll
                })
                .await
                .unwrap();
            });
            let home = home_rx.recv().unwrap();
            let before = lifo_hits();
            let waker = rt.spawn(async move {
                if std::thread::current().id() == home {
                    return Err(wake_tx); // same worker: not this test's case
                }
                let filler = windlass::spawn(async {});
                wake_tx.send(()).unwrap();
                Ok(filler)
            });
            match rt.block_on(waker).unwrap() {
                Ok(filler) => {
                    rt.block_on(woken).unwrap();
                    rt.block_on(filler).unwrap();
                    checked += 1;
                    if lifo_hits() == before {
                        queued_behind += 1;
                    }
                    if checked == 20 {
                        assert!(
                            queued_behind >= 15,
                            "a wake from the other worker went through the LIFO slot in {} of 20 cases",
                            20 - queued_behind
                        );
                        return;
                    }
                }
                Err(wake_tx) => {
                    wake_tx.send(()).unwrap();
                    rt.block_on(woken).unwrap();
                }
            }
        }
        panic!("the waker ran on the other worker only {checked} times in 1,000 tries");
    });
}

/// Review (session 13, scheduler): lifo rule 3 when the blocked worker was
/// woken by the poller. Both workers idle: one sleeps in the reactor, the
/// other in its parker without a rescue timeout (nobody was awake when it
/// last slept). The blocker's timer fires: the reactor's sleeper wakes it,
/// and, counted awake but not searching (idle, "Woken by the poller"),
/// notifies nobody. The blocker wakes a task into its LIFO slot and
/// blocks. Nothing re-arms the other worker's rescue timer, so the woken
/// task waits for the whole block: issue #13 again, by the poller's road.
#[test]
fn task_woken_before_a_poller_woken_worker_blocks_runs_on_another_worker() {
    watchdog_for(Duration::from_secs(60), || {
        let rt = multi(2);
        for round in 0..5 {
            let (wake_tx, wake_rx) = futures_channel::oneshot::channel::<()>();
            let (pending_tx, pending_rx) = mpsc::channel::<()>();
            let (ran_tx, ran_rx) = mpsc::channel::<ThreadId>();
            let (release_tx, release_rx) = mpsc::channel::<()>();
            let (blocker_tx, blocker_rx) = mpsc::channel::<ThreadId>();
            let woken = rt.spawn(async move {
                let mut wake_rx = std::pin::pin!(wake_rx);
                std::future::poll_fn(|cx| {
                    let poll = wake_rx.as_mut().poll(cx);
                    if poll.is_pending() {
                        let _ = pending_tx.send(());
                    }
                    poll
                })
                .await
                .unwrap();
                ran_tx.send(std::thread::current().id()).unwrap();
            });
            pending_rx.recv().unwrap();
            let blocker = rt.spawn(async move {
                // Long enough for both workers to sleep without a rescue
                // timeout (they re-check every 10 ms while a peer is awake).
                windlass::time::sleep(Duration::from_millis(300)).await;
                wake_tx.send(()).unwrap();
                blocker_tx.send(std::thread::current().id()).unwrap();
                release_rx.recv().unwrap(); // a blocking call inside a poll
            });
            let blocked_thread = blocker_rx.recv().unwrap();
            let ran_on = ran_rx.recv_timeout(Duration::from_secs(3));
            release_tx.send(()).unwrap();
            let ran_on = ran_on.unwrap_or_else(|_| {
                panic!("round {round}: the woken task did not run while its worker was blocked")
            });
            assert_ne!(ran_on, blocked_thread, "round {round}");
            rt.block_on(woken).unwrap();
            rt.block_on(blocker).unwrap();
        }
    });
}
