//! Where a task's panic waits for its `JoinHandle`: a cold side table, so
//! that the stage of every task does not carry a pointer for the rare panic.
//!
//! A task that panicked has nothing else left in its stage: the future is
//! gone and there is no output. Before this table the stage kept the
//! payload behind a thin box, which made the stage of an `async {}` one
//! pointer and a tag (16 bytes) instead of a tag and the tiny future, and
//! the cell 88 bytes instead of 80 (docs/ARCHITECTURE.md, "Where the bytes
//! of a task go"). Now the stage says only `Panicked`, and the payload is
//! here, under the address of the task's cell.
//!
//! # Rules
//!
//! 1. **One entry per panicked stage.** The entry of a task exists
//!    exactly while that task's stage is `Panicked`: whoever owns the stage
//!    inserts it as it stores the panic ([`stash`]), and removes it as it
//!    moves the stage on ([`take`]): the `JoinHandle` taking the output, or
//!    the poller or the handle dropping an output that nobody will read.
//! 2. **Owned like the stage.** An entry belongs to whoever owns its task's
//!    stage (task rules 2-4 and 8), so one thread at a time touches a given
//!    entry, and the stage's hand-offs (the state word's release/acquire
//!    pairs) order one owner's insert before the next owner's removal. The
//!    lock only keeps the map itself whole while the entries of different
//!    tasks come and go.
//! 3. **No user code under the lock.** It is held for one map operation,
//!    or to read a message; a payload is dropped (its destructor may panic)
//!    only after the lock is released. So the lock is never poisoned by a
//!    payload and never taken twice by one thread.
//! 4. **One table for the process, keyed by cell address.** Live cells
//!    have distinct addresses, and a cell is freed only after its stage has
//!    moved on from `Panicked` (rule 1: the handle or the poller has taken
//!    or dropped the output by then), so an address names one panicked
//!    task at a time and every runtime can share the table. (Not the task
//!    id: under loom ids are counted per thread, so two models running at
//!    once can reuse one.) A panic is rare enough that the runtimes'
//!    sharing one lock costs nothing measurable.
//!
//! The lock is the real one in every build (`crate::loom::std`, an
//! exception listed in the facade's docs), not loom's: a loom lock cannot
//! live in a `static`, and nothing under this one waits on another thread
//! or touches an atomic the models check (rule 3). What the models check
//! is the stage ownership of rule 2, which the entry follows.

use std::any::Any;
use std::collections::BTreeMap;
// The real lock in every build (see the module doc).
use crate::loom::std::sync::{Mutex, MutexGuard, OnceLock};

use super::core::Header;

/// A panic payload as `catch_unwind` returns it.
pub(crate) type Payload = Box<dyn Any + Send + 'static>;

/// The table of rule 4, from the address of a task's header (the start of
/// its cell) to its payload. A `BTreeMap` because it can be built in a
/// `static` and needs no hasher state; it holds as many entries as there
/// are panicked tasks whose output nobody has taken yet.
static TABLE: OnceLock<Mutex<BTreeMap<usize, Payload>>> = OnceLock::new();

/// Rule 4's key.
fn key(task: &Header) -> usize {
    std::ptr::from_ref(task).addr()
}

fn table() -> MutexGuard<'static, BTreeMap<usize, Payload>> {
    // Rule 3: nothing panics while the lock is held (and the facade's
    // locks do not poison), so the map is whole whenever it is locked.
    TABLE.get_or_init(|| Mutex::new(BTreeMap::new())).lock()
}

/// Rule 1: `task`'s stage becomes `Panicked`; keeps its payload.
pub(crate) fn stash(task: &Header, payload: Payload) {
    stash_at(key(task), payload);
}

fn stash_at(key: usize, payload: Payload) {
    let old = table().insert(key, payload);
    // Rule 1: the stage was not `Panicked` before, so there was no entry.
    // The lock is released by now (rule 3) should `old` need dropping.
    debug_assert!(old.is_none(), "a panicked task's stage was stored twice");
    drop(old);
}

/// Rule 1: `task`'s stage moves on from `Panicked`; hands its payload
/// over (`None` only if the rules were broken).
pub(crate) fn take(task: &Header) -> Option<Payload> {
    take_at(key(task))
}

fn take_at(key: usize) -> Option<Payload> {
    table().remove(&key)
}

/// The message of `task`'s panic: `None` if there is no entry, `Some(None)`
/// if the payload is not a string.
pub(crate) fn message(task: &Header) -> Option<Option<String>> {
    message_at(key(task))
}

fn message_at(key: usize) -> Option<Option<String>> {
    let table = table();
    let payload = &**table.get(&key)?;
    Some(
        payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned()),
    )
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn an_entry_lives_from_stash_to_take() {
        // Two addresses no task can have while these locals live.
        let (x, y) = (0u64, 0u64);
        let (a, b) = (std::ptr::from_ref(&x).addr(), std::ptr::from_ref(&y).addr());
        stash_at(a, Box::new("boom"));
        stash_at(b, Box::new(7u8));
        assert_eq!(message_at(a), Some(Some("boom".to_string())));
        assert_eq!(message_at(b), Some(None), "not a string");
        let payload = take_at(a).expect("stashed");
        assert_eq!(*payload.downcast::<&str>().unwrap(), "boom");
        assert!(
            take_at(a).is_none() && message_at(a).is_none(),
            "taken once"
        );
        assert!(take_at(b).is_some());
    }

    /// The entry of the task behind `abort` (which keeps the cell, so its
    /// address, alive).
    fn entry(abort: &crate::task::AbortHandle) -> Option<Option<String>> {
        message_at(abort.header_ptr().as_ptr().addr())
    }

    /// Rule 1 on a runtime: every way out of `Panicked` (joined, handle
    /// dropped after the panic, handle dropped before it) removes the
    /// entry, and the payload reaches the `JoinError` intact.
    #[test]
    fn every_way_out_of_a_panic_removes_its_entry() {
        use crate::task::yield_now;
        use std::sync::Arc;
        use std::sync::atomic::{AtomicBool, Ordering::SeqCst};

        let rt = crate::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let joined = rt.spawn(async { panic!("joined") });
        let cell = joined.abort_handle();
        let err = rt.block_on(joined).unwrap_err();
        assert!(entry(&cell).is_none(), "taken by the JoinHandle");
        assert_eq!(*err.into_panic().downcast::<&str>().unwrap(), "joined");

        let late = rt.spawn(async { panic!("dropped late") });
        let cell = late.abort_handle();
        rt.block_on(async {
            while !late.is_finished() {
                yield_now().await;
            }
        });
        assert_eq!(entry(&cell), Some(Some("dropped late".to_string())));
        drop(late);
        assert!(entry(&cell).is_none(), "dropped with the handle");

        // One thread: once `block_on` sees the flag, the task's poll, and
        // the completion that drops its detached output, are over.
        let ran = Arc::new(AtomicBool::new(false));
        let flag = ran.clone();
        let detached = rt.spawn(async move {
            yield_now().await;
            flag.store(true, SeqCst);
            panic!("detached")
        });
        let cell = detached.abort_handle();
        drop(detached);
        rt.block_on(async {
            while !ran.load(SeqCst) {
                yield_now().await;
            }
        });
        assert!(entry(&cell).is_none(), "dropped by the poller");
    }
}
