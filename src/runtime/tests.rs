//! Scheduler unit tests, small enough to run under Miri (`cargo +nightly
//! miri test --lib`), which checks every unsafe access of the task cell and
//! the worker context along the way.
//!
//! Tests of the multi-thread scheduler are named `mt_*`: CI runs them under
//! Miri without its leak check, because crossbeam-epoch (inside
//! crossbeam-deque) keeps deferred garbage in a global collector by design.
//! Everything else keeps the leak check.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use super::Builder;
use crate::task::yield_now;

/// Counts drops of the value it is attached to.
struct DropCount(Arc<AtomicUsize>);

impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

fn counts() -> (Arc<AtomicUsize>, Arc<AtomicUsize>) {
    (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)))
}

#[test]
fn mt_spawn_yield_join() {
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let n = if cfg!(miri) { 20 } else { 1_000 };
    let total = rt.block_on(async move {
        let handles: Vec<_> = (0..n)
            .map(|i| {
                crate::spawn(async move {
                    for _ in 0..3 {
                        yield_now().await;
                    }
                    i
                })
            })
            .collect();
        let mut total = 0;
        for h in handles {
            total += h.await.unwrap();
        }
        total
    });
    assert_eq!(total, n * (n - 1) / 2);
    assert_eq!(rt.handle().num_alive_tasks(), 0);
}

#[test]
fn mt_wake_from_other_task_and_thread() {
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let (tx, rx) = futures_channel_like();
    let waiter = rt.spawn(rx);
    let sender = std::thread::spawn(move || tx(7));
    assert_eq!(rt.block_on(waiter).unwrap(), 7);
    sender.join().unwrap();
}

#[test]
fn mt_abort_and_shutdown_drop_each_future_once() {
    let (futures, outputs) = counts();
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let pending: Vec<_> = (0..4)
        .map(|_| {
            let guard = DropCount(futures.clone());
            rt.spawn(async move {
                let _guard = guard;
                std::future::pending::<()>().await
            })
        })
        .collect();
    pending[0].abort();
    let first = pending.into_iter().next().unwrap();
    assert!(rt.block_on(first).unwrap_err().is_cancelled());
    assert_eq!(futures.load(SeqCst), 1);
    let out = DropCount(outputs.clone());
    let done = rt.spawn(async move { out });
    let out = rt.block_on(done).unwrap();
    drop(out);
    assert_eq!(outputs.load(SeqCst), 1);
    drop(rt);
    assert_eq!(
        futures.load(SeqCst),
        4,
        "shutdown drops the remaining three"
    );
}

#[test]
fn current_thread_runs_tasks_in_block_on() {
    let rt = Builder::new_current_thread().build().unwrap();
    let here = std::thread::current().id();
    let (a, b) = rt.block_on(async {
        let a = crate::spawn(async { std::thread::current().id() });
        let b = crate::spawn(async {
            yield_now().await;
            2
        });
        (a.await.unwrap(), b.await.unwrap())
    });
    assert_eq!(a, here);
    assert_eq!(b, 2);
}

#[test]
fn mt_panic_is_caught_and_output_of_detached_task_dropped() {
    let (_, outputs) = counts();
    let rt = Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    let err = rt.block_on(rt.spawn(async { panic!("boom") })).unwrap_err();
    assert!(err.is_panic());
    let out = DropCount(outputs.clone());
    let detached = rt.spawn(async move { out });
    drop(detached);
    // The output is dropped by the worker when the task completes, or at
    // shutdown at the latest.
    drop(rt);
    assert_eq!(outputs.load(SeqCst), 1);
}

#[test]
fn mt_spawn_blocking_runs_on_pool() {
    let rt = Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    let name = rt.block_on(async {
        crate::spawn_blocking(|| std::thread::current().name().map(String::from)).await
    });
    assert_eq!(name.unwrap().as_deref(), Some("windlass-blocking"));
}

/// A minimal oneshot built from a mutex and a waker, so this module needs
/// no dev-dependency.
fn futures_channel_like() -> (
    impl FnOnce(u32) + Send,
    impl std::future::Future<Output = u32> + Send,
) {
    use std::sync::Mutex;
    use std::task::{Poll, Waker};
    type Slot = Arc<Mutex<(Option<u32>, Option<Waker>)>>;
    let slot: Slot = Arc::new(Mutex::new((None, None)));
    let tx_slot = slot.clone();
    let tx = move |v| {
        let waker = {
            let mut s = tx_slot.lock().unwrap();
            s.0 = Some(v);
            s.1.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    };
    let rx = std::future::poll_fn(move |cx| {
        let mut s = slot.lock().unwrap();
        match s.0.take() {
            Some(v) => Poll::Ready(v),
            None => {
                s.1 = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    });
    (tx, rx)
}

/// Named tasks, debug-mode extras, a dump and lost-work reports, on the
/// current-thread flavor (so Miri sees the site word, the extras box, the
/// poll counters and the owned-list walk).
#[test]
fn current_thread_debug_names_and_dump() {
    use std::sync::Mutex;
    let events = Arc::new(Mutex::new(Vec::new()));
    let log = events.clone();
    let rt = Builder::new_current_thread()
        .debug(true)
        .on_debug_event(move |e| log.lock().unwrap().push(e.to_string()))
        .build()
        .unwrap();
    let named = crate::task::Builder::new()
        .name("named")
        .spawn_on(std::future::pending::<()>(), rt.handle());
    let plain = rt.spawn(async {
        yield_now().await;
        crate::task::name()
    });
    assert_eq!(rt.block_on(plain).unwrap(), None);
    let dump = rt.handle().dump();
    assert_eq!(dump.tasks().len(), 1);
    let task = dump.get(named.id()).unwrap();
    assert_eq!(task.name(), Some("named"));
    assert_eq!(task.counters().unwrap().polls, 1);
    assert!(dump.to_string().contains("task 'named' (id "));
    let detached = rt.spawn(async { panic!("unseen") });
    drop(detached);
    rt.block_on(yield_now());
    drop(named);
    drop(rt);
    let events = events.lock().unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.starts_with("panic never retrieved")),
        "{events:?}"
    );
    assert!(
        events
            .iter()
            .any(|e| e.starts_with("pending at shutdown: task 'named'")),
        "{events:?}"
    );
}

/// Whether the scheduler behind `handle` is still allocated, as a probe
/// that holds no strong reference.
fn scheduler_alive(handle: &super::Handle) -> impl Fn() -> bool + use<> {
    let (mt, ct) = match &handle.inner {
        super::scheduler::Handle::MultiThread(h) => (Some(Arc::downgrade(h)), None),
        super::scheduler::Handle::CurrentThread(h) => (None, Some(Arc::downgrade(h))),
    };
    move || {
        mt.as_ref().is_some_and(|w| w.strong_count() > 0)
            || ct.as_ref().is_some_and(|w| w.strong_count() > 0)
    }
}

/// The blocking pool's thread-start hook holds a clone of the runtime's
/// handle, which holds the pool: the pool's shutdown drops the hook, so a
/// dropped runtime frees its scheduler (no reference cycle is left).
fn handle_freed_after_pool_use(builder: &mut Builder) {
    let rt = builder.build().unwrap();
    let on_pool_thread = rt.block_on(rt.spawn_blocking(|| super::Handle::try_current().is_ok()));
    assert!(
        on_pool_thread.unwrap(),
        "a pool thread runs inside the runtime"
    );
    let alive = scheduler_alive(rt.handle());
    assert!(alive());
    drop(rt);
    assert!(!alive(), "the runtime's scheduler outlived it");
}

#[test]
fn handle_freed_after_pool_use_current_thread() {
    handle_freed_after_pool_use(&mut Builder::new_current_thread());
}

#[test]
fn mt_handle_freed_after_pool_use() {
    handle_freed_after_pool_use(Builder::new_multi_thread().worker_threads(2));
}
