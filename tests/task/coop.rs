//! Cooperative budgeting: a task that never returns `Pending` on its own
//! (but calls `consume_budget` or awaits ready `JoinHandle`s) cannot starve
//! the other tasks of its thread.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};

use crate::support::{CountPolls, current, multi, watchdog};
use windlass::Runtime;
use windlass::task::consume_budget;

/// Spins on `consume_budget` until `flag` is set; returns the iterations.
async fn spin_until(flag: Arc<AtomicBool>) -> u64 {
    let mut n = 0u64;
    loop {
        consume_budget().await;
        n += 1;
        if flag.load(SeqCst) {
            return n;
        }
    }
}

fn spinner_does_not_starve_setter(rt: Runtime) {
    let flag = Arc::new(AtomicBool::new(false));
    // Spawned first, so it is polled first.
    let spinner = rt.spawn(spin_until(flag.clone()));
    let f = flag.clone();
    let setter = rt.spawn(async move { f.store(true, SeqCst) });
    let iterations = rt.block_on(async move {
        setter.await.unwrap();
        spinner.await.unwrap()
    });
    assert!(iterations >= 1);
}

#[test]
fn consume_budget_current_thread() {
    watchdog(|| spinner_does_not_starve_setter(current()));
}

#[test]
fn consume_budget_single_worker() {
    watchdog(|| spinner_does_not_starve_setter(multi(1)));
}

#[test]
fn consume_budget_single_worker_setter_spawned_locally() {
    // The setter is spawned from the worker itself, so it sits in the same
    // local queue the spinner keeps yielding to.
    watchdog(|| {
        let rt = multi(1);
        let out = rt.block_on(rt.spawn(async {
            let flag = Arc::new(AtomicBool::new(false));
            let spinner = windlass::spawn(spin_until(flag.clone()));
            let setter = windlass::spawn(async move { flag.store(true, SeqCst) });
            setter.await.unwrap();
            spinner.await.unwrap()
        }));
        assert!(out.unwrap() >= 1);
    });
}

#[test]
fn two_spinners_and_a_setter_from_outside() {
    // Two spinners keep the single worker's local queue non-empty forever;
    // a task arriving through the injector must still get its turn.
    watchdog(|| {
        let rt = multi(1);
        let flag = Arc::new(AtomicBool::new(false));
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let spinners: Vec<_> = (0..2)
            .map(|_| {
                let (f, s) = (flag.clone(), started_tx.clone());
                rt.spawn(async move {
                    s.send(()).unwrap();
                    spin_until(f).await
                })
            })
            .collect();
        started_rx.recv().unwrap();
        started_rx.recv().unwrap();
        let f = flag.clone();
        let setter = rt.spawn(async move { f.store(true, SeqCst) });
        rt.block_on(setter).unwrap();
        for s in spinners {
            assert!(rt.block_on(s).unwrap() >= 1);
        }
    });
}

#[test]
fn consume_budget_yields_now_and_then_but_not_every_time() {
    watchdog(|| {
        let rt = current();
        let polls = Arc::new(AtomicUsize::new(0));
        let fut = CountPolls {
            inner: Box::pin(async {
                for _ in 0..1000 {
                    consume_budget().await;
                }
            }),
            polls: polls.clone(),
        };
        rt.block_on(rt.spawn(fut)).unwrap();
        let polls = polls.load(SeqCst);
        assert!(
            polls > 1,
            "1000 units of work must exceed one poll's budget"
        );
        assert!(
            polls < 100,
            "consume_budget should not yield every time ({polls} polls)"
        );
    });
}

#[test]
fn consume_budget_outside_tasks_never_yields() {
    watchdog(|| {
        // A multi-thread runtime's block_on future has a thread of its own:
        // unlimited budget, and the loop below finishes within one poll.
        // (A current-thread runtime's shares its thread with the tasks, and
        // spends a budget: the test after this one.)
        let rt = multi(1);
        let polls = Arc::new(AtomicUsize::new(0));
        let fut = CountPolls {
            inner: Box::pin(async {
                for _ in 0..1000 {
                    consume_budget().await;
                }
            }),
            polls: polls.clone(),
        };
        rt.block_on(fut);
        assert_eq!(polls.load(SeqCst), 1);
        // And with a foreign executor.
        futures_lite::future::block_on(async {
            for _ in 0..1000 {
                consume_budget().await;
            }
        });
    });
}

#[test]
fn awaiting_ready_join_handles_spends_budget() {
    const N: usize = 1000;
    watchdog(|| {
        let rt = current();
        let handles: Vec<_> = (0..N).map(|i| rt.spawn(async move { i })).collect();
        // Let every one of them finish first.
        rt.block_on(async {
            while !handles.iter().all(|h| h.is_finished()) {
                windlass::yield_now().await;
            }
        });
        let ticks = Arc::new(AtomicUsize::new(0));
        let done = Arc::new(AtomicBool::new(false));
        let (t, d) = (ticks.clone(), done.clone());
        // A ticker that advances whenever it gets a turn.
        let ticker = rt.spawn(async move {
            while !d.load(SeqCst) {
                t.fetch_add(1, SeqCst);
                windlass::yield_now().await;
            }
        });
        let (t, d) = (ticks.clone(), done.clone());
        let joiner = rt.spawn(async move {
            let start = t.load(SeqCst);
            let mut sum = 0;
            for h in handles {
                // Always ready: only the budget can make this loop yield.
                sum += h.await.unwrap();
            }
            d.store(true, SeqCst);
            (sum, t.load(SeqCst) - start)
        });
        let (sum, ticks_during) = rt.block_on(joiner).unwrap();
        rt.block_on(ticker).unwrap();
        assert_eq!(sum, N * (N - 1) / 2);
        assert!(
            ticks_during >= 2,
            "the joiner should have yielded to the ticker (ticks: {ticks_during})"
        );
    });
}

/// The `block_on` future of a current-thread runtime (the body of
/// `#[windlass::main(flavor = "current_thread")]` and of `#[windlass::test]`,
/// asyncio's main task) spends a budget too: looping on a lock that is
/// always free, it still lets a spawned task run. Before, it had none
/// (unlimited, as outside any task), and the spawned task never ran.
#[test]
fn a_busy_block_on_future_lets_the_current_thread_runtimes_tasks_run() {
    watchdog(|| {
        let rt = current();
        let flag = Arc::new(AtomicBool::new(false));
        let f = flag.clone();
        rt.spawn(async move { f.store(true, SeqCst) });
        let lock = windlass::sync::Mutex::new(0u64);
        let rounds = rt.block_on(async {
            for n in 0..1_000_000u64 {
                *lock.lock().await += 1; // always free: never Pending
                if flag.load(SeqCst) {
                    return Some(n);
                }
            }
            None
        });
        let n = rounds.expect("the spawned task never ran while block_on's future was busy");
        assert!(
            n <= 128,
            "it ran at the first budget's end, not after {n} rounds"
        );
    });
}
