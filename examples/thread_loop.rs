//! An event loop on another thread, fed from the main thread, from the seed
//! tutorial ("event loops in different threads"):
//!
//! ```python
//! new_loop = asyncio.new_event_loop()
//! t = Thread(target=start_loop, args=(new_loop,))    # loop.run_forever()
//! t.start()                                          # the main thread goes on
//! new_loop.call_soon_threadsafe(more_work, 6)        # time.sleep: 6 + 3 s
//! new_loop.call_soon_threadsafe(more_work, 3)
//! asyncio.run_coroutine_threadsafe(do_some_work(6), new_loop)   # about 6 s
//! asyncio.run_coroutine_threadsafe(do_some_work(4), new_loop)
//! ```
//!
//! Here: a current-thread runtime (asyncio's one-thread loop) is driven by a
//! thread of its own, and the main thread uses the runtime's `Handle` to
//! `spawn` onto it (`call_soon_threadsafe` / `run_coroutine_threadsafe`),
//! then waits for a result with `futures_lite::future::block_on(handle)`
//! (`concurrent.futures.Future.result()`). Blocking work queued on that one
//! loop runs one job after the other; coroutines overlap. Last, the
//! multi-thread runtime, whose workers already are "the loop on other
//! threads". One "second" of the original is 100 ms.
//!
//! Run it with `cargo run --example thread_loop`. It checks its own claims.

use std::thread;
use std::time::{Duration, Instant};

use futures_lite::future::block_on;
use windlass::runtime::Builder;
use windlass::sync::oneshot;
use windlass::time::sleep;

/// One second of the Python original.
const UNIT: Duration = Duration::from_millis(100);

/// Blocking work: `time.sleep(x)`. Returns when it started and ended.
fn more_work(x: u32, origin: Instant) -> (Duration, Duration) {
    let began = origin.elapsed();
    println!("More work {x} (on {:?})", thread::current().name());
    thread::sleep(UNIT * x);
    println!("Finished more work {x}");
    (began, origin.elapsed())
}

async fn do_some_work(x: u32) -> String {
    println!("Waiting {x}");
    sleep(UNIT * x).await;
    println!("Done after {x}s");
    format!("Done after {x}s")
}

fn main() -> std::io::Result<()> {
    // The loop thread: runs the current-thread runtime until told to stop
    // (`loop.run_forever()`, then `loop.stop()`).
    let rt = Builder::new_current_thread().build()?;
    let handle = rt.handle().clone();
    let (stop, stopped) = oneshot::channel::<()>();
    let start = Instant::now();
    let loop_thread = thread::Builder::new()
        .name("loop".into())
        .spawn(move || rt.block_on(async { stopped.await.ok() }))?;
    println!(
        "TIME: {:.2?} (the main thread was not blocked)",
        start.elapsed()
    );

    // 1. call_soon_threadsafe(more_work, 6), (more_work, 3): blocking
    //    calls on the one loop thread run one after the other.
    let origin = Instant::now();
    let first = handle.spawn(async move { more_work(6, origin) });
    let second = handle.spawn(async move { more_work(3, origin) });
    let (a, b) = (
        block_on(first).expect("more_work 6"),
        block_on(second).expect("more_work 3"),
    );
    let took = origin.elapsed();
    println!("blocking jobs: {took:.2?} (6 + 3 = {:.2?})\n", UNIT * 9);
    assert!(
        b.0 >= a.1 || a.0 >= b.1,
        "blocking jobs on one loop thread never overlap"
    );
    assert!(took >= UNIT * 9, "they took the sum of both: {took:?}");

    // 2. run_coroutine_threadsafe(do_some_work(6)), (do_some_work(4)): the
    //    coroutines overlap on the same thread; the main thread keeps going
    //    and then waits on the handles.
    let origin = Instant::now();
    let six = handle.spawn(do_some_work(6));
    let four = handle.spawn(do_some_work(4));
    let returned_after = origin.elapsed();
    println!("main thread: both submitted after {returned_after:.2?}; waiting for results");
    assert!(
        !six.is_finished() && !four.is_finished(),
        "spawn did not wait"
    );
    assert_eq!(block_on(six).expect("six"), "Done after 6s");
    assert_eq!(block_on(four).expect("four"), "Done after 4s");
    let took = origin.elapsed();
    println!(
        "coroutines: {took:.2?} (one after another: {:.2?})\n",
        UNIT * 10
    );
    assert!(
        took < UNIT * 10 * 7 / 10,
        "the coroutines overlapped: {took:?}"
    );

    // loop.stop(): end the loop thread.
    stop.send(()).expect("loop thread alive");
    loop_thread.join().expect("loop thread");

    // 3. The multi-thread runtime needs no extra thread: its workers and
    //    blocking pool already run beside main. Blocking jobs go to the pool
    //    with `spawn_blocking` and overlap too.
    let rt = windlass::Runtime::new()?;
    let origin = Instant::now();
    let jobs = [6, 3].map(|x| rt.handle().spawn_blocking(move || more_work(x, origin)));
    let coro = rt.handle().spawn(do_some_work(6));
    for job in jobs {
        block_on(job).expect("job");
    }
    block_on(coro).expect("coroutine");
    let took = origin.elapsed();
    println!(
        "multi-thread runtime, 2 blocking jobs + 1 coroutine: {took:.2?} (one after another: {:.2?})",
        UNIT * 15
    );
    assert!(took < UNIT * 15 * 7 / 10, "everything overlapped: {took:?}");

    println!("\nall claims checked: OK");
    Ok(())
}
