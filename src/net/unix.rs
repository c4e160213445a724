//! Unix-domain sockets.

use std::fmt;
use std::io;
use std::net::Shutdown;
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::{self as std_unix, SocketAddr};
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

use super::stream;
use crate::io::Async;

mod split;

pub use split::{UnixOwnedReadHalf, UnixOwnedWriteHalf};

/// A Unix-domain stream server.
///
/// ```
/// use futures_lite::{AsyncReadExt, AsyncWriteExt};
/// use windlass::net::{UnixListener, UnixStream};
///
/// windlass::Runtime::new().unwrap().block_on(async {
///     let path = std::env::temp_dir().join(format!("windlass-doc-{}.sock", std::process::id()));
///     let _ = std::fs::remove_file(&path);
///     let listener = UnixListener::bind(&path).unwrap();
///     let mut client = UnixStream::connect(&path).await.unwrap();
///     let (mut server, _) = listener.accept().await.unwrap();
///     client.write_all(b"hi").await.unwrap();
///     let mut buf = [0; 2];
///     server.read_exact(&mut buf).await.unwrap();
///     assert_eq!(&buf, b"hi");
///     std::fs::remove_file(&path).unwrap();
/// });
/// ```
pub struct UnixListener {
    inner: Async<std_unix::UnixListener>,
}

impl UnixListener {
    /// Binds to `path`, creating the socket file there; it fails if the
    /// file exists (remove a stale one first). The file stays after the
    /// listener is dropped. Must be called inside a runtime.
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let path = std::env::temp_dir().join(format!("windlass-doc-{}-{}.sock", "bind", std::process::id()));
    /// let _ = std::fs::remove_file(&path); // left over from an earlier run
    /// let listener = windlass::net::UnixListener::bind(&path).unwrap();
    /// assert!(windlass::net::UnixListener::bind(&path).is_err()); // in use
    /// drop(listener);
    /// std::fs::remove_file(&path).unwrap();
    /// # });
    /// ```
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixListener> {
        UnixListener::from_std(std_unix::UnixListener::bind(path)?)
    }

    /// Wraps a std listener (made non-blocking here). Must be called inside
    /// a runtime.
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let path = std::env::temp_dir().join(format!("windlass-doc-{}-{}.sock", "from-std", std::process::id()));
    /// let _ = std::fs::remove_file(&path);
    /// let std_listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    /// let listener = windlass::net::UnixListener::from_std(std_listener).unwrap();
    /// let _client = windlass::net::UnixStream::connect(&path).await.unwrap();
    /// assert!(listener.accept().await.is_ok());
    /// std::fs::remove_file(&path).unwrap();
    /// # });
    /// ```
    pub fn from_std(listener: std_unix::UnixListener) -> io::Result<UnixListener> {
        Ok(UnixListener {
            inner: Async::new(listener)?,
        })
    }

    /// Accepts a connection, returning it and the client's address
    /// (usually unnamed: clients rarely bind a path).
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let path = std::env::temp_dir().join(format!("windlass-doc-{}-{}.sock", "accept", std::process::id()));
    /// let _ = std::fs::remove_file(&path);
    /// let listener = windlass::net::UnixListener::bind(&path).unwrap();
    /// let _client = windlass::net::UnixStream::connect(&path).await.unwrap();
    /// let (conn, from) = listener.accept().await.unwrap();
    /// assert!(from.is_unnamed());
    /// assert!(conn.peer_addr().unwrap().is_unnamed());
    /// std::fs::remove_file(&path).unwrap();
    /// # });
    /// ```
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        let (s, addr) = self.inner.read_with(|l| l.accept()).await?;
        Ok((UnixStream::from_std(s)?, addr))
    }

    /// The connections, as a `Stream` (never ends; errors are items).
    ///
    /// ```
    /// use futures_lite::StreamExt;
    ///
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let path = std::env::temp_dir().join(format!("windlass-doc-{}-{}.sock", "incoming", std::process::id()));
    /// let _ = std::fs::remove_file(&path);
    /// let listener = windlass::net::UnixListener::bind(&path).unwrap();
    /// let _a = windlass::net::UnixStream::connect(&path).await.unwrap();
    /// let _b = windlass::net::UnixStream::connect(&path).await.unwrap();
    /// let conns: Vec<_> = listener.incoming().take(2).try_collect().await.unwrap();
    /// assert_eq!(conns.len(), 2);
    /// std::fs::remove_file(&path).unwrap();
    /// # });
    /// ```
    pub fn incoming(&self) -> UnixIncoming<'_> {
        UnixIncoming { listener: self }
    }

    /// The bound address.
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let path = std::env::temp_dir().join(format!("windlass-doc-{}-{}.sock", "local-addr", std::process::id()));
    /// let _ = std::fs::remove_file(&path);
    /// let listener = windlass::net::UnixListener::bind(&path).unwrap();
    /// assert_eq!(listener.local_addr().unwrap().as_pathname(), Some(path.as_path()));
    /// std::fs::remove_file(&path).unwrap();
    /// # });
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().local_addr()
    }
}

/// Stream of [`UnixListener::incoming`]; see the example there.
#[must_use = "streams do nothing unless polled"]
pub struct UnixIncoming<'a> {
    listener: &'a UnixListener,
}

impl futures_core::Stream for UnixIncoming<'_> {
    type Item = io::Result<UnixStream>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.listener
            .inner
            .poll_read_with(cx, |l| l.accept())
            .map(|r| Some(r.and_then(|(s, _)| UnixStream::from_std(s))))
    }
}

/// A Unix-domain stream connection: implements `AsyncRead` and
/// `AsyncWrite`.
///
/// ```
/// use futures_lite::{AsyncReadExt, AsyncWriteExt};
///
/// # windlass::Runtime::new().unwrap().block_on(async {
/// let (mut parent, mut child) = windlass::net::UnixStream::pair().unwrap();
/// let worker = windlass::spawn(async move {
///     let mut job = String::new();
///     child.read_to_string(&mut job).await.unwrap();
///     child.write_all(job.to_uppercase().as_bytes()).await.unwrap();
/// });
/// parent.write_all(b"shout this").await.unwrap();
/// parent.close().await.unwrap(); // half-close: the worker sees end-of-file
/// let mut answer = String::new();
/// parent.read_to_string(&mut answer).await.unwrap();
/// worker.await.unwrap();
/// assert_eq!(answer, "SHOUT THIS");
/// # });
/// ```
pub struct UnixStream {
    inner: Async<std_unix::UnixStream>,
}

impl UnixStream {
    /// Connects to the socket at `path`.
    ///
    /// Never blocks the thread: if the listener's backlog is full, this
    /// fails at once with an error of kind `WouldBlock` (as in tokio and
    /// async-io; the kernel has no readiness event for "the backlog has
    /// room" to wait on).
    ///
    /// ```
    /// use futures_lite::{AsyncReadExt, AsyncWriteExt};
    ///
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let path = std::env::temp_dir().join(format!("windlass-doc-{}-{}.sock", "connect", std::process::id()));
    /// let _ = std::fs::remove_file(&path);
    /// // Nothing listens there yet.
    /// assert!(windlass::net::UnixStream::connect(&path).await.is_err());
    /// let listener = windlass::net::UnixListener::bind(&path).unwrap();
    /// let mut client = windlass::net::UnixStream::connect(&path).await.unwrap();
    /// let (mut server, _) = listener.accept().await.unwrap();
    /// client.write_all(b"hi").await.unwrap();
    /// let mut buf = [0; 2];
    /// server.read_exact(&mut buf).await.unwrap();
    /// assert_eq!(&buf, b"hi");
    /// std::fs::remove_file(&path).unwrap();
    /// # });
    /// ```
    pub async fn connect(path: impl AsRef<Path>) -> io::Result<UnixStream> {
        use socket2::{Domain, SockAddr, Socket, Type};
        // Non-blocking *before* connecting: a blocking connect to a full
        // backlog sleeps until the listener accepts, stalling this worker
        // (and deadlocking a current-thread runtime, whose accepting task
        // runs on this very thread). `SOCK_NONBLOCK` at birth does it with
        // no `fcntl` calls, and `from_nonblocking` registers without an
        // `ioctl`.
        let socket = Socket::new(Domain::UNIX, Type::STREAM.nonblocking(), None)?;
        let in_progress = match socket.connect(&SockAddr::unix(path)?) {
            Ok(()) => false,
            Err(e) if e.raw_os_error() == Some(rustix::io::Errno::INPROGRESS.raw_os_error()) => {
                true
            }
            Err(e) => return Err(e),
        };
        let stream = UnixStream::from_nonblocking(socket.into())?;
        if in_progress {
            // Not on Linux (Unix-domain connects complete or fail at once),
            // but allowed by POSIX: connected once writable without error.
            stream
                .inner
                .write_with(|s| match s.take_error()? {
                    Some(e) => Err(e),
                    None => Ok(()),
                })
                .await?;
        }
        Ok(stream)
    }

    /// A connected pair, with no file involved: for talking between tasks,
    /// or to a child process. Must be called inside a runtime.
    ///
    /// ```
    /// use futures_lite::{AsyncReadExt, AsyncWriteExt};
    ///
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let (mut a, mut b) = windlass::net::UnixStream::pair().unwrap();
    /// a.write_all(b"ping").await.unwrap();
    /// let mut buf = [0; 4];
    /// b.read_exact(&mut buf).await.unwrap();
    /// assert_eq!(&buf, b"ping");
    /// # });
    /// ```
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = std_unix::UnixStream::pair()?;
        Ok((UnixStream::from_std(a)?, UnixStream::from_std(b)?))
    }

    /// Wraps a std stream (made non-blocking here). Must be called inside a
    /// runtime.
    ///
    /// ```
    /// use futures_lite::AsyncReadExt;
    /// use std::io::Write;
    ///
    /// let (mut std_a, std_b) = std::os::unix::net::UnixStream::pair().unwrap();
    /// std_a.write_all(b"from std").unwrap();
    /// windlass::Runtime::new().unwrap().block_on(async {
    ///     let mut b = windlass::net::UnixStream::from_std(std_b).unwrap();
    ///     let mut buf = [0; 8];
    ///     b.read_exact(&mut buf).await.unwrap();
    ///     assert_eq!(&buf, b"from std");
    /// });
    /// ```
    pub fn from_std(stream: std_unix::UnixStream) -> io::Result<UnixStream> {
        Ok(UnixStream {
            inner: Async::new(stream)?,
        })
    }

    /// [`from_std`](Self::from_std) for a stream the crate created
    /// non-blocking: one `ioctl` fewer.
    fn from_nonblocking(stream: std_unix::UnixStream) -> io::Result<UnixStream> {
        Ok(UnixStream {
            inner: Async::new_nonblocking(stream)?,
        })
    }

    /// Shuts down one or both halves (`Write` is a half-close: the peer
    /// reads end-of-file, and can still answer).
    ///
    /// ```
    /// use std::net::Shutdown;
    /// use futures_lite::AsyncReadExt;
    ///
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let (a, mut b) = windlass::net::UnixStream::pair().unwrap();
    /// a.shutdown(Shutdown::Write).unwrap();
    /// let mut rest = Vec::new();
    /// assert_eq!(b.read_to_end(&mut rest).await.unwrap(), 0); // end-of-file at once
    /// # });
    /// ```
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.inner.get_ref().shutdown(how)
    }

    /// The peer's address: the listener's path, for a connected client.
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let path = std::env::temp_dir().join(format!("windlass-doc-{}-{}.sock", "peer-addr", std::process::id()));
    /// let _ = std::fs::remove_file(&path);
    /// let _listener = windlass::net::UnixListener::bind(&path).unwrap();
    /// let client = windlass::net::UnixStream::connect(&path).await.unwrap();
    /// assert_eq!(client.peer_addr().unwrap().as_pathname(), Some(path.as_path()));
    /// std::fs::remove_file(&path).unwrap();
    /// # });
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().peer_addr()
    }

    /// This end's address: unnamed for a client (`as_pathname()` is
    /// `None`), the listener's path for a connection it accepted.
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let path = std::env::temp_dir().join(format!("windlass-doc-{}-{}.sock", "stream-local", std::process::id()));
    /// let _ = std::fs::remove_file(&path);
    /// let listener = windlass::net::UnixListener::bind(&path).unwrap();
    /// let client = windlass::net::UnixStream::connect(&path).await.unwrap();
    /// let (server, _) = listener.accept().await.unwrap();
    /// assert!(client.local_addr().unwrap().is_unnamed());
    /// assert_eq!(server.local_addr().unwrap().as_pathname(), Some(path.as_path()));
    /// std::fs::remove_file(&path).unwrap();
    /// # });
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().local_addr()
    }
}

impl AsyncRead for UnixStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        stream::poll_read(&self.inner, cx, buf)
    }
}

impl AsyncWrite for UnixStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        stream::poll_write(&self.inner, cx, buf)
    }
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        stream::poll_write_vectored(&self.inner, cx, bufs)
    }
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.inner.get_ref().shutdown(Shutdown::Write))
    }
}

super::stream::stream_read_methods!(
    /// ```
    /// use std::io::ErrorKind;
    /// use windlass::net::UnixStream;
    ///
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let (a, b) = UnixStream::pair().unwrap();
    /// let mut buf = [0; 8];
    /// assert_eq!(b.try_read(&mut buf).unwrap_err().kind(), ErrorKind::WouldBlock);
    /// a.writable().await.unwrap();
    /// assert_eq!(a.try_write(b"hi").unwrap(), 2);
    /// b.readable().await.unwrap();
    /// assert_eq!(b.try_read(&mut buf).unwrap(), 2);
    /// # });
    /// ```
    UnixStream
);
super::stream::stream_write_methods!(UnixStream);

/// A Unix-domain datagram socket: message boundaries are kept, and
/// delivery is reliable and in order (unlike UDP).
///
/// ```
/// # windlass::Runtime::new().unwrap().block_on(async {
/// let (a, b) = windlass::net::UnixDatagram::pair().unwrap();
/// a.send(b"one").await.unwrap();
/// a.send(b"two").await.unwrap();
/// let mut buf = [0; 16];
/// let first = b.recv(&mut buf).await.unwrap();
/// assert_eq!(&buf[..first], b"one"); // one message per receive
/// let second = b.recv(&mut buf).await.unwrap();
/// assert_eq!(&buf[..second], b"two");
/// # });
/// ```
pub struct UnixDatagram {
    inner: Async<std_unix::UnixDatagram>,
}

impl UnixDatagram {
    /// Binds to `path`, creating the socket file there (remove it when
    /// done). Must be called inside a runtime.
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let path = std::env::temp_dir().join(format!("windlass-doc-{}-{}.sock", "dgram-bind", std::process::id()));
    /// let _ = std::fs::remove_file(&path);
    /// let server = windlass::net::UnixDatagram::bind(&path).unwrap();
    /// let client = windlass::net::UnixDatagram::unbound().unwrap();
    /// client.send_to(b"log line", &path).await.unwrap();
    /// let mut buf = [0; 8];
    /// assert_eq!(server.recv(&mut buf).await.unwrap(), 8);
    /// std::fs::remove_file(&path).unwrap();
    /// # });
    /// ```
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixDatagram> {
        UnixDatagram::from_std(std_unix::UnixDatagram::bind(path)?)
    }

    /// An unbound socket, for sending: receivers see an unnamed sender,
    /// and cannot answer. Must be called inside a runtime.
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let path = std::env::temp_dir().join(format!("windlass-doc-unbound-{}.sock", std::process::id()));
    /// let _ = std::fs::remove_file(&path);
    /// let server = windlass::net::UnixDatagram::bind(&path).unwrap();
    /// let client = windlass::net::UnixDatagram::unbound().unwrap();
    /// client.send_to(b"anonymous", &path).await.unwrap();
    /// let mut buf = [0; 9];
    /// let (_, from) = server.recv_from(&mut buf).await.unwrap();
    /// assert!(from.is_unnamed()); // no address to answer to
    /// std::fs::remove_file(&path).unwrap();
    /// # });
    /// ```
    pub fn unbound() -> io::Result<UnixDatagram> {
        UnixDatagram::from_std(std_unix::UnixDatagram::unbound()?)
    }

    /// A connected pair, with no file involved: each end sends to the
    /// other. Must be called inside a runtime.
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let (a, b) = windlass::net::UnixDatagram::pair().unwrap();
    /// b.send(b"from b").await.unwrap();
    /// let mut buf = [0; 6];
    /// assert_eq!(a.recv(&mut buf).await.unwrap(), 6);
    /// assert_eq!(&buf, b"from b");
    /// # });
    /// ```
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        let (a, b) = std_unix::UnixDatagram::pair()?;
        Ok((UnixDatagram::from_std(a)?, UnixDatagram::from_std(b)?))
    }

    /// Wraps a std socket (made non-blocking here). Must be called inside a
    /// runtime.
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let (std_a, std_b) = std::os::unix::net::UnixDatagram::pair().unwrap();
    /// let b = windlass::net::UnixDatagram::from_std(std_b).unwrap();
    /// std_a.send(b"hi").unwrap();
    /// assert_eq!(b.recv(&mut [0; 2]).await.unwrap(), 2);
    /// # });
    /// ```
    pub fn from_std(socket: std_unix::UnixDatagram) -> io::Result<UnixDatagram> {
        Ok(UnixDatagram {
            inner: Async::new(socket)?,
        })
    }

    /// Sets the default destination, for [`send`](Self::send); only
    /// datagrams from that socket are received afterwards.
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let path = std::env::temp_dir().join(format!("windlass-doc-{}-{}.sock", "dgram-connect", std::process::id()));
    /// let _ = std::fs::remove_file(&path);
    /// let server = windlass::net::UnixDatagram::bind(&path).unwrap();
    /// let client = windlass::net::UnixDatagram::unbound().unwrap();
    /// client.connect(&path).unwrap();
    /// client.send(b"via connect").await.unwrap();
    /// let mut buf = [0; 11];
    /// assert_eq!(server.recv(&mut buf).await.unwrap(), 11);
    /// std::fs::remove_file(&path).unwrap();
    /// # });
    /// ```
    pub fn connect(&self, path: impl AsRef<Path>) -> io::Result<()> {
        self.inner.get_ref().connect(path)
    }

    /// Sends a datagram to the socket bound at `path`; fails if nothing is
    /// bound there.
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let path = std::env::temp_dir().join(format!("windlass-doc-send-to-{}.sock", std::process::id()));
    /// let _ = std::fs::remove_file(&path);
    /// let client = windlass::net::UnixDatagram::unbound().unwrap();
    /// assert!(client.send_to(b"anyone?", &path).await.is_err());
    /// let server = windlass::net::UnixDatagram::bind(&path).unwrap();
    /// assert_eq!(client.send_to(b"anyone?", &path).await.unwrap(), 7);
    /// assert_eq!(server.recv(&mut [0; 7]).await.unwrap(), 7);
    /// std::fs::remove_file(&path).unwrap();
    /// # });
    /// ```
    pub async fn send_to(&self, buf: &[u8], path: impl AsRef<Path>) -> io::Result<usize> {
        let path = path.as_ref();
        self.inner.write_with(|s| s.send_to(buf, path)).await
    }

    /// Receives a datagram and its sender's address (a path, if the
    /// sender is bound: then it can be answered).
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let dir = std::env::temp_dir();
    /// let (server_path, client_path) = (
    ///     dir.join(format!("windlass-doc-dgram-srv-{}.sock", std::process::id())),
    ///     dir.join(format!("windlass-doc-dgram-cli-{}.sock", std::process::id())),
    /// );
    /// let _ = (std::fs::remove_file(&server_path), std::fs::remove_file(&client_path));
    /// let server = windlass::net::UnixDatagram::bind(&server_path).unwrap();
    /// let client = windlass::net::UnixDatagram::bind(&client_path).unwrap();
    /// client.send_to(b"ping", &server_path).await.unwrap();
    /// let mut buf = [0; 4];
    /// let (_, from) = server.recv_from(&mut buf).await.unwrap();
    /// server.send_to(b"pong", from.as_pathname().unwrap()).await.unwrap();
    /// assert_eq!(client.recv(&mut buf).await.unwrap(), 4);
    /// assert_eq!(&buf, b"pong");
    /// std::fs::remove_file(&server_path).unwrap();
    /// std::fs::remove_file(&client_path).unwrap();
    /// # });
    /// ```
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.inner.read_with(|s| s.recv_from(buf)).await
    }

    /// Sends to the connected peer (see [`connect`](Self::connect)); fails
    /// on a socket that is not connected.
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let lonely = windlass::net::UnixDatagram::unbound().unwrap();
    /// assert!(lonely.send(b"hello?").await.is_err());
    /// let (a, b) = windlass::net::UnixDatagram::pair().unwrap();
    /// assert_eq!(a.send(b"hello").await.unwrap(), 5);
    /// assert_eq!(b.recv(&mut [0; 5]).await.unwrap(), 5);
    /// # });
    /// ```
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write_with(|s| s.send(buf)).await
    }

    /// Receives one datagram, waiting for it; returns its length. Bytes
    /// beyond `buf`'s length are discarded.
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let (a, b) = windlass::net::UnixDatagram::pair().unwrap();
    /// let reader = windlass::spawn(async move {
    ///     let mut buf = [0; 4];
    ///     let n = b.recv(&mut buf).await.unwrap(); // waits for the send below
    ///     buf[..n].to_vec()
    /// });
    /// a.send(b"truncated").await.unwrap();
    /// assert_eq!(reader.await.unwrap(), b"trun");
    /// # });
    /// ```
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read_with(|s| s.recv(buf)).await
    }

    /// This socket's address: its path if bound, unnamed otherwise.
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let path = std::env::temp_dir().join(format!("windlass-doc-{}-{}.sock", "dgram-local", std::process::id()));
    /// let _ = std::fs::remove_file(&path);
    /// let bound = windlass::net::UnixDatagram::bind(&path).unwrap();
    /// assert_eq!(bound.local_addr().unwrap().as_pathname(), Some(path.as_path()));
    /// assert!(windlass::net::UnixDatagram::unbound().unwrap().local_addr().unwrap().is_unnamed());
    /// std::fs::remove_file(&path).unwrap();
    /// # });
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().local_addr()
    }

    /// The address of the peer set by [`connect`](Self::connect); an error
    /// of kind `NotConnected` if there is none.
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let path = std::env::temp_dir().join(format!("windlass-doc-{}-{}.sock", "dgram-peer", std::process::id()));
    /// let _ = std::fs::remove_file(&path);
    /// let _server = windlass::net::UnixDatagram::bind(&path).unwrap();
    /// let client = windlass::net::UnixDatagram::unbound().unwrap();
    /// assert_eq!(client.peer_addr().unwrap_err().kind(), std::io::ErrorKind::NotConnected);
    /// client.connect(&path).unwrap();
    /// assert_eq!(client.peer_addr().unwrap().as_pathname(), Some(path.as_path()));
    /// std::fs::remove_file(&path).unwrap();
    /// # });
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().peer_addr()
    }
}

macro_rules! as_fd {
    ($($ty:ty),*) => {$(
        impl AsFd for $ty {
            fn as_fd(&self) -> BorrowedFd<'_> {
                self.inner.get_ref().as_fd()
            }
        }
        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.inner.get_ref().fmt(f)
            }
        }
    )*};
}

as_fd!(UnixListener, UnixStream, UnixDatagram);

impl fmt::Debug for UnixIncoming<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("UnixIncoming")
    }
}
