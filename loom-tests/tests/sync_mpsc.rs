//! Models of the mpsc channel (`windlass::sync::mpsc`, protocol in
//! `src/sync/mpsc/chan.rs`): the receiver-wake rules 1-3 (a sender's fence
//! and read, and the receiver's swap and fence, of which one side always
//! sees the other) and what makes `close` exact (the semaphore for a
//! bounded channel, the list's own close for an unbounded one).
//! `concurrent-queue` (the bounded queue) runs on loom types too (its
//! `loom` feature), and the unbounded list is windlass's own on loom
//! types (2 slots per block; its rules have their own models in
//! `sync_mpsc_list.rs`), so pushes and pops are interleaved as well. A lost wake-up shows as a
//! deadlock of the model thread's `block_on`. Removing either fence of
//! rules 1 and 2 makes the bounded models deadlock (checked 2026-12-04),
//! and the unbounded ones too since they run on windlass's list (checked
//! 2026-12-05: `send_vs_park`, `two_senders_one_wake`,
//! `second_send_vs_second_park`, `last_sender_drop_ends_after_its_message`
//! and `close_vs_unbounded_send` each deadlock without either fence;
//! `concurrent-queue`'s read-modify-writes had ordered what the proof does
//! not rely on).
#![cfg(loom)]

use loom::future::block_on;
use loom::thread;
use windlass::sync::mpsc;
use windlass_loom_tests::model;

/// Rules 1 and 2: one send races the receiver parking.
#[test]
fn send_vs_park() {
    model(|| {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let t = thread::spawn(move || {
            tx.send(1u8).unwrap();
            // Keep the sender alive until received: the end (rule 3) is
            // another model.
            tx
        });
        assert_eq!(block_on(rx.recv()), Some(1));
        drop(t.join().unwrap());
    });
}

/// Rules 1 and 2 with two senders: the second may skip the wake because
/// the first already woke the receiver; the receiver still sees both.
#[test]
fn two_senders_one_wake() {
    model(|| {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let tx2 = tx.clone();
        let a = thread::spawn(move || {
            tx.send(1u8).unwrap();
            tx
        });
        let b = thread::spawn(move || {
            tx2.send(2u8).unwrap();
            tx2
        });
        let mut got = [block_on(rx.recv()).unwrap(), block_on(rx.recv()).unwrap()];
        got.sort_unstable();
        assert_eq!(got, [1, 2]);
        drop(a.join().unwrap());
        drop(b.join().unwrap());
    });
}

/// Rules 1 and 2 across a second park: the sender's second read may find
/// `NOTIFIED` left from its first send and skip the write, while the
/// receiver, woken by the first, drains and parks again; the fences make
/// one of the two see the other.
#[test]
fn second_send_vs_second_park() {
    model(|| {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let t = thread::spawn(move || {
            tx.send(1u8).unwrap();
            tx.send(2u8).unwrap();
            tx
        });
        assert_eq!(block_on(rx.recv()), Some(1));
        assert_eq!(block_on(rx.recv()), Some(2));
        drop(t.join().unwrap());
    });
}

/// Rule 3: a sender sends and is dropped while the receiver drains: the
/// message arrives, then `None`.
#[test]
fn last_sender_drop_ends_after_its_message() {
    model(|| {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let t = thread::spawn(move || tx.send(7u8).unwrap());
        assert_eq!(block_on(rx.recv()), Some(7));
        assert_eq!(block_on(rx.recv()), None);
        t.join().unwrap();
    });
}

/// Bounded room: a channel of 1 and two senders; one waits for the room
/// the receiver gives back (the semaphore's hand-off), and both arrive.
#[test]
fn bounded_sender_waits_for_room() {
    model(|| {
        let (tx, mut rx) = mpsc::channel(1);
        let t = thread::spawn(move || {
            block_on(async {
                tx.send(1u8).await.unwrap();
                tx.send(2u8).await.unwrap();
            });
        });
        assert_eq!(block_on(rx.recv()), Some(1));
        assert_eq!(block_on(rx.recv()), Some(2));
        assert_eq!(block_on(rx.recv()), None);
        t.join().unwrap();
    });
}

/// The close is exact: a send racing `close` either fails, or succeeds and
/// is received; the receiver then ends instead of waiting forever.
#[test]
fn close_vs_unbounded_send() {
    model(|| {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let t = thread::spawn(move || {
            let sent = tx.send(5u8).is_ok();
            (sent, tx)
        });
        rx.close();
        let received = block_on(rx.recv()).is_some();
        assert_eq!(block_on(rx.recv()), None);
        let (sent, tx) = t.join().unwrap();
        assert_eq!(sent, received, "sent iff received");
        drop(tx);
    });
}

/// The same for a bounded channel, where the room is the semaphore.
#[test]
fn close_vs_bounded_send() {
    model(|| {
        let (tx, mut rx) = mpsc::channel(1);
        let t = thread::spawn(move || {
            let sent = tx.try_send(5u8).is_ok();
            (sent, tx)
        });
        rx.close();
        let received = block_on(rx.recv()).is_some();
        assert_eq!(block_on(rx.recv()), None);
        let (sent, tx) = t.join().unwrap();
        assert_eq!(sent, received, "sent iff received");
        drop(tx);
    });
}
