//! asyncio's `Condition`, from the seed tutorial's synchronisation section:
//!
//! > "An event wakes every waiter; to notify a chosen number of them there
//! > is `Condition`. The first two waiting coroutines finish at the same
//! > moment, not all of them."
//!
//! ```python
//! cond = asyncio.Condition()
//! async def consumer(i):
//!     async with cond:
//!         await cond.wait()
//!         print("consumer", i, "woke")
//! async def producer():
//!     async with cond:
//!         cond.notify(2)          # two of the waiters
//!     ...
//!     async with cond:
//!         cond.notify_all()       # the rest
//! ```
//!
//! In windlass a `Condition` goes with a `Mutex`: `cond.wait(guard).await`
//! unlocks, waits, and locks again; `notify(n)` and `notify_all()` return
//! how many they woke (and need not hold the lock). `wait_for(guard, pred)`
//! is asyncio's `wait_for(predicate)`. One "second" is 100 ms.
//!
//! Run it with `cargo run --example condition --features macros`. It checks its own claims.

use std::sync::Arc;
use std::time::Duration;

use windlass::sync::{Condition, Mutex, mpsc};
use windlass::time::timeout;

/// One second of the Python original.
const UNIT: Duration = Duration::from_millis(100);

/// The lock, the data it guards (a count of wake-ups handed out), and the
/// condition waiters sleep on.
struct Shared {
    woken: Mutex<u32>,
    cond: Condition,
}

/// Waits once on the condition, then reports its number.
async fn consumer(i: u32, shared: Arc<Shared>, done: mpsc::UnboundedSender<u32>) {
    let guard = shared.woken.lock().await;
    println!("  consumer {i} waits");
    let mut guard = shared.cond.wait(guard).await;
    *guard += 1;
    println!("  consumer {i} woke (wake-up number {})", *guard);
    done.send(i).expect("main is listening");
}

#[windlass::main]
async fn main() {
    let shared = Arc::new(Shared {
        woken: Mutex::new(0),
        cond: Condition::new(),
    });
    let (done, mut finished) = mpsc::unbounded_channel();
    for i in 0..4 {
        windlass::spawn(consumer(i, shared.clone(), done.clone()));
    }
    drop(done);
    // Wait until all four are inside `wait()`: the condition's own
    // count, checked between yields.
    while shared.cond.waiting() < 4 {
        windlass::yield_now().await;
    }

    // notify(2): exactly two wake.
    let n = shared.cond.notify(2);
    println!("notify(2) woke {n}");
    assert_eq!(n, 2);
    let first = [finished.recv().await, finished.recv().await];
    println!("finished: {first:?}");
    assert!(first.iter().all(Option::is_some));
    let nobody = timeout(UNIT, finished.recv()).await;
    println!(
        "anyone else within {UNIT:?}? {}",
        if nobody.is_ok() { "yes" } else { "no" }
    );
    assert!(nobody.is_err(), "the other two still wait");
    assert_eq!(shared.cond.waiting(), 2);

    // notify_all(): the rest.
    let n = shared.cond.notify_all();
    println!("notify_all() woke {n}");
    assert_eq!(n, 2);
    let mut all = vec![first[0].unwrap(), first[1].unwrap()];
    while let Some(i) = finished.recv().await {
        all.push(i);
    }
    all.sort();
    println!("every consumer finished: {all:?}");
    assert_eq!(all, [0, 1, 2, 3]);
    assert_eq!(*shared.woken.lock().await, 4);

    // wait_for(predicate): a consumer sleeps until the data says go.
    let s = shared.clone();
    let patient = windlass::spawn(async move {
        let guard = s.woken.lock().await;
        *s.cond.wait_for(guard, |w| *w >= 10).await
    });
    *shared.woken.lock().await = 10;
    shared.cond.notify_all();
    let seen = patient.await.expect("patient consumer");
    println!("wait_for(lambda: woken >= 10) returned with woken = {seen}");
    assert_eq!(seen, 10);
    println!("\nall claims checked: OK");
}
