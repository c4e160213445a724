//! [`ReadDir`] and [`DirEntry`]: listing a directory.
//!
//! The std iterator moves to the blocking pool together with a batch queue;
//! one blocking call reads up to [`BATCH`] entries, and the async side hands
//! them out one by one before it asks for more. `read_dir` itself fetches
//! the first batch in the same blocking call that opens the directory, so a
//! small directory costs one trip to the pool.

use crate::loom::std::sync::Arc;
use std::collections::VecDeque;
use std::ffi::OsString;
use std::fs::{FileType, Metadata};
use std::future::{Future, poll_fn};
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures_core::Stream;

use super::asyncify;
use crate::task::JoinHandle;

/// Entries read per blocking call.
///
/// Why 32: one trip to the blocking pool per entry would cost more than
/// reading it; 32 entries make that trip small next to the work while a
/// caller that stops after the first few entries wastes little.
const BATCH: usize = 32;

/// Returns a stream over the entries in a directory, like
/// [`std::fs::read_dir`]: aiofiles' `aiofiles.os.scandir`.
///
/// Entries come in no particular order and do not include `.` or `..`.
/// Errors opening the directory come from this call; errors reading an
/// entry come as items of the stream.
///
/// ```
/// use futures_lite::StreamExt;
///
/// # let rt = windlass::Runtime::new().unwrap();
/// # rt.block_on(async {
/// let dir = std::env::temp_dir().join(format!("windlass-doc-read-dir-{}", std::process::id()));
/// windlass::fs::create_dir_all(dir.join("sub")).await?;
/// windlass::fs::write(dir.join("a.txt"), "a").await?;
///
/// let mut names: Vec<_> = windlass::fs::read_dir(&dir)
///     .await?
///     .map(|entry| entry.map(|e| e.file_name()))
///     .try_collect::<_, _, Vec<_>>()
///     .await?;
/// names.sort();
/// assert_eq!(names, ["a.txt", "sub"]);
/// windlass::fs::remove_dir_all(&dir).await?;
/// # std::io::Result::Ok(())
/// # }).unwrap();
/// ```
pub async fn read_dir(path: impl AsRef<Path>) -> io::Result<ReadDir> {
    let path = path.as_ref().to_owned();
    let batch = asyncify(move || {
        let mut batch = Batch {
            iter: Some(std::fs::read_dir(path)?),
            entries: VecDeque::new(),
        };
        batch.fetch();
        Ok(batch)
    })
    .await?;
    Ok(ReadDir {
        state: State::Idle(batch),
    })
}

/// The entries of a directory, from [`read_dir`]: a
/// [`Stream`] of `io::Result<DirEntry>`, or call
/// [`next_entry`](Self::next_entry).
///
/// Reading needs a current runtime (entries are fetched on its blocking
/// pool, a batch at a time).
///
/// ```
/// # let rt = windlass::Runtime::new().unwrap();
/// # rt.block_on(async {
/// let dir = std::env::temp_dir().join(format!("windlass-doc-readdir-type-{}", std::process::id()));
/// windlass::fs::create_dir(&dir).await?;
/// windlass::fs::write(dir.join("only"), "x").await?;
/// let mut entries = windlass::fs::read_dir(&dir).await?;
/// let entry = entries.next_entry().await?.unwrap();
/// assert_eq!(entry.file_name(), "only");
/// assert!(entries.next_entry().await?.is_none());
/// windlass::fs::remove_dir_all(&dir).await?;
/// # std::io::Result::Ok(())
/// # }).unwrap();
/// ```
#[derive(Debug)]
pub struct ReadDir {
    state: State,
}

#[derive(Debug)]
enum State {
    /// The next batch is here (maybe empty).
    Idle(Batch),
    /// A blocking call is reading the next batch.
    Busy(JoinHandle<Batch>),
}

/// What moves to the pool and back: the std iterator and the entries read.
#[derive(Debug)]
struct Batch {
    /// `None` once the std iterator is done.
    iter: Option<std::fs::ReadDir>,
    /// Read and not yet handed out.
    entries: VecDeque<io::Result<DirEntry>>,
}

impl Batch {
    /// Reads up to `BATCH` entries (blocking).
    fn fetch(&mut self) {
        let Some(iter) = &mut self.iter else { return };
        while self.entries.len() < BATCH {
            match iter.next() {
                Some(entry) => self.entries.push_back(entry.map(DirEntry::new)),
                None => {
                    self.iter = None;
                    break;
                }
            }
        }
    }
}

impl ReadDir {
    /// The next entry, or `None` at the end.
    ///
    /// ```
    /// # let rt = windlass::Runtime::new().unwrap();
    /// # rt.block_on(async {
    /// let dir = std::env::temp_dir().join(format!("windlass-doc-next-entry-{}", std::process::id()));
    /// windlass::fs::create_dir(&dir).await?;
    /// for name in ["x", "y", "z"] {
    ///     windlass::fs::write(dir.join(name), name).await?;
    /// }
    /// let mut entries = windlass::fs::read_dir(&dir).await?;
    /// let mut count = 0;
    /// while let Some(entry) = entries.next_entry().await? {
    ///     assert!(entry.file_type().await?.is_file());
    ///     count += 1;
    /// }
    /// assert_eq!(count, 3);
    /// windlass::fs::remove_dir_all(&dir).await?;
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub async fn next_entry(&mut self) -> io::Result<Option<DirEntry>> {
        poll_fn(|cx| self.poll_next_entry(cx)).await
    }

    /// Polls for the next entry: `Ok(None)` at the end.
    ///
    /// ```
    /// use std::future::poll_fn;
    ///
    /// # let rt = windlass::Runtime::new().unwrap();
    /// # rt.block_on(async {
    /// let dir = std::env::temp_dir().join(format!("windlass-doc-poll-next-{}", std::process::id()));
    /// windlass::fs::create_dir(&dir).await?;
    /// let mut entries = windlass::fs::read_dir(&dir).await?;
    /// assert!(poll_fn(|cx| entries.poll_next_entry(cx)).await?.is_none());
    /// windlass::fs::remove_dir(&dir).await?;
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub fn poll_next_entry(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Option<DirEntry>>> {
        loop {
            match &mut self.state {
                State::Idle(batch) => {
                    if let Some(entry) = batch.entries.pop_front() {
                        return Poll::Ready(entry.map(Some));
                    }
                    if batch.iter.is_none() {
                        return Poll::Ready(Ok(None));
                    }
                    let mut batch = std::mem::replace(
                        batch,
                        Batch {
                            iter: None,
                            entries: VecDeque::new(),
                        },
                    );
                    self.state = State::Busy(crate::spawn_blocking(move || {
                        batch.fetch();
                        batch
                    }));
                }
                State::Busy(handle) => match ready!(Pin::new(handle).poll(cx)) {
                    Ok(batch) => self.state = State::Idle(batch),
                    Err(join) => {
                        // The iterator went with the task: the listing ends here.
                        self.state = State::Idle(Batch {
                            iter: None,
                            entries: VecDeque::new(),
                        });
                        return Poll::Ready(Err(join.into()));
                    }
                },
            }
        }
    }
}

impl Stream for ReadDir {
    type Item = io::Result<DirEntry>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_next_entry(cx).map(Result::transpose)
    }
}

/// An entry of a directory listing, from [`ReadDir`].
///
/// ```
/// # let rt = windlass::Runtime::new().unwrap();
/// # rt.block_on(async {
/// let dir = std::env::temp_dir().join(format!("windlass-doc-dir-entry-{}", std::process::id()));
/// windlass::fs::create_dir(&dir).await?;
/// windlass::fs::write(dir.join("five"), "12345").await?;
/// let entry = windlass::fs::read_dir(&dir).await?.next_entry().await?.unwrap();
/// assert_eq!(entry.path(), dir.join("five"));
/// assert_eq!(entry.metadata().await?.len(), 5);
/// windlass::fs::remove_dir_all(&dir).await?;
/// # std::io::Result::Ok(())
/// # }).unwrap();
/// ```
#[derive(Debug)]
pub struct DirEntry {
    std: Arc<std::fs::DirEntry>,
    /// The file type, when reading it during the listing worked (on most
    /// Unix systems it comes with the entry at no extra cost).
    file_type: Option<FileType>,
}

impl DirEntry {
    /// Runs on the pool, in `Batch::fetch`.
    fn new(std: std::fs::DirEntry) -> DirEntry {
        let file_type = std.file_type().ok();
        DirEntry {
            std: Arc::new(std),
            file_type,
        }
    }

    /// The full path: the `read_dir` argument joined with the file name.
    ///
    /// ```
    /// # let rt = windlass::Runtime::new().unwrap();
    /// # rt.block_on(async {
    /// let dir = std::env::temp_dir().join(format!("windlass-doc-entry-path-{}", std::process::id()));
    /// windlass::fs::create_dir(&dir).await?;
    /// windlass::fs::write(dir.join("f"), "").await?;
    /// let entry = windlass::fs::read_dir(&dir).await?.next_entry().await?.unwrap();
    /// assert_eq!(entry.path(), dir.join("f"));
    /// windlass::fs::remove_dir_all(&dir).await?;
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub fn path(&self) -> PathBuf {
        self.std.path()
    }

    /// The bare file name, without the directory.
    ///
    /// ```
    /// # let rt = windlass::Runtime::new().unwrap();
    /// # rt.block_on(async {
    /// let dir = std::env::temp_dir().join(format!("windlass-doc-entry-name-{}", std::process::id()));
    /// windlass::fs::create_dir(&dir).await?;
    /// windlass::fs::write(dir.join("name.txt"), "").await?;
    /// let entry = windlass::fs::read_dir(&dir).await?.next_entry().await?.unwrap();
    /// assert_eq!(entry.file_name(), "name.txt");
    /// windlass::fs::remove_dir_all(&dir).await?;
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub fn file_name(&self) -> OsString {
        self.std.file_name()
    }

    /// Metadata of the entry, not following a symlink (like
    /// [`std::fs::DirEntry::metadata`]); read on the blocking pool.
    ///
    /// ```
    /// # let rt = windlass::Runtime::new().unwrap();
    /// # rt.block_on(async {
    /// let dir = std::env::temp_dir().join(format!("windlass-doc-entry-meta-{}", std::process::id()));
    /// windlass::fs::create_dir(&dir).await?;
    /// windlass::fs::write(dir.join("three"), "abc").await?;
    /// let entry = windlass::fs::read_dir(&dir).await?.next_entry().await?.unwrap();
    /// assert_eq!(entry.metadata().await?.len(), 3);
    /// windlass::fs::remove_dir_all(&dir).await?;
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub async fn metadata(&self) -> io::Result<Metadata> {
        let std = self.std.clone();
        asyncify(move || std.metadata()).await
    }

    /// The entry's file type, not following a symlink. Usually known from
    /// the listing already; otherwise read on the blocking pool.
    ///
    /// ```
    /// # let rt = windlass::Runtime::new().unwrap();
    /// # rt.block_on(async {
    /// let dir = std::env::temp_dir().join(format!("windlass-doc-entry-type-{}", std::process::id()));
    /// windlass::fs::create_dir_all(dir.join("inner")).await?;
    /// let entry = windlass::fs::read_dir(&dir).await?.next_entry().await?.unwrap();
    /// assert!(entry.file_type().await?.is_dir());
    /// windlass::fs::remove_dir_all(&dir).await?;
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub async fn file_type(&self) -> io::Result<FileType> {
        if let Some(file_type) = self.file_type {
            return Ok(file_type);
        }
        let std = self.std.clone();
        asyncify(move || std.file_type()).await
    }
}
