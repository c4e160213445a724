//! Unix-domain sockets on the reactor: a stream echo server through
//! `UnixListener` (socket in a unique temp dir), `incoming()`,
//! `UnixStream::pair`, and `UnixDatagram` by path and as a pair.

use std::io;
use std::net::Shutdown;
use std::time::Duration;

use crate::support::{
    TempDir, multi, nonblocking_and_cloexec, reactor_settled, read_exactly_in_small_reads,
    signal_when_pending, watchdog,
};
use futures_lite::{AsyncReadExt, AsyncWriteExt, StreamExt};
use windlass::net::{UnixDatagram, UnixListener, UnixStream};
use windlass::runtime::Handle;
use windlass::time::timeout;

const LONG: Duration = Duration::from_secs(20);

async fn echo(mut s: UnixStream) -> io::Result<u64> {
    let mut buf = vec![0; 8192];
    let mut total = 0;
    loop {
        let n = s.read(&mut buf).await?;
        if n == 0 {
            return Ok(total);
        }
        s.write_all(&buf[..n]).await?;
        total += n as u64;
    }
}

#[test]
fn stream_echo_through_a_listener() {
    watchdog(|| {
        let dir = TempDir::new("unix-echo");
        let path = dir.join("echo.sock");
        let rt = multi(2);
        rt.block_on(async move {
            let listener = UnixListener::bind(&path).unwrap();
            assert_eq!(
                listener.local_addr().unwrap().as_pathname(),
                Some(path.as_path())
            );
            const CLIENTS: usize = 8;
            let server = windlass::spawn(async move {
                let mut conns = Vec::new();
                for _ in 0..CLIENTS {
                    let (conn, _) = listener.accept().await.unwrap();
                    conns.push(windlass::spawn(echo(conn)));
                }
                let mut total = 0;
                for c in conns {
                    total += c.await.unwrap().unwrap();
                }
                total
            });
            let clients: Vec<_> = (0..CLIENTS)
                .map(|i| {
                    let path = path.clone();
                    windlass::spawn(async move {
                        let mut c = UnixStream::connect(&path).await.unwrap();
                        let mut sent = 0;
                        for round in 0..50usize {
                            let msg: Vec<u8> =
                                (0..1000 + round * 37).map(|j| (i + j) as u8).collect();
                            c.write_all(&msg).await.unwrap();
                            let mut back = vec![0; msg.len()];
                            c.read_exact(&mut back).await.unwrap();
                            assert!(back == msg, "client {i} round {round}");
                            sent += msg.len() as u64;
                        }
                        c.close().await.unwrap();
                        let mut end = [0; 1];
                        assert_eq!(c.read(&mut end).await.unwrap(), 0);
                        sent
                    })
                })
                .collect();
            let mut sent = 0;
            for c in clients {
                sent += timeout(LONG, c).await.unwrap().unwrap();
            }
            assert_eq!(timeout(LONG, server).await.unwrap().unwrap(), sent);
        });
        assert_eq!(rt.handle().num_io_sources(), 0);
    });
}

#[test]
fn incoming_stream_of_unix_connections() {
    watchdog(|| {
        let dir = TempDir::new("unix-incoming");
        let path = dir.join("incoming.sock");
        let rt = multi(2);
        rt.block_on(async move {
            let listener = UnixListener::bind(&path).unwrap();
            let server = windlass::spawn(async move {
                let mut ids = Vec::new();
                let mut incoming = listener.incoming().take(4);
                while let Some(conn) = incoming.next().await {
                    let mut conn = conn.unwrap();
                    let mut id = [0; 1];
                    conn.read_exact(&mut id).await.unwrap();
                    ids.push(id[0]);
                }
                ids.sort();
                ids
            });
            for i in 0..4u8 {
                let mut c = UnixStream::connect(&path).await.unwrap();
                c.write_all(&[i]).await.unwrap();
            }
            assert_eq!(
                timeout(LONG, server).await.unwrap().unwrap(),
                vec![0, 1, 2, 3]
            );
            // Connecting to a path nobody listens on fails.
            let err = UnixStream::connect(dir.join("nobody.sock"))
                .await
                .unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::NotFound, "{err:?}");
            // Binding a path in use fails.
            let _l = UnixListener::bind(dir.join("taken.sock")).unwrap();
            let err = UnixListener::bind(dir.join("taken.sock")).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::AddrInUse, "{err:?}");
        });
        assert_eq!(rt.handle().num_io_sources(), 0);
    });
}

#[test]
fn stream_pair_both_directions_and_half_close() {
    watchdog(|| {
        let rt = multi(2);
        rt.block_on(async {
            let (mut a, mut b) = UnixStream::pair().unwrap();
            assert_eq!(Handle::current().num_io_sources(), 2);
            // b reads before a writes: the read waits in the reactor.
            let (reg_tx, reg_rx) = async_channel::unbounded();
            let reader = windlass::spawn(signal_when_pending(
                async move {
                    let mut buf = [0; 5];
                    b.read_exact(&mut buf).await.unwrap();
                    assert_eq!(&buf, b"hello");
                    b.write_all(b"world").await.unwrap();
                    // a half-closes after our reply: we read EOF.
                    let mut rest = Vec::new();
                    b.read_to_end(&mut rest).await.unwrap();
                    rest
                },
                reg_tx,
            ));
            reg_rx.recv().await.unwrap();
            a.write_all(b"hello").await.unwrap();
            let mut buf = [0; 5];
            a.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"world");
            a.write_all(b"bye").await.unwrap();
            a.shutdown(Shutdown::Write).unwrap();
            assert_eq!(timeout(LONG, reader).await.unwrap().unwrap(), b"bye");
            // The reader task dropped b: a reads EOF.
            assert_eq!(a.read(&mut buf).await.unwrap(), 0);
            assert!(a.peer_addr().unwrap().is_unnamed());
        });
        assert_eq!(rt.handle().num_io_sources(), 0);
    });
}

#[test]
fn datagram_send_to_recv_from_by_path() {
    watchdog(|| {
        let dir = TempDir::new("unix-dgram");
        let rt = multi(2);
        rt.block_on(async move {
            let (pa, pb) = (dir.join("a.sock"), dir.join("b.sock"));
            let a = UnixDatagram::bind(&pa).unwrap();
            let b = UnixDatagram::bind(&pb).unwrap();
            let mut buf = [0; 256];
            for i in 0..20u8 {
                let msg = vec![i; 1 + i as usize * 10];
                assert_eq!(a.send_to(&msg, &pb).await.unwrap(), msg.len());
                let (n, from) = timeout(LONG, b.recv_from(&mut buf)).await.unwrap().unwrap();
                assert_eq!(&buf[..n], &msg[..]);
                assert_eq!(from.as_pathname(), Some(pa.as_path()));
                // Reply to the sender's path.
                b.send_to(&msg[..1], from.as_pathname().unwrap())
                    .await
                    .unwrap();
                let (n, from) = timeout(LONG, a.recv_from(&mut buf)).await.unwrap().unwrap();
                assert_eq!(&buf[..n], &msg[..1]);
                assert_eq!(from.as_pathname(), Some(pb.as_path()));
            }
            // An unbound socket can send; the receiver sees no path.
            let anon = UnixDatagram::unbound().unwrap();
            anon.send_to(b"anon", &pb).await.unwrap();
            let (n, from) = b.recv_from(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"anon");
            assert!(from.as_pathname().is_none());
            // connect + send / recv.
            anon.connect(&pa).unwrap();
            anon.send(b"connected").await.unwrap();
            let n = timeout(LONG, a.recv(&mut buf)).await.unwrap().unwrap();
            assert_eq!(&buf[..n], b"connected");
        });
        assert_eq!(rt.handle().num_io_sources(), 0);
    });
}

#[test]
fn datagram_pair_keeps_boundaries_and_wakes_receiver() {
    watchdog(|| {
        let rt = multi(2);
        rt.block_on(async {
            let (a, b) = UnixDatagram::pair().unwrap();
            let (reg_tx, reg_rx) = async_channel::unbounded();
            let receiver = windlass::spawn(signal_when_pending(
                async move {
                    let mut got = Vec::new();
                    let mut buf = [0; 64];
                    for _ in 0..3 {
                        let n = b.recv(&mut buf).await.unwrap();
                        got.push(buf[..n].to_vec());
                    }
                    got
                },
                reg_tx,
            ));
            reg_rx.recv().await.unwrap();
            for msg in [&b"a"[..], b"bb", b"ccc"] {
                a.send(msg).await.unwrap();
            }
            let got = timeout(LONG, receiver).await.unwrap().unwrap();
            assert_eq!(got, vec![b"a".to_vec(), b"bb".to_vec(), b"ccc".to_vec()]);
        });
        assert_eq!(rt.handle().num_io_sources(), 0);
    });
}

#[test]
fn datagram_sender_waits_for_room() {
    // A full datagram socket makes `send` wait; the peer's receive frees
    // room and wakes the sender.
    watchdog(|| {
        let rt = multi(2);
        rt.block_on(async {
            let (a, b) = UnixDatagram::pair().unwrap();
            let mut sent_before_full = 0usize;
            loop {
                match futures_lite::future::poll_once(a.send(&[7; 512])).await {
                    Some(Ok(_)) => sent_before_full += 1,
                    Some(Err(e)) => panic!("send failed: {e}"),
                    None => break,
                }
                assert!(sent_before_full < 1_000_000, "socket never filled up");
            }
            assert!(sent_before_full > 0);
            let a = std::sync::Arc::new(a);
            let (reg_tx, reg_rx) = async_channel::unbounded();
            let sender = {
                let a = a.clone();
                windlass::spawn(signal_when_pending(
                    async move { a.send(b"after room").await.unwrap() },
                    reg_tx,
                ))
            };
            reg_rx.recv().await.unwrap();
            let mut buf = [0; 512];
            let mut drained = 0;
            while drained < sent_before_full {
                b.recv(&mut buf).await.unwrap();
                drained += 1;
            }
            assert_eq!(timeout(LONG, sender).await.unwrap().unwrap(), 10);
            let n = b.recv(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"after room");
        });
        assert_eq!(rt.handle().num_io_sources(), 0);
    });
}

/// A Unix listener with a tiny backlog (std's `bind` asks for the maximum).
fn listener_with_backlog(path: &std::path::Path, backlog: i32) -> UnixListener {
    use socket2::{Domain, SockAddr, Socket, Type};
    let s = Socket::new(Domain::UNIX, Type::STREAM, None).unwrap();
    s.bind(&SockAddr::unix(path).unwrap()).unwrap();
    s.listen(backlog).unwrap();
    UnixListener::from_std(s.into()).unwrap()
}

#[test]
fn connect_to_a_full_backlog_does_not_block_the_thread() {
    // On a current-thread runtime the accepting task runs on the thread
    // that connects: a connect that blocked the thread while the backlog
    // is full would deadlock the runtime.
    const CLIENTS: usize = 16;
    watchdog(|| {
        let dir = TempDir::new("unix-backlog");
        let path = dir.join("backlog.sock");
        let rt = crate::support::current();
        rt.block_on(async move {
            let listener = listener_with_backlog(&path, 1);
            let server = windlass::spawn(async move {
                let mut ids = Vec::new();
                for _ in 0..CLIENTS {
                    let (mut c, _) = listener.accept().await.unwrap();
                    let mut id = [0; 1];
                    c.read_exact(&mut id).await.unwrap();
                    ids.push(id[0]);
                }
                ids.sort();
                ids
            });
            let mut clients = Vec::new();
            let mut would_block = 0;
            for i in 0..CLIENTS as u8 {
                // Completes or fails at once: the backlog is full after a
                // connection or two, and nobody has accepted yet.
                loop {
                    match UnixStream::connect(&path).await {
                        Ok(mut c) => {
                            c.write_all(&[i]).await.unwrap();
                            clients.push(c);
                            break;
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                            // Let the server accept, then try again.
                            would_block += 1;
                            windlass::yield_now().await;
                        }
                        Err(e) => panic!("connect failed: {e}"),
                    }
                }
            }
            assert!(would_block > 0, "the backlog never filled up");
            let ids = timeout(LONG, server).await.unwrap().unwrap();
            assert_eq!(ids, (0..CLIENTS as u8).collect::<Vec<_>>());
        });
        assert_eq!(rt.handle().num_io_sources(), 0);
    });
}

/// `UnixStream::connect` creates its socket non-blocking and close-on-exec
/// in `socket(2)` itself and registers it without an `ioctl`: without
/// `SOCK_NONBLOCK` the stream would be blocking and stall its worker.
#[test]
fn connected_stream_is_nonblocking_and_cloexec() {
    use std::os::fd::AsFd;
    watchdog(|| {
        let dir = TempDir::new("unix-flags");
        let path = dir.join("flags.sock");
        multi(2).block_on(async move {
            let listener = UnixListener::bind(&path).unwrap();
            let client = UnixStream::connect(&path).await.unwrap();
            let (_server, _) = listener.accept().await.unwrap();
            assert_eq!(nonblocking_and_cloexec(client.as_fd()), (true, true));
        });
    });
}

/// A Unix stream that carried descriptors (`SCM_RIGHTS`): the kernel ends a
/// read after the message that carried them, with more data queued behind
/// it and no new edge to come. So a short read on a Unix stream proves
/// nothing, and it no longer keeps the next read from trying (reactor rule
/// 7 applies to Unix streams' writes only). Before, "bcd" was never read.
#[test]
fn a_read_after_passed_descriptors_is_not_stranded() {
    watchdog(|| {
        let rt = multi(2);
        let handle = rt.handle().clone();
        rt.block_on(async move {
            let (mut peer, ours) = std::os::unix::net::UnixStream::pair().unwrap();
            send_with_stdin_attached(&peer, b"a");
            std::io::Write::write_all(&mut peer, b"bcd").unwrap();
            let mut ours = UnixStream::from_std(ours).unwrap();
            reactor_settled(&handle).await;
            assert_eq!(read_exactly_in_small_reads(&mut ours, 4).await, b"abcd");
        });
    });
}

/// `sendmsg` of `data` with stdin's descriptor attached (`SCM_RIGHTS`).
fn send_with_stdin_attached(sock: &std::os::unix::net::UnixStream, data: &[u8]) {
    use std::os::fd::AsRawFd;
    let fd: libc::c_int = libc::STDIN_FILENO;
    let fd_len = std::mem::size_of::<libc::c_int>() as u32;
    let mut iov = libc::iovec {
        iov_base: data.as_ptr() as *mut libc::c_void,
        iov_len: data.len(),
    };
    // SAFETY: CMSG_SPACE only computes a size.
    let space = unsafe { libc::CMSG_SPACE(fd_len) } as usize;
    let mut cbuf = vec![0u8; space];
    // SAFETY: msghdr is plain data, valid all zeroes.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cbuf.as_mut_ptr().cast();
    msg.msg_controllen = space as _;
    // `msg` points at `cbuf`, which has room for one header and one
    // descriptor (CMSG_SPACE above), so CMSG_FIRSTHDR is non-null and its
    // data area holds a c_int; `iov` and `cbuf` outlive the call.
    // SAFETY: as above; sendmsg only reads them.
    let n = unsafe {
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        (*cmsg).cmsg_level = libc::SOL_SOCKET;
        (*cmsg).cmsg_type = libc::SCM_RIGHTS;
        (*cmsg).cmsg_len = libc::CMSG_LEN(fd_len) as _;
        std::ptr::copy_nonoverlapping(
            (&fd as *const libc::c_int).cast::<u8>(),
            libc::CMSG_DATA(cmsg),
            fd_len as usize,
        );
        libc::sendmsg(sock.as_raw_fd(), &msg, 0)
    };
    assert_eq!(
        n,
        data.len() as isize,
        "sendmsg: {}",
        std::io::Error::last_os_error()
    );
}
