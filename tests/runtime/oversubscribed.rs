//! 16 workers on however few cores the machine has (2 in CI): more workers
//! than cores means workers are preempted in the middle of the idle
//! protocol (between registering as a sleeper and the re-check, between
//! a push and its notify), which is where a lost wake-up would hide.
//!
//! Each test is under the support watchdog, so a lost wake-up or starvation
//! fails with a message instead of hanging; shutdown is checked against its
//! own timeout.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::time::{Duration, Instant};

use crate::support::{multi, watchdog};
use windlass::sync::{mpsc, oneshot};

const WORKERS: usize = 16;
/// Ping-pong pairs, and round trips per pair.
const PAIRS: usize = if cfg!(miri) { 4 } else { 64 };
const ROUNDS: usize = if cfg!(miri) { 10 } else { 2_000 };

/// Pairs of tasks bounce a counter through oneshots: every hop is a wake
/// of a task that may sit on any of 16 workers, most of them parked. A
/// lost wake-up stops a pair for good, and the watchdog fires.
#[test]
fn ping_pong_across_16_workers_loses_no_wake_up() {
    watchdog(|| {
        let rt = multi(WORKERS);
        let hops = rt.block_on(async {
            let mut pairs = Vec::new();
            for _ in 0..PAIRS {
                let (to_b, mut at_b) = mpsc::unbounded_channel::<oneshot::Sender<usize>>();
                let echo = windlass::spawn(async move {
                    let mut served = 0;
                    while let Some(reply) = at_b.recv().await {
                        served += 1;
                        reply.send(served).expect("pinger waits");
                    }
                    served
                });
                let ping = windlass::spawn(async move {
                    let mut last = 0;
                    for _ in 0..ROUNDS {
                        let (tx, rx) = oneshot::channel();
                        to_b.send(tx).expect("echo task alive");
                        last = rx.await.expect("echo replied");
                    }
                    last
                });
                pairs.push((ping, echo));
            }
            let mut hops = 0;
            for (ping, echo) in pairs {
                assert_eq!(ping.await.unwrap(), ROUNDS);
                hops += echo.await.unwrap();
            }
            hops
        });
        assert_eq!(hops, PAIRS * ROUNDS);
    });
}

/// Every worker runs a task that never stops yielding; tasks spawned from
/// outside (the injector) and from inside (local queues, stealing) must
/// still all run.
#[test]
fn busy_workers_do_not_starve_new_tasks() {
    watchdog(|| {
        let rt = multi(WORKERS);
        let stop = Arc::new(AtomicBool::new(false));
        let busy: Vec<_> = (0..WORKERS)
            .map(|_| {
                let stop = stop.clone();
                rt.spawn(async move {
                    let mut spins = 0u64;
                    while !stop.load(SeqCst) {
                        windlass::yield_now().await;
                        spins += 1;
                    }
                    spins
                })
            })
            .collect();
        let ran = Arc::new(AtomicUsize::new(0));
        let n = if cfg!(miri) { 20 } else { 20_000 };
        let outside: Vec<_> = (0..n)
            .map(|_| {
                let ran = ran.clone();
                rt.spawn(async move {
                    ran.fetch_add(1, SeqCst);
                })
            })
            .collect();
        let inside = {
            let ran = ran.clone();
            rt.spawn(async move {
                let spawned: Vec<_> = (0..n)
                    .map(|_| {
                        let ran = ran.clone();
                        windlass::spawn(async move {
                            ran.fetch_add(1, SeqCst);
                        })
                    })
                    .collect();
                for t in spawned {
                    t.await.unwrap();
                }
            })
        };
        rt.block_on(async {
            for t in outside {
                t.await.unwrap();
            }
            inside.await.unwrap();
        });
        assert_eq!(ran.load(SeqCst), 2 * n);
        stop.store(true, SeqCst);
        rt.block_on(async {
            for t in busy {
                t.await.unwrap();
            }
        });
    });
}

/// Shutdown with 16 workers, some busy yielding, some tasks parked on
/// channels nobody will send to, and a timer far in the future: it returns
/// within its timeout, and every task's future is dropped.
#[test]
fn shutdown_of_16_busy_and_parked_workers_is_prompt() {
    struct Dropped(Arc<AtomicUsize>);
    impl Drop for Dropped {
        fn drop(&mut self) {
            self.0.fetch_add(1, SeqCst);
        }
    }
    watchdog(|| {
        let rt = multi(WORKERS);
        let dropped = Arc::new(AtomicUsize::new(0));
        let started = Arc::new(AtomicUsize::new(0));
        let mut keep = Vec::new();
        for i in 0..(4 * WORKERS) {
            let (guard, started) = (Dropped(dropped.clone()), started.clone());
            let (tx, rx) = oneshot::channel::<()>();
            keep.push(tx);
            drop(rt.spawn(async move {
                let _guard = guard;
                started.fetch_add(1, SeqCst);
                match i % 3 {
                    0 => loop {
                        windlass::yield_now().await;
                    },
                    1 => {
                        let _ = rx.await;
                    }
                    _ => windlass::time::sleep(Duration::from_secs(3600)).await,
                }
            }));
        }
        while started.load(SeqCst) < 4 * WORKERS {
            std::thread::yield_now();
        }
        let limit = Duration::from_secs(10);
        let begun = Instant::now();
        rt.shutdown_timeout(limit);
        assert!(
            begun.elapsed() < limit,
            "shutdown took {:?}, past its timeout",
            begun.elapsed()
        );
        assert_eq!(dropped.load(SeqCst), 4 * WORKERS, "every future dropped");
        drop(keep);
    });
}
