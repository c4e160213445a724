//! `UnixStream::into_split`: owned read and write halves, as for TCP.
//!
//! Both halves share the stream through an `Arc`; the socket closes when
//! the last of them is dropped. Reading and writing use different readiness
//! directions of the one registration, so the halves never wait on each
//! other.

use crate::loom::std::sync::Arc;
use std::fmt;
use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::net::Shutdown;
use std::os::unix::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

use super::UnixStream;

impl UnixStream {
    /// Splits into halves that can move to different tasks. Dropping the
    /// write half does not shut the socket down; call
    /// [`UnixOwnedWriteHalf::shutdown`] (or `close().await`) for a
    /// half-close.
    ///
    /// ```
    /// use futures_lite::{AsyncReadExt, AsyncWriteExt};
    ///
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let (client, mut server) = windlass::net::UnixStream::pair().unwrap();
    /// let (mut read, mut write) = client.into_split();
    /// let writer = windlass::spawn(async move {
    ///     write.write_all(b"from one task").await.unwrap();
    ///     write
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
    pub fn into_split(self) -> (UnixOwnedReadHalf, UnixOwnedWriteHalf) {
        let shared = Arc::new(self);
        (
            UnixOwnedReadHalf(shared.clone()),
            UnixOwnedWriteHalf(shared),
        )
    }
}

/// The read half of a [`UnixStream`], from
/// [`into_split`](UnixStream::into_split): implements `AsyncRead`, and can
/// move to its own task.
///
/// ```
/// use futures_lite::{AsyncBufReadExt, AsyncWriteExt, StreamExt};
///
/// # windlass::Runtime::new().unwrap().block_on(async {
/// let (client, mut server) = windlass::net::UnixStream::pair().unwrap();
/// let (read, _write) = client.into_split();
/// let lines = windlass::spawn(async move {
///     futures_lite::io::BufReader::new(read).lines().try_collect::<_, _, Vec<_>>().await
/// });
/// server.write_all(b"one\ntwo\n").await.unwrap();
/// drop(server);
/// assert_eq!(lines.await.unwrap().unwrap(), ["one", "two"]);
/// # });
/// ```
pub struct UnixOwnedReadHalf(
    /// The stream, shared with the write half.
    Arc<UnixStream>,
);

/// The write half of a [`UnixStream`], from
/// [`into_split`](UnixStream::into_split): implements `AsyncWrite`, and can
/// move to its own task. `close().await` (or [`shutdown`](Self::shutdown))
/// half-closes the connection; dropping it does not.
///
/// ```
/// use futures_lite::{AsyncReadExt, AsyncWriteExt};
///
/// # windlass::Runtime::new().unwrap().block_on(async {
/// let (client, mut server) = windlass::net::UnixStream::pair().unwrap();
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
pub struct UnixOwnedWriteHalf(
    /// The stream, shared with the read half.
    Arc<UnixStream>,
);

impl UnixOwnedReadHalf {
    /// Joins the halves back into a stream. Fails (returning them) if they
    /// come from different streams.
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let (a, b) = windlass::net::UnixStream::pair().unwrap();
    /// let ((a_read, a_write), (b_read, b_write)) = (a.into_split(), b.into_split());
    /// let (a_read, b_write) = a_read.reunite(b_write).unwrap_err();
    /// assert!(a_read.reunite(a_write).is_ok());
    /// assert!(b_read.reunite(b_write).is_ok());
    /// # });
    /// ```
    pub fn reunite(
        self,
        write: UnixOwnedWriteHalf,
    ) -> Result<UnixStream, (UnixOwnedReadHalf, UnixOwnedWriteHalf)> {
        if !Arc::ptr_eq(&self.0, &write.0) {
            return Err((self, write));
        }
        drop(write);
        // The halves are the only two owners and are not `Clone`.
        Ok(Arc::into_inner(self.0).expect("the read half is the last owner"))
    }

    /// The peer's address, as [`UnixStream::peer_addr`].
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let (a, _b) = windlass::net::UnixStream::pair().unwrap();
    /// let (read, _write) = a.into_split();
    /// assert!(read.peer_addr().unwrap().is_unnamed());
    /// assert!(read.local_addr().unwrap().is_unnamed());
    /// # });
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.0.peer_addr()
    }

    /// This end's address, as [`UnixStream::local_addr`].
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.local_addr()
    }

    /// Reads into uninitialised memory, as
    /// [`UnixStream::poll_read_uninit`]: on `Ready(Ok(n))` the first `n`
    /// bytes of `buf` hold what was read (0: end of stream). Nothing is
    /// zeroed or copied first; this is what lets the half be a
    /// `windlass::hyper::WindlassIo` source.
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use std::mem::MaybeUninit;
    ///
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let (a, b) = windlass::net::UnixStream::pair().unwrap();
    /// let (read, _write) = b.into_split();
    /// a.try_write(b"hey").unwrap();
    /// let mut raw = [MaybeUninit::uninit(); 8];
    /// let n = poll_fn(|cx| read.poll_read_uninit(cx, &mut raw)).await.unwrap();
    /// assert_eq!(n, 3);
    /// # });
    /// ```
    pub fn poll_read_uninit(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [std::mem::MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>> {
        self.0.poll_read_uninit(cx, buf)
    }
}

impl UnixOwnedWriteHalf {
    /// Half-closes the connection: the peer reads end-of-file, and the
    /// other direction stays open. The same as `close().await`.
    ///
    /// ```
    /// use futures_lite::{AsyncReadExt, AsyncWriteExt};
    ///
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let (client, mut server) = windlass::net::UnixStream::pair().unwrap();
    /// let (mut read, mut write) = client.into_split();
    /// write.write_all(b"done").await.unwrap();
    /// write.shutdown().unwrap();
    /// let mut request = Vec::new();
    /// server.read_to_end(&mut request).await.unwrap();
    /// server.write_all(b"bye").await.unwrap();
    /// let mut reply = [0; 3];
    /// read.read_exact(&mut reply).await.unwrap();
    /// assert_eq!((&request[..], &reply), (&b"done"[..], b"bye"));
    /// # });
    /// ```
    pub fn shutdown(&self) -> io::Result<()> {
        self.0.shutdown(Shutdown::Write)
    }

    /// The peer's address, as [`UnixStream::peer_addr`].
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.0.peer_addr()
    }

    /// This end's address, as [`UnixStream::local_addr`].
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.local_addr()
    }
}

impl AsyncRead for UnixOwnedReadHalf {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.0.inner.poll_read_with(cx, |mut s| s.read(buf))
    }

    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        self.0
            .inner
            .poll_read_with(cx, |mut s| s.read_vectored(bufs))
    }
}

impl AsyncWrite for UnixOwnedWriteHalf {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.0.inner.poll_write_with(cx, |mut s| s.write(buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.0
            .inner
            .poll_write_with(cx, |mut s| s.write_vectored(bufs))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.0.shutdown(Shutdown::Write))
    }
}

impl fmt::Debug for UnixOwnedReadHalf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("UnixOwnedReadHalf").field(&self.0).finish()
    }
}

impl fmt::Debug for UnixOwnedWriteHalf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("UnixOwnedWriteHalf").field(&self.0).finish()
    }
}
