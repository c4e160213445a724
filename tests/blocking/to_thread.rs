//! `blocking::to_thread` binds to the runtime at its first poll, owns its
//! work (dropped before the closure starts, the closure never runs), and
//! panics clearly when polled with no runtime; `spawn_blocking` binds at
//! the call and its panic names the lazy form. The pool-based `fs` and
//! `net` futures bind at first poll too.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};

use crate::support::{current, panic_message, watchdog};
use futures_lite::future::{block_on, poll_once};
use windlass::blocking::to_thread;
use windlass::runtime::Builder;

#[test]
fn futures_built_outside_a_runtime_run_where_they_are_awaited() {
    watchdog(|| {
        // All built here, on a thread with no runtime.
        let work = to_thread(|| std::thread::current().name().map(str::to_owned));
        let path = std::env::temp_dir().join(format!("windlass-to-thread-{}", std::process::id()));
        std::fs::write(&path, "on disk").unwrap();
        let read = windlass::fs::read_to_string(path.clone());
        let bind = windlass::net::UdpSocket::bind("127.0.0.1:0");

        let rt = current();
        rt.block_on(async {
            let ran_on = work.await.unwrap();
            assert_ne!(
                ran_on.as_deref(),
                std::thread::current().name(),
                "ran on a pool thread"
            );
            assert_eq!(read.await.unwrap(), "on disk");
            assert!(bind.await.unwrap().local_addr().unwrap().ip().is_loopback());
        });
        std::fs::remove_file(path).unwrap();
    });
}

#[test]
fn a_panic_in_the_closure_is_a_join_error() {
    watchdog(|| {
        let rt = windlass::Runtime::new().unwrap();
        let err = rt
            .block_on(to_thread(|| panic!("disk on fire")))
            .unwrap_err();
        assert!(err.is_panic());
    });
}

#[test]
fn polled_with_no_runtime_it_panics_saying_so() {
    let caught = catch_unwind(AssertUnwindSafe(|| block_on(to_thread(|| 1))));
    let message = panic_message(&*caught.unwrap_err());
    assert!(
        message.contains("to_thread polled outside a windlass runtime"),
        "{message}"
    );
}

#[test]
fn spawn_blocking_outside_a_runtime_names_the_lazy_form() {
    let caught = catch_unwind(|| windlass::spawn_blocking(|| 1));
    let message = panic_message(&*caught.unwrap_err());
    assert!(message.contains("blocking::to_thread"), "{message}");
}

/// Sets its flag when dropped.
struct Dropped(Arc<AtomicBool>);

impl Drop for Dropped {
    fn drop(&mut self) {
        self.0.store(true, SeqCst);
    }
}

#[test]
fn dropped_before_the_closure_starts_it_never_runs() {
    watchdog(|| {
        let rt = Builder::new_multi_thread()
            .worker_threads(1)
            .max_blocking_threads(1)
            .build()
            .unwrap();
        rt.block_on(async {
            // Occupy the pool's only thread until we say so. (This thread
            // waits for it with a std channel: it is the test's own.)
            let (started_tx, started_rx) = std::sync::mpsc::channel();
            let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
            let blocker = windlass::spawn_blocking(move || {
                started_tx.send(()).unwrap();
                release_rx.recv().unwrap();
            });
            started_rx.recv().unwrap();

            let (ran, dropped) = (
                Arc::new(AtomicBool::new(false)),
                Arc::new(AtomicBool::new(false)),
            );
            let guard = Dropped(dropped.clone());
            let mut work = to_thread({
                let ran = ran.clone();
                move || {
                    let _guard = guard;
                    ran.store(true, SeqCst);
                }
            });
            // First poll: bound and queued behind the blocker.
            assert!(poll_once(&mut work).await.is_none());
            drop(work); // owned: this cancels it
            release_tx.send(()).unwrap();
            blocker.await.unwrap();
            // The pool runs its queue in order, so the cancelled task has
            // been dealt with once a later one has run.
            windlass::spawn_blocking(|| ()).await.unwrap();
            assert!(dropped.load(SeqCst), "the closure was dropped");
            assert!(!ran.load(SeqCst), "and never ran");
        });
    });
}
