//! `Async<T>`: an I/O object registered with the runtime's reactor.

use crate::loom::std::sync::Arc;
use std::fmt;
use std::future::Future;
use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::reactor::{Direction, Reactor, Source};
use crate::task::coop;

/// Wraps any non-blocking-capable I/O object (anything with a file
/// descriptor) so tasks can wait for it to become readable or writable.
///
/// `Async::new` puts the descriptor in non-blocking mode and registers it
/// with the current runtime's reactor; dropping the `Async` deregisters it
/// before the inner object (and its descriptor) is dropped. Reads and writes
/// are tried first and wait only on `WouldBlock`, so a socket with data
/// ready costs no trip through the reactor.
///
/// ```
/// use std::os::unix::net::UnixStream;
/// use futures_lite::{AsyncReadExt, AsyncWriteExt};
/// use windlass::io::Async;
///
/// windlass::Runtime::new().unwrap().block_on(async {
///     let (a, b) = UnixStream::pair().unwrap();
///     let (mut a, mut b) = (Async::new(a).unwrap(), Async::new(b).unwrap());
///     a.write_all(b"ping").await.unwrap();
///     let mut buf = [0; 4];
///     b.read_exact(&mut buf).await.unwrap();
///     assert_eq!(&buf, b"ping");
/// });
/// ```
pub struct Async<T: AsFd> {
    source: Arc<Source>,
    reactor: Arc<Reactor>,
    /// Always `Some` until `into_inner` or drop.
    io: Option<T>,
}

impl<T: AsFd> Async<T> {
    /// Registers `io` with the current runtime's reactor, after putting it
    /// in non-blocking mode. Fails outside a runtime (with an error saying
    /// so) or if the descriptor cannot be registered.
    ///
    /// ```
    /// use std::net::UdpSocket;
    /// use windlass::io::Async;
    ///
    /// let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    /// let err = Async::new(socket.try_clone().unwrap()).unwrap_err(); // no runtime here
    /// assert!(err.to_string().contains("Runtime::enter"));
    ///
    /// let rt = windlass::Runtime::new().unwrap();
    /// let _guard = rt.enter();
    /// let socket = Async::new(socket).unwrap();
    /// assert_eq!(rt.handle().num_io_sources(), 1);
    /// # drop(socket);
    /// ```
    pub fn new(io: T) -> io::Result<Async<T>> {
        rustix::io::ioctl_fionbio(io.as_fd(), true)?;
        Async::new_nonblocking(io)
    }

    /// [`new`](Self::new) for a descriptor the crate created non-blocking
    /// (`SOCK_NONBLOCK` at `socket(2)` or `accept4(2)`): registers it
    /// without the `ioctl` that `new` spends on a descriptor of unknown
    /// mode. Given a blocking descriptor, an I/O attempt would block the
    /// worker, so only the crate's own constructors call this.
    pub(crate) fn new_nonblocking(io: T) -> io::Result<Async<T>> {
        let handle = crate::runtime::Handle::try_current()
            .map_err(|e| io::Error::other(format!("windlass::io::Async::new: {e}")))?;
        let reactor = handle.driver().get()?;
        let source = reactor.register(io.as_fd()).map_err(not_pollable)?;
        Ok(Async {
            source,
            reactor,
            io: Some(io),
        })
    }

    /// The inner object, for its other methods (addresses, options).
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    /// let addr = socket.local_addr().unwrap();
    /// let socket = windlass::io::Async::new(socket).unwrap();
    /// assert_eq!(socket.get_ref().local_addr().unwrap(), addr);
    /// # });
    /// ```
    pub fn get_ref(&self) -> &T {
        self.io.as_ref().expect("io present")
    }

    /// The inner object, mutably. Do not replace its descriptor (the
    /// reactor keeps watching the old one).
    ///
    /// ```
    /// use std::io::{Read, Write};
    ///
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
    /// let (mut a, b) = (windlass::io::Async::new(a).unwrap(), windlass::io::Async::new(b).unwrap());
    /// // Non-blocking std calls that take `&mut self` go through get_mut.
    /// assert_eq!(a.get_mut().write(b"x").unwrap(), 1);
    /// let mut buf = [0; 1];
    /// assert_eq!(b.read_with(|mut s| s.read(&mut buf)).await.unwrap(), 1);
    /// # });
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.io.as_mut().expect("io present")
    }

    /// Deregisters and returns the inner object (still non-blocking).
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let socket = windlass::io::Async::new(std::net::UdpSocket::bind("127.0.0.1:0").unwrap()).unwrap();
    /// let socket = socket.into_inner().unwrap();
    /// // Still non-blocking: with nothing to read, recv says so at once.
    /// let err = socket.recv(&mut [0; 8]).unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::WouldBlock);
    /// socket.set_nonblocking(false).unwrap(); // back to plain blocking use
    /// # });
    /// ```
    pub fn into_inner(mut self) -> io::Result<T> {
        let io = self.io.take().expect("io present");
        self.reactor.deregister(&self.source, io.as_fd())?;
        Ok(io)
    }

    /// Waits until the object may be readable: an event arrived since the
    /// last read *through this `Async`* ([`read_with`](Self::read_with),
    /// [`read_with_mut`](Self::read_with_mut) or the I/O traits) that would
    /// block, or none was tried yet. Can be spurious.
    ///
    /// Only those attempts clear the readiness: a read made directly on
    /// [`get_ref`](Self::get_ref) that returns `WouldBlock` does not, so a
    /// loop of `readable()` and such reads would spin. Make the attempt
    /// with `read_with` (which waits again by itself) instead.
    ///
    /// Several tasks may wait at once, each with its own future.
    ///
    /// ```
    /// use std::net::UdpSocket;
    /// use windlass::io::Async;
    ///
    /// windlass::Runtime::new().unwrap().block_on(async {
    ///     let rx = Async::new(UdpSocket::bind("127.0.0.1:0").unwrap()).unwrap();
    ///     let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    ///     tx.send_to(b"ping", rx.get_ref().local_addr().unwrap()).unwrap();
    ///     rx.readable().await.unwrap(); // e.g. in a select, before reading
    ///     let mut buf = [0; 4];
    ///     let n = rx.read_with(|s| s.recv(&mut buf)).await.unwrap();
    ///     assert_eq!(&buf[..n], b"ping");
    /// });
    /// ```
    pub fn readable(&self) -> Readable<'_, T> {
        Readable(Ready {
            io: self,
            dir: Direction::Read,
            id: None,
        })
    }

    /// Waits until the object may be writable; see [`readable`](Self::readable).
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
    /// let a = windlass::io::Async::new(a).unwrap();
    /// a.writable().await.unwrap(); // an empty send buffer: ready at once
    /// assert_eq!(std::io::Write::write(&mut a.get_ref(), b"hi").unwrap(), 2);
    /// # });
    /// ```
    pub fn writable(&self) -> Writable<'_, T> {
        Writable(Ready {
            io: self,
            dir: Direction::Write,
            id: None,
        })
    }

    /// Polls for readability; see [`readable`](Self::readable). Keeps the
    /// waker of every task polling it (one entry per task), like the
    /// `poll_*` I/O methods: for use inside a hand-written future.
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use std::io::{Read, Write};
    ///
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
    /// let b = windlass::io::Async::new(b).unwrap();
    /// (&a).write_all(b"x").unwrap();
    /// poll_fn(|cx| b.poll_readable(cx)).await.unwrap();
    /// assert_eq!(b.get_ref().read(&mut [0; 1]).unwrap(), 1);
    /// # });
    /// ```
    pub fn poll_readable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.source.poll_ready_main(cx, Direction::Read)
    }

    /// Polls for writability; see [`writable`](Self::writable) and
    /// [`poll_readable`](Self::poll_readable).
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    /// let socket = windlass::io::Async::new(socket).unwrap();
    /// std::future::poll_fn(|cx| socket.poll_writable(cx)).await.unwrap();
    /// # });
    /// ```
    pub fn poll_writable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.source.poll_ready_main(cx, Direction::Write)
    }

    /// Runs the non-blocking operation `op` until it does not return
    /// `WouldBlock`, waiting for readability in between.
    ///
    /// ```
    /// use std::net::UdpSocket;
    /// use windlass::io::Async;
    ///
    /// windlass::Runtime::new().unwrap().block_on(async {
    ///     let a = Async::new(UdpSocket::bind("127.0.0.1:0").unwrap()).unwrap();
    ///     let b = UdpSocket::bind("127.0.0.1:0").unwrap();
    ///     b.send_to(b"hi", a.get_ref().local_addr().unwrap()).unwrap();
    ///     let mut buf = [0; 2];
    ///     let (n, _) = a.read_with(|s| s.recv_from(&mut buf)).await.unwrap();
    ///     assert_eq!(&buf[..n], b"hi");
    /// });
    /// ```
    pub async fn read_with<R>(&self, op: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        self.io_with(Direction::Read, op).await
    }

    /// Like [`read_with`](Self::read_with), with `&mut T`, for operations
    /// that need it (such as `Read::read` on a type that implements `Read`
    /// only for `&mut T`).
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use std::os::unix::net::UnixStream;
    ///
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let (mut a, b) = UnixStream::pair().unwrap();
    /// let mut b = windlass::io::Async::new(b).unwrap();
    /// std::thread::spawn(move || a.write_all(b"late data").unwrap());
    /// let mut buf = [0; 9];
    /// let n = b.read_with_mut(|s| s.read(&mut buf)).await.unwrap();
    /// assert!(n > 0 && b"late data".starts_with(&buf[..n]));
    /// # });
    /// ```
    pub async fn read_with_mut<R>(
        &mut self,
        op: impl FnMut(&mut T) -> io::Result<R>,
    ) -> io::Result<R> {
        self.io_with_mut(Direction::Read, op).await
    }

    /// Runs the non-blocking operation `op` until it does not return
    /// `WouldBlock`, waiting for writability in between.
    ///
    /// ```
    /// use std::net::UdpSocket;
    /// use windlass::io::Async;
    ///
    /// windlass::Runtime::new().unwrap().block_on(async {
    ///     let tx = Async::new(UdpSocket::bind("127.0.0.1:0").unwrap()).unwrap();
    ///     let rx = Async::new(UdpSocket::bind("127.0.0.1:0").unwrap()).unwrap();
    ///     let to = rx.get_ref().local_addr().unwrap();
    ///     let sent = tx.write_with(|s| s.send_to(b"pong", to)).await.unwrap();
    ///     assert_eq!(sent, 4);
    ///     let mut buf = [0; 4];
    ///     rx.read_with(|s| s.recv(&mut buf)).await.unwrap();
    ///     assert_eq!(&buf, b"pong");
    /// });
    /// ```
    pub async fn write_with<R>(&self, op: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        self.io_with(Direction::Write, op).await
    }

    /// Like [`write_with`](Self::write_with), with `&mut T`.
    ///
    /// A write that fills the socket buffer waits (without blocking the
    /// worker) until the peer reads:
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use std::os::unix::net::UnixStream;
    ///
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let (a, mut b) = UnixStream::pair().unwrap();
    /// let mut a = windlass::io::Async::new(a).unwrap();
    /// let reader = std::thread::spawn(move || {
    ///     let mut all = Vec::new();
    ///     b.read_to_end(&mut all).unwrap();
    ///     all.len()
    /// });
    /// let data = vec![7u8; 1 << 20]; // more than the socket buffer holds
    /// let mut sent = 0;
    /// while sent < data.len() {
    ///     sent += a.write_with_mut(|s| s.write(&data[sent..])).await.unwrap();
    /// }
    /// drop(a); // end of stream for the reader
    /// assert_eq!(reader.join().unwrap(), 1 << 20);
    /// # });
    /// ```
    pub async fn write_with_mut<R>(
        &mut self,
        op: impl FnMut(&mut T) -> io::Result<R>,
    ) -> io::Result<R> {
        self.io_with_mut(Direction::Write, op).await
    }

    async fn io_with<R>(
        &self,
        dir: Direction,
        mut op: impl FnMut(&T) -> io::Result<R>,
    ) -> io::Result<R> {
        let io = self.get_ref();
        std::future::poll_fn(|cx| poll_io(&self.source, cx, dir, || op(io))).await
    }

    async fn io_with_mut<R>(
        &mut self,
        dir: Direction,
        mut op: impl FnMut(&mut T) -> io::Result<R>,
    ) -> io::Result<R> {
        let (source, io) = (self.source.clone(), self.io.as_mut().expect("io present"));
        std::future::poll_fn(|cx| poll_io(&source, cx, dir, || op(io))).await
    }

    /// Reads into uninitialised memory: on `Ready(Ok(n))` the first `n`
    /// bytes of `buf` are initialised with what was read (`0`: end of
    /// stream). Nothing is zeroed and nothing copied, which is what
    /// adapters over buffers like hyper's `ReadBufCursor` need. Waits for
    /// readability like the other `poll_*` methods.
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use std::io::Write;
    /// use std::mem::MaybeUninit;
    ///
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
    /// let b = windlass::io::Async::new(b).unwrap();
    /// (&a).write_all(b"fresh").unwrap();
    /// let mut buf = [MaybeUninit::<u8>::uninit(); 16];
    /// let n = poll_fn(|cx| b.poll_read_uninit(cx, &mut buf)).await.unwrap();
    /// assert_eq!(n, 5);
    /// // SAFETY: the read initialised the first `n` bytes.
    /// let got = unsafe { std::slice::from_raw_parts(buf.as_ptr().cast::<u8>(), n) };
    /// assert_eq!(got, b"fresh");
    /// # });
    /// ```
    pub fn poll_read_uninit(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>> {
        let fd = self.get_ref().as_fd();
        poll_io(&self.source, cx, Direction::Read, || read_uninit(fd, buf))
    }

    /// One read attempt with `op`, no waiting: `WouldBlock` if the object
    /// is not readable now, and then [`readable`](Self::readable) waits
    /// for the next readiness event (it does not report ready again for
    /// the readiness this attempt used up).
    ///
    /// ```
    /// use std::io::{ErrorKind, Read, Write};
    ///
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
    /// let b = windlass::io::Async::new(b).unwrap();
    /// let mut buf = [0; 4];
    /// let err = b.try_read_with(|mut s| s.read(&mut buf)).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::WouldBlock);
    /// (&a).write_all(b"data").unwrap();
    /// b.readable().await.unwrap();
    /// assert_eq!(b.try_read_with(|mut s| s.read(&mut buf)).unwrap(), 4);
    /// # });
    /// ```
    pub fn try_read_with<R>(&self, mut op: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        let io = self.get_ref();
        try_io(&self.source, Direction::Read, None, || op(io), |_| 0)
    }

    /// One write attempt with `op`, no waiting; see
    /// [`try_read_with`](Self::try_read_with).
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    /// let to = socket.local_addr().unwrap();
    /// let socket = windlass::io::Async::new(socket).unwrap();
    /// assert_eq!(socket.try_write_with(|s| s.send_to(b"hi", to)).unwrap(), 2);
    /// # });
    /// ```
    pub fn try_write_with<R>(&self, mut op: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        let io = self.get_ref();
        try_io(&self.source, Direction::Write, None, || op(io), |_| 0)
    }

    /// The reactor source (for the byte-stream types' rule-7 paths).
    pub(crate) fn source(&self) -> &Source {
        &self.source
    }

    /// The `poll_*` form of `read_with`: tries `op`, registering for the
    /// next read-readiness event if it would block. The building block of
    /// `AsyncRead` implementations.
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use std::net::UdpSocket;
    ///
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let rx = windlass::io::Async::new(UdpSocket::bind("127.0.0.1:0").unwrap()).unwrap();
    /// let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    /// tx.send_to(b"hi", rx.get_ref().local_addr().unwrap()).unwrap();
    /// let mut buf = [0; 2];
    /// let n = poll_fn(|cx| rx.poll_read_with(cx, |s| s.recv(&mut buf))).await.unwrap();
    /// assert_eq!(&buf[..n], b"hi");
    /// # });
    /// ```
    pub fn poll_read_with<R>(
        &self,
        cx: &mut Context<'_>,
        op: impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        let io = self.get_ref();
        let mut op = op;
        poll_io(&self.source, cx, Direction::Read, || op(io))
    }

    /// The `poll_*` form of `write_with`; see
    /// [`poll_read_with`](Self::poll_read_with).
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use std::net::UdpSocket;
    ///
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let tx = windlass::io::Async::new(UdpSocket::bind("127.0.0.1:0").unwrap()).unwrap();
    /// let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
    /// let to = rx.local_addr().unwrap();
    /// let n = poll_fn(|cx| tx.poll_write_with(cx, |s| s.send_to(b"hi", to))).await.unwrap();
    /// assert_eq!(n, 2);
    /// # });
    /// ```
    pub fn poll_write_with<R>(
        &self,
        cx: &mut Context<'_>,
        op: impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        let io = self.get_ref();
        let mut op = op;
        poll_io(&self.source, cx, Direction::Write, || op(io))
    }
}

/// epoll refuses a descriptor it cannot watch (a regular file, a
/// directory) with `EPERM`, whose text ("Operation not permitted") reads
/// like a permissions problem: say what it means and what to use instead.
/// The kind stays `PermissionDenied`.
fn not_pollable(e: io::Error) -> io::Error {
    if e.raw_os_error() != Some(libc::EPERM) {
        return e;
    }
    io::Error::new(
        e.kind(),
        "windlass::io::Async: this descriptor cannot be polled (epoll refuses regular files \
         and directories: they never block); use windlass::fs::File for files \
         (epoll_ctl: Operation not permitted)",
    )
}

/// Tries `op`; on `WouldBlock`, registers for the next event in `dir`
/// (see the reactor's "Readiness" protocol). Spends cooperative budget.
pub(crate) fn poll_io<R>(
    source: &Source,
    cx: &mut Context<'_>,
    dir: Direction,
    mut op: impl FnMut() -> io::Result<R>,
) -> Poll<io::Result<R>> {
    std::task::ready!(coop::poll_proceed(cx));
    loop {
        let tick = source.tick();
        match op() {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                std::task::ready!(source.poll_would_block(cx, dir, tick))?;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            res => {
                coop::consume();
                return Poll::Ready(res);
            }
        }
    }
}

/// [`poll_io`] for a byte-stream transfer of up to `want` bytes, with the
/// source's rule 7: an attempt at a tick whose direction a short transfer
/// used up is skipped (it would block), and a transfer of `0 < n < want`
/// bytes marks the direction used up. Only for stream sockets and pipes,
/// where a short transfer proves the kernel buffer was emptied (or filled).
pub(crate) fn poll_stream_io(
    source: &Source,
    cx: &mut Context<'_>,
    dir: Direction,
    want: usize,
    mut op: impl FnMut() -> io::Result<usize>,
) -> Poll<io::Result<usize>> {
    std::task::ready!(coop::poll_proceed(cx));
    loop {
        let tick = source.tick();
        let res = match source.is_drained(dir, tick) {
            true => Err(io::ErrorKind::WouldBlock.into()),
            false => op(),
        };
        match res {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                std::task::ready!(source.poll_would_block(cx, dir, tick))?;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            res => {
                if matches!(res, Ok(n) if n > 0 && n < want) {
                    source.mark_drained(dir, tick);
                }
                coop::consume();
                return Poll::Ready(res);
            }
        }
    }
}

/// One attempt of `op` with no waiting: `WouldBlock` (from the kernel, or
/// at once if the direction is known to be used up) marks `dir` used up
/// at this tick, so `readable()` / `writable()` wait for the next event.
/// With `stream` (`want` bytes asked), a short transfer marks it too.
pub(crate) fn try_io<R>(
    source: &Source,
    dir: Direction,
    stream: Option<usize>,
    mut op: impl FnMut() -> io::Result<R>,
    moved: impl Fn(&R) -> usize,
) -> io::Result<R> {
    loop {
        let tick = source.tick();
        if source.is_drained(dir, tick) {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        match op() {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                source.mark_drained(dir, tick);
                return Err(e);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Ok(r) => {
                if let Some(want) = stream {
                    if (1..want).contains(&moved(&r)) {
                        source.mark_drained(dir, tick);
                    }
                }
                return Ok(r);
            }
            Err(e) => return Err(e),
        }
    }
}

/// `read(2)` into uninitialised memory: the number of bytes now
/// initialised at the front of `buf`.
pub(crate) fn read_uninit(fd: BorrowedFd<'_>, buf: &mut [MaybeUninit<u8>]) -> io::Result<usize> {
    let (filled, _rest) = rustix::io::read(fd, buf)?;
    Ok(filled.len())
}

impl<T: AsFd> Drop for Async<T> {
    fn drop(&mut self) {
        if let Some(io) = self.io.take() {
            // Delete from the poller while the descriptor is still open.
            let _ = self.reactor.deregister(&self.source, io.as_fd());
            drop(io);
        }
    }
}

impl<T: AsFd> AsFd for Async<T> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.get_ref().as_fd()
    }
}

impl<T: AsFd> AsRawFd for Async<T> {
    fn as_raw_fd(&self) -> RawFd {
        self.source.raw_fd()
    }
}

impl<T: AsFd + fmt::Debug> fmt::Debug for Async<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Async").field("io", self.get_ref()).finish()
    }
}

struct Ready<'a, T: AsFd> {
    io: &'a Async<T>,
    dir: Direction,
    id: Option<u64>,
}

impl<T: AsFd> Ready<'_, T> {
    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.source.poll_ready(cx, self.dir, &mut self.id)
    }
}

impl<T: AsFd> Drop for Ready<'_, T> {
    fn drop(&mut self) {
        if let Some(id) = self.id {
            self.io.source.remove_waiter(self.dir, id);
        }
    }
}

/// Future of [`Async::readable`]. Dropping it before it completes
/// removes it from the wait list; nothing is lost.
///
/// ```
/// use std::io::{Read, Write};
/// use futures_lite::future::poll_once;
///
/// # windlass::Runtime::new().unwrap().block_on(async {
/// let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
/// let b = windlass::io::Async::new(b).unwrap();
/// let mut buf = [0; 1];
/// // A read that would block: from now on, readable() waits for data.
/// assert!(poll_once(b.read_with(|mut s| s.read(&mut buf))).await.is_none());
/// assert!(poll_once(b.readable()).await.is_none()); // waits, then is dropped
/// (&a).write_all(b"x").unwrap();
/// b.readable().await.unwrap();
/// assert_eq!(b.get_ref().read(&mut buf).unwrap(), 1);
/// # });
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct Readable<'a, T: AsFd>(Ready<'a, T>);

/// Future of [`Async::writable`]. Dropping it before it completes removes
/// it from the wait list.
///
/// ```
/// use futures_lite::future::poll_once;
///
/// # windlass::Runtime::new().unwrap().block_on(async {
/// let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
/// let socket = windlass::io::Async::new(socket).unwrap();
/// // A UDP socket has room to send at once.
/// assert!(poll_once(socket.writable()).await.is_some());
/// # });
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct Writable<'a, T: AsFd>(Ready<'a, T>);

impl<T: AsFd> Future for Readable<'_, T> {
    type Output = io::Result<()>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.0.poll(cx)
    }
}

impl<T: AsFd> Future for Writable<'_, T> {
    type Output = io::Result<()>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.0.poll(cx)
    }
}

impl<T: AsFd> fmt::Debug for Readable<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Readable")
    }
}

impl<T: AsFd> fmt::Debug for Writable<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Writable")
    }
}

impl<T: AsFd> futures_io::AsyncRead for Async<T>
where
    for<'a> &'a T: Read,
{
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let io = self.get_ref();
        poll_io(&self.source, cx, Direction::Read, || { io }.read(buf))
    }

    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        let io = self.get_ref();
        poll_io(&self.source, cx, Direction::Read, || {
            { io }.read_vectored(bufs)
        })
    }
}

impl<T: AsFd> futures_io::AsyncWrite for Async<T>
where
    for<'a> &'a T: Write,
{
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let io = self.get_ref();
        poll_io(&self.source, cx, Direction::Write, || { io }.write(buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let io = self.get_ref();
        poll_io(&self.source, cx, Direction::Write, || {
            { io }.write_vectored(bufs)
        })
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let io = self.get_ref();
        poll_io(&self.source, cx, Direction::Write, || { io }.flush())
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}
