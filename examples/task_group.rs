//! asyncio 3.11's `TaskGroup`, on the seed tutorial's crawler:
//!
//! ```python
//! async def main():
//!     async with aiohttp.ClientSession() as session:
//!         tasks = [asyncio.create_task(fetch(session, url)) for url in url_list]
//!         await asyncio.wait(tasks)
//! ```
//!
//! written with a group: every fetch runs in parallel; if one fails, the
//! others are cancelled at once and the group reports the failure. Fetching
//! is simulated (a sleep per page, 100 ms standing for one second).
//!
//! Run it with `cargo run --example task_group --features macros`. It checks its own claims.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use windlass::join::{TaskGroup, TaskGroupError};
use windlass::time::sleep;

/// One second of a Python tutorial.
const UNIT: Duration = Duration::from_millis(100);

/// Counts fetches that were cancelled before they finished.
struct CancelledFetch<'a> {
    url: &'a str,
    finished: bool,
    cancelled: Arc<AtomicUsize>,
}

impl Drop for CancelledFetch<'_> {
    fn drop(&mut self) {
        if !self.finished {
            println!("  cancelled: {}", self.url);
            self.cancelled.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// "Downloads" `url`: takes `secs` units, fails on a `bad` host.
async fn fetch(url: &'static str, secs: u32, cancelled: Arc<AtomicUsize>) -> Result<usize, String> {
    println!("Send Request: {url}");
    let mut guard = CancelledFetch {
        url,
        finished: false,
        cancelled,
    };
    sleep(UNIT * secs).await;
    guard.finished = true;
    if url.contains("bad") {
        println!("Request failed: {url}");
        return Err(format!("{url}: connection reset"));
    }
    let len = url.len() * 1000;
    println!("Getting results: {url} {len}");
    Ok(len)
}

#[windlass::main]
async fn main() {
    let cancelled = Arc::new(AtomicUsize::new(0));

    // 1. Every fetch succeeds: the lengths come back in spawn order.
    let start = Instant::now();
    let mut group = TaskGroup::new();
    for (url, secs) in [
        ("https://a.example", 3),
        ("https://b.example", 1),
        ("https://c.example", 2),
    ] {
        group.spawn(fetch(url, secs, cancelled.clone()));
    }
    let lens = group.join().await.expect("all fetches succeed");
    let took = start.elapsed();
    println!(
        "lengths {lens:?} in {took:.2?} (one after another: {:.2?})\n",
        UNIT * 6
    );
    assert_eq!(lens, [17_000, 17_000, 17_000]);
    assert!(took < UNIT * 5, "the fetches overlapped: {took:?}");

    // 2. One host fails after 1 s: the two slow fetches are cancelled at
    //    once, and the group reports the failure.
    let start = Instant::now();
    let mut group = TaskGroup::new();
    for (url, secs) in [
        ("https://slow.example", 10),
        ("https://bad.example", 1),
        ("https://slower.example", 20),
    ] {
        group.spawn(fetch(url, secs, cancelled.clone()));
    }
    let err = group.join().await.unwrap_err();
    let took = start.elapsed();
    println!("group failed after {took:.2?}: {err}");
    assert!(matches!(&err, TaskGroupError::Task(e) if e.contains("bad.example")));
    assert_eq!(
        cancelled.load(Ordering::SeqCst),
        2,
        "both slow fetches were cancelled"
    );
    assert!(
        took < UNIT * 5,
        "did not wait for the slow fetches: {took:?}"
    );
    println!("\nall claims checked: OK");
}
