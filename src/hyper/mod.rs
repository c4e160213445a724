//! hyper 1.x on windlass, with no glue of your own (feature `hyper`).
//!
//! hyper leaves three things to its runtime, as traits in `hyper::rt`;
//! this module implements them on windlass:
//!
//! - [`WindlassIo`]: the connection. Wraps a [`TcpStream`], a
//!   [`UnixStream`], an owned half of either (`into_split`) or any
//!   [`Async<T>`](crate::io::Async), and implements `hyper::rt::Read` (when
//!   the wrapped type reads) and `hyper::rt::Write` (when it writes). Reads
//!   go straight into hyper's uninitialised buffer (no zeroing, no copy),
//!   writes may be vectored, and for the stream types a short read or write
//!   spares the next attempt's `EAGAIN` (the reactor's rule 7).
//! - [`WindlassExecutor`]: spawns the background tasks hyper needs (HTTP/2
//!   connections, the client's connection task) on a windlass runtime.
//! - [`WindlassTimer`]: hyper's header-read timeout, HTTP/2 keep-alive
//!   pings and the like, on windlass timers.
//!
//! Enable the feature and depend on hyper with the protocols you use:
//!
//! ```toml
//! windlass = { version = "0.1", features = ["hyper"] }
//! hyper = { version = "1", features = ["http1", "server", "client"] }
//! ```
//!
//! A server and a client, one request:
//!
//! ```
//! use std::convert::Infallible;
//! use http_body_util::{BodyExt, Full};
//! use hyper::body::Bytes;
//! use hyper::{Request, Response};
//! use windlass::hyper::{WindlassIo, WindlassTimer};
//! use windlass::net::{TcpListener, TcpStream};
//!
//! windlass::Runtime::new().unwrap().block_on(async {
//!     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
//!     let addr = listener.local_addr().unwrap();
//!     windlass::spawn(async move {
//!         let (conn, _) = listener.accept().await.unwrap();
//!         let hello = hyper::service::service_fn(|_req: Request<hyper::body::Incoming>| async {
//!             Ok::<_, Infallible>(Response::new(Full::new(Bytes::from("hello"))))
//!         });
//!         hyper::server::conn::http1::Builder::new()
//!             .timer(WindlassTimer::new())
//!             .serve_connection(WindlassIo::new(conn), hello)
//!             .await
//!             .unwrap();
//!     });
//!
//!     let conn = TcpStream::connect(addr).await.unwrap();
//!     let (mut sender, connection) =
//!         hyper::client::conn::http1::handshake(WindlassIo::new(conn)).await.unwrap();
//!     windlass::spawn(connection);
//!     let req = Request::get("/").body(Full::new(Bytes::new())).unwrap();
//!     let res = sender.send_request(req).await.unwrap();
//!     assert_eq!(res.status(), 200);
//!     let body = res.into_body().collect().await.unwrap().to_bytes();
//!     assert_eq!(body, "hello");
//! });
//! ```
//!
//! [`TcpStream`]: crate::net::TcpStream
//! [`UnixStream`]: crate::net::UnixStream

mod executor;
mod io;
mod timer;

pub use executor::WindlassExecutor;
pub use io::{ReadUninit, WindlassIo};
pub use timer::{WindlassSleep, WindlassTimer};
