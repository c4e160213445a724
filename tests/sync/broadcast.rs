//! `sync::broadcast`: every receiver gets every message exactly once from 8
//! producers, lagging receivers told how many they missed, closing, memory
//! released when read, and dropped `recv()` futures losing nothing.

use std::sync::Arc;

use crate::support::{CountWaker, XorShift, multi, watchdog};
use futures_lite::future;
use windlass::sync::broadcast::{self, RecvError, TryRecvError};
use windlass::task::yield_now;

#[test]
fn types_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<broadcast::Sender<String>>();
    assert_send_sync::<broadcast::Receiver<String>>();
}

/// 8 producers x 8 receivers: each receiver gets all messages, each once,
/// in order per producer.
#[test]
fn eight_producers_eight_receivers_every_message_once() {
    watchdog(|| {
        const PRODUCERS: usize = 8;
        const RECEIVERS: usize = 8;
        const PER: usize = 200;
        let rt = multi(2);
        let (tx, rx) = broadcast::channel::<(usize, usize)>(PRODUCERS * PER);
        let mut receivers: Vec<_> = (1..RECEIVERS).map(|_| tx.subscribe()).collect();
        receivers.push(rx);
        let results = rt.block_on(async {
            let consumers: Vec<_> = receivers
                .into_iter()
                .map(|mut rx| {
                    windlass::spawn(async move {
                        let mut next = [0usize; PRODUCERS];
                        let mut count = 0;
                        loop {
                            match rx.recv().await {
                                Ok((p, i)) => {
                                    assert_eq!(i, next[p], "producer {p}");
                                    next[p] += 1;
                                    count += 1;
                                }
                                Err(RecvError::Closed) => return count,
                                Err(e) => panic!("{e}"),
                            }
                        }
                    })
                })
                .collect();
            for p in 0..PRODUCERS {
                let tx = tx.clone();
                windlass::spawn(async move {
                    for i in 0..PER {
                        assert_eq!(tx.send((p, i)).unwrap(), RECEIVERS);
                        if i % 16 == 0 {
                            yield_now().await;
                        }
                    }
                });
            }
            drop(tx);
            let mut results = Vec::new();
            for c in consumers {
                results.push(c.await.unwrap());
            }
            results
        });
        assert_eq!(results, vec![PRODUCERS * PER; RECEIVERS]);
    });
}

#[test]
fn lagging_receiver_is_told_how_many_it_missed() {
    let (tx, mut slow) = broadcast::channel(3);
    let mut fast = tx.subscribe();
    for i in 0..3 {
        tx.send(i).unwrap();
        assert_eq!(fast.try_recv(), Ok(i));
    }
    for i in 3..8 {
        tx.send(i).unwrap();
    }
    assert_eq!(slow.len(), 3);
    assert_eq!(slow.try_recv(), Err(TryRecvError::Lagged(5)));
    assert_eq!(slow.try_recv(), Ok(5));
    assert_eq!(future::block_on(slow.recv()), Ok(6));
    // The fast receiver missed 3 and 4 (it stopped reading at 3).
    assert_eq!(future::block_on(fast.recv()), Err(RecvError::Lagged(2)));
    assert_eq!(fast.try_recv(), Ok(5));
}

#[test]
fn closing_and_dropping() {
    let (tx, mut rx) = broadcast::channel(4);
    tx.send(1).unwrap();
    let tx2 = tx.clone();
    drop(tx);
    tx2.send(2).unwrap();
    drop(tx2);
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(future::block_on(rx.recv()), Ok(2));
    assert_eq!(future::block_on(rx.recv()), Err(RecvError::Closed));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));

    let (tx, rx) = broadcast::channel(4);
    drop(rx);
    assert_eq!(tx.send("nobody").unwrap_err().0, "nobody");
    let mut late = tx.subscribe();
    tx.send("somebody").unwrap();
    assert_eq!(late.try_recv(), Ok("somebody"));
}

/// Messages are freed as soon as every receiver read them, or when the
/// receivers that had not read them go away.
#[test]
fn messages_are_released_once_read_by_all() {
    let (tx, mut a) = broadcast::channel(8);
    let mut b = tx.subscribe();
    let payload = Arc::new(());
    for _ in 0..4 {
        tx.send(payload.clone()).unwrap();
    }
    assert_eq!(Arc::strong_count(&payload), 5);
    for _ in 0..4 {
        drop(a.try_recv().unwrap());
    }
    assert_eq!(Arc::strong_count(&payload), 5, "b has not read them");
    drop(b.try_recv().unwrap());
    assert_eq!(Arc::strong_count(&payload), 4);
    drop(b); // the rest were only waiting for b
    assert_eq!(Arc::strong_count(&payload), 1);
    assert!(tx.is_empty());
}

#[test]
fn resubscribe_starts_at_the_next_message() {
    let (tx, rx) = broadcast::channel(4);
    tx.send(1).unwrap();
    let mut again = rx.resubscribe();
    assert_eq!(again.try_recv(), Err(TryRecvError::Empty));
    tx.send(2).unwrap();
    assert_eq!(again.try_recv(), Ok(2));
    assert_eq!(tx.receiver_count(), 2);
}

/// Receivers whose `recv()` races a yield (and is dropped when it loses)
/// still get every message exactly once.
#[test]
fn dropped_recv_futures_lose_nothing() {
    watchdog(|| {
        const MESSAGES: usize = 2000;
        let rt = multi(2);
        let (tx, rx) = broadcast::channel::<usize>(MESSAGES);
        let mut receivers: Vec<_> = (0..3).map(|_| rx.resubscribe()).collect();
        receivers.push(rx);
        let counts = rt.block_on(async {
            let consumers: Vec<_> = receivers
                .into_iter()
                .enumerate()
                .map(|(r, mut rx)| {
                    windlass::spawn(async move {
                        let mut rng = XorShift::new(r as u64 + 1);
                        let mut expected = 0;
                        loop {
                            let recv = async { Some(rx.recv().await) };
                            let give_up = async {
                                for _ in 0..rng.below(2) {
                                    yield_now().await;
                                }
                                None
                            };
                            match future::or(recv, give_up).await {
                                Some(Ok(m)) => {
                                    assert_eq!(m, expected);
                                    expected += 1;
                                }
                                Some(Err(RecvError::Closed)) => return expected,
                                Some(Err(e)) => panic!("{e}"),
                                None => {}
                            }
                        }
                    })
                })
                .collect();
            for i in 0..MESSAGES {
                tx.send(i).unwrap();
                if i % 8 == 0 {
                    yield_now().await;
                }
            }
            drop(tx);
            let mut counts = Vec::new();
            for c in consumers {
                counts.push(c.await.unwrap());
            }
            counts
        });
        assert_eq!(counts, vec![MESSAGES; 4]);
    });
}

/// A message whose original panics when dropped; its clones do not.
struct Bomb(bool);

impl Clone for Bomb {
    fn clone(&self) -> Bomb {
        Bomb(false)
    }
}

impl Drop for Bomb {
    fn drop(&mut self) {
        if self.0 && !std::thread::panicking() {
            panic!("boom: evicted message dropped");
        }
    }
}

/// Issue #13, sync audit ("state changed, then a panic before the wake"):
/// `send` evicts the oldest message when the ring is full, and that
/// message's destructor is user code. Before the fix it ran before the
/// receivers were woken, so its panic lost the wake-up for the new message.
#[test]
fn panicking_drop_of_an_evicted_message_does_not_lose_the_wake_up() {
    use std::task::{Context, Poll, Waker};
    let (tx, _lagging) = broadcast::channel::<Bomb>(1);
    let mut rx = tx.subscribe();
    tx.send(Bomb(true)).unwrap_or_else(|_| panic!("send"));
    drop(rx.try_recv().unwrap()); // a clone: `_lagging` keeps the original
    let wakes = Arc::new(CountWaker::default());
    let waker = Waker::from(wakes.clone());
    let mut recv = Box::pin(rx.recv());
    assert!(
        recv.as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_pending()
    );

    let msg = crate::support::expect_panic(|| tx.send(Bomb(false)));
    assert!(msg.contains("boom"), "{msg}");
    assert_eq!(
        wakes.0.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "receiver woken"
    );
    match recv.as_mut().poll(&mut Context::from_waker(&waker)) {
        Poll::Ready(Ok(m)) => assert!(!m.0, "the new message arrived"),
        Poll::Ready(Err(e)) => panic!("{e:?}"),
        Poll::Pending => panic!("the new message was not delivered"),
    }
}
