//! Models of the oneshot protocol (rules 1-5 in `windlass::sync::oneshot`)
//! on the real channel. Loom checks every cell access for races (a waker
//! written while read, the value read before it is published), fails on a
//! lost wake-up (deadlock), and the drop counters check that the value is
//! dropped exactly once whoever ends up owning it. The block has no
//! reference count (rule 4): whichever side leaves second frees it, and
//! the counted wakers below check that exactly one of them did (the
//! registered waker is dropped with the block, once).
#![cfg(loom)]

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use loom::future::block_on;
use loom::thread;
use windlass::sync::oneshot;
use windlass_loom_tests::{DropCounter, WakeCounter, model};

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

/// Rule 4 on the request/reply path: the receiver registered a counted
/// waker, then the sender sends (wakes, then leaves) while the receiver
/// polls again, takes the value and leaves. Either may leave second and
/// free; the registered waker and the value are each dropped once.
#[test]
fn send_leave_vs_receive_leave() {
    model(|| {
        let drops = DropCounter::new();
        let wakes = WakeCounter::new();
        let waker = wakes.waker();
        let (tx, mut rx) = oneshot::channel();
        let first = pin!(&mut rx).poll(&mut Context::from_waker(&waker));
        assert!(first.is_pending());
        let token = drops.token();
        let t = thread::spawn(move || tx.send(token).map_err(drop).unwrap());
        let value = loop {
            match pin!(&mut rx).poll(&mut Context::from_waker(&waker)) {
                Poll::Ready(v) => break v.unwrap(),
                Poll::Pending => thread::yield_now(),
            }
        };
        drop(value);
        t.join().unwrap();
        drop(waker);
        assert_eq!(drops.get(), 1);
        assert_eq!(
            wakes.wakers_alive(),
            0,
            "the block was freed once, with its waker"
        );
    });
}

/// Rules 3-5 with nothing sent: the sender waits in `closed()` with a
/// counted waker while the receiver is dropped on another thread; then
/// the sender is dropped. Whichever leaves second frees, once.
#[test]
fn receiver_drop_vs_waiting_sender_drop() {
    model(|| {
        let wakes = WakeCounter::new();
        let waker = wakes.waker();
        let (mut tx, rx) = oneshot::channel::<u8>();
        let first = tx.poll_closed(&mut Context::from_waker(&waker));
        assert!(first.is_pending());
        let t = thread::spawn(move || drop(rx));
        drop(tx);
        t.join().unwrap();
        drop(waker);
        assert_eq!(
            wakes.wakers_alive(),
            0,
            "the block was freed once, with its waker"
        );
    });
}
