//! Unit tests of the unbounded mpsc list (`list.rs`), also run under Miri.

use super::*;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize as Count;
use std::sync::atomic::Ordering::SeqCst;
use std::thread;

/// Fewer messages under Miri, which is ~1000x slower.
const fn scaled(n: usize) -> usize {
    if cfg!(miri) { n / 50 } else { n }
}

/// The test thread is the only consumer.
fn pop<T>(list: &List<T>) -> Result<T, PopError> {
    // SAFETY: each test pops from one thread only.
    unsafe { list.pop() }
}

/// Blocks in the chain from the receiver's oldest (the test is alone
/// with the list).
fn blocks<T>(list: &List<T>) -> usize {
    // SAFETY: no other thread uses the list.
    let mut block = list.rx.with(|rx| unsafe { (*rx).oldest });
    if block.is_null() {
        block = list.tail.first.load(SeqCst);
    }
    let mut n = 0;
    while !block.is_null() {
        n += 1;
        // SAFETY: the chain's blocks are alive while the list is.
        block = unsafe { (*block).next.load(SeqCst) };
    }
    n
}

/// Counts its drops; panics in drop if told to.
struct Counted {
    drops: Arc<Count>,
    panic: bool,
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.drops.fetch_add(1, SeqCst);
        if self.panic {
            panic!("Counted: told to panic");
        }
    }
}

/// The figure the module doc ("Memory") and docs/ARCHITECTURE.md give.
#[test]
fn a_block_of_words_is_544_bytes() {
    if B == 32 && size_of::<usize>() == 8 {
        assert_eq!(size_of::<Block<u64>>(), 544);
    }
}

#[test]
fn an_unused_list_has_no_block() {
    let list = List::<u64>::new();
    assert_eq!(blocks(&list), 0);
    assert_eq!(pop(&list), Err(PopError::Empty));
    assert_eq!(blocks(&list), 0, "a pop made a block");
    list.close();
    assert_eq!(pop(&list), Err(PopError::Closed));
}

/// Lock step (one message in flight) over many blocks: the list keeps
/// two blocks and hands each finished one back instead of a new one.
#[test]
fn lock_step_recycles_two_blocks() {
    let list = List::new();
    for i in 0..scaled(100 * B) {
        list.push(i).unwrap();
        assert_eq!(pop(&list), Ok(i));
        assert!(blocks(&list) <= 2, "{} blocks at {i}", blocks(&list));
    }
    assert_eq!(pop(&list), Err(PopError::Empty));
}

/// Bursts of several blocks: FIFO across blocks, and what is kept
/// after each burst is bounded by the spares (rule 7), not the burst.
#[test]
fn bursts_keep_few_blocks() {
    let list = List::new();
    let mut next = 0;
    for _ in 0..scaled(200).max(4) {
        for k in 0..10 * B {
            list.push(next + k).unwrap();
        }
        assert_eq!(list.len(), 10 * B);
        for k in 0..10 * B {
            assert_eq!(pop(&list), Ok(next + k));
        }
        next += 10 * B;
        assert_eq!(list.len(), 0);
        // The block being read, one past it, and the spares.
        assert!(blocks(&list) <= 2 + SPARE_WALK, "{} blocks", blocks(&list));
    }
}

/// Producers on their own threads, the consumer on the test's: every
/// message arrives once, in each producer's order.
#[test]
fn stress_every_message_once_in_order() {
    const PRODUCERS: usize = 4;
    let per = scaled(20_000);
    let list = Arc::new(List::new());
    let handles: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let list = list.clone();
            thread::spawn(move || {
                for i in 0..per {
                    list.push((p, i)).unwrap();
                }
            })
        })
        .collect();
    let mut next = [0; PRODUCERS];
    for _ in 0..PRODUCERS * per {
        let (p, i) = loop {
            match pop(&list) {
                Ok(v) => break v,
                Err(PopError::Empty) => thread::yield_now(),
                Err(PopError::Closed) => panic!("never closed"),
            }
        };
        assert_eq!(i, next[p], "producer {p} out of order");
        next[p] += 1;
    }
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(next, [per; PRODUCERS]);
    assert_eq!(pop(&list), Err(PopError::Empty));
}

/// A close racing pushes: a push that returned `Ok` is received, one
/// that failed is not, and after the first failure every push fails.
#[test]
fn close_vs_push_is_exact() {
    let per = scaled(5_000);
    let list = Arc::new(List::new());
    let handles: Vec<_> = (0..2)
        .map(|p| {
            let list = list.clone();
            thread::spawn(move || {
                let mut sent = 0;
                for i in 0..per {
                    if list.push((p, i)).is_err() {
                        assert!(list.push((p, i)).is_err(), "a push after a failed one");
                        break;
                    }
                    sent += 1;
                }
                sent
            })
        })
        .collect();
    let mut got = [0; 2];
    let mut popped = 0;
    while popped < per / 4 {
        if let Ok((p, i)) = pop(&list) {
            assert_eq!(i, got[p]);
            got[p] += 1;
            popped += 1;
        }
    }
    list.close();
    loop {
        match pop(&list) {
            Ok((p, i)) => {
                assert_eq!(i, got[p]);
                got[p] += 1;
            }
            Err(PopError::Empty) => thread::yield_now(),
            Err(PopError::Closed) => break,
        }
    }
    let sent: Vec<usize> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(sent, got, "sent iff received");
    assert_eq!(list.len(), 0);
    assert_eq!(pop(&list), Err(PopError::Closed));
}

/// Dropping the list drops every message not popped, once, across
/// blocks (some read, some not), and frees the blocks (Miri checks).
#[test]
fn drop_drops_unreceived_messages() {
    let drops = Arc::new(Count::new(0));
    let list = List::new();
    let n = 3 * B + 5;
    for _ in 0..n {
        let value = Counted {
            drops: drops.clone(),
            panic: false,
        };
        assert!(list.push(value).is_ok());
    }
    for _ in 0..B + 2 {
        drop(pop(&list).unwrap());
    }
    assert_eq!(drops.load(SeqCst), B + 2);
    drop(list);
    assert_eq!(drops.load(SeqCst), n, "each message dropped once");
}

/// Rule 9: a message whose drop panics does not stop the others from
/// being dropped, nor the blocks from being freed (Miri finds a leak).
#[test]
fn a_panicking_drop_leaks_nothing() {
    let drops = Arc::new(Count::new(0));
    let list = List::new();
    let n = 2 * B + 3;
    for i in 0..n {
        let value = Counted {
            drops: drops.clone(),
            panic: i == B + 1,
        };
        assert!(list.push(value).is_ok());
    }
    let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(list)));
    assert!(dropped.is_err(), "the panic goes on to the dropper");
    assert_eq!(drops.load(SeqCst), n, "each message dropped once");
}

/// Rule 4: a push stalled between its claim and its write does not
/// hold the tail block back (later pushes would walk ever longer
/// chains), and when it resumes it walks back to its block (rule 2).
#[test]
fn a_stalled_push_does_not_hold_the_tail_block_back() {
    let list = List::new();
    list.push(0).unwrap();
    // A push claims index 1 and stalls.
    let stalled = list.tail.index.fetch_add(ONE, SeqCst) >> 1;
    for i in 2..10 * B {
        list.push(i).unwrap();
        // SAFETY: the test thread is alone with the list.
        let start = unsafe { (*list.tail.block.load(SeqCst)).start() };
        assert_eq!(start, i - i % B, "the tail block lags at {i}");
    }
    assert_eq!(pop(&list), Ok(0));
    assert_eq!(pop(&list), Err(PopError::Empty), "index 1 is not written");
    list.fill(stalled, 1);
    for i in 1..10 * B {
        assert_eq!(pop(&list), Ok(i));
    }
    assert_eq!(pop(&list), Err(PopError::Empty));
}

#[test]
fn len_counts_queued_messages_and_stops_at_the_close() {
    let list = List::new();
    assert_eq!(list.len(), 0);
    for i in 0..B + 3 {
        list.push(i).unwrap();
    }
    assert_eq!(list.len(), B + 3);
    assert_eq!(pop(&list), Ok(0));
    assert_eq!(list.len(), B + 2);
    list.close();
    assert_eq!(list.push(99), Err(99));
    assert_eq!(list.push(99), Err(99));
    assert_eq!(list.len(), B + 2, "failed pushes are not queued");
    for i in 1..B + 3 {
        assert_eq!(pop(&list), Ok(i));
    }
    assert_eq!(list.len(), 0);
    assert_eq!(pop(&list), Err(PopError::Closed));
}
