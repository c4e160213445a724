//! asyncio's `Semaphore`, from the seed tutorials:
//!
//! > "Three coroutines are created at once, but only two work at the same
//! > time; the third waits until one of them gives its permit back."
//!
//! ```python
//! sem = asyncio.Semaphore(2)
//! async def work(i):
//!     async with sem:                # semaphore.acquire ... release
//!         await asyncio.sleep(1)
//! await asyncio.gather(work(0), work(1), work(2))       # about 2 s
//! ```
//!
//! `windlass::sync::Semaphore`: `acquire().await` gives a permit that goes
//! back when dropped (the end of `async with`); `acquire_owned()` gives one
//! that can move into a spawned task. Permits go to waiters in arrival
//! order. Shown: the seed's three workers on two permits, then fifty tasks
//! on five permits, with the number at work measured all along. One
//! "second" is 100 ms.
//!
//! Run it with `cargo run --example semaphore --features macros`. It checks its own claims.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use windlass::join::join_all;
use windlass::sync::Semaphore;
use windlass::time::sleep;

/// One second of the Python original.
const UNIT: Duration = Duration::from_millis(100);

/// How many are inside the semaphore now, and the most seen.
#[derive(Default)]
struct Gauge {
    now: AtomicUsize,
    peak: AtomicUsize,
}

impl Gauge {
    fn enter(&self) -> usize {
        let n = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(n, Ordering::SeqCst);
        n
    }

    fn leave(&self) {
        self.now.fetch_sub(1, Ordering::SeqCst);
    }
}

/// `async with sem: await asyncio.sleep(t)`; returns when it got in.
async fn work(
    i: u32,
    t: Duration,
    sem: Arc<Semaphore>,
    gauge: Arc<Gauge>,
    origin: Instant,
) -> Duration {
    let _permit = sem.acquire().await.expect("the semaphore is never closed");
    let got_in = origin.elapsed();
    let inside = gauge.enter();
    println!("  work {i} got a permit at {got_in:.2?} ({inside} inside)");
    sleep(t).await;
    gauge.leave();
    got_in
}

#[windlass::main]
async fn main() {
    // 1. The seed: three workers, two permits.
    let sem = Arc::new(Semaphore::new(2));
    let gauge = Arc::new(Gauge::default());
    let origin = Instant::now();
    let tasks = (0..3).map(|i| windlass::spawn(work(i, UNIT, sem.clone(), gauge.clone(), origin)));
    let mut got_in: Vec<Duration> = join_all(tasks)
        .await
        .into_iter()
        .map(|r| r.expect("work"))
        .collect();
    let took = origin.elapsed();
    got_in.sort();
    let peak = gauge.peak.load(Ordering::SeqCst);
    println!("3 workers on 2 permits: {took:.2?}, at most {peak} at once");
    assert_eq!(peak, 2, "two at a time, never more than the permits");
    assert!(
        got_in[2] >= UNIT,
        "the third waited for a permit: {:?}",
        got_in[2]
    );
    assert!(took >= UNIT * 2, "two rounds: {took:?}");
    assert_eq!(sem.available_permits(), 2, "every permit came back");

    // 2. Fifty short jobs, five permits, owned permits moved into tasks.
    let sem = Arc::new(Semaphore::new(5));
    let gauge = Arc::new(Gauge::default());
    let origin = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..50 {
        // Acquire before spawning: at most five tasks exist at a time.
        let permit = sem.clone().acquire_owned().await.expect("open");
        let gauge = gauge.clone();
        tasks.push(windlass::spawn(async move {
            gauge.enter();
            sleep(UNIT / 5).await;
            gauge.leave();
            drop(permit);
        }));
    }
    for result in join_all(tasks).await {
        result.expect("job");
    }
    let took = origin.elapsed();
    let peak = gauge.peak.load(Ordering::SeqCst);
    println!(
        "50 jobs of {:?} on 5 permits: {took:.2?}, at most {peak} at once",
        UNIT / 5
    );
    assert!(peak <= 5, "never more than the permits: {peak}");
    assert!(peak >= 2, "the jobs did run in parallel: {peak}");
    assert!(took >= UNIT / 5 * 10, "ten rounds at least: {took:?}");
    assert!(took < UNIT / 5 * 50 / 2, "far from one at a time: {took:?}");
    println!("\nall claims checked: OK");
}
