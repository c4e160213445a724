//! `sync::mpsc`: every message exactly once from 8 producers, per-producer
//! order, closing and dropping from either side, blocking forms, the
//! cooperative budget, and `recv`/`send` futures dropped at random.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};

use crate::support::{
    DropCounter, XorShift, counting_waker, current, expect_panic, multi, panicking_waker, watchdog,
};
use futures_lite::{StreamExt, future};
use windlass::sync::mpsc::{self, TryRecvError, TrySendError};
use windlass::task::yield_now;

#[test]
fn types_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<mpsc::Sender<String>>();
    assert_send_sync::<mpsc::UnboundedSender<String>>();
    assert_send_sync::<mpsc::Receiver<String>>();
    fn assert_unpin<T: Unpin>() {}
    assert_unpin::<mpsc::Receiver<String>>();
}

/// Checks that `got` holds `producers x per` messages `(producer, seq)`,
/// each exactly once and in order per producer.
fn check_all_once_in_order(got: &[(usize, usize)], producers: usize, per: usize) {
    assert_eq!(got.len(), producers * per);
    let mut next = vec![0; producers];
    for &(p, i) in got {
        assert_eq!(i, next[p], "producer {p}: out of order or duplicated");
        next[p] += 1;
    }
    assert!(next.iter().all(|&n| n == per));
}

#[test]
fn eight_producers_bounded_every_message_once_in_order() {
    watchdog(|| {
        const PRODUCERS: usize = 8;
        const PER: usize = 1000;
        let rt = multi(2);
        let got = rt.block_on(async {
            let (tx, mut rx) = mpsc::channel(16);
            for p in 0..PRODUCERS {
                let tx = tx.clone();
                windlass::spawn(async move {
                    for i in 0..PER {
                        tx.send((p, i)).await.unwrap();
                    }
                });
            }
            drop(tx);
            let mut got = Vec::new();
            while let Some(m) = rx.recv().await {
                got.push(m);
            }
            got
        });
        check_all_once_in_order(&got, PRODUCERS, PER);
    });
}

#[test]
fn eight_producers_unbounded_every_message_once_in_order() {
    watchdog(|| {
        const PRODUCERS: usize = 8;
        const PER: usize = 1000;
        let rt = multi(2);
        let got = rt.block_on(async {
            let (tx, rx) = mpsc::unbounded_channel();
            for p in 0..PRODUCERS {
                let tx = tx.clone();
                windlass::spawn(async move {
                    for i in 0..PER {
                        tx.send((p, i)).unwrap();
                        if i % 64 == 0 {
                            yield_now().await;
                        }
                    }
                });
            }
            drop(tx);
            rx.collect::<Vec<_>>().await
        });
        check_all_once_in_order(&got, PRODUCERS, PER);
    });
}

/// An unbounded channel in a steady state allocates nothing: the receiver
/// hands each block it has read back to the senders (`list.rs` rule 7).
/// Regression: the `concurrent-queue` list made a block every 31 messages
/// on the sender's thread, which the receiver freed; on 2 cores the free
/// took glibc's arena lock against the sender's next allocation.
#[test]
fn unbounded_lock_step_allocates_nothing_in_a_steady_state() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    // Warm up: the blocks the traffic needs are made once.
    for i in 0..100 {
        tx.send(i).unwrap();
        assert_eq!(rx.try_recv(), Ok(i));
    }
    let before = crate::support::alloc_count::made_here();
    for i in 0..10_000 {
        tx.send(i).unwrap();
        assert_eq!(rx.try_recv(), Ok(i));
    }
    let made = crate::support::alloc_count::made_here() - before;
    assert_eq!(made, 0, "allocations for 10,000 messages sent in lock step");
}

/// The same with up to 3 blocks of messages queued at a time.
#[test]
fn unbounded_bursts_allocate_nothing_in_a_steady_state() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let burst = |rx: &mut mpsc::Receiver<usize>| {
        for i in 0..80 {
            tx.send(i).unwrap();
        }
        for i in 0..80 {
            assert_eq!(rx.try_recv(), Ok(i));
        }
    };
    for _ in 0..3 {
        burst(&mut rx);
    }
    let before = crate::support::alloc_count::made_here();
    for _ in 0..100 {
        burst(&mut rx);
    }
    let made = crate::support::alloc_count::made_here() - before;
    assert_eq!(made, 0, "allocations for 100 bursts of 80 messages");
}

#[test]
fn dropping_every_sender_ends_the_receiver_after_the_queue() {
    let (tx, mut rx) = mpsc::channel(4);
    tx.try_send(1).unwrap();
    tx.try_send(2).unwrap();
    let tx2 = tx.clone();
    drop(tx);
    assert!(!rx.is_closed());
    drop(tx2);
    assert!(rx.is_closed());
    assert_eq!(future::block_on(rx.recv()), Some(1));
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    assert_eq!(future::block_on(rx.recv()), None);
}

#[test]
fn receiver_close_and_drop_fail_senders_and_hand_values_back() {
    let (tx, mut rx) = mpsc::channel(4);
    tx.try_send("queued").unwrap();
    rx.close();
    assert!(tx.is_closed());
    assert!(matches!(
        tx.try_send("late"),
        Err(TrySendError::Closed("late"))
    ));
    assert_eq!(future::block_on(tx.send("later")).unwrap_err().0, "later");
    assert_eq!(rx.try_recv(), Ok("queued"), "queued messages survive close");
    assert_eq!(future::block_on(rx.recv()), None);

    let (utx, urx) = mpsc::unbounded_channel();
    drop(urx);
    assert_eq!(utx.send(5).unwrap_err().0, 5);
    future::block_on(utx.closed());
}

#[test]
fn full_channel_backpressure() {
    let (tx, mut rx) = mpsc::channel(2);
    tx.try_send(1).unwrap();
    tx.try_send(2).unwrap();
    assert_eq!(tx.capacity(), 0);
    assert!(matches!(tx.try_send(3), Err(TrySendError::Full(3))));
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(tx.capacity(), 1);
    tx.try_send(3).unwrap();
    assert_eq!(rx.len(), 2);
}

#[test]
fn queued_messages_are_dropped_with_the_channel() {
    let drops = DropCounter::new();
    let (tx, rx) = mpsc::unbounded_channel();
    for _ in 0..5 {
        tx.send(drops.token()).unwrap();
    }
    drop(rx);
    drop(tx);
    assert_eq!(drops.dropped(), 5);
}

#[test]
fn blocking_forms_from_threads_and_panic_on_workers() {
    watchdog(|| {
        let (tx, mut rx) = mpsc::channel(1);
        let producer = std::thread::spawn(move || {
            for i in 0..100 {
                tx.blocking_send(i).unwrap();
            }
        });
        let mut got = Vec::new();
        while let Some(i) = rx.blocking_recv() {
            got.push(i);
        }
        producer.join().unwrap();
        assert_eq!(got, (0..100).collect::<Vec<_>>());

        let rt = multi(2);
        let (_tx, mut rx) = mpsc::channel::<u8>(1);
        let msg = expect_panic(|| rt.block_on(async { rx.blocking_recv() }));
        assert!(msg.contains("mpsc::Receiver::blocking_recv"), "{msg}");
    });
}

/// A receive loop over a channel that is never empty still lets the other
/// task of a single-threaded runtime run.
#[test]
fn busy_receiver_yields_to_other_tasks() {
    watchdog(|| {
        let rt = current();
        let (tx, mut rx) = mpsc::unbounded_channel();
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let spinner = rt.spawn(async move {
            let mut n = 0u64;
            while !stop2.load(SeqCst) {
                // Refill so that `recv` is always ready.
                tx.send(n).unwrap();
                assert_eq!(rx.recv().await, Some(n));
                n += 1;
            }
            n
        });
        let setter = rt.spawn(async move { stop.store(true, SeqCst) });
        rt.block_on(async {
            setter.await.unwrap();
            assert!(spinner.await.unwrap() > 0);
        });
    });
}

/// `recv()` and `send()` futures race a yield and are dropped when they
/// lose (a `select` with a timeout, in effect). A message counts as sent
/// only if `send` completed; every sent message is received exactly once.
#[test]
fn dropped_send_and_recv_futures_lose_nothing() {
    watchdog(|| {
        const PRODUCERS: usize = 4;
        const ATTEMPTS: usize = 500;
        let rt = multi(2);
        let sent = Arc::new(AtomicUsize::new(0));
        let (got, sent_total) = rt.block_on(async {
            let (tx, mut rx) = mpsc::channel::<(usize, usize)>(2);
            for p in 0..PRODUCERS {
                let (tx, sent) = (tx.clone(), sent.clone());
                windlass::spawn(async move {
                    let mut seq = 0;
                    let mut rng = XorShift::new(p as u64 + 1);
                    for _ in 0..ATTEMPTS {
                        let send = async { tx.send((p, seq)).await.map(|_| true).unwrap() };
                        let give_up = async {
                            for _ in 0..rng.below(2) {
                                yield_now().await;
                            }
                            false
                        };
                        if future::or(send, give_up).await {
                            sent.fetch_add(1, SeqCst);
                            seq += 1;
                        }
                    }
                });
            }
            drop(tx);
            let mut got = Vec::new();
            let mut rng = XorShift::new(99);
            loop {
                let recv = async { Some(rx.recv().await) };
                let give_up = async {
                    for _ in 0..rng.below(2) {
                        yield_now().await;
                    }
                    None
                };
                match future::or(recv, give_up).await {
                    Some(Some(m)) => got.push(m),
                    Some(None) => break,
                    None => {}
                }
            }
            (got, sent.load(SeqCst))
        });
        assert_eq!(got.len(), sent_total);
        let mut next = [0; PRODUCERS];
        for (p, seq) in got {
            assert_eq!(seq, next[p], "producer {p}: lost or duplicated");
            next[p] += 1;
        }
    });
}

#[test]
fn works_without_a_windlass_runtime() {
    let (tx, mut rx) = mpsc::channel(1);
    let t = std::thread::spawn(move || {
        future::block_on(async {
            for i in 0..50 {
                tx.send(i).await.unwrap();
            }
        })
    });
    let sum: i32 = future::block_on(async {
        let mut sum = 0;
        while let Some(i) = rx.recv().await {
            sum += i;
        }
        sum
    });
    t.join().unwrap();
    assert_eq!(sum, (0..50).sum());
}

/// A bounded channel's `recv` hands the room of the message it takes to a
/// waiting sender whose waker panics (a foreign executor's). The message is
/// returned, not lost: before, the panic unwound out of `recv` after the
/// message had left the queue, and the message was dropped with it.
#[test]
fn recv_keeps_its_message_when_a_senders_waker_panics() {
    use std::task::{Context, Poll};
    let (tx, mut rx) = mpsc::channel::<u32>(1);
    tx.try_send(1).unwrap();
    let (bad, bad_waker) = panicking_waker();
    let mut send = Box::pin(tx.send(2));
    assert!(
        send.as_mut()
            .poll(&mut Context::from_waker(&bad_waker))
            .is_pending()
    );
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(bad.0.load(SeqCst), 1, "the sender was woken");
    let (_, good) = counting_waker();
    assert_eq!(
        send.as_mut().poll(&mut Context::from_waker(&good)),
        Poll::Ready(Ok(()))
    );
    assert_eq!(rx.try_recv(), Ok(2));
}
