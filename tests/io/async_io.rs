//! `windlass::io::Async<T>` on a std `UnixStream` pair: `readable()` /
//! `writable()`, `read_with` / `write_with`, many waiters on one source,
//! the `AsyncRead` / `AsyncWrite` impls, `into_inner`, and `Async::new`
//! outside a runtime.

use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use crate::support::{multi, signal_when_pending, wait_registered, watchdog};
use futures_lite::future::poll_once;
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use windlass::io::Async;
use windlass::runtime::Handle;
use windlass::time::timeout;

const LONG: Duration = Duration::from_secs(20);

fn pair() -> (Async<UnixStream>, Async<UnixStream>) {
    let (a, b) = UnixStream::pair().unwrap();
    (Async::new(a).unwrap(), Async::new(b).unwrap())
}

/// Makes a read attempt that would block, so that the source's "readable"
/// bit is cleared (a fresh source is assumed ready).
async fn clear_readable(s: &Async<UnixStream>) {
    let mut buf = [0; 1];
    let attempt = poll_once(s.read_with(|mut s| s.read(&mut buf))).await;
    assert!(attempt.is_none(), "nothing to read yet");
}

/// Fills the socket's send buffer until a write would block; returns the
/// number of bytes written.
fn fill(s: &Async<UnixStream>) -> usize {
    let chunk = [0xAB; 4096];
    let mut total = 0;
    loop {
        match s.get_ref().write(&chunk) {
            Ok(n) => total += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return total,
            Err(e) => panic!("write failed: {e}"),
        }
    }
}

#[test]
fn read_with_and_write_with() {
    watchdog(|| {
        let rt = multi(2);
        rt.block_on(async {
            let (a, b) = pair();
            // The descriptors were made non-blocking.
            let mut buf = [0; 8];
            let err = b.get_ref().read(&mut buf).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
            let b = Arc::new(b);
            let (reg_tx, reg_rx) = async_channel::unbounded();
            let reader = {
                let b = b.clone();
                windlass::spawn(signal_when_pending(
                    async move {
                        let mut buf = [0; 8];
                        let n = b.read_with(|mut s| s.read(&mut buf)).await.unwrap();
                        buf[..n].to_vec()
                    },
                    reg_tx,
                ))
            };
            reg_rx.recv().await.unwrap();
            let n = a.write_with(|mut s| s.write(b"ping")).await.unwrap();
            assert_eq!(n, 4);
            assert_eq!(timeout(LONG, reader).await.unwrap().unwrap(), b"ping");
            // The `_mut` forms.
            let mut a = a;
            let mut b = Arc::into_inner(b).unwrap();
            a.write_with_mut(|s| s.write(b"pong")).await.unwrap();
            let n = b.read_with_mut(|s| s.read(&mut buf)).await.unwrap();
            assert_eq!(&buf[..n], b"pong");
            // The closure's own errors come back as they are.
            let err = a
                .read_with(|_| Err::<(), _>(io::Error::other("mine")))
                .await
                .unwrap_err();
            assert_eq!(err.to_string(), "mine");
        });
        assert_eq!(rt.handle().num_io_sources(), 0);
    });
}

#[test]
fn readable_and_writable() {
    watchdog(|| {
        let rt = multi(2);
        rt.block_on(async {
            let (a, b) = pair();
            // A fresh source is assumed ready in both directions.
            timeout(LONG, a.writable()).await.unwrap().unwrap();
            timeout(LONG, b.readable()).await.unwrap().unwrap();
            // After a read that would block, `readable()` waits...
            clear_readable(&b).await;
            let mut readable = Box::pin(b.readable());
            assert!(poll_once(readable.as_mut()).await.is_none());
            // ...until data arrives.
            a.get_ref().write_all(b"x").unwrap();
            timeout(LONG, readable).await.unwrap().unwrap();
            let mut buf = [0; 1];
            assert_eq!(b.get_ref().read(&mut buf).unwrap(), 1);

            // Fill a's send buffer: a write would block, `writable()` waits
            // until b drains some.
            let filled = fill(&a);
            assert!(filled > 0);
            let attempt = poll_once(a.write_with(|mut s| s.write(&[1; 4096]))).await;
            assert!(attempt.is_none(), "the buffer is full");
            let mut writable = Box::pin(a.writable());
            assert!(poll_once(writable.as_mut()).await.is_none());
            let mut drained = 0;
            let mut big = vec![0; 64 * 1024];
            while drained < filled {
                drained += b.read_with(|mut s| s.read(&mut big)).await.unwrap();
            }
            timeout(LONG, writable).await.unwrap().unwrap();
            assert!(a.get_ref().write(b"room again").unwrap() > 0);

            // `poll_readable` / `poll_writable` follow the same bits.
            let mut tmp = vec![0; 64];
            b.read_with(|mut s| s.read(&mut tmp)).await.unwrap();
            clear_readable(&b).await;
            let poll = poll_once(std::future::poll_fn(|cx| b.poll_readable(cx))).await;
            assert!(poll.is_none());
            a.get_ref().write_all(b"y").unwrap();
            timeout(LONG, std::future::poll_fn(|cx| b.poll_readable(cx)))
                .await
                .unwrap()
                .unwrap();
            timeout(LONG, std::future::poll_fn(|cx| a.poll_writable(cx)))
                .await
                .unwrap()
                .unwrap();
        });
        assert_eq!(rt.handle().num_io_sources(), 0);
    });
}

#[test]
fn many_readable_waiters_all_wake() {
    const WAITERS: usize = 64;
    watchdog(|| {
        let rt = multi(2);
        rt.block_on(async {
            let (a, b) = pair();
            clear_readable(&b).await;
            let b = Arc::new(b);
            let woken = Arc::new(AtomicUsize::new(0));
            let (reg_tx, reg_rx) = async_channel::unbounded();
            let waiters: Vec<_> = (0..WAITERS)
                .map(|_| {
                    let (b, woken) = (b.clone(), woken.clone());
                    windlass::spawn(signal_when_pending(
                        async move {
                            b.readable().await.unwrap();
                            woken.fetch_add(1, SeqCst);
                        },
                        reg_tx.clone(),
                    ))
                })
                .collect();
            // Every waiter is parked on the same source.
            wait_registered(&reg_rx, WAITERS).await;
            assert_eq!(woken.load(SeqCst), 0);
            // One event wakes them all, not just one.
            a.get_ref().write_all(b"!").unwrap();
            for w in waiters {
                timeout(LONG, w).await.unwrap().unwrap();
            }
            assert_eq!(woken.load(SeqCst), WAITERS);
            // A dropped waiter is forgotten; the others still wake.
            let mut one = [0; 1];
            b.get_ref().read_exact(&mut one).unwrap();
            clear_readable(&b).await;
            let mut dropped = Box::pin(b.readable());
            assert!(poll_once(dropped.as_mut()).await.is_none());
            let mut kept = Box::pin(b.readable());
            assert!(poll_once(kept.as_mut()).await.is_none());
            drop(dropped);
            a.get_ref().write_all(b"!").unwrap();
            timeout(LONG, kept).await.unwrap().unwrap();
        });
        assert_eq!(rt.handle().num_io_sources(), 0);
    });
}

#[test]
fn async_read_write_traits_and_into_inner() {
    watchdog(|| {
        let rt = crate::support::current();
        rt.block_on(async {
            let handle = Handle::current();
            let (mut a, mut b) = pair();
            assert_eq!(handle.num_io_sources(), 2);
            // Larger than the socket buffers: the writer task and the
            // reader here must interleave.
            let data: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
            let expected = data.clone();
            let writer = windlass::spawn(async move {
                a.write_all(&data).await.unwrap();
                a.flush().await.unwrap();
                a
            });
            let mut got = vec![0; expected.len()];
            b.read_exact(&mut got).await.unwrap();
            assert!(got == expected);
            let a = writer.await.unwrap();
            // Deregisters, and gives back a working (non-blocking) stream.
            let a = a.into_inner().unwrap();
            assert_eq!(handle.num_io_sources(), 1);
            (&a).write_all(b"raw").unwrap();
            let mut buf = [0; 3];
            b.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"raw");
            drop(b);
            assert_eq!(handle.num_io_sources(), 0);
            // It can be registered again.
            let again = Async::new(a).unwrap();
            assert_eq!(handle.num_io_sources(), 1);
            drop(again);
            assert_eq!(handle.num_io_sources(), 0);
        });
    });
}

#[test]
fn async_new_outside_a_runtime_is_an_error() {
    let (a, _b) = UnixStream::pair().unwrap();
    let err = Async::new(a).expect_err("no runtime is current");
    let msg = err.to_string();
    assert!(msg.contains("runtime"), "unhelpful error: {msg}");
    // Under `Runtime::enter` it works.
    let rt = multi(2);
    let _guard = rt.enter();
    let (a, _b) = UnixStream::pair().unwrap();
    let a = Async::new(a).unwrap();
    assert_eq!(rt.handle().num_io_sources(), 1);
    drop(a);
    assert_eq!(rt.handle().num_io_sources(), 0);
}

#[test]
fn ping_pong_loses_no_wakeups() {
    // Two tasks on different workers bounce one byte 10,000 times: every
    // round trip waits in the reactor, and events race with the attempts
    // that precede the waits. A lost wakeup hangs (and trips the timeout).
    const ROUNDS: u32 = 10_000;
    watchdog(|| {
        let rt = multi(2);
        rt.block_on(async {
            let (mut a, mut b) = pair();
            let ponger = windlass::spawn(async move {
                let mut buf = [0; 1];
                for i in 0..ROUNDS {
                    b.read_exact(&mut buf).await.unwrap();
                    assert_eq!(buf[0], i as u8);
                    b.write_all(&buf).await.unwrap();
                }
            });
            let pinger = windlass::spawn(async move {
                let mut buf = [0; 1];
                for i in 0..ROUNDS {
                    a.write_all(&[i as u8]).await.unwrap();
                    a.read_exact(&mut buf).await.unwrap();
                    assert_eq!(buf[0], i as u8);
                }
            });
            timeout(LONG, pinger).await.unwrap().unwrap();
            timeout(LONG, ponger).await.unwrap().unwrap();
        });
        assert_eq!(rt.handle().num_io_sources(), 0);
    });
}

/// A regular file cannot be polled (epoll refuses it with EPERM). The
/// error should say so and name the fix (`windlass::fs::File`), not just
/// "Operation not permitted", which reads like a permissions problem.
#[test]
fn async_new_on_a_regular_file_is_a_clear_error() {
    let rt = multi(1);
    let _guard = rt.enter();
    let path = std::env::temp_dir().join(format!("windlass-fsmac-regular-{}", std::process::id()));
    let file = std::fs::File::create(&path).unwrap();
    let err = Async::new(file).expect_err("a regular file cannot be registered");
    std::fs::remove_file(&path).unwrap();
    assert_eq!(
        rt.handle().num_io_sources(),
        0,
        "the failed registration leaked a slot"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("fs::File") || msg.contains("regular file"),
        "unclear error for a regular file: {msg:?} (kind {:?})",
        err.kind()
    );
}

/// The inner object's `Drop` panics: the descriptor is deregistered first,
/// and the runtime goes on.
#[test]
fn async_whose_inner_drop_panics_still_deregisters() {
    struct Boom(UnixStream);
    impl std::os::fd::AsFd for Boom {
        fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
            self.0.as_fd()
        }
    }
    impl Drop for Boom {
        fn drop(&mut self) {
            panic!("inner drop panics");
        }
    }
    watchdog(|| {
        let rt = multi(1);
        let (a, _b) = UnixStream::pair().unwrap();
        rt.block_on(async move {
            let a = Async::new(Boom(a)).unwrap();
            assert_eq!(Handle::current().num_io_sources(), 1);
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(a)));
            assert!(r.is_err());
            assert_eq!(Handle::current().num_io_sources(), 0);
            // The reactor still works for new sources.
            let (mut c, mut d) = pair();
            c.write_all(b"still works").await.unwrap();
            let mut buf = [0; 11];
            d.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"still works");
        });
    });
}
