//! TCP: `TcpListener`, `TcpStream` and its split halves.

use crate::loom::std::sync::Arc;
use std::fmt;
use std::io::{self, IoSlice, IoSliceMut};
use std::net::{Shutdown, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

use super::addr::{ToSocketAddrs, resolve};
use super::stream::{self, stream_read_methods, stream_write_methods};
use crate::io::Async;

/// The listen backlog of [`TcpListener::bind`]: how many connections the
/// kernel completes and queues before the server accepts them (the kernel
/// caps it at `net.core.somaxconn`, 4,096 on current Linux).
///
/// The standard library's `bind` asks for 128, which a burst of connects
/// overflows. Linux then drops the client's final handshake `ACK` (counted
/// in `TcpExtListenOverflows`) while the client already counts itself
/// connected: the server side waits in `SYN_RECV` for its `SYN-ACK`
/// retransmits (1, 2, 4, 8, 16 s apart) or the client's next segment, so the
/// connection reaches `accept` seconds late, and one whose client closed in
/// between can come up established on the server with the client's `FIN`
/// lost and no peer left: a descriptor held until the server's own timeout
/// (seen with 1,000 connects at once, `tests/http/bad_input.rs`). The
/// backlog is only a cap (no memory is set aside for it); 1,024 takes such
/// a burst and stays well under the default `somaxconn`. (tokio 1.54 binds
/// through mio 1.2, which copies std's 128.)
///
/// ```
/// assert_eq!(windlass::net::LISTEN_BACKLOG, 1024);
/// ```
pub const LISTEN_BACKLOG: i32 = 1024;

/// A listening TCP socket bound to `addr`, as the standard library makes
/// one (close-on-exec, `SO_REUSEADDR` on Unix so a restarted server can
/// bind while old connections sit in `TIME_WAIT`), with `backlog`.
fn listen(addr: SocketAddr, backlog: i32) -> io::Result<std::net::TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    // socket2 sets close-on-exec atomically (SOCK_CLOEXEC) on Linux.
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(backlog)?;
    Ok(socket.into())
}

/// A TCP server socket: asyncio's `start_server`.
///
/// ```
/// use futures_lite::{AsyncReadExt, AsyncWriteExt};
/// use windlass::net::{TcpListener, TcpStream};
///
/// windlass::Runtime::new().unwrap().block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let addr = listener.local_addr().unwrap();
///     let server = windlass::spawn(async move {
///         let (mut conn, _) = listener.accept().await.unwrap();
///         let mut buf = [0; 5];
///         conn.read_exact(&mut buf).await.unwrap();
///         conn.write_all(&buf).await.unwrap();
///     });
///     let mut client = TcpStream::connect(addr).await.unwrap();
///     client.write_all(b"hello").await.unwrap();
///     let mut echo = [0; 5];
///     client.read_exact(&mut echo).await.unwrap();
///     assert_eq!(&echo, b"hello");
///     server.await.unwrap();
/// });
/// ```
pub struct TcpListener {
    inner: Async<std::net::TcpListener>,
}

impl TcpListener {
    /// Binds to `addr` (tries each resolved address in turn). Port 0 asks
    /// the system for a free port; [`local_addr`](Self::local_addr) tells
    /// which.
    ///
    /// The socket listens with a backlog of [`LISTEN_BACKLOG`] (1,024; the
    /// kernel caps it at `net.core.somaxconn`), not the standard library's
    /// 128: see there for why. For another backlog, set the socket up with
    /// `socket2` and hand it to [`from_std`](Self::from_std).
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let listener = windlass::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    /// let addr = listener.local_addr().unwrap();
    /// assert!(addr.ip().is_loopback() && addr.port() != 0);
    /// // The port is taken now.
    /// assert!(windlass::net::TcpListener::bind(addr).await.is_err());
    /// # });
    /// ```
    pub async fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<TcpListener> {
        let mut last = None;
        for addr in resolve(addr).await? {
            match listen(addr, LISTEN_BACKLOG) {
                Ok(l) => return TcpListener::from_std(l),
                Err(e) => last = Some(e),
            }
        }
        Err(last
            .unwrap_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no address to bind")))
    }

    /// Wraps a std listener (made non-blocking here), for sockets set up
    /// elsewhere (with `socket2`, or inherited). Must be called inside a
    /// runtime.
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// let addr = std_listener.local_addr().unwrap();
    /// let listener = windlass::net::TcpListener::from_std(std_listener).unwrap();
    /// let _client = windlass::net::TcpStream::connect(addr).await.unwrap();
    /// let (_conn, _) = listener.accept().await.unwrap();
    /// # });
    /// ```
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        Ok(TcpListener {
            inner: Async::new(listener)?,
        })
    }

    /// Accepts a connection, returning it and the client's address. Errors
    /// such as `EMFILE` (too many open files) are returned, not retried.
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let listener = windlass::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    /// let client = windlass::net::TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    /// let (conn, from) = listener.accept().await.unwrap();
    /// assert_eq!(from, client.local_addr().unwrap());
    /// assert_eq!(conn.peer_addr().unwrap(), from);
    /// # });
    /// ```
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (stream, addr) = self.inner.read_with(accept_nonblocking).await?;
        Ok((TcpStream::from_nonblocking(stream)?, addr))
    }

    /// Polls for a connection: [`accept`](Self::accept) for hand-written
    /// futures. Keeps the last caller's waker only.
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let listener = windlass::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    /// let client = windlass::net::TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    /// let (_conn, from) = std::future::poll_fn(|cx| listener.poll_accept(cx)).await.unwrap();
    /// assert_eq!(from, client.local_addr().unwrap());
    /// # });
    /// ```
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        self.inner
            .poll_read_with(cx, accept_nonblocking)
            .map(|r| r.and_then(|(s, a)| Ok((TcpStream::from_nonblocking(s)?, a))))
    }

    /// The connections, as a `Stream` (never ends; errors are items).
    ///
    /// ```
    /// use futures_lite::StreamExt;
    /// use windlass::net::{TcpListener, TcpStream};
    ///
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    /// let addr = listener.local_addr().unwrap();
    /// let _clients = (TcpStream::connect(addr).await.unwrap(), TcpStream::connect(addr).await.unwrap());
    /// let conns: Vec<_> = listener.incoming().take(2).try_collect().await.unwrap();
    /// assert_eq!(conns.len(), 2);
    /// # });
    /// ```
    pub fn incoming(&self) -> Incoming<'_> {
        Incoming { listener: self }
    }

    /// The bound address. See the example on [`bind`](Self::bind).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().local_addr()
    }
}

/// Stream of [`TcpListener::incoming`]; see the example there.
#[must_use = "streams do nothing unless polled"]
pub struct Incoming<'a> {
    listener: &'a TcpListener,
}

impl futures_core::Stream for Incoming<'_> {
    type Item = io::Result<TcpStream>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.listener
            .poll_accept(cx)
            .map(|r| Some(r.map(|(s, _)| s)))
    }
}

/// A TCP connection: asyncio's `open_connection` reader and writer in one.
///
/// Implements `AsyncRead` and `AsyncWrite` (also on `&TcpStream`, so one
/// task can read while another writes through a shared reference), and
/// splits into owned halves with [`into_split`](Self::into_split).
///
/// ```
/// use futures_lite::{AsyncReadExt, AsyncWriteExt};
/// use windlass::net::{TcpListener, TcpStream};
///
/// # windlass::Runtime::new().unwrap().block_on(async {
/// let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
/// let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
/// let (mut server, _) = listener.accept().await.unwrap();
/// // Reading and writing the same stream at once, through `&TcpStream`.
/// let (mut reader, mut writer) = (&client, &client);
/// let mut reply = [0; 4];
/// let (sent, got) = futures_lite::future::zip(
///     async { writer.write_all(b"ping").await },
///     async {
///         let mut buf = [0; 4];
///         server.read_exact(&mut buf).await.unwrap();
///         server.write_all(b"pong").await.unwrap();
///         reader.read_exact(&mut reply).await
///     },
/// )
/// .await;
/// sent.unwrap();
/// got.unwrap();
/// assert_eq!(&reply, b"pong");
/// # });
/// ```
pub struct TcpStream {
    inner: Arc<Async<std::net::TcpStream>>,
}

impl TcpStream {
    /// Connects to `addr`, trying each resolved address in turn:
    /// asyncio's `open_connection`. A refused connection is an error of
    /// kind `ConnectionRefused`.
    ///
    /// ```
    /// use std::io::ErrorKind;
    /// use windlass::net::{TcpListener, TcpStream};
    ///
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    /// let addr = listener.local_addr().unwrap();
    /// let conn = TcpStream::connect(addr).await.unwrap();
    /// assert_eq!(conn.peer_addr().unwrap(), addr);
    ///
    /// drop(listener); // nobody listens on the port any more
    /// let err = TcpStream::connect(addr).await.unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
    /// # });
    /// ```
    pub async fn connect<A: ToSocketAddrs>(addr: A) -> io::Result<TcpStream> {
        let mut last = None;
        for addr in resolve(addr).await? {
            match connect_one(addr).await {
                Ok(s) => return Ok(s),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "no address to connect to")
        }))
    }

    /// Wraps a connected std stream (made non-blocking here). Must be
    /// called inside a runtime.
    ///
    /// ```
    /// use futures_lite::AsyncWriteExt;
    /// use std::io::Read;
    ///
    /// // Connected with blocking std calls, before any runtime exists.
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    /// let (mut server, _) = listener.accept().unwrap();
    ///
    /// let rt = windlass::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let mut client = windlass::net::TcpStream::from_std(client).unwrap();
    ///     client.write_all(b"hi").await.unwrap();
    /// });
    /// let mut buf = [0; 2];
    /// server.read_exact(&mut buf).unwrap();
    /// assert_eq!(&buf, b"hi");
    /// ```
    pub fn from_std(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        Ok(TcpStream {
            inner: Arc::new(Async::new(stream)?),
        })
    }

    /// [`from_std`](Self::from_std) for a stream the crate created
    /// non-blocking: one `ioctl` fewer per connection.
    fn from_nonblocking(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        Ok(TcpStream {
            inner: Arc::new(Async::new_nonblocking(stream)?),
        })
    }

    fn std(&self) -> &std::net::TcpStream {
        self.inner.get_ref()
    }

    /// The remote address.
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let listener = windlass::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    /// let client = windlass::net::TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    /// let (server, _) = listener.accept().await.unwrap();
    /// assert_eq!(client.peer_addr().unwrap(), server.local_addr().unwrap());
    /// assert_eq!(server.peer_addr().unwrap(), client.local_addr().unwrap());
    /// # });
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.std().peer_addr()
    }

    /// The local address. See the example on [`peer_addr`](Self::peer_addr).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.std().local_addr()
    }

    /// Sets `TCP_NODELAY` (disables Nagle's algorithm): small writes go out
    /// at once instead of waiting to be batched, for request/response
    /// protocols.
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let listener = windlass::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    /// let conn = windlass::net::TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    /// conn.set_nodelay(true).unwrap();
    /// assert!(conn.nodelay().unwrap());
    /// # });
    /// ```
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.std().set_nodelay(nodelay)
    }

    /// Reads `TCP_NODELAY`. See the example on
    /// [`set_nodelay`](Self::set_nodelay).
    pub fn nodelay(&self) -> io::Result<bool> {
        self.std().nodelay()
    }

    /// Shuts down the read, write or both halves (`Write` is a half-close:
    /// the peer reads end-of-file, and can still answer).
    ///
    /// ```
    /// use std::net::Shutdown;
    /// use futures_lite::{AsyncReadExt, AsyncWriteExt};
    ///
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let listener = windlass::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    /// let mut client = windlass::net::TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    /// let (mut server, _) = listener.accept().await.unwrap();
    /// client.write_all(b"whole request").await.unwrap();
    /// client.shutdown(Shutdown::Write).unwrap(); // "that is all"
    /// let mut request = String::new();
    /// server.read_to_string(&mut request).await.unwrap(); // ends at the half-close
    /// server.write_all(b"ok").await.unwrap();
    /// drop(server); // closes the other direction too
    /// let mut reply = String::new();
    /// client.read_to_string(&mut reply).await.unwrap(); // reading still works
    /// assert_eq!((request.as_str(), reply.as_str()), ("whole request", "ok"));
    /// # });
    /// ```
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.std().shutdown(how)
    }

    /// Reads without removing the data from the socket's queue: waits for
    /// data like a read, and the next read returns the same bytes.
    ///
    /// ```
    /// use futures_lite::{AsyncReadExt, AsyncWriteExt};
    ///
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let listener = windlass::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    /// let mut client = windlass::net::TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    /// let (mut server, _) = listener.accept().await.unwrap();
    /// client.write_all(b"GET /").await.unwrap();
    /// let mut first = [0; 3];
    /// let n = server.peek(&mut first).await.unwrap();
    /// assert_eq!(&first[..n], &b"GET"[..n]); // sniff the protocol...
    /// let mut all = [0; 5];
    /// server.read_exact(&mut all).await.unwrap(); // ...then read it all
    /// assert_eq!(&all, b"GET /");
    /// # });
    /// ```
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read_with(|s| s.peek(buf)).await
    }

    /// Splits into halves that can move to different tasks. Dropping the
    /// write half does not shut the socket down; call
    /// [`OwnedWriteHalf::shutdown`] (or `close().await`) for a half-close.
    ///
    /// ```
    /// use futures_lite::{AsyncReadExt, AsyncWriteExt};
    ///
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let listener = windlass::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    /// let client = windlass::net::TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    /// let (mut server, _) = listener.accept().await.unwrap();
    /// let (mut read, mut write) = client.into_split();
    /// let writer = windlass::spawn(async move {
    ///     write.write_all(b"from one task").await.unwrap();
    ///     write // keep the half: dropping it would not close the socket anyway
    /// });
    /// let mut heard = [0; 13];
    /// server.read_exact(&mut heard).await.unwrap();
    /// server.write_all(b"to another").await.unwrap();
    /// let mut reply = [0; 10];
    /// read.read_exact(&mut reply).await.unwrap();
    /// assert_eq!((&heard[..], &reply[..]), (&b"from one task"[..], &b"to another"[..]));
    /// assert!(read.reunite(writer.await.unwrap()).is_ok());
    /// # });
    /// ```
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        (
            OwnedReadHalf {
                inner: self.inner.clone(),
            },
            OwnedWriteHalf { inner: self.inner },
        )
    }
}

stream_read_methods!(
    /// ```
    /// use std::future::poll_fn;
    /// use std::io::ErrorKind;
    /// use std::mem::MaybeUninit;
    /// use windlass::net::{TcpListener, TcpStream};
    ///
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    /// let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    /// let (server, _) = listener.accept().await.unwrap();
    ///
    /// // Nothing sent yet: a try_read fails at once, and readable() waits.
    /// let mut buf = [0; 8];
    /// assert_eq!(server.try_read(&mut buf).unwrap_err().kind(), ErrorKind::WouldBlock);
    /// client.writable().await.unwrap();
    /// assert_eq!(client.try_write(b"hello").unwrap(), 5);
    /// server.readable().await.unwrap();
    /// assert_eq!(server.try_read(&mut buf).unwrap(), 5);
    ///
    /// // Into uninitialised memory, as hyper's buffers are.
    /// client.try_write(b"again").unwrap();
    /// let mut raw = [MaybeUninit::<u8>::uninit(); 8];
    /// let n = poll_fn(|cx| server.poll_read_uninit(cx, &mut raw)).await.unwrap();
    /// assert_eq!(n, 5);
    /// # });
    /// ```
    TcpStream
);
stream_write_methods!(TcpStream);
stream_read_methods!(OwnedReadHalf);
stream_write_methods!(OwnedWriteHalf);

/// `accept4(2)` with `SOCK_NONBLOCK | SOCK_CLOEXEC`: the new socket is
/// non-blocking from birth, where std's `accept` returns a blocking one that
/// [`Async::new`] would then switch with an `ioctl`.
fn accept_nonblocking(
    listener: &std::net::TcpListener,
) -> io::Result<(std::net::TcpStream, SocketAddr)> {
    let (socket, addr) =
        socket2::SockRef::from(listener).accept4(libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC)?;
    let addr = addr
        .as_socket()
        .ok_or_else(|| io::Error::other("accept: the peer's address is not an IP address"))?;
    Ok((socket.into(), addr))
}

/// Connects without blocking the worker, in three syscalls besides the
/// registration: `socket(2)` already non-blocking (`SOCK_NONBLOCK`, and
/// socket2 adds `SOCK_CLOEXEC`), `connect(2)`, and once writable a second
/// `connect(2)` that says how the first ended.
///
/// The second `connect` on a socket whose connect was started reports, in
/// one call, what `SO_ERROR` and `getpeername` would say in two: `0` or
/// `EISCONN` once connected, `EALREADY` (or `EINPROGRESS`) while the
/// handshake is still under way, and the failure itself (`ECONNREFUSED`,
/// `ETIMEDOUT`, ...) if it failed, which it also clears from the socket.
async fn connect_one(addr: SocketAddr) -> io::Result<TcpStream> {
    use rustix::io::Errno;
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(
        Domain::for_address(addr),
        Type::STREAM.nonblocking(),
        Some(Protocol::TCP),
    )?;
    let is = |e: &io::Error, errno: Errno| e.raw_os_error() == Some(errno.raw_os_error());
    let target = socket2::SockAddr::from(addr);
    match socket.connect(&target) {
        Ok(()) => {}
        Err(e) if is(&e, Errno::INPROGRESS) => {}
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
        Err(e) => return Err(e),
    }
    let stream = TcpStream::from_nonblocking(socket.into())?;
    stream
        .inner
        .write_with(|s| {
            loop {
                return match socket2::SockRef::from(s).connect(&target) {
                    Ok(()) => Ok(()),
                    Err(e) if is(&e, Errno::ISCONN) => Ok(()),
                    Err(e) if is(&e, Errno::ALREADY) || is(&e, Errno::INPROGRESS) => {
                        Err(io::ErrorKind::WouldBlock.into())
                    }
                    // A signal during a non-blocking call: ask again now
                    // (waiting could miss an event that already came).
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => Err(e),
                };
            }
        })
        .await?;
    Ok(stream)
}

/// The read half of a [`TcpStream`], from
/// [`into_split`](TcpStream::into_split): implements `AsyncRead`, and can
/// move to its own task.
///
/// ```
/// use futures_lite::{AsyncBufReadExt, AsyncWriteExt, StreamExt};
///
/// # windlass::Runtime::new().unwrap().block_on(async {
/// let listener = windlass::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
/// let client = windlass::net::TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
/// let (mut server, _) = listener.accept().await.unwrap();
/// let (read, _write) = client.into_split();
/// // A task that reads lines until the server closes the connection.
/// let lines = windlass::spawn(async move {
///     futures_lite::io::BufReader::new(read).lines().try_collect::<_, _, Vec<_>>().await
/// });
/// server.write_all(b"one\ntwo\n").await.unwrap();
/// drop(server);
/// assert_eq!(lines.await.unwrap().unwrap(), ["one", "two"]);
/// # });
/// ```
pub struct OwnedReadHalf {
    inner: Arc<Async<std::net::TcpStream>>,
}

/// The write half of a [`TcpStream`], from
/// [`into_split`](TcpStream::into_split): implements `AsyncWrite`, and can
/// move to its own task. `close().await` (or
/// [`shutdown`](Self::shutdown)) half-closes the connection; dropping it
/// does not.
///
/// ```
/// use futures_lite::{AsyncReadExt, AsyncWriteExt};
///
/// # windlass::Runtime::new().unwrap().block_on(async {
/// let listener = windlass::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
/// let client = windlass::net::TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
/// let (mut server, _) = listener.accept().await.unwrap();
/// let (_read, mut write) = client.into_split();
/// windlass::spawn(async move {
///     write.write_all(b"last words").await.unwrap();
///     write.close().await.unwrap(); // the server's read_to_end can finish
/// });
/// let mut all = Vec::new();
/// server.read_to_end(&mut all).await.unwrap();
/// assert_eq!(all, b"last words");
/// # });
/// ```
pub struct OwnedWriteHalf {
    inner: Arc<Async<std::net::TcpStream>>,
}

impl OwnedReadHalf {
    /// Joins the halves back into a stream. Fails (returning them) if they
    /// come from different streams.
    ///
    /// ```
    /// use windlass::net::{TcpListener, TcpStream};
    ///
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    /// let addr = listener.local_addr().unwrap();
    /// let (a_read, a_write) = TcpStream::connect(addr).await.unwrap().into_split();
    /// let (b_read, b_write) = TcpStream::connect(addr).await.unwrap().into_split();
    /// // Mixed halves are handed back...
    /// let (a_read, b_write) = a_read.reunite(b_write).unwrap_err();
    /// // ...matching ones make a stream again.
    /// let a = a_read.reunite(a_write).unwrap();
    /// let b = b_read.reunite(b_write).unwrap();
    /// assert_ne!(a.local_addr().unwrap(), b.local_addr().unwrap());
    /// # });
    /// ```
    pub fn reunite(
        self,
        write: OwnedWriteHalf,
    ) -> Result<TcpStream, (OwnedReadHalf, OwnedWriteHalf)> {
        if Arc::ptr_eq(&self.inner, &write.inner) {
            drop(write);
            Ok(TcpStream { inner: self.inner })
        } else {
            Err((self, write))
        }
    }

    /// The remote address, as [`TcpStream::peer_addr`].
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().peer_addr()
    }
}

impl OwnedWriteHalf {
    /// Half-closes the connection: the peer reads end-of-file. The same as
    /// `close().await`, without the `.await`.
    ///
    /// ```
    /// use futures_lite::{AsyncReadExt, AsyncWriteExt};
    ///
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let listener = windlass::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    /// let client = windlass::net::TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    /// let (mut server, _) = listener.accept().await.unwrap();
    /// let (mut read, mut write) = client.into_split();
    /// write.write_all(b"done").await.unwrap();
    /// write.shutdown().unwrap();
    /// let mut request = Vec::new();
    /// server.read_to_end(&mut request).await.unwrap();
    /// server.write_all(b"bye").await.unwrap(); // the other direction stays open
    /// let mut reply = [0; 3];
    /// read.read_exact(&mut reply).await.unwrap();
    /// assert_eq!((&request[..], &reply), (&b"done"[..], b"bye"));
    /// # });
    /// ```
    pub fn shutdown(&self) -> io::Result<()> {
        self.inner.get_ref().shutdown(Shutdown::Write)
    }

    /// The remote address, as [`TcpStream::peer_addr`].
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().peer_addr()
    }
}

fn poll_close(io: &Async<std::net::TcpStream>) -> Poll<io::Result<()>> {
    Poll::Ready(match io.get_ref().shutdown(Shutdown::Write) {
        Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(()),
        res => res,
    })
}

macro_rules! impl_stream_io {
    ($ty:ty, read) => {
        impl AsyncRead for $ty {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                stream::poll_read(&self.inner, cx, buf)
            }
            fn poll_read_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &mut [IoSliceMut<'_>],
            ) -> Poll<io::Result<usize>> {
                stream::poll_read_vectored(&self.inner, cx, bufs)
            }
        }
    };
    ($ty:ty, write) => {
        impl AsyncWrite for $ty {
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
                bufs: &[IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                stream::poll_write_vectored(&self.inner, cx, bufs)
            }
            fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(Ok(()))
            }
            fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                poll_close(&self.inner)
            }
        }
    };
}

impl_stream_io!(TcpStream, read);
impl_stream_io!(TcpStream, write);
impl_stream_io!(&TcpStream, read);
impl_stream_io!(&TcpStream, write);
impl_stream_io!(OwnedReadHalf, read);
impl_stream_io!(OwnedWriteHalf, write);

impl AsFd for TcpStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.std().as_fd()
    }
}

impl AsRawFd for TcpStream {
    fn as_raw_fd(&self) -> RawFd {
        self.std().as_raw_fd()
    }
}

impl AsFd for TcpListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.get_ref().as_fd()
    }
}

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.std().fmt(f)
    }
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.get_ref().fmt(f)
    }
}

impl fmt::Debug for OwnedReadHalf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("OwnedReadHalf")
            .field(self.inner.get_ref())
            .finish()
    }
}

impl fmt::Debug for OwnedWriteHalf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("OwnedWriteHalf")
            .field(self.inner.get_ref())
            .finish()
    }
}

impl fmt::Debug for Incoming<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Incoming")
    }
}
