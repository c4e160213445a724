//! Shutting a runtime down while tasks are blocked in the reactor (in
//! `accept`, `read` and `sleep`): nothing hangs, every future is dropped
//! exactly once and never resumed, and every source and timer is
//! deregistered. Also: I/O objects and timers that outlive their runtime.

use std::net::Shutdown;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use crate::support::{
    DropCounter, current, expect_panic, multi, signal_when_pending, wait_registered, watchdog,
};
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use windlass::Runtime;
use windlass::net::{TcpListener, TcpStream, UdpSocket, UnixStream};
use windlass::time::{interval, sleep, timeout};

const HOUR: Duration = Duration::from_secs(3600);

/// What `block_in_reactor` set up.
struct Blocked {
    drops: DropCounter,
    /// Bumped if a blocked future ever got past its await.
    resumed: Arc<AtomicUsize>,
    tasks: usize,
    sources: usize,
    timers: usize,
}

/// Spawns tasks that block in `accept`, `read` (TCP, Unix, UDP) and
/// `sleep` / `timeout` / `interval`, waits until every one of them is
/// registered with the reactor, and checks the reactor's counts.
fn block_in_reactor(rt: &Runtime) -> Blocked {
    let drops = DropCounter::new();
    let resumed = Arc::new(AtomicUsize::new(0));
    let (reg_tx, reg_rx) = async_channel::unbounded();
    let handle = rt.handle().clone();
    let (tasks, sources, timers) = rt.block_on(async {
        let mut tasks = 0;
        let mut spawn_blocked = |fut: std::pin::Pin<Box<dyn Future<Output = ()> + Send>>| {
            let (token, resumed, reg_tx) = (drops.token(), resumed.clone(), reg_tx.clone());
            // Detached: the runtime alone owns these tasks.
            drop(windlass::spawn(signal_when_pending(
                async move {
                    let _token = token;
                    fut.await;
                    resumed.fetch_add(1, SeqCst);
                },
                reg_tx,
            )));
            tasks += 1;
        };

        // Two tasks blocked in accept.
        for _ in 0..2 {
            let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
            spawn_blocked(Box::pin(async move {
                let _ = l.accept().await;
            }));
        }
        // Both ends of a TCP connection blocked in read.
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let (client, (server, _)) =
            futures_lite::future::zip(async { TcpStream::connect(addr).await.unwrap() }, async {
                l.accept().await.unwrap()
            })
            .await;
        drop(l);
        for mut s in [client, server] {
            spawn_blocked(Box::pin(async move {
                let mut buf = [0; 16];
                let _ = s.read(&mut buf).await;
            }));
        }
        // Split halves: a read blocked, the write half idle in the task.
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let (client, (server, _)) =
            futures_lite::future::zip(async { TcpStream::connect(addr).await.unwrap() }, async {
                l.accept().await.unwrap()
            })
            .await;
        drop(l);
        let (mut rd, wr) = client.into_split();
        spawn_blocked(Box::pin(async move {
            let _wr = wr;
            let mut buf = [0; 16];
            let _ = rd.read(&mut buf).await;
        }));
        spawn_blocked(Box::pin(async move {
            let mut server = server;
            let mut buf = [0; 16];
            let _ = server.read(&mut buf).await;
        }));
        // A Unix pair and a UDP socket blocked in read.
        let (ua, ub) = UnixStream::pair().unwrap();
        for mut s in [ua, ub] {
            spawn_blocked(Box::pin(async move {
                let mut buf = [0; 16];
                let _ = s.read(&mut buf).await;
            }));
        }
        let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        spawn_blocked(Box::pin(async move {
            let mut buf = [0; 16];
            let _ = udp.recv_from(&mut buf).await;
        }));
        // Timers: sleeps, a timeout around a pending future, an interval.
        for i in 0..3 {
            spawn_blocked(Box::pin(sleep(HOUR + Duration::from_secs(i))));
        }
        spawn_blocked(Box::pin(async {
            let _ = timeout(HOUR, std::future::pending::<()>()).await;
        }));
        spawn_blocked(Box::pin(async {
            let mut iv = interval(HOUR);
            iv.tick().await;
            iv.tick().await;
        }));

        wait_registered(&reg_rx, tasks).await;
        // 2 listeners, 4 TCP streams, 2 Unix streams, 1 UDP socket.
        let sources = 2 + 4 + 2 + 1;
        let timers = 3 + 1 + 1;
        assert_eq!(handle.num_io_sources(), sources);
        assert_eq!(handle.num_timers(), timers);
        (tasks, sources, timers)
    });
    assert_eq!(drops.created(), tasks);
    assert_eq!(drops.dropped(), 0, "a blocked task finished early");
    assert_eq!(rt.handle().num_alive_tasks(), tasks);
    Blocked {
        drops,
        resumed,
        tasks,
        sources,
        timers,
    }
}

fn check_after_shutdown(handle: &windlass::Handle, b: &Blocked) {
    assert!(b.tasks > 0 && b.sources > 0 && b.timers > 0);
    assert_eq!(b.drops.dropped(), b.tasks, "every future dropped once");
    assert_eq!(b.resumed.load(SeqCst), 0, "a cancelled task was resumed");
    assert!(handle.is_shutdown());
    assert_eq!(handle.num_alive_tasks(), 0);
    assert_eq!(handle.num_io_sources(), 0, "sources left registered");
    assert_eq!(handle.num_timers(), 0, "timers left registered");
}

#[test]
fn drop_multi_thread_runtime_with_tasks_blocked_in_the_reactor() {
    watchdog(|| {
        let rt = multi(2);
        let handle = rt.handle().clone();
        let blocked = block_in_reactor(&rt);
        drop(rt);
        check_after_shutdown(&handle, &blocked);
    });
}

#[test]
fn drop_current_thread_runtime_with_tasks_blocked_in_the_reactor() {
    watchdog(|| {
        let rt = current();
        let handle = rt.handle().clone();
        let blocked = block_in_reactor(&rt);
        drop(rt);
        check_after_shutdown(&handle, &blocked);
    });
}

#[test]
fn shutdown_timeout_and_background_with_tasks_blocked_in_the_reactor() {
    watchdog(|| {
        let rt = multi(2);
        let handle = rt.handle().clone();
        let blocked = block_in_reactor(&rt);
        rt.shutdown_timeout(Duration::from_secs(10));
        check_after_shutdown(&handle, &blocked);

        let rt = multi(2);
        let handle = rt.handle().clone();
        let blocked = block_in_reactor(&rt);
        rt.shutdown_background();
        // The workers cancel the tasks in the background; wait for that by
        // polling the counter (bounded by the watchdog), not by sleeping.
        while blocked.drops.dropped() < blocked.tasks
            || handle.num_io_sources() > 0
            || handle.num_timers() > 0
            || handle.num_alive_tasks() > 0
        {
            std::thread::yield_now();
        }
        check_after_shutdown(&handle, &blocked);
    });
}

#[test]
fn many_runtimes_with_io_and_timers_shut_down_cleanly() {
    // Start and stop the reactor repeatedly, each time with live sources
    // and timers: catches a shutdown that hangs once in a while.
    watchdog(|| {
        for i in 0..20 {
            let rt = if i % 2 == 0 { multi(2) } else { current() };
            let handle = rt.handle().clone();
            let blocked = block_in_reactor(&rt);
            drop(rt);
            check_after_shutdown(&handle, &blocked);
        }
    });
}

#[test]
fn io_objects_outliving_their_runtime_fail_instead_of_hanging() {
    watchdog(|| {
        let rt = multi(2);
        let handle = rt.handle().clone();
        let (mut a, mut b, sleep_later) = rt.block_on(async {
            let (a, b) = UnixStream::pair().unwrap();
            (a, b, sleep(HOUR))
        });
        drop(rt);
        // Still registered: they live on, outside any runtime.
        assert_eq!(handle.num_io_sources(), 2);
        // Data already there is still readable (no wait needed)...
        futures_lite::future::block_on(async {
            a.write_all(b"x").await.unwrap();
            let mut one = [0; 1];
            b.read_exact(&mut one).await.unwrap();
            // ...but a read that would have to wait fails, naming the cause.
            let err = b.read(&mut one).await.unwrap_err();
            assert!(err.to_string().contains("shut down"), "{err}");
        });
        a.shutdown(Shutdown::Both).unwrap();
        drop((a, b));
        assert_eq!(handle.num_io_sources(), 0);

        // A timer polled after its runtime shut down panics, saying why.
        let msg = expect_panic(|| futures_lite::future::block_on(sleep_later));
        assert!(msg.contains("shut down"), "{msg}");

        // New I/O objects cannot be registered with it any more.
        let _guard = handle.enter();
        let err = UnixStream::pair().unwrap_err();
        assert!(err.to_string().contains("shut down"), "{err}");
    });
}

#[test]
fn waiters_outside_the_runtime_are_woken_by_shutdown() {
    // Plain threads blocked on the runtime's reactor (through
    // `futures_lite::future::block_on`) are woken when it shuts down: the
    // read fails with an error, the sleep panics, neither hangs.
    watchdog(|| {
        let rt = multi(2);
        let handle = rt.handle().clone();
        let (reg_tx, reg_rx) = async_channel::unbounded();
        let (a, mut b) = {
            let _guard = rt.enter();
            UnixStream::pair().unwrap()
        };
        let reader = {
            let reg_tx = reg_tx.clone();
            std::thread::spawn(move || {
                futures_lite::future::block_on(signal_when_pending(
                    async {
                        let mut buf = [0; 1];
                        b.read(&mut buf).await
                    },
                    reg_tx,
                ))
            })
        };
        let sleeper = {
            let s = {
                let _guard = rt.enter();
                sleep(HOUR)
            };
            std::thread::spawn(move || {
                futures_lite::future::block_on(signal_when_pending(s, reg_tx));
            })
        };
        futures_lite::future::block_on(wait_registered(&reg_rx, 2));
        assert_eq!(handle.num_timers(), 1);
        drop(rt);

        let err = reader.join().unwrap().unwrap_err();
        assert!(err.to_string().contains("shut down"), "{err}");
        let payload = sleeper.join().unwrap_err();
        let msg = crate::support::panic_message(&*payload);
        assert!(msg.contains("shut down"), "{msg}");
        assert_eq!(handle.num_timers(), 0);
        drop(a);
        assert_eq!(handle.num_io_sources(), 0);
    });
}
