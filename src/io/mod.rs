//! Asynchronous I/O on any file descriptor: [`Async`].
//!
//! [`Async<T>`](Async) registers a descriptor with the runtime's reactor and
//! turns `WouldBlock` into waiting: the sockets in [`net`](crate::net) are
//! built on it, and it works as well for descriptors windlass has no type
//! for. Two layers are offered:
//!
//! - the `futures-io` traits re-exported here ([`AsyncRead`],
//!   [`AsyncWrite`], ...), which `Async<T>` implements when `&T` implements
//!   `Read`/`Write`, so `futures-lite`'s `AsyncReadExt` / `AsyncWriteExt`
//!   helpers and other runtime-agnostic crates work on it;
//! - [`Async::read_with`] and [`Async::write_with`], which run any
//!   non-blocking call (`accept`, `recv_from`, an `ioctl`) until it stops
//!   saying `WouldBlock`.
//!
//! ```
//! use std::io::Write;
//! use std::net::{TcpListener, TcpStream};
//! use futures_lite::AsyncReadExt;
//! use windlass::io::Async;
//!
//! windlass::Runtime::new().unwrap().block_on(async {
//!     let listener = Async::new(TcpListener::bind("127.0.0.1:0").unwrap()).unwrap();
//!     let addr = listener.get_ref().local_addr().unwrap();
//!     // A plain blocking client on its own thread.
//!     let client = std::thread::spawn(move || {
//!         TcpStream::connect(addr).unwrap().write_all(b"hello").unwrap();
//!     });
//!     // accept() waits on the reactor instead of blocking the worker.
//!     let (conn, _) = listener.read_with(|l| l.accept()).await.unwrap();
//!     let mut text = String::new();
//!     Async::new(conn).unwrap().read_to_string(&mut text).await.unwrap();
//!     assert_eq!(text, "hello");
//!     client.join().unwrap();
//! });
//! ```

pub(crate) mod async_fd;

pub use async_fd::{Async, Readable, Writable};
pub use futures_io::{AsyncBufRead, AsyncRead, AsyncSeek, AsyncWrite};
