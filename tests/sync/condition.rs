//! `sync::Condition` and `sync::Notify`: notify(1) wakes exactly one,
//! notify_all wakes all, FIFO order, predicates, the stored permit, and
//! notifications passed on by cancelled waiters.

use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::Ordering::SeqCst;
use std::task::{Context, Waker};

use crate::support::{CountWaker, XorShift, multi, watchdog};
use futures_lite::future;
use windlass::sync::{Condition, Mutex, Notified, Notify};
use windlass::task::yield_now;

fn wakers(n: usize) -> Vec<(Arc<CountWaker>, Waker)> {
    (0..n)
        .map(|_| {
            let c = Arc::new(CountWaker::default());
            (c.clone(), Waker::from(c))
        })
        .collect()
}

fn woken(ws: &[(Arc<CountWaker>, Waker)]) -> Vec<usize> {
    ws.iter().map(|(c, _)| c.0.load(SeqCst)).collect()
}

#[test]
fn types_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Condition>();
    assert_send_sync::<Notify>();
    fn assert_send<T: Send>(_: &T) {}
    let m = Mutex::new(0);
    let c = Condition::new();
    assert_send(&async { c.wait(m.lock().await).await });
    let n = Notify::new();
    assert_send(&n.notified());
}

/// Three tasks wait; notify(1) wakes exactly one (the first), the other two
/// stay asleep until notify_all.
#[test]
fn notify_one_wakes_exactly_one() {
    let m = Mutex::new(0);
    let cond = Condition::new();
    let ws = wakers(3);
    let mut waits: Vec<Pin<Box<_>>> = (0..3)
        .map(|_| Box::pin(async { *cond.wait(m.lock().await).await }))
        .collect();
    for (w, (_, waker)) in waits.iter_mut().zip(&ws) {
        assert!(
            w.as_mut()
                .poll(&mut Context::from_waker(waker))
                .is_pending()
        );
    }
    assert_eq!(cond.waiting(), 3);
    assert_eq!(cond.notify(1), 1);
    assert_eq!(woken(&ws), [1, 0, 0], "exactly the first waiter is woken");
    let mut ready = Vec::new();
    for (i, (w, (_, waker))) in waits.iter_mut().zip(&ws).enumerate() {
        if w.as_mut().poll(&mut Context::from_waker(waker)).is_ready() {
            ready.push(i);
        }
    }
    assert_eq!(ready, [0]);
    assert_eq!(cond.waiting(), 2);
    assert_eq!(cond.notify_all(), 2);
    assert_eq!(woken(&ws), [1, 1, 1]);
    for (w, (_, waker)) in waits.iter_mut().skip(1).zip(ws.iter().skip(1)) {
        assert!(w.as_mut().poll(&mut Context::from_waker(waker)).is_ready());
    }
}

#[test]
fn notify_n_wakes_the_n_longest_waiters() {
    let m = Mutex::new(());
    let cond = Condition::new();
    let ws = wakers(5);
    let mut waits: Vec<Pin<Box<_>>> = (0..5)
        .map(|_| Box::pin(async { drop(cond.wait(m.lock().await).await) }))
        .collect();
    for (w, (_, waker)) in waits.iter_mut().zip(&ws) {
        assert!(
            w.as_mut()
                .poll(&mut Context::from_waker(waker))
                .is_pending()
        );
    }
    assert_eq!(cond.notify(3), 3);
    assert_eq!(woken(&ws), [1, 1, 1, 0, 0]);
    assert_eq!(cond.notify(10), 2, "only two were left");
    // With nobody waiting a notification is lost (asyncio semantics).
    for (w, (_, waker)) in waits.iter_mut().zip(&ws) {
        assert!(w.as_mut().poll(&mut Context::from_waker(waker)).is_ready());
    }
    assert_eq!(cond.notify(1), 0);
    let mut late = pin!(async { drop(cond.wait(m.lock().await).await) });
    let waker = Waker::from(Arc::new(CountWaker::default()));
    assert!(
        late.as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_pending()
    );
}

/// A waiter picked by notify(1) but dropped before it ran passes the
/// notification on to the next waiter.
#[test]
fn cancelled_waiter_passes_its_notification_on() {
    let m = Mutex::new(0);
    let cond = Condition::new();
    let ws = wakers(2);
    let mut a = Box::pin(async { drop(cond.wait(m.lock().await).await) });
    let mut b = Box::pin(async { drop(cond.wait(m.lock().await).await) });
    assert!(
        a.as_mut()
            .poll(&mut Context::from_waker(&ws[0].1))
            .is_pending()
    );
    assert!(
        b.as_mut()
            .poll(&mut Context::from_waker(&ws[1].1))
            .is_pending()
    );
    cond.notify(1);
    assert_eq!(woken(&ws), [1, 0]);
    drop(a);
    assert_eq!(woken(&ws), [1, 1], "the notification was lost");
    assert!(
        b.as_mut()
            .poll(&mut Context::from_waker(&ws[1].1))
            .is_ready()
    );

    // Also when dropped while re-locking after the notification.
    let ws = wakers(2);
    let guard = m.try_lock().unwrap();
    let mut c = Box::pin(async { drop(cond.wait(m.lock().await).await) });
    let mut d = Box::pin(async { drop(cond.wait(m.lock().await).await) });
    drop(guard);
    assert!(
        c.as_mut()
            .poll(&mut Context::from_waker(&ws[0].1))
            .is_pending()
    );
    assert!(
        d.as_mut()
            .poll(&mut Context::from_waker(&ws[1].1))
            .is_pending()
    );
    let relock_blocker = m.try_lock().unwrap();
    cond.notify(1);
    // `c` is now waiting for the mutex, holding the notification.
    assert!(
        c.as_mut()
            .poll(&mut Context::from_waker(&ws[0].1))
            .is_pending()
    );
    assert_eq!(woken(&ws), [1, 0]);
    drop(c);
    assert_eq!(woken(&ws), [1, 1], "lost while re-locking");
    drop(relock_blocker);
    assert!(
        d.as_mut()
            .poll(&mut Context::from_waker(&ws[1].1))
            .is_ready()
    );
}

/// Producer/consumer across workers with `wait_for`: every item is seen.
#[test]
fn wait_for_predicate_across_workers() {
    watchdog(|| {
        let rt = multi(2);
        let state = Arc::new((Mutex::new(Vec::<u32>::new()), Condition::new()));
        let consumers: Vec<_> = (0..4)
            .map(|_| {
                let state = state.clone();
                rt.spawn(async move {
                    let (items, cond) = &*state;
                    let mut got = Vec::new();
                    loop {
                        let mut guard = cond.wait_for(items.lock().await, |v| !v.is_empty()).await;
                        let item = guard.pop().unwrap();
                        drop(guard);
                        if item == u32::MAX {
                            return got;
                        }
                        got.push(item);
                    }
                })
            })
            .collect();
        let all = rt.block_on(async {
            let (items, cond) = &*state;
            for i in 0..400 {
                items.lock().await.push(i);
                cond.notify(1);
                if i % 7 == 0 {
                    yield_now().await;
                }
            }
            for _ in 0..4 {
                items.lock().await.insert(0, u32::MAX);
                cond.notify(1);
            }
            let mut all = Vec::new();
            for c in consumers {
                all.extend(c.await.unwrap());
            }
            all
        });
        let mut all = all;
        all.sort_unstable();
        assert_eq!(all, (0..400).collect::<Vec<_>>());
    });
}

#[test]
fn notify_one_stores_a_permit() {
    let notify = Notify::new();
    notify.notify_one();
    notify.notify_one(); // still one
    future::block_on(notify.notified());
    let waker = Waker::from(Arc::new(CountWaker::default()));
    let mut n = pin!(notify.notified());
    assert!(
        n.as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_pending()
    );
}

#[test]
fn notify_waiters_wakes_all_and_stores_nothing() {
    let notify = Notify::new();
    let ws = wakers(3);
    let mut ns: Vec<_> = (0..3).map(|_| Box::pin(notify.notified())).collect();
    for (n, (_, w)) in ns.iter_mut().zip(&ws) {
        assert!(n.as_mut().poll(&mut Context::from_waker(w)).is_pending());
    }
    // Created before the call but never polled: also woken.
    let mut unpolled = pin!(notify.notified());
    notify.notify_waiters();
    assert_eq!(woken(&ws), [1, 1, 1]);
    for (n, (_, w)) in ns.iter_mut().zip(&ws) {
        assert!(n.as_mut().poll(&mut Context::from_waker(w)).is_ready());
    }
    let waker = Waker::from(Arc::new(CountWaker::default()));
    let mut cx = Context::from_waker(&waker);
    assert!(unpolled.as_mut().poll(&mut cx).is_ready());
    let mut after = pin!(notify.notified());
    assert!(
        after.as_mut().poll(&mut cx).is_pending(),
        "a permit was stored"
    );
}

#[test]
fn notify_one_is_fifo_and_passed_on_when_cancelled() {
    let notify = Notify::new();
    let ws = wakers(3);
    let mut ns: Vec<_> = (0..3).map(|_| Some(Box::pin(notify.notified()))).collect();
    for (n, (_, w)) in ns.iter_mut().zip(&ws) {
        let n = n.as_mut().unwrap();
        assert!(n.as_mut().poll(&mut Context::from_waker(w)).is_pending());
    }
    notify.notify_one();
    assert_eq!(woken(&ws), [1, 0, 0]);
    ns[0] = None; // dropped before it saw the notification
    assert_eq!(woken(&ws), [1, 1, 0]);
    ns[1] = None;
    assert_eq!(woken(&ws), [1, 1, 1]);
    ns[2] = None;
    // Nobody left: the notification became the permit.
    future::block_on(notify.notified());
}

/// 100 registered waiters; at random, `notify_one` (50 times in all),
/// drop a waiter (at most 30, notified or not) or poll one. Every
/// notification must end in exactly one completed waiter: none lost to a
/// dropped waiter, none doubled, and no permit left over.
#[test]
fn random_cancellations_lose_no_notification() {
    const WAITERS: usize = 100;
    const NOTIFICATIONS: usize = 50;
    const MAX_DROPS: usize = 30;
    for seed in 1..=20 {
        let notify = Notify::new();
        let ws = wakers(WAITERS);
        let mut ns: Vec<_> = (0..WAITERS)
            .map(|_| Some(Box::pin(notify.notified())))
            .collect();
        for (n, (_, w)) in ns.iter_mut().zip(&ws) {
            let n = n.as_mut().unwrap();
            assert!(n.as_mut().poll(&mut Context::from_waker(w)).is_pending());
        }
        let mut rng = XorShift::new(seed);
        let (mut sent, mut dropped, mut completed) = (0, 0, 0);
        let poll = |i: usize, ns: &mut [Option<Pin<Box<Notified<'_>>>>], completed: &mut usize| {
            if let Some(n) = ns[i].as_mut()
                && n.as_mut()
                    .poll(&mut Context::from_waker(&ws[i].1))
                    .is_ready()
            {
                ns[i] = None;
                *completed += 1;
            }
        };
        while sent < NOTIFICATIONS {
            let i = rng.below(WAITERS as u64) as usize;
            match rng.below(3) {
                0 => {
                    notify.notify_one();
                    sent += 1;
                }
                1 if dropped < MAX_DROPS && ns[i].is_some() => {
                    ns[i] = None;
                    dropped += 1;
                }
                _ => poll(i, &mut ns, &mut completed),
            }
        }
        for i in 0..WAITERS {
            poll(i, &mut ns, &mut completed);
        }
        assert_eq!(completed, NOTIFICATIONS, "seed {seed}");
        let waker = Waker::from(Arc::new(CountWaker::default()));
        let mut fresh = pin!(notify.notified());
        assert!(
            fresh
                .as_mut()
                .poll(&mut Context::from_waker(&waker))
                .is_pending(),
            "seed {seed}: a notification was left over as a permit"
        );
    }
}

/// `enable` takes the stored permit; the future is then dropped before it
/// is polled (the usual "enable, check the condition, return if it holds").
/// The permit is passed on, as one a `notify_one` picked would be; before,
/// it was lost with the future.
#[test]
fn a_permit_taken_by_enable_is_passed_on_if_never_returned() {
    let notify = Notify::new();
    notify.notify_one();
    {
        let mut first = pin!(notify.notified());
        assert!(first.as_mut().enable(), "took the stored permit");
        assert!(first.as_mut().enable(), "still notified");
    }
    let (_, waker) = crate::support::counting_waker();
    let mut next = pin!(notify.notified());
    assert!(
        next.as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_ready(),
        "the permit was lost with a future that never returned it"
    );
    // One that returned it passes nothing on.
    let mut again = pin!(notify.notified());
    assert!(!again.as_mut().enable());
    assert!(
        again
            .as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_pending()
    );
}
