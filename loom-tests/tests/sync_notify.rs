//! Models of `windlass::sync::Notify` (the wait list behind `Condition`
//! too): a notification is never lost between a check and a wait, nor with
//! a waiter that is dropped after it was picked.
#![cfg(loom)]

use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Waker};

use loom::future::block_on;
use loom::thread;
use windlass::sync::{Condition, Mutex, Notify};
use windlass_loom_tests::model;

/// `notify_one` against a waiter that is about to wait: the notification
/// reaches it as a wake or as the stored permit.
#[test]
fn notify_one_vs_notified() {
    model(|| {
        let notify = Arc::new(Notify::new());
        let n = notify.clone();
        let t = thread::spawn(move || n.notify_one());
        block_on(notify.notified());
        t.join().unwrap();
    });
}

/// A waiter, queued first, is dropped on one thread while another calls
/// `notify_one`, which may pick it: the notification must pass on to the
/// model thread's waiter (or to the permit, which that waiter then takes).
#[test]
fn picked_waiter_dropped_passes_it_on() {
    model(|| {
        // Leaked so that the first waiter, which borrows it, can move to
        // another thread (a few bytes per iteration).
        let notify: &'static Notify = Box::leak(Box::new(Notify::new()));
        let mut first = Box::pin(notify.notified());
        let polled = first.as_mut().poll(&mut Context::from_waker(Waker::noop()));
        assert!(polled.is_pending());
        let dropper = thread::spawn(move || drop(first));
        let notifier = thread::spawn(move || notify.notify_one());
        block_on(notify.notified());
        dropper.join().unwrap();
        notifier.join().unwrap();
    });
}

/// `notify_waiters` against a waiter created before it: completes even if
/// not yet polled when the call happens.
#[test]
fn notify_waiters_vs_first_poll() {
    model(|| {
        let notify = Arc::new(Notify::new());
        let notified = notify.notified();
        let n = notify.clone();
        let t = thread::spawn(move || n.notify_waiters());
        block_on(notified);
        t.join().unwrap();
    });
}

/// A condition waiter registers before unlocking, so a change made under
/// the lock and notified from another thread is never missed.
#[test]
fn condition_wait_vs_notify() {
    model(|| {
        let pair = Arc::new((Mutex::new(false), Condition::new()));
        let p = pair.clone();
        let t = thread::spawn(move || {
            *block_on(p.0.lock()) = true;
            p.1.notify(1);
        });
        let (flag, cond) = &*pair;
        let guard = block_on(cond.wait_for(block_on(flag.lock()), |ready| *ready));
        assert!(*guard);
        drop(guard);
        t.join().unwrap();
    });
}
