//! Async file system access on the blocking pool: windlass's aiofiles.
//!
//! Operating systems offer no portable non-blocking file I/O, so every
//! function here runs its [`std::fs`] call on the runtime's blocking pool
//! (through [`spawn_blocking`](crate::spawn_blocking)) and awaits the
//! result; the worker threads go on running tasks meanwhile. A call costs a
//! trip to the pool, so prefer few large operations ([`read`], [`write()`],
//! or a [`File`] with its 64 KiB buffer) over many small ones.
//!
//! | aiofiles / Python | windlass |
//! |---|---|
//! | `async with aiofiles.open(p) as f: await f.read()` | [`File::open`] + `AsyncReadExt::read_to_end`, or [`read`] / [`read_to_string`] |
//! | `aiofiles.open(p, "w")` / `"a"` / `"x"` | [`File::create`], [`File::options`]`().append(true)`, `.create_new(true)` |
//! | `await f.write(b)`, `await f.flush()` | `AsyncWriteExt::write_all`, `AsyncWriteExt::flush` |
//! | `await f.seek(n)`, `await f.tell()` | `AsyncSeekExt::seek(SeekFrom::Start(n))`, `seek(SeekFrom::Current(0))` |
//! | `aiofiles.os.stat`, `rename`, `remove`, `mkdir`, `makedirs`, `rmdir`, `scandir` | [`metadata`], [`rename`], [`remove_file`], [`create_dir`], [`create_dir_all`], [`remove_dir`], [`read_dir`] |
//! | `aiofiles.os.path.exists` | [`try_exists`] (an error when it cannot tell, instead of `False`) |
//! | `shutil.copyfile`, `shutil.rmtree`, `os.path.realpath` | [`copy`], [`remove_dir_all`], [`canonicalize`] |
//!
//! (`AsyncReadExt` and friends are the `futures-lite` extension traits over
//! the `futures-io` traits that [`File`] implements.)
//!
//! # A runtime must be current
//!
//! Every operation spawns onto the current runtime's blocking pool: call
//! them from a task, or inside `Runtime::block_on` / `Runtime::enter`.
//! Outside a runtime, the first poll panics with `spawn_blocking`'s message.
//!
//! # Cancellation
//!
//! Dropping a future from this module does not stop its blocking call:
//! that call runs to the end and its result is dropped. A `remove_file`
//! future dropped after its first poll may still remove the file.
//!
//! # `File`: buffering, errors, seeking and drop
//!
//! A [`File`] has one buffer and runs at most one blocking operation at a
//! time; the std file and the buffer move to the pool for each one and come
//! back with it.
//!
//! - **Reads** fill the buffer with up to 64 KiB at once, then serve small
//!   reads from it. Bytes read ahead are not re-read if another process
//!   changes the file meanwhile.
//! - **Writes** are copied into the buffer and return at once. A full
//!   buffer is written out in the background, while the caller goes on.
//!   Data is only guaranteed to be in the file after `flush().await` (or
//!   `close()`, [`File::sync_all`], [`File::sync_data`], [`File::metadata`],
//!   [`File::set_len`], [`File::into_std`], or a read or a seek, which all
//!   write out first) has returned `Ok`.
//! - **Errors** of a write-out that ran in the background are returned by
//!   the next call on the file (write, flush, read, seek, ...) and are not
//!   reported again; the data of a failed write-out is dropped. Likewise,
//!   an operation whose future was dropped before it finished reports its
//!   error, if any, to the next call.
//! - **Seeking** is from where the caller is, not where the OS cursor is:
//!   `seek(SeekFrom::Current(n))` counts from the last byte handed out
//!   (bytes read ahead and not handed out are subtracted), so
//!   `seek(SeekFrom::Current(0))` is the logical position. A seek writes out
//!   pending data and drops the read buffer. If the seek fails, the
//!   position and the buffer are as before.
//! - **A write after reads** lands at the logical position too: the file is
//!   moved back over the bytes read ahead before the write goes out.
//! - **A `poll_seek` that returned `Pending`** must be polled again with the
//!   same position, as the `AsyncSeek` contract asks. If a seek future is
//!   dropped and a new, identical seek issued right away, that new seek
//!   returns the result of the dropped one instead of seeking again: this
//!   only matters for a relative seek (`SeekFrom::Current`).
//! - **Dropping a `File`** never blocks a worker. An operation in flight
//!   runs to the end on the pool. Data still in the buffer is written out:
//!   on the blocking pool in the background when a runtime is current
//!   (nothing orders that write before later operations on the same path,
//!   and its error is lost), or right away on the dropping thread when none
//!   is (a plain thread may block) or the runtime is shutting down. A
//!   write-out that the runtime's shutdown cancels before a pool thread
//!   takes it (a dropped `File`'s, or one in flight) is not lost: the
//!   thread that cancels it writes the data out if it may wait (a plain
//!   thread dropping the runtime), else a thread started for it does (a
//!   runtime thread, or `shutdown_background` / `shutdown_timeout`, which
//!   do not wait for it; nor does the process's exit). Flush before
//!   dropping to know the data is written and to see errors.
//! - Closing (`close().await`) only flushes; the OS file is closed when the
//!   `File` is dropped.
//!
//! ```
//! use futures_lite::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
//! use std::io::SeekFrom;
//! use windlass::fs::{self, File};
//!
//! # let rt = windlass::Runtime::new().unwrap();
//! # rt.block_on(async {
//! let path = std::env::temp_dir().join(format!("windlass-doc-fs-{}", std::process::id()));
//! fs::write(&path, "Hello, world").await?;
//!
//! let mut file = File::options().read(true).write(true).open(&path).await?;
//! let mut hello = [0; 5];
//! file.read_exact(&mut hello).await?; // the buffer holds the whole file now
//! assert_eq!(file.seek(SeekFrom::Current(0)).await?, 5);
//! file.write_all(b"!").await?; // lands at byte 5, not at the end
//! file.flush().await?;
//! assert_eq!(fs::read_to_string(&path).await?, "Hello! world");
//! fs::remove_file(&path).await?;
//! # std::io::Result::Ok(())
//! # }).unwrap();
//! ```

mod buf;
mod file;
mod open_options;
mod read_dir;

use std::fs::Metadata;
use std::io;
use std::path::{Path, PathBuf};

pub use file::File;
pub use open_options::OpenOptions;
pub use read_dir::{DirEntry, ReadDir, read_dir};

/// Runs `f` on the current runtime's blocking pool; a cancelled or
/// panicked task becomes an `io::Error`.
async fn asyncify<F, T>(f: F) -> io::Result<T>
where
    F: FnOnce() -> io::Result<T> + Send + 'static,
    T: Send + 'static,
{
    match crate::spawn_blocking(f).await {
        Ok(result) => result,
        Err(join) => Err(join.into()),
    }
}

/// Reads a whole file into a vector, like [`std::fs::read`].
///
/// ```
/// # let rt = windlass::Runtime::new().unwrap();
/// # rt.block_on(async {
/// let path = std::env::temp_dir().join(format!("windlass-doc-read-{}", std::process::id()));
/// windlass::fs::write(&path, [1, 2, 3]).await?;
/// assert_eq!(windlass::fs::read(&path).await?, [1, 2, 3]);
/// windlass::fs::remove_file(&path).await?;
/// # std::io::Result::Ok(())
/// # }).unwrap();
/// ```
pub async fn read(path: impl AsRef<Path>) -> io::Result<Vec<u8>> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::read(path)).await
}

/// Reads a whole file into a string, like [`std::fs::read_to_string`];
/// fails with [`InvalidData`](io::ErrorKind::InvalidData) if it is not
/// UTF-8.
///
/// ```
/// # let rt = windlass::Runtime::new().unwrap();
/// # rt.block_on(async {
/// let path = std::env::temp_dir().join(format!("windlass-doc-read-string-{}", std::process::id()));
/// windlass::fs::write(&path, "text").await?;
/// assert_eq!(windlass::fs::read_to_string(&path).await?, "text");
/// windlass::fs::write(&path, [0xff, 0xfe]).await?;
/// let err = windlass::fs::read_to_string(&path).await.unwrap_err();
/// assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
/// windlass::fs::remove_file(&path).await?;
/// # std::io::Result::Ok(())
/// # }).unwrap();
/// ```
pub async fn read_to_string(path: impl AsRef<Path>) -> io::Result<String> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::read_to_string(path)).await
}

/// Writes `contents` as the whole file, creating it or truncating it, like
/// [`std::fs::write`].
///
/// `contents` **moves** to the blocking pool, uncopied: pass an owned
/// buffer (`Vec<u8>`, `String`, `bytes::Bytes`, an `Arc<[u8]>`) or a
/// `'static` one (a literal). For bytes you only borrow, copy them
/// yourself (`buf.to_vec()`): the write may still be running on a pool
/// thread after this future is dropped, so it cannot borrow.
///
/// ```
/// # let rt = windlass::Runtime::new().unwrap();
/// # rt.block_on(async {
/// let path = std::env::temp_dir().join(format!("windlass-doc-write-{}", std::process::id()));
/// windlass::fs::write(&path, "first").await?;
/// windlass::fs::write(&path, b"second").await?;
/// assert_eq!(windlass::fs::read_to_string(&path).await?, "second");
/// // A big owned buffer moves to the pool thread as it is.
/// let image = vec![7u8; 1 << 20];
/// windlass::fs::write(&path, image).await?;
/// assert_eq!(windlass::fs::metadata(&path).await?.len(), 1 << 20);
/// windlass::fs::remove_file(&path).await?;
/// # std::io::Result::Ok(())
/// # }).unwrap();
/// ```
///
/// Borrowed bytes do not compile; the fix is an explicit copy:
///
/// ```compile_fail
/// # async fn f(path: std::path::PathBuf) -> std::io::Result<()> {
/// let local = vec![1u8, 2, 3];
/// windlass::fs::write(&path, &local[..]).await?; // borrowed: use `local.to_vec()` or move `local`
/// # Ok(()) }
/// ```
pub async fn write(
    path: impl AsRef<Path>,
    contents: impl AsRef<[u8]> + Send + 'static,
) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::write(path, contents)).await
}

/// Copies the contents and permissions of one file to another, like
/// [`std::fs::copy`]; returns the number of bytes copied.
///
/// ```
/// # let rt = windlass::Runtime::new().unwrap();
/// # rt.block_on(async {
/// let dir = std::env::temp_dir();
/// let (from, to) = (
///     dir.join(format!("windlass-doc-copy-from-{}", std::process::id())),
///     dir.join(format!("windlass-doc-copy-to-{}", std::process::id())),
/// );
/// windlass::fs::write(&from, "copied").await?;
/// assert_eq!(windlass::fs::copy(&from, &to).await?, 6);
/// assert_eq!(windlass::fs::read_to_string(&to).await?, "copied");
/// windlass::fs::remove_file(&from).await?;
/// windlass::fs::remove_file(&to).await?;
/// # std::io::Result::Ok(())
/// # }).unwrap();
/// ```
pub async fn copy(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<u64> {
    let (from, to) = (from.as_ref().to_owned(), to.as_ref().to_owned());
    asyncify(move || std::fs::copy(from, to)).await
}

/// Renames a file or directory, replacing `to` if the platform allows,
/// like [`std::fs::rename`].
///
/// ```
/// # let rt = windlass::Runtime::new().unwrap();
/// # rt.block_on(async {
/// let dir = std::env::temp_dir();
/// let (from, to) = (
///     dir.join(format!("windlass-doc-rename-from-{}", std::process::id())),
///     dir.join(format!("windlass-doc-rename-to-{}", std::process::id())),
/// );
/// windlass::fs::write(&from, "moved").await?;
/// windlass::fs::rename(&from, &to).await?;
/// assert!(!from.exists());
/// assert_eq!(windlass::fs::read_to_string(&to).await?, "moved");
/// windlass::fs::remove_file(&to).await?;
/// # std::io::Result::Ok(())
/// # }).unwrap();
/// ```
pub async fn rename(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<()> {
    let (from, to) = (from.as_ref().to_owned(), to.as_ref().to_owned());
    asyncify(move || std::fs::rename(from, to)).await
}

/// Removes a file, like [`std::fs::remove_file`].
///
/// ```
/// # let rt = windlass::Runtime::new().unwrap();
/// # rt.block_on(async {
/// let path = std::env::temp_dir().join(format!("windlass-doc-remove-file-{}", std::process::id()));
/// windlass::fs::write(&path, "").await?;
/// windlass::fs::remove_file(&path).await?;
/// let again = windlass::fs::remove_file(&path).await.unwrap_err();
/// assert_eq!(again.kind(), std::io::ErrorKind::NotFound);
/// # std::io::Result::Ok(())
/// # }).unwrap();
/// ```
pub async fn remove_file(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::remove_file(path)).await
}

/// Removes an empty directory, like [`std::fs::remove_dir`].
///
/// ```
/// # let rt = windlass::Runtime::new().unwrap();
/// # rt.block_on(async {
/// let dir = std::env::temp_dir().join(format!("windlass-doc-remove-dir-{}", std::process::id()));
/// windlass::fs::create_dir(&dir).await?;
/// windlass::fs::remove_dir(&dir).await?;
/// assert!(!dir.exists());
/// # std::io::Result::Ok(())
/// # }).unwrap();
/// ```
pub async fn remove_dir(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::remove_dir(path)).await
}

/// Removes a directory and everything in it, like
/// [`std::fs::remove_dir_all`]. The whole walk is one blocking call.
///
/// ```
/// # let rt = windlass::Runtime::new().unwrap();
/// # rt.block_on(async {
/// let dir = std::env::temp_dir().join(format!("windlass-doc-remove-dir-all-{}", std::process::id()));
/// windlass::fs::create_dir_all(dir.join("a/b")).await?;
/// windlass::fs::write(dir.join("a/b/file"), "x").await?;
/// windlass::fs::remove_dir_all(&dir).await?;
/// assert!(!dir.exists());
/// # std::io::Result::Ok(())
/// # }).unwrap();
/// ```
pub async fn remove_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::remove_dir_all(path)).await
}

/// Creates a directory whose parent exists, like [`std::fs::create_dir`].
///
/// ```
/// # let rt = windlass::Runtime::new().unwrap();
/// # rt.block_on(async {
/// let dir = std::env::temp_dir().join(format!("windlass-doc-create-dir-{}", std::process::id()));
/// windlass::fs::create_dir(&dir).await?;
/// let again = windlass::fs::create_dir(&dir).await.unwrap_err();
/// assert_eq!(again.kind(), std::io::ErrorKind::AlreadyExists);
/// windlass::fs::remove_dir(&dir).await?;
/// # std::io::Result::Ok(())
/// # }).unwrap();
/// ```
pub async fn create_dir(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::create_dir(path)).await
}

/// Creates a directory and any missing parents, like
/// [`std::fs::create_dir_all`]; succeeds if it already exists.
///
/// ```
/// # let rt = windlass::Runtime::new().unwrap();
/// # rt.block_on(async {
/// let dir = std::env::temp_dir().join(format!("windlass-doc-create-dir-all-{}", std::process::id()));
/// windlass::fs::create_dir_all(dir.join("x/y/z")).await?;
/// windlass::fs::create_dir_all(dir.join("x/y/z")).await?;
/// assert!(windlass::fs::metadata(dir.join("x/y/z")).await?.is_dir());
/// windlass::fs::remove_dir_all(&dir).await?;
/// # std::io::Result::Ok(())
/// # }).unwrap();
/// ```
pub async fn create_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::create_dir_all(path)).await
}

/// Queries metadata, following symlinks, like [`std::fs::metadata`].
///
/// ```
/// # let rt = windlass::Runtime::new().unwrap();
/// # rt.block_on(async {
/// let path = std::env::temp_dir().join(format!("windlass-doc-metadata-{}", std::process::id()));
/// windlass::fs::write(&path, [0u8; 42]).await?;
/// let metadata = windlass::fs::metadata(&path).await?;
/// assert!(metadata.is_file());
/// assert_eq!(metadata.len(), 42);
/// windlass::fs::remove_file(&path).await?;
/// # std::io::Result::Ok(())
/// # }).unwrap();
/// ```
pub async fn metadata(path: impl AsRef<Path>) -> io::Result<Metadata> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::metadata(path)).await
}

/// Whether `path` names something that exists, like [`std::fs::exists`]:
/// `Ok(false)` only when it is known not to exist, and an error when that
/// cannot be told (permission denied on a parent directory, for example),
/// where `Path::exists` would say `false`. A broken symlink does not exist.
///
/// ```
/// # let rt = windlass::Runtime::new().unwrap();
/// # rt.block_on(async {
/// let path = std::env::temp_dir().join(format!("windlass-doc-try-exists-{}", std::process::id()));
/// assert!(!windlass::fs::try_exists(&path).await?);
/// windlass::fs::write(&path, "here").await?;
/// assert!(windlass::fs::try_exists(&path).await?);
/// windlass::fs::remove_file(&path).await?;
/// # std::io::Result::Ok(())
/// # }).unwrap();
/// ```
pub async fn try_exists(path: impl AsRef<Path>) -> io::Result<bool> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::exists(path)).await
}

/// The absolute path with every symlink and `.`/`..` resolved, like
/// [`std::fs::canonicalize`]; the path must exist.
///
/// ```
/// # let rt = windlass::Runtime::new().unwrap();
/// # rt.block_on(async {
/// let dir = std::env::temp_dir().join(format!("windlass-doc-canonicalize-{}", std::process::id()));
/// windlass::fs::create_dir_all(dir.join("sub")).await?;
/// let resolved = windlass::fs::canonicalize(dir.join("sub/..")).await?;
/// assert_eq!(resolved, windlass::fs::canonicalize(&dir).await?);
/// assert!(resolved.is_absolute());
/// windlass::fs::remove_dir_all(&dir).await?;
/// # std::io::Result::Ok(())
/// # }).unwrap();
/// ```
pub async fn canonicalize(path: impl AsRef<Path>) -> io::Result<PathBuf> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::canonicalize(path)).await
}
