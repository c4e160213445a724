//! `sync::Semaphore`: never over-issues, bounds a crawl to N in flight,
//! FIFO with `acquire_many`, closing, and cancelled acquirers aborted at
//! random lose no permit.

use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::task::{Context, Poll, Waker};

use crate::support::{CountWaker, XorShift, current, multi, panic_message, watchdog};
use windlass::sync::{
    AcquireError, OwnedSemaphorePermit, Semaphore, SemaphorePermit, TryAcquireError,
};
use windlass::task::yield_now;

fn noop_cx_waker() -> Waker {
    Waker::from(Arc::new(CountWaker::default()))
}

/// Counts permits in use and remembers the most ever in use at once.
#[derive(Default)]
struct HighWater {
    now: AtomicUsize,
    max: AtomicUsize,
}

impl HighWater {
    /// Records `n` more in use until the returned guard drops.
    fn enter(self: &Arc<Self>, n: usize) -> InUse {
        let now = self.now.fetch_add(n, SeqCst) + n;
        self.max.fetch_max(now, SeqCst);
        InUse(self.clone(), n)
    }
}

struct InUse(Arc<HighWater>, usize);

impl Drop for InUse {
    fn drop(&mut self) {
        self.0.now.fetch_sub(self.1, SeqCst);
    }
}

#[test]
fn types_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Semaphore>();
    assert_send_sync::<SemaphorePermit<'static>>();
    assert_send_sync::<OwnedSemaphorePermit>();
}

/// 40 tasks on 2 workers acquire 1 to 3 permits of 4 and hold them across
/// yields; an atomic high-water mark proves the semaphore never hands out
/// more than it has.
#[test]
fn never_over_issues() {
    watchdog(|| {
        const PERMITS: usize = 4;
        let rt = multi(2);
        let sem = Arc::new(Semaphore::new(PERMITS));
        let hw = Arc::new(HighWater::default());
        let handles: Vec<_> = (0..40)
            .map(|i| {
                let (sem, hw) = (sem.clone(), hw.clone());
                rt.spawn(async move {
                    let n = 1 + i % 3;
                    for _ in 0..50 {
                        let _permit = sem.acquire_many(n).await.unwrap();
                        let _in_use = hw.enter(n);
                        yield_now().await;
                    }
                })
            })
            .collect();
        rt.block_on(async {
            for h in handles {
                h.await.unwrap();
            }
        });
        let max = hw.max.load(SeqCst);
        assert!(max <= PERMITS, "{max} permits in use at once, of {PERMITS}");
        assert_eq!(sem.available_permits(), PERMITS);
    });
}

/// The asyncio tutorial's crawler: 100 downloads, at most N at once. On a
/// single thread the schedule is deterministic, so it also reaches N.
#[test]
fn bounds_a_crawl_to_n_in_flight() {
    watchdog(|| {
        const N: usize = 5;
        for rt in [multi(2), current()] {
            let single = matches!(
                rt.handle().runtime_flavor(),
                windlass::runtime::RuntimeFlavor::CurrentThread
            );
            let sem = Arc::new(Semaphore::new(N));
            let hw = Arc::new(HighWater::default());
            let fetched = Arc::new(AtomicUsize::new(0));
            let pages = rt.block_on(async {
                let downloads: Vec<_> = (0..100)
                    .map(|page| {
                        let (sem, hw, fetched) = (sem.clone(), hw.clone(), fetched.clone());
                        windlass::spawn(async move {
                            let _permit = sem.acquire_owned().await.unwrap();
                            let _in_flight = hw.enter(1);
                            // The download: a few suspensions.
                            for _ in 0..3 {
                                yield_now().await;
                            }
                            fetched.fetch_add(1, SeqCst);
                            page
                        })
                    })
                    .collect();
                let mut pages = Vec::new();
                for d in downloads {
                    pages.push(d.await.unwrap());
                }
                pages
            });
            assert_eq!(pages, (0..100).collect::<Vec<_>>());
            assert_eq!(fetched.load(SeqCst), 100);
            let max = hw.max.load(SeqCst);
            assert!(max <= N, "{max} downloads in flight, limit {N}");
            if single {
                assert_eq!(max, N, "the limit was never reached");
            }
        }
    });
}

/// A waiter for 3 permits holds back a later waiter for 1, even when 1
/// permit is free; the released permits go to the waiters in order.
#[test]
fn acquire_many_is_fifo() {
    let sem = Semaphore::new(2);
    let waker = noop_cx_waker();
    let mut cx = Context::from_waker(&waker);
    let two = sem.try_acquire_many(2).unwrap();
    let mut big = pin!(sem.acquire_many(3));
    let mut small = pin!(sem.acquire());
    assert!(big.as_mut().poll(&mut cx).is_pending());
    assert!(small.as_mut().poll(&mut cx).is_pending());
    drop(two); // 2 permits go to `big`, which needs 3
    assert!(big.as_mut().poll(&mut cx).is_pending());
    assert!(small.as_mut().poll(&mut cx).is_pending(), "small barged");
    assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::NoPermits);
    sem.add_permits(2); // 1 completes `big`, 1 goes to `small`
    let Poll::Ready(Ok(big_permit)) = big.as_mut().poll(&mut cx) else {
        panic!("big waiter not served");
    };
    assert_eq!(big_permit.num_permits(), 3);
    let Poll::Ready(Ok(small_permit)) = small.as_mut().poll(&mut cx) else {
        panic!("small waiter not served");
    };
    assert_eq!(sem.available_permits(), 0);
    drop((big_permit, small_permit));
    assert_eq!(sem.available_permits(), 4);
}

/// A dropped waiter gives back the permits assigned to it so far, and a
/// granted-but-unobserved one gives back all of them.
#[test]
fn cancelled_waiters_return_their_permits() {
    let sem = Semaphore::new(3);
    let waker = noop_cx_waker();
    let mut cx = Context::from_waker(&waker);
    let held = sem.try_acquire_many(3).unwrap();
    let mut a = Box::pin(sem.acquire_many(2));
    let mut b = Box::pin(sem.acquire_many(3));
    assert!(a.as_mut().poll(&mut cx).is_pending());
    assert!(b.as_mut().poll(&mut cx).is_pending());
    drop(held); // `a` gets 2 (granted), `b` gets 1 of 3
    drop(a); // never observed: its 2 go to `b`
    let Poll::Ready(Ok(p)) = b.as_mut().poll(&mut cx) else {
        panic!("permits lost with a cancelled waiter");
    };
    drop(p);
    drop(b);
    assert_eq!(sem.available_permits(), 3);

    // A partial down payment comes back when its waiter leaves.
    let one = sem.try_acquire().unwrap();
    let mut c = Box::pin(sem.acquire_many(3)); // takes the 2 free ones
    assert!(c.as_mut().poll(&mut cx).is_pending());
    assert_eq!(sem.available_permits(), 0);
    drop(c);
    assert_eq!(sem.available_permits(), 2);
    drop(one);
    assert_eq!(sem.available_permits(), 3);
}

#[test]
fn close_wakes_and_fails_waiters_and_later_acquires() {
    let sem = Semaphore::new(1);
    let wakes = Arc::new(CountWaker::default());
    let waker = Waker::from(wakes.clone());
    let mut cx = Context::from_waker(&waker);
    let held = sem.try_acquire().unwrap();
    let mut waiters: Vec<_> = (0..4).map(|_| Box::pin(sem.acquire_many(2))).collect();
    for w in &mut waiters {
        assert!(w.as_mut().poll(&mut cx).is_pending());
    }
    sem.close();
    assert_eq!(wakes.0.load(SeqCst), 4, "close must wake every waiter");
    for w in &mut waiters {
        assert!(matches!(
            w.as_mut().poll(&mut cx),
            Poll::Ready(Err(AcquireError { .. }))
        ));
    }
    assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::Closed);
    assert!(futures_lite::future::block_on(sem.acquire()).is_err());
    drop(held); // a permit held across the close is still given back
    assert_eq!(sem.available_permits(), 1);
    assert!(sem.is_closed());
}

#[test]
fn forget_and_add_permits() {
    let sem = Semaphore::new(2);
    sem.try_acquire().unwrap().forget();
    assert_eq!(sem.available_permits(), 1);
    sem.add_permits(4);
    assert_eq!(sem.available_permits(), 5);
    assert_eq!(sem.try_acquire_many(5).unwrap().num_permits(), 5);
}

#[test]
fn overflow_panics() {
    let sem = Semaphore::new(Semaphore::MAX_PERMITS);
    let msg = crate::support::expect_panic(|| sem.add_permits(1));
    assert!(msg.contains("overflow"), "{msg}");
}

#[test]
fn blocking_acquire_from_threads_and_panics_on_workers() {
    watchdog(|| {
        let sem = Arc::new(Semaphore::new(2));
        let hw = Arc::new(HighWater::default());
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let (sem, hw) = (sem.clone(), hw.clone());
                std::thread::spawn(move || {
                    for _ in 0..200 {
                        let _p = sem.blocking_acquire().unwrap();
                        let _in = hw.enter(1);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert!(hw.max.load(SeqCst) <= 2);
        let rt = multi(2);
        let s = sem.clone();
        let err = rt
            .block_on(rt.spawn(async move { s.blocking_acquire().map(drop) }))
            .unwrap_err();
        let msg = panic_message(&*err.into_panic());
        assert!(msg.contains("Semaphore::blocking_acquire"), "{msg}");
    });
}

/// 300 tasks acquire 1-3 permits and hold them across yields while the
/// main task aborts a third of them at random moments: queued, granted but
/// not yet polled, or holding. Afterwards every permit is back and none was
/// ever over-issued.
#[test]
fn random_aborts_lose_no_permit() {
    watchdog(|| {
        const PERMITS: usize = 3;
        let rt = multi(2);
        let sem = Arc::new(Semaphore::new(PERMITS));
        let hw = Arc::new(HighWater::default());
        let done = Arc::new(AtomicUsize::new(0));
        let mut rng = XorShift::new(7);
        rt.block_on(async {
            let handles: Vec<_> = (0..300)
                .map(|i| {
                    let (sem, hw, done) = (sem.clone(), hw.clone(), done.clone());
                    let n = 1 + i % PERMITS;
                    let hold = i % 4;
                    windlass::spawn(async move {
                        let _permit = sem.acquire_many(n).await.unwrap();
                        let _in_use = hw.enter(n);
                        for _ in 0..hold {
                            yield_now().await;
                        }
                        done.fetch_add(1, SeqCst);
                    })
                })
                .collect();
            let mut aborted = 0;
            for h in &handles {
                if rng.below(3) == 0 {
                    h.abort();
                    aborted += 1;
                }
                if rng.below(2) == 0 {
                    yield_now().await;
                }
            }
            let mut cancelled = 0;
            for h in handles {
                if let Err(e) = h.await {
                    assert!(e.is_cancelled());
                    cancelled += 1;
                }
            }
            assert!(cancelled <= aborted);
            // Every task either finished its body (its output stands even if
            // an abort raced its last poll: task rule 6) or was cancelled
            // before it did.
            assert_eq!(done.load(SeqCst) + cancelled, 300);
        });
        let max = hw.max.load(SeqCst);
        assert!(max <= PERMITS, "over-issued: {max}");
        assert_eq!(sem.available_permits(), PERMITS, "permits lost");
        assert!(sem.try_acquire_many(PERMITS).is_ok());
    });
}

/// Issue #13, defect 5: `add_permits` past `MAX_PERMITS` while a task
/// waits panics (as documented) but leaves the semaphore as it was. Before
/// the fix the waiter was granted and unlinked first, its wake-up was lost
/// in the unwind and `QUEUED` stayed set, so the waiter never woke and
/// later acquires queued forever.
#[test]
fn add_permits_overflow_with_a_waiter_leaves_the_semaphore_usable() {
    let sem = Semaphore::new(0);
    let wakes = Arc::new(CountWaker::default());
    let waker = Waker::from(wakes.clone());
    let mut cx = Context::from_waker(&waker);
    let mut waiter = pin!(sem.acquire());
    assert!(waiter.as_mut().poll(&mut cx).is_pending(), "queued");

    let msg = crate::support::expect_panic(|| sem.add_permits(usize::MAX));
    assert!(msg.contains("overflow"), "{msg}");
    assert!(
        waiter.as_mut().poll(&mut cx).is_pending(),
        "the failed call granted nothing"
    );
    assert_eq!(sem.available_permits(), 0);

    sem.add_permits(1);
    assert_eq!(
        wakes.0.load(SeqCst),
        1,
        "the waiter was woken by the next release"
    );
    match waiter.as_mut().poll(&mut cx) {
        Poll::Ready(Ok(permit)) => drop(permit),
        other => panic!("the waiter did not get its permit: {other:?}"),
    }
    // The permit went back to the word: the fast path works again.
    assert_eq!(sem.available_permits(), 1);
    assert!(sem.try_acquire().is_ok());
}

/// Rule 9: the releaser frees a served waiter's slot at once, so a newer
/// waiter can take that slot before the served one polls. Neither may
/// mistake the other's slot for its own: the served one, polled, gets its
/// permit and leaves the newer one waiting; the served one, dropped
/// unpolled, passes its permit on without unlinking the newer one.
#[test]
fn a_served_waiters_slot_is_reused_before_it_polls() {
    let sem = Semaphore::new(1);
    let (wakes, waker) = crate::support::counting_waker();
    let mut cx = Context::from_waker(&waker);
    let held = sem.try_acquire().unwrap();
    let mut a = Box::pin(sem.acquire());
    assert!(a.as_mut().poll(&mut cx).is_pending());
    drop(held); // serves `a` and frees its slot
    let mut b = Box::pin(sem.acquire()); // takes `a`'s old slot
    assert!(b.as_mut().poll(&mut cx).is_pending());
    let Poll::Ready(Ok(pa)) = a.as_mut().poll(&mut cx) else {
        panic!("the served waiter is not ready");
    };
    assert!(
        b.as_mut().poll(&mut cx).is_pending(),
        "`b` was served with `a`'s permit"
    );
    drop(pa); // serves `b` and frees its slot
    let mut c = Box::pin(sem.acquire()); // takes `b`'s old slot
    assert!(c.as_mut().poll(&mut cx).is_pending());
    let before = wakes.0.load(SeqCst);
    drop(b); // served, never polled: its permit goes to `c`
    assert_eq!(wakes.0.load(SeqCst), before + 1, "`c` was woken once");
    let Poll::Ready(Ok(pc)) = c.as_mut().poll(&mut cx) else {
        panic!("permit lost: the dropped served waiter touched `c`'s slot");
    };
    drop(pc);
    assert_eq!(sem.available_permits(), 1);
    assert!(sem.try_acquire().is_ok(), "nobody is left queued");
}

/// Review (session 13, scheduler): `WakeList::wake_all` contains a
/// panicking waker so that the other waiters of the batch still get their
/// wake-up, but since 2edf910 it calls a windlass task's waker without
/// `catch_unwind` ("it never panics"). A task waker woken by value that
/// holds the task's last reference frees the cell, and with it the join
/// waker a foreign executor left in the slot: its destructor's panic
/// unwinds out of `add_permits` (a release: `MutexGuard::drop` in a
/// mutex), and the second waiter served by the same release is never
/// woken, although it holds its permit.
#[test]
fn a_task_waker_freeing_its_task_does_not_cost_the_next_waiter_its_wake_up() {
    use std::future::Future;
    watchdog(|| {
        let rt = multi(1);
        let sem = Arc::new(Semaphore::new(0));
        let (gate_tx, gate_rx) = futures_channel::oneshot::channel::<()>();
        let (fut_tx, fut_rx) = std::sync::mpsc::channel();
        let mut h = rt.spawn({
            let sem = sem.clone();
            async move {
                gate_rx.await.unwrap();
                // Queue with this task's waker, then hand the future on.
                let mut acquire = Box::pin(sem.acquire_owned());
                std::future::poll_fn(|cx| {
                    assert!(acquire.as_mut().poll(cx).is_pending());
                    Poll::Ready(())
                })
                .await;
                fut_tx.send(acquire).unwrap();
            }
        });
        {
            // The join waker slot keeps the last clone of this waker.
            let waker = Waker::from(Arc::new(crate::support::PanicOnLastDrop));
            let mut cx = Context::from_waker(&waker);
            assert!(std::pin::Pin::new(&mut h).poll(&mut cx).is_pending());
        }
        drop(h);
        gate_tx.send(()).unwrap();
        let first = fut_rx.recv().unwrap();
        while rt.handle().num_alive_tasks() != 0 {
            std::thread::yield_now();
        }
        // A second waiter, behind the first.
        let count = Arc::new(CountWaker::default());
        let waker = Waker::from(count.clone());
        let mut second = Box::pin(sem.clone().acquire_owned());
        assert!(
            second
                .as_mut()
                .poll(&mut Context::from_waker(&waker))
                .is_pending()
        );
        // One release serves both, and wakes both.
        let released =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| sem.add_permits(2)));
        assert!(
            released.is_ok(),
            "a waker's panic unwound out of add_permits"
        );
        assert_eq!(count.0.load(SeqCst), 1, "the second waiter was never woken");
        assert!(matches!(
            second.as_mut().poll(&mut Context::from_waker(&waker)),
            Poll::Ready(Ok(_))
        ));
        drop(first);
    });
}
