//! The one support module of the integration tests. Every test binary
//! (`tests/<topic>/main.rs`) includes it as
//! `#[path = "../support/mod.rs"] mod support;` and imports what it uses
//! from `crate::support`; each binary uses a subset.
//!
//! - this file: a hang detector ([`watchdog`]), panic messages, drop
//!   counters, a PRNG, the resident set size, the stress scale, and
//!   [`child`]: a test run in a child process of its own;
//! - `rt`: the runtimes tests build, [`multi`]`(n)` and [`current`]`()`;
//! - `io`: reactor, socket and descriptor helpers, and a temp dir;
//! - `join`: gates, drop signals, tallies and poll counting;
//! - `process`: `/proc` scans for zombies and exited children;
//! - `waker`: a waker that counts its wake-ups;
//! - `alloc_count`: a global allocator that counts each thread's
//!   allocations, for the binaries that install it (`sync`, `task`);
//! - `http` (feature `hyper`): hyper servers and clients on windlass and
//!   on tokio.
#![allow(dead_code)]

pub mod alloc_count;
mod io;
mod join;
mod process;
mod rt;
mod waker;

#[cfg(feature = "hyper")]
pub mod http;

// Each binary uses a subset: a glob it takes nothing from is not an error.
#[allow(unused_imports)]
pub use io::*;
#[allow(unused_imports)]
pub use join::*;
#[allow(unused_imports)]
pub use process::*;
#[allow(unused_imports)]
pub use rt::*;
#[allow(unused_imports)]
pub use waker::*;

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

/// How long a test may run before the watchdog declares it hung.
pub const WATCHDOG: Duration = Duration::from_secs(60);

/// Runs `f` on its own thread and returns its result, re-raising its panic.
/// Fails the test if `f` does not finish within [`WATCHDOG`]: a hang detector,
/// not a synchronisation device (the thread is leaked in that case).
#[track_caller]
pub fn watchdog<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    watchdog_for(WATCHDOG, f)
}

/// [`watchdog`] with a custom limit.
#[track_caller]
pub fn watchdog_for<T: Send + 'static>(
    limit: Duration,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    let thread = std::thread::Builder::new()
        .name("watchdog-body".into())
        .spawn(move || {
            let _ = tx.send(catch_unwind(AssertUnwindSafe(f)));
        })
        .expect("spawn watchdog body");
    match rx.recv_timeout(limit) {
        Ok(Ok(v)) => {
            thread.join().expect("watchdog body thread");
            v
        }
        Ok(Err(payload)) => {
            let _ = thread.join();
            resume_unwind(payload)
        }
        Err(_) => panic!("watchdog: the test did not finish within {limit:?}; it is probably hung"),
    }
}

/// The message of a panic payload (`&str` or `String`), or a placeholder.
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "<non-string panic payload>".to_string()
    }
}

/// Runs `f`, expects it to panic, and returns the panic message.
#[track_caller]
pub fn expect_panic<R>(f: impl FnOnce() -> R) -> String {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(_) => panic!("expected a panic, but the closure returned normally"),
        Err(payload) => panic_message(&*payload),
    }
}

/// Counts drops of the [`DropToken`]s it hands out, and how many it handed out.
#[derive(Clone, Default, Debug)]
pub struct DropCounter {
    created: Arc<AtomicUsize>,
    dropped: Arc<AtomicUsize>,
}

impl DropCounter {
    pub fn new() -> DropCounter {
        DropCounter::default()
    }

    /// A new token; dropping it bumps [`dropped`](Self::dropped).
    pub fn token(&self) -> DropToken {
        self.created.fetch_add(1, SeqCst);
        DropToken {
            dropped: self.dropped.clone(),
            done: false,
        }
    }

    pub fn created(&self) -> usize {
        self.created.load(SeqCst)
    }

    pub fn dropped(&self) -> usize {
        self.dropped.load(SeqCst)
    }
}

/// Bumps its counter exactly once, when dropped. A second drop (which would
/// be a use-after-free in the runtime) is caught by the `done` flag in debug.
#[derive(Debug)]
pub struct DropToken {
    dropped: Arc<AtomicUsize>,
    done: bool,
}

impl Drop for DropToken {
    fn drop(&mut self) {
        assert!(!self.done, "DropToken dropped twice");
        self.done = true;
        self.dropped.fetch_add(1, SeqCst);
    }
}

/// A cheap deterministic PRNG for the stress tests.
#[derive(Clone, Copy, Debug)]
pub struct XorShift(u64);

impl XorShift {
    pub fn new(seed: u64) -> XorShift {
        XorShift(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// Uniform-ish in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

/// Running a scenario in a child process, for tests whose failure mode is
/// a hang, an abort (SIGABRT) or a process-wide change such as a lowered
/// `RLIMIT_NOFILE`: the parent turns each of those into an ordinary test
/// failure instead of a stuck or killed test run.
///
/// How: the test binary re-executes itself with `--exact <test>` and the
/// environment variable [`child::ENV`] set to the test's name. The name is
/// the one libtest prints: the test's module path inside its binary, e.g.
/// `misuse::my_scenario` for `fn my_scenario` in `tests/stress/misuse.rs`. In the child,
/// [`child::run`] sees the variable and runs the body as the test; in the
/// parent it spawns the child, waits at most the deadline (then kills it)
/// and returns what happened. A test is written
///
/// ```ignore
/// #[test]
/// fn my_scenario() {
///     child::run("misuse::my_scenario", Duration::from_secs(10), || { /* body */ })
///         .assert_passed();
/// }
/// ```
///
/// A test whose whole body needs a process of its own starts with
/// [`child::isolate`] instead.
///
/// The parent checks the child's exit status *and* that the child's test
/// harness reported exactly one test passed, so a misspelt name (which
/// would run zero tests and exit 0) fails too.
pub mod child {
    use std::io::Read;
    use std::process::{Command, ExitStatus, Stdio};
    use std::time::{Duration, Instant};

    /// Names the test a re-executed binary is to run as a child.
    pub const ENV: &str = "WINDLASS_TEST_CHILD";

    /// The deadline of a test run by [`isolate`].
    pub const ISOLATED: Duration = Duration::from_secs(120);

    /// What a child run came to.
    #[derive(Debug)]
    pub struct Outcome {
        /// `None`: killed at the deadline (it hung).
        pub status: Option<ExitStatus>,
        pub stdout: String,
        pub stderr: String,
        /// True if this process is the child (the body already ran here).
        pub is_child: bool,
    }

    impl Outcome {
        /// Fails the test unless the child exited 0 having passed its one test.
        #[track_caller]
        pub fn assert_passed(&self) {
            if self.is_child {
                return;
            }
            let Some(status) = self.status else {
                panic!("the child hung: killed at its deadline\n{}", self.output());
            };
            #[cfg(unix)]
            {
                use std::os::unix::process::ExitStatusExt;
                if let Some(sig) = status.signal() {
                    panic!(
                        "the child was killed by signal {sig} (6 = SIGABRT)\n{}",
                        self.output()
                    );
                }
            }
            assert!(
                status.success(),
                "the child failed: {status}\n{}",
                self.output()
            );
            assert!(
                self.stdout.contains("1 passed"),
                "the child did not run exactly one test (misspelt name?)\n{}",
                self.output()
            );
        }

        fn output(&self) -> String {
            format!(
                "--- child stdout ---\n{}\n--- child stderr ---\n{}",
                self.stdout, self.stderr
            )
        }
    }

    /// For a test that needs its process to itself (it changes a
    /// process-wide setting, or measures the whole process: descriptors,
    /// resident memory, zombie children) while the other tests of its
    /// binary run on other threads. In the parent: runs the test `name` in
    /// a child process, checks that it passed, and returns `false`, and the
    /// test returns at once. In the child: returns `true`, and the test
    /// goes on to run its body, alone in its process.
    ///
    /// ```ignore
    /// #[test]
    /// fn counts_every_descriptor() {
    ///     if !child::isolate("bad_input::counts_every_descriptor") {
    ///         return; // it ran in a child process of its own
    ///     }
    ///     /* body */
    /// }
    /// ```
    ///
    /// The child is killed after [`ISOLATED`], twice the watchdog's limit:
    /// a body under a watchdog fails with its message first.
    #[track_caller]
    pub fn isolate(name: &str) -> bool {
        let outcome = run(name, ISOLATED, || {});
        if !outcome.is_child {
            outcome.assert_passed();
        }
        outcome.is_child
    }

    /// In the child (see the module docs): runs `body`. In the parent:
    /// runs the test `name` in a child process, killed after `deadline`.
    #[track_caller]
    pub fn run(name: &str, deadline: Duration, body: impl FnOnce()) -> Outcome {
        if std::env::var(ENV).as_deref() == Ok(name) {
            body();
            return Outcome {
                status: None,
                stdout: String::new(),
                stderr: String::new(),
                is_child: true,
            };
        }
        let exe = std::env::current_exe().expect("current test binary");
        let mut child = Command::new(exe)
            .args([name, "--exact", "--nocapture", "--test-threads=1"])
            .env(ENV, name)
            .env("RUST_BACKTRACE", "0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn the child test process");
        // Drain the pipes on their own threads so a chatty child cannot
        // block on a full pipe while we wait for it.
        let drain = |mut r: Box<dyn Read + Send>| {
            std::thread::spawn(move || {
                let mut s = String::new();
                let _ = r.read_to_string(&mut s);
                s
            })
        };
        let out = drain(Box::new(child.stdout.take().expect("piped stdout")));
        let err = drain(Box::new(child.stderr.take().expect("piped stderr")));
        let end = Instant::now() + deadline;
        // A deadline, not synchronisation: the child is polled for exit.
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait for the child") {
                break Some(status);
            }
            if Instant::now() >= end {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        Outcome {
            status,
            stdout: out.join().unwrap_or_default(),
            stderr: err.join().unwrap_or_default(),
            is_child: false,
        }
    }
}

/// Resident set size of this process in bytes, from `/proc/self/statm`
/// (its second field, in pages). The page size is taken as 4 KiB (x86_64
/// and most aarch64 Linux); the stress tests compare two readings, so a
/// different page size only scales the printed figures.
pub fn rss_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .expect("statm: resident pages");
    pages * 4096
}

/// The scale of the `stress_*` tests: 1 by default (bounded for CI: the
/// whole suite under 60 s on 2 cores, debug build), or the value of
/// `WINDLASS_STRESS_SCALE` (e.g. `10` for a longer soak by hand).
pub fn stress_scale() -> usize {
    std::env::var("WINDLASS_STRESS_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(1)
}
