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

/// Runs `make()` on a fresh 2-worker runtime under the [`watchdog`]
/// (super::watchdog), then checks that the test left no I/O source or
/// timer registered.
pub fn run_leak_checked<F, Fut>(make: F)
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()>,
{
    super::watchdog(move || {
        let rt = multi(2);
        rt.block_on(make());
        assert_eq!(rt.handle().num_io_sources(), 0, "a socket was leaked");
        assert_eq!(rt.handle().num_timers(), 0, "a timer was leaked");
    });
}
