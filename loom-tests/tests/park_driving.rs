//! Models of a worker sleeping in the reactor (`multi_thread::worker`,
//! "Sleeping in the reactor", and `Parker::park_driving`), with the real
//! `Idle` and `Parker`.
//!
//! The workers run the loop of `worker_model` (which follows `worker.rs`)
//! with a reactor: the park step's `sleep` takes the reactor's turn if it
//! is free and waits on the simulated poller through
//! `Parker::park_driving`, else `Parker::park`. A wait that returns with
//! woken tasks takes the worker off the sleepers
//! (`transition_worker_from_poller`: awake, not searching unless a notifier
//! got there first) before the tasks are pushed to its local queue; unparking a worker whose
//! parker says it is driving also notifies the poller.
#![cfg(loom)]

// Shared by the scheduler models; each uses part of it.
#[allow(dead_code)]
mod worker_model;

use loom::sync::Arc;
use loom::sync::atomic::{AtomicBool, Ordering::*};
use loom::thread;
use windlass::loom_test_hooks::Parker;
use windlass_loom_tests::model;
use worker_model::{PLAIN, Poller, SPAWNS, Shared, finish, start};

/// Readiness arrives while two workers run out of work and go to sleep,
/// one of them in the poller: the event's task runs.
#[test]
fn event_vs_park_two_workers() {
    model(|| {
        let shared = Arc::new(Shared::new(2, 1, true));
        let workers = start(&shared);
        shared.poller.deliver(PLAIN);
        finish(&shared, workers);
    });
}

/// A task pushed from outside while the only worker sleeps in the poller:
/// the unpark must interrupt the wait (parker `DRIVING` -> notify), or the
/// push is lost. Then an event: the worker must be back in the poller.
#[test]
fn remote_push_vs_driving_one_worker() {
    model(|| {
        let shared = Arc::new(Shared::new(1, 2, true));
        let workers = start(&shared);
        shared.schedule_remote(PLAIN);
        shared.poller.deliver(PLAIN);
        finish(&shared, workers);
    });
}

/// A remote push and an event at once, with two workers: both tasks run,
/// whichever worker holds the turn.
#[test]
fn push_and_event_two_workers() {
    model(|| {
        let shared = Arc::new(Shared::new(2, 2, true));
        let workers = start(&shared);
        let s = shared.clone();
        let io = thread::spawn(move || s.poller.deliver(PLAIN));
        shared.schedule_remote(PLAIN);
        io.join().unwrap();
        finish(&shared, workers);
    });
}

/// "Woken by the poller" (idle protocol): the worker that collects the
/// event is awake but not searching, so it notifies nobody for it; its task
/// spawns a second one (queued locally) while a remote push races it. All
/// three run: the remote push's notify is not suppressed by the poller's
/// worker, and a notifier that took that worker off the sleepers first
/// leaves it searching, bound by the found-work step.
#[test]
fn event_spawns_vs_remote_push_two_workers() {
    model(|| {
        let shared = Arc::new(Shared::new(2, 3, true));
        let workers = start(&shared);
        let s = shared.clone();
        let io = thread::spawn(move || s.poller.deliver(SPAWNS));
        shared.schedule_remote(PLAIN);
        io.join().unwrap();
        finish(&shared, workers);
    });
}

/// The parker's driving contract alone: an `unpark` racing the move to
/// `DRIVING` and the wait either stops the wait from starting or interrupts
/// it through the poller's notification, and what the unparker wrote
/// before is visible after.
#[test]
fn unpark_vs_park_driving() {
    model(|| {
        let parker = Arc::new(Parker::new());
        let poller = Arc::new(Poller::default());
        let flag = Arc::new(AtomicBool::new(false));
        let unparker = {
            let (parker, poller, flag) = (parker.clone(), poller.clone(), flag.clone());
            thread::spawn(move || {
                flag.store(true, Relaxed);
                if parker.unpark_for_driving() {
                    poller.notify();
                }
            })
        };
        while !flag.load(Relaxed) {
            parker.park_driving(|| {
                poller.wait();
            });
        }
        unparker.join().unwrap();
    });
}
