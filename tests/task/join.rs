//! Joining tasks: outputs, joining from plain threads and other runtimes,
//! detaching by dropping the handle, `is_finished`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};

use crate::support::{current, multi, watchdog};
use futures_channel::oneshot;

#[test]
fn join_returns_output() {
    watchdog(|| {
        let rt = multi(2);
        let h = rt.spawn(async {
            windlass::yield_now().await;
            (1..=10u32).product::<u32>()
        });
        assert_eq!(rt.block_on(h).unwrap(), 3_628_800);
        // Output of a task that waits on another task.
        let out = rt.block_on(async {
            let (tx, rx) = oneshot::channel();
            let waiter = windlass::spawn(async move { rx.await.unwrap() + 1 });
            let sender = windlass::spawn(async move { tx.send(41).unwrap() });
            sender.await.unwrap();
            waiter.await.unwrap()
        });
        assert_eq!(out, 42);
    });
}

#[test]
fn join_from_plain_thread_with_futures_lite() {
    watchdog(|| {
        let rt = multi(2);
        let (tx, rx) = oneshot::channel::<u64>();
        let h = rt.spawn(async move { rx.await.unwrap() * 2 });
        // The handle is awaited on a thread that has nothing to do with the
        // runtime; the task completes only after that thread started waiting
        // (the sender fires from yet another thread once it waits).
        let joiner = std::thread::spawn(move || futures_lite::future::block_on(h));
        tx.send(21).unwrap();
        assert_eq!(joiner.join().unwrap().unwrap(), 42);
    });
}

#[test]
fn join_handle_waits_when_polled_before_completion() {
    watchdog(|| {
        let rt = current();
        let (tx, rx) = oneshot::channel::<()>();
        let (done_tx, done_rx) = oneshot::channel::<()>();
        let mut h = rt.spawn(async move {
            rx.await.unwrap();
            done_tx.send(()).unwrap();
            "done"
        });
        // Poll the handle once by hand: it must be pending and store a waker.
        let waker_hit = Arc::new(AtomicBool::new(false));
        struct Flag(Arc<AtomicBool>);
        impl std::task::Wake for Flag {
            fn wake(self: Arc<Self>) {
                self.0.store(true, SeqCst);
            }
        }
        let waker = std::task::Waker::from(Arc::new(Flag(waker_hit.clone())));
        let mut cx = std::task::Context::from_waker(&waker);
        assert!(std::pin::Pin::new(&mut h).poll(&mut cx).is_pending());
        assert!(!h.is_finished());
        assert!(!waker_hit.load(SeqCst));
        tx.send(()).unwrap();
        // Drive the runtime until the task has finished: its completion
        // wakes the join waker stored by the first poll.
        rt.block_on(done_rx).unwrap();
        assert!(h.is_finished());
        assert!(
            waker_hit.load(SeqCst),
            "the join waker registered by the first poll was woken"
        );
        match std::pin::Pin::new(&mut h).poll(&mut cx) {
            std::task::Poll::Ready(out) => assert_eq!(out.unwrap(), "done"),
            std::task::Poll::Pending => panic!("a finished task's handle must be ready"),
        }
    });
}

#[test]
fn dropping_join_handle_detaches() {
    watchdog(|| {
        let rt = multi(2);
        let (go_tx, go_rx) = oneshot::channel::<()>();
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        let h = rt.spawn(async move {
            go_rx.await.unwrap();
            windlass::yield_now().await;
            done_tx.send(windlass::task::id()).unwrap();
        });
        let id = h.id();
        // Drop the handle while the task is still waiting: it is detached,
        // not cancelled.
        drop(h);
        go_tx.send(()).unwrap();
        assert_eq!(done_rx.recv().unwrap(), id);
    });
}

#[test]
fn dropping_join_handle_of_current_thread_task_detaches() {
    watchdog(|| {
        let rt = current();
        let (tx, rx) = oneshot::channel::<u32>();
        drop(rt.spawn(async move {
            windlass::yield_now().await;
            tx.send(5).unwrap();
        }));
        assert_eq!(rt.block_on(rx).unwrap(), 5);
    });
}

#[test]
fn is_finished_tracks_completion() {
    watchdog(|| {
        let rt = multi(2);
        let (tx, rx) = oneshot::channel::<()>();
        let h = rt.spawn(async move { rx.await.unwrap() });
        let abort = h.abort_handle();
        assert!(!h.is_finished());
        assert!(!abort.is_finished());
        tx.send(()).unwrap();
        // Wait for completion through a second task that only observes it:
        // the handle itself is still unread afterwards.
        let (obs_tx, obs_rx) = oneshot::channel::<()>();
        let observer = {
            let abort = abort.clone();
            rt.spawn(async move {
                while !abort.is_finished() {
                    windlass::yield_now().await;
                }
                obs_tx.send(()).unwrap();
            })
        };
        rt.block_on(obs_rx).unwrap();
        rt.block_on(observer).unwrap();
        assert!(h.is_finished());
        assert!(abort.is_finished());
        rt.block_on(h).unwrap();
    });
}

#[test]
fn join_handle_from_another_runtime() {
    watchdog(|| {
        let rt1 = multi(2);
        let rt2 = current();
        let (tx, rx) = oneshot::channel::<&'static str>();
        let h1 = rt1.spawn(async move { rx.await.unwrap() });
        // rt2 awaits rt1's task from inside one of rt2's tasks.
        let h2 = rt2.spawn(async move { h1.await.unwrap().len() });
        tx.send("cross-runtime").unwrap();
        assert_eq!(rt2.block_on(h2).unwrap(), "cross-runtime".len());

        // And the other way round: rt1 awaits a current-thread task, which
        // runs only while rt2 is driven.
        let inner = rt2.spawn(async { 99u8 });
        let outer = rt1.spawn(async move { inner.await.unwrap() });
        assert!(!outer.is_finished());
        // Driving rt2 (with a future that waits on rt1's task) runs `inner`.
        assert_eq!(rt2.block_on(outer).unwrap(), 99);
    });
}

#[test]
fn join_error_for_cancelled_carries_task_id() {
    watchdog(|| {
        let rt = multi(2);
        let h = rt.spawn(std::future::pending::<()>());
        let id = h.id();
        h.abort();
        let err = rt.block_on(h).unwrap_err();
        assert!(err.is_cancelled());
        assert!(!err.is_panic());
        assert_eq!(err.id(), id);
        assert!(err.to_string().contains("cancelled"), "{err}");
        let err = err.try_into_panic().unwrap_err();
        assert!(err.is_cancelled());
        let io: std::io::Error = err.into();
        assert_eq!(io.kind(), std::io::ErrorKind::Interrupted);
    });
}

#[test]
fn many_joiners_across_threads() {
    watchdog(|| {
        let rt = multi(2);
        let handles: Vec<_> = (0..64u64).map(|i| rt.spawn(async move { i * i })).collect();
        let threads: Vec<_> = handles
            .into_iter()
            .enumerate()
            .map(|(i, h)| {
                std::thread::spawn(move || (i as u64, futures_lite::future::block_on(h).unwrap()))
            })
            .collect();
        for t in threads {
            let (i, sq) = t.join().unwrap();
            assert_eq!(sq, i * i);
        }
    });
}

#[test]
fn debug_shows_the_id_and_whether_the_task_finished() {
    watchdog(|| {
        let rt = multi(2);
        let (tx, rx) = oneshot::channel::<()>();
        let handle = rt.spawn(async move { rx.await.unwrap() });
        let id = handle.id();
        let site = handle.spawned_at();
        assert_eq!(site.line(), line!() - 3, "the spawn site is the spawn call");
        assert_eq!(
            format!("{handle:?}"),
            format!("JoinHandle {{ id: {id:?}, name: None, spawned_at: {site}, finished: false }}")
        );
        tx.send(()).unwrap();
        // Wait for the flag itself (no timer): the task ends at once.
        while !handle.is_finished() {
            std::thread::yield_now();
        }
        assert_eq!(
            format!("{handle:?}"),
            format!("JoinHandle {{ id: {id:?}, name: None, spawned_at: {site}, finished: true }}")
        );
        let abort = handle.abort_handle();
        assert_eq!(
            format!("{abort:?}"),
            format!("AbortHandle {{ id: {id:?} }}")
        );
    });
}
