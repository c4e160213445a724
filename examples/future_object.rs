//! asyncio's bare `Future` and `concurrent.futures.Future`, from the seed
//! tutorial:
//!
//! ```python
//! async def set_after(fut):
//!     await asyncio.sleep(2)
//!     fut.set_result("666")
//!
//! async def main():
//!     loop = asyncio.get_running_loop()
//!     fut = loop.create_future()     # a result nobody has produced yet
//!     await loop.create_task(set_after(fut))
//!     data = await fut               # without set_result: waits forever
//!
//! fut = ThreadPoolExecutor().submit(func)     # concurrent.futures.Future
//! await asyncio.wrap_future(fut)              # awaited from a coroutine
//! ```
//!
//! A future that someone else completes is a `oneshot` channel:
//! `tx.send(v)` is `set_result(v)`, `rx.await` is `await fut`. Unlike
//! asyncio's, it cannot hang forever by mistake: if the sender is dropped
//! unsent, `rx.await` fails at once. Either side may be a plain thread
//! (`rx.blocking_recv()` is `concurrent.futures.Future.result()`), so no
//! `wrap_future` is needed; and a consumer that gives up (drops `rx`, asyncio's
//! `fut.cancel()`) is seen by the producer through `tx.closed()`. One
//! "second" is 100 ms.
//!
//! Run it with `cargo run --example future_object --features macros`. It checks its own
//! claims.

use std::time::{Duration, Instant};

use windlass::sync::oneshot;
use windlass::time::{sleep, timeout};

/// One second of the Python original.
const UNIT: Duration = Duration::from_millis(100);

async fn set_after(fut: oneshot::Sender<String>) {
    sleep(UNIT * 2).await;
    fut.send("666".to_string()).expect("main still waits");
}

#[windlass::main]
async fn main() {
    // 1. A future nobody completes: still pending after a while ...
    let (tx, mut rx) = oneshot::channel::<String>();
    let waited = timeout(UNIT, &mut rx).await;
    println!("await fut with no set_result, for {UNIT:?}: {waited:?}");
    assert!(waited.is_err(), "nothing was sent, so it waits");
    // ... and once the producer is gone, an error instead of a hang.
    drop(tx);
    let gone = rx.await;
    println!("the producer dropped it unsent: {gone:?}");
    assert!(gone.is_err());

    // 2. set_after: a task completes the future.
    let start = Instant::now();
    let (tx, rx) = oneshot::channel();
    windlass::spawn(set_after(tx)).await.expect("set_after");
    let data = rx.await.expect("set_result was called");
    println!("data = {data:?} after {:.2?}", start.elapsed());
    assert_eq!(data, "666");
    assert!(start.elapsed() >= UNIT * 2);

    // 3. A plain thread produces, a coroutine awaits (wrap_future) ...
    let (tx, rx) = oneshot::channel();
    std::thread::spawn(move || {
        std::thread::sleep(UNIT);
        tx.send("OK from a thread").expect("receiver alive");
    });
    let from_thread = rx.await.expect("thread sent");
    println!("awaited a thread's result: {from_thread}");
    assert_eq!(from_thread, "OK from a thread");

    // ... and a task produces, a plain thread waits (Future.result()).
    let (tx, rx) = oneshot::channel();
    let waiter = std::thread::spawn(move || rx.blocking_recv());
    windlass::spawn(async move {
        sleep(UNIT).await;
        tx.send(42).expect("thread alive");
    });
    let got = windlass::spawn_blocking(move || waiter.join().expect("waiter thread"))
        .await
        .expect("join on the pool");
    println!("a plain thread received {got:?} from a task");
    assert_eq!(got, Ok(42));

    // 4. fut.cancel(): the consumer gives up, the producer notices and
    //    stops its work early.
    let (mut tx, rx) = oneshot::channel::<u32>();
    let producer = windlass::spawn(async move {
        let start = Instant::now();
        let outcome = windlass::join::or(
            async {
                sleep(UNIT * 50).await; // the work: 5 "seconds"
                "finished the work"
            },
            async {
                tx.closed().await;
                "consumer gone: stopped early"
            },
        )
        .await;
        (outcome, start.elapsed())
    });
    sleep(UNIT).await;
    drop(rx);
    let (outcome, took) = producer.await.expect("producer");
    println!("producer: {outcome} after {took:.2?}");
    assert_eq!(outcome, "consumer gone: stopped early");
    assert!(took < UNIT * 10, "it did not do the 5 s of work: {took:?}");
    println!("\nall claims checked: OK");
}
