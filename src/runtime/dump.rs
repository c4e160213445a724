//! `Handle::dump`: a snapshot of every live task, as a tree.
//!
//! # How a dump is taken
//!
//! 1. It walks the owned-task list one shard at a time, holding that
//!    shard's lock only while it copies each task's fields (id, name, site,
//!    parent, one load of the state word, the three poll counters). The
//!    list's reference keeps each header alive meanwhile; nothing is
//!    polled, woken or freed, and no other lock is taken under a shard lock,
//!    so it is safe from any thread, including from inside a task.
//! 2. The state is read from that one load: `COMPLETE` gives *finished*
//!    (rare: a task leaves the list just before it publishes `COMPLETE`),
//!    `RUNNING` *running*, `NOTIFIED` *scheduled*, none *idle*. In debug
//!    mode, a running task is matched to the worker whose poll slot holds
//!    its id (`debug::watchdog`).
//! 3. The poll counters exist for named tasks and every task in debug
//!    mode. They are `Relaxed` loads of values written only by the polling
//!    thread (`task::site::PollStats`): each is a whole word, possibly one
//!    poll old, and the three may be from different polls. A dump is a
//!    snapshot of a moving system either way. A debug-mode task gets its
//!    extras when a poll first returns `Pending` (`task::site`, rule 5);
//!    until then it has completed no poll, and shows zero counters. Busy
//!    time in a multi-thread runtime in debug mode is summed from the
//!    watchdog's coarse clock (`debug::watchdog`, rule 6): right on
//!    average, within about a millisecond for one poll.
//! 4. The tree: a task spawned into a `TaskGroup` or `JoinSet` records, in
//!    debug mode, the task that created the group as its parent. A task
//!    whose parent is not in the dump (it finished, or there is none) is a
//!    root.

use crate::loom::std::sync::Arc;
use std::fmt;
use std::panic::Location;
use std::time::Duration;

use crate::loom::sync::atomic::Ordering::Relaxed;
use crate::task::Id;
use crate::task::core::Header;
use crate::task::site::now_ns;

/// Where a task stands at the moment of the dump.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TaskState {
    /// Waiting for a wake-up.
    Idle,
    /// Woken, in a run queue.
    Scheduled,
    /// Being polled. `worker` is the worker's index in debug mode (`None`
    /// otherwise, and for the blocking pool and current-thread runtimes).
    Running {
        /// The worker polling it, if known.
        worker: Option<usize>,
    },
    /// Finished between two steps of the dump.
    Finished,
}

/// Poll counters of a task that keeps them (named tasks, and every task
/// in debug mode).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PollCounters {
    /// Polls completed.
    pub polls: u64,
    /// Time spent inside those polls.
    pub busy: Duration,
    /// Time since the last poll ended; `None` if never polled.
    pub since_last_poll: Option<Duration>,
}

/// One task in a [`TaskDump`].
#[derive(Clone, Debug)]
pub struct TaskSnapshot {
    id: Id,
    name: Option<Arc<str>>,
    spawned_at: &'static Location<'static>,
    state: TaskState,
    parent: Option<Id>,
    counters: Option<PollCounters>,
}

impl TaskSnapshot {
    /// Rule 1: copies the task's fields (under its shard lock).
    pub(crate) fn of(task: &Header, now: u64) -> TaskSnapshot {
        let snapshot = task.state.load();
        let state = if snapshot.is_complete() {
            TaskState::Finished
        } else if snapshot.is_running() {
            TaskState::Running { worker: None }
        } else if snapshot.is_notified() {
            TaskState::Scheduled
        } else {
            TaskState::Idle
        };
        let extras = task.site.extras();
        let counters = extras.map(|e| {
            // Relaxed: rule 3.
            let last = e.stats.last_poll_end_ns.load(Relaxed);
            PollCounters {
                polls: e.stats.polls.load(Relaxed),
                busy: Duration::from_nanos(e.stats.busy_ns.load(Relaxed)),
                since_last_poll: (last != 0)
                    .then(|| Duration::from_nanos(now.saturating_sub(last))),
            }
        });
        // A timed task without extras has completed no poll yet (rule 3).
        let counters = counters.or_else(|| {
            task.site.is_timed().then_some(PollCounters {
                polls: 0,
                busy: Duration::ZERO,
                since_last_poll: None,
            })
        });
        TaskSnapshot {
            id: task.id,
            name: task.site.name().cloned(),
            spawned_at: task.site.location(),
            state,
            parent: extras.and_then(|e| e.parent),
            counters,
        }
    }

    /// The task's id.
    pub fn id(&self) -> Id {
        self.id
    }

    /// Its name, if it was given one.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Where it was spawned.
    pub fn spawned_at(&self) -> &'static Location<'static> {
        self.spawned_at
    }

    /// Its state at the moment of the dump.
    pub fn state(&self) -> TaskState {
        self.state
    }

    /// The task that owns the group it was spawned into (debug mode).
    pub fn parent(&self) -> Option<Id> {
        self.parent
    }

    /// Its poll counters, if it keeps them.
    pub fn counters(&self) -> Option<PollCounters> {
        self.counters
    }
}

/// A snapshot of a runtime's live tasks and blocking-pool work, from
/// [`Handle::dump`](crate::runtime::Handle::dump). `Display` prints it as
/// a tree (tasks of a `TaskGroup` or `JoinSet` under the task that created
/// it, in debug mode); the methods walk it.
#[derive(Clone, Debug)]
pub struct TaskDump {
    /// The runtime's tasks, by id.
    tasks: Vec<TaskSnapshot>,
    /// The blocking pool's tasks (closures running or queued), by id.
    blocking: Vec<TaskSnapshot>,
    /// Blocking-pool threads: `(alive, idle)`.
    pool_threads: (usize, usize),
    debug: bool,
}

impl TaskDump {
    pub(crate) fn new(
        mut tasks: Vec<TaskSnapshot>,
        mut blocking: Vec<TaskSnapshot>,
        pool_threads: (usize, usize),
        debug: bool,
    ) -> TaskDump {
        tasks.sort_by_key(|t| t.id);
        blocking.sort_by_key(|t| t.id);
        TaskDump {
            tasks,
            blocking,
            pool_threads,
            debug,
        }
    }

    /// Every live task of the runtime (not blocking closures), by id.
    pub fn tasks(&self) -> &[TaskSnapshot] {
        &self.tasks
    }

    /// The task `id`, if it was alive.
    pub fn get(&self, id: Id) -> Option<&TaskSnapshot> {
        self.tasks
            .binary_search_by_key(&id, |t| t.id)
            .ok()
            .map(|i| &self.tasks[i])
    }

    /// Tasks without a parent in this dump (rule 4).
    pub fn roots(&self) -> impl Iterator<Item = &TaskSnapshot> + '_ {
        self.tasks
            .iter()
            .filter(|t| t.parent.is_none_or(|p| self.get(p).is_none()))
    }

    /// The tasks whose parent is `id` (members of the groups it created).
    pub fn children(&self, id: Id) -> impl Iterator<Item = &TaskSnapshot> + '_ {
        self.tasks.iter().filter(move |t| t.parent == Some(id))
    }

    /// Blocking-pool closures alive now, running (`TaskState::Running`) or
    /// queued, by id.
    pub fn blocking(&self) -> &[TaskSnapshot] {
        &self.blocking
    }

    /// Blocking-pool threads alive and, of those, idle.
    pub fn blocking_threads(&self) -> (usize, usize) {
        self.pool_threads
    }

    fn write_task(
        &self,
        f: &mut fmt::Formatter<'_>,
        task: &TaskSnapshot,
        prefix: &str,
        last: bool,
    ) -> fmt::Result {
        let (branch, more) = if last {
            ("└─ ", "   ")
        } else {
            ("├─ ", "│  ")
        };
        writeln!(f, "{prefix}{branch}{task}")?;
        let children: Vec<_> = self.children(task.id).collect();
        let prefix = format!("{prefix}{more}");
        for (i, child) in children.iter().enumerate() {
            self.write_task(f, child, &prefix, i + 1 == children.len())?;
        }
        Ok(())
    }
}

impl fmt::Display for TaskSnapshot {
    /// One line: `task 'name' (id 7, spawned at src/main.rs:3:5): idle, 4
    /// polls, 1.2ms busy, last poll 3.0s ago`. Control characters in the
    /// name are escaped.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("task ")?;
        if let Some(name) = &self.name {
            write!(f, "'{}' ", name.escape_debug())?;
        }
        write!(f, "(id {}, spawned at {}): ", self.id, self.spawned_at)?;
        match self.state {
            TaskState::Idle => f.write_str("idle")?,
            TaskState::Scheduled => f.write_str("scheduled")?,
            TaskState::Running { worker: Some(w) } => write!(f, "running on worker {w}")?,
            TaskState::Running { worker: None } => f.write_str("running")?,
            TaskState::Finished => f.write_str("finished")?,
        }
        if let Some(c) = self.counters {
            let s = if c.polls == 1 { "" } else { "s" };
            write!(f, ", {} poll{s}, {:.1?} busy", c.polls, c.busy)?;
            if let Some(ago) = c.since_last_poll {
                write!(f, ", last poll {ago:.1?} ago")?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for TaskDump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mode = if self.debug {
            "debug mode"
        } else {
            "debug mode off: no groups, counters of named tasks only"
        };
        writeln!(f, "runtime: {} tasks ({mode})", self.tasks.len())?;
        let roots: Vec<_> = self.roots().collect();
        for (i, task) in roots.iter().enumerate() {
            self.write_task(f, task, "", i + 1 == roots.len())?;
        }
        let (alive, idle) = self.pool_threads;
        writeln!(
            f,
            "blocking pool: {alive} threads ({idle} idle), {} closures",
            self.blocking.len()
        )?;
        for (i, task) in self.blocking.iter().enumerate() {
            let branch = if i + 1 == self.blocking.len() {
                "└─ "
            } else {
                "├─ "
            };
            writeln!(f, "{branch}{task}")?;
        }
        Ok(())
    }
}

/// Rule 1 over one owned list.
pub(crate) fn snapshot_list(list: &crate::task::list::OwnedTasks, out: &mut Vec<TaskSnapshot>) {
    let now = now_ns();
    list.for_each(|task| out.push(TaskSnapshot::of(task, now)));
}

/// Rule 2's worker match: sets the worker of each running task whose id a
/// poll slot holds.
pub(crate) fn match_workers(tasks: &mut [TaskSnapshot], running: &[Option<u64>]) {
    for task in tasks.iter_mut() {
        if let TaskState::Running { worker } = &mut task.state {
            *worker = running.iter().position(|r| *r == Some(task.id.as_u64()));
        }
    }
}
