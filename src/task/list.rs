//! The owned-task list: every live task of a runtime, so that shutdown can
//! find and cancel tasks that sit in no queue (waiting on a waker that may
//! never fire). An intrusive doubly-linked list through `Header::pointers`,
//! split into shards by task id so that spawns and completions on different
//! workers rarely meet on one lock.
//!
//! The list holds one reference to each task in it. `bind` inserts under the
//! shard lock unless the list is closed; `close_and_shutdown` sets `closed`
//! and then empties each shard, so every task is either refused at `bind` or
//! found by the shutdown pass (both read `closed` under the shard lock).

use std::future::Future;
use std::ptr::NonNull;

use super::core::{Cell, Header, Schedule};
use super::id::Id;
use super::site::Site;
use super::{JoinHandle, Notified, Task};
use crossbeam_utils::CachePadded;

// `std`'s lock behind the crate's API: a thread outside the runtime that
// spawns binds its tasks here while workers release theirs, and
// `parking_lot`'s waiter would yield its CPU to them
// (`loom::std::sync::NoYieldMutex`).
use crate::loom::sync::NoYieldMutex as Mutex;
use crate::loom::sync::atomic::{AtomicBool, Ordering::*};

/// Links of one task in its shard. Only read or written with the shard's
/// lock held.
pub(crate) struct Pointers {
    prev: Option<NonNull<Header>>,
    next: Option<NonNull<Header>>,
}

impl Pointers {
    pub(crate) fn new() -> Pointers {
        Pointers {
            prev: None,
            next: None,
        }
    }
}

struct Shard {
    head: Option<NonNull<Header>>,
    len: usize,
}

// SAFETY: the raw pointers are task headers, which are `Sync` data shared
// by design; the shard is only reached through its mutex.
unsafe impl Send for Shard {}

/// All live tasks of one runtime.
pub(crate) struct OwnedTasks {
    /// One cache line (or two) per shard: consecutive ids go to consecutive
    /// shards, so unpadded, a spawner inserting into shard `k` and a worker
    /// removing a finished task from shard `k + 1` would write the same
    /// line (three 24-byte shards share one) and bounce it between cores.
    shards: Box<[CachePadded<Mutex<Shard>>]>,
    /// `shards.len() - 1`; the length is a power of two.
    mask: usize,
    /// Set once, at shutdown; read under each shard lock.
    closed: AtomicBool,
}

/// # Safety
/// The caller holds the lock of the shard `ptr` is linked in (or about to be).
unsafe fn pointers<'a>(ptr: NonNull<Header>) -> &'a mut Pointers {
    // SAFETY: the list's reference (or the caller's) keeps the header alive.
    let header = unsafe { ptr.as_ref() };
    // SAFETY: the shard lock, held by the caller, serialises every access
    // to `pointers`, so this is the only reference to them.
    header.pointers.with_mut(|p| unsafe { &mut *p })
}

impl Shard {
    /// # Safety
    /// `ptr` is a live task in no list; the caller holds this shard's lock.
    unsafe fn push_front(&mut self, ptr: NonNull<Header>) {
        // SAFETY: per the caller's contract, for `ptr` and the old head.
        unsafe {
            let p = pointers(ptr);
            p.prev = None;
            p.next = self.head;
            if let Some(head) = self.head {
                pointers(head).prev = Some(ptr);
            }
        }
        self.head = Some(ptr);
        self.len += 1;
    }

    /// # Safety
    /// `ptr` is live and in this shard or in no list; lock held.
    unsafe fn remove(&mut self, ptr: NonNull<Header>) -> bool {
        // SAFETY: per the caller's contract.
        let p = unsafe { pointers(ptr) };
        let (prev, next) = (p.prev.take(), p.next.take());
        match prev {
            // SAFETY: linked neighbours are live and guarded by this lock.
            Some(prev) => unsafe { pointers(prev).next = next },
            None if self.head == Some(ptr) => self.head = next,
            None => return false,
        }
        if let Some(next) = next {
            // SAFETY: as above.
            unsafe { pointers(next).prev = prev };
        }
        self.len -= 1;
        true
    }

    /// The tasks of this shard; the caller holds its lock for the whole walk.
    fn iter(&self) -> impl Iterator<Item = NonNull<Header>> + '_ {
        std::iter::successors(self.head, |&ptr| {
            // SAFETY: `ptr` is linked here, so the list's reference keeps it
            // alive, and the lock (`&self` comes from its guard) keeps every
            // writer of the links away while we read them.
            let header = unsafe { ptr.as_ref() };
            // SAFETY: the same lock keeps every writer of the links away.
            header.pointers.with(|p| unsafe { (*p).next })
        })
    }

    fn pop_front(&mut self) -> Option<NonNull<Header>> {
        let head = self.head?;
        // SAFETY: `head` is linked here and we hold the lock.
        let removed = unsafe { self.remove(head) };
        debug_assert!(removed);
        Some(head)
    }
}

impl OwnedTasks {
    pub(crate) fn new(workers: usize) -> OwnedTasks {
        let n = (workers * 4).next_power_of_two().clamp(4, 256);
        let shards = (0..n)
            .map(|_| CachePadded::new(Mutex::new(Shard { head: None, len: 0 })))
            .collect();
        OwnedTasks {
            shards,
            mask: n - 1,
            closed: AtomicBool::new(false),
        }
    }

    fn shard(&self, id: Id) -> &Mutex<Shard> {
        &self.shards[id.as_u64() as usize & self.mask]
    }

    /// Creates a task for `future` and adds it to the list. Returns its
    /// handle and the `Notified` to queue; if the list is closed the task is
    /// cancelled at once (its future dropped here) and no `Notified` comes.
    pub(crate) fn bind<F, S>(
        &self,
        future: F,
        scheduler: S,
        id: Id,
        site: Site,
    ) -> (JoinHandle<F::Output>, Option<Notified>)
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
        S: Schedule,
    {
        let ptr = Cell::allocate(future, scheduler, id, site);
        // SAFETY: a new task has three references (list, notified, join);
        // each of these values takes one of them.
        let (list_ref, notified, join) = unsafe {
            (
                Task::from_raw(ptr),
                Notified(Task::from_raw(ptr)),
                JoinHandle::from_raw(ptr),
            )
        };
        let mut shard = self.shard(id).lock();
        // Relaxed: read under the shard lock, which orders it against
        // `close_and_shutdown`'s store (that store precedes its own lock of
        // this shard).
        if self.closed.load(Relaxed) {
            drop(shard);
            drop(notified);
            // Not in the list: shutdown cancels it now and, finding nothing
            // to remove, releases just this reference.
            list_ref.shutdown();
            return (join, None);
        }
        // SAFETY: new task, in no list; lock held. The list keeps its ref.
        unsafe { shard.push_front(list_ref.into_raw()) };
        (join, Some(notified))
    }

    /// Takes a completed task out of the list, returning the list's
    /// reference, or `None` if shutdown already took it out.
    pub(crate) fn remove(&self, ptr: NonNull<Header>) -> Option<Task> {
        // SAFETY: the caller holds a reference to the task.
        let id = unsafe { ptr.as_ref() }.id;
        let mut shard = self.shard(id).lock();
        // SAFETY: a task is only ever in the shard of its id; lock held.
        if unsafe { shard.remove(ptr) } {
            // SAFETY: the list's reference is handed to the caller.
            Some(unsafe { Task::from_raw(ptr) })
        } else {
            None
        }
    }

    /// Closes the list: later `bind`s cancel their task at once.
    pub(crate) fn close(&self) {
        self.closed.store(true, Relaxed);
        // Make the store visible to binders through the shard locks.
        for shard in self.shards.iter() {
            drop(shard.lock());
        }
    }

    /// Closes the list to new tasks and cancels every task in it, calling
    /// `pending` with each one first (debug mode's lost-work report). Tasks
    /// being polled elsewhere are only marked; their poller cancels them.
    pub(crate) fn close_and_shutdown(&self, pending: &dyn Fn(&Header)) {
        self.closed.store(true, Relaxed);
        for shard in self.shards.iter() {
            loop {
                // The lock is not held while a task is cancelled: dropping a
                // future may spawn, wake or complete other tasks.
                let Some(ptr) = shard.lock().pop_front() else {
                    break;
                };
                // SAFETY: popped from the list, which hands us its reference.
                let task = unsafe { Task::from_raw(ptr) };
                pending(task.header());
                task.shutdown();
            }
        }
    }

    /// Runs `f` with the header of the live task `id`, if it is in the
    /// list; the shard lock is held meanwhile, so the header is alive.
    pub(crate) fn find<R>(&self, id: u64, f: impl FnOnce(&Header) -> R) -> Option<R> {
        let shard = self.shards[id as usize & self.mask].lock();
        let ptr = shard.iter().find(|p| {
            // SAFETY: linked in this shard, whose lock we hold.
            unsafe { p.as_ref() }.id.as_u64() == id
        })?;
        // SAFETY: as above.
        Some(f(unsafe { ptr.as_ref() }))
    }

    /// Runs `f` with every task in the list, one shard lock at a time (a
    /// shard's lock is held while `f` runs for that shard's tasks, so `f`
    /// must be short and must not touch the list).
    pub(crate) fn for_each(&self, mut f: impl FnMut(&Header)) {
        for shard in self.shards.iter() {
            let shard = shard.lock();
            for ptr in shard.iter() {
                // SAFETY: linked in this shard, whose lock we hold; the
                // list's reference keeps the task alive.
                f(unsafe { ptr.as_ref() });
            }
        }
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Relaxed)
    }

    /// Number of tasks spawned and not yet completed.
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().len).sum()
    }
}
