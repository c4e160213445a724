//! `sync::watch`: changes seen once, merged updates, many receivers,
//! closing from either side, `wait_for`, and dropped `changed()` futures.

use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::Ordering::SeqCst;
use std::task::{Context, Poll, Waker};

use crate::support::{CountWaker, multi, watchdog};
use futures_lite::future;
use windlass::sync::watch;
use windlass::task::yield_now;

#[test]
fn types_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<watch::Sender<String>>();
    assert_send_sync::<watch::Receiver<String>>();
}

#[test]
fn changes_are_seen_once_and_merged() {
    let (tx, mut rx) = watch::channel(0);
    assert!(!rx.has_changed().unwrap());
    tx.send(1).unwrap();
    tx.send(2).unwrap(); // merged with the first: one change, to 2
    assert!(rx.has_changed().unwrap());
    future::block_on(rx.changed()).unwrap();
    assert_eq!(*rx.borrow(), 2);
    assert!(!rx.has_changed().unwrap());
    let waker = Waker::from(Arc::new(CountWaker::default()));
    let mut changed = pin!(rx.changed());
    assert!(
        changed
            .as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_pending()
    );
}

#[test]
fn every_receiver_is_woken() {
    let (tx, rx) = watch::channel("a");
    let mut rxs: Vec<_> = (0..4).map(|_| rx.clone()).collect();
    let wakes = Arc::new(CountWaker::default());
    let waker = Waker::from(wakes.clone());
    let mut cx = Context::from_waker(&waker);
    let mut futs: Vec<_> = rxs.iter_mut().map(|r| Box::pin(r.changed())).collect();
    for f in &mut futs {
        assert!(f.as_mut().poll(&mut cx).is_pending());
    }
    tx.send("b").unwrap();
    assert_eq!(wakes.0.load(SeqCst), 4);
    for f in &mut futs {
        assert_eq!(f.as_mut().poll(&mut cx), Poll::Ready(Ok(())));
    }
    drop(futs);
    assert!(rxs.iter().all(|r| *r.borrow() == "b"));
}

#[test]
fn sender_drop_ends_receivers_after_the_last_change() {
    let (tx, mut rx) = watch::channel(0);
    tx.send(1).unwrap();
    drop(tx);
    assert_eq!(
        future::block_on(rx.changed()),
        Ok(()),
        "unseen change first"
    );
    assert_eq!(*rx.borrow(), 1, "the last value stays readable");
    assert!(future::block_on(rx.changed()).is_err());
    assert!(rx.has_changed().is_err());
}

#[test]
fn receivers_gone_fails_send_and_ends_closed() {
    let (tx, rx) = watch::channel(0);
    let rx2 = tx.subscribe();
    assert_eq!(tx.receiver_count(), 2);
    drop(rx);
    assert!(!tx.is_closed());
    drop(rx2);
    assert!(tx.is_closed());
    future::block_on(tx.closed());
    assert_eq!(tx.send(1).unwrap_err().0, 1);
    assert_eq!(
        tx.send_replace(2),
        0,
        "send_replace works without receivers"
    );
    assert_eq!(*tx.borrow(), 2);
}

#[test]
fn send_if_modified_only_notifies_changes() {
    let (tx, rx) = watch::channel(5);
    assert!(!tx.send_if_modified(|v| {
        *v += 0;
        false
    }));
    assert!(!rx.has_changed().unwrap());
    tx.send_modify(|v| *v += 1);
    assert!(rx.has_changed().unwrap());
    assert_eq!(*rx.borrow(), 6);
}

#[test]
fn wait_for_across_workers() {
    watchdog(|| {
        let rt = multi(2);
        let (tx, rx) = watch::channel(0u32);
        let observers: Vec<_> = (0..4)
            .map(|_| {
                let mut rx = rx.clone();
                rt.spawn(async move { *rx.wait_for(|v| *v >= 100).await.unwrap() })
            })
            .collect();
        rt.block_on(async {
            for i in 1..=100 {
                tx.send(i).unwrap();
                if i % 5 == 0 {
                    yield_now().await;
                }
            }
            for o in observers {
                assert!(o.await.unwrap() >= 100);
            }
        });
    });
}

/// `changed()` dropped while pending loses nothing: the change is still
/// unseen afterwards.
#[test]
fn dropped_changed_future_keeps_the_change_unseen() {
    let (tx, mut rx) = watch::channel(0);
    let waker = Waker::from(Arc::new(CountWaker::default()));
    let mut cx = Context::from_waker(&waker);
    {
        let mut changed = pin!(rx.changed());
        assert!(changed.as_mut().poll(&mut cx).is_pending());
        tx.send(1).unwrap();
        // Dropped before being polled again.
    }
    assert!(rx.has_changed().unwrap());
    future::block_on(rx.changed()).unwrap();
    assert_eq!(*rx.borrow_and_update(), 1);
}

/// Issue #13, sync audit: a `send_modify` closure that panics may already
/// have changed the value. Before the fix the version was not bumped and
/// nobody was woken, so receivers kept a stale view forever; now the change
/// is published before the panic goes on.
#[test]
fn panicking_send_modify_still_tells_the_receivers() {
    let (tx, mut rx) = watch::channel(0u32);
    let wakes = Arc::new(CountWaker::default());
    let waker = Waker::from(wakes.clone());
    {
        let mut changed = pin!(rx.changed());
        assert!(
            changed
                .as_mut()
                .poll(&mut Context::from_waker(&waker))
                .is_pending()
        );
        let msg = crate::support::expect_panic(|| {
            tx.send_modify(|v| {
                *v = 7;
                panic!("half-way through an update");
            })
        });
        assert!(msg.contains("half-way"), "{msg}");
        assert_eq!(wakes.0.load(SeqCst), 1, "the receiver was woken");
        assert!(matches!(
            changed.as_mut().poll(&mut Context::from_waker(&waker)),
            Poll::Ready(Ok(()))
        ));
    }
    assert_eq!(*rx.borrow_and_update(), 7);
    // The channel goes on working.
    tx.send(8).unwrap();
    assert_eq!(*rx.borrow_and_update(), 8);
}
