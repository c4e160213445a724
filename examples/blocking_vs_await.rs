//! A blocking call inside a coroutine stalls the loop, from two seed
//! tutorials.
//!
//! ```python
//! async def test():
//!     # time.sleep(1)             # blocking: the tasks run one after another
//!     await asyncio.sleep(1)      # awaited: they overlap
//!
//! async def download(url):        # seed: "a real async program at last"...
//!     response = requests.get(url)        # ...but requests.get blocks
//! async def wait_download(url):
//!     await download(url)
//! await asyncio.wait([wait_download(u) for u in urls])
//! ```
//!
//! (The seed's first try, `await requests.get(url)`, fails with "object
//! Response can't be used in 'await' expression"; in Rust awaiting a
//! non-future is a compile error, "`usize` is not a future".) Wrapping the
//! blocking call in an `async fn` does not make it asynchronous: on
//! asyncio's one-thread loop (windlass's current-thread runtime) the three
//! downloads run one after another and nothing else runs meanwhile, which a
//! heartbeat task ticking every 10 ms makes visible. The fixes: await an
//! asynchronous sleep/IO, or move the blocking call to the blocking pool
//! with `spawn_blocking` (`run_in_executor`). (On the multi-thread runtime
//! a blocking task stalls only its own worker, but there are only as many
//! workers as cores.) One "second" is 100 ms.
//!
//! Run it with `cargo run --example blocking_vs_await --features macros`. It checks its own
//! claims.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use windlass::join::{ReturnWhen, wait};
use windlass::time::sleep;

/// One second of the Python originals.
const UNIT: Duration = Duration::from_millis(100);

/// The heartbeat's period.
const BEAT: Duration = Duration::from_millis(10);

const URLS: [&str; 3] = ["http://a.example", "http://b.example", "http://c.example"];

/// `requests.get(url)`: blocks the calling thread for one "second".
fn requests_get(url: &str) -> usize {
    std::thread::sleep(UNIT);
    url.len()
}

/// Three ways to write `download`.
#[derive(Clone, Copy, Debug)]
enum Download {
    /// The blocking call, straight inside the coroutine.
    Blocking,
    /// An asynchronous wait instead (`await asyncio.sleep(1)`).
    Awaited,
    /// The blocking call on the blocking pool (`run_in_executor`).
    OnThePool,
}

async fn download(url: &'static str, how: Download) -> usize {
    match how {
        Download::Blocking => requests_get(url),
        Download::Awaited => {
            sleep(UNIT).await;
            url.len()
        }
        Download::OnThePool => windlass::spawn_blocking(move || requests_get(url))
            .await
            .expect("download on the pool"),
    }
}

async fn wait_download(url: &'static str, how: Download) -> usize {
    let size = download(url, how).await;
    println!("  get {url} data complete.");
    size
}

/// Runs the three downloads under `asyncio.wait` while a heartbeat ticks;
/// returns the time taken and the beats seen meanwhile.
async fn run(how: Download) -> (Duration, usize) {
    let beats = Arc::new(AtomicUsize::new(0));
    let heartbeat = {
        let beats = beats.clone();
        windlass::spawn(async move {
            loop {
                sleep(BEAT).await;
                beats.fetch_add(1, Ordering::SeqCst);
            }
        })
    };
    let start = Instant::now();
    let tasks = URLS.map(|url| windlass::spawn(wait_download(url, how)));
    let (done, pending) = wait(tasks, ReturnWhen::AllCompleted, None).await;
    let took = start.elapsed();
    heartbeat.abort();
    assert!(pending.is_empty() && done.iter().all(Result::is_ok));
    (took, beats.load(Ordering::SeqCst))
}

#[windlass::main(flavor = "current_thread")]
async fn main() {
    let sequential = UNIT * 3;
    for how in [Download::Blocking, Download::Awaited, Download::OnThePool] {
        println!("{how:?}:");
        let (took, beats) = run(how).await;
        // What a heartbeat on a free loop would have ticked meanwhile.
        let free = (took.as_millis() / BEAT.as_millis()) as usize;
        println!(
            "  Complete in {took:.2?} (one after another: {sequential:.2?}); \
             heartbeat ticked {beats} times (a free loop: about {free})"
        );
        match how {
            Download::Blocking => {
                assert!(
                    took >= sequential,
                    "the blocking downloads ran one by one: {took:?}"
                );
                assert!(
                    beats * 3 < free,
                    "the loop was stalled: {beats} of {free} beats"
                );
            }
            Download::Awaited | Download::OnThePool => {
                assert!(
                    took < sequential * 7 / 10,
                    "the downloads overlapped: {took:?}"
                );
                assert!(
                    beats * 3 >= free,
                    "the loop kept running: {beats} of {free} beats"
                );
            }
        }
    }
    println!("\nall claims checked: OK");
}
