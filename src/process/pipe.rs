//! The child's ends of its pipes, on the reactor: [`ChildStdin`],
//! [`ChildStdout`], [`ChildStderr`].

use std::fmt;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

use crate::io::Async;

/// One pipe end, non-blocking and registered with the current runtime's
/// reactor. A `File` because `&File` implements `Read` and `Write`, which
/// is what [`Async`]'s `futures-io` implementations need.
struct Pipe(Async<File>);

impl Pipe {
    fn new(fd: impl Into<OwnedFd>) -> io::Result<Pipe> {
        // `Async::new` makes the descriptor non-blocking.
        Ok(Pipe(Async::new(File::from(fd.into()))?))
    }
}

/// The writing end of a child's stdin, from [`Child::stdin`](super::Child::stdin).
///
/// Implements [`AsyncWrite`]. Dropping it closes the pipe: the child
/// reads end-of-file. Writing after the child exited fails with
/// `BrokenPipe` (see rule 5 of the [module docs](super)).
///
/// ```
/// use futures_lite::AsyncWriteExt;
/// use windlass::process::{Command, Stdio};
///
/// windlass::Runtime::new().unwrap().block_on(async {
///     let mut child = Command::new("wc").arg("-c").stdin(Stdio::piped())
///         .stdout(Stdio::piped()).spawn().unwrap();
///     let mut stdin = child.stdin.take().unwrap();
///     stdin.write_all(b"12345").await.unwrap();
///     drop(stdin); // end of input
///     let out = child.wait_with_output().await.unwrap();
///     assert_eq!(String::from_utf8(out.stdout).unwrap().trim(), "5");
/// });
/// ```
pub struct ChildStdin(Pipe);

/// The reading end of a child's stdout, from [`Child::stdout`](super::Child::stdout).
///
/// Implements [`AsyncRead`]; reads end-of-file once the child (and every
/// process it passed the pipe to) exited or closed it.
///
/// ```
/// use futures_lite::AsyncReadExt;
/// use windlass::process::{Command, Stdio};
///
/// windlass::Runtime::new().unwrap().block_on(async {
///     let mut child = Command::new("echo").arg("hi").stdout(Stdio::piped()).spawn().unwrap();
///     let mut text = String::new();
///     child.stdout.take().unwrap().read_to_string(&mut text).await.unwrap();
///     assert_eq!(text, "hi\n");
///     assert!(child.wait().await.unwrap().success());
/// });
/// ```
pub struct ChildStdout(Pipe);

/// The reading end of a child's stderr, from [`Child::stderr`](super::Child::stderr).
///
/// Implements [`AsyncRead`], like [`ChildStdout`].
///
/// ```
/// use futures_lite::AsyncReadExt;
/// use windlass::process::{Command, Stdio};
///
/// windlass::Runtime::new().unwrap().block_on(async {
///     let mut child = Command::new("sh").args(["-c", "echo oops >&2"])
///         .stderr(Stdio::piped()).spawn().unwrap();
///     let mut text = String::new();
///     child.stderr.take().unwrap().read_to_string(&mut text).await.unwrap();
///     assert_eq!(text, "oops\n");
///     child.wait().await.unwrap();
/// });
/// ```
pub struct ChildStderr(Pipe);

impl ChildStdin {
    pub(super) fn new(std: std::process::ChildStdin) -> io::Result<ChildStdin> {
        Pipe::new(std).map(ChildStdin)
    }
}

impl ChildStdout {
    pub(super) fn new(std: std::process::ChildStdout) -> io::Result<ChildStdout> {
        Pipe::new(std).map(ChildStdout)
    }
}

impl ChildStderr {
    pub(super) fn new(std: std::process::ChildStderr) -> io::Result<ChildStderr> {
        Pipe::new(std).map(ChildStderr)
    }
}

impl AsyncWrite for ChildStdin {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0.0).poll_flush(cx)
    }

    /// Flushes (a pipe has nothing to flush); the pipe closes when the
    /// `ChildStdin` is dropped.
    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0.0).poll_close(cx)
    }
}

impl AsyncRead for ChildStdout {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0.0).poll_read(cx, buf)
    }
}

impl AsyncRead for ChildStderr {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0.0).poll_read(cx, buf)
    }
}

/// Descriptor access and `Debug`, alike for the three ends.
macro_rules! pipe_common {
    ($($ty:ident),*) => {$(
        impl AsFd for $ty {
            fn as_fd(&self) -> BorrowedFd<'_> {
                self.0.0.as_fd()
            }
        }

        impl AsRawFd for $ty {
            fn as_raw_fd(&self) -> RawFd {
                self.0.0.as_raw_fd()
            }
        }

        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_tuple(stringify!($ty)).field(&self.as_raw_fd()).finish()
            }
        }
    )*};
}

pipe_common!(ChildStdin, ChildStdout, ChildStderr);
