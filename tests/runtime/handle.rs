//! `Handle`: finding the current runtime, spawning from foreign threads,
//! outliving the runtime.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use crate::support::{current, expect_panic, multi, watchdog};
use windlass::runtime::{Handle, RuntimeFlavor};

#[test]
fn current_inside_tasks_and_block_on() {
    watchdog(|| {
        for rt in [multi(2), current()] {
            let flavor = rt.handle().runtime_flavor();
            // In block_on's future.
            let h = rt.block_on(async { Handle::current() });
            assert_eq!(h.runtime_flavor(), flavor);
            // In a task; the handle found there spawns onto the same runtime.
            let out = rt.block_on(rt.spawn(async {
                let h = Handle::current();
                let inner = h.spawn(async { windlass::task::id() });
                let id = inner.id();
                (inner.await.unwrap() == id, h.runtime_flavor())
            }));
            assert_eq!(out.unwrap(), (true, flavor));
            // On a blocking-pool thread.
            let f = rt
                .block_on(rt.spawn_blocking(|| Handle::try_current().map(|h| h.runtime_flavor())));
            assert_eq!(f.unwrap(), Ok(flavor));
        }
    });
}

#[test]
fn handle_current_identifies_the_right_runtime() {
    watchdog(|| {
        let a = multi(1);
        let b = multi(1);
        let a_alive = a.handle().clone();
        // A long-running task on `a` makes `a` count one alive task.
        let (tx, rx) = futures_channel::oneshot::channel::<()>();
        let waiting = a.spawn(async move {
            let _ = rx.await;
        });
        let seen = b.block_on(b.spawn(async { Handle::current().num_alive_tasks() }));
        // On `b`, the current handle is `b`'s: only the task asking runs there.
        assert_eq!(seen.unwrap(), 1);
        assert_eq!(a_alive.num_alive_tasks(), 1);
        tx.send(()).unwrap();
        a.block_on(waiting).unwrap();
        assert_eq!(a_alive.num_alive_tasks(), 0);
    });
}

#[test]
fn try_current_outside_runtime_errors_naming_enter() {
    let res = std::thread::spawn(|| {
        let err = Handle::try_current().unwrap_err();
        let msg = expect_panic(Handle::current);
        (err.to_string(), msg)
    })
    .join()
    .unwrap();
    let (display, panic_msg) = res;
    assert!(
        display.contains("Runtime::enter"),
        "the error should name Runtime::enter: {display}"
    );
    assert!(panic_msg.contains("Runtime::enter"), "{panic_msg}");
    // It is a std error.
    let e: Box<dyn std::error::Error> = Box::new(Handle::try_current().unwrap_err());
    assert!(!e.to_string().is_empty());
}

#[test]
fn handle_enter_makes_it_current() {
    watchdog(|| {
        let rt = current();
        let handle = rt.handle().clone();
        assert!(Handle::try_current().is_err());
        {
            let _g = handle.enter();
            assert_eq!(
                Handle::current().runtime_flavor(),
                RuntimeFlavor::CurrentThread
            );
            let h = windlass::spawn(async { 12 });
            // The task waits in the queue until a block_on drives the runtime.
            assert!(!h.is_finished());
            assert_eq!(rt.block_on(h).unwrap(), 12);
        }
        assert!(Handle::try_current().is_err());
    });
}

#[test]
fn spawn_from_four_foreign_threads() {
    const PER_THREAD: usize = if cfg!(miri) { 10 } else { 2_000 };
    watchdog(|| {
        let rt = multi(2);
        let ran = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let handle = rt.handle().clone();
                let ran = ran.clone();
                std::thread::spawn(move || {
                    let handles: Vec<_> = (0..PER_THREAD)
                        .map(|i| {
                            let ran = ran.clone();
                            handle.spawn(async move {
                                if i % 3 == 0 {
                                    windlass::yield_now().await;
                                }
                                ran.fetch_add(1, SeqCst);
                                t * PER_THREAD + i
                            })
                        })
                        .collect();
                    handles
                        .into_iter()
                        .map(|h| futures_lite::future::block_on(h).unwrap())
                        .sum::<usize>()
                })
            })
            .collect();
        let total: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
        let n = 4 * PER_THREAD;
        assert_eq!(total, n * (n - 1) / 2);
        assert_eq!(ran.load(SeqCst), n);
        assert_eq!(rt.handle().num_alive_tasks(), 0);
    });
}

#[test]
fn spawn_onto_current_thread_runtime_from_foreign_threads() {
    watchdog(|| {
        let rt = current();
        let handles: Vec<_> = (0..4u32)
            .map(|t| {
                let handle = rt.handle().clone();
                std::thread::spawn(move || handle.spawn(async move { t * 10 }))
            })
            .map(|th| th.join().unwrap())
            .collect();
        let sum = rt.block_on(async {
            let mut sum = 0;
            for h in handles {
                sum += h.await.unwrap();
            }
            sum
        });
        assert_eq!(sum, 60);
    });
}

#[test]
fn handle_used_after_runtime_dropped() {
    watchdog(|| {
        for rt in [multi(2), current()] {
            let handle = rt.handle().clone();
            let clone = handle.clone();
            drop(rt);
            assert!(handle.is_shutdown());
            let h = clone.spawn(async { 1 });
            assert!(h.is_finished());
            assert!(
                futures_lite::future::block_on(h)
                    .unwrap_err()
                    .is_cancelled()
            );
            // From another thread too.
            let from_thread = std::thread::spawn(move || {
                futures_lite::future::block_on(clone.spawn(async { 2 }))
            })
            .join()
            .unwrap();
            assert!(from_thread.unwrap_err().is_cancelled());
            // Entering a dead runtime's handle still lets spawn return.
            let _g = handle.enter();
            assert!(
                futures_lite::future::block_on(windlass::spawn(async { 3 }))
                    .unwrap_err()
                    .is_cancelled()
            );
            assert_eq!(handle.num_alive_tasks(), 0);
        }
    });
}

#[test]
fn handle_debug_and_metrics() {
    watchdog(|| {
        let rt = multi(2);
        let h = rt.handle();
        assert_eq!(h.num_workers(), 2);
        assert_eq!(h.num_alive_tasks(), 0);
        let (tx, rx) = futures_channel::oneshot::channel::<()>();
        let t = rt.spawn(async move {
            let _ = rx.await;
        });
        assert_eq!(h.num_alive_tasks(), 1);
        let dbg = format!("{h:?}");
        assert!(
            dbg.contains("MultiThread") && dbg.contains("alive_tasks"),
            "{dbg}"
        );
        tx.send(()).unwrap();
        rt.block_on(t).unwrap();
        assert_eq!(h.num_alive_tasks(), 0, "a joined task is no longer alive");
    });
}

/// `EnterGuard`s dropped out of order panic with the rule, as tokio's do,
/// and once every guard is gone the thread is outside every runtime again.
/// Before session 13 the drop restored the state the guard saw, with no
/// panic, and the thread was left inside a runtime for good. (A guard sent to
/// another thread no longer compiles: see the `compile_fail` example on
/// `EnterGuard`.)
#[test]
fn enter_guards_dropped_out_of_order_panic_naming_the_rule() {
    let a = current();
    let b = current();
    let ga = a.enter();
    let gb = b.enter();
    let msg = expect_panic(move || drop(ga));
    assert!(msg.contains("out of order"), "{msg}");
    assert!(Handle::try_current().is_ok(), "b's guard is still alive");
    drop(gb);
    // The thread is back where it started: outside every runtime.
    assert!(Handle::try_current().is_err());
}
