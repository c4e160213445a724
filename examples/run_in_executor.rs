//! `loop.run_in_executor`, from the seed tutorial:
//!
//! ```python
//! def func1():
//!     time.sleep(2)                  # a blocking call
//!     return "OK"
//!
//! fut = loop.run_in_executor(None, func1)        # the default thread pool
//! print('default thread pool', await fut)
//!
//! pool = ThreadPoolExecutor(max_workers=5)
//! for i in range(10):
//!     fut = pool.submit(func, i)                 # func sleeps 1 s
//!
//! future = loop.run_in_executor(None, requests.get, url)   # 3 downloads
//! ```
//!
//! `run_in_executor(None, f)` is `windlass::spawn_blocking(f)`: the runtime's
//! own pool, which grows on demand. A `ThreadPoolExecutor(max_workers=5)` is
//! a `windlass::blocking::BlockingPool` built with `max_threads(5)`: its ten
//! one-"second" jobs take two rounds, never more than five at once. The
//! handles are ordinary `JoinHandle`s, so no `wrap_future` is needed. One
//! "second" of the original is 100 ms.
//!
//! Run it with `cargo run --example run_in_executor`. It checks its own
//! claims.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use windlass::blocking::BlockingPool;
use windlass::join::join_all;

/// One second of the Python original.
const UNIT: Duration = Duration::from_millis(100);

/// A time-consuming blocking operation.
fn func1() -> &'static str {
    std::thread::sleep(UNIT * 2);
    "OK"
}

/// `requests.get(url)`: blocking, one "second".
fn blocking_get(url: &str) -> usize {
    std::thread::sleep(UNIT);
    url.len() * 1000
}

/// Counts jobs running at once and remembers the most seen.
#[derive(Default)]
struct Gauge {
    now: AtomicUsize,
    peak: AtomicUsize,
}

impl Gauge {
    /// A pool job: one blocking "second", counted while it runs.
    fn job(&self, i: u32) -> u32 {
        let running = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(running, Ordering::SeqCst);
        std::thread::sleep(UNIT);
        self.now.fetch_sub(1, Ordering::SeqCst);
        i
    }
}

fn main() -> std::io::Result<()> {
    let rt = windlass::Runtime::new()?;
    rt.block_on(async {
        // 1. run_in_executor(None, func1): the default pool.
        let start = Instant::now();
        let result = windlass::spawn_blocking(func1).await.expect("func1");
        println!("default thread pool {result} ({:.2?})", start.elapsed());
        assert_eq!(result, "OK");

        // The download_image story: three blocking requests.get calls, each
        // on the pool, awaited together: they overlap.
        let start = Instant::now();
        let urls = [
            "/newsdfs/g26/a.jpg",
            "/newsdfs/g30/b.jpg",
            "/newsdfs/g26/c.jpg",
        ];
        let downloads = urls.map(|url| {
            println!("Starting download: {url}");
            windlass::spawn_blocking(move || blocking_get(url))
        });
        let sizes = join_all(downloads).await;
        let took = start.elapsed();
        println!(
            "Download complete: {sizes:?} in {took:.2?} (one after another: {:.2?})\n",
            UNIT * 3
        );
        assert!(sizes.iter().all(|s| *s.as_ref().unwrap() == 18_000));
        assert!(
            took < UNIT * 3 * 7 / 10,
            "the blocking downloads overlapped: {took:?}"
        );
    });

    // 2. ThreadPoolExecutor(max_workers=5): ten one-"second" jobs.
    let pool = BlockingPool::builder().max_threads(5).build();
    let gauge = Arc::new(Gauge::default());
    let start = Instant::now();
    let handles: Vec<_> = (0..10)
        .map(|i| {
            let gauge = gauge.clone();
            pool.spawn(move || gauge.job(i))
        })
        .collect();
    println!("submitted 10 jobs to a pool of 5: {:?} ...", handles[0]);
    let results = rt.block_on(join_all(handles));
    let took = start.elapsed();
    let peak = gauge.peak.load(Ordering::SeqCst);
    let values: Vec<u32> = results.into_iter().map(|r| r.expect("job")).collect();
    println!("results {values:?}");
    println!(
        "10 jobs of {UNIT:?} on 5 threads: {took:.2?} (one after another: {:.2?}); at most {peak} at once, {} pool threads",
        UNIT * 10,
        pool.high_water()
    );
    assert_eq!(values, (0..10).collect::<Vec<_>>());
    assert!(
        peak <= 5 && pool.high_water() <= 5,
        "never more than max_workers"
    );
    assert!(peak >= 2, "the pool ran jobs in parallel: peak {peak}");
    assert!(
        took >= UNIT * 2,
        "ten jobs on five threads need two rounds: {took:?}"
    );
    assert!(took < UNIT * 10 / 2, "about two rounds, not ten: {took:?}");

    println!("\nall claims checked: OK");
    Ok(())
}
