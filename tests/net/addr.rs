//! `net::ToSocketAddrs`: borrowed names (no `'static`), literals, host and
//! port pairs, and the errors. Loopback only.

use std::net::SocketAddr;

use crate::support::watchdog;
use windlass::net::{TcpListener, TcpStream, UdpSocket};

#[test]
fn borrowed_addresses_work_without_static() {
    watchdog(|| {
        windlass::Runtime::new().unwrap().block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let port = listener.local_addr().unwrap().port();
            // Built at run time and borrowed for the call only.
            let text = format!("127.0.0.1:{port}");
            let host = String::from("127.0.0.1");
            let name = String::from("localhost");
            let conns = [
                TcpStream::connect(text.as_str()).await,
                TcpStream::connect(&text).await,
                TcpStream::connect((host.as_str(), port)).await,
                TcpStream::connect((host.clone(), port)).await,
                // A name goes through the blocking pool, as an owned copy.
                TcpStream::connect((name.as_str(), port)).await,
            ];
            drop((text, host, name));
            for conn in conns {
                let conn = conn.unwrap();
                assert_eq!(conn.peer_addr().unwrap().port(), port);
            }
        });
    });
}

#[test]
fn a_borrowed_address_inside_a_spawned_task() {
    watchdog(|| {
        windlass::Runtime::new().unwrap().block_on(async {
            let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let target = socket.local_addr().unwrap().to_string();
            let sent = windlass::spawn(async move {
                let local = UdpSocket::bind("127.0.0.1:0").await.unwrap();
                // `&target` borrows from this task's own state.
                local.send_to(b"hi", &target).await.unwrap()
            });
            assert_eq!(sent.await.unwrap(), 2);
            let mut buf = [0; 8];
            assert_eq!(socket.recv_from(&mut buf).await.unwrap().0, 2);
        });
    });
}

#[test]
fn bad_and_empty_addresses_are_errors() {
    watchdog(|| {
        windlass::Runtime::new().unwrap().block_on(async {
            let bad_port = UdpSocket::bind("127.0.0.1:notaport").await.unwrap_err();
            assert_eq!(bad_port.kind(), std::io::ErrorKind::InvalidInput);
            let none: &[SocketAddr] = &[];
            let empty = UdpSocket::bind(none).await.unwrap_err();
            assert_eq!(empty.kind(), std::io::ErrorKind::InvalidInput);
            assert!(empty.to_string().contains("resolved to nothing"), "{empty}");
        });
    });
}
