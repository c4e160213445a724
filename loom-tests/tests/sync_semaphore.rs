//! Models of the fair semaphore's protocol (rules 1-9 in
//! `windlass::sync::semaphore`), on the real `Semaphore` and `Mutex`. Loom
//! fails a model on a lost wake-up (a `block_on` that never wakes is a
//! deadlock), and each model checks that no permit is lost or doubled.
#![cfg(loom)]

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Waker};

use loom::cell::UnsafeCell;
use loom::future::block_on;
use loom::sync::atomic::{AtomicBool, Ordering::SeqCst};
use loom::thread;
use windlass::sync::{Mutex, Semaphore};
use windlass_loom_tests::model;

/// Rule 3 against rule 2: a task queues for a permit while another thread
/// releases one on the fast path. Either the release lands first (the
/// enqueue CAS fails and re-reads) or it sees `QUEUED` and hands the permit
/// over; the waiter is woken either way.
#[test]
fn enqueue_vs_fast_release() {
    model(|| {
        let sem = Arc::new(Semaphore::new(0));
        let s = sem.clone();
        let t = thread::spawn(move || s.add_permits(1));
        let permit = block_on(sem.acquire()).unwrap();
        drop(permit);
        t.join().unwrap();
        assert_eq!(sem.available_permits(), 1);
    });
}

/// Rule 3 without the CAS: a waiter that finds the word exactly `QUEUED`
/// (another waits ahead of it) links itself without writing the word,
/// while another thread releases one permit and then a second. The
/// releases cannot touch a queued word outside the mutex (rule 2 leaves
/// it alone), so the first release serves the older waiter and the second
/// the newer one (or, if the second waiter is not linked yet, deposits
/// into an emptied list and that waiter takes the permit on its fast
/// path). Both are woken; no permit is lost or doubled.
#[test]
fn second_waiter_links_without_the_cas_vs_release() {
    model(|| {
        let sem = Arc::new(Semaphore::new(0));
        // The older waiter queues first, on this thread: the word is now
        // exactly QUEUED.
        let mut older = Box::pin(sem.clone().acquire_owned());
        let mut cx = Context::from_waker(Waker::noop());
        assert!(older.as_mut().poll(&mut cx).is_pending());
        let s = sem.clone();
        let newer = thread::spawn(move || drop(block_on(s.acquire()).unwrap()));
        let s = sem.clone();
        let releaser = thread::spawn(move || {
            s.add_permits(1);
            s.add_permits(1);
        });
        let older = block_on(older).unwrap();
        assert_eq!(older.num_permits(), 1);
        releaser.join().unwrap();
        newer.join().unwrap();
        drop(older);
        assert_eq!(sem.available_permits(), 2);
    });
}

/// Two tasks contend for a mutex (one permit) while the model thread takes
/// it too: mutual exclusion holds, every increment lands, and the hand-off
/// between queued waiters (rule 4) wakes each of them.
#[test]
fn mutex_three_lockers() {
    model(|| {
        let m = Arc::new(Mutex::new(0usize));
        let inside = Arc::new(AtomicBool::new(false));
        let lockers: Vec<_> = (0..2)
            .map(|_| {
                let (m, inside) = (m.clone(), inside.clone());
                thread::spawn(move || {
                    let mut g = block_on(m.lock());
                    assert!(!inside.swap(true, SeqCst), "two holders");
                    *g += 1;
                    inside.store(false, SeqCst);
                })
            })
            .collect();
        {
            let mut g = block_on(m.lock());
            assert!(!inside.swap(true, SeqCst), "two holders");
            *g += 1;
            inside.store(false, SeqCst);
        }
        for t in lockers {
            t.join().unwrap();
        }
        assert_eq!(*block_on(m.lock()), 3);
    });
}

/// Rule 6 against rule 4: a waiter for 2 permits, holding a down payment
/// of 1, is dropped while another thread releases the other permit. The
/// released permit and the down payment both come back.
#[test]
fn cancel_vs_release() {
    model(|| {
        let sem = Arc::new(Semaphore::new(2));
        let held = sem.clone().try_acquire_owned().unwrap();
        let t = thread::spawn(move || drop(held));
        {
            let mut acquire = pin!(sem.acquire_many(2));
            let mut cx = Context::from_waker(Waker::noop());
            // Pending (down payment of 1, or 0 if the release already came
            // and it got both).
            if let std::task::Poll::Ready(p) = acquire.as_mut().poll(&mut cx) {
                drop(p.unwrap());
            }
        }
        t.join().unwrap();
        assert_eq!(sem.available_permits(), 2);
    });
}

/// Rule 7: `close` while a task waits or is about to: the waiter fails or
/// (if it got in first) succeeds, and is woken either way.
#[test]
fn close_vs_acquire() {
    model(|| {
        let sem = Arc::new(Semaphore::new(0));
        let s = sem.clone();
        let t = thread::spawn(move || s.close());
        let result = block_on(sem.acquire());
        assert!(result.is_err());
        t.join().unwrap();
        assert!(sem.is_closed());
        assert_eq!(sem.available_permits(), 0);
    });
}

/// A waiter for 2 permits is served by two releases on two threads: one
/// assigns a partial payment, the other completes it (or both race the
/// waiter's enqueue).
#[test]
fn acquire_many_two_releasers() {
    model(|| {
        let sem = Arc::new(Semaphore::new(0));
        let releasers: Vec<_> = (0..2)
            .map(|_| {
                let s = sem.clone();
                thread::spawn(move || s.add_permits(1))
            })
            .collect();
        let permit = block_on(sem.acquire_many(2)).unwrap();
        assert_eq!(permit.num_permits(), 2);
        drop(permit);
        for t in releasers {
            t.join().unwrap();
        }
        assert_eq!(sem.available_permits(), 2);
    });
}

/// Rule 9: a waiter served by a release on another thread learns it from
/// `granted`, without the mutex, and must then see what the releaser wrote
/// before releasing. The write is a plain (non-atomic) cell, so loom reports
/// a data race if the served waiter's read is not ordered after it: it
/// fails with rule 4's `Release` store (or rule 9's `Acquire` load)
/// weakened to `Relaxed`. (If the release comes first, the fast acquire of
/// rule 1 carries the write instead.)
#[test]
fn served_waiter_sees_the_releasers_writes() {
    model(|| {
        let sem = Arc::new(Semaphore::new(0));
        let data = Arc::new(UnsafeCell::new(0usize));
        let (s, d) = (sem.clone(), data.clone());
        let t = thread::spawn(move || {
            // SAFETY: the only access before the permit is released; the
            // reader waits for that permit.
            d.with_mut(|p| unsafe { *p = 7 });
            s.add_permits(1);
        });
        let permit = block_on(sem.acquire()).unwrap();
        // SAFETY: ordered after the write by the permit hand-off.
        assert_eq!(data.with(|p| unsafe { *p }), 7);
        drop(permit);
        t.join().unwrap();
        assert_eq!(sem.available_permits(), 1);
    });
}

/// Rules 4, 6 and 9: a queued waiter is dropped while another thread
/// releases the permit it waits for, and a newer waiter may by then hold
/// the slot the release freed. Whether the drop comes before the release
/// (it frees its own slot) or after it (it was served: it passes its
/// permit on without touching the slot, now the newer waiter's), the
/// newer waiter gets the permit and is woken.
#[test]
fn served_waiter_dropped_while_its_slot_is_reused() {
    model(|| {
        let sem = Arc::new(Semaphore::new(1));
        let held = sem.clone().try_acquire_owned().unwrap();
        let mut cx = Context::from_waker(Waker::noop());
        let mut first = Box::pin(sem.acquire());
        assert!(first.as_mut().poll(&mut cx).is_pending());
        let t = thread::spawn(move || drop(held));
        let mut second = Box::pin(sem.acquire());
        // Pending: the first waiter, queued or served, is ahead of it
        // until dropped.
        assert!(second.as_mut().poll(&mut cx).is_pending());
        drop(first);
        let permit = block_on(second).unwrap();
        drop(permit);
        t.join().unwrap();
        assert_eq!(sem.available_permits(), 1);
    });
}
