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
    /// How many [`SetCurrentGuard`]s are alive on this thread: each guard
    /// records its depth, so one dropped out of order is caught.
    depth: Cell<usize>,
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
        depth: Cell::new(0),
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

/// Restores the previous current handle when dropped.
///
/// Not `Send`: it restores *this* thread's state. Dropped on another
/// thread (an `EnterGuard` held across an `.await` in a task, or sent
/// away), it left its own thread inside the runtime for good, so a
/// worker's later tasks spawned onto another runtime.
pub(crate) struct SetCurrentGuard {
    prev: Option<RtHandle>,
    /// This guard's place in the thread's stack of guards (1 = outermost).
    depth: usize,
    _not_send: std::marker::PhantomData<*const ()>,
}

/// Makes `handle` the current runtime of this thread until the guard drops.
pub(crate) fn set_current(handle: &RtHandle) -> SetCurrentGuard {
    CONTEXT.with(|c| {
        let prev = c.handle.replace(Some(handle.clone()));
        let depth = c.depth.get() + 1;
        c.depth.set(depth);
        SetCurrentGuard {
            prev,
            depth,
            _not_send: std::marker::PhantomData,
        }
    })
}

impl Drop for SetCurrentGuard {
    fn drop(&mut self) {
        let prev = self.prev.take();
        let in_order = CONTEXT
            .try_with(|c| {
                if c.depth.get() != self.depth {
                    // Out of order: restoring `prev` now would undo the
                    // guards made after this one. Leave the state to them.
                    return false;
                }
                c.depth.set(self.depth - 1);
                c.handle.replace(prev);
                true
            })
            .unwrap_or(true);
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
