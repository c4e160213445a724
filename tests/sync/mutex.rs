//! `sync::Mutex` and `sync::RwLock`: mutual exclusion under contention on
//! every worker, FIFO hand-off, owned guards, blocking forms, the
//! cooperative budget, and cancelled lockers.

use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::task::{Context, Poll};

use crate::support::{counting_waker, current, expect_panic, multi, panic_message, watchdog};
use futures_lite::future;
use windlass::sync::{Mutex, MutexGuard, OwnedMutexGuard, RwLock};
use windlass::task::yield_now;

fn assert_send_sync<T: Send + Sync>() {}
fn assert_send<T: Send>() {}
fn assert_send_value<T: Send>(_: &T) {}

#[test]
fn types_are_send_and_sync() {
    assert_send_sync::<Mutex<Vec<u8>>>();
    assert_send_sync::<MutexGuard<'static, Vec<u8>>>();
    assert_send_sync::<OwnedMutexGuard<Vec<u8>>>();
    assert_send_sync::<RwLock<Vec<u8>>>();
    assert_send_sync::<windlass::sync::RwLockReadGuard<'static, u8>>();
    assert_send_sync::<windlass::sync::RwLockWriteGuard<'static, u8>>();
    // A `Cell` is Send but not Sync: the mutex makes it shareable, and its
    // guard can move between workers.
    assert_send_sync::<Mutex<std::cell::Cell<u8>>>();
    assert_send::<MutexGuard<'static, std::cell::Cell<u8>>>();
    let m = Mutex::new(0);
    assert_send_value(&m.lock());
}

/// 8 tasks on 2 workers each take the lock 500 times and hold it across a
/// yield (so the others queue); a flag catches two holders at once, and a
/// non-atomic read-modify-write of the counter would lose updates.
#[test]
fn mutual_exclusion_under_contention() {
    watchdog(|| {
        const TASKS: usize = 8;
        const ROUNDS: usize = 500;
        let rt = multi(2);
        let counter = Arc::new(Mutex::new(0usize));
        let inside = Arc::new(AtomicBool::new(false));
        let handles: Vec<_> = (0..TASKS)
            .map(|_| {
                let (counter, inside) = (counter.clone(), inside.clone());
                rt.spawn(async move {
                    for _ in 0..ROUNDS {
                        let mut guard = counter.lock().await;
                        assert!(!inside.swap(true, SeqCst), "two holders at once");
                        let read = *guard;
                        yield_now().await;
                        *guard = read + 1;
                        inside.store(false, SeqCst);
                    }
                })
            })
            .collect();
        rt.block_on(async {
            for h in handles {
                h.await.unwrap();
            }
        });
        assert_eq!(*counter.blocking_lock(), TASKS * ROUNDS);
    });
}

/// Waiters get the lock in the order they asked for it, and a newcomer
/// cannot take it while they wait.
#[test]
fn lock_is_handed_over_in_fifo_order() {
    let m = Mutex::new(Vec::new());
    let (_, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    let first = m.try_lock().unwrap();
    let mut waiters: Vec<_> = (0..5).map(|_| Some(Box::pin(m.lock()))).collect();
    for w in waiters.iter_mut().flatten() {
        assert!(w.as_mut().poll(&mut cx).is_pending());
    }
    drop(first);
    // The lock went to waiter 0: a newcomer fails even though nobody
    // holds a guard yet.
    assert!(m.try_lock().is_err(), "a newcomer barged past the queue");
    let mut order = Vec::new();
    // Poll in reverse: only the head of the queue may get it each time.
    for _ in 0..5 {
        let mut got = None;
        for (i, slot) in waiters.iter_mut().enumerate().rev() {
            let Some(w) = slot else { continue };
            if let Poll::Ready(mut guard) = w.as_mut().poll(&mut cx) {
                assert!(got.is_none(), "two waiters got the lock");
                guard.push(i);
                got = Some(i);
                order.push(i);
                drop(guard);
                *slot = None;
            }
        }
        assert!(got.is_some(), "the lock was not handed over");
    }
    assert_eq!(order, [0, 1, 2, 3, 4]);
    assert_eq!(*m.try_lock().unwrap(), [0, 1, 2, 3, 4]);
}

/// A dropped `lock()` that had already been handed the lock passes it on;
/// one that was still queued just leaves.
#[test]
fn cancelled_lockers_pass_the_lock_on() {
    let m = Mutex::new(0);
    let (wakes, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    let held = m.try_lock().unwrap();
    let mut a = Box::pin(m.lock());
    let mut b = Box::pin(m.lock());
    let mut c = Box::pin(m.lock());
    for w in [&mut a, &mut b, &mut c] {
        assert!(w.as_mut().poll(&mut cx).is_pending());
    }
    // `b` leaves while queued.
    drop(b);
    drop(held); // hands the lock to `a`
    assert_eq!(wakes.0.load(SeqCst), 1);
    drop(a); // granted but never polled: passes it to `c`
    assert_eq!(wakes.0.load(SeqCst), 2);
    match c.as_mut().poll(&mut cx) {
        Poll::Ready(mut g) => *g += 1,
        Poll::Pending => panic!("the lock was lost with a cancelled waiter"),
    }
    drop(c);
    assert_eq!(*m.try_lock().unwrap(), 1);
}

#[test]
fn owned_guard_moves_into_a_task() {
    watchdog(|| {
        let rt = multi(2);
        let m = Arc::new(Mutex::new(String::new()));
        rt.block_on(async {
            let mut guard = m.clone().lock_owned().await;
            let task = windlass::spawn(async move {
                guard.push_str("from the task");
                // Unlocks when the task drops it.
            });
            task.await.unwrap();
            assert_eq!(*m.lock().await, "from the task");
            assert!(m.clone().try_lock_owned().is_ok());
        });
    });
}

#[test]
fn blocking_lock_from_plain_threads() {
    watchdog(|| {
        let m = Arc::new(Mutex::new(0u32));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let m = m.clone();
                std::thread::spawn(move || {
                    for _ in 0..1000 {
                        *m.blocking_lock() += 1;
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(*m.blocking_lock(), 4000);
        // From the blocking pool too.
        let rt = multi(2);
        let m2 = m.clone();
        rt.block_on(rt.spawn_blocking(move || *m2.blocking_lock() += 1))
            .unwrap();
        assert_eq!(*m.blocking_lock(), 4001);
    });
}

#[test]
fn blocking_lock_on_a_worker_panics_with_a_message() {
    watchdog(|| {
        let rt = multi(2);
        let m = Arc::new(Mutex::new(0));
        let m2 = m.clone();
        let err = rt
            .block_on(rt.spawn(async move {
                let _guard = m2.blocking_lock();
            }))
            .unwrap_err();
        let msg = panic_message(&*err.into_panic());
        assert!(msg.contains("Mutex::blocking_lock"), "{msg}");
        assert!(msg.contains(".await"), "{msg}");
        // Inside block_on as well.
        let msg = expect_panic(|| rt.block_on(async { drop(m.blocking_lock()) }));
        assert!(msg.contains("cannot be called here"), "{msg}");
    });
}

/// A task that always finds the lock free still lets the other task of a
/// single-threaded runtime run.
#[test]
fn uncontended_lock_loop_yields_to_other_tasks() {
    watchdog(|| {
        let rt = current();
        let m = Arc::new(Mutex::new(0u64));
        let stop = Arc::new(AtomicBool::new(false));
        let (m2, stop2) = (m.clone(), stop.clone());
        let spinner = rt.spawn(async move {
            while !stop2.load(SeqCst) {
                *m2.lock().await += 1;
            }
        });
        let setter = rt.spawn(async move { stop.store(true, SeqCst) });
        rt.block_on(async {
            setter.await.unwrap();
            spinner.await.unwrap();
        });
        assert!(*m.blocking_lock() > 0);
    });
}

#[test]
fn rwlock_readers_share_and_writers_exclude() {
    watchdog(|| {
        const READERS: usize = 6;
        const WRITERS: usize = 2;
        const ROUNDS: usize = 200;
        let rt = multi(2);
        let lock = Arc::new(RwLock::new(0usize));
        let readers_in = Arc::new(AtomicUsize::new(0));
        let writer_in = Arc::new(AtomicBool::new(false));
        let mut handles = Vec::new();
        for _ in 0..READERS {
            let (lock, readers_in, writer_in) =
                (lock.clone(), readers_in.clone(), writer_in.clone());
            handles.push(rt.spawn(async move {
                for _ in 0..ROUNDS {
                    let g = lock.read().await;
                    readers_in.fetch_add(1, SeqCst);
                    assert!(!writer_in.load(SeqCst), "reader beside a writer");
                    let seen = *g;
                    yield_now().await;
                    assert_eq!(*g, seen, "data changed under a read lock");
                    readers_in.fetch_sub(1, SeqCst);
                }
            }));
        }
        for _ in 0..WRITERS {
            let (lock, readers_in, writer_in) =
                (lock.clone(), readers_in.clone(), writer_in.clone());
            handles.push(rt.spawn(async move {
                for _ in 0..ROUNDS {
                    let mut g = lock.write().await;
                    assert!(!writer_in.swap(true, SeqCst), "two writers");
                    assert_eq!(readers_in.load(SeqCst), 0, "writer beside readers");
                    let read = *g;
                    yield_now().await;
                    *g = read + 1;
                    writer_in.store(false, SeqCst);
                }
            }));
        }
        rt.block_on(async {
            for h in handles {
                h.await.unwrap();
            }
        });
        assert_eq!(*lock.blocking_read(), WRITERS * ROUNDS);
    });
}

/// A queued writer holds back later readers (no writer starvation), and
/// readers queued before it go first.
#[test]
fn rwlock_is_fifo_between_readers_and_writers() {
    let lock = RwLock::new(0);
    let (_, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    let r1 = lock.try_read().unwrap();
    let mut w = pin!(lock.write());
    assert!(w.as_mut().poll(&mut cx).is_pending());
    assert!(lock.try_read().is_err(), "a reader barged past the writer");
    let mut r2 = pin!(lock.read());
    assert!(r2.as_mut().poll(&mut cx).is_pending());
    drop(r1);
    let Poll::Ready(mut wg) = w.as_mut().poll(&mut cx) else {
        panic!("the writer did not get the lock");
    };
    assert!(r2.as_mut().poll(&mut cx).is_pending());
    *wg = 1;
    drop(wg);
    let Poll::Ready(rg) = r2.as_mut().poll(&mut cx) else {
        panic!("the reader did not get the lock");
    };
    assert_eq!(*rg, 1);
}

#[test]
fn lock_works_on_other_executors() {
    // No windlass runtime at all: futures-lite's block_on and threads.
    let m = Arc::new(Mutex::new(0));
    let m2 = m.clone();
    let t = std::thread::spawn(move || {
        future::block_on(async {
            for _ in 0..100 {
                *m2.lock().await += 1;
            }
        })
    });
    future::block_on(async {
        for _ in 0..100 {
            *m.lock().await += 1;
        }
    });
    t.join().unwrap();
    assert_eq!(*future::block_on(m.lock()), 200);
}

/// 200 lockers, a third of them aborted at random moments (queued, handed
/// the lock but not yet polled, or holding it across a yield). Mutual
/// exclusion holds, the lock ends free, and every completed critical
/// section (counted apart) is in the data.
#[test]
fn random_aborts_lose_no_lock() {
    watchdog(|| {
        let rt = multi(2);
        let m = Arc::new(Mutex::new(0usize));
        let inside = Arc::new(AtomicBool::new(false));
        let completed = Arc::new(AtomicUsize::new(0));
        let mut rng = crate::support::XorShift::new(21);
        rt.block_on(async {
            let handles: Vec<_> = (0..200)
                .map(|i| {
                    let (m, inside, completed) = (m.clone(), inside.clone(), completed.clone());
                    windlass::spawn(async move {
                        let mut guard = m.lock().await;
                        assert!(!inside.swap(true, SeqCst), "two holders at once");
                        // Cleared even if the task is cancelled at the yield.
                        let _leave = ClearOnDrop(&inside);
                        let read = *guard;
                        for _ in 0..i % 3 {
                            yield_now().await;
                        }
                        *guard = read + 1;
                        completed.fetch_add(1, SeqCst);
                    })
                })
                .collect();
            for h in &handles {
                if rng.below(3) == 0 {
                    h.abort();
                }
                if rng.below(2) == 0 {
                    yield_now().await;
                }
            }
            for h in handles {
                if let Err(e) = h.await {
                    assert!(e.is_cancelled(), "{e:?}");
                }
            }
        });
        let guard = m
            .try_lock()
            .expect("the lock was lost with a cancelled waiter");
        assert_eq!(*guard, completed.load(SeqCst));
    });
}

struct ClearOnDrop<'a>(&'a AtomicBool);

impl Drop for ClearOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(false, SeqCst);
    }
}
