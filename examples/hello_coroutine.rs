//! Defining and running a coroutine, from the seed tutorials:
//!
//! ```python
//! async def do_some_work(x):
//!     print("waiting:", x)
//!     await asyncio.sleep(x)
//!     return "Done after {}s".format(x)
//!
//! coroutine = do_some_work(2)     # nothing runs yet: a coroutine object
//! print(coroutine)
//! loop = asyncio.get_event_loop()
//! loop.run_until_complete(coroutine)   # or, since 3.7: asyncio.run(main())
//! ```
//!
//! In Rust an `async fn` call gives a *future*, and like a coroutine object
//! it does nothing until something drives it: `Runtime::block_on` (asyncio's
//! `run_until_complete` / `asyncio.run`), `.await` in another future, or
//! `spawn` (asyncio's `create_task`). A future dropped unawaited never runs
//! at all (Python warns "coroutine was never awaited"; rustc warns
//! "unused implementer of `Future`"). One "second" of the original is 100 ms.
//!
//! Run it with `cargo run --example hello_coroutine`. It checks its own
//! claims.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use windlass::sync::Event;
use windlass::time::sleep;

/// One second of the Python original.
const UNIT: Duration = Duration::from_millis(100);

/// How many times a body of `do_some_work` has started.
static STARTED: AtomicUsize = AtomicUsize::new(0);

async fn do_some_work(x: u32) -> String {
    STARTED.fetch_add(1, Ordering::SeqCst);
    println!("waiting: {x}");
    sleep(UNIT * x).await;
    format!("Done after {x}s")
}

fn started() -> usize {
    STARTED.load(Ordering::SeqCst)
}

fn main() -> std::io::Result<()> {
    // 1. Calling the async fn only builds the future.
    let coroutine = do_some_work(2);
    println!("coroutine = {}", std::any::type_name_of_val(&coroutine));
    println!("started after the call: {}", started());
    assert_eq!(started(), 0, "calling an async fn runs none of its body");

    // 2. loop.run_until_complete(coroutine): the runtime drives it and hands
    //    back its return value.
    let rt = windlass::Runtime::new()?;
    let start = Instant::now();
    let result = rt.block_on(coroutine);
    let took = start.elapsed();
    println!("run_until_complete -> {result:?}, Time: {took:.2?}");
    assert_eq!(result, "Done after 2s");
    assert_eq!(started(), 1);
    assert!(took >= UNIT * 2, "the await really waited: {took:?}");

    // 3. A coroutine that is never awaited never runs.
    let forgotten = do_some_work(5);
    drop(forgotten);
    println!(
        "dropped an unawaited coroutine: started is still {}",
        started()
    );
    assert_eq!(started(), 1, "a dropped future never starts");

    // 4. asyncio.run(main()): a fresh runtime for one top-level future, which
    //    awaits an inner coroutine (awaiting drives it, right there).
    let answer = windlass::Runtime::new()?.block_on(async {
        let inner = do_some_work(1).await;
        format!("main got {inner:?}")
    });
    println!("asyncio.run(main()) -> {answer}");
    assert_eq!(answer, "main got \"Done after 1s\"");
    assert_eq!(started(), 2);

    // 5. create_task: a spawned future starts on its own, even if nobody
    //    awaits its handle (dropping the handle detaches the task).
    let finished = Arc::new(Event::new());
    rt.block_on(async {
        let done = finished.clone();
        let handle = windlass::spawn(async move {
            let out = do_some_work(1).await;
            println!("the detached task finished: {out}");
            done.set();
        });
        drop(handle);
        finished.wait().await;
    });
    assert_eq!(started(), 3, "the spawned task ran without being awaited");

    println!("\nall claims checked: OK");
    Ok(())
}
