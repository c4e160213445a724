//! An asynchronous context manager, from the seed tutorial:
//!
//! ```python
//! class AsyncContextManager:
//!     async def do_something(self):
//!         return 666                     # asynchronous database work
//!     async def __aenter__(self):
//!         self.conn = await asyncio.sleep(1)     # connect
//!         return self
//!     async def __aexit__(self, exc_type, exc, tb):
//!         await asyncio.sleep(1)                 # close the connection
//!
//! async with AsyncContextManager() as f:
//!     result = await f.do_something()
//! ```
//!
//! `async with` becomes an RAII guard: an `async fn open()` that returns the
//! connection (`__aenter__`), and `Drop` (`__aexit__`) that closes it however
//! the scope is left: a normal return, an early return or `?`, a panic, or
//! the task being cancelled at an `.await`. Rust has no async `Drop`, so a
//! close that must itself await is an explicit `close().await` on the
//! normal path, with `Drop` as the guarantee on every other path. One
//! "second" of the original is 100 ms.
//!
//! Run it with `cargo run --example context_manager --features macros`. It checks its own
//! claims.

use std::sync::Mutex;
use std::time::Duration;

use windlass::time::sleep;

/// One second of the Python original.
const UNIT: Duration = Duration::from_millis(100);

/// Every open and close, in order: `"open 1"`, `"close 1 (Drop)"`, ...
static LOG: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn log(line: String) {
    println!("  {line}");
    LOG.lock().unwrap().push(line);
}

/// Takes the log so far, for a check.
fn take_log() -> Vec<String> {
    std::mem::take(&mut *LOG.lock().unwrap())
}

/// A "database connection".
struct Connection {
    id: u32,
    /// Set by `close()`, so that `Drop` does not close twice.
    closed: bool,
}

impl Connection {
    /// `__aenter__`: connects (an await) and hands back the connection.
    async fn open(id: u32) -> Connection {
        sleep(UNIT).await;
        log(format!("open {id}"));
        Connection { id, closed: false }
    }

    /// Asynchronous work on the connection.
    async fn do_something(&self) -> u32 {
        sleep(UNIT / 10).await;
        666
    }

    /// `__aexit__` on the normal path: a goodbye that itself awaits.
    async fn close(mut self) {
        sleep(UNIT).await;
        self.closed = true;
        log(format!("close {} (async close)", self.id));
    }
}

impl Drop for Connection {
    /// `__aexit__` on every other path: runs whenever the connection goes
    /// out of scope without `close()`.
    fn drop(&mut self) {
        if !self.closed {
            let how = if std::thread::panicking() {
                "Drop, during a panic"
            } else {
                "Drop"
            };
            log(format!("close {} ({how})", self.id));
        }
    }
}

/// `async with ... as f: return await f.do_something()`, closed on the way out.
async fn use_and_close(id: u32) -> u32 {
    let f = Connection::open(id).await;
    let result = f.do_something().await;
    f.close().await;
    result
}

/// Leaves the scope with `?` after opening: `Drop` closes.
async fn fails_midway(id: u32) -> Result<u32, String> {
    let f = Connection::open(id).await;
    let result = f.do_something().await;
    let parsed: u32 = "not a number"
        .parse()
        .map_err(|e| format!("bad reply: {e}"))?;
    Ok(result + parsed)
}

#[windlass::main]
async fn main() {
    // The panic below is on purpose: one line instead of a backtrace.
    std::panic::set_hook(Box::new(|info| eprintln!("  (a task raised: {info})")));
    println!("1. async with, normal exit:");
    let result = use_and_close(1).await;
    println!("  result {result}");
    assert_eq!(result, 666);
    assert_eq!(take_log(), ["open 1", "close 1 (async close)"]);

    println!("2. a plain scope end:");
    {
        let f = Connection::open(2).await;
        assert_eq!(f.do_something().await, 666);
    }
    assert_eq!(take_log(), ["open 2", "close 2 (Drop)"]);

    println!("3. early return with `?`:");
    let err = fails_midway(3).await.unwrap_err();
    println!("  error: {err}");
    assert_eq!(take_log(), ["open 3", "close 3 (Drop)"]);

    println!("4. the task is cancelled while it holds the connection:");
    let (opened, is_open) = windlass::sync::oneshot::channel();
    let task = windlass::spawn(async move {
        let _f = Connection::open(4).await;
        opened.send(()).expect("main is waiting");
        sleep(UNIT * 100).await; // a long query, never finished
    });
    is_open.await.expect("connection 4 opened");
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    assert_eq!(take_log(), ["open 4", "close 4 (Drop)"]);

    println!("5. the body raises:");
    let task = windlass::spawn(async {
        let f = Connection::open(5).await;
        if f.do_something().await == 666 {
            panic!("the query result was unlucky");
        }
    });
    assert!(task.await.unwrap_err().is_panic());
    assert_eq!(take_log(), ["open 5", "close 5 (Drop, during a panic)"]);
    println!("\nall claims checked: OK");
}
