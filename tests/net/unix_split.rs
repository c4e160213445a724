//! `UnixStream::into_split` and the Unix addresses: halves in different
//! tasks moving data both ways at once (neither waits on the other),
//! half-close from the write half, `reunite`, and `local_addr`/`peer_addr`
//! on streams, halves and datagram sockets.

use crate::support::{TempDir, multi, watchdog};
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use windlass::net::{UnixDatagram, UnixListener, UnixStream};

/// More than a socket buffer holds, so each writer must wait for the other
/// side to read: a split that serialized the halves would deadlock.
const BIG: usize = 4 << 20;

#[test]
fn halves_in_separate_tasks_stream_both_ways_at_once() {
    watchdog(|| {
        multi(2).block_on(async {
            let (a, b) = UnixStream::pair().unwrap();
            let (mut a_read, mut a_write) = a.into_split();
            let (mut b_read, mut b_write) = b.into_split();
            let payload: Vec<u8> = (0..BIG).map(|i| (i % 251) as u8).collect();
            let expected = payload.clone();
            let writers = [
                windlass::spawn({
                    let p = payload.clone();
                    async move {
                        a_write.write_all(&p).await.unwrap();
                        a_write.close().await.unwrap();
                    }
                }),
                windlass::spawn(async move {
                    b_write.write_all(&payload).await.unwrap();
                    b_write.close().await.unwrap();
                }),
            ];
            let readers = [
                windlass::spawn(async move {
                    let mut got = Vec::new();
                    a_read.read_to_end(&mut got).await.unwrap();
                    got
                }),
                windlass::spawn(async move {
                    let mut got = Vec::new();
                    b_read.read_to_end(&mut got).await.unwrap();
                    got
                }),
            ];
            for w in writers {
                w.await.unwrap();
            }
            for r in readers {
                assert!(r.await.unwrap() == expected, "the bytes arrived intact");
            }
        });
    });
}

#[test]
fn split_of_an_accepted_connection_keeps_its_addresses_and_reunites() {
    watchdog(|| {
        multi(2).block_on(async {
            let dir = TempDir::new("unix-split");
            let path = dir.join("s.sock");
            let listener = UnixListener::bind(&path).unwrap();
            let client = UnixStream::connect(&path).await.unwrap();
            let (server, _) = listener.accept().await.unwrap();
            assert!(client.local_addr().unwrap().is_unnamed());
            assert_eq!(
                client.peer_addr().unwrap().as_pathname(),
                Some(path.as_path())
            );

            let (mut read, mut write) = server.into_split();
            assert_eq!(
                read.local_addr().unwrap().as_pathname(),
                Some(path.as_path())
            );
            assert_eq!(
                write.local_addr().unwrap().as_pathname(),
                Some(path.as_path())
            );
            assert!(write.peer_addr().unwrap().is_unnamed());

            let mut client = client;
            client.write_all(b"ping").await.unwrap();
            let mut buf = [0; 4];
            read.read_exact(&mut buf).await.unwrap();
            write.write_all(b"pong").await.unwrap();
            client.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"pong");

            // Reunited, it is one stream again; a shutdown through it is seen.
            let server = read.reunite(write).unwrap();
            server.shutdown(std::net::Shutdown::Write).unwrap();
            let mut rest = Vec::new();
            assert_eq!(client.read_to_end(&mut rest).await.unwrap(), 0);
        });
    });
}

#[test]
fn datagram_addresses() {
    watchdog(|| {
        multi(2).block_on(async {
            let dir = TempDir::new("unix-dgram-addr");
            let path = dir.join("d.sock");
            let server = UnixDatagram::bind(&path).unwrap();
            let client = UnixDatagram::unbound().unwrap();
            assert_eq!(
                server.local_addr().unwrap().as_pathname(),
                Some(path.as_path())
            );
            assert!(client.local_addr().unwrap().is_unnamed());
            assert_eq!(
                client.peer_addr().unwrap_err().kind(),
                std::io::ErrorKind::NotConnected
            );
            client.connect(&path).unwrap();
            assert_eq!(
                client.peer_addr().unwrap().as_pathname(),
                Some(path.as_path())
            );
            client.send(b"x").await.unwrap();
            let mut buf = [0; 1];
            assert_eq!(server.recv(&mut buf).await.unwrap(), 1);
        });
    });
}
