//! An idle multi-thread runtime goes to sleep: every worker out of work
//! reaches its parker, and none stays awake searching (a searcher that
//! never parked would hold a CPU for as long as the runtime is idle).

use std::time::{Duration, Instant};

use crate::support::{multi, watchdog};

/// Workers asleep now: each parked once more than it woke.
fn asleep(rt: &windlass::runtime::Runtime) -> usize {
    let m = rt.handle().metrics();
    m.workers
        .iter()
        .filter(|w| w.parks == w.unparks + 1)
        .count()
}

#[test]
fn every_worker_sleeps_once_the_runtime_is_idle() {
    watchdog(|| all_asleep_after_work(4));
}

/// The same with 16 workers on the machine's few cores (2 in CI): up to 8
/// searchers at once, preempted in the middle of their search.
#[test]
fn every_worker_sleeps_once_an_oversubscribed_runtime_is_idle() {
    watchdog(|| all_asleep_after_work(16));
}

fn all_asleep_after_work(workers: usize) {
    let rt = multi(workers);
    // Work on every worker first, so each of them has searched at least
    // once.
    let sum = rt.block_on(async {
        let tasks: Vec<_> = (0..1_000u64)
            .map(|i| windlass::spawn(async move { i }))
            .collect();
        let mut sum = 0;
        for t in tasks {
            sum += t.await.unwrap();
        }
        sum
    });
    assert_eq!(sum, (0..1_000).sum::<u64>());
    // Nothing is left to run and no I/O or timer is registered: every
    // worker must reach its parker; a searcher that never parked fails
    // here. Seeing all of them asleep once is the check: no second read,
    // since a worker that slept with a rescue timeout (lifo rule 3) wakes
    // once more and sleeps again, and a second read could catch it in
    // between.
    let deadline = Instant::now() + Duration::from_secs(20);
    while asleep(&rt) < workers {
        assert!(
            Instant::now() < deadline,
            "idle workers still awake after 20 s: {}",
            rt.handle().metrics()
        );
        std::thread::yield_now();
    }
}
