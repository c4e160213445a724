//! `hyper::rt::Read` and `Write` for windlass's I/O types.

use std::io;
use std::mem::MaybeUninit;
use std::os::fd::AsFd;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::AsyncWrite;

use crate::io::Async;
use crate::net::{OwnedReadHalf, TcpStream, UnixOwnedReadHalf, UnixStream};

/// A windlass I/O object as hyper's connection type: implements
/// `hyper::rt::Read` if the object implements [`ReadUninit`] and
/// `hyper::rt::Write` if it implements `AsyncWrite`.
///
/// Reads land straight in hyper's buffer, uninitialised as hyper hands it
/// over: nothing is zeroed and nothing copied. Writes are vectored (hyper
/// sends headers and body in one `writev`).
///
/// ```
/// use windlass::hyper::WindlassIo;
/// use windlass::net::{TcpListener, TcpStream};
///
/// fn is_hyper_io<T: hyper::rt::Read + hyper::rt::Write + Unpin>(_: &T) {}
///
/// # windlass::Runtime::new().unwrap().block_on(async {
/// let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
/// let conn = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
/// let io = WindlassIo::new(conn);
/// is_hyper_io(&io);
/// let conn: TcpStream = io.into_inner();
/// # drop(conn);
/// # });
/// ```
#[derive(Debug)]
pub struct WindlassIo<T> {
    inner: T,
}

impl<T> WindlassIo<T> {
    /// Wraps `inner`.
    pub fn new(inner: T) -> WindlassIo<T> {
        WindlassIo { inner }
    }

    /// The wrapped object.
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let (a, _b) = windlass::net::UnixStream::pair().unwrap();
    /// let io = windlass::hyper::WindlassIo::new(a);
    /// assert!(io.get_ref().peer_addr().is_ok());
    /// # });
    /// ```
    pub fn get_ref(&self) -> &T {
        &self.inner
    }

    /// The wrapped object, mutably.
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let (a, _b) = windlass::net::UnixStream::pair().unwrap();
    /// let mut io = windlass::hyper::WindlassIo::new(a);
    /// let _: &mut windlass::net::UnixStream = io.get_mut();
    /// # });
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// Unwraps the object.
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let (a, _b) = windlass::net::UnixStream::pair().unwrap();
    /// let a: windlass::net::UnixStream = windlass::hyper::WindlassIo::new(a).into_inner();
    /// # drop(a);
    /// # });
    /// ```
    pub fn into_inner(self) -> T {
        self.inner
    }
}

/// Reading into uninitialised memory, waiting for data if there is none:
/// what [`WindlassIo`] needs to implement `hyper::rt::Read`. Implemented by
/// windlass's readable I/O types; sealed.
pub trait ReadUninit: sealed::Sealed {
    /// On `Ready(Ok(n))` the first `n` bytes of `buf` are initialised with
    /// what was read; `0` is the end of stream (for a non-empty `buf`).
    ///
    /// ```
    /// use std::mem::MaybeUninit;
    /// use windlass::hyper::ReadUninit;
    /// use windlass::net::UnixStream;
    ///
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let (a, b) = UnixStream::pair().unwrap();
    /// a.try_write(b"hi").unwrap();
    /// let mut buf = [MaybeUninit::uninit(); 4];
    /// let n = std::future::poll_fn(|cx| ReadUninit::poll_read_uninit(&b, cx, &mut buf))
    ///     .await
    ///     .unwrap();
    /// assert_eq!(n, 2);
    /// # });
    /// ```
    fn poll_read_uninit(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>>;
}

mod sealed {
    pub trait Sealed {}
}

macro_rules! read_uninit_by_method {
    ($($ty:ty),*) => {$(
        impl sealed::Sealed for $ty {}
        impl ReadUninit for $ty {
            fn poll_read_uninit(
                &self,
                cx: &mut Context<'_>,
                buf: &mut [MaybeUninit<u8>],
            ) -> Poll<io::Result<usize>> {
                <$ty>::poll_read_uninit(self, cx, buf)
            }
        }
    )*};
}

read_uninit_by_method!(TcpStream, OwnedReadHalf, UnixStream, UnixOwnedReadHalf);

impl<T: AsFd> sealed::Sealed for Async<T> {}
impl<T: AsFd> ReadUninit for Async<T> {
    fn poll_read_uninit(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>> {
        Async::poll_read_uninit(self, cx, buf)
    }
}

impl<T: ReadUninit + Unpin> ::hyper::rt::Read for WindlassIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: ::hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        // SAFETY: `as_mut` hands out the cursor's unfilled part; we must not
        // de-initialise any of it. `poll_read_uninit` only writes bytes into
        // it (a `read(2)`), never uninitialised ones.
        let unfilled = unsafe { buf.as_mut() };
        let n = std::task::ready!(self.inner.poll_read_uninit(cx, unfilled))?;
        // SAFETY: `poll_read_uninit` initialised the first `n` bytes of the
        // unfilled part.
        unsafe { buf.advance(n) };
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncWrite + Unpin> ::hyper::rt::Write for WindlassIo<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        // windlass's stream types and `Async` write vectors with one
        // `writev`.
        true
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_close(cx)
    }
}
