//! `task.add_done_callback(cb)`, from the seed tutorials:
//!
//! ```python
//! async def work(x):
//!     return x + 3
//!
//! def callback(future):
//!     print(future.result())
//!
//! task = loop.create_task(work(5))
//! task.add_done_callback(callback)     # runs once the task is done
//! loop.run_until_complete(task)
//! ```
//!
//! A `JoinHandle` has no callback list; two idioms do the job:
//!
//! 1. a *follow-up task* that awaits the handle and then calls the callback
//!    (works for any handle you already hold, from anywhere);
//! 2. a small combinator, `on_done(fut, cb)` below, that wraps the future
//!    before it is spawned, so the callback runs inside the task the moment
//!    it ends, including when it is cancelled or panics (asyncio calls done
//!    callbacks for cancelled tasks too).
//!
//! One "second" of the originals is 100 ms here.
//!
//! Run it with `cargo run --example done_callback --features macros`. It checks its own
//! claims.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use windlass::JoinError;
use windlass::time::sleep;

/// One second of the Python originals.
const UNIT: Duration = Duration::from_millis(100);

/// Lines of the story, in the order they happened.
type Log = Arc<Mutex<Vec<String>>>;

fn say(log: &Log, line: String) {
    println!("{line}");
    log.lock().unwrap().push(line);
}

async fn work(x: u32, log: Log) -> u32 {
    say(&log, format!("work({x}) waiting"));
    sleep(UNIT).await;
    say(&log, format!("work({x}) returns {}", x + 3));
    x + 3
}

/// The idiom for a handle already spawned: `callback` gets what awaiting
/// the handle gives (`future.result()`, or the cancellation/panic).
fn add_done_callback<T, C>(task: windlass::JoinHandle<T>, callback: C) -> windlass::JoinHandle<()>
where
    T: Send + 'static,
    C: FnOnce(Result<T, JoinError>) + Send + 'static,
{
    windlass::spawn(async move { callback(task.await) })
}

/// How a wrapped future ended, as its done callback sees it.
#[derive(Debug, PartialEq)]
enum Outcome<'a, T> {
    /// It returned this value.
    Done(&'a T),
    /// It was dropped before finishing: the task was cancelled.
    Cancelled,
    /// It panicked.
    Panicked,
}

/// Calls the callback when dropped before the future finished.
struct CallOnDrop<C: FnOnce(Outcome<'_, T>), T>(Option<C>, std::marker::PhantomData<fn(&T)>);

impl<C: FnOnce(Outcome<'_, T>), T> Drop for CallOnDrop<C, T> {
    fn drop(&mut self) {
        if let Some(callback) = self.0.take() {
            let outcome = if std::thread::panicking() {
                Outcome::Panicked
            } else {
                Outcome::Cancelled
            };
            callback(outcome);
        }
    }
}

/// The combinator: `fut`, with `callback` run the moment it ends, however it
/// ends. Spawn the result to get asyncio's "task with a done callback".
async fn on_done<F, C>(fut: F, callback: C) -> F::Output
where
    F: Future,
    C: FnOnce(Outcome<'_, F::Output>),
{
    let mut guard = CallOnDrop(Some(callback), std::marker::PhantomData);
    let out = fut.await;
    if let Some(callback) = guard.0.take() {
        callback(Outcome::Done(&out));
    }
    out
}

#[windlass::main]
async fn main() {
    // One task below panics on purpose: one line instead of a backtrace.
    std::panic::set_hook(Box::new(|info| eprintln!("  (a task raised: {info})")));
    let log: Log = Arc::default();

    // 1. A follow-up task awaits the handle, then calls back. Nobody
    //    else awaits the work task.
    let task = windlass::spawn(work(5, log.clone()));
    let seen = Arc::new(Mutex::new(None));
    let (l, s) = (log.clone(), seen.clone());
    let follow_up = add_done_callback(task, move |result| {
        say(&l, format!("callback: {}", result.as_ref().unwrap()));
        *s.lock().unwrap() = Some(result.unwrap());
    });
    follow_up.await.expect("callback task");
    assert_eq!(
        *seen.lock().unwrap(),
        Some(8),
        "the callback got future.result()"
    );
    let lines = log.lock().unwrap().clone();
    assert_eq!(
        lines,
        ["work(5) waiting", "work(5) returns 8", "callback: 8"]
    );

    // The follow-up also hears about a cancellation.
    let doomed = windlass::spawn(sleep(UNIT * 100));
    doomed.abort();
    let cancelled = Arc::new(Mutex::new(false));
    let c = cancelled.clone();
    add_done_callback(doomed, move |result| {
        let e = result.unwrap_err();
        println!("callback: {e}");
        *c.lock().unwrap() = e.is_cancelled();
    })
    .await
    .expect("callback task");
    assert!(*cancelled.lock().unwrap(), "callback saw the cancellation");

    // 2. The combinator: the callback runs inside the task itself, for
    //    every way it can end, with extra arguments captured (Python's
    //    functools.partial).
    let outcomes: Arc<Mutex<Vec<String>>> = Arc::default();
    let record = |name: &'static str| {
        let outcomes = outcomes.clone();
        move |o: Outcome<'_, u32>| {
            let line = format!("{name}: {o:?}");
            println!("callback {line}");
            outcomes.lock().unwrap().push(line);
        }
    };
    let ok = windlass::spawn(on_done(work(1, log.clone()), record("ok")));
    let stuck = windlass::spawn(on_done(
        async {
            sleep(UNIT * 100).await;
            0
        },
        record("stuck"),
    ));
    let broken = windlass::spawn(on_done(
        async {
            sleep(UNIT).await;
            panic!("work raised")
        },
        record("broken"),
    ));
    assert_eq!(
        ok.await.expect("ok task"),
        4,
        "the output still reaches the handle"
    );
    stuck.abort();
    assert!(stuck.await.unwrap_err().is_cancelled());
    assert!(broken.await.unwrap_err().is_panic());

    let mut outcomes = outcomes.lock().unwrap().clone();
    outcomes.sort();
    assert_eq!(
        outcomes,
        ["broken: Panicked", "ok: Done(4)", "stuck: Cancelled"]
    );
    println!("\nall claims checked: OK");
}
