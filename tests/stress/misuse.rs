//! Misuse that used to abort or hang the process (issue #13), each run in a
//! child process with a deadline (`support::child`): an abort or a hang is
//! then a test failure, not a dead or stuck CI job.
//!
//! - two `JoinHandle`s whose outputs panic on drop, dropped together
//!   (defect 1: SIGABRT, a panic during unwinding);
//! - a panicking `on_thread_start` (defect 2: `Runtime` drop hung);
//! - a runtime dropped inside its own `spawn_blocking` closure (defect 4:
//!   the pool waited for the thread running the drop);
//! - `Semaphore::add_permits` overflowing with a waiter (defect 5: the
//!   waiter and every later `acquire` hung);
//! - a `thread_name_fn` that panics, for a pool thread (session 13: the
//!   pool counted a thread that never started, so no later closure ran and
//!   the runtime's drop hung) and for a worker in `build()` (the workers
//!   already started ran on forever);
//! - a pool thread's `on_thread_start` that panics once (session 13: no
//!   later closure got a thread, and the cancelled closure kept a paused
//!   clock from ever advancing).
//!
//! The timer under `EMFILE` (defect 3) is in `fd.rs`, with the rest
//! of the descriptor-exhaustion scenario.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use crate::support::{child, current, expect_panic, multi};
use windlass::join::JoinSet;
use windlass::runtime::Builder;
use windlass::sync::Semaphore;

/// Each child gets this long; every scenario takes well under a second.
const DEADLINE: Duration = Duration::from_secs(20);

/// An output whose destructor panics (the issue's `Bomb`).
struct Bomb;

impl Drop for Bomb {
    fn drop(&mut self) {
        panic!("boom");
    }
}

#[test]
fn bomb_handles_dropped_together_do_not_abort() {
    child::run(
        "misuse::bomb_handles_dropped_together_do_not_abort",
        DEADLINE,
        || {
            let rt = multi(2);
            // The reproduction: a Vec of two finished handles.
            let hs = vec![rt.spawn(async { Bomb }), rt.spawn(async { Bomb })];
            rt.block_on(async {
                while !hs.iter().all(|h| h.is_finished()) {
                    windlass::yield_now().await;
                }
            });
            drop(hs);
            // A JoinSet of them, dropped at once.
            let mut set = JoinSet::new();
            let aborts: Vec<_> = {
                let _guard = rt.enter();
                (0..3).map(|_| set.spawn(async { Bomb })).collect()
            };
            rt.block_on(async {
                while !aborts.iter().all(|a| a.is_finished()) {
                    windlass::yield_now().await;
                }
            });
            drop(set);
            // A task that owns two such handles, aborted while it waits: its
            // future (and the handles) are dropped by the cancelling worker.
            let inner = [rt.spawn(async { Bomb }), rt.spawn(async { Bomb })];
            rt.block_on(async {
                while !inner.iter().all(|h| h.is_finished()) {
                    windlass::yield_now().await;
                }
            });
            let owner = rt.spawn(async move {
                let _inner = inner;
                std::future::pending::<()>().await;
            });
            owner.abort();
            assert!(rt.block_on(owner).unwrap_err().is_cancelled());
            // The runtime goes on (default policy: Ignore).
            assert_eq!(rt.block_on(rt.spawn(async { 7 })).unwrap(), 7);
        },
    )
    .assert_passed();
}

#[test]
fn panicking_on_thread_start_fails_build_and_never_hangs() {
    child::run(
        "misuse::panicking_on_thread_start_fails_build_and_never_hangs",
        DEADLINE,
        || {
            // Workers start in build(): it fails with the hook's message.
            let started = Arc::new(AtomicUsize::new(0));
            let s = started.clone();
            let err = Builder::new_multi_thread()
                .worker_threads(4)
                .on_thread_start(move || {
                    // Only the second worker's hook fails: the others are
                    // running when build() has to take them down again.
                    if s.fetch_add(1, SeqCst) == 1 {
                        panic!("hook failed on purpose");
                    }
                })
                .build()
                .unwrap_err();
            let msg = err.to_string();
            assert!(
                msg.contains("on_thread_start") && msg.contains("hook failed on purpose"),
                "{msg}"
            );
            assert_eq!(started.load(SeqCst), 4, "every worker ran its hook");

            // Pool threads start later: the closure is cancelled, not lost.
            let rt = Builder::new_current_thread()
                .on_thread_start(|| panic!("pool hook failed"))
                .build()
                .unwrap();
            let err = rt.block_on(rt.spawn_blocking(|| 1)).unwrap_err();
            assert!(err.is_cancelled(), "{err:?}");
            assert_eq!(rt.handle().blocking_pool().num_threads(), 0);
            drop(rt); // returns: nothing waits for the failed thread
        },
    )
    .assert_passed();
}

#[test]
fn runtime_dropped_inside_its_own_spawn_blocking_does_not_hang() {
    child::run(
        "misuse::runtime_dropped_inside_its_own_spawn_blocking_does_not_hang",
        DEADLINE,
        || {
            for rt in [multi(2), current()] {
                let handle = rt.handle().clone();
                let (done_tx, done_rx) = std::sync::mpsc::channel();
                // A second blocking closure the shutdown must still wait for.
                let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
                let (held_tx, held_rx) = std::sync::mpsc::channel::<()>();
                handle.spawn_blocking(move || {
                    held_tx.send(()).unwrap();
                    release_rx.recv().unwrap();
                });
                held_rx.recv().unwrap();
                handle.spawn_blocking(move || {
                    release_tx.send(()).unwrap();
                    drop(rt); // shuts down; must not wait for this thread
                    done_tx.send(()).unwrap();
                });
                done_rx.recv().unwrap();
                assert!(handle.is_shutdown());
            }
        },
    )
    .assert_passed();
}

#[test]
fn semaphore_overflow_with_a_waiting_task_does_not_wedge() {
    child::run(
        "misuse::semaphore_overflow_with_a_waiting_task_does_not_wedge",
        DEADLINE,
        || {
            let rt = multi(2);
            let sem = Arc::new(Semaphore::new(0));
            let s = sem.clone();
            let (queued_tx, queued_rx) = futures_channel::oneshot::channel::<()>();
            let waiter = rt.spawn(async move {
                let mut acquire = std::pin::pin!(s.acquire());
                // Poll once (which queues it), report, then wait.
                std::future::poll_fn(|cx| {
                    assert!(acquire.as_mut().poll(cx).is_pending());
                    std::task::Poll::Ready(())
                })
                .await;
                queued_tx.send(()).unwrap();
                acquire.await.unwrap().forget();
            });
            rt.block_on(queued_rx).unwrap();
            let msg = expect_panic(|| sem.add_permits(usize::MAX));
            assert!(msg.contains("overflow"), "{msg}");
            sem.add_permits(1);
            rt.block_on(waiter).unwrap();
            // Later acquires are served.
            sem.add_permits(3);
            rt.block_on(async {
                let p = sem.acquire_many(3).await.unwrap();
                assert_eq!(p.num_permits(), 3);
            });
        },
    )
    .assert_passed();
}

/// A name function that panics once, the first time it is armed.
fn panics_once_when_armed() -> (Arc<AtomicBool>, impl Fn() -> String + Send + Sync + 'static) {
    let armed = Arc::new(AtomicBool::new(false));
    let a = armed.clone();
    (armed, move || {
        if a.swap(false, SeqCst) {
            panic!("no name today");
        }
        "named".to_string()
    })
}

#[test]
fn a_panicking_thread_name_fn_for_a_pool_thread_neither_wedges_nor_hangs() {
    child::run(
        "misuse::a_panicking_thread_name_fn_for_a_pool_thread_neither_wedges_nor_hangs",
        DEADLINE,
        || {
            let (armed, name) = panics_once_when_armed();
            let rt = Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name_fn(name)
                .build()
                .unwrap();
            armed.store(true, SeqCst);
            // No pool thread could start: the caller gets the error.
            let msg = expect_panic(|| rt.spawn_blocking(|| 1));
            assert!(msg.contains("no name today"), "{msg}");
            // The pool does not count that thread: the next closure runs.
            let (tx, rx) = std::sync::mpsc::channel();
            let _h = rt.spawn_blocking(move || tx.send(7).unwrap());
            assert_eq!(rx.recv_timeout(DEADLINE), Ok(7));
            drop(rt); // returns
        },
    )
    .assert_passed();
}

#[test]
fn a_panicking_thread_name_fn_in_build_stops_the_workers_it_started() {
    child::run(
        "misuse::a_panicking_thread_name_fn_in_build_stops_the_workers_it_started",
        DEADLINE,
        || {
            let calls = Arc::new(AtomicUsize::new(0));
            let stopped = Arc::new(AtomicUsize::new(0));
            let (c, s) = (calls.clone(), stopped.clone());
            let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
            let stop_tx = std::sync::Mutex::new(stop_tx);
            let err = Builder::new_multi_thread()
                .worker_threads(3)
                .thread_name_fn(move || {
                    // Call 0 names the reactor, 1 and 2 the first two
                    // workers; the third worker's name panics.
                    if c.fetch_add(1, SeqCst) == 3 {
                        panic!("no name today");
                    }
                    "named".to_string()
                })
                .on_thread_stop(move || {
                    s.fetch_add(1, SeqCst);
                    let _ = stop_tx.lock().unwrap().send(());
                })
                .build()
                .unwrap_err();
            assert!(err.to_string().contains("no name today"), "{err}");
            for _ in 0..2 {
                stop_rx
                    .recv_timeout(DEADLINE)
                    .expect("a worker started by the failed build stopped");
            }
            assert_eq!(stopped.load(SeqCst), 2);
        },
    )
    .assert_passed();
}

#[test]
fn a_pool_thread_whose_start_hook_panics_once_is_recovered_from() {
    child::run(
        "misuse::a_pool_thread_whose_start_hook_panics_once_is_recovered_from",
        DEADLINE,
        || {
            for paused in [false, true] {
                let armed = Arc::new(AtomicBool::new(false));
                let a = armed.clone();
                let rt = Builder::new_current_thread()
                    .start_paused(paused)
                    .on_thread_start(move || {
                        if a.swap(false, SeqCst) {
                            panic!("pool hook failed once");
                        }
                    })
                    .build()
                    .unwrap();
                armed.store(true, SeqCst);
                let err = rt.block_on(rt.spawn_blocking(|| 1)).unwrap_err();
                assert!(err.is_cancelled(), "{err:?}");
                // The hook works now: the next closure gets a thread.
                let (tx, rx) = std::sync::mpsc::channel();
                let _h = rt.spawn_blocking(move || tx.send(2).unwrap());
                assert_eq!(rx.recv_timeout(DEADLINE), Ok(2), "paused: {paused}");
                // The cancelled closure gave back its unit of the clock's
                // activity: a paused clock still jumps to the next timer.
                if paused {
                    rt.block_on(windlass::time::sleep(Duration::from_secs(3600)));
                }
            }
        },
    )
    .assert_passed();
}

/// A `spawn_blocking` that panics because no pool thread could be started
/// (here: the name function panics) refuses its closure: it must not run
/// later, when another call starts a thread, and it must not keep its unit
/// of a paused clock's activity. Before, it stayed queued: it ran at the
/// next `spawn_blocking`, and a paused clock never advanced again.
#[test]
fn a_closure_refused_for_want_of_a_thread_is_cancelled() {
    child::run(
        "misuse::a_closure_refused_for_want_of_a_thread_is_cancelled",
        DEADLINE,
        || {
            let (armed, name) = panics_once_when_armed();
            let rt = Builder::new_current_thread()
                .start_paused(true)
                .thread_name_fn(name)
                .build()
                .unwrap();
            armed.store(true, SeqCst);
            let ran = Arc::new(AtomicBool::new(false));
            let r = ran.clone();
            expect_panic(|| rt.spawn_blocking(move || r.store(true, SeqCst)));
            // A paused clock still jumps to the next timer.
            rt.block_on(windlass::time::sleep(Duration::from_secs(60)));
            // A later closure gets a thread, and the refused one never runs.
            rt.block_on(rt.spawn_blocking(|| ())).unwrap();
            drop(rt);
            assert!(!ran.load(SeqCst), "the refused closure ran after all");
        },
    )
    .assert_passed();
}
