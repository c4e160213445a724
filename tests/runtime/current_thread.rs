//! The current-thread flavor: tasks run on the `block_on` thread, only
//! while some `block_on` drives them; foreign spawns wake a parked driver;
//! concurrent `block_on` calls hand the driving over; fair yielding.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, mpsc};

use crate::support::{current, watchdog};
use futures_channel::oneshot;

#[test]
fn tasks_run_on_the_block_on_thread() {
    watchdog(|| {
        let rt = current();
        let here = std::thread::current().id();
        let handles: Vec<_> = (0..20)
            .map(|_| {
                rt.spawn(async {
                    windlass::yield_now().await;
                    std::thread::current().id()
                })
            })
            .collect();
        let ids = rt.block_on(async {
            let mut ids = Vec::new();
            for h in handles {
                ids.push(h.await.unwrap());
            }
            ids
        });
        assert!(ids.iter().all(|&id| id == here));
        // Also when block_on runs on another thread: tasks follow it.
        let rt = Arc::new(rt);
        let r = rt.clone();
        let (there, ran_on) = std::thread::spawn(move || {
            let there = std::thread::current().id();
            (
                there,
                r.block_on(r.spawn(async { std::thread::current().id() }))
                    .unwrap(),
            )
        })
        .join()
        .unwrap();
        assert_eq!(there, ran_on);
        assert_ne!(there, here);
    });
}

#[test]
fn tasks_do_not_run_between_block_on_calls() {
    watchdog(|| {
        let rt = current();
        let ran = Arc::new(AtomicUsize::new(0));
        rt.block_on(async {});
        let r = ran.clone();
        let h = rt.spawn(async move {
            r.fetch_add(1, SeqCst);
            "ran"
        });
        // Woken from a foreign thread too: still nobody drives the queue.
        let (tx, rx) = oneshot::channel::<()>();
        let r = ran.clone();
        let waiting = rt.spawn(async move {
            rx.await.unwrap();
            r.fetch_add(10, SeqCst);
        });
        std::thread::spawn(move || tx.send(()).unwrap())
            .join()
            .unwrap();
        // No thread runs this runtime's tasks outside block_on: nothing ran,
        // and nothing can have run.
        assert_eq!(ran.load(SeqCst), 0);
        assert!(!h.is_finished());
        // The next block_on runs them.
        assert_eq!(rt.block_on(h).unwrap(), "ran");
        rt.block_on(waiting).unwrap();
        assert_eq!(ran.load(SeqCst), 11);
    });
}

#[test]
fn block_on_returning_early_leaves_tasks_for_the_next_call() {
    watchdog(|| {
        let rt = current();
        let ran = Arc::new(AtomicUsize::new(0));
        let r = ran.clone();
        let h = rt.spawn(async move {
            r.fetch_add(1, SeqCst);
        });
        // This future is ready at its first poll, before any task runs.
        rt.block_on(async {});
        assert!(!h.is_finished());
        rt.block_on(h).unwrap();
        assert_eq!(ran.load(SeqCst), 1);
    });
}

#[test]
fn foreign_spawn_wakes_parked_block_on() {
    watchdog(|| {
        let rt = current();
        let handle = rt.handle().clone();
        let (parked_tx, parked_rx) = mpsc::channel::<()>();
        let (result_tx, result_rx) = oneshot::channel::<&'static str>();
        // The foreign thread spawns only after block_on has polled its
        // future once and is about to park (it has nothing else to do).
        let spawner = std::thread::spawn(move || {
            parked_rx.recv().unwrap();
            drop(handle.spawn(async move {
                result_tx.send("from the foreign spawn").unwrap();
            }));
        });
        let out = rt.block_on(async move {
            parked_tx.send(()).unwrap();
            result_rx.await.unwrap()
        });
        assert_eq!(out, "from the foreign spawn");
        spawner.join().unwrap();
    });
}

#[test]
fn foreign_wake_of_a_task_wakes_parked_block_on() {
    watchdog(|| {
        let rt = current();
        let (tx, rx) = oneshot::channel::<u32>();
        let h = rt.spawn(async move { rx.await.unwrap() + 1 });
        let (polled_tx, polled_rx) = mpsc::channel::<()>();
        let sender = std::thread::spawn(move || {
            polled_rx.recv().unwrap();
            tx.send(41).unwrap();
        });
        let out = rt.block_on(async move {
            // Let the task run and park on its channel first.
            windlass::yield_now().await;
            polled_tx.send(()).unwrap();
            h.await.unwrap()
        });
        assert_eq!(out, 42);
        sender.join().unwrap();
    });
}

#[test]
fn two_concurrent_block_on_calls_both_finish() {
    watchdog(|| {
        let rt = current();
        // A task that only a driving block_on can run, and that can only
        // finish after the first block_on has returned.
        let (task_go_tx, task_go_rx) = oneshot::channel::<()>();
        let task = rt.spawn(async move {
            task_go_rx.await.unwrap();
            std::thread::current().id()
        });
        let (a_in_tx, a_in_rx) = mpsc::channel::<()>();
        let (a_go_tx, a_go_rx) = oneshot::channel::<()>();
        let (b_in_tx, b_in_rx) = mpsc::channel::<()>();
        std::thread::scope(|s| {
            let rt = &rt;
            // A: drives the runtime (it has the core) until released.
            let a = s.spawn(move || {
                rt.block_on(async move {
                    a_in_tx.send(()).unwrap();
                    a_go_rx.await.unwrap();
                    "a"
                })
            });
            a_in_rx.recv().unwrap();
            // B: starts while A holds the core; waits on the task.
            let b = s.spawn(move || {
                let me = std::thread::current().id();
                let ran_on = rt.block_on(async move {
                    b_in_tx.send(()).unwrap();
                    task.await.unwrap()
                });
                (me, ran_on)
            });
            b_in_rx.recv().unwrap();
            // Let A finish; B must take the driving over.
            a_go_tx.send(()).unwrap();
            assert_eq!(a.join().unwrap(), "a");
            // Only now may the task finish; only B can run it.
            task_go_tx.send(()).unwrap();
            let (b_thread, ran_on) = b.join().unwrap();
            assert_eq!(
                b_thread, ran_on,
                "the task ran on B's thread after B took the core over"
            );
        });
    });
}

#[test]
fn concurrent_block_on_both_make_progress_while_one_drives() {
    watchdog(|| {
        let rt = current();
        // B waits on a channel fed by a task; A drives all along.
        let (tx, rx) = async_channel::bounded::<u32>(1);
        let producer = rt.spawn(async move {
            for i in 0..100 {
                tx.send(i).await.unwrap();
            }
        });
        let (a_go_tx, a_go_rx) = oneshot::channel::<()>();
        std::thread::scope(|s| {
            let rt = &rt;
            let a = s.spawn(move || rt.block_on(a_go_rx).unwrap());
            let b = s.spawn(move || {
                rt.block_on(async move {
                    let mut sum = 0;
                    while let Ok(v) = rx.recv().await {
                        sum += v;
                    }
                    sum
                })
            });
            // B finishes whichever thread drives the producer.
            assert_eq!(b.join().unwrap(), 4950);
            a_go_tx.send(()).unwrap();
            a.join().unwrap();
        });
        rt.block_on(producer).unwrap();
    });
}

#[test]
fn yield_now_interleaves_two_tasks() {
    watchdog(|| {
        let rt = current();
        let log = Arc::new(Mutex::new(Vec::new()));
        let task = |name: char| {
            let log = log.clone();
            rt.spawn(async move {
                for _ in 0..50 {
                    log.lock().unwrap().push(name);
                    windlass::yield_now().await;
                }
            })
        };
        let (a, b) = (task('a'), task('b'));
        rt.block_on(async move {
            a.await.unwrap();
            b.await.unwrap();
        });
        let log = log.lock().unwrap();
        assert_eq!(log.len(), 100);
        assert_eq!(log.iter().filter(|&&c| c == 'a').count(), 50);
        // A FIFO run queue and yield-to-the-back give strict alternation.
        let longest_run = log
            .chunk_by(|x, y| x == y)
            .map(<[char]>::len)
            .max()
            .unwrap();
        assert!(
            longest_run <= 2,
            "yield_now should interleave the tasks: {}",
            log.iter().collect::<String>()
        );
    });
}

#[test]
fn many_tasks_and_wakes_on_current_thread() {
    const N: usize = if cfg!(miri) { 20 } else { 5_000 };
    watchdog(|| {
        let rt = current();
        let out = rt.block_on(async {
            let mut handles = Vec::with_capacity(N);
            for i in 0..N {
                let (tx, rx) = oneshot::channel::<usize>();
                let waiter = windlass::spawn(async move { rx.await.unwrap() });
                let sender = windlass::spawn(async move {
                    windlass::yield_now().await;
                    tx.send(i).unwrap();
                });
                handles.push((waiter, sender));
            }
            let mut sum = 0;
            for (w, s) in handles {
                s.await.unwrap();
                sum += w.await.unwrap();
            }
            sum
        });
        assert_eq!(out, N * (N - 1) / 2);
    });
}
