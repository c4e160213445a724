//! The buffer of an async [`File`](super::File) and the blocking steps that
//! move bytes between it and the std file.
//!
//! The buffer is in one of two modes:
//!
//! - **read**: `bytes[start..end]` are bytes read ahead from the file and
//!   not yet handed to the caller. The std cursor is at `end`, so the
//!   logical position (where the caller believes it is) is the std cursor
//!   minus the unread length.
//! - **write**: `bytes[..end]` are bytes the caller wrote and that are not
//!   yet in the file. They belong at the std cursor minus `rewind`: when a
//!   write replaces a read buffer with unread bytes, the cursor must first
//!   move back over them. The logical position is that spot plus `end`.
//!
//! An empty buffer (`start == end`, `rewind == 0`) means the std cursor is
//! the logical position. The async side only copies bytes in and out
//! ([`unread`](Buf::unread), [`consume`](Buf::consume),
//! [`buffer_write`](Buf::buffer_write)); every step that touches the file
//! (`write_out`, `fill`, `seek`, `settle`) runs on the blocking pool, with
//! the std file and this buffer moved into the closure.

use std::fmt;
use std::fs::File as StdFile;
use std::io::{self, Read, Seek, SeekFrom, Write};

/// Size of the buffer: the most one blocking read or write moves.
///
/// Why 64 KiB: each read or write of a `File` is a round trip to the
/// blocking pool (microseconds), so a chunk must be large enough for that
/// cost to vanish next to the copy; 64 KiB is also what Linux reads ahead by
/// default and a common pipe size, and small enough to allocate per file.
pub(super) const CAPACITY: usize = 64 * 1024;

/// What the bytes in the buffer are; see the module docs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Read,
    Write,
}

/// A file's buffer; see the module docs for the two modes.
pub(super) struct Buf {
    /// `CAPACITY` bytes once first used, empty before (a file that is only
    /// used through `metadata` or `set_len` never allocates).
    bytes: Vec<u8>,
    /// Read mode: the first unread byte. Write mode: always 0.
    start: usize,
    /// Read mode: one past the last unread byte. Write mode: the number of
    /// bytes waiting to be written.
    end: usize,
    mode: Mode,
    /// Write mode: how far before the std cursor the pending bytes belong
    /// (the unread bytes of the read buffer this write replaced). Read
    /// mode: always 0.
    rewind: u64,
}

impl fmt::Debug for Buf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.mode {
            Mode::Read => f
                .debug_struct("Buf")
                .field("unread", &(self.end - self.start))
                .finish(),
            Mode::Write => f
                .debug_struct("Buf")
                .field("pending_write", &self.end)
                .field("rewind", &self.rewind)
                .finish(),
        }
    }
}

impl Buf {
    pub(super) fn new() -> Buf {
        Buf {
            bytes: Vec::new(),
            start: 0,
            end: 0,
            mode: Mode::Read,
            rewind: 0,
        }
    }

    /// Bytes read ahead and not yet handed out (empty in write mode).
    pub(super) fn unread(&self) -> &[u8] {
        match self.mode {
            Mode::Read => &self.bytes[self.start..self.end],
            Mode::Write => &[],
        }
    }

    /// Marks `n` unread bytes as handed out.
    pub(super) fn consume(&mut self, n: usize) {
        debug_assert!(self.mode == Mode::Read && n <= self.end - self.start);
        self.start = (self.start + n).min(self.end);
    }

    /// True when written bytes wait to go to the file.
    pub(super) fn has_pending_write(&self) -> bool {
        self.mode == Mode::Write && self.end > 0
    }

    /// True when no more written bytes fit.
    pub(super) fn is_full(&self) -> bool {
        self.mode == Mode::Write && self.end == CAPACITY
    }

    /// Copies as much of `src` as fits and returns how much that was. A
    /// read buffer is dropped first, remembering to rewind over its unread
    /// bytes so the write lands at the logical position.
    pub(super) fn buffer_write(&mut self, src: &[u8]) -> usize {
        if src.is_empty() {
            return 0;
        }
        if self.mode == Mode::Read {
            self.rewind = (self.end - self.start) as u64;
            self.start = 0;
            self.end = 0;
            self.mode = Mode::Write;
        }
        self.allocate();
        let n = src.len().min(CAPACITY - self.end);
        self.bytes[self.end..self.end + n].copy_from_slice(&src[..n]);
        self.end += n;
        n
    }

    fn allocate(&mut self) {
        if self.bytes.len() < CAPACITY {
            self.bytes.resize(CAPACITY, 0);
        }
    }

    /// Back to an empty read buffer: the std cursor is the logical position.
    fn clear(&mut self) {
        self.start = 0;
        self.end = 0;
        self.mode = Mode::Read;
        self.rewind = 0;
    }

    // ---- Blocking steps: these run on the pool. ----

    /// Writes pending bytes to the file at their place. The buffer is
    /// emptied whether or not the write succeeds: after an error, how much
    /// reached the file is unknown, and the rest is dropped.
    pub(super) fn write_out(&mut self, file: &mut StdFile) -> io::Result<()> {
        if self.mode != Mode::Write {
            return Ok(());
        }
        let result = self.write_out_inner(file);
        self.clear();
        result
    }

    fn write_out_inner(&self, file: &mut StdFile) -> io::Result<()> {
        if self.rewind > 0 {
            file.seek(SeekFrom::Current(-(self.rewind as i64)))?;
        }
        file.write_all(&self.bytes[..self.end])
    }

    /// Writes out pending bytes, then reads up to `CAPACITY` bytes into the
    /// (empty) buffer. Zero bytes read means end of file.
    pub(super) fn fill(&mut self, file: &mut StdFile) -> io::Result<()> {
        self.write_out(file)?;
        debug_assert!(self.unread().is_empty());
        self.clear();
        self.allocate();
        let n = loop {
            match file.read(&mut self.bytes) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                result => break result?,
            }
        };
        self.end = n;
        Ok(())
    }

    /// Writes out pending bytes, then seeks to `pos` measured from the
    /// logical position (a relative seek subtracts the unread bytes) and
    /// drops the read buffer. If the seek fails, the buffer and the cursor
    /// are left as they were.
    pub(super) fn seek(&mut self, file: &mut StdFile, pos: SeekFrom) -> io::Result<u64> {
        self.write_out(file)?;
        let unread = self.unread().len() as i64;
        let pos = match pos {
            SeekFrom::Current(n) => SeekFrom::Current(n.checked_sub(unread).ok_or_else(|| {
                io::Error::new(io::ErrorKind::InvalidInput, "seek offset out of range")
            })?),
            other => other,
        };
        let at = file.seek(pos)?;
        self.clear();
        Ok(at)
    }

    /// Writes out pending bytes and moves the std cursor back over unread
    /// ones, so that the std cursor is the logical position and the buffer
    /// is empty.
    pub(super) fn settle(&mut self, file: &mut StdFile) -> io::Result<()> {
        self.write_out(file)?;
        let unread = self.unread().len() as i64;
        if unread > 0 {
            file.seek(SeekFrom::Current(-unread))?;
        }
        self.clear();
        Ok(())
    }
}
