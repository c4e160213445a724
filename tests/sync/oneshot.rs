//! `sync::oneshot`: the future you complete yourself. Delivery, both kinds
//! of closing, `closed()`, blocking receive, thread races on the atomic
//! protocol, and destructor counts when either side is cancelled.

use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::task::{Context, Poll, Waker};

use crate::support::{CountWaker, DropCounter, XorShift, expect_panic, multi, watchdog};
use futures_lite::future;
use windlass::sync::oneshot::{self, RecvError, TryRecvError};
use windlass::task::yield_now;

#[test]
fn types_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<oneshot::Sender<String>>();
    assert_send_sync::<oneshot::Receiver<String>>();
    fn assert_unpin<T: Unpin>() {}
    assert_unpin::<oneshot::Receiver<String>>();
}

#[test]
fn value_arrives_and_wakes_the_receiver() {
    let (tx, mut rx) = oneshot::channel();
    let wakes = Arc::new(CountWaker::default());
    let waker = Waker::from(wakes.clone());
    let mut cx = Context::from_waker(&waker);
    assert!(pin!(&mut rx).poll(&mut cx).is_pending());
    // A second poll with the same waker keeps it; a new waker replaces it.
    assert!(pin!(&mut rx).poll(&mut cx).is_pending());
    tx.send(5).unwrap();
    assert_eq!(wakes.0.load(SeqCst), 1);
    assert_eq!(pin!(&mut rx).poll(&mut cx), Poll::Ready(Ok(5)));
}

#[test]
fn dropped_sender_fails_the_receiver_and_wakes_it() {
    let (tx, mut rx) = oneshot::channel::<u8>();
    let wakes = Arc::new(CountWaker::default());
    let waker = Waker::from(wakes.clone());
    assert!(
        pin!(&mut rx)
            .poll(&mut Context::from_waker(&waker))
            .is_pending()
    );
    drop(tx);
    assert_eq!(wakes.0.load(SeqCst), 1);
    assert!(matches!(future::block_on(rx), Err(RecvError { .. })));
}

#[test]
fn receiver_close_and_drop() {
    // Dropped receiver: send hands the value back.
    let (tx, rx) = oneshot::channel();
    drop(rx);
    assert!(tx.is_closed());
    assert_eq!(tx.send("v"), Err("v"));

    // Closed receiver: the same, and the receiver reports closed.
    let (tx, mut rx) = oneshot::channel();
    rx.close();
    assert_eq!(tx.send(1), Err(1));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    assert!(future::block_on(rx).is_err());

    // A value sent before the close can still be received.
    let (tx, mut rx) = oneshot::channel();
    tx.send(2).unwrap();
    rx.close();
    assert_eq!(rx.try_recv(), Ok(2));
}

#[test]
fn sender_closed_wakes_when_the_receiver_goes() {
    let (mut tx, rx) = oneshot::channel::<u8>();
    let wakes = Arc::new(CountWaker::default());
    let waker = Waker::from(wakes.clone());
    let mut cx = Context::from_waker(&waker);
    assert!(tx.poll_closed(&mut cx).is_pending());
    assert!(tx.poll_closed(&mut cx).is_pending());
    drop(rx);
    assert_eq!(wakes.0.load(SeqCst), 1);
    assert!(tx.poll_closed(&mut cx).is_ready());
}

#[test]
fn request_reply_between_tasks() {
    watchdog(|| {
        let rt = multi(2);
        let total = rt.block_on(async {
            let (req_tx, mut req_rx) =
                windlass::sync::mpsc::unbounded_channel::<(u64, oneshot::Sender<u64>)>();
            let server = windlass::spawn(async move {
                while let Some((n, reply)) = req_rx.recv().await {
                    reply.send(n * 2).unwrap();
                }
            });
            let mut total = 0;
            for n in 0..1000 {
                let (tx, rx) = oneshot::channel();
                req_tx.send((n, tx)).unwrap();
                total += rx.await.unwrap();
            }
            drop(req_tx);
            server.await.unwrap();
            total
        });
        assert_eq!(total, 2 * (0..1000).sum::<u64>());
    });
}

#[test]
fn blocking_recv_from_a_thread_and_panic_on_workers() {
    watchdog(|| {
        let (tx, rx) = oneshot::channel();
        let rt = multi(2);
        rt.spawn(async move {
            yield_now().await;
            tx.send("from a task").unwrap();
        });
        let t = std::thread::spawn(move || rx.blocking_recv());
        assert_eq!(t.join().unwrap(), Ok("from a task"));

        let (_tx, rx) = oneshot::channel::<u8>();
        let msg = expect_panic(|| rt.block_on(async { rx.blocking_recv() }));
        assert!(msg.contains("oneshot::Receiver::blocking_recv"), "{msg}");
    });
}

/// Sender and receiver on two threads, racing on the state word: every
/// value arrives, and every value is dropped exactly once.
#[test]
fn thread_races_deliver_and_drop_once() {
    watchdog(|| {
        let drops = DropCounter::new();
        let delivered = AtomicUsize::new(0);
        let mut rng = XorShift::new(5);
        for _ in 0..2000 {
            let (tx, rx) = oneshot::channel();
            let token = drops.token();
            let mode = rng.below(4);
            std::thread::scope(|s| {
                s.spawn(move || match mode {
                    0 => drop(tx),
                    _ => {
                        let _ = tx.send(token);
                    }
                });
                s.spawn(|| match mode {
                    // Drop the receiver while the send may be in flight.
                    1 => drop(rx),
                    _ => {
                        if future::block_on(rx).is_ok() {
                            delivered.fetch_add(1, SeqCst);
                        }
                    }
                });
            });
        }
        assert_eq!(
            drops.dropped(),
            drops.created(),
            "a value leaked or dropped twice"
        );
        assert!(delivered.load(SeqCst) > 0);
    });
}

/// Pairs of tasks, each side aborted at random: every value is dropped
/// exactly once, whoever ends up owning it.
#[test]
fn random_aborts_drop_every_value_once() {
    watchdog(|| {
        let rt = multi(2);
        let drops = DropCounter::new();
        let mut rng = XorShift::new(9);
        rt.block_on(async {
            let mut handles = Vec::new();
            for _ in 0..300 {
                let (tx, rx) = oneshot::channel();
                let token = drops.token();
                let sender = windlass::spawn(async move {
                    yield_now().await;
                    let _ = tx.send(token);
                });
                let receiver = windlass::spawn(async move {
                    let _ = rx.await;
                });
                handles.push(sender);
                handles.push(receiver);
            }
            for h in &handles {
                if rng.below(3) == 0 {
                    h.abort();
                }
            }
            for h in handles {
                let _ = h.await;
            }
        });
        drop(rt);
        assert_eq!(drops.dropped(), drops.created());
    });
}
