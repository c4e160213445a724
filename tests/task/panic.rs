//! Panics in tasks: captured as `JoinError`, workers survive, panics in
//! destructors during cancellation, `UnhandledPanic::ShutdownRuntime`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use crate::support::{DropCounter, current, expect_panic, multi, panic_message, watchdog};
use futures_channel::oneshot;
use windlass::Runtime;
use windlass::runtime::{Builder, UnhandledPanic};

#[test]
fn panic_is_captured_as_join_error() {
    watchdog(|| {
        for rt in [multi(2), current()] {
            let n = std::hint::black_box(42);
            let h = rt.spawn(async move {
                windlass::yield_now().await;
                panic!("boom {n}");
            });
            let id = h.id();
            let err = rt.block_on(h).unwrap_err();
            assert!(err.is_panic());
            assert!(!err.is_cancelled());
            assert_eq!(err.id(), id);
            let shown = err.to_string();
            assert!(
                shown.contains("boom 42"),
                "Display should contain the message: {shown}"
            );
            assert!(format!("{err:?}").contains("boom 42"));
            let payload = err.into_panic();
            assert_eq!(
                payload.downcast_ref::<String>().map(String::as_str),
                Some("boom 42")
            );

            // A static-str payload and a non-string payload.
            let err = rt
                .block_on(rt.spawn(async { panic!("static") }))
                .unwrap_err();
            assert_eq!(*err.into_panic().downcast::<&str>().unwrap(), "static");
            let err = rt
                .block_on(rt.spawn(async { std::panic::panic_any(7u32) }))
                .unwrap_err();
            assert!(err.to_string().contains("panicked"), "{err}");
            assert_eq!(*err.into_panic().downcast::<u32>().unwrap(), 7);
        }
    });
}

#[test]
fn into_panic_on_cancelled_error_panics() {
    watchdog(|| {
        let rt = multi(2);
        let h = rt.spawn(std::future::pending::<()>());
        h.abort();
        let err = rt.block_on(h).unwrap_err();
        let msg = expect_panic(move || err.into_panic());
        assert!(msg.contains("is_panic"), "{msg}");
    });
}

#[test]
fn panics_do_not_kill_workers() {
    const N: usize = if cfg!(miri) { 4 } else { 200 };
    watchdog(|| {
        let rt = multi(2);
        let panics: Vec<_> = (0..N)
            .map(|i| rt.spawn(async move { panic!("task {i}") }))
            .collect();
        for h in panics {
            assert!(rt.block_on(h).unwrap_err().is_panic());
        }
        // Every worker is still there and runs tasks; spread the work so
        // that both workers must take part.
        let threads = Arc::new(std::sync::Mutex::new(std::collections::HashSet::new()));
        let handles: Vec<_> = (0..N)
            .map(|i| {
                let threads = threads.clone();
                rt.spawn(async move {
                    threads.lock().unwrap().insert(std::thread::current().id());
                    i
                })
            })
            .collect();
        let sum: usize = handles.into_iter().map(|h| rt.block_on(h).unwrap()).sum();
        assert_eq!(sum, N * (N - 1) / 2);
        assert!(!threads.lock().unwrap().is_empty());
        assert!(!rt.handle().is_shutdown());
        // A panic with the default policy does not shut the runtime down.
        assert_eq!(rt.block_on(async { 5 }), 5);
    });
}

#[test]
fn panic_in_drop_during_cancellation_is_captured() {
    struct PanicOnDrop;
    impl Drop for PanicOnDrop {
        fn drop(&mut self) {
            panic!("drop panicked");
        }
    }
    watchdog(|| {
        for rt in [multi(2), current()] {
            let (started_tx, started_rx) = oneshot::channel::<()>();
            let h = rt.spawn(async move {
                let _p = PanicOnDrop;
                started_tx.send(()).unwrap();
                std::future::pending::<()>().await;
            });
            rt.block_on(started_rx).unwrap();
            h.abort();
            let err = rt.block_on(h).unwrap_err();
            assert!(
                err.is_panic(),
                "a panic while dropping the cancelled future is reported: {err:?}"
            );
            assert_eq!(panic_message(&*err.into_panic()), "drop panicked");
            // The runtime is fine afterwards.
            assert_eq!(rt.block_on(rt.spawn(async { 1 })).unwrap(), 1);
        }
    });
}

#[test]
fn panic_in_drop_of_completed_future_is_captured() {
    // The future completes, then its destructor panics when the harness
    // drops it: the output is lost and the panic is reported instead.
    struct PanicOnDrop;
    impl Drop for PanicOnDrop {
        fn drop(&mut self) {
            panic!("late drop panic");
        }
    }
    watchdog(|| {
        let rt = multi(2);
        let p = PanicOnDrop;
        let h = rt.spawn(async move {
            let _keep = &p;
            7
        });
        let err = rt.block_on(h).unwrap_err();
        assert!(err.is_panic());
        assert_eq!(panic_message(&*err.into_panic()), "late drop panic");
    });
}

#[test]
fn panic_in_drop_during_shutdown_does_not_break_shutdown() {
    struct PanicOnDrop(#[allow(dead_code)] crate::support::DropToken);
    impl Drop for PanicOnDrop {
        fn drop(&mut self) {
            panic!("drop panicked at shutdown");
        }
    }
    watchdog(|| {
        let rt = multi(2);
        let drops = DropCounter::new();
        let mut handles = Vec::new();
        for _ in 0..10 {
            let p = PanicOnDrop(drops.token());
            let ok = drops.token();
            handles.push(rt.spawn(async move {
                let _p = p;
                let _ok = ok;
                std::future::pending::<()>().await;
            }));
        }
        drop(rt);
        assert_eq!(
            drops.dropped(),
            20,
            "every future dropped despite panicking destructors"
        );
        for h in handles {
            assert!(futures_lite::future::block_on(h).unwrap_err().is_panic());
        }
    });
}

/// Common body of the `ShutdownRuntime` tests for both flavors.
fn shutdown_on_panic(rt: Runtime) {
    let drops = DropCounter::new();
    let token = drops.token();
    let (cancel_tx, cancel_rx) = oneshot::channel::<()>();
    // A long-lived task that the shutdown must cancel.
    let bystander = rt.spawn(async move {
        let _token = token;
        let _tx = cancel_tx;
        std::future::pending::<()>().await;
    });
    let polled_after = Arc::new(AtomicUsize::new(0));
    let msg = expect_panic(|| {
        rt.block_on(async {
            drop(windlass::spawn(async { panic!("unhandled") }));
            // Never completes by itself: only the shutdown ends block_on.
            std::future::pending::<()>().await;
        })
    });
    assert!(
        msg.contains("UnhandledPanic"),
        "block_on's panic should name the setting: {msg}"
    );
    // The bystander is cancelled without dropping the runtime: its future's
    // drop cancels the oneshot.
    let err = futures_lite::future::block_on(bystander).unwrap_err();
    assert!(err.is_cancelled(), "{err:?}");
    // (Checked after the bystander's cancellation: on the multi-thread
    // flavor the worker that caught the panic may still be inside
    // `signal_shutdown` when block_on observes the panic flag.)
    assert!(
        rt.handle().is_shutdown(),
        "the runtime is shut down after the panic"
    );
    assert!(futures_lite::future::block_on(cancel_rx).is_err());
    assert_eq!(drops.dropped(), 1);
    // New tasks are cancelled at once.
    let p = polled_after.clone();
    let late = rt.spawn(async move {
        p.fetch_add(1, SeqCst);
    });
    assert!(late.is_finished());
    assert!(
        futures_lite::future::block_on(late)
            .unwrap_err()
            .is_cancelled()
    );
    assert_eq!(polled_after.load(SeqCst), 0);
    // block_on keeps refusing.
    let again = expect_panic(|| rt.block_on(std::future::pending::<()>()));
    assert!(again.contains("UnhandledPanic"), "{again}");
    drop(rt);
    assert_eq!(drops.dropped(), 1);
}

#[test]
fn unhandled_panic_shutdown_runtime_multi_thread() {
    watchdog(|| {
        let rt = Builder::new_multi_thread()
            .worker_threads(2)
            .unhandled_panic(UnhandledPanic::ShutdownRuntime)
            .build()
            .unwrap();
        shutdown_on_panic(rt);
    });
}

#[test]
fn unhandled_panic_shutdown_runtime_current_thread() {
    watchdog(|| {
        let rt = Builder::new_current_thread()
            .unhandled_panic(UnhandledPanic::ShutdownRuntime)
            .build()
            .unwrap();
        shutdown_on_panic(rt);
    });
}

#[test]
fn unhandled_panic_ignore_is_default() {
    assert_eq!(UnhandledPanic::default(), UnhandledPanic::Ignore);
    watchdog(|| {
        let rt = current();
        let out = rt.block_on(async {
            let h = windlass::spawn(async { panic!("ignored") });
            assert!(h.await.unwrap_err().is_panic());
            "still running"
        });
        assert_eq!(out, "still running");
        assert!(!rt.handle().is_shutdown());
    });
}

#[test]
fn panic_payload_of_aborted_task_is_not_lost() {
    // A task that panics before an abort lands: the panic wins.
    watchdog(|| {
        let rt = current();
        let h = rt.spawn(async { panic!("first") });
        let err = rt.block_on(async {
            windlass::yield_now().await;
            windlass::yield_now().await;
            h.abort();
            h.await
        });
        let err = err.unwrap_err();
        assert!(err.is_panic());
        assert_eq!(panic_message(&*err.into_panic()), "first");
    });
}

/// An output whose destructor panics.
struct PanickyOutput;
impl Drop for PanickyOutput {
    fn drop(&mut self) {
        panic!("output drop panicked");
    }
}

#[test]
fn panic_dropping_detached_output_does_not_kill_the_worker() {
    crate::support::watchdog_for(std::time::Duration::from_secs(20), || {
        // One worker: if the panic escaped the harness, this worker would be
        // gone and nothing would run any more.
        let rt = multi(1);
        let (tx, rx) = oneshot::channel::<()>();
        let h = rt.spawn(async move {
            rx.await.unwrap();
            PanickyOutput
        });
        // Detach: the runtime now drops the output, and its panic.
        drop(h);
        tx.send(()).unwrap();
        for i in 0..10 {
            assert_eq!(rt.block_on(rt.spawn(async move { i })).unwrap(), i);
        }
        assert!(!rt.handle().is_shutdown());
        assert_eq!(rt.handle().num_alive_tasks(), 0);
    });
}

#[test]
fn panic_dropping_detached_output_on_current_thread_is_contained() {
    crate::support::watchdog_for(std::time::Duration::from_secs(20), || {
        let rt = current();
        drop(rt.spawn(async { PanickyOutput }));
        // Running that task inside this block_on must not make it panic.
        let out = rt.block_on(async {
            windlass::yield_now().await;
            windlass::spawn(async { 3 }).await.unwrap()
        });
        assert_eq!(out, 3);
    });
}

/// Waits (through the runtime) until `h` has finished.
fn wait_finished<T>(rt: &Runtime, h: &windlass::task::JoinHandle<T>) {
    rt.block_on(async {
        while !h.is_finished() {
            windlass::yield_now().await;
        }
    });
}

/// Issue #13, defect 1: dropping the `JoinHandle` of a finished task whose
/// output panics on drop used to re-raise that panic in the dropping
/// thread (and two such handles dropped together aborted the process; that
/// case runs in a child process in `tests/stress/misuse.rs`). Now the drop
/// returns normally and the panic goes to the unhandled-panic policy, like
/// a panic inside a task.
#[test]
fn dropping_a_finished_handle_reports_the_output_panic_to_the_policy() {
    crate::support::watchdog_for(std::time::Duration::from_secs(20), || {
        for policy in [UnhandledPanic::Ignore, UnhandledPanic::ShutdownRuntime] {
            let rts = [
                Builder::new_multi_thread()
                    .worker_threads(1)
                    .unhandled_panic(policy)
                    .build()
                    .unwrap(),
                Builder::new_current_thread()
                    .unhandled_panic(policy)
                    .build()
                    .unwrap(),
            ];
            for rt in rts {
                let h = rt.spawn(async { PanickyOutput });
                wait_finished(&rt, &h);
                let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(h)));
                assert!(dropped.is_ok(), "JoinHandle::drop must not unwind");
                if policy == UnhandledPanic::ShutdownRuntime {
                    // As after a task's panic: the next block_on says so.
                    let msg = expect_panic(|| rt.block_on(std::future::pending::<()>()));
                    assert!(msg.contains("ShutdownRuntime"), "{msg}");
                    assert!(rt.handle().is_shutdown());
                } else {
                    assert_eq!(rt.block_on(rt.spawn(async { 9 })).unwrap(), 9);
                    assert!(!rt.handle().is_shutdown());
                }
            }
        }
    });
}

/// The detached case goes to the policy too (it was silently dropped).
#[test]
fn panic_dropping_detached_output_goes_to_the_policy() {
    crate::support::watchdog_for(std::time::Duration::from_secs(20), || {
        let rt = Builder::new_multi_thread()
            .worker_threads(1)
            .unhandled_panic(UnhandledPanic::ShutdownRuntime)
            .build()
            .unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        drop(rt.spawn(async move {
            rx.await.unwrap();
            PanickyOutput
        }));
        tx.send(()).unwrap();
        let msg = expect_panic(|| rt.block_on(std::future::pending::<()>()));
        assert!(msg.contains("ShutdownRuntime"), "{msg}");
        assert!(rt.handle().is_shutdown());
    });
}

/// A value whose destructor panics.
struct PanicOnDrop(&'static str);
impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        panic!("{}", self.0);
    }
}

/// A future that holds a `PanicOnDrop` and returns another one: the
/// harness drops the future after `Ready` (its destructor panics), so the
/// output can never be delivered and must be dropped too.
struct ReadyThenPanicOnDrop {
    _guard: PanicOnDrop,
}
impl std::future::Future for ReadyThenPanicOnDrop {
    type Output = PanicOnDrop;
    fn poll(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<PanicOnDrop> {
        std::task::Poll::Ready(PanicOnDrop("output drop panicked"))
    }
}

/// Task rule 4 / `store_output`: when a completed future's destructor
/// panics, the output it returned is dropped too; a panic from *that*
/// destructor is contained like every other destructor panic of the
/// harness (the JoinHandle resolves, the worker survives). Before, it
/// unwound out of the poll with `RUNNING` still held: the worker thread
/// died and the handle never resolved.
#[test]
fn output_dropped_after_the_future_destructor_panicked_is_contained() {
    watchdog(|| {
        let rts: [(&str, Runtime); 2] = [("multi", multi(1)), ("current", current())];
        for (flavor, rt) in rts {
            let h = rt.spawn(ReadyThenPanicOnDrop {
                _guard: PanicOnDrop("future drop panicked"),
            });
            // Await from a plain thread, with a limit: a task left RUNNING
            // never completes.
            let (tx, rx) = std::sync::mpsc::channel();
            let handle = rt.handle().clone();
            std::thread::spawn(move || {
                let _ = tx.send(futures_lite::future::block_on(h).map(drop));
            });
            if flavor == "current" {
                // The current-thread runtime runs tasks inside block_on only.
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    rt.block_on(async {
                        for _ in 0..10 {
                            windlass::yield_now().await;
                        }
                    })
                }));
                assert!(
                    r.is_ok(),
                    "{flavor}: block_on unwound: {:?}",
                    r.err().map(|p| panic_message(&*p))
                );
            }
            let got = rx
                .recv_timeout(std::time::Duration::from_secs(5))
                .unwrap_or_else(|_| panic!("{flavor}: the JoinHandle never resolved"));
            let err = got.expect_err("the future's destructor panicked");
            assert!(err.is_panic(), "{flavor}: {err:?}");
            // The runtime still runs tasks.
            assert_eq!(
                rt.block_on(handle.spawn(async { 5 })).unwrap(),
                5,
                "{flavor}"
            );
        }
    });
}

/// Review (session 13, scheduler): a `JoinHandle` polled once by a foreign
/// executor whose waker panics when dropped, then dropped itself (a
/// timeout around the join, say). The join waker slot keeps its clone
/// until the cell is freed; the task then completes on a worker, whose
/// `complete` releases the last references and frees the cell outside any
/// `catch_unwind`. The destructor's panic unwinds into the worker loop and
/// the worker thread dies (with one worker the runtime shuts itself down),
/// unlike a panic from a detached output's destructor
/// (`panic_dropping_detached_output_does_not_kill_the_worker`).
#[test]
fn a_join_waker_that_panics_when_dropped_does_not_kill_the_worker() {
    use std::future::Future;
    crate::support::watchdog_for(std::time::Duration::from_secs(20), || {
        let rt = multi(1);
        let (tx, rx) = oneshot::channel::<()>();
        let mut h = rt.spawn(async move {
            rx.await.unwrap();
        });
        {
            let waker = std::task::Waker::from(Arc::new(crate::support::PanicOnLastDrop));
            let mut cx = std::task::Context::from_waker(&waker);
            assert!(std::pin::Pin::new(&mut h).poll(&mut cx).is_pending());
            // Our clone goes; the join waker slot holds the last one.
        }
        drop(h);
        tx.send(()).unwrap();
        for i in 0..10 {
            let out = rt.block_on(rt.spawn(async move { i }));
            assert_eq!(out.ok(), Some(i), "the runtime lost its worker");
        }
        assert!(!rt.handle().is_shutdown());
    });
}

/// Review (session 13, scheduler): the same join waker, on a task that
/// shutdown cancels. The last worker out frees the cell inside
/// `close_and_shutdown`; the destructor's panic unwound out of the
/// cleanup, which never set `done`, and dropping the runtime waited for
/// it forever.
#[test]
fn a_join_waker_that_panics_when_dropped_does_not_hang_shutdown() {
    use std::future::Future;
    crate::support::watchdog_for(std::time::Duration::from_secs(20), || {
        let rt = multi(2);
        let mut h = rt.spawn(std::future::pending::<()>());
        {
            let waker = std::task::Waker::from(Arc::new(crate::support::PanicOnLastDrop));
            let mut cx = std::task::Context::from_waker(&waker);
            assert!(std::pin::Pin::new(&mut h).poll(&mut cx).is_pending());
        }
        drop(h);
        drop(rt);
    });
}
