//! UDP on the reactor: `send_to` / `recv_from` round trips, `connect` with
//! `send` / `recv`, `peek_from`, a receive that waits for its datagram, and
//! that dropped sockets leave no sources registered.

use std::sync::Arc;
use std::time::Duration;

use crate::support::{multi, signal_when_pending, watchdog};
use futures_lite::StreamExt;
use windlass::net::UdpSocket;
use windlass::runtime::Handle;
use windlass::time::timeout;

const LONG: Duration = Duration::from_secs(20);

#[test]
fn send_to_recv_from_round_trips() {
    watchdog(|| {
        let rt = multi(2);
        rt.block_on(async {
            let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let b = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
            let (a_addr, b_addr) = (a.local_addr().unwrap(), b.local_addr().unwrap());
            // b echoes every datagram back to its sender.
            let echo = {
                let b = b.clone();
                windlass::spawn(async move {
                    let mut buf = [0; 1500];
                    for _ in 0..100 {
                        let (n, from) = b.recv_from(&mut buf).await.unwrap();
                        assert_eq!(b.send_to(&buf[..n], from).await.unwrap(), n);
                    }
                })
            };
            let mut buf = [0; 1500];
            // One datagram in flight at a time: loopback UDP does not lose
            // datagrams unless the receive buffer overflows.
            for i in 0..100u32 {
                let msg = format!("datagram {i}").repeat(1 + i as usize % 7);
                assert_eq!(a.send_to(msg.as_bytes(), b_addr).await.unwrap(), msg.len());
                let (n, from) = timeout(LONG, a.recv_from(&mut buf)).await.unwrap().unwrap();
                assert_eq!(from, b_addr);
                assert_eq!(&buf[..n], msg.as_bytes());
            }
            timeout(LONG, echo).await.unwrap().unwrap();
            // Datagram boundaries are kept: two sends, two receives.
            a.send_to(b"one", b_addr).await.unwrap();
            a.send_to(b"two!", b_addr).await.unwrap();
            let (n, from) = b.recv_from(&mut buf).await.unwrap();
            assert_eq!((&buf[..n], from), (&b"one"[..], a_addr));
            let (n, _) = b.recv_from(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"two!");
        });
        assert_eq!(rt.handle().num_io_sources(), 0);
    });
}

#[test]
fn connect_send_recv() {
    watchdog(|| {
        let rt = multi(2);
        rt.block_on(async {
            let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let stranger = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let (a_addr, b_addr) = (a.local_addr().unwrap(), b.local_addr().unwrap());
            a.connect(b_addr).await.unwrap();
            b.connect(a_addr).await.unwrap();
            assert_eq!(a.peer_addr().unwrap(), b_addr);
            let mut buf = [0; 64];
            for i in 0..50u8 {
                a.send(&[i; 10]).await.unwrap();
                let n = timeout(LONG, b.recv(&mut buf)).await.unwrap().unwrap();
                assert_eq!(&buf[..n], &[i; 10]);
                b.send(&[i; 3]).await.unwrap();
                let n = timeout(LONG, a.recv(&mut buf)).await.unwrap().unwrap();
                assert_eq!(&buf[..n], &[i; 3]);
            }
            // A connected socket only receives from its peer: the
            // stranger's datagram (sent first) is filtered out.
            stranger.send_to(b"intruder", a_addr).await.unwrap();
            b.send(b"peer").await.unwrap();
            let n = timeout(LONG, a.recv(&mut buf)).await.unwrap().unwrap();
            assert_eq!(&buf[..n], b"peer");
            // A connect by name goes through the resolver.
            let c = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            c.connect(format!("localhost:{}", b_addr.port()))
                .await
                .unwrap();
            assert_eq!(c.peer_addr().unwrap().port(), b_addr.port());
        });
        assert_eq!(rt.handle().num_io_sources(), 0);
    });
}

#[test]
fn recv_waits_for_the_datagram_and_peek_keeps_it() {
    watchdog(|| {
        let rt = multi(2);
        rt.block_on(async {
            let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let b = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
            let b_addr = b.local_addr().unwrap();
            let (reg_tx, reg_rx) = async_channel::unbounded();
            let receiver = {
                let b = b.clone();
                windlass::spawn(signal_when_pending(
                    async move {
                        let mut buf = [0; 16];
                        let (n, from) = b.peek_from(&mut buf).await.unwrap();
                        let peeked = buf[..n].to_vec();
                        let (n, from2) = b.recv_from(&mut buf).await.unwrap();
                        assert_eq!(from, from2);
                        (peeked, buf[..n].to_vec())
                    },
                    reg_tx,
                ))
            };
            // The receiver is blocked in the reactor before anything is sent.
            reg_rx.recv().await.unwrap();
            a.send_to(b"wake up", b_addr).await.unwrap();
            let (peeked, got) = timeout(LONG, receiver).await.unwrap().unwrap();
            assert_eq!(peeked, b"wake up");
            assert_eq!(got, b"wake up");
            // Nothing left: a receive now times out.
            let mut buf = [0; 16];
            assert!(
                timeout(Duration::from_millis(20), b.recv_from(&mut buf))
                    .await
                    .is_err()
            );
        });
        assert_eq!(rt.handle().num_io_sources(), 0);
        assert_eq!(rt.handle().num_timers(), 0);
    });
}

#[test]
fn dropping_udp_sockets_deregisters_them() {
    watchdog(|| {
        let rt = crate::support::current();
        rt.block_on(async {
            let handle = Handle::current();
            let sockets: Vec<_> = futures_lite::stream::iter(0..20)
                .then(|_| async { UdpSocket::bind("127.0.0.1:0").await.unwrap() })
                .collect()
                .await;
            assert_eq!(handle.num_io_sources(), 20);
            let from_std =
                UdpSocket::from_std(std::net::UdpSocket::bind("127.0.0.1:0").unwrap()).unwrap();
            assert_eq!(handle.num_io_sources(), 21);
            drop(sockets);
            assert_eq!(handle.num_io_sources(), 1);
            drop(from_std);
            assert_eq!(handle.num_io_sources(), 0);
            // Binding an address in use fails and registers nothing.
            let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let err = UdpSocket::bind(a.local_addr().unwrap()).await.unwrap_err();
            assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse);
            assert_eq!(handle.num_io_sources(), 1);
        });
        assert_eq!(rt.handle().num_io_sources(), 0);
    });
}
