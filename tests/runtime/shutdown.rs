//! Shutdown: every future and every output dropped exactly once, spawning
//! after shutdown, `shutdown_timeout`, `shutdown_background`, dropping a
//! runtime from inside itself, thread start/stop callbacks.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::time::{Duration, Instant};

use crate::support::{DropCounter, DropToken, current, multi, panic_message, watchdog};
use futures_channel::oneshot;
use windlass::Runtime;
use windlass::runtime::Builder;

/// Waits (driving `rt`) until `n` messages arrived on `rx`.
fn wait_started(rt: &Runtime, rx: &async_channel::Receiver<()>, n: usize) {
    rt.block_on(async {
        for _ in 0..n {
            rx.recv().await.unwrap();
        }
    });
}

fn pending_tasks_dropped_once(rt: Runtime) {
    let drops = DropCounter::new();
    let (started_tx, started_rx) = async_channel::unbounded::<()>();
    let mut kept = Vec::new();
    let mut expected_started = 0;

    // Pending forever, JoinHandle kept.
    for _ in 0..50 {
        let (t, s) = (drops.token(), started_tx.clone());
        kept.push(rt.spawn(async move {
            let _t = t;
            s.send(()).await.unwrap();
            std::future::pending::<()>().await;
        }));
        expected_started += 1;
    }
    // Pending forever, JoinHandle dropped (detached).
    for _ in 0..50 {
        let (t, s) = (drops.token(), started_tx.clone());
        drop(rt.spawn(async move {
            let _t = t;
            s.send(()).await.unwrap();
            std::future::pending::<()>().await;
        }));
        expected_started += 1;
    }
    // Pairs waiting on each other: each holds the sender the other waits on,
    // so cancelling one wakes the other during shutdown.
    for _ in 0..25 {
        let (a_tx, a_rx) = oneshot::channel::<()>();
        let (b_tx, b_rx) = oneshot::channel::<()>();
        let (ta, tb) = (drops.token(), drops.token());
        let (sa, sb) = (started_tx.clone(), started_tx.clone());
        kept.push(rt.spawn(async move {
            let _t = ta;
            let _tx = b_tx;
            sa.send(()).await.unwrap();
            let _ = a_rx.await;
            // Woken by the partner's cancellation: wait forever again so
            // that only shutdown can end this task.
            std::future::pending::<()>().await;
        }));
        drop(rt.spawn(async move {
            let _t = tb;
            let _tx = a_tx;
            sb.send(()).await.unwrap();
            let _ = b_rx.await;
            std::future::pending::<()>().await;
        }));
        expected_started += 2;
    }
    // Every task has been polled and is now idle, waiting on a waker.
    wait_started(&rt, &started_rx, expected_started);
    assert_eq!(drops.dropped(), 0);
    assert_eq!(rt.handle().num_alive_tasks(), expected_started);
    let handle = rt.handle().clone();

    drop(rt);
    assert_eq!(drops.created(), expected_started);
    assert_eq!(
        drops.dropped(),
        expected_started,
        "every future dropped exactly once by the runtime's drop"
    );
    assert!(handle.is_shutdown());
    assert_eq!(handle.num_alive_tasks(), 0);
    for h in kept {
        assert!(
            futures_lite::future::block_on(h)
                .unwrap_err()
                .is_cancelled()
        );
    }
    assert_eq!(drops.dropped(), expected_started);
}

#[test]
fn drop_with_pending_tasks_multi_thread() {
    watchdog(|| pending_tasks_dropped_once(multi(2)));
}

#[test]
fn drop_with_pending_tasks_current_thread() {
    watchdog(|| pending_tasks_dropped_once(current()));
}

#[test]
fn tasks_sitting_in_queues_current_thread() {
    watchdog(|| {
        let rt = current();
        let drops = DropCounter::new();
        let polled = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..100)
            .map(|_| {
                let (t, p) = (drops.token(), polled.clone());
                rt.spawn(async move {
                    let _t = t;
                    p.fetch_add(1, SeqCst);
                })
            })
            .collect();
        // Nothing drives a current-thread runtime outside block_on: all 100
        // sit in the run queue.
        drop(rt);
        assert_eq!(polled.load(SeqCst), 0);
        assert_eq!(drops.dropped(), 100);
        for h in handles {
            assert!(
                futures_lite::future::block_on(h)
                    .unwrap_err()
                    .is_cancelled()
            );
        }
    });
}

#[test]
fn tasks_sitting_in_queues_multi_thread() {
    watchdog(|| {
        // One worker, kept busy by a task that only returns once shutdown has
        // begun: everything spawned meanwhile sits in its local queue or in
        // the injector when the runtime is dropped.
        let rt = multi(1);
        let drops = DropCounter::new();
        let polled = Arc::new(AtomicUsize::new(0));
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Vec<windlass::JoinHandle<()>>>();
        let handle = rt.handle().clone();
        let (d, p) = (drops.clone(), polled.clone());
        let busy = rt.spawn(async move {
            // Spawned from the worker: its local queue.
            let local: Vec<_> = (0..100)
                .map(|_| {
                    let (t, p) = (d.token(), p.clone());
                    windlass::spawn(async move {
                        let _t = t;
                        p.fetch_add(1, SeqCst);
                    })
                })
                .collect();
            ready_tx.send(local).unwrap();
            // Hold the only worker until shutdown starts.
            while !handle.is_shutdown() {
                std::thread::yield_now();
            }
        });
        let local = ready_rx.recv().unwrap();
        // Spawned from outside while the worker is busy: the injector.
        let remote: Vec<_> = (0..100)
            .map(|_| {
                let (t, p) = (drops.token(), polled.clone());
                rt.spawn(async move {
                    let _t = t;
                    p.fetch_add(1, SeqCst);
                })
            })
            .collect();
        drop(rt);
        assert_eq!(
            polled.load(SeqCst),
            0,
            "queued tasks are cancelled, never polled"
        );
        assert_eq!(drops.dropped(), 200);
        for h in local.into_iter().chain(remote) {
            assert!(
                futures_lite::future::block_on(h)
                    .unwrap_err()
                    .is_cancelled()
            );
        }
        // The busy task was running at shutdown and finished on its own.
        assert!(futures_lite::future::block_on(busy).is_ok());
    });
}

/// An output that counts its drops.
struct Out(#[allow(dead_code)] DropToken);

#[test]
fn outputs_dropped_exactly_once() {
    watchdog(|| {
        for rt in [multi(2), current()] {
            let outs = DropCounter::new();
            let (done_tx, done_rx) = async_channel::unbounded::<()>();
            let spawn_out = |rt: &Runtime| {
                let (o, d) = (outs.clone(), done_tx.clone());
                rt.spawn(async move {
                    let out = Out(o.token());
                    d.send(()).await.unwrap();
                    out
                })
            };
            // (a) read by awaiting.
            let read = spawn_out(&rt);
            // (b) detached before completion.
            for _ in 0..10 {
                drop(spawn_out(&rt));
            }
            // (c) completed, handle dropped unread before the runtime drop.
            let unread: Vec<_> = (0..10).map(|_| spawn_out(&rt)).collect();
            // (d) completed, read after the runtime is gone.
            let late_read: Vec<_> = (0..10).map(|_| spawn_out(&rt)).collect();
            // (e) completed, dropped unread after the runtime is gone.
            let late_drop: Vec<_> = (0..10).map(|_| spawn_out(&rt)).collect();
            wait_started(&rt, &done_rx, 41);
            let out = rt.block_on(read).unwrap();
            drop(out);
            for h in &unread {
                while !h.is_finished() {
                    std::thread::yield_now();
                }
            }
            drop(unread);
            for h in late_read.iter().chain(&late_drop) {
                while !h.is_finished() {
                    std::thread::yield_now();
                }
            }
            drop(rt);
            for h in late_read {
                let out = futures_lite::future::block_on(h).expect("completed before shutdown");
                drop(out);
            }
            drop(late_drop);
            assert_eq!(outs.created(), 41);
            assert_eq!(outs.dropped(), 41, "every output dropped exactly once");
        }
    });
}

#[test]
fn futures_spawning_in_their_destructors_during_shutdown() {
    struct SpawnOnDrop(windlass::Handle, DropCounter);
    impl Drop for SpawnOnDrop {
        fn drop(&mut self) {
            let t = self.1.token();
            let h = self.0.spawn(async move {
                let _t = t;
                std::future::pending::<()>().await;
            });
            // The runtime is shutting down: the new task is refused at once.
            assert!(h.is_finished());
        }
    }
    watchdog(|| {
        for rt in [multi(2), current()] {
            let drops = DropCounter::new();
            let (s_tx, s_rx) = async_channel::unbounded::<()>();
            for _ in 0..20 {
                let guard = SpawnOnDrop(rt.handle().clone(), drops.clone());
                let s = s_tx.clone();
                drop(rt.spawn(async move {
                    let _g = guard;
                    s.send(()).await.unwrap();
                    std::future::pending::<()>().await;
                }));
            }
            wait_started(&rt, &s_rx, 20);
            drop(rt);
            assert_eq!(drops.created(), 20);
            assert_eq!(drops.dropped(), 20);
        }
    });
}

#[test]
fn spawn_after_shutdown_is_cancelled_at_once() {
    watchdog(|| {
        for rt in [multi(2), current()] {
            let handle = rt.handle().clone();
            drop(rt);
            assert!(handle.is_shutdown());
            let drops = DropCounter::new();
            let polled = Arc::new(AtomicBool::new(false));
            let (t, p) = (drops.token(), polled.clone());
            let h = handle.spawn(async move {
                let _t = t;
                p.store(true, SeqCst);
            });
            assert!(h.is_finished(), "resolved before spawn returned");
            assert_eq!(drops.dropped(), 1, "the future was dropped at once");
            assert!(
                futures_lite::future::block_on(h)
                    .unwrap_err()
                    .is_cancelled()
            );
            assert!(!polled.load(SeqCst));
            // Blocking work too.
            let ran = Arc::new(AtomicBool::new(false));
            let r = ran.clone();
            let b = handle.spawn_blocking(move || r.store(true, SeqCst));
            assert!(b.is_finished());
            assert!(
                futures_lite::future::block_on(b)
                    .unwrap_err()
                    .is_cancelled()
            );
            assert!(!ran.load(SeqCst));
        }
    });
}

#[test]
fn shutdown_timeout_returns_while_a_task_spins() {
    watchdog(|| {
        let stopped = Arc::new(AtomicUsize::new(0));
        let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
        let s = stopped.clone();
        let rt = Builder::new_multi_thread()
            .worker_threads(2)
            .on_thread_stop(move || {
                s.fetch_add(1, SeqCst);
                let _ = stop_tx.send(());
            })
            .build()
            .unwrap();
        let release = Arc::new(AtomicBool::new(false));
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let r = release.clone();
        let spinner = rt.spawn(async move {
            started_tx.send(()).unwrap();
            // Never yields: the worker is stuck here until released.
            while !r.load(SeqCst) {
                std::hint::spin_loop();
            }
        });
        started_rx.recv().unwrap();
        let t0 = Instant::now();
        rt.shutdown_timeout(Duration::from_millis(100));
        let waited = t0.elapsed();
        // It gave up on the stuck worker instead of waiting for it.
        assert!(
            waited < Duration::from_secs(10),
            "shutdown_timeout took {waited:?}"
        );
        assert!(!release.load(SeqCst));
        // Only the idle worker may have stopped so far.
        assert!(stopped.load(SeqCst) <= 1);
        release.store(true, SeqCst);
        // The stuck worker finishes its poll, then exits in the background.
        for _ in 0..2 {
            stop_rx
                .recv_timeout(Duration::from_secs(30))
                .expect("worker thread stopped");
        }
        assert_eq!(stopped.load(SeqCst), 2);
        // The spinner completed (or was cancelled by the cleanup); either
        // way its handle resolves.
        let _ = futures_lite::future::block_on(spinner);
    });
}

#[test]
fn shutdown_background_does_not_wait() {
    watchdog(|| {
        let rt = multi(2);
        let release = Arc::new(AtomicBool::new(false));
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let r = release.clone();
        let _spinner = rt.spawn(async move {
            started_tx.send(()).unwrap();
            while !r.load(SeqCst) {
                std::hint::spin_loop();
            }
        });
        // A pending task whose future holds a sender: its drop is observable.
        let (tx, rx) = oneshot::channel::<()>();
        let drops = DropCounter::new();
        let t = drops.token();
        let pending = rt.spawn(async move {
            let _tx = tx;
            let _t = t;
            std::future::pending::<()>().await;
        });
        started_rx.recv().unwrap();
        let handle = rt.handle().clone();
        rt.shutdown_background();
        // Returned although a worker is stuck in a poll.
        assert!(!release.load(SeqCst));
        assert!(handle.is_shutdown());
        release.store(true, SeqCst);
        // The pending task is cancelled in the background.
        assert!(futures_lite::future::block_on(rx).is_err());
        assert!(
            futures_lite::future::block_on(pending)
                .unwrap_err()
                .is_cancelled()
        );
        assert_eq!(drops.dropped(), 1);
    });
}

#[test]
fn dropping_runtime_inside_own_task_panics_and_does_not_hang() {
    watchdog(|| {
        let rt = multi(2);
        let (rt_tx, rt_rx) = oneshot::channel::<Runtime>();
        // A bystander task, to check the runtime really shut down.
        let (by_tx, by_rx) = oneshot::channel::<()>();
        let bystander = rt.spawn(async move {
            let _tx = by_tx;
            std::future::pending::<()>().await;
        });
        let owner = rt.spawn(async move {
            let rt = rt_rx.await.unwrap();
            drop(rt);
            "unreachable: drop should have panicked"
        });
        rt_tx.send(rt).unwrap();
        // Await the JoinHandle from another runtime.
        let other = current();
        let err = other.block_on(owner).unwrap_err();
        assert!(err.is_panic(), "{err:?}");
        let msg = panic_message(&*err.into_panic());
        assert!(
            msg.contains("shutdown_background"),
            "the panic should name the fix: {msg}"
        );
        // The runtime was shut down in the background nonetheless.
        assert!(other.block_on(by_rx).is_err());
        assert!(other.block_on(bystander).unwrap_err().is_cancelled());
    });
}

#[test]
fn dropping_runtime_inside_block_on_panics() {
    watchdog(|| {
        let outer = current();
        let inner = multi(1);
        let h = inner.handle().clone();
        let msg = crate::support::expect_panic(|| outer.block_on(async move { drop(inner) }));
        assert!(msg.contains("shutdown_background"), "{msg}");
        assert!(h.is_shutdown());
        // The outer runtime is still usable.
        assert_eq!(outer.block_on(async { 1 }), 1);
    });
}

#[test]
fn shutdown_background_inside_task_is_fine() {
    watchdog(|| {
        let rt = multi(2);
        let handle = rt.handle().clone();
        let (rt_tx, rt_rx) = oneshot::channel::<Runtime>();
        let owner = rt.spawn(async move {
            rt_rx.await.unwrap().shutdown_background();
            "shut down from inside"
        });
        rt_tx.send(rt).unwrap();
        // The owner was running when shutdown began; it completes on its own
        // (an abort-before-completion rule may turn that into "cancelled" if
        // the cleanup raced it, which cannot happen while it runs).
        assert_eq!(
            futures_lite::future::block_on(owner).unwrap(),
            "shut down from inside"
        );
        assert!(handle.is_shutdown());
    });
}

#[test]
fn thread_start_and_stop_callbacks_match_worker_count() {
    watchdog(|| {
        for n in [1usize, 3] {
            let started = Arc::new(AtomicUsize::new(0));
            let stopped = Arc::new(AtomicUsize::new(0));
            let (s1, s2) = (started.clone(), stopped.clone());
            let rt = Builder::new_multi_thread()
                .worker_threads(n)
                .on_thread_start(move || {
                    s1.fetch_add(1, SeqCst);
                })
                .on_thread_stop(move || {
                    s2.fetch_add(1, SeqCst);
                })
                .build()
                .unwrap();
            // Make every worker run something so they have surely started.
            let handles: Vec<_> = (0..4 * n).map(|i| rt.spawn(async move { i })).collect();
            for h in handles {
                rt.block_on(h).unwrap();
            }
            assert_eq!(rt.handle().num_workers(), n);
            drop(rt);
            // Workers are joined before drop returns, so their stop callbacks
            // have all run.
            assert_eq!(started.load(SeqCst), n);
            assert_eq!(stopped.load(SeqCst), n);
        }
    });
}

#[test]
fn thread_callbacks_cover_blocking_threads_too() {
    watchdog(|| {
        let started = Arc::new(AtomicUsize::new(0));
        let stopped = Arc::new(AtomicUsize::new(0));
        let (s1, s2) = (started.clone(), stopped.clone());
        let rt = Builder::new_multi_thread()
            .worker_threads(2)
            .max_blocking_threads(3)
            .on_thread_start(move || {
                s1.fetch_add(1, SeqCst);
            })
            .on_thread_stop(move || {
                s2.fetch_add(1, SeqCst);
            })
            .build()
            .unwrap();
        // Three blocking closures running at once: three pool threads.
        let barrier = Arc::new(std::sync::Barrier::new(3));
        let hs: Vec<_> = (0..3)
            .map(|_| {
                let b = barrier.clone();
                rt.spawn_blocking(move || {
                    b.wait();
                })
            })
            .collect();
        for h in hs {
            rt.block_on(h).unwrap();
        }
        assert_eq!(rt.handle().blocking_pool().num_threads(), 3);
        drop(rt);
        assert_eq!(started.load(SeqCst), 5);
        assert_eq!(
            stopped.load(SeqCst),
            5,
            "every runtime thread stopped before drop returned"
        );
    });
}

#[test]
fn current_thread_shutdown_cancels_everything_on_drop() {
    watchdog(|| {
        let rt = current();
        let handle = rt.handle().clone();
        let drops = DropCounter::new();
        let (s_tx, s_rx) = async_channel::unbounded::<()>();
        let mut handles = Vec::new();
        for _ in 0..10 {
            let (t, s) = (drops.token(), s_tx.clone());
            handles.push(rt.spawn(async move {
                let _t = t;
                s.send(()).await.unwrap();
                std::future::pending::<()>().await;
            }));
        }
        wait_started(&rt, &s_rx, 10);
        assert_eq!(handle.num_alive_tasks(), 10);
        assert!(!handle.is_shutdown());
        drop(rt);
        assert!(handle.is_shutdown());
        assert_eq!(handle.num_alive_tasks(), 0);
        assert_eq!(drops.dropped(), 10);
        for h in handles {
            assert!(
                futures_lite::future::block_on(h)
                    .unwrap_err()
                    .is_cancelled()
            );
        }
    });
}
