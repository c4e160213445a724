//! `Handle::metrics()`: each counter moves when the thing it counts
//! happens, with exact counts where the runtime makes them deterministic.
//! Synchronised with channels; no sleep stands in for synchronisation.

use std::sync::mpsc;
use std::time::Duration;

use crate::support::{current, multi};
use futures_lite::future::poll_once;
use windlass::runtime::{Builder, RuntimeMetrics};

fn total(m: &RuntimeMetrics, f: impl Fn(&windlass::runtime::WorkerMetrics) -> u64) -> u64 {
    m.workers.iter().map(f).sum()
}

#[test]
fn current_thread_counts_one_poll_per_ready_task() {
    let rt = current();
    let before = rt.handle().metrics();
    assert_eq!(before.workers.len(), 1);
    rt.block_on(async {
        let tasks: Vec<_> = (0..50).map(|i| windlass::spawn(async move { i })).collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
    let after = rt.handle().metrics();
    // Each task is ready at its first poll; the block_on future is not a
    // task and is not counted.
    assert_eq!(after.workers[0].polls - before.workers[0].polls, 50);
    assert_eq!(after.workers[0].local_queue_depth, 0);
    assert_eq!(after.injector_depth, 0);
}

#[test]
fn multi_thread_counts_polls_across_workers() {
    let rt = multi(2);
    rt.block_on(async {
        let tasks: Vec<_> = (0..200)
            .map(|i| windlass::spawn(async move { i }))
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
    let m = rt.handle().metrics();
    assert_eq!(m.workers.len(), 2);
    assert!(total(&m, |w| w.polls) >= 200, "{m}");
}

#[test]
fn spending_the_budget_counts_forced_yields_exactly() {
    let rt = current();
    rt.block_on(async {
        windlass::spawn(async {
            for _ in 0..1000 {
                windlass::task::consume_budget().await;
            }
        })
        .await
        .unwrap();
    });
    // 128 units per poll: 1000 units run out of budget 7 times.
    assert_eq!(rt.handle().metrics().workers[0].forced_yields, 7);

    let rt = multi(2);
    rt.block_on(async {
        windlass::spawn(async {
            for _ in 0..1000 {
                windlass::task::consume_budget().await;
            }
        })
        .await
        .unwrap();
    });
    let m = rt.handle().metrics();
    assert_eq!(total(&m, |w| w.forced_yields), 7, "{m}");
}

#[test]
fn a_blocked_worker_has_its_queue_stolen() {
    let rt = multi(2);
    let (tx, rx) = mpsc::channel::<u32>();
    rt.block_on(async move {
        windlass::spawn(async move {
            // Spawned from a worker: all ten go to this worker's queue.
            for i in 0..10 {
                let tx = tx.clone();
                windlass::spawn(async move { tx.send(i).unwrap() });
            }
            // This worker blocks until all ten ran: only the other worker
            // can run them, by stealing.
            let got: u32 = (0..10).map(|_| rx.recv().unwrap()).sum();
            assert_eq!(got, 45);
        })
        .await
        .unwrap();
    });
    let m = rt.handle().metrics();
    assert!(total(&m, |w| w.steal_operations) >= 1, "{m}");
    assert!(total(&m, |w| w.stolen_tasks) >= 10, "{m}");
    assert!(
        total(&m, |w| w.stolen_tasks) >= total(&m, |w| w.steal_operations),
        "{m}"
    );
}

#[test]
fn ping_pong_runs_from_the_lifo_slot() {
    let rt = multi(2);
    rt.block_on(async {
        let (to_b, mut b_rx) = windlass::sync::mpsc::channel::<u32>(1);
        let (to_a, mut a_rx) = windlass::sync::mpsc::channel::<u32>(1);
        let b = windlass::spawn(async move {
            while let Some(n) = b_rx.recv().await {
                to_a.send(n + 1).await.unwrap();
            }
        });
        windlass::spawn(async move {
            for i in 0..100 {
                to_b.send(i).await.unwrap();
                assert_eq!(a_rx.recv().await, Some(i + 1));
            }
        })
        .await
        .unwrap();
        b.await.unwrap();
    });
    let m = rt.handle().metrics();
    assert!(total(&m, |w| w.lifo_hits) > 0, "{m}");
}

#[test]
fn local_queue_and_injector_depths_are_read_live() {
    let rt = multi(1);
    let (started_tx, started_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let blocker = rt.spawn(async move {
        // Three tasks in this (only) worker's queue, then block it.
        for _ in 0..3 {
            windlass::spawn(async {});
        }
        started_tx.send(()).unwrap();
        release_rx.recv().unwrap();
    });
    started_rx.recv().unwrap();
    // Spawned from outside the workers: to the injector.
    let outside: Vec<_> = (0..4).map(|_| rt.spawn(async {})).collect();
    let m = rt.handle().metrics();
    assert_eq!(m.workers[0].local_queue_depth, 3, "{m}");
    assert_eq!(m.injector_depth, 4, "{m}");
    release_tx.send(()).unwrap();
    rt.block_on(async {
        blocker.await.unwrap();
        for t in outside {
            t.await.unwrap();
        }
    });
    let m = rt.handle().metrics();
    assert_eq!((m.workers[0].local_queue_depth, m.injector_depth), (0, 0));
}

#[test]
fn current_thread_run_queue_is_the_worker_queue() {
    let rt = current();
    let tasks: Vec<_> = (0..5).map(|_| rt.spawn(async {})).collect();
    let m = rt.handle().metrics();
    assert_eq!((m.workers[0].local_queue_depth, m.injector_depth), (5, 0));
    rt.block_on(async {
        for t in tasks {
            t.await.unwrap();
        }
    });
    assert_eq!(rt.handle().metrics().workers[0].local_queue_depth, 0);
}

#[test]
fn waiting_on_a_timer_parks_and_unparks_the_driving_thread() {
    let rt = current();
    let before = rt.handle().metrics().workers[0].clone();
    // Nothing else to run: the thread can only sleep until the timer.
    rt.block_on(windlass::time::sleep(Duration::from_millis(20)));
    let after = rt.handle().metrics().workers[0].clone();
    assert!(after.parks > before.parks, "{after:?}");
    assert_eq!(after.parks, after.unparks);
}

#[test]
fn reactor_counts_sources_timers_turns_and_events() {
    let rt = current();
    assert!(!rt.handle().metrics().reactor.started);
    rt.block_on(async {
        let listener = windlass::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let m = windlass::Handle::current().metrics();
        assert!(m.reactor.started);
        assert!(m.reactor.registered_sources >= 1, "{m}");

        let mut sleep = Box::pin(windlass::time::sleep(Duration::from_secs(3600)));
        assert!(poll_once(&mut sleep).await.is_none());
        assert_eq!(
            windlass::Handle::current().metrics().reactor.pending_timers,
            1
        );
        drop(sleep);
        assert_eq!(
            windlass::Handle::current().metrics().reactor.pending_timers,
            0
        );

        // A connection makes the listener ready: the first poller wait
        // after it returns that event. A timer set after the connection
        // fires in that wait or a later one, so once the sleep is over the
        // event has been counted, with at least one turn.
        let before = windlass::Handle::current().metrics().reactor;
        let client = std::net::TcpStream::connect(addr).unwrap();
        windlass::time::sleep(Duration::from_millis(1)).await;
        let (_server, _) = listener.accept().await.unwrap();
        drop(client);
        let after = windlass::Handle::current().metrics().reactor;
        assert!(after.turns > before.turns, "{after:?}");
        assert!(after.events > before.events, "{after:?}");
    });
}

#[test]
fn blocking_pool_reports_busy_idle_and_queued() {
    let rt = Builder::new_current_thread()
        .max_blocking_threads(1)
        .build()
        .unwrap();
    let (started_tx, started_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let busy = rt.handle().spawn_blocking(move || {
        started_tx.send(()).unwrap();
        release_rx.recv().unwrap();
    });
    started_rx.recv().unwrap();
    let queued = rt.handle().spawn_blocking(|| 7);
    let m = rt.handle().metrics().blocking;
    assert_eq!(
        (m.threads_busy, m.threads_idle, m.queued),
        (1, 0, 1),
        "{m:?}"
    );
    release_tx.send(()).unwrap();
    rt.block_on(async {
        busy.await.unwrap();
        assert_eq!(queued.await.unwrap(), 7);
    });
    assert_eq!(rt.handle().metrics().blocking.queued, 0);
}

/// Debug mode off, unnamed tasks only: both histograms fill, about one
/// sample per `HISTOGRAM_SAMPLE_INTERVAL` events (runtime::sampling).
#[test]
fn histograms_fill_with_debug_off_for_unnamed_tasks() {
    // About 100 samples of each kind at one in 1,024: far from the bounds.
    const TASKS: u64 = 100_000;
    let n = u64::from(windlass::runtime::HISTOGRAM_SAMPLE_INTERVAL);
    for rt in [current(), multi(2)] {
        rt.block_on(async {
            let handles: Vec<_> = (0..TASKS)
                .map(|i| windlass::spawn(async move { i }))
                .collect();
            for h in handles {
                h.await.unwrap();
            }
        });
        let m = rt.handle().metrics();
        let polls = total(&m, |w| w.polls);
        assert!(polls >= TASKS, "{m}");
        // Sampled polls: one in about n (the first poll of each worker too).
        let (p, l) = (m.poll_duration.total(), m.schedule_latency.total());
        let want = polls / n;
        assert!(
            p >= want / 2 && p <= want * 2 + 2,
            "{p} samples of {polls} polls\n{m}"
        );
        // Sampled wakes, weighted by the hits skipped meanwhile: about one
        // per n spawns (each spawn queues its task once).
        let want = TASKS / n;
        assert!(
            l >= want / 2 && l <= want * 2 + 2,
            "{l} latency samples for {TASKS} spawns\n{m}"
        );
    }
}

/// Latency runs from the wake to the poll: a task queued while the only
/// worker blocks for 20 ms lands in a bucket of at least 16 ms.
#[test]
fn schedule_latency_counts_the_time_in_the_queue() {
    let rt = current();
    let handle = rt.handle().clone();
    rt.block_on(async move {
        // The first queueing on each thread is sampled (runtime::sampling):
        // here the blocker's spawn, then the late task's, from a new thread
        // while the blocker runs.
        let (tx, rx) = futures_channel::oneshot::channel();
        let blocker = windlass::spawn(async move {
            let late = std::thread::spawn(move || handle.spawn(async {}))
                .join()
                .unwrap();
            std::thread::sleep(std::time::Duration::from_millis(20));
            let _ = tx.send(late);
        });
        blocker.await.unwrap();
        rx.await.unwrap().await.unwrap();
    });
    let h = rt.handle().metrics().schedule_latency;
    assert_eq!(h.total(), 2, "{h}");
    let slow: u64 = (0..windlass::runtime::HISTOGRAM_BUCKETS)
        .filter(|&i| h.bucket_range(i).0 >= std::time::Duration::from_millis(16))
        .map(|i| h.counts[i])
        .sum();
    assert_eq!(slow, 1, "{h}");
}

/// A sampled wake whose run is a cancel, not a poll, still gives the slot
/// back (runtime::sampling rule 3; task::site rule 6): the next thread's
/// first queueing is sampled too. Were the cancelled run to leave the slot
/// armed, every later wake would count as missed and the total stay 0.
#[test]
fn a_sampled_wake_cancelled_before_its_poll_frees_the_slot() {
    let rt = current();
    let handle = rt.handle().clone();
    rt.block_on(async move {
        // The first queueing on each new thread is sampled.
        let h = handle.clone();
        let doomed = std::thread::spawn(move || h.spawn(std::future::pending::<()>()))
            .join()
            .unwrap();
        doomed.abort();
        assert!(doomed.await.unwrap_err().is_cancelled());
        let late = std::thread::spawn(move || handle.spawn(async { 7 }))
            .join()
            .unwrap();
        assert_eq!(late.await.unwrap(), 7);
    });
    let h = rt.handle().metrics().schedule_latency;
    assert_eq!(h.total(), 2, "both wakes timed, none missed\n{h}");
}

#[test]
fn a_snapshot_prints_every_section() {
    let rt = multi(2);
    let m = rt.handle().metrics();
    let text = m.to_string();
    for part in [
        "worker 0:",
        "worker 1:",
        "injector:",
        "reactor:",
        "blocking:",
        "poll duration:",
        "schedule latency:",
    ] {
        assert!(text.contains(part), "{part:?} missing in {text}");
    }
}
