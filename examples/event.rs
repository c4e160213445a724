//! asyncio's `Event`, from the seed tutorial's synchronisation section:
//!
//! > "An event tells particular coroutines to start work: a task is
//! > activated depending on an HTTP response. The waiters all print after
//! > the response arrived, and several coroutines can wait on one event."
//!
//! ```python
//! event = asyncio.Event()
//! async def waiter(i):
//!     await event.wait()
//!     print("waiter", i, "got", response)
//! async def fetch():
//!     ...                            # the HTTP request
//!     event.set()                    # releases every waiter at once
//! ```
//!
//! `windlass::sync::Event` has the same `set`, `clear`, `is_set` and
//! `wait`. It carries no data (as in asyncio); the response goes in a
//! `OnceLock` before `set()`. One "second" is 100 ms.
//!
//! Run it with `cargo run --example event --features macros`. It checks its own claims.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use windlass::join::join_all;
use windlass::sync::Event;
use windlass::time::{sleep, timeout};

/// One second of the Python original.
const UNIT: Duration = Duration::from_millis(100);

/// What the waiters share: the event and the response it announces.
#[derive(Default)]
struct Shared {
    ready: Event,
    response: OnceLock<String>,
}

/// Waits for the response; returns when it woke, after `origin`.
async fn waiter(i: u32, shared: Arc<Shared>, origin: Instant) -> Duration {
    println!("  waiter {i} waits");
    shared.ready.wait().await;
    let woke = origin.elapsed();
    let response = shared.response.get().expect("set before the event");
    println!("  waiter {i} got {response:?} at {woke:.2?}");
    woke
}

#[windlass::main]
async fn main() {
    let shared = Arc::new(Shared::default());
    let origin = Instant::now();
    let waiters: Vec<_> = (0..4)
        .map(|i| windlass::spawn(waiter(i, shared.clone(), origin)))
        .collect();

    // The "HTTP request", then the answer and the event.
    sleep(UNIT * 2).await;
    shared.response.set("200 OK".to_string()).expect("set once");
    let set_at = origin.elapsed();
    println!("response arrived at {set_at:.2?}: event.set()");
    shared.ready.set();

    let woke: Vec<Duration> = join_all(waiters)
        .await
        .into_iter()
        .map(|r| r.expect("waiter"))
        .collect();
    let first = *woke.iter().min().unwrap();
    let last = *woke.iter().max().unwrap();
    println!("all 4 released between {first:.2?} and {last:.2?}");
    assert!(first >= set_at, "nobody got past wait() before set()");
    assert!(last - set_at < UNIT, "one set() released them all at once");

    // Set stays set: a late waiter passes straight through.
    let late = timeout(UNIT, shared.ready.wait()).await;
    println!("a late wait() while set: {late:?}");
    assert!(late.is_ok() && shared.ready.is_set());

    // clear(): now wait() blocks again until the next set().
    shared.ready.clear();
    let blocked = timeout(UNIT / 2, shared.ready.wait()).await;
    println!("wait() after clear(), given {:?}: {blocked:?}", UNIT / 2);
    assert!(blocked.is_err(), "a cleared event holds waiters back");
    println!("\nall claims checked: OK");
}
