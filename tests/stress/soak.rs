//! A mixed soak (issue #13): rounds of TCP echo, timers, blocking calls,
//! channel pipelines and aborts on one runtime, with exact counts every
//! round, nothing left behind (tasks, timers, sockets), and the resident
//! memory compared between the end of the warm-up and the end.
//!
//! Size: 3 warm-up rounds then 40 measured rounds of 32 connections, 200
//! timers, 64 blocking calls, 2,000 channel messages and 200 aborts each
//! (under a second on 2 cores in a debug build); `WINDLASS_STRESS_SCALE`
//! multiplies the measured rounds, for a longer soak by hand. It runs in a
//! child process of its own (`support::child::isolate`): the resident size
//! is the whole process's, and the other stress tests allocate too.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use crate::support::{DropCounter, XorShift, child, multi, rss_bytes, stress_scale, watchdog_for};
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use windlass::net::{AcceptBackoff, TcpListener, TcpStream};
use windlass::runtime::Handle;
use windlass::sync::mpsc;
use windlass::time::sleep;

const WARM_UP: usize = 3;
const ROUNDS: usize = 40;
const CONNS: usize = 32;
const TIMERS: usize = 200;
const BLOCKING: u64 = 64;
const MESSAGES: u64 = 2_000;
const ABORTS: usize = 200;
/// Allowed RSS growth between the warm-up and the end.
const RSS_SLACK: usize = 8 << 20;

/// One round; returns nothing but asserts every count exactly.
async fn round(addr: std::net::SocketAddr, seed: u64, drops: &DropCounter) {
    let mut rng = XorShift::new(seed);
    // TCP: each client sends a distinct payload and gets it back.
    let clients: Vec<_> = (0..CONNS)
        .map(|i| {
            let len = 1 + rng.below(4096) as usize;
            windlass::spawn(async move {
                let payload: Vec<u8> = (0..len).map(|b| (b + i) as u8).collect();
                let mut conn = TcpStream::connect(addr).await.unwrap();
                conn.write_all(&payload).await.unwrap();
                conn.close().await.unwrap();
                let mut back = Vec::new();
                conn.read_to_end(&mut back).await.unwrap();
                assert_eq!(back, payload);
                len
            })
        })
        .collect();
    // Timers of 0-3 ms, each counted when it fires.
    let fired = Arc::new(AtomicUsize::new(0));
    let timers: Vec<_> = (0..TIMERS)
        .map(|_| {
            let (f, ms) = (fired.clone(), rng.below(4));
            windlass::spawn(async move {
                sleep(Duration::from_millis(ms)).await;
                f.fetch_add(1, SeqCst);
            })
        })
        .collect();
    // Blocking calls.
    let blocking: Vec<_> = (0..BLOCKING)
        .map(|n| windlass::spawn_blocking(move || n * n))
        .collect();
    // A channel pipeline: producer -> doubler -> consumer.
    let (tx, mut rx) = mpsc::channel::<u64>(16);
    let (tx2, mut rx2) = mpsc::channel::<u64>(16);
    let producer = windlass::spawn(async move {
        for m in 0..MESSAGES {
            tx.send(m).await.unwrap();
        }
    });
    let doubler = windlass::spawn(async move {
        while let Some(m) = rx.recv().await {
            tx2.send(2 * m).await.unwrap();
        }
    });
    let consumer = windlass::spawn(async move {
        let mut sum = 0;
        while let Some(m) = rx2.recv().await {
            sum += m;
        }
        sum
    });
    // Aborts: tasks stuck on a timer far away, each owning a drop token.
    let doomed: Vec<_> = (0..ABORTS)
        .map(|_| {
            let token = drops.token();
            windlass::spawn(async move {
                let _token = token;
                sleep(Duration::from_secs(3600)).await;
            })
        })
        .collect();
    for d in &doomed {
        d.abort();
    }

    let bytes: usize = windlass::join_all(clients)
        .await
        .into_iter()
        .map(Result::unwrap)
        .sum();
    assert!(bytes >= CONNS);
    for t in windlass::join_all(timers).await {
        t.unwrap();
    }
    assert_eq!(fired.load(SeqCst), TIMERS);
    let squares: u64 = windlass::join_all(blocking)
        .await
        .into_iter()
        .map(Result::unwrap)
        .sum();
    assert_eq!(squares, (0..BLOCKING).map(|n| n * n).sum::<u64>());
    producer.await.unwrap();
    doubler.await.unwrap();
    assert_eq!(consumer.await.unwrap(), MESSAGES * (MESSAGES - 1));
    for d in doomed {
        assert!(d.await.unwrap_err().is_cancelled());
    }
}

#[test]
fn mixed_soak_exact_counts_and_flat_rss() {
    if !child::isolate("soak::mixed_soak_exact_counts_and_flat_rss") {
        return; // it ran in a child process of its own
    }
    watchdog_for(Duration::from_secs(50), || {
        let rt = multi(2);
        let handle = rt.handle().clone();
        let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
        let addr = listener.local_addr().unwrap();
        let served = Arc::new(AtomicUsize::new(0));
        let s = served.clone();
        let server = rt.spawn(async move {
            let mut backoff = AcceptBackoff::new();
            loop {
                let (conn, _) = backoff.accept(&listener).await.unwrap();
                let s = s.clone();
                windlass::spawn(async move {
                    let (mut r, mut w) = (&conn, &conn);
                    futures_lite::io::copy(&mut r, &mut w).await.unwrap();
                    s.fetch_add(1, SeqCst);
                });
            }
        });
        let drops = DropCounter::new();
        let check_clean = |h: &Handle| {
            // Only the server task is left, with its listener.
            assert_eq!(h.num_alive_tasks(), 1);
            assert_eq!(h.num_timers(), 0, "a timer outlived its task");
            assert_eq!(h.num_io_sources(), 1, "a socket outlived its task");
        };
        let rounds = ROUNDS * stress_scale();
        let mut warm = 0;
        for r in 0..WARM_UP + rounds {
            rt.block_on(round(addr, r as u64, &drops));
            // An echo handler's client sees end-of-file when the handler
            // drops its socket, just before the handler task completes:
            // wait for the last ones of this round to finish (the watchdog
            // is the deadline).
            rt.block_on(async {
                while handle.num_alive_tasks() > 1 {
                    windlass::yield_now().await;
                }
            });
            assert_eq!(served.load(SeqCst), CONNS * (r + 1));
            check_clean(&handle);
            if r + 1 == WARM_UP {
                warm = rss_bytes();
            }
        }
        let end = rss_bytes();
        assert_eq!(served.load(SeqCst), CONNS * (WARM_UP + rounds));
        assert_eq!(drops.created(), ABORTS * (WARM_UP + rounds));
        assert_eq!(drops.dropped(), drops.created());
        assert_eq!(
            handle.num_io_sources(),
            1,
            "only the listener is registered"
        );
        eprintln!(
            "stress_soak: {} rounds; RSS after warm-up {:.1} MiB, at end {:.1} MiB",
            WARM_UP + rounds,
            warm as f64 / 1048576.0,
            end as f64 / 1048576.0
        );
        assert!(
            end <= warm + RSS_SLACK,
            "RSS grew from {warm} to {end} bytes"
        );
        server.abort();
        assert!(rt.block_on(server).unwrap_err().is_cancelled());
    });
}
