//! Two countdowns waited on together, from the seed tutorial:
//!
//! ```python
//! @asyncio.coroutine
//! def countdown(number, n):
//!     while n > 0:
//!         print('T-minus', n, '({})'.format(number))
//!         yield from asyncio.sleep(1)
//!         n -= 1
//!
//! tasks = [asyncio.ensure_future(countdown("A", 2)),
//!          asyncio.ensure_future(countdown("B", 3))]
//! loop.run_until_complete(asyncio.wait(tasks))
//! ```
//!
//! The two interleave, and the whole takes 3 "seconds" (the longer one),
//! not 5. One second is 100 ms here.
//!
//! Run it with `cargo run --example countdown --features macros`. It checks its own claims.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use windlass::join::{ReturnWhen, wait};
use windlass::time::sleep;

/// One second of the Python original.
const UNIT: Duration = Duration::from_millis(100);

async fn countdown(number: &'static str, mut n: u32, log: Arc<Mutex<Vec<String>>>) {
    while n > 0 {
        let line = format!("T-minus {n} ({number})");
        println!("{line}");
        log.lock().unwrap().push(line);
        sleep(UNIT).await;
        n -= 1;
    }
}

#[windlass::main]
async fn main() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let start = Instant::now();
    let tasks = vec![
        windlass::spawn(countdown("A", 2, log.clone())),
        windlass::spawn(countdown("B", 3, log.clone())),
    ];
    let (done, pending) = wait(tasks, ReturnWhen::AllCompleted, None).await;
    let took = start.elapsed();
    println!("Time: {took:.2?} (one after another: {:.2?})", UNIT * 5);
    assert!(pending.is_empty() && done.iter().all(Result::is_ok));
    assert!(took < UNIT * 4, "the countdowns overlapped: {took:?}");
    // Interleaved: A's second line comes before B's last.
    let log = log.lock().unwrap();
    let pos = |s: &str| log.iter().position(|l| l == s).unwrap();
    assert!(pos("T-minus 1 (A)") < pos("T-minus 1 (B)"));
    assert!(pos("T-minus 3 (B)") < pos("T-minus 1 (A)"));
    println!("\nall claims checked: OK");
}
