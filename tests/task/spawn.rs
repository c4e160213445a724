//! Spawning: from `block_on`, from tasks, outside a runtime, under
//! `Runtime::enter`; task ids; auto traits of the public types.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use crate::support::{current, expect_panic, multi, watchdog};
use windlass::runtime::Handle;
use windlass::task::{AbortHandle, Id};
use windlass::{JoinError, JoinHandle, Runtime};

#[test]
fn spawn_from_block_on() {
    watchdog(|| {
        let rt = multi(2);
        let out = rt.block_on(async {
            let handles: Vec<_> = (0..100u64)
                .map(|i| windlass::spawn(async move { i * 3 }))
                .collect();
            let mut sum = 0;
            for h in handles {
                sum += h.await.unwrap();
            }
            sum
        });
        assert_eq!(out, 3 * (0..100u64).sum::<u64>());
    });
}

#[test]
fn spawn_from_runtime_and_handle_outside_block_on() {
    watchdog(|| {
        let rt = multi(2);
        let a = rt.spawn(async { "runtime" });
        let b = rt.handle().spawn(async { "handle" });
        assert_eq!(rt.block_on(a).unwrap(), "runtime");
        assert_eq!(rt.block_on(b).unwrap(), "handle");
    });
}

#[test]
fn nested_spawns_from_tasks() {
    // A tree of depth 6 and fan-out 3, every node spawning its children from
    // inside a task: 1 + 3 + ... + 3^6 = 1093 tasks.
    fn node(
        depth: u32,
        count: Arc<AtomicUsize>,
    ) -> std::pin::Pin<Box<dyn Future<Output = usize> + Send>> {
        Box::pin(async move {
            count.fetch_add(1, SeqCst);
            if depth == 0 {
                return 1;
            }
            let children: Vec<_> = (0..3)
                .map(|_| windlass::spawn(node(depth - 1, count.clone())))
                .collect();
            let mut total = 1;
            for c in children {
                total += c.await.unwrap();
            }
            total
        })
    }
    watchdog(|| {
        let rt = multi(2);
        let count = Arc::new(AtomicUsize::new(0));
        let total = rt.block_on(node(6, count.clone()));
        assert_eq!(total, 1093);
        assert_eq!(count.load(SeqCst), 1093);
    });
}

#[test]
fn spawn_on_current_thread_from_tasks() {
    watchdog(|| {
        let rt = current();
        let out = rt.block_on(async {
            let outer = windlass::spawn(async {
                let inner = windlass::spawn(async { 40 });
                inner.await.unwrap() + 2
            });
            outer.await.unwrap()
        });
        assert_eq!(out, 42);
    });
}

#[test]
fn spawn_outside_runtime_panics_naming_handle_spawn() {
    // Not inside any runtime on this (fresh) thread.
    let msg = std::thread::spawn(|| expect_panic(|| windlass::spawn(async {})))
        .join()
        .unwrap();
    assert!(
        msg.contains("Handle::spawn"),
        "panic message should name Handle::spawn: {msg}"
    );
}

#[test]
fn spawn_blocking_outside_runtime_panics() {
    let msg = std::thread::spawn(|| expect_panic(|| windlass::spawn_blocking(|| ())))
        .join()
        .unwrap();
    assert!(msg.contains("outside a windlass runtime"), "{msg}");
}

#[test]
fn enter_makes_spawn_work() {
    watchdog(|| {
        let rt = multi(2);
        {
            let _guard = rt.enter();
            let h = windlass::spawn(async { 7 });
            assert_eq!(futures_lite::future::block_on(h).unwrap(), 7);
            // spawn_blocking too.
            let b = windlass::spawn_blocking(|| 8);
            assert_eq!(futures_lite::future::block_on(b).unwrap(), 8);
        }
        // The guard is gone: spawn panics again.
        let msg = expect_panic(|| windlass::spawn(async {}));
        assert!(msg.contains("Handle::spawn"), "{msg}");
        assert!(Handle::try_current().is_err());
    });
}

#[test]
fn enter_guards_nest_and_restore() {
    watchdog(|| {
        let a = multi(2);
        let b = current();
        let _ga = a.enter();
        assert_eq!(
            Handle::current().runtime_flavor(),
            windlass::runtime::RuntimeFlavor::MultiThread
        );
        {
            let _gb = b.enter();
            assert_eq!(
                Handle::current().runtime_flavor(),
                windlass::runtime::RuntimeFlavor::CurrentThread
            );
        }
        assert_eq!(
            Handle::current().runtime_flavor(),
            windlass::runtime::RuntimeFlavor::MultiThread
        );
    });
}

#[test]
fn task_id_matches_join_handle_id() {
    watchdog(|| {
        let rt = multi(2);
        let handles: Vec<_> = (0..50)
            .map(|_| rt.spawn(async { windlass::task::id() }))
            .collect();
        let mut seen = std::collections::HashSet::new();
        for h in handles {
            let expected = h.id();
            let got = rt.block_on(h).unwrap();
            assert_eq!(got, expected);
            assert!(seen.insert(got), "task ids must be unique");
        }
        // The id is stable across polls (yields may move the task to another worker).
        let h = rt.spawn(async {
            let first = windlass::task::id();
            for _ in 0..10 {
                windlass::yield_now().await;
                assert_eq!(windlass::task::id(), first);
            }
            first
        });
        let id = h.id();
        assert_eq!(rt.block_on(h).unwrap(), id);
        // The abort handle reports the same id.
        let h = rt.spawn(std::future::pending::<()>());
        assert_eq!(h.abort_handle().id(), h.id());
        h.abort();
    });
}

#[test]
fn try_id_is_none_outside_tasks() {
    assert_eq!(windlass::task::try_id(), None);
    let msg = expect_panic(windlass::task::id);
    assert!(msg.contains("outside a task"), "{msg}");
    watchdog(|| {
        let rt = multi(2);
        // block_on's own future is not a task.
        assert_eq!(rt.block_on(async { windlass::task::try_id() }), None);
        // Inside a task it is Some, and after the task it is None again.
        let id: Option<Id> = rt
            .block_on(rt.spawn(async { windlass::task::try_id() }))
            .unwrap();
        assert!(id.is_some());
        assert_eq!(windlass::task::try_id(), None);
        let ct = current();
        let inner = ct.block_on(async {
            let h = windlass::spawn(async { windlass::task::try_id() });
            let id = h.id();
            let got = h.await.unwrap();
            // Back in block_on's future on the same thread: no task.
            (got == Some(id), windlass::task::try_id())
        });
        assert_eq!(inner, (true, None));
    });
}

#[test]
fn spawned_future_output_types() {
    watchdog(|| {
        let rt = multi(2);
        let v = rt.block_on(rt.spawn(async { vec![1u8; 1000] })).unwrap();
        assert_eq!(v.len(), 1000);
        let unit: () = rt.block_on(rt.spawn(async {})).unwrap();
        let _: () = unit;
        let s = rt
            .block_on(rt.spawn(async { String::from("owned") }))
            .unwrap();
        assert_eq!(s, "owned");
    });
}

// Compile-time auto-trait checks.
#[allow(dead_code)]
fn assert_send<T: Send>() {}
#[allow(dead_code)]
fn assert_sync<T: Sync>() {}

#[test]
fn public_types_are_send_and_sync() {
    assert_send::<Handle>();
    assert_sync::<Handle>();
    assert_send::<JoinHandle<u32>>();
    assert_sync::<JoinHandle<u32>>();
    assert_send::<JoinHandle<String>>();
    assert_send::<AbortHandle>();
    assert_sync::<AbortHandle>();
    assert_send::<JoinError>();
    assert_sync::<JoinError>();
    assert_send::<Runtime>();
    assert_sync::<Runtime>();
    assert_send::<Id>();
    assert_sync::<Id>();
    assert_send::<windlass::blocking::BlockingHandle>();
    assert_sync::<windlass::blocking::BlockingHandle>();
    assert_send::<windlass::blocking::BlockingPool>();
    assert_sync::<windlass::blocking::BlockingPool>();
    // JoinHandle<T> is Unpin whatever T is, so it can be polled by `&mut`.
    fn assert_unpin<T: Unpin>() {}
    assert_unpin::<JoinHandle<std::marker::PhantomPinned>>();
}
