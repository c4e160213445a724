//! Asynchronous I/O on any file descriptor: [`Async`].
//!
//! Re-exports the `futures-io` traits that windlass's I/O types implement,
//! so `futures-lite`'s `AsyncReadExt` / `AsyncWriteExt` helpers and other
//! runtime-agnostic crates work on them.

mod async_fd;

pub use async_fd::{Async, Readable, Writable};
pub use futures_io::{AsyncBufRead, AsyncRead, AsyncSeek, AsyncWrite};
