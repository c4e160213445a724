//! Models of the oneshot protocol (rules 1-3 in `windlass::sync::oneshot`)
//! on the real channel. Loom checks every cell access for races (a waker
//! written while read, the value read before it is published), fails on a
//! lost wake-up (deadlock), and the drop counters check that the value is
//! dropped exactly once whoever ends up owning it.
#![cfg(loom)]

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use loom::future::block_on;
use loom::thread;
use windlass::sync::oneshot;
use windlass_loom_tests::{DropCounter, model};

/// Rules 1 and 2: send on one thread, await on the other.
#[test]
fn send_vs_recv() {
    model(|| {
        let drops = DropCounter::new();
        let (tx, rx) = oneshot::channel();
        let token = drops.token();
        let t = thread::spawn(move || tx.send(token).map_err(drop).unwrap());
        let value = block_on(rx).unwrap();
        drop(value);
        t.join().unwrap();
        assert_eq!(drops.get(), 1);
    });
}

/// Rule 2 with a waker change: the receiver polls with one waker, then
/// awaits with another (replacing it: `fetch_and` then write then
/// `fetch_or`) while the sender sends.
#[test]
fn send_vs_waker_replacement() {
    model(|| {
        let (tx, mut rx) = oneshot::channel::<u8>();
        let t = thread::spawn(move || tx.send(7).unwrap());
        let first = pin!(&mut rx).poll(&mut Context::from_waker(Waker::noop()));
        let value = match first {
            Poll::Ready(v) => v.unwrap(),
            Poll::Pending => block_on(&mut rx).unwrap(),
        };
        assert_eq!(value, 7);
        t.join().unwrap();
    });
}

/// Rule 2 for `TX_DROPPED`: the sender is dropped while the receiver
/// waits.
#[test]
fn sender_drop_vs_recv() {
    model(|| {
        let (tx, rx) = oneshot::channel::<u8>();
        let t = thread::spawn(move || drop(tx));
        assert!(block_on(rx).is_err());
        t.join().unwrap();
    });
}

/// Rule 1's hand-back: the receiver is dropped while the value is sent;
/// the value is dropped once, by the channel or by the failed `send`.
#[test]
fn receiver_drop_vs_send() {
    model(|| {
        let drops = DropCounter::new();
        let (tx, rx) = oneshot::channel();
        let token = drops.token();
        let t = thread::spawn(move || {
            // Either delivered (and dropped with the channel) or handed back.
            let _ = tx.send(token);
        });
        drop(rx);
        t.join().unwrap();
        assert_eq!(drops.get(), 1);
    });
}

/// Rule 1 with `close`: a value sent before the close is still received,
/// one sent after it comes back to the sender; never both, never neither.
#[test]
fn close_vs_send() {
    model(|| {
        let drops = DropCounter::new();
        let (tx, mut rx) = oneshot::channel();
        let token = drops.token();
        let t = thread::spawn(move || tx.send(token).is_ok());
        rx.close();
        let received = rx.try_recv().is_ok();
        let sent = t.join().unwrap();
        assert_eq!(received, sent, "received iff the send succeeded");
        drop(rx);
        assert_eq!(drops.get(), 1);
    });
}

/// Rule 3: the sender waits in `closed()` while the receiver is dropped.
#[test]
fn closed_vs_receiver_drop() {
    model(|| {
        let (mut tx, rx) = oneshot::channel::<u8>();
        let t = thread::spawn(move || drop(rx));
        block_on(tx.closed());
        assert!(tx.is_closed());
        t.join().unwrap();
    });
}
