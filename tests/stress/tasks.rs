//! Stress: a million tasks spawned from workers and foreign threads, with
//! random yields and cross-task wakes, every one accounted for; and exact
//! destructor counts across a random mix of completion, abort and shutdown.
//!
//! Sizes: the full 1,000,000 tasks run in debug builds too (about 5 s on 2
//! cores), in the 2-worker test; the 4-worker variant runs a fifth of that to
//! keep the suite fast. Miri runs a few hundred. The code paths are the same.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::SeqCst};

use crate::support::{DropCounter, DropToken, XorShift, current, multi, watchdog};
use futures_channel::oneshot;
use windlass::{Handle, JoinHandle, Runtime};

/// Tasks of the main stress test.
const TOTAL: u64 = if cfg!(miri) { 400 } else { 1_000_000 };

/// Tasks a producer spawns before it joins them (bounds memory).
const BATCH: u64 = if cfg!(miri) { 25 } else { 1_000 };
/// Producers: 4 foreign threads and 4 tasks on the runtime.
const PRODUCERS: u64 = 8;

/// Shared tallies of the task bodies.
#[derive(Default)]
struct Tally {
    /// Task bodies that ran to their end.
    completed: AtomicU64,
}

async fn yields(n: u64) {
    for _ in 0..n {
        windlass::yield_now().await;
    }
}

/// Spawns the tasks for indexes `range` (on `handle`); each task's output is
/// its own index, or the sum of the indexes it stands for. Returns handles.
fn spawn_range(
    handle: &Handle,
    range: std::ops::Range<u64>,
    tally: &Arc<Tally>,
) -> Vec<JoinHandle<u64>> {
    let mut out = Vec::with_capacity((range.end - range.start) as usize);
    let mut idx = range.start;
    while idx < range.end {
        let mut rng = XorShift::new(idx);
        let kind = rng.below(4);
        let spare = idx + 1 < range.end;
        match kind {
            // A waiter and a waker linked by a oneshot, spawned in random order.
            0 if spare => {
                let (tx, rx) = oneshot::channel::<u64>();
                let (waiter_idx, waker_idx) = (idx, idx + 1);
                let (t1, t2) = (tally.clone(), tally.clone());
                let n = rng.below(3);
                let waiter = async move {
                    let got = rx.await.expect("the waker sends before it finishes");
                    assert_eq!(got, waker_idx);
                    t1.completed.fetch_add(1, SeqCst);
                    waiter_idx
                };
                let waker = async move {
                    yields(n).await;
                    tx.send(waker_idx).unwrap();
                    t2.completed.fetch_add(1, SeqCst);
                    waker_idx
                };
                if rng.below(2) == 0 {
                    out.push(handle.spawn(waiter));
                    out.push(handle.spawn(waker));
                } else {
                    let w = handle.spawn(waker);
                    out.push(handle.spawn(waiter));
                    out.push(w);
                }
                idx += 2;
            }
            // A task that spawns its child from inside and joins it.
            1 if spare => {
                let (t1, t2) = (tally.clone(), tally.clone());
                let n = rng.below(3);
                let (parent_idx, child_idx) = (idx, idx + 1);
                out.push(handle.spawn(async move {
                    let child = windlass::spawn(async move {
                        yields(n).await;
                        t2.completed.fetch_add(1, SeqCst);
                        child_idx
                    });
                    yields(n % 2).await;
                    let c = child.await.unwrap();
                    t1.completed.fetch_add(1, SeqCst);
                    parent_idx + c
                }));
                idx += 2;
            }
            // A plain task with 0-2 yields.
            _ => {
                let t = tally.clone();
                let n = rng.below(3);
                out.push(handle.spawn(async move {
                    yields(n).await;
                    t.completed.fetch_add(1, SeqCst);
                    idx
                }));
                idx += 1;
            }
        }
    }
    out
}

/// The index range of producer `p`, cut into batches.
fn batches(p: u64, total: u64) -> impl Iterator<Item = std::ops::Range<u64>> {
    let per = total / PRODUCERS;
    let (start, end) = (
        p * per,
        if p == PRODUCERS - 1 {
            total
        } else {
            (p + 1) * per
        },
    );
    (start..end)
        .step_by(BATCH as usize)
        .map(move |b| b..(b + BATCH).min(end))
}

fn many_tasks(rt: Runtime, total: u64) {
    let tally = Arc::new(Tally::default());
    let sum = Arc::new(AtomicU64::new(0));
    let handle = rt.handle().clone();

    // Producers inside the runtime: they spawn from worker threads.
    let in_rt: Vec<_> = (0..PRODUCERS / 2)
        .map(|p| {
            let (h, tally, sum) = (handle.clone(), tally.clone(), sum.clone());
            rt.spawn(async move {
                for range in batches(p, total) {
                    for jh in spawn_range(&h, range, &tally) {
                        sum.fetch_add(jh.await.unwrap(), SeqCst);
                    }
                }
            })
        })
        .collect();
    // Producers on foreign threads.
    let threads: Vec<_> = (PRODUCERS / 2..PRODUCERS)
        .map(|p| {
            let (h, tally, sum) = (handle.clone(), tally.clone(), sum.clone());
            std::thread::spawn(move || {
                for range in batches(p, total) {
                    for jh in spawn_range(&h, range, &tally) {
                        sum.fetch_add(futures_lite::future::block_on(jh).unwrap(), SeqCst);
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    for p in in_rt {
        rt.block_on(p).unwrap();
    }
    assert_eq!(
        tally.completed.load(SeqCst),
        total,
        "every task ran to its end exactly once"
    );
    assert_eq!(
        sum.load(SeqCst),
        total * (total - 1) / 2,
        "every output was delivered once"
    );
    assert_eq!(handle.num_alive_tasks(), 0);
}

#[test]
fn million_tasks_multi_thread() {
    watchdog(|| many_tasks(multi(2), TOTAL));
}

#[test]
fn many_tasks_more_workers_than_cores() {
    // More workers than cores: more stealing and more parking.
    watchdog(|| many_tasks(multi(4), TOTAL / 5));
}

/// An output that counts its drops.
struct Out(#[allow(dead_code)] DropToken);

fn destructor_mix(rt: Runtime, seed: u64, n: usize) {
    let futures = DropCounter::new();
    let outputs = DropCounter::new();
    let mut rng = XorShift::new(seed);
    let mut keep: Vec<JoinHandle<Out>> = Vec::new();
    let mut to_abort = Vec::new();
    // Senders that release some of the waiting tasks later.
    let mut gates = Vec::new();
    // Senders that are never used but kept alive until the end (their
    // tasks wait forever unless aborted or shut down).
    let mut never = Vec::new();
    for _ in 0..n {
        let fut_token = futures.token();
        let o = outputs.clone();
        let h = match rng.below(5) {
            // Completes at once, or after yields.
            0 | 1 => {
                let y = rng.below(3);
                rt.spawn(async move {
                    let _f = fut_token;
                    yields(y).await;
                    Out(o.token())
                })
            }
            // Completes when its gate is released.
            2 => {
                let (tx, rx) = oneshot::channel::<()>();
                gates.push(tx);
                rt.spawn(async move {
                    let _f = fut_token;
                    let _ = rx.await;
                    Out(o.token())
                })
            }
            // Waits forever.
            _ => {
                let (tx, rx) = oneshot::channel::<()>();
                never.push(tx);
                rt.spawn(async move {
                    let _f = fut_token;
                    let _ = rx.await;
                    std::future::pending::<()>().await;
                    Out(o.token())
                })
            }
        };
        if rng.below(4) == 0 {
            to_abort.push(h.abort_handle());
        }
        match rng.below(3) {
            0 => drop(h), // detached
            _ => keep.push(h),
        }
    }
    // Release the gates from one thread while aborting from another, so
    // completions and aborts race.
    std::thread::scope(|s| {
        s.spawn(|| {
            for g in gates {
                let _ = g.send(());
            }
        });
        s.spawn(|| {
            for a in &to_abort {
                a.abort();
            }
        });
    });
    // Drive the runtime a little (a current-thread runtime runs tasks only
    // inside block_on), then read some outputs before the shutdown.
    rt.block_on(async {
        for _ in 0..20 {
            windlass::yield_now().await;
        }
    });
    let split = keep.len() / 3;
    let early: Vec<_> = keep.drain(..split).collect();
    for h in early {
        if h.is_finished() {
            if let Ok(out) = futures_lite::future::block_on(h) {
                drop(out);
            }
        } else {
            drop(h);
        }
    }
    // Shut down with the rest in every state: queued, waiting, finished.
    drop(rt);
    assert_eq!(
        futures.dropped(),
        futures.created(),
        "every future dropped exactly once"
    );
    // Read half of the remaining handles, drop the others unread.
    for (i, h) in keep.into_iter().enumerate() {
        if i % 2 == 0 {
            assert!(h.is_finished(), "after shutdown every task is finished");
            match futures_lite::future::block_on(h) {
                Ok(out) => drop(out),
                Err(e) => assert!(e.is_cancelled(), "{e:?}"),
            }
        } else {
            drop(h);
        }
    }
    drop(to_abort);
    drop(never);
    assert_eq!(futures.created(), n);
    assert_eq!(futures.dropped(), n);
    assert_eq!(
        outputs.dropped(),
        outputs.created(),
        "every output dropped exactly once"
    );
}

#[test]
fn destructor_counts_across_spawn_abort_shutdown_multi_thread() {
    const N: usize = if cfg!(miri) { 100 } else { 20_000 };
    watchdog(|| {
        for seed in 1..=4 {
            destructor_mix(multi(2), seed, N);
        }
    });
}

#[test]
fn destructor_counts_across_spawn_abort_shutdown_current_thread() {
    const N: usize = if cfg!(miri) { 100 } else { 20_000 };
    watchdog(|| {
        for seed in 5..=6 {
            destructor_mix(current(), seed, N);
        }
    });
}

#[test]
fn abort_races_completion() {
    // Each task is aborted from another thread right as it may complete:
    // every join gives either the output or "cancelled", and every output
    // produced is dropped exactly once.
    const N: usize = if cfg!(miri) { 50 } else { 20_000 };
    watchdog(|| {
        let rt = multi(2);
        let outputs = DropCounter::new();
        let handles: Vec<_> = (0..N)
            .map(|_| {
                let o = outputs.clone();
                rt.spawn(async move { Out(o.token()) })
            })
            .collect();
        let aborts: Vec<_> = handles.iter().map(|h| h.abort_handle()).collect();
        let aborter = std::thread::spawn(move || {
            for a in aborts {
                a.abort();
            }
        });
        let (mut ok, mut cancelled) = (0, 0);
        for h in handles {
            match rt.block_on(h) {
                Ok(out) => {
                    drop(out);
                    ok += 1;
                }
                Err(e) => {
                    assert!(e.is_cancelled());
                    cancelled += 1;
                }
            }
        }
        aborter.join().unwrap();
        assert_eq!(ok + cancelled, N);
        assert_eq!(rt.handle().num_alive_tasks(), 0);
        drop(rt);
        assert_eq!(outputs.dropped(), outputs.created());
        assert!(outputs.created() >= ok);
    });
}

#[test]
fn wake_storm_from_foreign_threads() {
    // Many tasks parked on channels, woken by 4 foreign threads at once.
    const N: usize = if cfg!(miri) { 40 } else { 20_000 };
    watchdog(|| {
        let rt = multi(2);
        let woke = Arc::new(AtomicUsize::new(0));
        let mut senders = Vec::with_capacity(N);
        let mut handles = Vec::with_capacity(N);
        for i in 0..N {
            let (tx, rx) = oneshot::channel::<usize>();
            senders.push(tx);
            let w = woke.clone();
            handles.push(rt.spawn(async move {
                let v = rx.await.unwrap();
                assert_eq!(v, i);
                w.fetch_add(1, SeqCst);
                v
            }));
        }
        let chunks: Vec<Vec<_>> = {
            let mut it = senders.into_iter().enumerate();
            (0..4)
                .map(|_| it.by_ref().take(N / 4 + 1).collect())
                .collect()
        };
        let threads: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                std::thread::spawn(move || {
                    for (i, tx) in chunk {
                        tx.send(i).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let sum: usize = handles.into_iter().map(|h| rt.block_on(h).unwrap()).sum();
        assert_eq!(sum, N * (N - 1) / 2);
        assert_eq!(woke.load(SeqCst), N);
    });
}
