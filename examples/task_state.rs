//! A task's states, from the seed tutorials ("create a task", "stopping
//! coroutines"):
//!
//! ```python
//! task = loop.create_task(coroutine)
//! print(task)                    # <Task pending coro=<do_some_work() running at ...>>
//! loop.run_until_complete(task)
//! print(task)                    # <Task finished coro=<do_some_work() done> result=None>
//! # future states: Pending, Running, Done, Cancelled
//! ```
//!
//! A `JoinHandle` is the task object. Outside the task, `is_finished()` says
//! pending or finished, and awaiting it tells done from cancelled
//! (`JoinError::is_cancelled`). "Running" can only be seen from inside: the
//! body's `windlass::task::id()` is the handle's `id()`. This runs on a
//! current-thread runtime (asyncio's one-thread loop), so a new task
//! deterministically waits until the spawning code yields. One "second" of
//! the original is 100 ms.
//!
//! Run it with `cargo run --example task_state --features macros`. It checks its own claims.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use windlass::JoinHandle;
use windlass::sync::oneshot;
use windlass::time::sleep;

/// One second of the Python original.
const UNIT: Duration = Duration::from_millis(100);

/// What the task tells about itself: whether it started, and its id as it
/// sees it from inside.
#[derive(Default)]
struct Probe {
    /// Set on the body's first poll.
    started: AtomicBool,
    /// `windlass::task::id()` as read inside the body (0: not yet).
    id_inside: AtomicU64,
}

/// `print(task)`: the state as seen from outside.
fn show<T>(task: &JoinHandle<T>, probe: &Probe) -> String {
    let state = match (task.is_finished(), probe.started.load(Ordering::SeqCst)) {
        (true, _) => "finished",
        (false, false) => "pending, not started",
        (false, true) => "pending, waiting at an .await",
    };
    format!("<Task {state} id={}>", task.id())
}

async fn do_some_work(x: u32, probe: Arc<Probe>) -> String {
    probe.started.store(true, Ordering::SeqCst);
    let me = windlass::task::id();
    probe.id_inside.store(me.as_u64(), Ordering::SeqCst);
    println!("  inside: <Task running id={me}> waiting: {x}");
    sleep(UNIT * x).await;
    format!("Done after {x}s")
}

#[windlass::main(flavor = "current_thread")]
async fn main() {
    // 1. pending -> running -> pending (waiting) -> finished.
    let probe = Arc::new(Probe::default());
    let mut task = windlass::spawn(do_some_work(2, probe.clone()));
    let before = show(&task, &probe);
    println!("{before}");
    assert_eq!(
        before,
        format!("<Task pending, not started id={}>", task.id())
    );

    windlass::yield_now().await; // let the loop run the task to its sleep
    let waiting = show(&task, &probe);
    println!("{waiting}");
    assert!(waiting.contains("pending, waiting"), "{waiting}");
    assert_eq!(probe.id_inside.load(Ordering::SeqCst), task.id().as_u64());

    // `&mut task` awaits without consuming the handle, so it can still
    // be printed afterwards.
    let result = (&mut task).await.expect("task");
    let after = show(&task, &probe);
    println!("{after} result={result:?}");
    assert!(task.is_finished());
    assert_eq!(result, "Done after 2s");

    // 2. Cancelled: cancel() on a waiting task.
    let probe = Arc::new(Probe::default());
    let task = windlass::spawn(do_some_work(10, probe.clone()));
    windlass::yield_now().await;
    println!("{}", show(&task, &probe));
    task.abort();
    let outcome = task.await;
    println!("<Task cancelled> -> {outcome:?}");
    assert!(outcome.unwrap_err().is_cancelled());

    // 3. Cancelled before it ever ran: the body never starts.
    let probe = Arc::new(Probe::default());
    let task = windlass::spawn(do_some_work(1, probe.clone()));
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    println!(
        "cancelled while pending: the body started? {}",
        probe.started.load(Ordering::SeqCst)
    );
    assert!(!probe.started.load(Ordering::SeqCst));

    // 4. cancel() on a finished task does nothing (asyncio returns
    //    False): the result is kept. The task completes in the same poll
    //    that sends, so once the message is here the task is finished.
    let (tx, rx) = oneshot::channel();
    let task = windlass::spawn(async move {
        tx.send(()).expect("receiver alive");
        "kept"
    });
    rx.await.expect("task sent");
    assert!(task.is_finished());
    task.abort();
    let outcome = task.await;
    println!("cancel() after it finished -> {outcome:?}");
    assert_eq!(outcome.expect("a finished task is not cancelled"), "kept");
    println!("\nall claims checked: OK");
}
