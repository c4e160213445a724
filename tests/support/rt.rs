//! The runtimes the tests build, one name per shape: [`multi`] with a
//! given number of workers (most tests use 2, the CI machine's core count)
//! and [`current`]. A test that needs other options (debug mode, hooks,
//! thread names, a paused clock) uses `Builder` itself.

use windlass::Runtime;
use windlass::runtime::Builder;

/// A multi-thread runtime with `workers` worker threads.
#[track_caller]
pub fn multi(workers: usize) -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(workers)
        .build()
        .unwrap_or_else(|e| panic!("build a {workers}-worker runtime: {e}"))
}

/// A current-thread runtime.
#[track_caller]
pub fn current() -> Runtime {
    Builder::new_current_thread()
        .build()
        .unwrap_or_else(|e| panic!("build a current-thread runtime: {e}"))
}
