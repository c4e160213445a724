//! Networking on the reactor: TCP, UDP and Unix-domain sockets.
//!
//! Every stream implements `futures-io`'s `AsyncRead` and `AsyncWrite`, so
//! `futures_lite::{AsyncReadExt, AsyncWriteExt}` and other runtime-agnostic
//! crates work on them. Name resolution (`"example.com:80"`) runs on the
//! blocking pool.

mod addr;
mod tcp;
mod udp;
mod unix;

pub use addr::ToSocketAddrs;
pub use tcp::{Incoming, OwnedReadHalf, OwnedWriteHalf, TcpListener, TcpStream};
pub use udp::UdpSocket;
pub use unix::{UnixDatagram, UnixIncoming, UnixListener, UnixStream};
