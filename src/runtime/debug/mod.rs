//! Debug mode: asyncio's `PYTHONASYNCIODEBUG=1`, as structured reports.
//!
//! Turned on with [`Builder::debug`](crate::runtime::Builder::debug) or
//! `WINDLASS_DEBUG=1` in the environment when the runtime is built. Then:
//!
//! 1. **Every poll is timed, and every live task has counters**
//!    (`task/site.rs`): its name, spawn site, parent, and poll counters,
//!    in extras allocated at spawn for named tasks and group members, and
//!    for other tasks when a poll first returns `Pending` (a task that
//!    completes in its first poll never allocates). The task harness times
//!    each poll with the scheduler's poll clock and hands start and end to
//!    its scheduler. On a multi-thread runtime that clock is the
//!    watchdog's coarse clock, one load per read ([`watchdog`], rule 6);
//!    on a current-thread runtime, which has no watchdog, the exact clock.
//! 2. **Slow polls.** A poll of an async task that took at least the
//!    threshold ([`Builder::slow_poll_threshold`], 100 ms by default) gives a
//!    [`DebugEvent::SlowPoll`] once the poll returns. A coarse duration
//!    within half the threshold of it is timed again with an exact end, so
//!    the reported duration is never below the real one and above it by at
//!    most the coarse clock's lag (about 1 ms). Blocking-pool closures are
//!    never reported: blocking is what they are for.
//! 3. **Blocked workers.** Each worker publishes the task it is polling and
//!    the poll's number, with no clock read (see [`watchdog`]). A watchdog
//!    thread, started only in debug mode on a multi-thread runtime, looks
//!    at every worker each millisecond and gives one
//!    [`DebugEvent::BlockedWorker`] per poll that has lasted past the
//!    threshold, *while the poll is still in progress*, from the watchdog
//!    thread.
//! 4. **Lost work.** At shutdown, each task still alive (pending) is
//!    reported with [`DebugEvent::PendingAtShutdown`] before it is
//!    cancelled. A panic whose `JoinHandle` was dropped, so that nobody can
//!    retrieve it, gives [`DebugEvent::PanicNotRetrieved`].
//! 5. **Delivery.** Events go to the callback of
//!    [`Builder::on_debug_event`], or by default to stderr as one line each.
//!    The callback runs on whichever thread found the event (a worker, the
//!    watchdog, the thread shutting the runtime down); a panic in it is
//!    caught and reported on stderr, and the thread goes on (its payload is
//!    dropped through `task::caught`, so a payload whose own destructor
//!    panics is contained too). With the `tracing` feature each event is
//!    also emitted as a `tracing` event, and a subscriber's panic is caught
//!    the same way.
//! 6. **Runtime failures, in debug mode or not.** A wait on the reactor's
//!    poller that fails (any error but `EINTR`: an OS-level problem, such
//!    as a poller descriptor closed behind the runtime's back) gives a
//!    [`DebugEvent::ReactorWaitFailed`], delivered as in rule 5 whether or
//!    not debug mode is on: it is a fault, not a diagnostic, and a program
//!    that set [`Builder::on_debug_event`] can log or count it. The thread
//!    that held the reactor's turn pauses 1 ms and waits again; timers
//!    that expired meanwhile still fire.
//!
//! [`Builder::slow_poll_threshold`]: crate::runtime::Builder::slow_poll_threshold
//! [`Builder::on_debug_event`]: crate::runtime::Builder::on_debug_event

mod event;
#[cfg(feature = "tracing")]
mod tracing;
pub(crate) mod watchdog;

use crate::loom::std::sync::Arc;
use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

pub use event::{DebugEvent, TaskInfo};

use crate::task::core::Header;

/// The default slow-poll threshold, asyncio's `slow_callback_duration`.
pub(crate) const DEFAULT_THRESHOLD: Duration = Duration::from_millis(100);

/// A user's event callback.
pub(crate) type Callback = Arc<dyn Fn(&DebugEvent) + Send + Sync + 'static>;

/// Debug-mode settings, fixed when the runtime is built.
#[derive(Clone)]
pub(crate) struct Settings {
    /// Debug mode on (rule 1).
    pub(crate) enabled: bool,
    /// Rules 2 and 3.
    pub(crate) threshold: Duration,
    /// Rule 5; `None`: one line to stderr.
    pub(crate) callback: Option<Callback>,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            enabled: false,
            threshold: DEFAULT_THRESHOLD,
            callback: None,
        }
    }
}

impl Settings {
    /// Rule 5: hands `event` to the callback (or stderr) and to `tracing`.
    pub(crate) fn emit(&self, event: DebugEvent) {
        // A subscriber is user code too: caught like the callback.
        #[cfg(feature = "tracing")]
        if let Err(payload) = catch_unwind(AssertUnwindSafe(|| tracing::emit(&event))) {
            stderr_line(format_args!(
                "windlass debug: a tracing subscriber panicked (the panic was caught; the runtime \
                 goes on) while handling: {event}"
            ));
            crate::task::caught::drop_payload(payload);
        }
        match &self.callback {
            None => stderr_line(format_args!("windlass debug: {event}")),
            Some(callback) => {
                let delivered = catch_unwind(AssertUnwindSafe(|| callback(&event)));
                if let Err(payload) = delivered {
                    stderr_line(format_args!(
                        "windlass debug: the on_debug_event callback panicked (the panic was caught; \
                         the runtime goes on) while handling: {event}"
                    ));
                    // A payload whose destructor panics again is forgotten:
                    // the thread must go on (a worker, the shutdown pass, a
                    // `JoinHandle::drop`, which never unwinds).
                    crate::task::caught::drop_payload(payload);
                }
            }
        }
    }
}

/// Rule 4: `task` is pending at shutdown.
pub(crate) fn report_pending(settings: &Settings, task: &Header) {
    if settings.enabled {
        settings.emit(DebugEvent::PendingAtShutdown {
            task: TaskInfo::of(task),
        });
    }
}

/// Rule 2: a poll of `task` ran from `start_ns` to `end_ns` (ns since the
/// process epoch), read with the coarse clock if `coarse`, else exactly.
#[inline]
pub(crate) fn report_poll(
    settings: &Settings,
    task: &Header,
    start_ns: u64,
    end_ns: u64,
    coarse: bool,
) {
    if !settings.enabled {
        return;
    }
    let took = end_ns.saturating_sub(start_ns);
    let threshold = u64::try_from(settings.threshold.as_nanos()).unwrap_or(u64::MAX);
    let near = if coarse { threshold / 2 } else { threshold };
    if took >= near {
        report_slow(settings, task, start_ns, took, coarse, threshold);
    }
}

/// Rule 2, for a poll near or past the threshold: an exact end for a coarse
/// poll (`watchdog`, rule 6), then the report if it is slow.
#[cold]
fn report_slow(
    settings: &Settings,
    task: &Header,
    start_ns: u64,
    took: u64,
    coarse: bool,
    threshold: u64,
) {
    let took = if coarse {
        crate::task::site::now_ns().saturating_sub(start_ns)
    } else {
        took
    };
    if took >= threshold {
        settings.emit(DebugEvent::SlowPoll {
            task: TaskInfo::of(task),
            took: Duration::from_nanos(took),
        });
    }
}

/// Rule 4: `task`'s panic can no longer be retrieved.
pub(crate) fn report_lost_panic(settings: &Settings, task: &Header, message: Option<String>) {
    if settings.enabled {
        settings.emit(DebugEvent::PanicNotRetrieved {
            task: TaskInfo::of(task),
            message,
        });
    }
}

/// Rule 6: the reactor's report of a failed wait on its poller.
pub(crate) fn reactor_wait_failed(settings: &Settings) -> crate::reactor::WaitFailed {
    let settings = settings.clone();
    Arc::new(move |error| {
        settings.emit(DebugEvent::ReactorWaitFailed {
            error: Arc::new(error),
        })
    })
}

/// One line to stderr in one write; a failed write has nowhere to go.
fn stderr_line(line: std::fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// True if `WINDLASS_DEBUG` asks for debug mode (`1`, `true`, `yes`, `on`).
pub(crate) fn env_enabled() -> bool {
    std::env::var("WINDLASS_DEBUG").is_ok_and(|v| {
        matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "1" | "true" | "yes" | "on"
        )
    })
}
