//! `task::Builder`: spawning with a name (asyncio's `create_task(coro,
//! name=...)`).

use crate::loom::std::sync::Arc;
use std::future::Future;
use std::panic::Location;

use super::JoinHandle;
use super::site::SpawnMeta;
use crate::runtime::Handle;

/// Spawns a task with a name, which then appears in its
/// [`JoinError`](super::JoinError), in [`Handle::dump`](crate::runtime::Handle::dump),
/// in debug-mode reports and in the report of a panic inside it.
///
/// Every spawn records where it was called from (no allocation); a name
/// costs one small allocation at spawn, freed with the task.
///
/// ```
/// use windlass::task;
///
/// windlass::Runtime::new().unwrap().block_on(async {
///     let fetch = task::Builder::new()
///         .name("fetch br")
///         .spawn(async { task::name().as_deref().map(String::from) });
///     assert_eq!(fetch.name(), Some("fetch br"));
///     assert_eq!(fetch.await.unwrap().as_deref(), Some("fetch br"));
///
///     let read = task::Builder::new().name("read config").spawn_blocking(|| 42);
///     assert_eq!(read.name(), Some("read config"));
///     assert_eq!(read.await.unwrap(), 42);
/// });
/// ```
#[derive(Clone, Debug, Default)]
#[must_use = "a task::Builder does nothing until one of its spawn methods is called"]
pub struct Builder {
    name: Option<Arc<str>>,
}

impl Builder {
    /// A builder for an unnamed task.
    ///
    /// ```
    /// windlass::Runtime::new().unwrap().block_on(async {
    ///     let task = windlass::task::Builder::new().spawn(async { 1 });
    ///     assert_eq!(task.name(), None);
    ///     assert_eq!(task.await.unwrap(), 1);
    /// });
    /// ```
    pub fn new() -> Builder {
        Builder::default()
    }

    /// Names the task. Any string is accepted; control characters are
    /// escaped wherever windlass prints the name.
    ///
    /// ```
    /// windlass::Runtime::new().unwrap().block_on(async {
    ///     let task = windlass::task::Builder::new().name("poll feed").spawn(async {});
    ///     assert_eq!(task.name(), Some("poll feed"));
    /// });
    /// ```
    pub fn name(mut self, name: impl AsRef<str>) -> Builder {
        self.name = Some(Arc::from(name.as_ref()));
        self
    }

    #[track_caller]
    fn meta(&self) -> SpawnMeta {
        SpawnMeta {
            location: Location::caller(),
            name: self.name.clone(),
            parent: None,
        }
    }

    /// Spawns `future` onto the current runtime, as [`crate::spawn`] does
    /// (and panics outside a runtime as it does).
    ///
    /// ```
    /// windlass::Runtime::new().unwrap().block_on(async {
    ///     let task = windlass::task::Builder::new().name("adder").spawn(async { 2 + 2 });
    ///     assert_eq!(task.await.unwrap(), 4);
    /// });
    /// ```
    #[track_caller]
    pub fn spawn<F>(self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let meta = self.meta();
        match Handle::try_current() {
            Ok(handle) => handle.spawn_with(future, meta),
            Err(_) => panic!(
                "windlass::task::Builder::spawn called outside a windlass runtime; call it from a task or inside \
                 Runtime::block_on, enter a runtime with Runtime::enter(), or use Builder::spawn_on(future, &handle)"
            ),
        }
    }

    /// Spawns `future` onto the runtime of `handle`, from any thread, as
    /// [`Handle::spawn`] does.
    ///
    /// ```
    /// let rt = windlass::Runtime::new().unwrap();
    /// let task = windlass::task::Builder::new()
    ///     .name("from main")
    ///     .spawn_on(async { "hi" }, rt.handle());
    /// assert_eq!(rt.block_on(task).unwrap(), "hi");
    /// ```
    #[track_caller]
    pub fn spawn_on<F>(self, future: F, handle: &Handle) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        handle.spawn_with(future, self.meta())
    }

    /// Runs `f` on the current runtime's blocking pool, as
    /// [`crate::spawn_blocking`] does.
    ///
    /// ```
    /// windlass::Runtime::new().unwrap().block_on(async {
    ///     let task = windlass::task::Builder::new().name("hash").spawn_blocking(|| 7 * 6);
    ///     assert_eq!(task.await.unwrap(), 42);
    /// });
    /// ```
    #[track_caller]
    pub fn spawn_blocking<F, R>(self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let meta = self.meta();
        match Handle::try_current() {
            Ok(handle) => handle.blocking_pool().spawn_with(f, meta),
            Err(_) => panic!(
                "windlass::task::Builder::spawn_blocking called outside a windlass runtime; call it from a task or \
                 inside Runtime::block_on / Runtime::enter, or use Builder::spawn_blocking_on(f, &handle)"
            ),
        }
    }

    /// Runs `f` on the blocking pool of `handle`'s runtime, from any thread.
    ///
    /// ```
    /// let rt = windlass::Runtime::new().unwrap();
    /// let task = windlass::task::Builder::new()
    ///     .name("checksum")
    ///     .spawn_blocking_on(|| 1 + 1, rt.handle());
    /// assert_eq!(rt.block_on(task).unwrap(), 2);
    /// ```
    #[track_caller]
    pub fn spawn_blocking_on<F, R>(self, f: F, handle: &Handle) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        handle.blocking_pool().spawn_with(f, self.meta())
    }
}
