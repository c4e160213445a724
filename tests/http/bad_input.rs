//! A hyper server on windlass under bad input: a client that sends garbage,
//! a slowloris (the header-read timeout fires), a peer that resets in the
//! middle of a body, and 1,000 connections opened and dropped at once.
//! After each, the server still serves a good request, nothing panicked,
//! and the process's descriptor count is back to its baseline.
//!
//! The descriptor count is the whole process's: each test runs in a child
//! process of its own (`support::child::isolate`), so the other tests of
//! the binary cannot move it, and the tests of this file also take turns
//! (a lock) wherever they share a process.

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::{Duration, Instant};

use crate::support::http::{
    Client, Options, Proto, Server, fd_count, hello_request, listen_overflows, settle_fds,
};
use crate::support::{child, multi, watchdog};
use windlass::time::timeout;

const LONG: Duration = Duration::from_secs(30);

/// One test at a time in this file (see the module docs).
static TURN: Mutex<()> = Mutex::new(());

/// Panics anywhere in this process (the server's tasks included, whose
/// panics would otherwise stay inside their detached join handles).
static PANICS: AtomicUsize = AtomicUsize::new(0);

fn count_panics() {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICS.fetch_add(1, SeqCst);
            default(info);
        }));
    });
}

/// Runs `body(server address)` against a fresh HTTP/1 server with
/// `header_timeout`, then checks the aftermath: a good request is still
/// answered, the server shuts down gracefully, and the descriptor count
/// returns to what it was with the server up and idle. Returns the
/// server's count of connections that ended in an error.
fn survive<F, Fut>(header_timeout: Option<Duration>, body: F) -> usize
where
    F: FnOnce(SocketAddr) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()>,
{
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    count_panics();
    let panics_before = PANICS.load(SeqCst);
    let errors = watchdog(move || {
        let rt = multi(2);
        rt.block_on(async move {
            let server = Server::start(Options {
                proto: Proto::H1,
                header_timeout,
            })
            .await;
            let addr = server.addr;
            // A first request starts everything lazily started (timers).
            good_request(addr).await;
            let baseline = fd_count();
            let overflows = listen_overflows();

            body(addr).await;

            good_request(addr).await;
            let now = settle_fds(baseline).await;
            // A full listen queue makes the kernel drop handshakes, and a
            // connection can then come up on the server with its client's
            // FIN lost (see `windlass::net::LISTEN_BACKLOG`): say whether
            // that happened, to tell it apart from a leak in windlass.
            let overflowed = overflows
                .zip(listen_overflows())
                .map_or("unknown".into(), |(a, b)| b.saturating_sub(a).to_string());
            assert!(
                now <= baseline,
                "descriptors leaked: {now} open, {baseline} before; listen-queue \
                 overflows meanwhile (whole network namespace): {overflowed}"
            );
            let errors = server.conn_errors.clone();
            timeout(LONG, server.shutdown()).await.unwrap();
            errors.load(SeqCst)
        })
    });
    assert_eq!(PANICS.load(SeqCst), panics_before, "something panicked");
    errors
}

/// One `GET /hello` on a new connection, answered with "hello".
async fn good_request(addr: SocketAddr) {
    let mut c = Client::connect(addr, Proto::H1).await;
    let (status, body) = timeout(LONG, c.send(hello_request(addr)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((status.as_u16(), &body[..]), (200, &b"hello"[..]));
}

/// A blocking client socket (on a blocking-pool thread) with a read
/// timeout, so a server that never answers fails the test instead of
/// hanging it.
fn raw(addr: SocketAddr) -> std::net::TcpStream {
    let s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(LONG)).unwrap();
    s
}

/// Reads until the server closes; what it sent.
fn read_to_close(s: &mut std::net::TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    match s.read_to_end(&mut got) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        Err(e) => panic!("reading the server's answer: {e}"),
    }
    got
}

#[test]
fn garbage_gets_400_and_the_server_goes_on() {
    if !child::isolate("bad_input::garbage_gets_400_and_the_server_goes_on") {
        return; // it ran in a child process of its own
    }
    let errors = survive(None, |addr| async move {
        let answer = windlass::spawn_blocking(move || {
            let mut s = raw(addr);
            s.write_all(b"\x00\x01\x02 NOT HTTP AT ALL \xff\xfe\r\n\r\n")
                .unwrap();
            read_to_close(&mut s)
        })
        .await
        .unwrap();
        let text = String::from_utf8_lossy(&answer);
        assert!(
            text.starts_with("HTTP/1.1 400"),
            "answer to garbage: {text:?}"
        );
    });
    assert_eq!(errors, 1, "the garbage connection ends in a parse error");
}

#[test]
fn slowloris_is_cut_off_by_the_header_read_timeout() {
    if !child::isolate("bad_input::slowloris_is_cut_off_by_the_header_read_timeout") {
        return; // it ran in a child process of its own
    }
    const TIMEOUT: Duration = Duration::from_millis(300);
    let errors = survive(Some(TIMEOUT), |addr| async move {
        let (sent, closed_after) = windlass::spawn_blocking(move || {
            let header = b"GET /hello HTTP/1.1\r\nHost: slow\r\nX-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
            let mut s = raw(addr);
            let start = Instant::now();
            // One byte every 50 ms: the whole header would take ~5 s.
            let mut sent = 0;
            for b in header {
                if s.write_all(&[*b]).is_err() {
                    break; // the server closed: writes fail
                }
                sent += 1;
                std::thread::sleep(Duration::from_millis(50));
                // Did the server close? Peek without blocking.
                s.set_nonblocking(true).unwrap();
                let mut probe = [0; 512];
                let closed = match s.read(&mut probe) {
                    Ok(_) => true, // 0: closed; >0: an error response, then close
                    Err(e) => e.kind() != std::io::ErrorKind::WouldBlock,
                };
                s.set_nonblocking(false).unwrap();
                if closed {
                    break;
                }
            }
            (sent, start.elapsed())
        })
        .await
        .unwrap();
        assert!(
            sent < 100,
            "the slow client sent its whole header ({sent} bytes) without being cut off"
        );
        assert!(
            closed_after >= TIMEOUT,
            "cut off after {closed_after:?}, before the timeout"
        );
    });
    assert_eq!(errors, 1, "the slow connection ends in a header timeout");
}

#[test]
fn peer_reset_in_the_middle_of_a_body() {
    if !child::isolate("bad_input::peer_reset_in_the_middle_of_a_body") {
        return; // it ran in a child process of its own
    }
    let errors = survive(None, |addr| async move {
        windlass::spawn_blocking(move || {
            let s = raw(addr);
            let mut w = &s;
            w.write_all(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1048576\r\n\r\n")
                .unwrap();
            w.write_all(&vec![7u8; 64 * 1024]).unwrap();
            // Linger 0: close sends a reset instead of a FIN.
            socket2::SockRef::from(&s)
                .set_linger(Some(Duration::ZERO))
                .unwrap();
            drop(s);
        })
        .await
        .unwrap();
    });
    assert_eq!(errors, 1, "the reset connection ends in an error");
}

/// The 1,000 connects fit in the listen queue (`TcpListener::bind` listens
/// with a backlog of 1,024). With std's 128 the kernel dropped handshakes
/// on every run, and now and then completed a connection on the server
/// after its client had closed it: an established socket that never sees
/// its FIN, held past the 20 s `settle_fds` waits (regression test of the
/// backlog itself: `tests/net/tcp.rs`, `bind_listens_with_a_backlog_of_1024`).
#[test]
fn thousand_connections_opened_and_dropped_at_once() {
    if !child::isolate("bad_input::thousand_connections_opened_and_dropped_at_once") {
        return; // it ran in a child process of its own
    }
    survive(None, |addr| async move {
        let conns: Vec<_> = (0..1000)
            .map(|_| windlass::spawn(windlass::net::TcpStream::connect(addr)))
            .collect();
        let mut opened = Vec::new();
        for c in conns {
            opened.push(timeout(LONG, c).await.unwrap().unwrap().unwrap());
        }
        assert_eq!(opened.len(), 1000);
        drop(opened); // all at once
    });
}
