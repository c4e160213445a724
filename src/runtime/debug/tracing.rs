//! Debug events as `tracing` events (the `tracing` feature): target
//! `windlass::debug`, level WARN, with the kind, the task's id, name and
//! spawn site (for an event about a task) as fields and the event's
//! `Display` as the message.

use super::DebugEvent;

/// Emits `event` to the current `tracing` subscriber.
pub(super) fn emit(event: &DebugEvent) {
    let kind = match event {
        DebugEvent::SlowPoll { .. } => "slow_poll",
        DebugEvent::BlockedWorker { .. } => "blocked_worker",
        DebugEvent::PendingAtShutdown { .. } => "pending_at_shutdown",
        DebugEvent::PanicNotRetrieved { .. } => "panic_not_retrieved",
        DebugEvent::ReactorWaitFailed { .. } => "reactor_wait_failed",
    };
    match event.task() {
        Some(task) => ::tracing::warn!(
            target: "windlass::debug",
            kind,
            task.id = task.id().as_u64(),
            task.name = task.name(),
            task.spawned_at = %task.spawned_at(),
            "{event}"
        ),
        None => ::tracing::warn!(target: "windlass::debug", kind, "{event}"),
    }
}
