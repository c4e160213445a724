//! Children dropped before they were reaped: the reaper task and the
//! process-wide orphan list (rule 4 of the [module docs](super)).

use super::exit::Exit;
// The real lock in every build, loom's included: the list is a
// process-wide static (an exception listed in `crate::loom`'s docs).
use crate::loom::std::sync::{Mutex, OnceLock};
use crate::runtime::Handle;

/// Processes whose reaper task could not finish (its runtime shut down),
/// swept by every spawn.
static ORPHANS: OnceLock<Mutex<Vec<std::process::Child>>> = OnceLock::new();

fn orphans() -> &'static Mutex<Vec<std::process::Child>> {
    ORPHANS.get_or_init(|| Mutex::new(Vec::new()))
}

/// Takes over `exit`, a process nobody waits for any more: reaps it now if
/// it exited, else in a reaper task on `handle`'s runtime.
pub(super) fn adopt(mut exit: Exit, handle: &Handle) {
    if let Ok(Some(_)) = exit.try_wait() {
        return;
    }
    let mut reaper = Reaper(Some(exit));
    // After shutdown the runtime drops the task unrun; `Reaper::drop` then
    // moves the process to the list.
    drop(handle.spawn(async move {
        let exit = reaper.0.as_mut().expect("taken only by drop");
        // Ok or Err, the process was reaped or the drop below sees to it.
        let _ = std::future::poll_fn(|cx| exit.poll_exit(cx)).await;
        drop(reaper);
    }));
}

/// Puts a process on the orphan list directly (no runtime to wait in).
pub(super) fn push(std: std::process::Child) {
    orphans().lock().push(std);
}

/// Reaps every orphan that exited; keeps the others for the next sweep.
pub(super) fn sweep() {
    let Some(list) = ORPHANS.get() else { return };
    // An error (ECHILD: reaped by someone else) also ends our interest.
    list.lock()
        .retain_mut(|child| matches!(child.try_wait(), Ok(None)));
}

/// The reaper task's process; if the task ends (or is dropped) before the
/// process was reaped, the process goes to the orphan list.
struct Reaper(Option<Exit>);

impl Drop for Reaper {
    fn drop(&mut self) {
        if let Some(mut exit) = self.0.take() {
            if let Ok(None) = exit.try_wait() {
                push(exit.std);
            }
        }
    }
}

/// Whether `pid` is on the orphan list (for the tests).
#[cfg(test)]
pub(super) fn is_listed(pid: u32) -> bool {
    ORPHANS
        .get()
        .is_some_and(|list| list.lock().iter().any(|c| c.id() == pid))
}
