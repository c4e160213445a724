//! What this thread is doing for the runtime, in one thread-local: the
//! runtime handle that `spawn` and `Handle::current` use, whether a runtime
//! is being driven here (a worker or `block_on`), and (on a worker) that
//! worker's queues. Which task is being polled, and its cooperative budget,
//! belong to the task layer (`task::context`).

#![allow(clippy::missing_const_for_thread_local)]

use std::cell::{Cell, RefCell};

use super::Handle as RtHandle;
use super::multi_thread::worker;

struct Context {
    /// Set by `Runtime::enter`, `block_on` and worker threads.
    handle: RefCell<Option<RtHandle>>,
    /// For each live [`SetCurrentGuard`] of this thread, oldest first, the
    /// handle it restores. Kept here, not in the guard, so that a guard
    /// dropped out of order can hand its handle to the guard made after it.
    saved: RefCell<Vec<Saved>>,
    /// The id of this thread's next guard.
    next_guard: Cell<u64>,
    /// True while this thread drives a runtime: a worker loop or `block_on`.
    entered: Cell<bool>,
    /// On a worker thread, the worker's own state; null elsewhere. Points to
    /// a value on the worker thread's stack that outlives every use (see
    /// [`WorkerGuard`]).
    worker: Cell<*const worker::Context>,
}

// Not `const`-initialised (see the module-level `allow`): loom's
// `thread_local!` has no const form, and one definition serves both builds.
crate::loom::thread_local! {
    static CONTEXT: Context = Context {
        handle: RefCell::new(None),
        saved: RefCell::new(Vec::new()),
        next_guard: Cell::new(0),
        entered: Cell::new(false),
        worker: Cell::new(std::ptr::null()),
    };
}

/// Runs `f` with the current runtime handle, if there is one.
pub(crate) fn with_current<R>(f: impl FnOnce(&RtHandle) -> R) -> Option<R> {
    CONTEXT
        .try_with(|c| c.handle.borrow().as_ref().map(f))
        .ok()
        .flatten()
}

/// What one live guard restores when dropped.
struct Saved {
    guard: u64,
    prev: Option<RtHandle>,
}

/// Restores the previous current handle when dropped.
///
/// Not `Send`: it restores *this* thread's state. Dropped on another
/// thread (an `EnterGuard` held across an `.await` in a task, or sent
/// away), it left its own thread inside the runtime for good, so a
/// worker's later tasks spawned onto another runtime.
pub(crate) struct SetCurrentGuard {
    /// Its entry in `Context::saved`.
    id: u64,
    _not_send: std::marker::PhantomData<*const ()>,
}

/// Makes `handle` the current runtime of this thread until the guard drops.
pub(crate) fn set_current(handle: &RtHandle) -> SetCurrentGuard {
    CONTEXT.with(|c| {
        let prev = c.handle.replace(Some(handle.clone()));
        let id = c.next_guard.get();
        c.next_guard.set(id + 1);
        c.saved.borrow_mut().push(Saved { guard: id, prev });
        SetCurrentGuard {
            id,
            _not_send: std::marker::PhantomData,
        }
    })
}

impl Drop for SetCurrentGuard {
    fn drop(&mut self) {
        // Handles replaced here are dropped after the thread-local's
        // borrows end: the last one of a runtime runs its drop, which may
        // use this thread-local again.
        let mut replaced = None;
        let in_order = CONTEXT
            .try_with(|c| {
                let mut saved = c.saved.borrow_mut();
                let Some(at) = saved.iter().rposition(|s| s.guard == self.id) else {
                    return true;
                };
                let Saved { prev, .. } = saved.remove(at);
                if at == saved.len() {
                    drop(saved);
                    replaced = c.handle.replace(prev);
                    return true;
                }
                // Out of order: the guard made right after this one now
                // restores what this one would have, so that once every
                // guard is gone the thread is back where it started.
                replaced = std::mem::replace(&mut saved[at].prev, prev);
                false
            })
            .unwrap_or(true);
        drop(replaced);
        if !in_order && !std::thread::panicking() {
            panic!(
                "windlass: EnterGuards dropped out of order; the guards of Runtime::enter / Handle::enter \
                 must be dropped in the reverse order of their creation (keep each in a scope of its own)"
            );
        }
    }
}

/// Marks this thread as driving a runtime until dropped.
pub(crate) struct EnterRuntimeGuard {
    _current: SetCurrentGuard,
}

/// Marks this thread as driving `handle`; panics with a fix if it already
/// drives one (which would block a worker or deadlock).
#[track_caller]
pub(crate) fn enter_runtime(handle: &RtHandle) -> EnterRuntimeGuard {
    if is_entered() {
        panic!(
            "windlass: cannot block_on here: this thread is already running windlass tasks \
             (a worker thread, or inside another `block_on`). Blocking it would stall the runtime. \
             Use `.await` instead, or move the blocking call to `windlass::spawn_blocking` or a plain thread."
        );
    }
    CONTEXT.with(|c| c.entered.set(true));
    EnterRuntimeGuard {
        _current: set_current(handle),
    }
}

impl Drop for EnterRuntimeGuard {
    fn drop(&mut self) {
        let _ = CONTEXT.try_with(|c| c.entered.set(false));
    }
}

/// True while this thread drives a runtime (worker or `block_on`).
pub(crate) fn is_entered() -> bool {
    CONTEXT.try_with(|c| c.entered.get()).unwrap_or(false)
}

/// Clears this thread's worker pointer when dropped.
pub(crate) struct WorkerGuard(());

/// Registers `cx` as this thread's worker until the guard drops.
///
/// The guard must be dropped before `cx` (declare it after `cx`).
pub(crate) fn set_worker(cx: &worker::Context) -> WorkerGuard {
    CONTEXT.with(|c| c.worker.set(cx));
    WorkerGuard(())
}

impl Drop for WorkerGuard {
    fn drop(&mut self) {
        let _ = CONTEXT.try_with(|c| c.worker.set(std::ptr::null()));
    }
}

/// Runs `f` with this thread's worker, if it is one.
#[inline]
pub(crate) fn with_worker<R>(f: impl FnOnce(Option<&worker::Context>) -> R) -> R {
    let ptr = CONTEXT
        .try_with(|c| c.worker.get())
        .unwrap_or(std::ptr::null());
    // SAFETY: a non-null pointer was set by `set_worker` from a reference
    // that outlives its guard, and the guard clears it before that value
    // goes away; it is only read on its own thread.
    f(unsafe { ptr.as_ref() })
}
