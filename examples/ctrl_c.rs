//! Ctrl+C cancels everything cleanly, from seed 000 ("stopping coroutines"):
//!
//! ```python
//! tasks = [asyncio.ensure_future(do_some_work(1)),
//!          asyncio.ensure_future(do_some_work(2)),
//!          asyncio.ensure_future(do_some_work(2))]
//! try:
//!     loop.run_until_complete(asyncio.wait(tasks))
//! except KeyboardInterrupt as e:
//!     for task in asyncio.Task.all_tasks():
//!         print(task.cancel())
//! ```
//!
//! Ctrl+C about a second in: `cancel()` prints `False` for the task already
//! done and `True` for the others. Here [`windlass::signal::ctrl_c`] races
//! the work; on Ctrl+C every task, and a spinner beside them, is aborted,
//! and each task's drop guard (asyncio's `finally`) runs exactly once.
//!
//! By default the program presses Ctrl+C itself (a SIGINT to its own
//! process) about 300 ms in, after the first task is done, so that it ends
//! on its own; `cargo run --example ctrl_c --features macros -- --wait` waits for a real
//! Ctrl+C instead. One "second" is 100 ms, and the two 2-second tasks are
//! stretched to 10 so they are surely still running when Ctrl+C comes. It
//! checks its own claims.

use std::io::{self, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustix::process::{Signal, getpid, kill_process};
use windlass::JoinHandle;
use windlass::join::or;
use windlass::sync::{Event, mpsc};
use windlass::time::sleep;

/// One second of the Python original.
const UNIT: Duration = Duration::from_millis(100);
/// The work, in "seconds" (the original's 1, 2, 2, with the 2s stretched).
const WORK: [u32; 3] = [1, 10, 10];

/// Runs when a task's future is dropped, finished or cancelled: asyncio's
/// `finally`. Logs the task's name, so "exactly once" can be checked.
struct Cleanup {
    name: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        println!("  cleanup: {}", self.name);
        self.log.lock().unwrap().push(self.name.clone());
    }
}

async fn do_some_work(x: u32, cleanup: Cleanup, done: mpsc::UnboundedSender<u32>) -> String {
    let _cleanup = cleanup;
    println!("Waiting: {x}");
    sleep(UNIT * x).await;
    let msg = format!("Done after {x}s");
    println!("{msg}");
    // The receiver is gone once Ctrl+C won the race; nothing to tell then.
    let _ = done.send(x);
    msg
}

/// Animates `|/-\` until cancelled.
async fn spin(cleanup: Cleanup, frames: Arc<AtomicUsize>) -> String {
    let _cleanup = cleanup;
    for ch in "|/-\\".chars().cycle() {
        print!("{ch}\x08");
        let _ = io::stdout().flush();
        // Relaxed: only counted; main reads it after joining this task,
        // and the join orders the two.
        frames.fetch_add(1, Ordering::Relaxed);
        sleep(UNIT / 2).await;
    }
    unreachable!("the spinner spins until cancelled")
}

/// The impatient user: waits for the first "Done", reacts in 200 ms, and
/// presses Ctrl+C (sends SIGINT to this process).
async fn press_ctrl_c(first_done: Arc<Event>) {
    first_done.wait().await;
    sleep(UNIT * 2).await;
    println!(
        "(pressing Ctrl+C: SIGINT to pid {})",
        getpid().as_raw_nonzero()
    );
    kill_process(getpid(), Signal::INT).expect("send SIGINT to ourselves");
}

/// How the race between the work and Ctrl+C ended.
enum Outcome {
    AllDone,
    Interrupted(io::Result<()>),
}

#[windlass::main]
async fn main() -> io::Result<()> {
    let wait_for_user = std::env::args().skip(1).any(|a| a == "--wait");
    let sequential = UNIT * WORK.iter().sum::<u32>();
    // Listen before anything starts: from here on a Ctrl+C is ours (and
    // no longer kills the process).
    let ctrl_c = windlass::signal::ctrl_c();
    if wait_for_user {
        println!(
            "mode: --wait: press Ctrl+C to cancel the work (it takes {:?})",
            UNIT * 10
        );
    } else {
        println!(
            "mode: self-interrupt: Ctrl+C comes from the program itself (--wait for a real one)"
        );
    }
    let start = Instant::now();
    let log = Arc::new(Mutex::new(Vec::new()));
    let cleanup = |name: &str| Cleanup {
        name: name.to_string(),
        log: log.clone(),
    };
    let (done_tx, mut done_rx) = mpsc::unbounded_channel();
    let mut tasks: Vec<(String, JoinHandle<String>)> = Vec::new();
    for x in WORK {
        let name = format!("do_some_work({x}) #{}", tasks.len() + 1);
        let work = do_some_work(x, cleanup(&name), done_tx.clone());
        tasks.push((name, windlass::spawn(work)));
    }
    let frames = Arc::new(AtomicUsize::new(0));
    let spinner = windlass::spawn(spin(cleanup("spinner"), frames.clone()));
    tasks.push(("spinner".to_string(), spinner));

    // run_until_complete(wait(tasks)), or Ctrl+C, whichever comes first.
    let first_done = Arc::new(Event::new());
    let presser = (!wait_for_user).then(|| windlass::spawn(press_ctrl_c(first_done.clone())));
    let all_done = async {
        let mut finished = Vec::new();
        while finished.len() < WORK.len() {
            finished.push(done_rx.recv().await.expect("a sender per task"));
            first_done.set();
        }
        Outcome::AllDone
    };
    let outcome = or(async { Outcome::Interrupted(ctrl_c.await) }, all_done).await;
    let at = start.elapsed();
    let interrupted = match outcome {
        Outcome::Interrupted(res) => {
            res?;
            println!("^C at {at:.2?}: KeyboardInterrupt");
            true
        }
        Outcome::AllDone => {
            println!("all work finished at {at:.2?}, before any Ctrl+C");
            false
        }
    };

    // for task in all_tasks(): print(task.cancel())
    // (Aborting a finished task does nothing; its await says which.)
    for (_, task) in &tasks {
        task.abort();
    }
    let mut cancelled = Vec::new();
    for (name, task) in tasks.drain(..) {
        match task.await {
            Ok(msg) => println!("cancel() -> False  {name}: already done ({msg})"),
            Err(e) if e.is_cancelled() => {
                println!("cancel() -> True   {name}: cancelled");
                cancelled.push(name);
            }
            Err(e) => panic!("{name} failed: {e}"),
        }
    }
    if let Some(presser) = presser {
        presser.await.expect("the presser finished");
    }
    let took = start.elapsed();
    println!("Time: {took:.2?} (the work one after another: {sequential:.2?})");

    check_claims(
        interrupted,
        wait_for_user,
        &cancelled,
        &log,
        &frames,
        took,
        sequential,
    );
    println!("\nall claims checked: OK");
    Ok(())
}

/// Asserts what the run printed.
fn check_claims(
    interrupted: bool,
    wait_for_user: bool,
    cancelled: &[String],
    log: &Mutex<Vec<String>>,
    frames: &AtomicUsize,
    took: Duration,
    sequential: Duration,
) {
    // Every task, finished or cancelled, cleaned up exactly once.
    let mut cleaned = log.lock().unwrap().clone();
    cleaned.sort();
    let mut expected: Vec<String> = (1..=WORK.len())
        .map(|i| format!("do_some_work({}) #{i}", WORK[i - 1]))
        .chain(["spinner".to_string()])
        .collect();
    expected.sort();
    assert_eq!(cleaned, expected, "each task cleaned up exactly once");
    // The spinner ran, and never ends by itself: it was cancelled.
    assert!(frames.load(Ordering::Relaxed) > 0, "the spinner spun");
    assert!(
        cancelled.iter().any(|n| n == "spinner"),
        "the spinner was cancelled"
    );
    assert_eq!(
        windlass::Handle::current().num_alive_tasks(),
        0,
        "no task left behind"
    );
    if !wait_for_user {
        // Ctrl+C came after the first task and long before the others.
        assert!(interrupted, "the self-sent Ctrl+C was caught");
        let work_cancelled: Vec<_> = cancelled.iter().filter(|n| *n != "spinner").collect();
        assert_eq!(
            work_cancelled,
            ["do_some_work(10) #2", "do_some_work(10) #3"]
        );
        assert!(
            took < sequential.mul_f64(0.7),
            "Ctrl+C cut the work short: {took:?} vs {sequential:?} one after another"
        );
    }
}
