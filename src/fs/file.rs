//! [`File`]: an open file driven through the blocking pool.
//!
//! A `File` is a small state machine. **Idle**: the std file and the
//! buffer ([`Buf`]) sit in the `File`, and the async side copies bytes in
//! and out of the buffer without any system call. **Busy**: both moved into
//! one blocking closure on the pool (so at most one operation per file is
//! ever in flight), which does the system calls and hands them back with an
//! [`Outcome`]. Every poll method first waits for the file to be idle
//! again; whichever call sees an operation finish takes its error, if any,
//! which is how a write started in the background reports failure to the
//! next call.

use std::fmt;
use std::fs::{File as StdFile, Metadata};
use std::future::{Future, poll_fn};
use std::io::{self, SeekFrom};
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures_io::{AsyncBufRead, AsyncRead, AsyncSeek, AsyncWrite};

use super::OpenOptions;
use super::buf::Buf;
use crate::task::JoinHandle;

/// An open file, read and written asynchronously through the blocking pool:
/// aiofiles' `async with aiofiles.open(...) as f`.
///
/// Reads are buffered (up to 64 KiB per blocking call), writes are buffered
/// and written out when the buffer fills, on [`flush`], on [`close`], or
/// before any operation that needs the file's real state (a read, a seek,
/// [`metadata`](Self::metadata), [`sync_all`](Self::sync_all), ...). See the
/// [module docs](super) for what happens on drop, with errors and on seek.
///
/// The I/O traits are those of `futures-io`; use them through
/// `futures_lite::{AsyncReadExt, AsyncWriteExt, AsyncSeekExt, AsyncBufReadExt}`.
///
/// [`flush`]: futures_lite::AsyncWriteExt::flush
/// [`close`]: futures_lite::AsyncWriteExt::close
///
/// ```
/// use futures_lite::{AsyncReadExt, AsyncWriteExt};
/// use windlass::fs::File;
///
/// # let rt = windlass::Runtime::new().unwrap();
/// # rt.block_on(async {
/// let path = std::env::temp_dir().join(format!("windlass-doc-file-{}", std::process::id()));
/// let mut file = File::create(&path).await?;
/// file.write_all(b"hello, file").await?;
/// file.flush().await?; // now the bytes are in the file
///
/// let mut text = String::new();
/// File::open(&path).await?.read_to_string(&mut text).await?;
/// assert_eq!(text, "hello, file");
/// windlass::fs::remove_file(&path).await?;
/// # std::io::Result::Ok(())
/// # }).unwrap();
/// ```
pub struct File {
    state: State,
}

/// What moves into a blocking closure and back.
struct Inner {
    std: StdFile,
    buf: Buf,
}

enum State {
    /// No operation in flight.
    Idle(Inner),
    /// One operation in flight on the pool; it gives the file back.
    Busy(JoinHandle<(Inner, Outcome)>),
    /// The std file is gone: taken by `into_std`, or lost with a blocking
    /// task that was cancelled (runtime shutdown) or panicked.
    Gone,
}

/// Which operation a blocking closure ran, and how it went.
struct Outcome {
    op: Op,
    result: io::Result<Value>,
}

/// The kinds of blocking operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    /// Write out the buffer (it was full, or `poll_flush`).
    WriteOut,
    /// Write out, then fill the read buffer (`poll_fill_buf`).
    Fill,
    /// Write out, then seek (`poll_seek` with this position).
    Seek(SeekFrom),
    /// The work of an async method (`metadata`, `set_len`, ...); only that
    /// method's future waits for it.
    Method,
}

/// What a blocking operation produced.
enum Value {
    Unit,
    Pos(u64),
    Metadata(Metadata),
}

impl File {
    /// Opens a file for reading, like [`std::fs::File::open`].
    ///
    /// ```
    /// # let rt = windlass::Runtime::new().unwrap();
    /// # rt.block_on(async {
    /// let missing = std::env::temp_dir().join("windlass-doc-open-no-such-file");
    /// let err = windlass::fs::File::open(&missing).await.unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    /// # });
    /// ```
    pub async fn open(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new().read(true).open(path).await
    }

    /// Opens a file for writing, creating it or truncating it, like
    /// [`std::fs::File::create`].
    ///
    /// ```
    /// use futures_lite::AsyncWriteExt;
    ///
    /// # let rt = windlass::Runtime::new().unwrap();
    /// # rt.block_on(async {
    /// let path = std::env::temp_dir().join(format!("windlass-doc-create-{}", std::process::id()));
    /// let mut file = windlass::fs::File::create(&path).await?;
    /// file.write_all(b"abc").await?;
    /// file.close().await?;
    /// assert_eq!(windlass::fs::read(&path).await?, b"abc");
    /// windlass::fs::remove_file(&path).await?;
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub async fn create(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .await
    }

    /// Options for opening a file in another mode; the same as
    /// [`OpenOptions::new`].
    ///
    /// ```
    /// use futures_lite::AsyncWriteExt;
    ///
    /// # let rt = windlass::Runtime::new().unwrap();
    /// # rt.block_on(async {
    /// let path = std::env::temp_dir().join(format!("windlass-doc-options-{}", std::process::id()));
    /// windlass::fs::write(&path, "one,").await?;
    /// let mut file = windlass::fs::File::options().append(true).open(&path).await?;
    /// file.write_all(b"two").await?;
    /// file.flush().await?;
    /// assert_eq!(windlass::fs::read_to_string(&path).await?, "one,two");
    /// windlass::fs::remove_file(&path).await?;
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub fn options() -> OpenOptions {
        OpenOptions::new()
    }

    /// Wraps an open std file. Its cursor is where reads and writes start.
    ///
    /// ```
    /// use futures_lite::AsyncReadExt;
    ///
    /// # let rt = windlass::Runtime::new().unwrap();
    /// # rt.block_on(async {
    /// let path = std::env::temp_dir().join(format!("windlass-doc-from-std-{}", std::process::id()));
    /// std::fs::write(&path, "from std")?;
    /// let mut file = windlass::fs::File::from_std(std::fs::File::open(&path)?);
    /// let mut text = String::new();
    /// file.read_to_string(&mut text).await?;
    /// assert_eq!(text, "from std");
    /// std::fs::remove_file(&path)?;
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub fn from_std(std: StdFile) -> File {
        File {
            state: State::Idle(Inner {
                std,
                buf: Buf::new(),
            }),
        }
    }

    /// Waits for any operation in flight, writes out buffered data, moves
    /// the std cursor to the logical position (back over bytes read ahead),
    /// and returns the std file.
    ///
    /// ```
    /// use std::io::Read;
    /// use futures_lite::{AsyncReadExt, AsyncWriteExt};
    ///
    /// # let rt = windlass::Runtime::new().unwrap();
    /// # rt.block_on(async {
    /// let path = std::env::temp_dir().join(format!("windlass-doc-into-std-{}", std::process::id()));
    /// windlass::fs::write(&path, "0123456789").await?;
    /// let mut file = windlass::fs::File::open(&path).await?;
    /// let mut two = [0; 2];
    /// file.read_exact(&mut two).await?; // reads ahead into the buffer
    /// let mut std_file = file.into_std().await?;
    /// let mut rest = String::new();
    /// std_file.read_to_string(&mut rest)?; // continues at byte 2
    /// assert_eq!(rest, "23456789");
    /// windlass::fs::remove_file(&path).await?;
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub async fn into_std(mut self) -> io::Result<StdFile> {
        self.run(|inner| inner.buf.settle(&mut inner.std).map(|()| Value::Unit))
            .await?;
        match std::mem::replace(&mut self.state, State::Gone) {
            State::Idle(inner) => Ok(inner.std),
            _ => unreachable!("windlass: File::run returned with the file not idle"),
        }
    }

    /// Queries metadata about the file, after writing out buffered data (so
    /// that the length includes it).
    ///
    /// ```
    /// use futures_lite::AsyncWriteExt;
    ///
    /// # let rt = windlass::Runtime::new().unwrap();
    /// # rt.block_on(async {
    /// let path = std::env::temp_dir().join(format!("windlass-doc-file-meta-{}", std::process::id()));
    /// let mut file = windlass::fs::File::create(&path).await?;
    /// file.write_all(&[7; 1000]).await?;
    /// assert_eq!(file.metadata().await?.len(), 1000);
    /// windlass::fs::remove_file(&path).await?;
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub async fn metadata(&mut self) -> io::Result<Metadata> {
        let value = self
            .run(|inner| {
                inner.buf.write_out(&mut inner.std)?;
                inner.std.metadata().map(Value::Metadata)
            })
            .await?;
        match value {
            Value::Metadata(metadata) => Ok(metadata),
            _ => unreachable!("windlass: File::metadata got another operation's value"),
        }
    }

    /// Truncates or extends the file to `size` bytes, like
    /// [`std::fs::File::set_len`], after writing out buffered data. The
    /// logical position does not move (bytes read ahead are dropped and
    /// read again); it may now be past the end.
    ///
    /// ```
    /// # let rt = windlass::Runtime::new().unwrap();
    /// # rt.block_on(async {
    /// let path = std::env::temp_dir().join(format!("windlass-doc-set-len-{}", std::process::id()));
    /// windlass::fs::write(&path, "0123456789").await?;
    /// let mut file = windlass::fs::File::options().write(true).open(&path).await?;
    /// file.set_len(4).await?;
    /// assert_eq!(windlass::fs::read_to_string(&path).await?, "0123");
    /// windlass::fs::remove_file(&path).await?;
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub async fn set_len(&mut self, size: u64) -> io::Result<()> {
        self.run(move |inner| {
            inner.buf.settle(&mut inner.std)?;
            inner.std.set_len(size).map(|()| Value::Unit)
        })
        .await
        .map(drop)
    }

    /// Writes out buffered data, then makes the OS flush data and metadata
    /// to the device, like [`std::fs::File::sync_all`].
    ///
    /// ```
    /// use futures_lite::AsyncWriteExt;
    ///
    /// # let rt = windlass::Runtime::new().unwrap();
    /// # rt.block_on(async {
    /// let path = std::env::temp_dir().join(format!("windlass-doc-sync-all-{}", std::process::id()));
    /// let mut file = windlass::fs::File::create(&path).await?;
    /// file.write_all(b"durable").await?;
    /// file.sync_all().await?;
    /// assert_eq!(windlass::fs::read(&path).await?, b"durable");
    /// windlass::fs::remove_file(&path).await?;
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub async fn sync_all(&mut self) -> io::Result<()> {
        self.run(|inner| {
            inner.buf.write_out(&mut inner.std)?;
            inner.std.sync_all().map(|()| Value::Unit)
        })
        .await
        .map(drop)
    }

    /// Like [`sync_all`](Self::sync_all), but may skip metadata that is not
    /// needed to read the data back, like [`std::fs::File::sync_data`].
    ///
    /// ```
    /// use futures_lite::AsyncWriteExt;
    ///
    /// # let rt = windlass::Runtime::new().unwrap();
    /// # rt.block_on(async {
    /// let path = std::env::temp_dir().join(format!("windlass-doc-sync-data-{}", std::process::id()));
    /// let mut file = windlass::fs::File::create(&path).await?;
    /// file.write_all(b"data").await?;
    /// file.sync_data().await?;
    /// assert_eq!(windlass::fs::read(&path).await?, b"data");
    /// windlass::fs::remove_file(&path).await?;
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub async fn sync_data(&mut self) -> io::Result<()> {
        self.run(|inner| {
            inner.buf.write_out(&mut inner.std)?;
            inner.std.sync_data().map(|()| Value::Unit)
        })
        .await
        .map(drop)
    }

    /// Runs `work` as this file's one blocking operation, after any in
    /// flight, and returns what it produced.
    async fn run<W>(&mut self, work: W) -> io::Result<Value>
    where
        W: FnOnce(&mut Inner) -> io::Result<Value> + Send + 'static,
    {
        poll_fn(|cx| self.poll_idle(cx)).await?;
        self.start(Op::Method, work);
        match poll_fn(|cx| self.poll_idle(cx)).await? {
            Some((Op::Method, value)) => Ok(value),
            _ => unreachable!("windlass: File::run saw another operation finish"),
        }
    }

    /// Waits until no operation is in flight. Returns the operation that
    /// finished during this call, if one did, with its value; its error, if
    /// it failed, is returned whatever it was.
    fn poll_idle(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Option<(Op, Value)>>> {
        let handle = match &mut self.state {
            State::Idle(_) => return Poll::Ready(Ok(None)),
            State::Busy(handle) => handle,
            State::Gone => return Poll::Ready(Err(gone())),
        };
        match ready!(Pin::new(handle).poll(cx)) {
            Ok((inner, outcome)) => {
                self.state = State::Idle(inner);
                Poll::Ready(outcome.result.map(|value| Some((outcome.op, value))))
            }
            Err(join) => {
                self.state = State::Gone;
                Poll::Ready(Err(join.into()))
            }
        }
    }

    /// The idle file's parts. Only after `poll_idle` returned ready and ok.
    fn idle(&mut self) -> &mut Inner {
        match &mut self.state {
            State::Idle(inner) => inner,
            _ => unreachable!("windlass: File used as idle while an operation is in flight"),
        }
    }

    /// Moves the idle file into a blocking closure running `work`.
    fn start<W>(&mut self, op: Op, work: W)
    where
        W: FnOnce(&mut Inner) -> io::Result<Value> + Send + 'static,
    {
        let State::Idle(inner) = std::mem::replace(&mut self.state, State::Gone) else {
            unreachable!("windlass: File started an operation while not idle")
        };
        let carried = Carried(Some(inner));
        self.state = State::Busy(crate::spawn_blocking(move || {
            let mut inner = carried.take();
            let result = work(&mut inner);
            (inner, Outcome { op, result })
        }));
    }

    /// Starts writing out the buffer.
    fn start_write_out(&mut self) {
        self.start(Op::WriteOut, |inner| {
            inner.buf.write_out(&mut inner.std).map(|()| Value::Unit)
        });
    }
}

/// The error once the std file is gone.
fn gone() -> io::Error {
    io::Error::other(
        "windlass: this File lost its std file (a blocking operation was cancelled or panicked)",
    )
}

impl AsyncBufRead for File {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let this = self.get_mut();
        loop {
            if let Some((Op::Fill, _)) = ready!(this.poll_idle(cx))? {
                // Just filled: data, or nothing at end of file.
                break;
            }
            if !this.idle().buf.unread().is_empty() {
                break;
            }
            this.start(Op::Fill, |inner| {
                inner.buf.fill(&mut inner.std).map(|()| Value::Unit)
            });
        }
        Poll::Ready(Ok(this.idle().buf.unread()))
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        if let State::Idle(inner) = &mut self.get_mut().state {
            inner.buf.consume(amt);
        }
    }
}

impl AsyncRead for File {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        if out.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let available = ready!(self.as_mut().poll_fill_buf(cx))?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Poll::Ready(Ok(n))
    }
}

impl AsyncWrite for File {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        src: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if src.is_empty() {
            return Poll::Ready(Ok(0));
        }
        loop {
            ready!(this.poll_idle(cx))?;
            if this.idle().buf.is_full() {
                this.start_write_out();
                continue;
            }
            let n = this.idle().buf.buffer_write(src);
            if this.idle().buf.is_full() {
                // Write out in the background while the caller goes on.
                this.start_write_out();
            }
            return Poll::Ready(Ok(n));
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            ready!(this.poll_idle(cx))?;
            if !this.idle().buf.has_pending_write() {
                return Poll::Ready(Ok(()));
            }
            this.start_write_out();
        }
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}

impl AsyncSeek for File {
    fn poll_seek(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        pos: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        let this = self.get_mut();
        loop {
            if let Some((Op::Seek(target), Value::Pos(at))) = ready!(this.poll_idle(cx))? {
                // The seek this call started (see the module docs on a seek
                // future dropped before it finished).
                if target == pos {
                    return Poll::Ready(Ok(at));
                }
            }
            this.start(Op::Seek(pos), move |inner| {
                inner.buf.seek(&mut inner.std, pos).map(Value::Pos)
            });
        }
    }
}

impl Drop for File {
    fn drop(&mut self) {
        let State::Idle(inner) = &mut self.state else {
            // An operation in flight runs to completion on its own.
            return;
        };
        if !inner.buf.has_pending_write() {
            return;
        }
        let State::Idle(inner) = std::mem::replace(&mut self.state, State::Gone) else {
            unreachable!()
        };
        let carried = Carried(Some(inner));
        match crate::runtime::Handle::try_current() {
            // Do not block a worker: write in the background. If the pool
            // cancels the closure before it runs (its shutdown, or no thread
            // to be had, where `spawn_blocking` panics), `Carried` writes
            // the data out where the closure is dropped or hands it on.
            Ok(handle) if !handle.is_shutdown() => {
                let spawned = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    drop(handle.spawn_blocking(move || carried.take().write_out_quietly()))
                }));
                if let Err(payload) = spawned {
                    // A drop never unwinds (it may run during a panic).
                    crate::task::caught::drop_payload(payload);
                }
            }
            // A plain thread writes here; a runtime thread of a runtime
            // shutting down, on a thread of its own (`Carried`).
            _ => drop(carried),
        }
    }
}

impl Inner {
    /// The write-out of a dropped file: nobody is left to see an error.
    fn write_out_quietly(mut self) {
        let _ = self.buf.write_out(&mut self.std);
    }
}

/// A file's parts inside a blocking closure. A closure that never runs
/// (the pool cancelled it at shutdown, or was already shut down when it was
/// spawned) drops its `Carried`, which writes the buffered bytes out rather
/// than lose them, as a write that returned `Ok` and an in-flight write-out
/// of a dropped `File` promise:
/// - on the dropping thread if it may wait: a plain thread, in a shutdown
///   that waits for the pool anyway (`drop(rt)`);
/// - else on a thread of its own: on a runtime thread (a worker, inside
///   `block_on`), which must not block, or in a shutdown with a deadline
///   (`shutdown_background`, `shutdown_timeout`), which must not wait for
///   a slow disk or a pipe nobody reads. The process's exit does not wait
///   for that thread.
struct Carried(Option<Inner>);

impl Carried {
    /// The parts, in the closure that runs (which then owns the write).
    fn take(mut self) -> Inner {
        self.0
            .take()
            .expect("windlass: a File's blocking closure ran twice")
    }
}

impl Drop for Carried {
    fn drop(&mut self) {
        let Some(inner) = self.0.take() else { return };
        if !inner.buf.has_pending_write() {
            return;
        }
        if !crate::runtime::context::is_entered() && !crate::blocking::pool::in_bounded_shutdown() {
            return inner.write_out_quietly();
        }
        // If no thread can be had, the closure is dropped here, and with
        // it the data is written out here: better late than lost.
        let write_out = WriteOut(inner);
        let _ = crate::loom::std::thread::Builder::new()
            .name("windlass-fs-write-out".into())
            .spawn(move || drop(write_out));
    }
}

/// Writes a file's buffered bytes out when dropped.
struct WriteOut(Inner);

impl Drop for WriteOut {
    fn drop(&mut self) {
        let _ = self.0.buf.write_out(&mut self.0.std);
    }
}

impl fmt::Debug for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = f.debug_struct("File");
        match &self.state {
            State::Idle(inner) => out.field("std", &inner.std).field("buf", &inner.buf),
            State::Busy(_) => out.field("state", &"busy"),
            State::Gone => out.field("state", &"gone"),
        };
        out.finish()
    }
}
