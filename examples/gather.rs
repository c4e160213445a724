//! asyncio's `gather`, from the seed tutorial's "nested coroutines" example:
//!
//! ```python
//! async def do_some_work(x):
//!     print("Waiting:", x)
//!     await asyncio.sleep(x)
//!     return "Done after {}s".format(x)
//!
//! async def main():
//!     tasks = [asyncio.ensure_future(do_some_work(x)) for x in (1, 2, 4)]
//!     return await asyncio.gather(*tasks)
//!
//! for result in loop.run_until_complete(main()):
//!     print("Task ret:", result)
//! ```
//!
//! One "second" of the original is 100 ms here. Then the two other forms of
//! `gather`: `return_exceptions=True`, and the first exception propagating
//! (which cancels the rest).
//!
//! Run it with `cargo run --example gather --features macros`. It checks its own claims.

use std::time::{Duration, Instant};

use windlass::join::{join_all, try_join_all};
use windlass::time::sleep;

/// One second of the Python original.
const UNIT: Duration = Duration::from_millis(100);

async fn do_some_work(x: u32) -> String {
    println!("Waiting: {x}");
    sleep(UNIT * x).await;
    format!("Done after {x}s")
}

/// Fails after `x` units if `x` is odd.
async fn might_fail(x: u32) -> Result<String, String> {
    sleep(UNIT * x).await;
    if x % 2 == 1 {
        Err(format!("work {x} failed"))
    } else {
        Ok(format!("Done after {x}s"))
    }
}

#[windlass::main]
async fn main() {
    // Tasks below panic on purpose (asyncio's exceptions): print one line
    // for each instead of a backtrace.
    std::panic::set_hook(Box::new(|info| eprintln!("  (a task raised: {info})")));
    // 1. gather(*tasks): results in input order, work overlapped.
    let start = Instant::now();
    let tasks = [1, 2, 4].map(|x| windlass::spawn(do_some_work(x)));
    let results = join_all(tasks).await;
    for result in &results {
        println!("Task ret: {}", result.as_ref().expect("task"));
    }
    let took = start.elapsed();
    println!("Time: {took:.2?} (one after another: {:.2?})\n", UNIT * 7);
    assert_eq!(results[2].as_ref().unwrap(), "Done after 4s", "input order");
    assert!(took < UNIT * 6, "the three sleeps overlapped: {took:?}");

    // 2. gather(*tasks, return_exceptions=True): a failing task is a
    //    value in its place; the others still deliver.
    let tasks = [1, 2, 3].map(|x| {
        windlass::spawn(async move {
            if x == 2 {
                panic!("task {x} raised");
            }
            do_some_work(x).await
        })
    });
    let results = join_all(tasks).await;
    for (x, result) in [1, 2, 3].iter().zip(&results) {
        match result {
            Ok(s) => println!("task {x}: {s}"),
            Err(e) => println!("task {x}: exception: {e}"),
        }
    }
    assert!(results[1].as_ref().unwrap_err().is_panic());
    assert!(results[0].is_ok() && results[2].is_ok());

    // 3. gather(*aws) where the first exception propagates: the error of
    //    the first to fail comes back, and the slow ones are dropped.
    let start = Instant::now();
    let err = try_join_all([4, 1, 8].map(might_fail)).await.unwrap_err();
    let took = start.elapsed();
    println!("\nfirst exception: {err:?} after {took:.2?}; the 4 s and 8 s work was cancelled");
    assert_eq!(err, "work 1 failed");
    assert!(took < UNIT * 3, "did not wait for the others: {took:?}");
    println!("\nall claims checked: OK");
}
