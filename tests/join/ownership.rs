//! The cancellation rule of `windlass::join` ("ownership decides"), helper by
//! helper, in both directions:
//!
//! - cancelled (dropped unfinished, or giving up) -> owned tasks
//!   (`AbortOnDrop`) are aborted, bare `JoinHandle`s are detached and run to
//!   the end;
//! - finished normally -> nothing is aborted.
//!
//! Aborts are proven by drop guards that report on a channel (a task that
//! waits forever drops its guard only if it is cancelled); detachment by
//! tasks that deliver a value after the helper is gone. No sleeps: the
//! only timers are the deadlines under test, and a watchdog turns a hang
//! into a failure.

use std::time::Duration;

use crate::support::{DropSignal, drop_signals, multi, recv_n, watchdog};
use futures_lite::StreamExt;
use futures_lite::future::poll_once;
use windlass::JoinHandle;
use windlass::join::{AbortOnDrop, ReturnWhen, as_completed, join_all, try_join_all, wait};
use windlass::time::{timeout, wait_for};

/// `n` owned tasks that wait forever, each holding the drop guard `i`;
/// returned once all of them have started (an abort before the start would
/// not run the future, so it would prove nothing).
async fn owned_forever(
    n: usize,
    signal: &(impl Fn(usize) -> DropSignal + Clone),
) -> Vec<AbortOnDrop<u32>> {
    let (started_tx, started_rx) = async_channel::unbounded::<()>();
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let guard = signal(i);
            let started = started_tx.clone();
            windlass::spawn(async move {
                let _guard = guard;
                started.send(()).await.unwrap();
                std::future::pending::<u32>().await
            })
            .abort_on_drop()
        })
        .collect();
    for _ in 0..n {
        started_rx.recv().await.unwrap();
    }
    tasks
}

/// `n` bare tasks that wait for `gate` to open, then send their index on
/// the returned channel. If a task were aborted, its sender would be dropped
/// unsent and `delivered` would miss it.
struct Detached {
    tasks: Vec<JoinHandle<u32>>,
    gate: async_channel::Sender<()>,
    delivered: async_channel::Receiver<u32>,
}

fn gated(n: u32) -> Detached {
    let (gate, open) = async_channel::bounded::<()>(1);
    let (out_tx, delivered) = async_channel::unbounded();
    let tasks = (0..n)
        .map(|i| {
            let (open, out) = (open.clone(), out_tx.clone());
            windlass::spawn(async move {
                // Closed (not sent on) by the test: every task sees it.
                let _ = open.recv().await;
                out.send(i).await.unwrap();
                i
            })
        })
        .collect();
    Detached {
        tasks,
        gate,
        delivered,
    }
}

impl Detached {
    /// Opens the gate and checks that all `n` tasks ran to the end.
    async fn all_delivered(self, n: usize) {
        self.gate.close();
        let mut got = Vec::new();
        for _ in 0..n {
            got.push(
                self.delivered
                    .recv()
                    .await
                    .expect("a detached task was aborted"),
            );
        }
        got.sort_unstable();
        assert_eq!(got, (0..n as u32).collect::<Vec<_>>());
    }
}

/// Owned tasks that return `i` once `open` closes.
fn owned_gated(n: u32) -> (Vec<AbortOnDrop<u32>>, async_channel::Sender<()>) {
    let (gate, open) = async_channel::bounded::<()>(1);
    let tasks = (0..n)
        .map(|i| {
            let open = open.clone();
            windlass::spawn(async move {
                let _ = open.recv().await;
                i
            })
            .abort_on_drop()
        })
        .collect();
    (tasks, gate)
}

fn ok_values(outs: Vec<Result<u32, windlass::task::JoinError>>) -> Vec<u32> {
    outs.into_iter()
        .map(|r| r.expect("a task that finished normally was cancelled"))
        .collect()
}

#[test]
fn join_all_cancelled_aborts_owned_tasks_and_detaches_bare_ones() {
    watchdog(|| {
        multi(2).block_on(async {
            let (signal, dropped) = drop_signals();
            let mut all = join_all(owned_forever(4, &signal).await);
            assert!(poll_once(&mut all).await.is_none());
            drop(all); // asyncio's cancelled gather
            assert_eq!(recv_n(&dropped, 4).await, [0, 1, 2, 3]);

            let mut bare = gated(3);
            let tasks = std::mem::take(&mut bare.tasks);
            let out = timeout(Duration::from_millis(5), join_all(tasks)).await;
            assert!(out.is_err());
            bare.all_delivered(3).await;
        });
    });
}

#[test]
fn join_all_finished_aborts_nothing() {
    watchdog(|| {
        multi(2).block_on(async {
            let (tasks, gate) = owned_gated(5);
            gate.close();
            assert_eq!(ok_values(join_all(tasks).await), [0, 1, 2, 3, 4]);
        });
    });
}

#[test]
fn try_join_all_gives_up_on_owned_tasks_by_aborting_them() {
    watchdog(|| {
        multi(2).block_on(async {
            let (signal, dropped) = drop_signals();
            let mut tasks = owned_forever(3, &signal).await;
            tasks.push(windlass::spawn(async { panic!("task 3 failed") }).abort_on_drop());
            assert!(try_join_all(tasks).await.unwrap_err().is_panic());
            assert_eq!(recv_n(&dropped, 3).await, [0, 1, 2]);

            // Handles held *inside* input futures: owned, so aborted too.
            let inner = owned_forever(2, &signal).await;
            let mut inputs: Vec<_> = inner
                .into_iter()
                .map(|t| Box::pin(async move { t.await.map_err(|e| e.to_string()) }) as _)
                .collect::<Vec<std::pin::Pin<Box<dyn Future<Output = _> + Send>>>>();
            inputs.push(Box::pin(async { Err("input failed".to_string()) }));
            assert_eq!(try_join_all(inputs).await, Err("input failed".into()));
            assert_eq!(recv_n(&dropped, 2).await, [0, 1]);
        });
    });
}

#[test]
fn try_join_all_dropped_unfinished_aborts_owned_tasks() {
    watchdog(|| {
        multi(2).block_on(async {
            let (signal, dropped) = drop_signals();
            let tasks = owned_forever(3, &signal).await;
            let out = timeout(Duration::from_millis(5), try_join_all(tasks)).await;
            assert!(out.is_err());
            assert_eq!(recv_n(&dropped, 3).await, [0, 1, 2]);
        });
    });
}

#[test]
fn try_join_all_gives_up_on_bare_handles_by_detaching_them() {
    watchdog(|| {
        multi(2).block_on(async {
            let mut bare = gated(3);
            bare.tasks
                .push(windlass::spawn(async { panic!("task 3 failed") }));
            let tasks = std::mem::take(&mut bare.tasks);
            assert!(try_join_all(tasks).await.unwrap_err().is_panic());
            bare.all_delivered(3).await;
        });
    });
}

#[test]
fn try_join_all_finished_aborts_nothing() {
    watchdog(|| {
        multi(2).block_on(async {
            let (tasks, gate) = owned_gated(4);
            gate.close();
            assert_eq!(try_join_all(tasks).await.unwrap(), [0, 1, 2, 3]);
        });
    });
}

#[test]
fn as_completed_dropped_aborts_the_owned_rest_and_detaches_the_bare_rest() {
    watchdog(|| {
        multi(2).block_on(async {
            let (signal, dropped) = drop_signals();
            let mut tasks = owned_forever(3, &signal).await;
            tasks.push(windlass::spawn(async { 9 }).abort_on_drop());
            let mut stream = as_completed(tasks);
            assert_eq!(stream.next().await.unwrap().unwrap(), 9);
            drop(stream);
            assert_eq!(recv_n(&dropped, 3).await, [0, 1, 2]);

            let mut bare = gated(3);
            let mut stream = as_completed(std::mem::take(&mut bare.tasks));
            assert!(poll_once(stream.next()).await.is_none());
            drop(stream);
            bare.all_delivered(3).await;
        });
    });
}

#[test]
fn as_completed_run_to_the_end_aborts_nothing() {
    watchdog(|| {
        multi(2).block_on(async {
            let (tasks, gate) = owned_gated(4);
            gate.close();
            let mut got = ok_values(as_completed(tasks).collect().await);
            got.sort_unstable();
            assert_eq!(got, [0, 1, 2, 3]);
        });
    });
}

#[test]
fn wait_hands_back_owned_pending_tasks_still_running() {
    watchdog(|| {
        multi(2).block_on(async {
            let (mut tasks, gate) = owned_gated(3);
            tasks.push(windlass::spawn(async { 7 }).abort_on_drop());
            let (done, pending) = wait(tasks, ReturnWhen::FirstCompleted, None).await;
            assert_eq!(ok_values(done), [7]);
            assert_eq!(pending.len(), 3);
            // Returned, not cancelled: they finish once the gate opens.
            gate.close();
            assert_eq!(ok_values(join_all(pending).await), [0, 1, 2]);
        });
    });
}

#[test]
fn wait_dropped_unfinished_aborts_owned_tasks_and_detaches_bare_ones() {
    watchdog(|| {
        multi(2).block_on(async {
            let (signal, dropped) = drop_signals();
            let mut waiting = wait(
                owned_forever(3, &signal).await,
                ReturnWhen::AllCompleted,
                None,
            );
            assert!(poll_once(&mut waiting).await.is_none());
            drop(waiting);
            assert_eq!(recv_n(&dropped, 3).await, [0, 1, 2]);

            let mut bare = gated(2);
            let mut waiting = wait(
                std::mem::take(&mut bare.tasks),
                ReturnWhen::AllCompleted,
                None,
            );
            assert!(poll_once(&mut waiting).await.is_none());
            drop(waiting);
            bare.all_delivered(2).await;
        });
    });
}

#[test]
fn timeout_drops_its_input_so_the_handle_type_decides() {
    watchdog(|| {
        multi(2).block_on(async {
            let (signal, dropped) = drop_signals();
            let owned = owned_forever(1, &signal).await.pop().unwrap();
            assert!(timeout(Duration::from_millis(5), owned).await.is_err());
            assert_eq!(recv_n(&dropped, 1).await, [0]);

            let mut bare = gated(1);
            let task = bare.tasks.pop().unwrap();
            assert!(timeout(Duration::from_millis(5), task).await.is_err());
            bare.all_delivered(1).await;

            let quick = windlass::spawn(async { 3 }).abort_on_drop();
            assert_eq!(
                timeout(Duration::from_secs(60), quick)
                    .await
                    .unwrap()
                    .unwrap(),
                3
            );
        });
    });
}

#[test]
fn wait_for_aborts_the_task_and_returns_once_it_stopped() {
    watchdog(|| {
        multi(2).block_on(async {
            let (signal, dropped) = drop_signals();
            // A bare handle: wait_for owns it all the same.
            let task = owned_forever(1, &signal).await.pop().unwrap().into_inner();
            let abort = task.abort_handle();
            assert!(wait_for(Duration::from_millis(5), task).await.is_err());
            // Stopped *before* wait_for returned: no waiting needed.
            assert!(abort.is_finished());
            assert_eq!(dropped.try_recv(), Ok(0), "the guard had already run");
        });
    });
}

#[test]
fn wait_for_in_time_aborts_nothing() {
    watchdog(|| {
        multi(2).block_on(async {
            let (mut tasks, gate) = owned_gated(1);
            gate.close();
            let out = wait_for(Duration::from_secs(60), tasks.pop().unwrap()).await;
            assert_eq!(out.unwrap().unwrap(), 0);
        });
    });
}

#[test]
fn wait_for_dropped_early_aborts_the_task() {
    watchdog(|| {
        multi(2).block_on(async {
            let (signal, dropped) = drop_signals();
            let task = owned_forever(1, &signal).await.pop().unwrap().into_inner();
            let mut waiting = wait_for(Duration::from_secs(3600), task);
            assert!(poll_once(&mut waiting).await.is_none());
            drop(waiting);
            assert_eq!(recv_n(&dropped, 1).await, [0]);
        });
    });
}

#[test]
fn wait_for_keeps_the_output_of_a_task_that_returns_after_the_abort() {
    watchdog(|| {
        multi(2).block_on(async {
            // The task is inside its poll (blocked on a std channel) when the
            // deadline passes, so the abort can only take effect when that
            // poll returns. It returns Ready: the work was done, so its
            // output stands (task rule 6, asyncio's `cancel()` on a task
            // that finished anyway) and wait_for hands it back.
            let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
            let (started_tx, started_rx) = futures_channel::oneshot::channel::<()>();
            let task = windlass::spawn(async move {
                started_tx.send(()).unwrap();
                release_rx.recv().unwrap();
                5
            });
            started_rx.await.unwrap();
            let mut waiting = wait_for(Duration::ZERO, task);
            // First poll: the deadline has passed, the task is aborted.
            assert!(poll_once(&mut waiting).await.is_none());
            release_tx.send(()).unwrap();
            assert_eq!(waiting.await.unwrap().unwrap(), 5);
        });
    });
}
