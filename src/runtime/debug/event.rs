//! `DebugEvent`: what debug mode reports, as values a program can inspect.

use crate::loom::std::sync::Arc;
use std::fmt;
use std::panic::Location;
use std::time::Duration;

use crate::task::Id;
use crate::task::core::Header;
use crate::task::site::Describe;

/// A task as a debug report names it: id, name, spawn site.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use windlass::runtime::{Builder, DebugEvent};
///
/// let seen = Arc::new(Mutex::new(Vec::new()));
/// let log = seen.clone();
/// let rt = Builder::new_multi_thread()
///     .debug(true)
///     .on_debug_event(move |e| {
///         if let DebugEvent::PendingAtShutdown { task } = e {
///             log.lock().unwrap().push((task.name().map(String::from), task.spawned_at().line()));
///         }
///     })
///     .build()
///     .unwrap();
/// let stuck = windlass::task::Builder::new()
///     .name("waits forever")
///     .spawn_on(std::future::pending::<()>(), rt.handle());
/// let line = stuck.spawned_at().line();
/// drop(rt);
/// assert_eq!(*seen.lock().unwrap(), [(Some("waits forever".to_string()), line)]);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskInfo {
    id: Id,
    name: Option<Arc<str>>,
    spawned_at: &'static Location<'static>,
}

impl TaskInfo {
    pub(crate) fn of(task: &Header) -> TaskInfo {
        TaskInfo {
            id: task.id,
            name: task.site.name().cloned(),
            spawned_at: task.site.location(),
        }
    }

    /// The task's id.
    pub fn id(&self) -> Id {
        self.id
    }

    /// The name given at spawn, if any.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Where the task was spawned.
    pub fn spawned_at(&self) -> &'static Location<'static> {
        self.spawned_at
    }
}

impl fmt::Display for TaskInfo {
    /// `'fetch br' (id 17, spawned at src/main.rs:3:5)`, with control
    /// characters in the name escaped.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Describe {
            id: self.id,
            name: self.name.as_deref(),
            location: self.spawned_at,
        }
        .fmt(f)
    }
}

/// One debug-mode report (see [`Builder::debug`](crate::runtime::Builder::debug)),
/// or a runtime fault ([`ReactorWaitFailed`](DebugEvent::ReactorWaitFailed),
/// reported in debug mode or not).
///
/// `Display` gives the one-line message written to stderr when no
/// [`on_debug_event`](crate::runtime::Builder::on_debug_event) callback is
/// set.
///
/// ```
/// use std::time::Duration;
/// use windlass::runtime::DebugEvent;
///
/// fn describe(event: &DebugEvent) -> String {
///     match event {
///         DebugEvent::SlowPoll { task, took } => format!("{} slow: {took:?}", task.id()),
///         DebugEvent::BlockedWorker { worker, .. } => format!("worker {worker} blocked"),
///         DebugEvent::ReactorWaitFailed { error } => format!("reactor: {error}"),
///         other => other.to_string(),
///     }
/// }
/// # let _ = describe;
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum DebugEvent {
    /// A poll of `task` took `took`, at least the slow-poll threshold. Given
    /// after the poll returned.
    SlowPoll {
        /// The task polled.
        task: TaskInfo,
        /// How long the poll took.
        took: Duration,
    },
    /// Worker `worker` has been inside one poll of `task` for `blocked_for`
    /// (past the threshold) and still is: the task blocks the thread
    /// (`std::thread::sleep`, a blocking read, a long computation). Given
    /// at most once per poll, while it is in progress.
    BlockedWorker {
        /// The worker's index (0-based).
        worker: usize,
        /// The task being polled.
        task: TaskInfo,
        /// Time spent in the poll so far.
        blocked_for: Duration,
    },
    /// The runtime shut down while `task` was still pending; it is being
    /// cancelled (asyncio's "Task was destroyed but it is pending!").
    PendingAtShutdown {
        /// The task dropped.
        task: TaskInfo,
    },
    /// `task` panicked and its `JoinHandle` was dropped, so nobody can
    /// retrieve the panic (asyncio's "Task exception was never retrieved").
    PanicNotRetrieved {
        /// The task that panicked.
        task: TaskInfo,
        /// The panic message, if the payload was a string.
        message: Option<String>,
    },
    /// A wait on the runtime's reactor (its epoll instance) failed with
    /// `error`, an OS-level fault (`EINTR` is not reported). Reported in
    /// debug mode or not, once per failed wait. The thread that was waiting
    /// pauses 1 ms and waits again; until a wait succeeds, I/O readiness is
    /// not delivered and timers fire only at those retries.
    ReactorWaitFailed {
        /// The error the wait returned.
        error: Arc<std::io::Error>,
    },
}

impl DebugEvent {
    /// The task the event is about; `None` for a runtime fault
    /// ([`ReactorWaitFailed`](DebugEvent::ReactorWaitFailed)).
    ///
    /// ```
    /// # use windlass::runtime::DebugEvent;
    /// fn task_id(e: &DebugEvent) -> Option<windlass::task::Id> {
    ///     e.task().map(|task| task.id())
    /// }
    /// # let _ = task_id;
    /// ```
    pub fn task(&self) -> Option<&TaskInfo> {
        match self {
            DebugEvent::SlowPoll { task, .. }
            | DebugEvent::BlockedWorker { task, .. }
            | DebugEvent::PendingAtShutdown { task }
            | DebugEvent::PanicNotRetrieved { task, .. } => Some(task),
            DebugEvent::ReactorWaitFailed { .. } => None,
        }
    }
}

impl fmt::Display for DebugEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DebugEvent::SlowPoll { task, took } => {
                write!(f, "slow poll: task {task} took {took:.3?} in one poll")
            }
            DebugEvent::BlockedWorker {
                worker,
                task,
                blocked_for,
            } => write!(
                f,
                "blocked worker: worker {worker} has been inside one poll of task {task} for \
                 {blocked_for:.3?} and is still blocked; move blocking work (std::thread::sleep, \
                 blocking I/O, long computations) to windlass::spawn_blocking, or await instead"
            ),
            DebugEvent::PendingAtShutdown { task } => write!(
                f,
                "pending at shutdown: task {task} was still pending when the runtime shut down \
                 and is being cancelled"
            ),
            DebugEvent::PanicNotRetrieved { task, message } => {
                write!(f, "panic never retrieved: task {task} panicked")?;
                if let Some(message) = message {
                    write!(f, " with message {message:?}")?;
                }
                f.write_str(" and its JoinHandle was dropped, so nobody will see the error")
            }
            DebugEvent::ReactorWaitFailed { error } => write!(
                f,
                "reactor wait failed: {error}; retrying in 1 ms (I/O and timers are late until a \
                 wait succeeds)"
            ),
        }
    }
}
