//! Task ids.

use std::fmt;
use std::num::NonZeroU64;

/// A task's id: unique among all tasks of the process for its lifetime.
///
/// Returned by [`JoinHandle::id`](crate::task::JoinHandle::id) and, inside a
/// task, by [`task::id()`](crate::task::id).
///
/// ```
/// let rt = windlass::Runtime::new().unwrap();
/// let handle = rt.spawn(async { windlass::task::id() });
/// let id = handle.id();
/// assert_eq!(rt.block_on(handle).unwrap(), id);
/// ```
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, PartialOrd, Ord)]
pub struct Id(NonZeroU64);

impl Id {
    pub(crate) fn next() -> Id {
        // Outside the loom model even under loom; see `loom::task_id`.
        let id = crate::loom::task_id::next();
        Id(NonZeroU64::new(id).expect("task id counter overflowed"))
    }

    /// The id as a number (never 0), for logs and metrics keys.
    ///
    /// ```
    /// let rt = windlass::Runtime::new().unwrap();
    /// let (a, b) = (rt.spawn(async {}), rt.spawn(async {}));
    /// assert_ne!(a.id().as_u64(), b.id().as_u64());
    /// assert_eq!(a.id().to_string(), a.id().as_u64().to_string());
    /// ```
    pub fn as_u64(self) -> u64 {
        self.0.get()
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}
