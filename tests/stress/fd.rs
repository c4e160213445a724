//! Running out of file descriptors (issue #13), each scenario in a child
//! process (`support::child`) because `RLIMIT_NOFILE` is per process:
//!
//! - defect 3: with every descriptor taken, timers still work (the poller
//!   was created at build time), and what needs a new descriptor returns an
//!   `io::Error` (`build()`, `bind`) instead of panicking;
//! - a server under `EMFILE` survives, keeps its timers firing, and serves
//!   every pending connection once descriptors are free again.

use std::io::{BufRead, BufReader, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use crate::support::{LimitGuard, child, current, hoard_descriptors, multi};
use futures_lite::AsyncWriteExt;
use windlass::net::{AcceptBackoff, TcpListener};
use windlass::runtime::Builder;
use windlass::time::{sleep, timeout};

const EMFILE: i32 = 24;
const DEADLINE: Duration = Duration::from_secs(30);
/// Connections left pending in the backlog while descriptors are out.
const PENDING: usize = 8;

/// Defect 3: before the fix the reactor (and its poller) started on first
/// use, so the first `sleep` after descriptors ran out panicked with
/// "cannot start the reactor: Too many open files".
#[test]
fn timers_work_with_no_descriptor_left() {
    child::run("fd::timers_work_with_no_descriptor_left", DEADLINE, || {
        let runtimes = [multi(2), current()];
        let _limit = LimitGuard::lower(8);
        let hoard = hoard_descriptors();
        for rt in &runtimes {
            rt.block_on(async {
                sleep(Duration::from_millis(1)).await;
                let late = timeout(Duration::from_millis(1), std::future::pending::<()>()).await;
                assert!(late.is_err());
                // A socket needs a descriptor: an error, not a panic.
                let err = TcpListener::bind("127.0.0.1:0").await.unwrap_err();
                assert_eq!(err.raw_os_error(), Some(EMFILE), "{err:?}");
            });
        }
        // A new runtime needs descriptors for its poller: build() says so.
        let err = Builder::new_multi_thread()
            .worker_threads(1)
            .build()
            .unwrap_err();
        assert_eq!(err.raw_os_error(), Some(EMFILE), "{err:?}");
        drop(hoard);
        assert!(Builder::new_current_thread().build().is_ok());
    })
    .assert_passed();
}

/// The server survives `EMFILE`: it backs off (it does not die or spin),
/// its timers keep firing meanwhile, and once descriptors are free it
/// serves every connection that waited, and new ones.
#[test]
fn server_survives_descriptor_exhaustion() {
    let name = "fd::server_survives_descriptor_exhaustion";
    child::run(name, DEADLINE, || {
        let rt = multi(2);
        let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
        let addr = listener.local_addr().unwrap();

        // A ticker: one message per timer firing.
        let (tick_tx, tick_rx) = std::sync::mpsc::channel::<()>();
        let ticker = rt.spawn(async move {
            loop {
                sleep(Duration::from_millis(2)).await;
                if tick_tx.send(()).is_err() {
                    return;
                }
            }
        });

        // The server starts accepting once the descriptors are gone.
        let (go_tx, go_rx) = futures_channel::oneshot::channel::<()>();
        let attempts = Arc::new(AtomicUsize::new(0));
        let served = Arc::new(AtomicUsize::new(0));
        let (a, s) = (attempts.clone(), served.clone());
        let server = rt.spawn(async move {
            go_rx.await.unwrap();
            let mut backoff =
                AcceptBackoff::with_limits(Duration::from_millis(1), Duration::from_millis(20));
            loop {
                let accepted = backoff
                    .accept_with(|| {
                        a.fetch_add(1, SeqCst);
                        listener.accept()
                    })
                    .await;
                let (mut conn, _) = accepted.expect("only resource errors happen here");
                let line = format!(
                    "served after {} resource errors\n",
                    backoff.resource_errors()
                );
                let s = s.clone();
                windlass::spawn(async move {
                    conn.write_all(line.as_bytes()).await.unwrap();
                    s.fetch_add(1, SeqCst);
                });
            }
        });

        // Pending connections (the handshake completes in the backlog),
        // then every other descriptor taken.
        let _limit = LimitGuard::lower(PENDING as u64 + 4);
        let mut clients: Vec<_> = (0..PENDING)
            .map(|_| std::net::TcpStream::connect(addr).unwrap())
            .collect();
        let hoard = hoard_descriptors();
        go_tx.send(()).unwrap();

        // Exhausted: the server keeps retrying (with waits), timers fire.
        let mut ticks = 0;
        while attempts.load(SeqCst) < 4 || ticks < 5 {
            tick_rx
                .recv_timeout(Duration::from_secs(10))
                .expect("timers stopped firing while descriptors were out");
            ticks += 1;
        }
        assert_eq!(served.load(SeqCst), 0, "nothing can be accepted yet");
        assert!(!server.is_finished(), "the server survived");

        // Free the descriptors: every pending client is served.
        drop(hoard);
        for c in &mut clients {
            c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let mut line = String::new();
            BufReader::new(&*c).read_line(&mut line).unwrap();
            let errors: u64 = line
                .trim()
                .strip_prefix("served after ")
                .and_then(|l| l.strip_suffix(" resource errors"))
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("unexpected reply {line:?}"));
            assert!(errors >= 3, "the server backed off on EMFILE: {line:?}");
        }
        drop(clients);
        // And a new connection after that.
        let mut late = std::net::TcpStream::connect(addr).unwrap();
        late.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut line = String::new();
        BufReader::new(&late).read_line(&mut line).unwrap();
        assert!(line.starts_with("served after"), "{line:?}");
        late.flush().unwrap();
        assert!(!server.is_finished());
        assert!(!ticker.is_finished());
        drop(rt);
    })
    .assert_passed();
}
