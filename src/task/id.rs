//! Task ids.

use std::fmt;
use std::num::NonZeroU64;

/// A task's id: unique among all tasks of the process for its lifetime.
///
/// Ids of tasks spawned from one thread increase in spawn order; ids of
/// tasks spawned from different threads follow no order (each thread takes
/// ids from the process in blocks of 1,024, so a spawn costs no write to a
/// line that other threads write).
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

#[cfg(all(test, not(loom)))]
mod tests {
    use super::Id;
    use std::collections::HashSet;

    /// Ids taken in blocks per thread stay unique across threads and
    /// across block boundaries, and increase within a thread.
    #[test]
    fn ids_are_unique_across_threads_and_blocks() {
        let per_thread = 3 * 1024 + 7; // crosses three block boundaries
        let threads: Vec<_> = (0..4)
            .map(|_| {
                std::thread::spawn(move || {
                    (0..per_thread)
                        .map(|_| Id::next().as_u64())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut all = HashSet::new();
        for t in threads {
            let ids = t.join().unwrap();
            assert!(
                ids.windows(2).all(|w| w[0] < w[1]),
                "increasing in one thread"
            );
            for id in ids {
                assert!(all.insert(id), "id {id} handed out twice");
            }
        }
        assert_eq!(all.len(), 4 * per_thread);
    }

    /// A spawn from a thread-local destructor still gets a fresh id: the
    /// thread's block has no destructor of its own, so it is still there.
    #[test]
    fn ids_from_a_thread_local_destructor_are_unique() {
        struct TakeOnDrop(std::sync::mpsc::Sender<u64>);
        impl Drop for TakeOnDrop {
            fn drop(&mut self) {
                let _ = self.0.send(Id::next().as_u64());
            }
        }
        std::thread_local! {
            static LATE: std::cell::RefCell<Option<TakeOnDrop>> = const { std::cell::RefCell::new(None) };
        }
        let (tx, rx) = std::sync::mpsc::channel();
        let early = std::thread::spawn(move || {
            let first = Id::next().as_u64();
            LATE.with(|late| *late.borrow_mut() = Some(TakeOnDrop(tx)));
            first
        })
        .join()
        .unwrap();
        let late = rx.recv().expect("the destructor ran and took an id");
        assert_ne!(early, late);
        assert_ne!(late, Id::next().as_u64());
    }
}
