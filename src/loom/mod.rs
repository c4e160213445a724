//! The one place where windlass chooses between `std` and `loom`.
//!
//! Every module takes its atomics, locks, cells, threads and thread-locals
//! from here, never from `std` or `parking_lot` directly:
//!
//! - [`std`](self::std) is the real thing: `std` atomics, cells and
//!   threads, `parking_lot` locks (under Miri, `std`'s locks: Miri rejects
//!   the raw futex syscall `parking_lot_core` makes).
//! - `mocked` (built only with `RUSTFLAGS="--cfg loom"`) is loom's
//!   instrumented types, so that the models in `loom-tests/` run the real
//!   scheduler, task and sync code rather than a copy of it.
//! - This module picks one by `cfg(loom)`: `crate::loom::{sync, cell,
//!   thread, thread_local, task_id}` are `std`'s in a normal build and
//!   `mocked`'s under loom.
//! - [`guard`] is the one adapter both lock backends that are not
//!   `parking_lot` (loom's, and `std`'s under Miri) go through: the API
//!   is `parking_lot`'s (`lock()` returns the guard, `Condvar::wait`
//!   takes `&mut guard`, no poisoning). Its `Mutex` is also
//!   `sync::NoYieldMutex` in every build: `std`'s lock (loom's under
//!   loom), for the owned-task list's shards, which a spawning thread
//!   outside the runtime shares with busy workers; a `parking_lot` waiter
//!   calls `sched_yield`, which gives its CPU to them.
//!
//! # Exceptions
//!
//! Code that must have the *real* primitive in every build, loom's
//! included, names [`crate::loom::std`](self::std) instead of
//! `crate::loom::sync`. Every such use is listed here with its reason; a
//! use of `crate::loom::std` elsewhere is a bug in this list.
//!
//! | where | what | why not loom's |
//! |---|---|---|
//! | `reactor/mod.rs`, `reactor/driver.rs` | the reactor's locks (slab, timers, turn, thread handle), its flags and counters, the `Driver`'s start lock and `OnceLock`, the reactor thread | Under loom the reactor is waited on by a plain OS thread (`Driver::for_workers`): a wait in `epoll_pwait` cannot be modelled, and a thread outside the model must not touch loom objects. The protocol it drives is modelled on its own: `Source` takes loom's types (`loom-tests/tests/reactor_source.rs`). |
//! | `reactor/clock.rs` | the clock's flags and lock | read by that reactor thread |
//! | `reactor/activity.rs` | the queued-hook lock and the decider's wake hook (`OnceLock`) | called by the decider, which is that reactor thread; the activity word itself is loom's (`loom-tests/tests/auto_advance.rs`) |
//! | `reactor/epoll.rs` | the poller's `notified` flag | its partner is a `write(2)` to an eventfd and a wait in the kernel, which loom cannot see (`epoll.rs`, rule 2) |
//! | `signal/hub.rs` | the hub (a `static`), its locks and pending flags | process-global: loom objects live for one model execution. The flags are set by a signal handler, on no thread loom knows, and `signal_hook::flag` takes std's `Arc<AtomicBool>`. |
//! | `process/orphan.rs`, `process/sigpipe.rs` | the orphan list (a `static` lock), the SIGPIPE `Once` | process-global |
//! | `task/panic_report.rs`, `task/site.rs` | the panic hook's `Once`, the time origin's `OnceLock` | process-global |
//! | `task/cell_cache.rs` | the depot of freed task cells (`static` locks, `std`'s in every build: `StdMutex`, see its doc), the off switch (a `static` atomic), the per-thread stacks (a thread-local) | process-global; under loom the cache is off (its rule 6): cells go straight to the allocator, and nothing here is reached |
//! | `task/coop.rs` | the forced-yield hook's `OnceLock` (a `static`, set once by `Builder::build`) | process-global; loom has no `OnceLock` |
//! | `task/panic_table.rs` | the table of panicked tasks' payloads (a `static` lock) | process-global; nothing under the lock touches a modelled atomic, and the entry follows the stage, whose hand-over the task-state models check |
//! | `std::task_id` | the task-id counter (a `static`) and each thread's block of 1,024 ids from it (a `const` thread-local `Cell`) | process-global; loom's side is a per-thread counter reset by each model iteration |
//! | `runtime/metrics.rs`, `runtime/sampling.rs`, the reactor's `turns`/`events` | statistics counters, the histograms' sampling slot and countdowns | nothing reads them to decide anything (the sampling slot's task pointer is only compared, never dereferenced; a lost race spoils one sample): loom would only add interleavings |
//! | `loom_test_hooks.rs` | the hooks' bookkeeping (live task cells) | counted outside the model: a model's loom threads share one OS thread, so a read after they are joined sees every count, and the count adds no interleavings |
//! | `fs/file.rs` | the thread that writes out a cancelled write-out's data in a shutdown that must not wait | a plain blocking write on a file, outside every model (no model drives `fs`) |
//! | `runtime/debug/watchdog.rs` | the watchdog thread | a timed sleeper (loom has no clock), never started by a model; the poll slots it reads are loom's (`loom-tests/tests/debug_watchdog.rs`) |
//! | `blocking/pool.rs` | the `OWN_THREAD` thread-local, the clock's `OnceLock`, the `Arc<Driver>` | the thread-local needs a `const` initialiser (loom's has none); the other two hold the reactor's side (above) |
//! | `Arc` in ~25 files | `std::sync::Arc` | the value is outside every modelled protocol (names, callbacks, errors, I/O objects, the runtime's handle parts whose lifetime no model asserts), or it needs what loom's `Arc` lacks: `Waker::from` / `std::task::Wake` (`runtime/block_on_waker.rs`, `runtime/current_thread.rs`, `sync/listener.rs`), the raw-pointer API of a hand-made `RawWaker` (`join/ready.rs`), unsized values (`Arc<str>`, `Arc<dyn Fn>`), or a public signature |
//!
//! Two more, not through this module at all:
//!
//! - `sync/mutex.rs` and `sync/rwlock.rs` keep their data in a
//!   `std::cell::UnsafeCell`: their guards hand out `&T`/`&mut T` that live
//!   as long as the guard, which the closure-scoped access of
//!   [`cell::UnsafeCell`](self::std::cell::UnsafeCell) cannot express. The
//!   exclusion is the semaphore's, which is modelled
//!   (`loom-tests/tests/sync_semaphore.rs`).
//! - What is not a shared primitive is used from `std` directly:
//!   `std::thread::{current, panicking, sleep, yield_now,
//!   available_parallelism}`, `std::thread::Result`, the single-threaded
//!   `std::cell::{Cell, RefCell}`, and `#[cfg(test)]` code (unit tests'
//!   own counters and threads, which never run under loom).

#[cfg(all(loom, miri))]
compile_error!("the loom models do not run under Miri: build with one of `--cfg loom` or Miri");

mod guard;
#[cfg(loom)]
mod mocked;
pub(crate) mod std;

#[cfg(not(loom))]
pub(crate) use self::std::{cell, sync, task_id, thread, thread_local};

#[cfg(loom)]
pub(crate) use self::mocked::{cell, sync, task_id, thread, thread_local};

#[cfg(all(test, not(loom)))]
mod tests;
