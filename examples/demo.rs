//! The windlass tour: what an asyncio user does every day, on all cores.
//!
//! 1. `run_in_executor`: eight blocking "downloads" of 200 ms each run on the
//!    blocking pool at once, so the batch takes about 200 ms, not 1.6 s.
//! 2. `create_task` + `gather`: 100,000 tasks spawned and joined.
//! 3. No GIL: CPU-heavy tasks spread over every worker thread.
//! 4. `task.cancel()`: a spinner task is cancelled when the slow work ends,
//!    and its cleanup runs.
//!
//! Run it with `cargo run --release --example demo`. It checks its own
//! claims and exits with an error if one does not hold.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use windlass::Runtime;

/// A blocking call, like `requests.get` inside a coroutine.
fn blocking_download(n: usize) -> usize {
    std::thread::sleep(Duration::from_millis(200));
    n * 1000
}

/// Runs when the spinner's future is dropped, i.e. when it is cancelled.
struct Cleanup(Arc<AtomicBool>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

fn main() -> std::io::Result<()> {
    let rt = Runtime::new()?;
    let workers = rt.handle().num_workers();
    println!("windlass demo: {workers} worker threads\n");

    rt.block_on(async {
        // 1. run_in_executor
        let start = Instant::now();
        let downloads: Vec<_> = (0..8).map(|n| windlass::spawn_blocking(move || blocking_download(n))).collect();
        let mut bytes = 0;
        for d in downloads {
            bytes += d.await.expect("download");
        }
        let overlapped = start.elapsed();
        let sequential = Duration::from_millis(200) * 8;
        println!("1. 8 blocking downloads of 200 ms on the pool: {bytes} bytes in {overlapped:.2?} (one after another: {sequential:.2?})");
        assert!(overlapped < sequential / 2, "blocking calls did not overlap");

        // 2. create_task + gather
        let start = Instant::now();
        let tasks: Vec<_> = (0..100_000u64).map(|i| windlass::spawn(async move { i })).collect();
        let mut sum = 0;
        for t in tasks {
            sum += t.await.expect("task");
        }
        println!("2. 100,000 tasks spawned and joined in {:.2?} (sum {sum})", start.elapsed());
        assert_eq!(sum, 100_000 * 99_999 / 2);

        // 3. CPU work spreads over the workers
        let start = Instant::now();
        let crunchers: Vec<_> = (0..workers * 4)
            .map(|_| {
                windlass::spawn(async {
                    let mut x = 0u64;
                    for i in 0..20_000_000u64 {
                        x = x.wrapping_mul(31).wrapping_add(i);
                    }
                    (std::thread::current().id(), x)
                })
            })
            .collect();
        let mut threads = HashSet::new();
        for c in crunchers {
            threads.insert(c.await.expect("cruncher").0);
        }
        println!("3. {} CPU-bound tasks ran on {} distinct worker threads in {:.2?}", workers * 4, threads.len(), start.elapsed());

        // 4. cancel a spinner when the slow work is done
        let cleaned = Arc::new(AtomicBool::new(false));
        let spins = Arc::new(AtomicUsize::new(0));
        let spinner = {
            let (cleaned, spins) = (cleaned.clone(), spins.clone());
            windlass::spawn(async move {
                let _cleanup = Cleanup(cleaned);
                loop {
                    spins.fetch_add(1, Ordering::Relaxed);
                    windlass::yield_now().await;
                }
            })
        };
        let answer = windlass::spawn_blocking(|| {
            std::thread::sleep(Duration::from_millis(300));
            42
        })
        .await
        .expect("slow work");
        spinner.abort();
        let cancelled = spinner.await.expect_err("the spinner was cancelled").is_cancelled();
        println!(
            "4. slow work answered {answer}; the spinner spun {} times, was cancelled: {cancelled}, cleaned up: {}",
            spins.load(Ordering::Relaxed),
            cleaned.load(Ordering::SeqCst)
        );
        assert!(cancelled && cleaned.load(Ordering::SeqCst));
    });
    println!("\nall claims checked: OK");
    Ok(())
}
