//! `sync::Queue` (FIFO, LIFO, priority): asyncio's `task_done()`/`join()`,
//! backpressure, `*_nowait` errors, `shutdown`, 8 producers x 8 consumers
//! exactly once, and random cancellation losing nothing.

use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::task::{Context, Poll};

use crate::support::{
    DropCounter, XorShift, counting_waker, expect_panic, multi, panicking_waker, watchdog,
};
use futures_lite::future;
use windlass::sync::{
    GetError, LifoQueue, PriorityQueue, PutError, Queue, TryGetError, TryPutError,
};
use windlass::task::yield_now;

#[test]
fn types_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Queue<String>>();
    assert_send_sync::<LifoQueue<String>>();
    assert_send_sync::<PriorityQueue<String>>();
    fn assert_send<T: Send>(_: &T) {}
    let q = Queue::<u8>::new(0);
    assert_send(&q.get());
    assert_send(&q.put(1));
    assert_send(&q.join());
}

/// `join()` is pending while any item lacks its `task_done()`, and
/// returns right after the last one.
#[test]
fn join_waits_for_every_task_done() {
    let q = Queue::new(0);
    let (wakes, w) = counting_waker();
    let mut cx = Context::from_waker(&w);
    for i in 0..3 {
        q.put_nowait(i).unwrap();
    }
    let mut join = pin!(q.join());
    assert!(join.as_mut().poll(&mut cx).is_pending());
    for _ in 0..3 {
        q.get_nowait().unwrap();
    }
    assert!(
        join.as_mut().poll(&mut cx).is_pending(),
        "gets are not task_done"
    );
    q.task_done();
    q.task_done();
    assert!(join.as_mut().poll(&mut cx).is_pending());
    assert_eq!(wakes.0.load(SeqCst), 0);
    q.task_done();
    assert_eq!(wakes.0.load(SeqCst), 1);
    assert_eq!(join.as_mut().poll(&mut cx), Poll::Ready(()));
    let msg = expect_panic(|| q.task_done());
    assert!(msg.contains("task_done called more times"), "{msg}");
}

/// asyncio's worker pool: 4 workers, 1,000 jobs; `join()` returns only
/// once every job was processed.
#[test]
fn join_with_a_worker_pool() {
    watchdog(|| {
        let rt = multi(2);
        let q = Arc::new(Queue::new(8));
        let processed = Arc::new(AtomicUsize::new(0));
        rt.block_on(async {
            let workers: Vec<_> = (0..4)
                .map(|_| {
                    let (q, processed) = (q.clone(), processed.clone());
                    windlass::spawn(async move {
                        while let Ok(job) = q.get().await {
                            let _: usize = job;
                            yield_now().await; // the work
                            processed.fetch_add(1, SeqCst);
                            q.task_done();
                        }
                    })
                })
                .collect();
            for job in 0..1000 {
                q.put(job).await.unwrap();
            }
            q.join().await;
            assert_eq!(processed.load(SeqCst), 1000, "join returned early");
            q.shutdown(false);
            for w in workers {
                w.await.unwrap();
            }
        });
    });
}

#[test]
fn put_waits_while_full() {
    let q = Queue::new(2);
    let (wakes, w) = counting_waker();
    let mut cx = Context::from_waker(&w);
    q.put_nowait('a').unwrap();
    q.put_nowait('b').unwrap();
    assert!(q.is_full());
    assert_eq!(q.put_nowait('x'), Err(TryPutError::Full('x')));
    let mut put = pin!(q.put('c'));
    assert!(put.as_mut().poll(&mut cx).is_pending());
    assert_eq!(q.get_nowait(), Ok('a'));
    assert_eq!(wakes.0.load(SeqCst), 1, "a get must wake a waiting putter");
    assert_eq!(put.as_mut().poll(&mut cx), Poll::Ready(Ok(())));
    assert_eq!(q.get_nowait(), Ok('b'));
    assert_eq!(q.get_nowait(), Ok('c'));
    assert_eq!(q.get_nowait(), Err(TryGetError::Empty));
}

#[test]
fn get_waits_while_empty() {
    let q = Queue::new(0);
    let (wakes, w) = counting_waker();
    let mut cx = Context::from_waker(&w);
    let mut get = pin!(q.get());
    assert!(get.as_mut().poll(&mut cx).is_pending());
    q.put_nowait(1).unwrap();
    assert_eq!(wakes.0.load(SeqCst), 1);
    assert_eq!(get.as_mut().poll(&mut cx), Poll::Ready(Ok(1)));
    assert!(!q.is_full(), "an unbounded queue is never full");
}

#[test]
fn lifo_and_priority_orders() {
    let lifo: LifoQueue<u32> = Queue::lifo(0);
    let prio: PriorityQueue<(u8, &str)> = Queue::priority(0);
    for i in 0..5 {
        lifo.put_nowait(i).unwrap();
    }
    for item in [(3, "c"), (1, "a"), (2, "b"), (1, "a2")] {
        prio.put_nowait(item).unwrap();
    }
    let lifo_out: Vec<_> = std::iter::from_fn(|| lifo.get_nowait().ok()).collect();
    assert_eq!(lifo_out, [4, 3, 2, 1, 0]);
    let prio_out: Vec<_> = std::iter::from_fn(|| prio.get_nowait().ok()).collect();
    assert_eq!(prio_out, [(1, "a"), (1, "a2"), (2, "b"), (3, "c")]);
    assert_eq!(lifo.unfinished_tasks(), 5);
}

#[test]
fn shutdown_ends_puts_and_drains_gets() {
    let q = Queue::new(1);
    let (wakes, w) = counting_waker();
    let mut cx = Context::from_waker(&w);
    q.put_nowait(1).unwrap();
    let mut blocked_put = pin!(q.put(2));
    assert!(blocked_put.as_mut().poll(&mut cx).is_pending());
    q.shutdown(false);
    assert!(wakes.0.load(SeqCst) >= 1);
    assert_eq!(
        blocked_put.as_mut().poll(&mut cx),
        Poll::Ready(Err(PutError(2)))
    );
    assert_eq!(q.put_nowait(3), Err(TryPutError::ShutDown(3)));
    assert_eq!(future::block_on(q.get()), Ok(1), "queued items still drain");
    assert!(matches!(future::block_on(q.get()), Err(GetError { .. })));
    assert_eq!(q.get_nowait(), Err(TryGetError::ShutDown));
}

#[test]
fn immediate_shutdown_drops_items_and_releases_join() {
    let drops = DropCounter::new();
    let q = Queue::new(0);
    for _ in 0..3 {
        q.put_nowait(drops.token()).unwrap();
    }
    let taken = q.get_nowait().unwrap();
    let (wakes, w) = counting_waker();
    let mut cx = Context::from_waker(&w);
    let mut join = pin!(q.join());
    let mut get = pin!(q.get());
    assert!(join.as_mut().poll(&mut cx).is_pending());
    q.shutdown(true);
    assert_eq!(drops.dropped(), 2, "queued items dropped at once");
    assert_eq!(
        q.unfinished_tasks(),
        1,
        "the taken item is still unfinished"
    );
    assert!(matches!(get.as_mut().poll(&mut cx), Poll::Ready(Err(_))));
    assert!(join.as_mut().poll(&mut cx).is_pending());
    drop(taken);
    q.task_done();
    assert!(wakes.0.load(SeqCst) >= 1);
    assert_eq!(join.as_mut().poll(&mut cx), Poll::Ready(()));
}

/// A putter (or getter) woken for room (or an item) but dropped before it
/// used it passes the wake-up on to the next one.
#[test]
fn cancelled_waiters_pass_wakeups_on() {
    let q = Queue::new(1);
    let (wa, a_waker) = counting_waker();
    let (wb, b_waker) = counting_waker();
    q.put_nowait(0).unwrap();
    let mut a = Box::pin(q.put(1));
    let mut b = Box::pin(q.put(2));
    assert!(
        a.as_mut()
            .poll(&mut Context::from_waker(&a_waker))
            .is_pending()
    );
    assert!(
        b.as_mut()
            .poll(&mut Context::from_waker(&b_waker))
            .is_pending()
    );
    assert_eq!(q.get_nowait(), Ok(0));
    assert_eq!((wa.0.load(SeqCst), wb.0.load(SeqCst)), (1, 0));
    drop(a);
    assert_eq!(wb.0.load(SeqCst), 1, "the room was lost with a dropped put");
    assert_eq!(
        b.as_mut().poll(&mut Context::from_waker(&b_waker)),
        Poll::Ready(Ok(()))
    );
    assert_eq!(q.get_nowait(), Ok(2));

    let (wa, a_waker) = counting_waker();
    let (wb, b_waker) = counting_waker();
    let mut a = Box::pin(q.get());
    let mut b = Box::pin(q.get());
    assert!(
        a.as_mut()
            .poll(&mut Context::from_waker(&a_waker))
            .is_pending()
    );
    assert!(
        b.as_mut()
            .poll(&mut Context::from_waker(&b_waker))
            .is_pending()
    );
    q.put_nowait(7).unwrap();
    assert_eq!((wa.0.load(SeqCst), wb.0.load(SeqCst)), (1, 0));
    drop(a);
    assert_eq!(
        wb.0.load(SeqCst),
        1,
        "the item's wake-up was lost with a dropped get"
    );
    assert_eq!(
        b.as_mut().poll(&mut Context::from_waker(&b_waker)),
        Poll::Ready(Ok(7))
    );
}

/// 8 producers x 8 consumers on 2 workers through a small queue: every
/// item arrives exactly once.
#[test]
fn eight_producers_eight_consumers_exactly_once() {
    watchdog(|| {
        const PRODUCERS: usize = 8;
        const CONSUMERS: usize = 8;
        const PER: usize = 500;
        let rt = multi(2);
        let q = Arc::new(Queue::<usize>::new(16));
        let seen: Arc<Vec<AtomicUsize>> =
            Arc::new((0..PRODUCERS * PER).map(|_| AtomicUsize::new(0)).collect());
        rt.block_on(async {
            let consumers: Vec<_> = (0..CONSUMERS)
                .map(|_| {
                    let (q, seen) = (q.clone(), seen.clone());
                    windlass::spawn(async move {
                        while let Ok(item) = q.get().await {
                            seen[item].fetch_add(1, SeqCst);
                            q.task_done();
                        }
                    })
                })
                .collect();
            let producers: Vec<_> = (0..PRODUCERS)
                .map(|p| {
                    let q = q.clone();
                    windlass::spawn(async move {
                        for i in 0..PER {
                            q.put(p * PER + i).await.unwrap();
                        }
                    })
                })
                .collect();
            for p in producers {
                p.await.unwrap();
            }
            q.join().await;
            q.shutdown(false);
            for c in consumers {
                c.await.unwrap();
            }
        });
        for (i, n) in seen.iter().enumerate() {
            assert_eq!(n.load(SeqCst), 1, "item {i}");
        }
    });
}

/// Tasks that put then get are aborted at random while the queue is in
/// use (unbounded, so orphaned items cannot block everyone's `put`). An item counts as sent when `put` returned and as received when
/// `get` returned (nothing can cancel a task between those and the
/// bookkeeping, which has no `.await`); what is left in the queue is
/// drained at the end. Sent = received + drained, item by item.
#[test]
fn random_aborts_lose_nothing() {
    watchdog(|| {
        const TASKS: usize = 60;
        const PER: usize = 50;
        let rt = multi(2);
        let q = Arc::new(Queue::<usize>::new(0));
        let sent: Arc<Vec<AtomicUsize>> =
            Arc::new((0..TASKS * PER).map(|_| AtomicUsize::new(0)).collect());
        let received: Arc<Vec<AtomicUsize>> =
            Arc::new((0..TASKS * PER).map(|_| AtomicUsize::new(0)).collect());
        let mut rng = XorShift::new(11);
        rt.block_on(async {
            let mut handles = Vec::new();
            for t in 0..TASKS {
                let (q, sent, received) = (q.clone(), sent.clone(), received.clone());
                handles.push(windlass::spawn(async move {
                    for i in 0..PER {
                        let item = t * PER + i;
                        q.put(item).await.unwrap();
                        sent[item].fetch_add(1, SeqCst);
                        let got = q.get().await.unwrap();
                        received[got].fetch_add(1, SeqCst);
                    }
                }));
            }
            for h in &handles {
                if rng.below(4) == 0 {
                    h.abort();
                }
                for _ in 0..rng.below(3) {
                    yield_now().await;
                }
            }
            for h in handles {
                let _ = h.await;
            }
        });
        // Every task is done or cancelled: drain what is left.
        let mut drained = vec![0usize; TASKS * PER];
        while let Ok(item) = q.get_nowait() {
            drained[item] += 1;
        }
        for item in 0..TASKS * PER {
            assert_eq!(
                sent[item].load(SeqCst),
                received[item].load(SeqCst) + drained[item],
                "item {item}"
            );
            assert!(sent[item].load(SeqCst) <= 1);
        }
    });
}

#[test]
fn blocking_forms_between_threads() {
    watchdog(|| {
        let q = Arc::new(Queue::new(2));
        let q2 = q.clone();
        let producer = std::thread::spawn(move || {
            for i in 0..100 {
                q2.blocking_put(i).unwrap();
            }
            q2.shutdown(false);
        });
        let mut got = Vec::new();
        while let Ok(i) = q.blocking_get() {
            got.push(i);
        }
        producer.join().unwrap();
        assert_eq!(got, (0..100).collect::<Vec<_>>());
    });
}

thread_local! {
    /// Makes every `Job` comparison on this thread panic.
    static BAD_ORD: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// A priority whose comparison can panic, as `partial_cmp(..).unwrap()`
/// does on a NaN priority: job 99, or any job while `BAD_ORD` is set.
#[derive(Debug, PartialEq, Eq)]
struct Job(u32);

impl PartialOrd for Job {
    fn partial_cmp(&self, other: &Job) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Job {
    fn cmp(&self, other: &Job) -> std::cmp::Ordering {
        if self.0 == 99 || other.0 == 99 || BAD_ORD.get() {
            panic!("a bad priority (expected by this test)");
        }
        self.0.cmp(&other.0)
    }
}

/// A `put` whose comparison panics: std's heap keeps the item, so it must
/// count as unfinished (before, it did not: `join()` returned with the item
/// still queued, and its `task_done()` panicked as one too many).
#[test]
fn a_priority_put_whose_ord_panics_counts_the_item_it_kept() {
    let q = Queue::priority(0);
    q.put_nowait(Job(1)).unwrap();
    expect_panic(|| q.put_nowait(Job(99)));
    assert_eq!(q.len(), 2, "the item stayed in the queue");
    assert_eq!(q.unfinished_tasks(), 2, "every queued item is unfinished");
}

/// A `get` whose comparison panics: std's heap drops the item it was
/// taking out. Nobody can mark it done, so it stops counting (before,
/// `join()` waited for it forever), and the room it freed wakes a waiting
/// putter (before, the putter was never woken).
#[test]
fn a_priority_get_whose_ord_panics_keeps_join_and_putters_going() {
    let q = Queue::priority(3);
    for n in 1..=3 {
        q.put_nowait(Job(n)).unwrap();
    }
    let (putter, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    let mut put = Box::pin(q.put(Job(4)));
    assert!(put.as_mut().poll(&mut cx).is_pending());
    BAD_ORD.set(true);
    expect_panic(|| q.get_nowait());
    BAD_ORD.set(false);
    assert_eq!(q.len(), 2, "std dropped the item being taken");
    assert_eq!(putter.0.load(SeqCst), 1, "the waiting putter was woken");
    assert_eq!(put.as_mut().poll(&mut cx), Poll::Ready(Ok(())));
    for _ in 0..3 {
        q.get_nowait().unwrap();
        q.task_done();
    }
    assert!(
        pin!(q.join()).poll(&mut cx).is_ready(),
        "join waits for an item that no longer exists"
    );
}

/// `get` hands the room of the item it takes to a waiting putter whose
/// waker panics (a foreign executor's). The item is not lost, and `get`
/// does not panic: the waker's panic stays with the waker.
#[test]
fn a_get_keeps_its_item_when_a_putters_waker_panics() {
    let q = Queue::new(1);
    q.put_nowait(1).unwrap();
    let (bad, bad_waker) = panicking_waker();
    let mut put = Box::pin(q.put(2));
    assert!(
        put.as_mut()
            .poll(&mut Context::from_waker(&bad_waker))
            .is_pending()
    );
    assert_eq!(q.get_nowait(), Ok(1));
    assert_eq!(bad.0.load(SeqCst), 1, "the putter was woken");
    let (_, good) = counting_waker();
    assert_eq!(
        put.as_mut().poll(&mut Context::from_waker(&good)),
        Poll::Ready(Ok(()))
    );
    assert_eq!(q.get_nowait(), Ok(2));
}
