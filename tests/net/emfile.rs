//! `accept` under a low `RLIMIT_NOFILE`: it returns `EMFILE` as an error
//! (no hang, no busy retry) and works again once descriptors are freed.
//!
//! The limit is per process, so the test runs in a child process of its
//! own (`support::child::isolate`): no other test may open descriptors
//! while the limit is low.

use std::io::{Read, Write};
use std::time::Duration;

use crate::support::{LimitGuard, child, multi, watchdog};
use futures_lite::AsyncWriteExt;
use rustix::process::{Resource, getrlimit};
use windlass::net::TcpListener;
use windlass::time::timeout;

const EMFILE: i32 = 24;
/// Connections queued before the limit is lowered: more than can be
/// accepted under it.
const PENDING: usize = 32;
/// Descriptor numbers left free under the lowered limit.
const SLACK: u64 = 4;

#[test]
fn accept_reports_emfile_and_recovers() {
    if !child::isolate("emfile::accept_reports_emfile_and_recovers") {
        return; // it ran in a child process of its own
    }
    let before = getrlimit(Resource::Nofile);
    watchdog(|| {
        let rt = multi(2);
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            // Start the timer machinery too before the limit drops.
            assert!(
                timeout(Duration::from_millis(1), std::future::pending::<()>())
                    .await
                    .is_err()
            );
            // Plain blocking clients: the kernel completes each handshake
            // into the listen backlog, so they need no accept to connect.
            let clients: Vec<std::net::TcpStream> = (0..PENDING)
                .map(|_| std::net::TcpStream::connect(addr).unwrap())
                .collect();

            let guard = LimitGuard::lower(SLACK);
            let mut accepted = Vec::new();
            let err = loop {
                // The accept must complete, with a stream or an error: a
                // hang (or an endless internal retry) trips the timeout.
                let res = timeout(Duration::from_secs(10), listener.accept())
                    .await
                    .expect("accept under EMFILE neither succeeded nor failed");
                match res {
                    Ok((s, _)) => {
                        accepted.push(s);
                        assert!(
                            accepted.len() < PENDING,
                            "accepted every queued connection without hitting EMFILE"
                        );
                    }
                    Err(e) => break e,
                }
            };
            assert_eq!(err.raw_os_error(), Some(EMFILE), "{err:?}");
            assert!(
                accepted.len() >= SLACK as usize,
                "only {} accepted",
                accepted.len()
            );
            // Still at the limit: accept keeps reporting the error.
            let again = timeout(Duration::from_secs(10), listener.accept())
                .await
                .expect("second accept completes");
            assert_eq!(again.unwrap_err().raw_os_error(), Some(EMFILE));

            // Free two descriptors: accepting works again, and the
            // connection it returns is usable.
            accepted.truncate(accepted.len() - 2);
            let (mut s, peer) = timeout(Duration::from_secs(10), listener.accept())
                .await
                .expect("accept after recovery completes")
                .expect("accept works once descriptors are free");
            s.write_all(b"recovered").await.unwrap();
            let mut client = clients
                .iter()
                .find(|c| c.local_addr().unwrap() == peer)
                .expect("the accepted connection is one of ours");
            client
                .set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            let mut buf = [0; 9];
            client.read_exact(&mut buf).unwrap();
            assert_eq!(&buf, b"recovered");
            client.write_all(b"!").unwrap();
            let remaining = PENDING - accepted.len() - 2 - 1;
            drop(s);
            drop(accepted);
            drop(guard);

            // With the limit restored, the rest of the backlog is accepted.
            for _ in 0..remaining {
                timeout(Duration::from_secs(10), listener.accept())
                    .await
                    .expect("accept completes")
                    .expect("accept works with the limit restored");
            }
            drop(clients);
        });
        assert_eq!(rt.handle().num_io_sources(), 0);
    });
    let after = getrlimit(Resource::Nofile);
    assert_eq!(
        (after.current, after.maximum),
        (before.current, before.maximum)
    );
}
