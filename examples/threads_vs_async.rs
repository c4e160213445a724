//! Threads versus tasks, the comparison the seed's Fluent Python chapter
//! opens with: the same spinner, once with a thread, once with a coroutine.
//!
//! ```python
//! # threads: the spinner polls an Event it is told to stop with
//! def spin(msg, done):                  # done = threading.Event()
//!     for char in itertools.cycle('|/-\\'):
//!         ...                           # draw the frame
//!         if done.wait(.1):
//!             break
//! spinner = threading.Thread(target=spin, args=('thinking!', done))
//! spinner.start(); result = slow_function()   # time.sleep(3)
//! done.set(); spinner.join()
//!
//! # asyncio: the spinner is a task, cancelled from outside
//! spinner = asyncio.ensure_future(spin('thinking!'))
//! result = await slow_function()              # await asyncio.sleep(3)
//! spinner.cancel()
//! ```
//!
//! Same story in Rust: a `std::thread` whose loop waits on a
//! `Mutex<bool>` + `Condvar` with a timeout (the `done.wait(.1)`), against a
//! windlass task that is simply aborted. The differences the chapter draws:
//! a thread cannot be stopped from outside, only asked (it must check a
//! flag), while a task is cancelled at any `.await`; the thread version's
//! `slow_function` may block (it has its own thread), the task version's
//! must await. One "second" is 100 ms.
//!
//! Run it with `cargo run --example threads_vs_async`. It checks its own
//! claims.

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use windlass::time::sleep;

/// One second of the Python original.
const UNIT: Duration = Duration::from_millis(100);

/// The spinner's redraw period (`.1` s in the original).
const TICK: Duration = Duration::from_millis(10);

const MSG: &str = "thinking!";

/// What a spinner reports: frames drawn, and whether it cleared its line.
#[derive(Default)]
struct Report {
    frames: AtomicUsize,
    cleared: AtomicBool,
}

/// Draws one frame, then backs the cursor up over it.
fn draw(ch: char, report: &Report) {
    let status = format!("{ch} {MSG}");
    print!("{status}{}", "\x08".repeat(status.len()));
    let _ = std::io::stdout().flush();
    report.frames.fetch_add(1, Ordering::Relaxed);
}

/// Blanks the spinner's line.
fn clear(report: &Report) {
    let width = MSG.len() + 2;
    print!("{}{}", " ".repeat(width), "\x08".repeat(width));
    let _ = std::io::stdout().flush();
    report.cleared.store(true, Ordering::SeqCst);
}

/// The thread spinner: draws until `done` is set, checking it every tick.
fn spin_thread(done: Arc<(Mutex<bool>, Condvar)>, report: Arc<Report>) {
    let (flag, changed) = &*done;
    for ch in "|/-\\".chars().cycle() {
        draw(ch, &report);
        // `done.wait(.1)`: true if set within the tick.
        let guard = flag.lock().unwrap();
        let (guard, _) = changed
            .wait_timeout_while(guard, TICK, |done| !*done)
            .unwrap();
        if *guard {
            break;
        }
    }
    clear(&report);
}

/// The thread version: blocking slow work, then ask the spinner to stop.
fn supervisor_threads(report: Arc<Report>) -> u32 {
    let done = Arc::new((Mutex::new(false), Condvar::new()));
    let spinner = {
        let (done, report) = (done.clone(), report.clone());
        thread::spawn(move || spin_thread(done, report))
    };
    println!("spinner object: {:?}", spinner.thread());
    let result = {
        thread::sleep(UNIT * 3); // slow_function(): blocking is fine here
        42
    };
    *done.0.lock().unwrap() = true; // done.set()
    done.1.notify_all();
    spinner.join().expect("spinner thread");
    result
}

/// Clears the line when the task spinner's future is dropped (cancelled).
struct ClearOnDrop(Arc<Report>);

impl Drop for ClearOnDrop {
    fn drop(&mut self) {
        clear(&self.0);
    }
}

/// The task spinner: no flag to check; it is dropped at an `.await`.
async fn spin_task(report: Arc<Report>) {
    let _clear = ClearOnDrop(report.clone());
    for ch in "|/-\\".chars().cycle() {
        draw(ch, &report);
        sleep(TICK).await;
    }
}

/// The task version: awaited slow work, then cancel the spinner.
async fn supervisor_tasks(report: Arc<Report>) -> u32 {
    let spinner = windlass::spawn(spin_task(report));
    println!("spinner object: {spinner:?}");
    sleep(UNIT * 3).await; // slow_function(): must not block the worker
    spinner.abort();
    assert!(spinner.await.unwrap_err().is_cancelled());
    42
}

/// Checks what both versions claim, and prints the line for one of them.
fn check(name: &str, answer: u32, took: Duration, report: &Report) {
    let frames = report.frames.load(Ordering::Relaxed);
    println!(
        "{name}: Answer: {answer} after {took:.2?}; the spinner drew {frames} frames and cleared its line: {}",
        report.cleared.load(Ordering::SeqCst)
    );
    assert_eq!(answer, 42);
    assert!(took >= UNIT * 3, "the slow work took its time: {took:?}");
    assert!(
        frames >= 10,
        "the spinner ran during the slow work: {frames}"
    );
    assert!(
        report.cleared.load(Ordering::SeqCst),
        "the spinner cleaned up"
    );
}

fn main() -> std::io::Result<()> {
    // 1. Threads.
    let report = Arc::new(Report::default());
    let start = Instant::now();
    let answer = supervisor_threads(report.clone());
    check("threads", answer, start.elapsed(), &report);

    // 2. Tasks.
    let rt = windlass::Runtime::new()?;
    let report = Arc::new(Report::default());
    let start = Instant::now();
    let answer = rt.block_on(supervisor_tasks(report.clone()));
    check("tasks", answer, start.elapsed(), &report);

    println!("\nall claims checked: OK");
    Ok(())
}
