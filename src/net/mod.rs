//! Networking on the reactor: TCP, UDP and Unix-domain sockets.
//!
//! Every stream implements `futures-io`'s `AsyncRead` and `AsyncWrite`, so
//! `futures_lite::{AsyncReadExt, AsyncWriteExt}` and other runtime-agnostic
//! crates work on them. Name resolution (`"example.com:80"`) runs on the
//! blocking pool.
//!
//! | asyncio | windlass |
//! |---|---|
//! | `asyncio.start_server(handler, host, port)` | [`TcpListener::bind`], then [`accept`](TcpListener::accept) in a loop and [`spawn`](crate::spawn) a handler per connection |
//! | `reader, writer = await asyncio.open_connection(host, port)` | [`TcpStream::connect`], [`into_split`](TcpStream::into_split) for separate halves |
//! | `await reader.read(n)`, `writer.write(b)` + `await writer.drain()` | `AsyncReadExt::read`, `AsyncWriteExt::write_all` |
//! | `writer.write_eof()` | [`TcpStream::shutdown`]`(Shutdown::Write)`, or `close().await` |
//! | `loop.create_datagram_endpoint` | [`UdpSocket`] |
//! | `asyncio.open_unix_connection`, `start_unix_server` | [`UnixStream::connect`], [`UnixListener`] |
//! | `start_server`'s accept loop surviving `EMFILE` | [`AcceptBackoff`]: backs off on resource errors, skips per-connection errors |
//!
//! An echo server with one task per connection, and three clients at once:
//!
//! ```
//! use futures_lite::{AsyncReadExt, AsyncWriteExt};
//! use windlass::net::{TcpListener, TcpStream};
//!
//! windlass::Runtime::new().unwrap().block_on(async {
//!     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
//!     let addr = listener.local_addr().unwrap();
//!     windlass::spawn(async move {
//!         loop {
//!             let (mut conn, _) = listener.accept().await.unwrap();
//!             windlass::spawn(async move {
//!                 let mut buf = Vec::new();
//!                 conn.read_to_end(&mut buf).await.unwrap(); // until the client's half-close
//!                 conn.write_all(&buf).await.unwrap();
//!             });
//!         }
//!     });
//!     let clients = (0..3).map(|i| windlass::spawn(async move {
//!         let mut conn = TcpStream::connect(addr).await.unwrap();
//!         conn.write_all(format!("client {i}").as_bytes()).await.unwrap();
//!         conn.close().await.unwrap(); // half-close: the server sees end-of-file
//!         let mut echo = String::new();
//!         conn.read_to_string(&mut echo).await.unwrap();
//!         echo
//!     }));
//!     let echoes = windlass::join_all(clients.collect::<Vec<_>>()).await;
//!     let echoes: Vec<String> = echoes.into_iter().map(Result::unwrap).collect();
//!     assert_eq!(echoes, ["client 0", "client 1", "client 2"]);
//! });
//! ```

mod accept;
mod addr;
mod stream;
mod tcp;
mod udp;
mod unix;

pub use accept::{AcceptBackoff, is_connection_error, is_resource_error};
pub use addr::ToSocketAddrs;
pub use tcp::{Incoming, LISTEN_BACKLOG, OwnedReadHalf, OwnedWriteHalf, TcpListener, TcpStream};
pub use udp::UdpSocket;
pub use unix::{
    UnixDatagram, UnixIncoming, UnixListener, UnixOwnedReadHalf, UnixOwnedWriteHalf, UnixStream,
};
