//! `sync::Event` and `sync::Barrier`: every waiter woken, asyncio's
//! set-then-clear semantics, barrier groups and leaders, cancelled waiters.

use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::task::{Context, Poll, Waker};

use crate::support::{CountWaker, counting_waker, multi, panicking_waker, watchdog};
use futures_lite::future;
use windlass::sync::{Barrier, Event};
use windlass::task::yield_now;

#[test]
fn types_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Event>();
    assert_send_sync::<Barrier>();
    let e = Event::new();
    let b = Barrier::new(1);
    fn assert_send<T: Send>(_: &T) {}
    assert_send(&e.wait());
    assert_send(&b.wait());
}

/// 50 tasks wait on one event across 2 workers; one `set` wakes them all.
#[test]
fn set_wakes_every_waiter() {
    watchdog(|| {
        const WAITERS: usize = 50;
        let rt = multi(2);
        let event = Arc::new(Event::new());
        let woken = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..WAITERS)
            .map(|_| {
                let (event, woken) = (event.clone(), woken.clone());
                rt.spawn(async move {
                    event.wait().await;
                    woken.fetch_add(1, SeqCst);
                })
            })
            .collect();
        rt.block_on(async {
            yield_now().await;
            assert_eq!(woken.load(SeqCst), 0, "woken before set");
            event.set();
            for h in handles {
                h.await.unwrap();
            }
        });
        assert_eq!(woken.load(SeqCst), WAITERS);
        assert!(event.is_set());
    });
}

/// asyncio: a task waiting when `set()` is called returns even if the
/// event is cleared before it runs; a task that starts waiting after the
/// clear does not.
#[test]
fn set_then_clear_still_releases_earlier_waiters() {
    let event = Event::new();
    let wakes = Arc::new(CountWaker::default());
    let waker = Waker::from(wakes.clone());
    let mut cx = Context::from_waker(&waker);
    let mut early = pin!(event.wait());
    assert!(early.as_mut().poll(&mut cx).is_pending());
    event.set();
    event.clear();
    assert_eq!(wakes.0.load(SeqCst), 1);
    let mut late = pin!(event.wait());
    assert!(late.as_mut().poll(&mut cx).is_pending());
    assert_eq!(early.as_mut().poll(&mut cx), Poll::Ready(()));
    assert!(late.as_mut().poll(&mut cx).is_pending());
    event.set();
    assert_eq!(late.as_mut().poll(&mut cx), Poll::Ready(()));
}

#[test]
fn wait_on_a_set_event_is_immediate_and_set_is_idempotent() {
    let event = Event::new();
    event.set();
    event.set();
    future::block_on(event.wait());
    assert!(event.is_set());
    event.clear();
    assert!(!event.is_set());
}

#[test]
fn dropped_waiters_take_nothing_from_others() {
    let event = Event::new();
    let wakes = Arc::new(CountWaker::default());
    let waker = Waker::from(wakes.clone());
    let mut cx = Context::from_waker(&waker);
    let mut waiters: Vec<_> = (0..4).map(|_| Box::pin(event.wait())).collect();
    for w in &mut waiters {
        assert!(w.as_mut().poll(&mut cx).is_pending());
    }
    drop(waiters.remove(1));
    drop(waiters.remove(0));
    event.set();
    for w in &mut waiters {
        assert_eq!(w.as_mut().poll(&mut cx), Poll::Ready(()));
    }
}

#[test]
fn blocking_wait_from_a_thread() {
    watchdog(|| {
        let event = Arc::new(Event::new());
        let e = event.clone();
        let t = std::thread::spawn(move || e.blocking_wait());
        let rt = multi(2);
        rt.block_on(async { event.set() });
        t.join().unwrap();
    });
}

/// 4 groups of 5 tasks go through a barrier of 5: each group has exactly
/// one leader, and nobody passes before its group is complete.
#[test]
fn barrier_releases_groups_with_one_leader_each() {
    watchdog(|| {
        const PARTIES: usize = 5;
        const GROUPS: usize = 4;
        let rt = multi(2);
        let barrier = Arc::new(Barrier::new(PARTIES));
        let arrived = Arc::new(AtomicUsize::new(0));
        let passed = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..PARTIES * GROUPS)
            .map(|_| {
                let (barrier, arrived, passed) = (barrier.clone(), arrived.clone(), passed.clone());
                rt.spawn(async move {
                    arrived.fetch_add(1, SeqCst);
                    let result = barrier.wait().await;
                    // Only members of complete groups pass: never more than
                    // the arrivals rounded down to whole groups.
                    let p = passed.fetch_add(1, SeqCst) + 1;
                    let complete = arrived.load(SeqCst) / PARTIES * PARTIES;
                    assert!(
                        p <= complete,
                        "{p} passed with {complete} in complete groups"
                    );
                    result.is_leader()
                })
            })
            .collect();
        let leaders = rt.block_on(async {
            let mut leaders = 0;
            for h in handles {
                leaders += h.await.unwrap() as usize;
            }
            leaders
        });
        assert_eq!(leaders, GROUPS);
        assert_eq!(barrier.n_waiting(), 0);
    });
}

/// A waiter dropped before the barrier opens takes its arrival back, so
/// the group still needs `parties` live tasks.
#[test]
fn barrier_cancelled_waiter_takes_its_arrival_back() {
    let barrier = Barrier::new(2);
    let waker = Waker::from(Arc::new(CountWaker::default()));
    let mut cx = Context::from_waker(&waker);
    let mut a = Box::pin(barrier.wait());
    assert!(a.as_mut().poll(&mut cx).is_pending());
    assert_eq!(barrier.n_waiting(), 1);
    drop(a);
    assert_eq!(barrier.n_waiting(), 0);
    let mut b = pin!(barrier.wait());
    assert!(
        b.as_mut().poll(&mut cx).is_pending(),
        "opened with one live task"
    );
    let mut c = pin!(barrier.wait());
    let Poll::Ready(rc) = c.as_mut().poll(&mut cx) else {
        panic!("second party did not open the barrier");
    };
    assert!(rc.is_leader());
    let Poll::Ready(rb) = b.as_mut().poll(&mut cx) else {
        panic!("first party not released");
    };
    assert!(!rb.is_leader());
}

/// `Event` (and `Barrier`, `Queue`, `broadcast`, `watch`, a channel's
/// `closed()`) wait through `event_listener`, which counts a listener as
/// notified only after its `wake` returns. A waker that panics (a foreign
/// executor's) used to leave that count one short: `set` panicked, the
/// listener's drop then panicked on the count's underflow, and with
/// overflow checks off every later `set` woke nobody. Such a waker is now
/// wrapped: `set` returns, and the event keeps working for everyone.
#[test]
fn a_waker_that_panics_does_not_break_the_event() {
    let event = Event::new();
    let (bad, bad_waker) = panicking_waker();
    let mut first = Box::pin(event.wait());
    assert!(
        first
            .as_mut()
            .poll(&mut Context::from_waker(&bad_waker))
            .is_pending()
    );
    event.set();
    assert_eq!(bad.0.load(SeqCst), 1, "the bad waker was woken");
    drop(first);
    event.clear();
    let (good, good_waker) = counting_waker();
    let mut second = Box::pin(event.wait());
    assert!(
        second
            .as_mut()
            .poll(&mut Context::from_waker(&good_waker))
            .is_pending()
    );
    event.set();
    assert_eq!(good.0.load(SeqCst), 1, "a later set woke the next waiter");
    assert!(
        second
            .as_mut()
            .poll(&mut Context::from_waker(&good_waker))
            .is_ready()
    );
}
