//! asyncio's `as_completed`, from the seed tutorial:
//!
//! ```python
//! tasks = [asyncio.ensure_future(do_some_work(x)) for x in (1, 2, 4)]
//! for task in asyncio.as_completed(tasks):
//!     result = await task
//!     print("Task ret: {}".format(result))
//! ```
//!
//! Here the tasks are started in the order 4, 1, 2, so that completion
//! order (1, 2, 4) differs from input order. One "second" of the original is
//! 100 ms.
//!
//! Run it with `cargo run --example as_completed --features macros`. It checks its own claims.

use std::time::{Duration, Instant};

use futures_lite::StreamExt;
use windlass::join::as_completed;
use windlass::time::sleep;

/// One second of the Python original.
const UNIT: Duration = Duration::from_millis(100);

async fn do_some_work(x: u32) -> String {
    println!("waiting: {x}");
    sleep(UNIT * x).await;
    format!("Done after {x}s")
}

#[windlass::main]
async fn main() {
    let start = Instant::now();
    let tasks = [4, 1, 2].map(|x| windlass::spawn(do_some_work(x)));
    let mut finished = as_completed(tasks);
    let mut order = Vec::new();
    while let Some(result) = finished.next().await {
        let result = result.expect("task");
        println!("Task ret: {result} (at {:.2?})", start.elapsed());
        order.push(result);
    }
    let took = start.elapsed();
    println!("Time: {took:.2?} (one after another: {:.2?})", UNIT * 7);
    assert_eq!(
        order,
        ["Done after 1s", "Done after 2s", "Done after 4s"],
        "completion order"
    );
    assert!(took < UNIT * 6, "overlapped: {took:?}");
    println!("\nall claims checked: OK");
}
