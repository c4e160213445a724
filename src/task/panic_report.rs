//! The report of a panic inside a task: which task, as well as where.
//!
//! The standard panic message names the thread (`windlass-worker`), which
//! says nothing about the task. The first time a runtime is built, windlass
//! wraps the process's panic hook (whatever it is then: the default one, or
//! one the program set) so that a panic inside a task first writes
//!
//! ```text
//! task 'fetch br' (id 17, spawned at examples/flags.rs:212:9) panicked at src/fetch.rs:40:13: no route
//! ```
//!
//! to stderr, then runs the wrapped hook as before. A hook set after the
//! runtime is built replaces the wrapper, as `set_hook` always does; such a
//! hook can call [`task::id`](super::id), [`task::name`](super::name) and
//! [`task::spawned_at`](super::spawned_at) itself, since a panic hook runs
//! on the panicking thread, inside the task.

use std::io::Write;
use std::panic::PanicHookInfo;

use super::context;
use super::site::Describe;

/// Wraps the current panic hook, once per process.
pub(crate) fn install() {
    // Not under loom: the hook reads the task context, a loom thread-local,
    // and loom panics on threads and at moments outside a model (its own
    // aborts of an execution included), where touching loom state aborts
    // the process.
    if cfg!(loom) {
        return;
    }
    static ONCE: crate::loom::std::sync::Once = crate::loom::std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            report(info);
            previous(info);
        }));
    });
}

/// Writes the task line if this thread is polling a task.
fn report(info: &PanicHookInfo<'_>) {
    let line = context::with_current_task(|task| {
        let describe = Describe {
            id: task.id,
            name: task.site.name().map(|n| &**n),
            location: task.site.location(),
        };
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| info.payload().downcast_ref::<String>().map(String::as_str));
        let mut line = format!("task {describe} panicked");
        if let Some(at) = info.location() {
            line.push_str(&format!(" at {at}"));
        }
        if let Some(message) = message {
            line.push_str(&format!(": {}", message.escape_debug()));
        }
        line
    });
    if let Some(line) = line {
        // One write of the whole line under the stderr lock, so lines of
        // concurrent panics do not interleave. Not `eprintln!`: it panics if
        // stderr fails, and a panic inside a panic hook aborts. (A test
        // harness therefore does not capture this line.)
        let _ = writeln!(std::io::stderr().lock(), "{line}");
    }
}
