//! `Runtime::block_on`: outputs, panics, misuse inside tasks and nested
//! calls, builder validation, thread names.

use std::sync::{Arc, Mutex};

use crate::support::{current, expect_panic, multi, panic_message, watchdog};
use windlass::Runtime;
use windlass::runtime::Builder;

#[test]
fn block_on_returns_output() {
    watchdog(|| {
        for rt in [multi(2), current()] {
            assert_eq!(rt.block_on(async { 1 + 2 }), 3);
            let v = rt.block_on(async {
                windlass::yield_now().await;
                vec![String::from("a"), String::from("b")]
            });
            assert_eq!(v, ["a", "b"]);
            // A borrowed future: block_on does not need 'static or Send.
            let local = std::rc::Rc::new(5);
            let r = &local;
            assert_eq!(rt.block_on(async move { **r * 2 }), 10);
            // Repeated calls on one runtime.
            for i in 0..100 {
                assert_eq!(rt.block_on(async move { i }), i);
            }
        }
    });
}

#[test]
fn block_on_waits_for_a_wake_from_another_thread() {
    watchdog(|| {
        for rt in [multi(2), current()] {
            let (tx, rx) = futures_channel::oneshot::channel::<u32>();
            let sender = std::thread::spawn(move || tx.send(77).unwrap());
            assert_eq!(rt.block_on(rx).unwrap(), 77);
            sender.join().unwrap();
        }
    });
}

#[test]
fn panic_in_block_on_future_propagates() {
    watchdog(|| {
        for rt in [multi(2), current()] {
            let msg = expect_panic(|| {
                rt.block_on(async {
                    windlass::yield_now().await;
                    panic!("from the block_on future");
                })
            });
            assert_eq!(msg, "from the block_on future");
            // The runtime is still usable, and the thread is no longer
            // marked as inside block_on.
            assert_eq!(rt.block_on(async { 4 }), 4);
            assert_eq!(rt.block_on(rt.spawn(async { 5 })).unwrap(), 5);
        }
    });
}

#[test]
fn block_on_inside_a_task_panics_naming_await() {
    watchdog(|| {
        let rt = Arc::new(multi(2));
        let other = Arc::new(current());
        // A task that calls block_on (on another runtime, even) panics; the
        // panic comes back through its JoinHandle.
        let o = other.clone();
        let h = rt.spawn(async move { o.block_on(async { 1 }) });
        let err = rt.block_on(h).unwrap_err();
        assert!(err.is_panic());
        let msg = panic_message(&*err.into_panic());
        assert!(
            msg.contains(".await"),
            "the message should suggest .await: {msg}"
        );

        // Caught inside the task, the task itself carries on.
        let r = rt.clone();
        let h = rt.spawn(async move {
            let msg = expect_panic(|| r.block_on(async { 2 }));
            windlass::yield_now().await;
            msg
        });
        let msg = rt.block_on(h).unwrap();
        assert!(msg.contains(".await"), "{msg}");

        // Same on a current-thread runtime's task.
        let m = rt.clone();
        let h = other.spawn(async move { m.block_on(async { 3 }) });
        let err = other.block_on(h).unwrap_err();
        assert!(panic_message(&*err.into_panic()).contains(".await"));
    });
}

#[test]
fn nested_block_on_panics() {
    watchdog(|| {
        for rt in [multi(2), current()] {
            let msg = expect_panic(|| rt.block_on(async { rt.block_on(async { 1 }) }));
            assert!(msg.contains(".await"), "{msg}");
            // After the panic unwound both calls, block_on works again.
            assert_eq!(rt.block_on(async { 6 }), 6);
        }
        // Nested across two runtimes is refused too.
        let (a, b) = (multi(1), current());
        let msg = expect_panic(|| a.block_on(async { b.block_on(async { 1 }) }));
        assert!(msg.contains("cannot block_on"), "{msg}");
        let msg = expect_panic(|| b.block_on(async { a.block_on(async { 1 }) }));
        assert!(msg.contains("cannot block_on"), "{msg}");
    });
}

#[test]
fn block_on_is_allowed_on_blocking_pool_threads() {
    watchdog(|| {
        let rt = Arc::new(multi(2));
        let r = rt.clone();
        let h = rt.spawn_blocking(move || {
            r.block_on(async { windlass::spawn(async { 8 }).await.unwrap() })
        });
        assert_eq!(rt.block_on(h).unwrap(), 8);
    });
}

#[test]
fn worker_threads_zero_panics_naming_current_thread() {
    let msg = expect_panic(|| {
        Builder::new_multi_thread().worker_threads(0);
    });
    assert!(
        msg.contains("current_thread"),
        "the message should point to new_current_thread: {msg}"
    );
    let msg = expect_panic(|| {
        Builder::new_multi_thread().max_blocking_threads(0);
    });
    assert!(msg.contains("max_blocking_threads(0)"), "{msg}");
}

#[test]
fn thread_name_applies_to_workers() {
    watchdog(|| {
        let rt = Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("custom-worker")
            .build()
            .unwrap();
        let names = Arc::new(Mutex::new(Vec::new()));
        let handles: Vec<_> = (0..20)
            .map(|_| {
                let names = names.clone();
                rt.spawn(async move {
                    windlass::yield_now().await;
                    names
                        .lock()
                        .unwrap()
                        .push(std::thread::current().name().map(String::from));
                })
            })
            .collect();
        for h in handles {
            rt.block_on(h).unwrap();
        }
        let names = names.lock().unwrap();
        assert_eq!(names.len(), 20);
        assert!(
            names.iter().all(|n| n.as_deref() == Some("custom-worker")),
            "{names:?}"
        );
    });
}

#[test]
fn default_and_generated_thread_names() {
    watchdog(|| {
        let rt = multi(1);
        let name = rt.block_on(rt.spawn(async { std::thread::current().name().map(String::from) }));
        assert_eq!(name.unwrap().as_deref(), Some("windlass-worker"));

        let counter = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let c = counter.clone();
        let rt = Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name_fn(move || {
                format!(
                    "gen-{}",
                    c.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
                )
            })
            .build()
            .unwrap();
        let name = rt
            .block_on(rt.spawn(async { std::thread::current().name().map(String::from) }))
            .unwrap()
            .unwrap();
        // Every runtime thread gets a freshly generated name.
        let n: usize = name
            .strip_prefix("gen-")
            .expect("a generated name")
            .parse()
            .unwrap();
        assert!(
            n < counter.load(std::sync::atomic::Ordering::SeqCst),
            "{name}"
        );
        assert!(counter.load(std::sync::atomic::Ordering::SeqCst) >= 2);
    });
}

#[test]
fn runtime_new_has_workers_and_flavor() {
    watchdog(|| {
        let rt = Runtime::new().unwrap();
        let h = rt.handle();
        assert_eq!(
            h.runtime_flavor(),
            windlass::runtime::RuntimeFlavor::MultiThread
        );
        assert!(h.num_workers() >= 1);
        assert!(!h.is_shutdown());
        let ct = current();
        assert_eq!(
            ct.handle().runtime_flavor(),
            windlass::runtime::RuntimeFlavor::CurrentThread
        );
        assert_eq!(ct.handle().num_workers(), 1);
        // Debug impls exist and say something useful.
        assert!(format!("{rt:?}").contains("MultiThread"));
        assert!(format!("{:?}", Builder::new_current_thread()).contains("CurrentThread"));
    });
}
