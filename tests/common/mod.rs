//! Helpers shared by the integration tests: a hang detector, drop counters
//! and panic-message extraction. Each test crate uses a subset.
#![allow(dead_code)]

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
