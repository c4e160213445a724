//! Nested coroutines, from three of the seed tutorials.
//!
//! 1. One coroutine awaits another (numbered steps in the original):
//!
//!    ```python
//!    async def others():
//!        print("start")                 # 4
//!        await asyncio.sleep(2)         # 5: switch to other work meanwhile
//!        print("end")                   # 6
//!        return 'Return Value'
//!
//!    async def func():
//!        print("Execute the code inside the coroutine function.")   # 2
//!        response = await others()                                  # 3
//!        print(f"IO request closed, result: {response}")            # 7
//!
//!    asyncio.run(func())                                            # 1
//!    ```
//!
//! 2. `yield from` becomes `await`: a chain `main -> wait_download ->
//!    download`, three downloads at once under `asyncio.wait`.
//!
//! 3. `main()` creates the tasks and returns `await asyncio.gather(*tasks)`
//!    (or `await asyncio.wait(tasks)`), so `run_until_complete(main())`
//!    returns the results to the caller.
//!
//! An `.await` on an inner future runs it right there, in the same task (no
//! new task, like `yield from`); only `spawn` makes a task that runs in
//! parallel. One "second" of the originals is 100 ms.
//!
//! Run it with `cargo run --example nested`. It checks its own claims.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use windlass::join::{ReturnWhen, join_all, wait};
use windlass::time::sleep;

/// One second of the Python originals.
const UNIT: Duration = Duration::from_millis(100);

/// The steps, in the order they ran.
type Steps = Arc<Mutex<Vec<u32>>>;

fn step(steps: &Steps, n: u32, line: &str) {
    println!("({n}) {line}");
    steps.lock().unwrap().push(n);
}

async fn others(steps: Steps) -> &'static str {
    step(&steps, 4, "start");
    sleep(UNIT * 2).await;
    step(&steps, 6, "end");
    "Return Value"
}

async fn func(steps: Steps) -> &'static str {
    step(&steps, 2, "Execute the code inside the coroutine function.");
    step(&steps, 3, "await others()");
    let response = others(steps.clone()).await;
    step(&steps, 7, &format!("IO request closed, result: {response}"));
    response
}

/// The innermost coroutine: the "network" part of a download.
async fn download(url: &str, secs: u32) -> usize {
    sleep(UNIT * secs).await;
    url.len() * 100
}

/// The middle one: awaits `download`, adds its own line, passes the size up.
async fn wait_download(url: &'static str, secs: u32) -> usize {
    let size = download(url, secs).await;
    println!("get {url} data complete ({size} bytes).");
    size
}

async fn do_some_work(x: u32) -> String {
    println!("waiting: {x}");
    sleep(UNIT * x).await;
    format!("Done after {x}s")
}

fn main() -> std::io::Result<()> {
    let rt = windlass::Runtime::new()?;

    // 1. A coroutine awaiting a coroutine: steps 1..7 in order, and the
    //    inner return value comes back up.
    let steps: Steps = Arc::default();
    step(&steps, 1, "asyncio.run(func())");
    let out = rt.block_on(func(steps.clone()));
    assert_eq!(out, "Return Value");
    assert_eq!(
        *steps.lock().unwrap(),
        [1, 2, 3, 4, 6, 7],
        "step 5 is the sleep"
    );
    println!();

    // 2. main -> wait_download -> download, three at once.
    let start = Instant::now();
    let sizes = rt.block_on(async {
        let (done, pending) = wait(
            [
                ("https://a.example/one", 1),
                ("https://b.example/two", 2),
                ("https://c.example/three", 3),
            ]
            .map(|(url, secs)| windlass::spawn(wait_download(url, secs))),
            ReturnWhen::AllCompleted,
            None,
        )
        .await;
        assert!(pending.is_empty());
        done.into_iter()
            .map(|r| r.expect("download"))
            .collect::<Vec<_>>()
    });
    let took = start.elapsed();
    println!(
        "Complete in {took:.2?} (one after another: {:.2?})\n",
        UNIT * 6
    );
    assert_eq!(sizes, [2100, 2100, 2300], "sizes, in completion order");
    assert!(took < UNIT * 6 * 7 / 10, "the chains overlapped: {took:?}");

    // 3. main() returns `await gather(*tasks)`: the results reach the caller
    //    of run_until_complete ...
    let start = Instant::now();
    let results = rt.block_on(async {
        let tasks = [1, 2, 4].map(|x| windlass::spawn(do_some_work(x)));
        join_all(tasks).await
    });
    for result in &results {
        println!("Task ret: {}", result.as_ref().expect("task"));
    }
    let took = start.elapsed();
    println!("Time: {took:.2?} (one after another: {:.2?})\n", UNIT * 7);
    assert_eq!(results.len(), 3);
    assert_eq!(results[1].as_ref().unwrap(), "Done after 2s", "input order");
    assert!(took < UNIT * 7 * 7 / 10, "overlapped: {took:?}");

    // ... and `return await asyncio.wait(tasks)`: `done, pending` reach it.
    let (done, pending) = rt.block_on(async {
        let tasks = [1, 2, 4].map(|x| windlass::spawn(do_some_work(x)));
        wait(tasks, ReturnWhen::AllCompleted, None).await
    });
    for result in &done {
        println!("Task ret: {}", result.as_ref().expect("task"));
    }
    assert_eq!(done.len(), 3);
    assert!(pending.is_empty());

    println!("\nall claims checked: OK");
    Ok(())
}
