//! Cancelling tasks, from the two seed tutorials that do it.
//!
//! 1. "Stopping coroutines": three tasks (1, 2 and 2 seconds) are waited on;
//!    a KeyboardInterrupt arrives after about a second, and every task is
//!    cancelled. `task.cancel()` says `False` for the one already done and
//!    `True` for the others, and the program ends at about 1 s, not 2 s:
//!
//!    ```python
//!    try:
//!        loop.run_until_complete(asyncio.wait(tasks))
//!    except KeyboardInterrupt as e:
//!        for task in asyncio.Task.all_tasks():
//!            print(task.cancel())
//!    ```
//!
//!    Here the interrupt is a timer at 1.5 "seconds", so the example runs
//!    unattended.
//!
//! 2. The spinner (Fluent Python): a spinner task animates `|/-\` while
//!    `slow_function` sleeps 3 seconds; then `spinner.cancel()`, and the
//!    spinner clears its line on the way out (`except CancelledError`). In
//!    windlass that cleanup is a drop guard.
//!
//! One "second" of the originals is 100 ms here. Run it with
//! `cargo run --example cancel --features macros`. It checks its own claims.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use windlass::join::{ReturnWhen, wait};
use windlass::time::sleep;

/// One second of the Python originals.
const UNIT: Duration = Duration::from_millis(100);

async fn do_some_work(x: u32) -> String {
    println!("Waiting: {x}");
    sleep(UNIT * x).await;
    format!("Done after {x}s")
}

/// Runs when the spinner's future is dropped: asyncio's `except
/// CancelledError` / `finally` around the spinner loop.
struct ClearLine {
    width: usize,
    cleared: Arc<AtomicBool>,
}

impl Drop for ClearLine {
    fn drop(&mut self) {
        let blank = " ".repeat(self.width);
        let back = "\x08".repeat(self.width);
        print!("{blank}{back}");
        let _ = std::io::stdout().flush();
        self.cleared.store(true, Ordering::SeqCst);
    }
}

async fn spin(msg: &'static str, frames: Arc<AtomicUsize>, cleared: Arc<AtomicBool>) {
    let _clear = ClearLine {
        width: msg.len() + 2,
        cleared,
    };
    for ch in "|/-\\".chars().cycle() {
        let status = format!("{ch} {msg}");
        print!("{status}{}", "\x08".repeat(status.len()));
        let _ = std::io::stdout().flush();
        frames.fetch_add(1, Ordering::Relaxed);
        sleep(UNIT / 10).await;
    }
}

async fn slow_function() -> u32 {
    // Pretend to wait a long time for I/O.
    sleep(UNIT * 3).await;
    42
}

#[windlass::main]
async fn main() {
    // 1. An interrupt while waiting: cancel everything still running.
    let start = Instant::now();
    let tasks: Vec<_> = [1, 2, 2].map(|x| windlass::spawn(do_some_work(x))).into();
    let interrupt = Some(UNIT * 3 / 2);
    let (done, pending) = wait(tasks, ReturnWhen::AllCompleted, interrupt).await;
    println!("^C  (KeyboardInterrupt at {:.2?})", start.elapsed());
    for result in &done {
        println!("<Task finished result={:?}>", result.as_ref().unwrap());
        println!("False"); // cancel() on a finished task does nothing
    }
    for task in &pending {
        println!("<Task pending {:?}>", task.id());
        let cancelled = !task.is_finished();
        task.abort();
        println!("{}", if cancelled { "True" } else { "False" });
    }
    let mut cancelled = 0;
    for task in pending {
        if task.await.is_err_and(|e| e.is_cancelled()) {
            cancelled += 1;
        }
    }
    let took = start.elapsed();
    println!("Time: {took:.2?} (the 2 s tasks did not run to the end)\n");
    assert_eq!(done.len(), 1);
    assert_eq!(cancelled, 2);
    assert!(
        took < UNIT * 2,
        "cancelled before the 2 s tasks finished: {took:?}"
    );

    // 2. The spinner, cancelled when the slow work is done.
    let frames = Arc::new(AtomicUsize::new(0));
    let cleared = Arc::new(AtomicBool::new(false));
    let spinner = windlass::spawn(spin("thinking!", frames.clone(), cleared.clone()));
    println!("spinner object: {spinner:?}");
    let result = slow_function().await;
    spinner.abort();
    let outcome = spinner.await;
    println!("Answer: {result}");
    let frames = frames.load(Ordering::Relaxed);
    println!(
        "(the spinner drew {frames} frames, was cancelled: {}, cleared its line: {})",
        outcome.as_ref().is_err_and(|e| e.is_cancelled()),
        cleared.load(Ordering::SeqCst)
    );
    assert_eq!(result, 42);
    assert!(outcome.unwrap_err().is_cancelled());
    assert!(cleared.load(Ordering::SeqCst), "the drop guard ran");
    assert!(
        frames >= 10,
        "the spinner ran while slow_function waited: {frames} frames"
    );
    println!("\nall claims checked: OK");
}
