//! Models of the multi-thread scheduler's sleep/wake protocol
//! (`runtime::multi_thread::idle`, "Why no wake-up is lost") with the real
//! `Idle` and `Parker`.
//!
//! The workers run the loop of `worker_model` (which follows `worker.rs`
//! step for step) with no reactor: sleeping workers use `Parker::park`.
//! Sleeping in the reactor is modelled in `park_driving.rs`;
//! `tests/runtime.rs` runs the real worker loop end to end.
//!
//! With mutex-guarded queues, a queue's lock already orders a push before a
//! re-check that sees it, so these models cannot show why `Idle` needs its
//! RMWs with crossbeam's lock-free deques; what they check is the rest of
//! the protocol: sleepers list, counts, parker tokens, the found-work step.
#![cfg(loom)]

// Shared by the scheduler models; each uses part of it.
#[allow(dead_code)]
mod worker_model;

use loom::sync::Arc;
use loom::sync::atomic::{AtomicBool, Ordering::*};
use loom::thread;
use windlass::loom_test_hooks::Parker;
use windlass_loom_tests::model;
use worker_model::{PLAIN, SPAWNS, Shared, finish, start};

/// Model 2, the notify step against the park step: the model thread pushes
/// a task into the injector and notifies while both workers run out of work
/// and park (each through `transition_worker_to_parked`, the re-check and
/// `Parker::park`). The task is always run: either the pusher's RMW sees a
/// sleeper and unparks it, or the parking worker's re-check sees the task.
#[test]
fn push_vs_park_two_workers() {
    model(|| {
        let shared = Arc::new(Shared::new(2, 1, false));
        let workers = start(&shared);
        shared.schedule_remote(PLAIN);
        finish(&shared, workers);
    });
}

/// Model 2 with the found-work step: the injected task pushes a second one
/// to its worker's local queue. While one worker runs it, the other is
/// searching or parking; the second task is run by whichever finds it, and
/// nobody is left asleep with it queued.
#[test]
fn local_push_vs_park_two_workers() {
    model(|| {
        let shared = Arc::new(Shared::new(2, 2, false));
        let workers = start(&shared);
        shared.schedule_remote(SPAWNS);
        finish(&shared, workers);
    });
}

/// "A searcher takes over the re-check", with three workers, so that two
/// can search at once: a parking worker that reads another searcher in the
/// word sleeps without looking at the queues, and the task pushed from
/// outside (which spawns a second one locally) must still be run. The
/// last worker to leave the search reads no searcher and re-checks. It
/// deadlocks if the re-check never looks at the queues. (Reading the
/// searchers *before* the parking worker's own RMW passes here: a searcher
/// that left the search earlier is awake and looks again after its task.
/// That version is still wrong, because that task may take long while the
/// pushed one waits with every other worker asleep; tasks here never
/// block, so the model cannot show it.)
#[test]
fn push_vs_park_three_workers_two_searching() {
    model(|| {
        let shared = Arc::new(Shared::new(3, 2, false));
        let workers = start(&shared);
        shared.schedule_remote(SPAWNS);
        finish(&shared, workers);
    });
}

/// The parker's own contract, which the park step leans on: whatever a
/// thread wrote before `unpark` is visible once `park` returns, even when
/// two unparks land while the parker is between its checks (they coalesce
/// into one token; consuming it must synchronise with the later one). The
/// parker waits for two flags, each set by its own thread before it
/// unparks; a missed flag means sleeping with no token left: a deadlock.
#[test]
fn two_unparks_vs_park() {
    model(|| {
        let parker = Arc::new(Parker::new());
        let flags = Arc::new([AtomicBool::new(false), AtomicBool::new(false)]);
        let unparkers: Vec<_> = (0..2)
            .map(|i| {
                let (parker, flags) = (parker.clone(), flags.clone());
                thread::spawn(move || {
                    flags[i].store(true, Relaxed);
                    parker.unpark();
                })
            })
            .collect();
        while !(flags[0].load(Relaxed) && flags[1].load(Relaxed)) {
            parker.park();
        }
        for u in unparkers {
            u.join().unwrap();
        }
    });
}
