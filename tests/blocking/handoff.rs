//! The blocking pool's hand-off rule (`blocking/pool.rs`, "Waking
//! threads"): at most one wake-up or thread start is in flight, so a burst
//! of cheap closures is drained by a few threads instead of waking or
//! starting one thread per closure.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use crate::support::watchdog;
use windlass::blocking::BlockingPool;

const BURST: usize = if cfg!(miri) { 50 } else { 2_000 };

/// Before the rule, every closure submitted while no thread was idle
/// started a thread of its own (up to the cap of 512); now a new thread is
/// started only by the previous one, and only while work is still queued.
/// The bound is far above what the chain reaches (a handful of threads,
/// since each closure takes nanoseconds) and far below one per closure.
#[test]
fn a_burst_of_cheap_closures_starts_few_threads() {
    watchdog(|| {
        let pool = BlockingPool::builder().build();
        let ran = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..BURST)
            .map(|_| {
                let ran = ran.clone();
                pool.spawn(move || {
                    ran.fetch_add(1, SeqCst);
                })
            })
            .collect();
        for h in handles {
            futures_lite::future::block_on(h).unwrap();
        }
        assert_eq!(ran.load(SeqCst), BURST);
        assert!(
            pool.high_water() <= 64,
            "{} threads started for {BURST} cheap closures",
            pool.high_water()
        );
    });
}

/// The chain still reaches every closure that blocks: 8 closures that wait
/// for each other need 8 threads at once, and get them (each new thread
/// starts the next while work is queued), and no more.
#[test]
fn closures_that_wait_for_each_other_all_get_threads() {
    watchdog(|| {
        let pool = BlockingPool::builder().build();
        let barrier = Arc::new(std::sync::Barrier::new(8));
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let barrier = barrier.clone();
                pool.spawn(move || {
                    barrier.wait();
                })
            })
            .collect();
        for h in handles {
            futures_lite::future::block_on(h).unwrap();
        }
        assert_eq!(pool.high_water(), 8);
    });
}
