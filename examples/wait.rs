//! asyncio's `wait`, from the seed tutorials:
//!
//! ```python
//! tasks = [asyncio.ensure_future(do_some_work(x)) for x in (1, 2, 4)]
//! loop.run_until_complete(asyncio.wait(tasks))
//! for task in tasks:
//!     print("Task ret:", task.result())
//! print("Time:", now() - start)      # about 4 s, not 7 s
//! ```
//!
//! and `done, pending = await asyncio.wait(task_list)`, with the
//! `return_when` and `timeout` variants the tutorials describe. One "second"
//! of the original is 100 ms here.
//!
//! Run it with `cargo run --example wait --features macros`. It checks its own claims.

use std::time::{Duration, Instant};

use windlass::join::{ReturnWhen, wait};
use windlass::time::sleep;

/// One second of the Python original.
const UNIT: Duration = Duration::from_millis(100);

async fn do_some_work(x: u32) -> String {
    println!("Waiting: {x}");
    sleep(UNIT * x).await;
    format!("Done after {x}s")
}

fn spawn_work(xs: &[u32]) -> Vec<windlass::JoinHandle<String>> {
    xs.iter()
        .map(|&x| windlass::spawn(do_some_work(x)))
        .collect()
}

#[windlass::main]
async fn main() {
    // Tasks below panic on purpose (asyncio's exceptions): print one line
    // for each instead of a backtrace.
    std::panic::set_hook(Box::new(|info| eprintln!("  (a task raised: {info})")));
    // 1. asyncio.wait(tasks): ALL_COMPLETED, the default.
    let start = Instant::now();
    let (done, pending) = wait(spawn_work(&[1, 2, 4]), ReturnWhen::AllCompleted, None).await;
    // `done` is in completion order: here the same as 1, 2, 4.
    for result in &done {
        println!("Task ret: {}", result.as_ref().expect("task"));
    }
    let took = start.elapsed();
    println!("Time: {took:.2?} (one after another: {:.2?})\n", UNIT * 7);
    assert!(pending.is_empty() && done.len() == 3);
    assert!(took >= UNIT * 4 && took < UNIT * 6, "overlapped: {took:?}");

    // 2. return_when=FIRST_COMPLETED: back after the quickest; the others
    //    are handed back, still running.
    let start = Instant::now();
    let (done, pending) = wait(spawn_work(&[3, 1, 2]), ReturnWhen::FirstCompleted, None).await;
    println!(
        "FIRST_COMPLETED after {:.2?}: done {:?}, {} still pending",
        start.elapsed(),
        done.iter().map(|r| r.as_ref().unwrap()).collect::<Vec<_>>(),
        pending.len()
    );
    assert_eq!(done.len(), 1);
    assert_eq!(pending.len(), 2);
    // ... and can be waited on again.
    let (rest, _) = wait(pending, ReturnWhen::AllCompleted, None).await;
    println!("the other two finished too: {rest:?}\n");
    assert_eq!(rest.len(), 2);

    // 3. timeout=2.5: what is done by then, and the rest, which we cancel.
    let start = Instant::now();
    let (done, pending) = wait(
        spawn_work(&[1, 2, 4, 8]),
        ReturnWhen::AllCompleted,
        Some(UNIT * 5 / 2),
    )
    .await;
    let took = start.elapsed();
    println!(
        "timeout after {took:.2?}: {} done, {} pending; cancelling the pending ones",
        done.len(),
        pending.len()
    );
    assert_eq!(done.len(), 2);
    assert_eq!(pending.len(), 2);
    for task in &pending {
        task.abort();
    }
    for task in pending {
        assert!(task.await.unwrap_err().is_cancelled());
    }

    // 4. return_when=FIRST_EXCEPTION: back as soon as one task fails.
    let tasks: Vec<windlass::JoinHandle<u32>> = [2u32, 1, 6]
        .into_iter()
        .map(|x| {
            windlass::spawn(async move {
                sleep(UNIT * x).await;
                if x == 2 {
                    panic!("work {x} raised");
                }
                x
            })
        })
        .collect();
    let start = Instant::now();
    let (done, pending) = wait(tasks, ReturnWhen::FirstException, None).await;
    println!(
        "\nFIRST_EXCEPTION after {:.2?}: done {:?}, {} pending",
        start.elapsed(),
        done.iter()
            .map(|r| r.as_ref().map_err(|e| e.is_panic()))
            .collect::<Vec<_>>(),
        pending.len()
    );
    assert!(done.last().unwrap().as_ref().unwrap_err().is_panic());
    assert_eq!(pending.len(), 1);
    pending[0].abort();
    println!("\nall claims checked: OK");
}
