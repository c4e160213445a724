//! Models of the unbounded mpsc channel's list of recycled blocks
//! (`src/sync/mpsc/list.rs`, rules 1-9), with 2 slots per block under
//! loom so that a few messages cross blocks and the receiver hands blocks
//! back while senders still walk the list. loom's cell checks make any
//! access of a block's life after the receiver took it back (rules 6 and
//! 7) a failure, besides the asserts: every message received exactly
//! once, in each sender's order, and a close that is exact.
#![cfg(loom)]

use loom::thread;
use windlass::loom_test_hooks::{ListPopper, Popped, mpsc_list};
use windlass_loom_tests::model;

/// Pops until `n` messages came, yielding to loom while empty; checks
/// each sender's order (a message is `sender << 8 | seq`).
fn receive(rx: &mut ListPopper, n: usize, senders: usize) -> Vec<u32> {
    let mut next = vec![0u32; senders];
    let mut got = Vec::new();
    while got.len() < n {
        match rx.pop() {
            Popped::Value(v) => {
                let (s, seq) = ((v >> 8) as usize, v & 0xff);
                assert_eq!(seq, next[s], "sender {s} out of order");
                next[s] += 1;
                got.push(v);
            }
            Popped::Empty => thread::yield_now(),
            Popped::Closed => panic!("closed while open"),
        }
    }
    got
}

/// The first block is full (pushed before the senders start); two
/// senders push one message each into the second. The one that walks
/// past the full block moves the tail block on and releases it (rules 4
/// and 5); the other may have loaded the tail block before that, and must
/// not find it reset under it: the receiver takes it back only once it
/// has popped the index the releasing sender observed (rules 6 and 7).
/// The other may also load the tail block after the first moved it past
/// its own block, and walk back (rule 2).
///
/// Mutation checks (2026-12-05): with the receiver ignoring the observed
/// index, with the claim `Relaxed` instead of Acquire, or with rule 5's
/// read-modify-write `Relaxed` instead of Release, loom reports the late
/// sender's read of the block's `start` racing the reset, here and in
/// `two_senders_reuse_a_recycled_block`. Without the walk back, the
/// latter fails (a message written into the wrong block is never
/// received: the model exceeds loom's branch limit).
#[test]
fn two_senders_across_a_recycled_block() {
    model(|| {
        let (tx, mut rx) = mpsc_list();
        // Sender 2: the receiving thread, before the others start.
        tx.push(2 << 8).unwrap();
        tx.push(2 << 8 | 1).unwrap();
        let tx2 = tx.clone();
        let a = thread::spawn(move || tx.push(0).unwrap());
        let b = thread::spawn(move || tx2.push(1 << 8).unwrap());
        let got = receive(&mut rx, 4, 3);
        assert_eq!(got.len(), 4);
        assert_eq!(rx.pop(), Popped::Empty);
        a.join().unwrap();
        b.join().unwrap();
        assert!(rx.is_empty());
    });
}

/// As above with a second message from one sender, which lands in the
/// block handed back, or in a new one.
#[test]
fn two_senders_reuse_a_recycled_block() {
    model(|| {
        let (tx, mut rx) = mpsc_list();
        tx.push(2 << 8).unwrap();
        tx.push(2 << 8 | 1).unwrap();
        let tx2 = tx.clone();
        let a = thread::spawn(move || {
            tx.push(0).unwrap();
            tx.push(1).unwrap();
        });
        let b = thread::spawn(move || tx2.push(1 << 8).unwrap());
        let got = receive(&mut rx, 5, 3);
        assert_eq!(got.len(), 5);
        assert_eq!(rx.pop(), Popped::Empty);
        a.join().unwrap();
        b.join().unwrap();
    });
}

/// One sender and the receiver in step: 5 messages through blocks of 2,
/// so the receiver hands the first block back and the fifth message may
/// land in it (its second life), while the sender may still be walking
/// from a tail block it loaded earlier.
#[test]
fn sender_reuses_a_handed_back_block() {
    model(|| {
        let (tx, mut rx) = mpsc_list();
        let a = thread::spawn(move || {
            for seq in 0..5 {
                tx.push(seq).unwrap();
            }
        });
        let got = receive(&mut rx, 5, 1);
        assert_eq!(got, [0, 1, 2, 3, 4]);
        a.join().unwrap();
        assert_eq!(rx.pop(), Popped::Empty);
    });
}

/// A close racing pushes that cross a block: every push that returned
/// `Ok` is received, one that failed is not, a push after a failed one
/// fails too, and the receiver then reads `Closed`.
#[test]
fn close_vs_push_across_a_block() {
    model(|| {
        let (tx, mut rx) = mpsc_list();
        let a = thread::spawn(move || {
            let mut sent = 0u32;
            for seq in 0..3 {
                if tx.push(seq).is_err() {
                    assert!(tx.push(9).is_err(), "a push after a failed one");
                    break;
                }
                sent += 1;
            }
            sent
        });
        let mut received = 0u32;
        if let Popped::Value(v) = rx.pop() {
            assert_eq!(v, received);
            received += 1;
        }
        rx.close();
        loop {
            match rx.pop() {
                Popped::Value(v) => {
                    assert_eq!(v, received);
                    received += 1;
                }
                Popped::Empty => thread::yield_now(),
                Popped::Closed => break,
            }
        }
        assert_eq!(a.join().unwrap(), received, "sent iff received");
    });
}
