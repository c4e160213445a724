//! End-to-end models: the real multi-thread runtime, built with the public
//! `Builder`, whose worker threads are loom threads. Everything runs the
//! production code: spawn and `schedule_remote`, the worker loop with its
//! idle protocol and parker, the task harness, `block_on`'s parker, and the
//! shutdown sequence (`signal_shutdown`, the last worker's cleanup,
//! `wait_done`, joining the workers). Loom fails a model on a deadlock (a
//! lost wake-up leaves everyone asleep), on a leaked loom `Arc` (the
//! runtime's handle outliving the runtime), and on any data race on a task
//! cell.
#![cfg(loom)]

use loom::sync::Arc;
use windlass::runtime::Builder;
use windlass_loom_tests::{DropCounter, Gate, TaskBody, Wake, model};

/// Model 3, rules 1, 2, 4 and 9 plus the idle protocol, one worker: the model
/// thread spawns a task from outside (injector + notify) while the worker
/// may be on its way to sleep, then waits for the `JoinHandle` in
/// `block_on` (join waker + `block_on`'s parker). The output arrives, and
/// dropping the runtime shuts everything down.
#[test]
fn spawn_from_outside_one_worker() {
    model(|| {
        let rt = Builder::new_multi_thread()
            .worker_threads(1)
            .build()
            .unwrap();
        let future = DropCounter::new();
        let output = DropCounter::new();
        let jh = rt.spawn(TaskBody::ready(future.token(), output.token()));
        drop(rt.block_on(jh).unwrap());
        drop(rt);
        assert_eq!(future.get(), 1);
        assert_eq!(output.get(), 1);
    });
}

/// As `spawn_from_outside_one_worker`, with two workers: the notify picks a
/// sleeper while the other may be searching or parking.
#[test]
fn spawn_from_outside_two_workers() {
    model(|| {
        let rt = Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        let future = DropCounter::new();
        let output = DropCounter::new();
        let jh = rt.spawn(TaskBody::ready(future.token(), output.token()));
        drop(rt.block_on(jh).unwrap());
        drop(rt);
        assert_eq!(future.get(), 1);
        assert_eq!(output.get(), 1);
    });
}

/// Model 3, rule 5 across worker threads: with two workers, task A waits on
/// a gate and task B, possibly on the other worker, opens it and wakes A
/// through A's real waker (into B's worker's LIFO slot, or the injector
/// once that worker is shutting down). The model thread joins both.
#[test]
fn task_wakes_task_two_workers() {
    model(|| {
        let rt = Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        let drops = DropCounter::new();
        let gate = Gate::new();
        let a = rt.spawn(TaskBody::after(
            drops.token(),
            drops.token(),
            Gate::wait(&gate),
        ));
        let g = gate.clone();
        let b = rt.spawn(async move {
            g.open(Wake::ByVal);
        });
        drop(rt.block_on(a).unwrap());
        rt.block_on(b).unwrap();
        drop(rt);
        gate.clear();
        assert_eq!(drops.get(), 2);
    });
}

/// Model 3, rule 5 across threads: task A waits on a gate; task B opens it
/// and wakes A through A's real waker. With one worker the wake comes from
/// the worker's own thread (the LIFO slot path); the model thread's
/// `block_on` on A's handle must still be woken when A completes.
#[test]
fn task_wakes_task_one_worker() {
    model(|| {
        let rt = Builder::new_multi_thread()
            .worker_threads(1)
            .build()
            .unwrap();
        let drops = DropCounter::new();
        let gate = Gate::new();
        let a = rt.spawn(TaskBody::after(
            drops.token(),
            drops.token(),
            Gate::wait(&gate),
        ));
        let g = gate.clone();
        let b = rt.spawn(async move {
            g.open(Wake::ByVal);
        });
        drop(rt.block_on(a).unwrap());
        rt.block_on(b).unwrap();
        drop(rt);
        gate.clear();
        assert_eq!(drops.get(), 2);
    });
}

/// Model 3, a wake that crosses threads: the model thread opens the gate and
/// wakes task A (pending on the worker) from outside, through
/// `schedule_remote`, while the worker may be parking; then joins A.
#[test]
fn outside_wakes_task_one_worker() {
    model(|| {
        let rt = Builder::new_multi_thread()
            .worker_threads(1)
            .build()
            .unwrap();
        let drops = DropCounter::new();
        let gate = Gate::new();
        let a = rt.spawn(TaskBody::after(
            drops.token(),
            drops.token(),
            Gate::wait(&gate),
        ));
        gate.open(Wake::ByRef);
        drop(rt.block_on(a).unwrap());
        drop(rt);
        gate.clear();
        assert_eq!(drops.get(), 2);
    });
}

/// Model 3, shutdown with a task still pending: dropping the runtime
/// cancels it (rule 7, by the last worker out), its future is dropped once,
/// and nothing is left behind.
#[test]
fn drop_runtime_with_pending_task() {
    model(|| {
        let rt = Builder::new_multi_thread()
            .worker_threads(1)
            .build()
            .unwrap();
        let drops = DropCounter::new();
        let gate: Arc<Gate> = Gate::new();
        let a = rt.spawn(TaskBody::after(
            drops.token(),
            drops.token(),
            Gate::wait(&gate),
        ));
        drop(rt);
        assert!(loom::future::block_on(a).unwrap_err().is_cancelled());
        gate.clear();
        assert_eq!(drops.get(), 2);
    });
}

/// Rule 7 against a spawn: another thread spawns through a `Handle` while
/// the model thread drops the runtime. Either the spawn binds the task
/// before the owned list closes (and shutdown cancels it, or a worker runs
/// it first) or `bind` finds the list closed and cancels it at once; the
/// `JoinHandle` resolves either way, the future is dropped once, and no
/// `Notified` is left in a queue (a leaked task would leak the runtime's
/// handle, which loom reports).
#[test]
fn spawn_vs_drop_runtime() {
    model(|| {
        let rt = Builder::new_multi_thread()
            .worker_threads(1)
            .build()
            .unwrap();
        let handle = rt.handle().clone();
        let future = DropCounter::new();
        let output = DropCounter::new();
        let (f, o) = (future.clone(), output.clone());
        let spawner = loom::thread::spawn(move || {
            let jh = handle.spawn(TaskBody::ready(f.token(), o.token()));
            drop(handle);
            jh
        });
        drop(rt);
        let jh = spawner.join().unwrap();
        match loom::future::block_on(jh) {
            Ok(out) => drop(out),
            Err(e) => assert!(e.is_cancelled()),
        }
        assert_eq!(future.get(), 1);
        assert_eq!(output.get(), 1);
    });
}
