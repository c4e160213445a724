//! [`OpenOptions`]: how to open a [`File`].

use std::io;
use std::path::Path;

use super::{File, asyncify};

/// Options for opening a [`File`]: the flags of [`std::fs::OpenOptions`],
/// with an async [`open`](Self::open).
///
/// Platform options (`mode`, `custom_flags`, ...) are set on a
/// `std::fs::OpenOptions` through its extension traits and brought over
/// with `From`.
///
/// ```
/// use futures_lite::AsyncWriteExt;
/// use windlass::fs::OpenOptions;
///
/// # let rt = windlass::Runtime::new().unwrap();
/// # rt.block_on(async {
/// let path = std::env::temp_dir().join(format!("windlass-doc-open-options-{}", std::process::id()));
/// let mut file = OpenOptions::new().write(true).create_new(true).open(&path).await?;
/// file.write_all(b"new").await?;
/// file.flush().await?;
/// // A second create_new fails: the file exists.
/// let again = OpenOptions::new().write(true).create_new(true).open(&path).await;
/// assert_eq!(again.unwrap_err().kind(), std::io::ErrorKind::AlreadyExists);
/// windlass::fs::remove_file(&path).await?;
/// # std::io::Result::Ok(())
/// # }).unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct OpenOptions(std::fs::OpenOptions);

impl OpenOptions {
    /// All flags off; set at least one of read, write or append.
    ///
    /// ```
    /// let options = windlass::fs::OpenOptions::new();
    /// # let _ = options;
    /// ```
    pub fn new() -> OpenOptions {
        OpenOptions(std::fs::OpenOptions::new())
    }

    /// Open for reading.
    ///
    /// ```
    /// let mut options = windlass::fs::OpenOptions::new();
    /// options.read(true);
    /// ```
    pub fn read(&mut self, read: bool) -> &mut OpenOptions {
        self.0.read(read);
        self
    }

    /// Open for writing.
    ///
    /// ```
    /// let mut options = windlass::fs::OpenOptions::new();
    /// options.write(true);
    /// ```
    pub fn write(&mut self, write: bool) -> &mut OpenOptions {
        self.0.write(write);
        self
    }

    /// Open for appending: every write goes to the end of the file.
    ///
    /// ```
    /// let mut options = windlass::fs::OpenOptions::new();
    /// options.append(true);
    /// ```
    pub fn append(&mut self, append: bool) -> &mut OpenOptions {
        self.0.append(append);
        self
    }

    /// Truncate the file to 0 bytes when opening it (needs write).
    ///
    /// ```
    /// let mut options = windlass::fs::OpenOptions::new();
    /// options.write(true).truncate(true);
    /// ```
    pub fn truncate(&mut self, truncate: bool) -> &mut OpenOptions {
        self.0.truncate(truncate);
        self
    }

    /// Create the file if it does not exist (needs write or append).
    ///
    /// ```
    /// let mut options = windlass::fs::OpenOptions::new();
    /// options.write(true).create(true);
    /// ```
    pub fn create(&mut self, create: bool) -> &mut OpenOptions {
        self.0.create(create);
        self
    }

    /// Create the file, failing with `AlreadyExists` if it exists (needs
    /// write or append; `create` and `truncate` are then ignored).
    ///
    /// ```
    /// let mut options = windlass::fs::OpenOptions::new();
    /// options.write(true).create_new(true);
    /// ```
    pub fn create_new(&mut self, create_new: bool) -> &mut OpenOptions {
        self.0.create_new(create_new);
        self
    }

    /// Opens `path` with these options on the blocking pool.
    ///
    /// ```
    /// use futures_lite::AsyncReadExt;
    ///
    /// # let rt = windlass::Runtime::new().unwrap();
    /// # rt.block_on(async {
    /// let path = std::env::temp_dir().join(format!("windlass-doc-options-open-{}", std::process::id()));
    /// windlass::fs::write(&path, "read me").await?;
    /// let mut file = windlass::fs::OpenOptions::new().read(true).open(&path).await?;
    /// let mut text = String::new();
    /// file.read_to_string(&mut text).await?;
    /// assert_eq!(text, "read me");
    /// windlass::fs::remove_file(&path).await?;
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub async fn open(&self, path: impl AsRef<Path>) -> io::Result<File> {
        let (options, path) = (self.0.clone(), path.as_ref().to_owned());
        asyncify(move || options.open(path))
            .await
            .map(File::from_std)
    }
}

impl Default for OpenOptions {
    fn default() -> OpenOptions {
        OpenOptions::new()
    }
}

impl From<std::fs::OpenOptions> for OpenOptions {
    /// Keeps every flag of the std options, platform ones included.
    ///
    /// ```
    /// # let rt = windlass::Runtime::new().unwrap();
    /// # rt.block_on(async {
    /// let path = std::env::temp_dir().join(format!("windlass-doc-options-from-{}", std::process::id()));
    /// let mut std_options = std::fs::OpenOptions::new();
    /// std_options.write(true).create(true);
    /// // Platform flags (e.g. `std::os::unix::fs::OpenOptionsExt::mode`) go here.
    /// let file = windlass::fs::OpenOptions::from(std_options).open(&path).await?;
    /// drop(file);
    /// windlass::fs::remove_file(&path).await?;
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    fn from(options: std::fs::OpenOptions) -> OpenOptions {
        OpenOptions(options)
    }
}
