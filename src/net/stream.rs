//! The I/O of the byte-stream types (`TcpStream`, `UnixStream` and their
//! halves): reads and writes with the reactor's rule 7 (see
//! `reactor/source.rs`), so a short read or write used up that direction
//! and the next attempt waits for an event instead of failing with
//! `EAGAIN` first.
//!
//! Each function takes the stream's `Async` and the byte count asked for,
//! which is what tells a short transfer from a full one.

use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::mem::MaybeUninit;
use std::os::fd::AsFd;
use std::task::{Context, Poll};

use crate::io::Async;
use crate::io::async_fd::{poll_stream_io, read_uninit, try_io};
use crate::reactor::Direction;

/// Whether a short read on this socket type proves its receive queue empty
/// (rule 7 for reads).
///
/// Not for a Unix stream: the kernel ends a read after a message that
/// carried descriptors (`SCM_RIGHTS`, discarded by a plain `read`), or at a
/// message from another writer (`SO_PASSCRED`), with more data queued
/// behind it and no new edge to come. A read there that returned short
/// must not keep the next read from trying. (TCP's one such case, the
/// urgent mark, comes with `EPOLLPRI`, which stands rule 7 down for that
/// socket: see the reactor's `Event::read_closed`.)
pub(crate) trait ShortReadDrains {
    const DRAINS: bool;
}

impl ShortReadDrains for std::net::TcpStream {
    const DRAINS: bool = true;
}

impl ShortReadDrains for std::os::unix::net::UnixStream {
    const DRAINS: bool = false;
}

/// The byte count that tells a short read from a full one: 0 (never short)
/// where a short read proves nothing.
fn read_want<S: ShortReadDrains>(len: usize) -> usize {
    if S::DRAINS { len } else { 0 }
}

/// The byte count of a set of buffers.
fn total<B: std::ops::Deref<Target = [u8]>>(bufs: &[B]) -> usize {
    bufs.iter().map(|b| b.len()).fold(0, usize::saturating_add)
}

pub(crate) fn poll_read<S>(
    io: &Async<S>,
    cx: &mut Context<'_>,
    buf: &mut [u8],
) -> Poll<io::Result<usize>>
where
    S: AsFd + ShortReadDrains,
    for<'a> &'a S: Read,
{
    let (s, want) = (io.get_ref(), read_want::<S>(buf.len()));
    poll_stream_io(io.source(), cx, Direction::Read, want, || { s }.read(buf))
}

pub(crate) fn poll_read_vectored<S>(
    io: &Async<S>,
    cx: &mut Context<'_>,
    bufs: &mut [IoSliceMut<'_>],
) -> Poll<io::Result<usize>>
where
    S: AsFd + ShortReadDrains,
    for<'a> &'a S: Read,
{
    let (s, want) = (io.get_ref(), read_want::<S>(total(bufs)));
    poll_stream_io(io.source(), cx, Direction::Read, want, || {
        { s }.read_vectored(bufs)
    })
}

pub(crate) fn poll_read_uninit<S: AsFd + ShortReadDrains>(
    io: &Async<S>,
    cx: &mut Context<'_>,
    buf: &mut [MaybeUninit<u8>],
) -> Poll<io::Result<usize>> {
    let (fd, want) = (io.get_ref().as_fd(), read_want::<S>(buf.len()));
    poll_stream_io(io.source(), cx, Direction::Read, want, || {
        read_uninit(fd, buf)
    })
}

pub(crate) fn poll_write<S>(
    io: &Async<S>,
    cx: &mut Context<'_>,
    buf: &[u8],
) -> Poll<io::Result<usize>>
where
    S: AsFd,
    for<'a> &'a S: Write,
{
    let (s, want) = (io.get_ref(), buf.len());
    poll_stream_io(io.source(), cx, Direction::Write, want, || { s }.write(buf))
}

pub(crate) fn poll_write_vectored<S>(
    io: &Async<S>,
    cx: &mut Context<'_>,
    bufs: &[IoSlice<'_>],
) -> Poll<io::Result<usize>>
where
    S: AsFd,
    for<'a> &'a S: Write,
{
    let (s, want) = (io.get_ref(), total(bufs));
    poll_stream_io(io.source(), cx, Direction::Write, want, || {
        { s }.write_vectored(bufs)
    })
}

pub(crate) fn try_read<S>(io: &Async<S>, buf: &mut [u8]) -> io::Result<usize>
where
    S: AsFd + ShortReadDrains,
    for<'a> &'a S: Read,
{
    let (s, want) = (io.get_ref(), read_want::<S>(buf.len()));
    try_io(
        io.source(),
        Direction::Read,
        Some(want),
        || { s }.read(buf),
        |n| *n,
    )
}

pub(crate) fn try_write<S>(io: &Async<S>, buf: &[u8]) -> io::Result<usize>
where
    S: AsFd,
    for<'a> &'a S: Write,
{
    let (s, want) = (io.get_ref(), buf.len());
    try_io(
        io.source(),
        Direction::Write,
        Some(want),
        || { s }.write(buf),
        |n| *n,
    )
}

/// Readiness and single attempts, for adapters (such as
/// [`windlass::hyper`](crate::hyper), with the `hyper` feature) and
/// hand-written loops. Shared by `TcpStream` and its halves.
macro_rules! stream_read_methods_impl {
    ($(#[$example:meta])* $ty:ty) => {
        impl $ty {
            /// One read with no waiting: `Ok(n)` (0 at end of stream), or
            /// `WouldBlock` if nothing is there now. A `WouldBlock`, or
            /// (on TCP) a read shorter than `buf`, used up the readiness:
            /// the next [`readable`](Self::readable) waits for new data
            /// instead of returning at once (no wasted `EAGAIN` read). On a
            /// Unix stream a short read proves nothing (the kernel ends a
            /// read at passed descriptors with data behind them), so there
            /// only a `WouldBlock` uses it up.
            $(#[$example])*
            pub fn try_read(&self, buf: &mut [u8]) -> std::io::Result<usize> {
                $crate::net::stream::try_read(&self.inner, buf)
            }

            /// Waits until the stream may be readable: new data, end of
            /// stream or an error. Pair with [`try_read`](Self::try_read).
            pub async fn readable(&self) -> std::io::Result<()> {
                self.inner.readable().await
            }

            /// Reads into uninitialised memory, waiting for data if there is
            /// none: on `Ready(Ok(n))` the first `n` bytes of `buf` hold
            /// what was read (0: end of stream). Nothing is zeroed or
            /// copied first.
            pub fn poll_read_uninit(
                &self,
                cx: &mut std::task::Context<'_>,
                buf: &mut [std::mem::MaybeUninit<u8>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                $crate::net::stream::poll_read_uninit(&self.inner, cx, buf)
            }
        }
    };
}

macro_rules! stream_write_methods_impl {
    ($ty:ty) => {
        impl $ty {
            /// One write with no waiting: `Ok(n)` bytes taken by the
            /// kernel, or `WouldBlock` if its buffer is full. A `WouldBlock`
            /// or a short write makes the next [`writable`](Self::writable)
            /// wait for room.
            pub fn try_write(&self, buf: &[u8]) -> std::io::Result<usize> {
                $crate::net::stream::try_write(&self.inner, buf)
            }

            /// Waits until the stream may be writable. Pair with
            /// [`try_write`](Self::try_write).
            pub async fn writable(&self) -> std::io::Result<()> {
                self.inner.writable().await
            }
        }
    };
}

pub(crate) use stream_read_methods_impl as stream_read_methods;
pub(crate) use stream_write_methods_impl as stream_write_methods;
