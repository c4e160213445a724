//! Cancellation made visible: `abort()` on a task blocked in `sleep`, on a
//! channel, a lock, an event or a socket takes effect at once and runs its
//! drop guards; `AbortOnDrop` and `JoinHandle::abort_on_drop`.

use std::time::{Duration, Instant};

use crate::support::{DropSignal, drop_signals, multi, watchdog};
use futures_lite::AsyncReadExt;
use windlass::JoinHandle;
use windlass::join::AbortOnDrop;

/// Far longer than the watchdog: if an abort waited for the blocked
/// operation, the test would hang and fail.
const FOREVER: Duration = Duration::from_secs(3600);

/// Spawns `blocked` with a drop guard, waits until it has started, aborts
/// it, and checks that the guard ran and the handle says cancelled.
async fn abort_while_blocked(blocked: impl Future<Output = ()> + Send + 'static) {
    let (signal, dropped) = drop_signals();
    let (started_tx, started_rx) = futures_channel::oneshot::channel();
    let guard: DropSignal = signal(1);
    let task: JoinHandle<()> = windlass::spawn(async move {
        let _guard = guard;
        started_tx.send(()).unwrap();
        blocked.await;
    });
    started_rx.await.unwrap();
    let start = Instant::now();
    task.abort();
    assert_eq!(dropped.recv().await, Ok(1), "the drop guard ran");
    assert!(task.await.unwrap_err().is_cancelled());
    assert!(
        start.elapsed() < FOREVER / 60,
        "abort took {:?}",
        start.elapsed()
    );
}

#[test]
fn abort_interrupts_sleep() {
    watchdog(|| {
        multi(2).block_on(abort_while_blocked(async {
            windlass::time::sleep(FOREVER).await;
        }));
    });
}

#[test]
fn abort_interrupts_a_channel_receive() {
    watchdog(|| {
        multi(2).block_on(async {
            let (tx, rx) = async_channel::bounded::<u8>(1);
            abort_while_blocked(async move {
                let _ = rx.recv().await;
            })
            .await;
            drop(tx);
        });
    });
}

#[test]
fn abort_interrupts_windlass_channels_and_locks() {
    watchdog(|| {
        multi(2).block_on(async {
            // An mpsc receive with the sender alive.
            let (tx, mut rx) = windlass::sync::mpsc::channel::<u8>(1);
            abort_while_blocked(async move {
                let _ = rx.recv().await;
            })
            .await;
            drop(tx);

            // A lock held elsewhere, and an event nobody sets.
            let mutex = std::sync::Arc::new(windlass::sync::Mutex::new(0));
            let held = mutex.clone().lock_owned().await;
            abort_while_blocked(async move {
                let _ = mutex.lock().await;
            })
            .await;
            drop(held);
            let event = std::sync::Arc::new(windlass::sync::Event::new());
            abort_while_blocked(async move { event.wait().await }).await;
        });
    });
}

#[test]
fn abort_interrupts_a_tcp_read() {
    watchdog(|| {
        multi(2).block_on(async {
            let listener = windlass::net::TcpListener::bind("127.0.0.1:0")
                .await
                .unwrap();
            let addr = listener.local_addr().unwrap();
            let mut client = windlass::net::TcpStream::connect(addr).await.unwrap();
            let (server, _) = listener.accept().await.unwrap();
            abort_while_blocked(async move {
                let mut buf = [0u8; 16];
                let _ = client.read(&mut buf).await;
            })
            .await;
            drop(server);
        });
    });
}

#[test]
fn abort_interrupts_a_socket_read() {
    watchdog(|| {
        multi(2).block_on(async {
            let (mut a, b) = windlass::net::UnixStream::pair().unwrap();
            abort_while_blocked(async move {
                let mut buf = [0u8; 16];
                let _ = a.read(&mut buf).await;
            })
            .await;
            drop(b);
        });
    });
}

#[test]
fn abort_from_another_thread() {
    watchdog(|| {
        let rt = multi(2);
        let (signal, dropped) = drop_signals();
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let guard = signal(7);
        let task = rt.spawn(async move {
            let _guard = guard;
            started_tx.send(()).unwrap();
            windlass::time::sleep(FOREVER).await;
        });
        started_rx.recv().unwrap();
        let abort = task.abort_handle();
        std::thread::spawn(move || abort.abort()).join().unwrap();
        assert_eq!(futures_lite::future::block_on(dropped.recv()), Ok(7));
        assert!(rt.block_on(task).unwrap_err().is_cancelled());
    });
}

#[test]
fn abort_on_drop_cancels_and_into_inner_detaches() {
    watchdog(|| {
        multi(2).block_on(async {
            let (signal, dropped) = drop_signals();
            let guard = signal(1);
            let task = AbortOnDrop::new(windlass::spawn(async move {
                let _guard = guard;
                windlass::time::sleep(FOREVER).await;
            }));
            assert!(!task.is_finished());
            drop(task);
            assert_eq!(dropped.recv().await, Ok(1));

            let (tx, rx) = futures_channel::oneshot::channel();
            let (go_tx, go_rx) = futures_channel::oneshot::channel::<()>();
            let task = AbortOnDrop::new(windlass::spawn(async move {
                go_rx.await.unwrap();
                tx.send("detached, still ran").unwrap();
            }));
            drop(task.into_inner());
            go_tx.send(()).unwrap();
            assert_eq!(rx.await, Ok("detached, still ran"));
        });
    });
}

#[test]
fn join_handle_abort_on_drop_cancels_and_still_gives_the_output() {
    watchdog(|| {
        multi(2).block_on(async {
            let (signal, dropped) = drop_signals();
            let guard = signal(2);
            let task = windlass::spawn(async move {
                let _guard = guard;
                windlass::time::sleep(FOREVER).await;
            })
            .abort_on_drop();
            drop(task);
            assert_eq!(dropped.recv().await, Ok(2), "dropping it aborted the task");

            let task = windlass::spawn(async { 40 + 2 }).abort_on_drop();
            assert_eq!(task.await.unwrap(), 42);
        });
    });
}
