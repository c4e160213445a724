//! asyncio's `Lock`, from the seed tutorial's synchronisation section:
//!
//! > "A lock slows the concurrency down: the coroutines run one by one."
//!
//! ```python
//! lock = asyncio.Lock()
//! async def fetch(i):
//!     async with lock:               # one holder at a time
//!         await asyncio.sleep(1)     # the request
//! await asyncio.gather(*(fetch(i) for i in range(3)))   # about 3 s, not 1
//! ```
//!
//! `windlass::sync::Mutex` is that lock, and it *owns* the data it guards:
//! `lock().await` gives a guard that derefs to the data and unlocks when
//! dropped (the end of `async with`). Shown: three requests under the lock
//! take the sum of their times, without it they overlap; and a counter
//! incremented by 200 tasks that yield inside the critical section (a
//! lost update without the lock) ends exact. One "second" is 100 ms.
//!
//! Run it with `cargo run --example lock --features macros`. It checks its own claims.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use windlass::join::join_all;
use windlass::sync::Mutex;
use windlass::time::sleep;

/// One second of the Python original.
const UNIT: Duration = Duration::from_millis(100);

/// Counts holders of the lock at once, and the most seen.
#[derive(Default)]
struct Holders {
    now: AtomicUsize,
    peak: AtomicUsize,
}

/// One request; under the lock if `lock` is given.
async fn fetch(i: u32, lock: Option<Arc<Mutex<()>>>, holders: Arc<Holders>, origin: Instant) {
    let _guard = match &lock {
        Some(lock) => Some(lock.lock().await),
        None => None,
    };
    let n = holders.now.fetch_add(1, Ordering::SeqCst) + 1;
    holders.peak.fetch_max(n, Ordering::SeqCst);
    println!("  fetch {i} starts at {:.2?}", origin.elapsed());
    sleep(UNIT).await;
    holders.now.fetch_sub(1, Ordering::SeqCst);
    // `_guard` drops here: the lock goes to the next waiter.
}

/// Three requests, with or without the lock: (time taken, most at once).
async fn three_requests(locked: bool) -> (Duration, usize) {
    let lock = locked.then(|| Arc::new(Mutex::new(())));
    let holders = Arc::new(Holders::default());
    let origin = Instant::now();
    let tasks = (0..3).map(|i| windlass::spawn(fetch(i, lock.clone(), holders.clone(), origin)));
    for result in join_all(tasks).await {
        result.expect("fetch");
    }
    (origin.elapsed(), holders.peak.load(Ordering::SeqCst))
}

#[windlass::main]
async fn main() {
    // 1. With the lock: one at a time.
    println!("with the lock:");
    let (took, peak) = three_requests(true).await;
    println!("  {took:.2?}, at most {peak} inside at once");
    assert_eq!(peak, 1, "one holder at a time");
    assert!(took >= UNIT * 3, "serialised: {took:?}");

    // 2. Without: they overlap.
    println!("without it:");
    let (took, peak) = three_requests(false).await;
    println!("  {took:.2?}, {peak} inside at once");
    assert!(took < UNIT * 3 * 7 / 10, "overlapped: {took:?}");

    // 3. A read-modify-write with an `.await` in the middle: correct only
    //    because the guard is held across it.
    let counter = Arc::new(Mutex::new(0u64));
    let tasks = (0..200).map(|_| {
        let counter = counter.clone();
        windlass::spawn(async move {
            let mut value = counter.lock().await;
            let read = *value;
            windlass::yield_now().await; // other tasks run here
            *value = read + 1;
        })
    });
    for result in join_all(tasks).await {
        result.expect("increment");
    }
    let total = *counter.lock().await;
    println!("200 tasks incremented the counter under the lock: {total}");
    assert_eq!(total, 200, "no update lost");
    println!("\nall claims checked: OK");
}
