//! `as_completed`: completion order (gated and timed), empty input, early
//! drop, handles from other threads.

use std::time::Duration;

use crate::support::{DropCounter, gates, multi, watchdog};
use futures_lite::StreamExt;
use windlass::join::as_completed;
use windlass::time::sleep;

#[test]
fn yields_in_completion_order_gated() {
    watchdog(|| {
        multi(2).block_on(async {
            // Release the inputs in a scrambled order, one at a time, and
            // check each comes out as soon as it is released.
            let order = [3usize, 0, 4, 1, 2];
            let (txs, rxs) = gates(order.len());
            let mut txs: Vec<_> = txs.into_iter().map(Some).collect();
            let tasks = rxs.into_iter().enumerate().map(|(i, rx)| {
                windlass::spawn(async move {
                    rx.await.unwrap();
                    i
                })
            });
            let mut stream = as_completed(tasks);
            assert_eq!(stream.len(), 5);
            for (k, &i) in order.iter().enumerate() {
                txs[i].take().unwrap().send(()).unwrap();
                assert_eq!(stream.next().await.unwrap().unwrap(), i);
                assert_eq!(stream.len(), order.len() - k - 1);
            }
            assert!(stream.next().await.is_none());
            assert!(stream.is_empty());
        });
    });
}

#[test]
fn yields_in_completion_order_under_timers() {
    watchdog(|| {
        multi(2).block_on(async {
            // Deadlines 40 ms apart: the order is the sleep order.
            let delays = [160u64, 40, 200, 120, 80, 0];
            let mut expected = delays.to_vec();
            expected.sort_unstable();

            // Spawned tasks, in parallel.
            let tasks = delays.map(|ms| {
                windlass::spawn(async move {
                    sleep(Duration::from_millis(ms)).await;
                    ms
                })
            });
            let got: Vec<u64> = as_completed(tasks).map(Result::unwrap).collect().await;
            assert_eq!(got, expected);

            // Plain futures, concurrent inside the stream.
            let futs = delays.map(|ms| async move {
                sleep(Duration::from_millis(ms)).await;
                ms
            });
            let got: Vec<u64> = as_completed(futs).collect().await;
            assert_eq!(got, expected);
        });
    });
}

#[test]
fn empty_input_ends_at_once() {
    watchdog(|| {
        let mut s = as_completed(Vec::<std::future::Ready<u8>>::new());
        assert!(s.is_empty());
        assert_eq!(futures_lite::future::block_on(s.next()), None);
    });
}

#[test]
fn dropping_the_stream_cancels_the_rest() {
    watchdog(|| {
        multi(2).block_on(async {
            let drops = DropCounter::new();
            let futs: Vec<_> = (0..4u64)
                .map(|i| {
                    let token = drops.token();
                    async move {
                        let _token = token;
                        if i == 0 {
                            return i;
                        }
                        std::future::pending().await
                    }
                })
                .collect();
            let mut s = as_completed(futs);
            assert_eq!(s.next().await, Some(0));
            assert_eq!(drops.dropped(), 1);
            drop(s);
            assert_eq!(drops.dropped(), 4);
        });
    });
}

#[test]
fn many_tasks() {
    watchdog(|| {
        const N: u64 = 20_000;
        let sum = multi(2).block_on(async {
            let tasks: Vec<_> = (0..N).map(|i| windlass::spawn(async move { i })).collect();
            let mut s = as_completed(tasks);
            let mut sum = 0;
            while let Some(out) = s.next().await {
                sum += out.unwrap();
            }
            sum
        });
        assert_eq!(sum, N * (N - 1) / 2);
    });
}

#[test]
fn handles_spawned_from_other_threads_streamed_on_a_plain_thread() {
    watchdog(|| {
        let rt = multi(2);
        let order = [2usize, 0, 1];
        let (txs, rxs) = gates(order.len());
        // Each task spawned from its own plain thread through the handle.
        let tasks: Vec<windlass::JoinHandle<usize>> = rxs
            .into_iter()
            .enumerate()
            .map(|(i, rx)| {
                let handle = rt.handle().clone();
                std::thread::spawn(move || {
                    handle.spawn(async move {
                        rx.await.unwrap();
                        i
                    })
                })
                .join()
                .unwrap()
            })
            .collect();
        let mut txs: Vec<_> = txs.into_iter().map(Some).collect();
        // Streamed from this thread, with another executor.
        let mut stream = as_completed(tasks);
        for &i in &order {
            txs[i].take().unwrap().send(()).unwrap();
            let next = futures_lite::future::block_on(stream.next());
            assert_eq!(next.unwrap().unwrap(), i);
        }
        assert!(futures_lite::future::block_on(stream.next()).is_none());
    });
}
