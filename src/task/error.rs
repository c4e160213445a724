//! `JoinError`: why a task produced no output.

use std::any::Any;
use std::fmt;

use crate::loom::std::sync::Arc;
use std::panic::Location;

use super::core::Header;
use super::id::Id;
use super::site::Describe;
use crate::loom::sync::Mutex;

/// A task ended without producing its output: it was cancelled (aborted, or
/// its runtime shut down), or it panicked.
///
/// ```
/// let rt = windlass::Runtime::new().unwrap();
/// let err = rt.block_on(rt.spawn(async { panic!("boom") })).unwrap_err();
/// assert!(err.is_panic());
/// assert_eq!(*err.into_panic().downcast::<&str>().unwrap(), "boom");
/// ```
pub struct JoinError {
    id: Id,
    /// The task's name, if it was given one.
    name: Option<Arc<str>>,
    /// Where the task was spawned.
    location: &'static Location<'static>,
    repr: Repr,
}

enum Repr {
    Cancelled,
    /// In a mutex so that `JoinError` is `Sync` although the payload is not.
    Panic(Mutex<Box<dyn Any + Send + 'static>>),
}

impl JoinError {
    pub(crate) fn cancelled(task: &Header) -> JoinError {
        JoinError::new(task, Repr::Cancelled)
    }

    pub(crate) fn panic(task: &Header, payload: Box<dyn Any + Send + 'static>) -> JoinError {
        JoinError::new(task, Repr::Panic(Mutex::new(payload)))
    }

    fn new(task: &Header, repr: Repr) -> JoinError {
        JoinError {
            id: task.id,
            name: task.site.name().cloned(),
            location: task.site.location(),
            repr,
        }
    }

    fn describe(&self) -> Describe<'_> {
        Describe {
            id: self.id,
            name: self.name.as_deref(),
            location: self.location,
        }
    }

    /// True if the task was cancelled by `abort()` or by runtime shutdown.
    ///
    /// ```
    /// windlass::Runtime::new().unwrap().block_on(async {
    ///     let task = windlass::spawn(std::future::pending::<()>());
    ///     task.abort();
    ///     let err = task.await.unwrap_err();
    ///     assert!(err.is_cancelled() && !err.is_panic());
    /// });
    /// ```
    pub fn is_cancelled(&self) -> bool {
        matches!(self.repr, Repr::Cancelled)
    }

    /// True if the task panicked.
    ///
    /// ```
    /// windlass::Runtime::new().unwrap().block_on(async {
    ///     let err = windlass::spawn(async { panic!("oops") }).await.unwrap_err();
    ///     assert!(err.is_panic() && !err.is_cancelled());
    ///     assert!(err.to_string().contains("oops"));
    /// });
    /// ```
    pub fn is_panic(&self) -> bool {
        matches!(self.repr, Repr::Panic(_))
    }

    /// The panic payload. Panics if the task was cancelled; use
    /// [`try_into_panic`](Self::try_into_panic) to handle both.
    ///
    /// Pass it to [`std::panic::resume_unwind`] to carry the task's panic
    /// on in the awaiting code, or downcast it to read the message:
    ///
    /// ```
    /// windlass::Runtime::new().unwrap().block_on(async {
    ///     let n = 7;
    ///     let err = windlass::spawn(async move { panic!("bad input {n}") }).await.unwrap_err();
    ///     let payload = err.into_panic();
    ///     assert_eq!(payload.downcast_ref::<String>().unwrap(), "bad input 7");
    /// });
    /// ```
    #[track_caller]
    pub fn into_panic(self) -> Box<dyn Any + Send + 'static> {
        self.try_into_panic()
            .expect("windlass: `JoinError::into_panic` called on a cancelled task; check `is_panic()` first")
    }

    /// The panic payload, or the error back if the task was cancelled.
    ///
    /// ```
    /// windlass::Runtime::new().unwrap().block_on(async {
    ///     let task = windlass::spawn(std::future::pending::<()>());
    ///     task.abort();
    ///     let err = task.await.unwrap_err();
    ///     let err = err.try_into_panic().unwrap_err(); // not a panic: the error comes back
    ///     assert!(err.is_cancelled());
    /// });
    /// ```
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send + 'static>, JoinError> {
        match self.repr {
            Repr::Panic(p) => Ok(p.into_inner()),
            Repr::Cancelled => Err(self),
        }
    }

    /// The id of the task that failed: match it to the
    /// [`JoinHandle::id`](crate::task::JoinHandle::id) it came from.
    ///
    /// ```
    /// windlass::Runtime::new().unwrap().block_on(async {
    ///     let task = windlass::spawn(async { panic!("oops") });
    ///     let id = task.id();
    ///     assert_eq!(task.await.unwrap_err().id(), id);
    /// });
    /// ```
    pub fn id(&self) -> Id {
        self.id
    }

    /// The name the task was given at spawn
    /// ([`task::Builder::name`](crate::task::Builder::name)), if any.
    ///
    /// ```
    /// windlass::Runtime::new().unwrap().block_on(async {
    ///     let task = windlass::task::Builder::new()
    ///         .name("fetch br")
    ///         .spawn(async { panic!("no route") });
    ///     let err = task.await.unwrap_err();
    ///     assert_eq!(err.name(), Some("fetch br"));
    ///     assert!(err.to_string().starts_with("task 'fetch br' (id "));
    /// });
    /// ```
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Where the task was spawned: the caller of `spawn` (every spawn
    /// function is `#[track_caller]`).
    ///
    /// ```
    /// windlass::Runtime::new().unwrap().block_on(async {
    ///     let task = windlass::spawn(std::future::pending::<()>()); let line = line!();
    ///     task.abort();
    ///     let err = task.await.unwrap_err();
    ///     assert_eq!(err.spawned_at().line(), line);
    ///     assert!(err.to_string().contains(&format!("spawned at {}", err.spawned_at())));
    /// });
    /// ```
    pub fn spawned_at(&self) -> &'static Location<'static> {
        self.location
    }
}

/// The panic message, when the payload is a string.
fn panic_message(payload: &(dyn Any + Send)) -> Option<&str> {
    payload
        .downcast_ref::<&'static str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let task = self.describe();
        match &self.repr {
            Repr::Cancelled => write!(f, "task {task} was cancelled"),
            Repr::Panic(p) => match panic_message(&**p.lock()) {
                Some(msg) => write!(f, "task {task} panicked with message {msg:?}"),
                None => write!(f, "task {task} panicked"),
            },
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let task = self.describe();
        match &self.repr {
            Repr::Cancelled => write!(f, "JoinError::Cancelled(task {task})"),
            Repr::Panic(p) => match panic_message(&**p.lock()) {
                Some(msg) => write!(f, "JoinError::Panic(task {task}, {msg:?})"),
                None => write!(f, "JoinError::Panic(task {task}, ..)"),
            },
        }
    }
}

impl std::error::Error for JoinError {}

impl From<JoinError> for std::io::Error {
    fn from(err: JoinError) -> std::io::Error {
        let kind = if err.is_cancelled() {
            std::io::ErrorKind::Interrupted
        } else {
            std::io::ErrorKind::Other
        };
        std::io::Error::new(kind, err.to_string())
    }
}
