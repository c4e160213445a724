//! The FIFO wait list behind [`Semaphore`](super::Semaphore) and
//! [`Notify`](super::Notify), and a batch of wakers to wake after a lock is
//! released.
//!
//! A [`WaitList`] is a doubly linked list threaded through a slab: each
//! waiting future owns one *slot*, named by its [`Key`]. The list is always
//! used under its owner's mutex, so it needs no atomics and no unsafe code.
//!
//! A slot has two independent properties:
//!
//! - **linked**: it is in the FIFO order (still waiting). The releaser or
//!   notifier *unlinks* a slot when it serves that waiter, and records in
//!   the slot's value what the waiter got.
//! - **allocated**: the waiting future still owns it. The owning future
//!   frees its slot ([`WaitList::remove`]) when it completes or is
//!   dropped, so a key never names a slot that was reused behind its
//!   owner's back, and the owner can read what it was given. One
//!   exception: the semaphore's releaser frees the slot of a waiter it
//!   serves, and that waiter, which learns it was served from an atomic
//!   outside the list, never uses its key again (semaphore rules 4 and 9).

use std::task::Waker;

use crate::task::waker::wake_contained;

/// Names one slot of a [`WaitList`]; valid until the slot is removed.
pub(crate) type Key = usize;

/// A slot's index inside the list: 32 bits, so that the list's header
/// (with the lock and the semaphore's words around it) fits in fewer cache
/// lines, and a [`Slot`] of the semaphore's waiter is exactly one line
/// (docs/PERFORMANCE.md, "Bounded channels: a lock on one line, and no
/// spin before a park").
type Link = u32;

/// "No slot", in the links.
const NIL: Link = Link::MAX;

/// The most slots a list holds: one below `NIL`. Every slot is a waiting
/// future, so this is 4,294,967,295 futures waiting on one primitive at
/// once; [`WaitList::push_back`] panics past it rather than corrupt links.
const MAX_SLOTS: usize = NIL as usize;

/// Below this many slots an empty list keeps its memory.
///
/// Why 64: a lock or channel usually has a handful of waiters, and keeping
/// that much (a few hundred bytes) avoids reallocating on every burst;
/// after a rare stampede of thousands, an empty list gives the memory back.
const SHRINK_ABOVE: usize = 64;

/// A FIFO list of waiters, each with a value `W`, in a slab.
#[derive(Debug)]
pub(crate) struct WaitList<W> {
    /// The slab. A free slot has `value == None` and is on the free list.
    slots: Vec<Slot<W>>,
    /// Oldest linked slot, or `NIL`.
    head: Link,
    /// Newest linked slot, or `NIL`.
    tail: Link,
    /// First free slot (chained through `next`), or `NIL`.
    free: Link,
    /// Linked slots.
    linked: Link,
    /// Allocated slots (linked or not).
    allocated: Link,
}

#[derive(Debug)]
struct Slot<W> {
    /// The waiter's value; `None` while the slot is free.
    value: Option<W>,
    /// Previous linked slot (towards the head), or `NIL`.
    prev: Link,
    /// Next linked slot (towards the tail); on the free list, the next free
    /// slot. `NIL` at the end.
    next: Link,
    /// True while in the FIFO order.
    linked: bool,
}

impl<W> WaitList<W> {
    /// An empty list; allocates nothing.
    pub(crate) const fn new() -> WaitList<W> {
        WaitList {
            slots: Vec::new(),
            head: NIL,
            tail: NIL,
            free: NIL,
            linked: 0,
            allocated: 0,
        }
    }

    /// True if no slot is linked (nobody is waiting).
    pub(crate) fn is_empty(&self) -> bool {
        self.linked == 0
    }

    /// Linked slots: how many are waiting.
    pub(crate) fn len(&self) -> usize {
        self.linked as usize
    }

    /// Allocates a slot for `value` and links it at the tail.
    pub(crate) fn push_back(&mut self, value: W) -> Key {
        let key = match self.free {
            NIL => {
                assert!(
                    self.slots.len() < MAX_SLOTS,
                    "wait list: more than {MAX_SLOTS} futures waiting on one primitive"
                );
                self.slots.push(Slot {
                    value: None,
                    prev: NIL,
                    next: NIL,
                    linked: false,
                });
                (self.slots.len() - 1) as Link
            }
            key => {
                self.free = self.slots[key as usize].next;
                key
            }
        };
        let slot = &mut self.slots[key as usize];
        slot.value = Some(value);
        slot.prev = self.tail;
        slot.next = NIL;
        slot.linked = true;
        match self.tail {
            NIL => self.head = key,
            tail => self.slots[tail as usize].next = key,
        }
        self.tail = key;
        self.linked += 1;
        self.allocated += 1;
        key as Key
    }

    /// The oldest linked slot.
    pub(crate) fn front(&self) -> Option<Key> {
        (self.head != NIL).then_some(self.head as Key)
    }

    /// The linked values, oldest first.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &W> + '_ {
        let mut key = self.head;
        std::iter::from_fn(move || {
            if key == NIL {
                return None;
            }
            let slot = &self.slots[key as usize];
            key = slot.next;
            slot.value.as_ref()
        })
    }

    /// Unlinks the oldest slot and returns its key; the slot stays allocated
    /// for its owner.
    pub(crate) fn pop_front(&mut self) -> Option<Key> {
        let key = self.front()?;
        self.unlink(key);
        Some(key)
    }

    /// Takes `key` out of the FIFO order (if it is in it); the slot stays
    /// allocated. Returns true if it was linked.
    pub(crate) fn unlink(&mut self, key: Key) -> bool {
        let slot = &mut self.slots[key];
        if !slot.linked {
            return false;
        }
        slot.linked = false;
        let (prev, next) = (slot.prev, slot.next);
        slot.prev = NIL;
        slot.next = NIL;
        match prev {
            NIL => self.head = next,
            prev => self.slots[prev as usize].next = next,
        }
        match next {
            NIL => self.tail = prev,
            next => self.slots[next as usize].prev = prev,
        }
        self.linked -= 1;
        true
    }

    /// The value of slot `key`.
    pub(crate) fn get_mut(&mut self, key: Key) -> &mut W {
        self.slots[key]
            .value
            .as_mut()
            .expect("wait list: key names a free slot")
    }

    /// Unlinks (if needed) and frees slot `key`, returning its value. Only
    /// the slot's owner calls this, once (or, for the semaphore, the
    /// releaser that serves it: see the module docs).
    pub(crate) fn remove(&mut self, key: Key) -> W {
        self.unlink(key);
        let slot = &mut self.slots[key];
        let value = slot.value.take().expect("wait list: slot removed twice");
        slot.next = self.free;
        // In range: every key came from `push_back`, below `MAX_SLOTS`.
        self.free = key as Link;
        self.allocated -= 1;
        if self.allocated == 0 && self.slots.len() > SHRINK_ABOVE {
            // A burst of waiters is over: give the memory back.
            *self = WaitList::new();
        }
        value
    }
}

/// Wakers collected under a lock, woken after it is released (a woken task
/// may run at once on another thread and want the same lock).
#[derive(Debug, Default)]
pub(crate) struct WakeList {
    /// The first few, without allocating.
    inline: [Option<Waker>; 4],
    len: usize,
    /// The rest, when a release or a close wakes many.
    spill: Vec<Waker>,
}

impl WakeList {
    /// An empty batch.
    pub(crate) fn new() -> WakeList {
        WakeList::default()
    }

    /// Adds `waker`, if there is one.
    pub(crate) fn push(&mut self, waker: Option<Waker>) {
        let Some(waker) = waker else { return };
        if self.len < self.inline.len() {
            self.inline[self.len] = Some(waker);
            self.len += 1;
        } else {
            self.spill.push(waker);
        }
    }

    /// Wakes every waker in the batch. A waker that panics (a foreign
    /// executor's) costs neither the others their wake-up nor the caller
    /// its work: the panic is contained (`task::waker::wake_contained`; the
    /// panic hook reported it). The caller is a task that released a permit
    /// or took a message, and a panic unwinding into it would have lost that
    /// message (a bounded channel's `recv` had already taken it out).
    pub(crate) fn wake_all(self) {
        let all = self.inline.into_iter().flatten().chain(self.spill);
        for waker in all {
            wake_contained(waker);
        }
    }
}

/// Stores `cx`'s waker in `slot` unless the one there would wake the same
/// task.
pub(crate) fn set_waker(slot: &mut Option<Waker>, waker: &Waker) {
    match slot {
        Some(old) if old.will_wake(waker) => {}
        _ => *slot = Some(waker.clone()),
    }
}

/// Bytes of one slot holding a `W` (the semaphore's layout test).
#[cfg(all(test, not(loom)))]
pub(crate) fn slot_size<W>() -> usize {
    std::mem::size_of::<Slot<W>>()
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// A waker that panics (a foreign executor's bug) must not cost the
    /// other wakers of the batch their wake-up (issue #13 sync audit), nor
    /// unwind into the caller (session 13).
    #[test]
    fn a_panicking_waker_does_not_lose_the_others() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
        struct Bad;
        impl std::task::Wake for Bad {
            fn wake(self: Arc<Self>) {
                panic!("bad waker");
            }
        }
        struct Count(AtomicUsize);
        impl std::task::Wake for Count {
            fn wake(self: Arc<Self>) {
                self.0.fetch_add(1, SeqCst);
            }
        }
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let mut batch = WakeList::new();
        batch.push(Some(Waker::from(Arc::new(Bad))));
        for _ in 0..6 {
            // Past the inline part, into the spill.
            batch.push(Some(Waker::from(count.clone())));
        }
        let res = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| batch.wake_all()));
        assert!(res.is_ok(), "the panic stops with the waker that raised it");
        assert_eq!(count.0.load(SeqCst), 6, "every other waker was woken");
    }

    #[test]
    fn fifo_order_and_unlink_from_the_middle() {
        let mut list = WaitList::new();
        let keys: Vec<Key> = (0..5).map(|i| list.push_back(i)).collect();
        assert_eq!(list.len(), 5);
        assert!(list.unlink(keys[2]));
        assert!(!list.unlink(keys[2]));
        let mut order = Vec::new();
        while let Some(k) = list.pop_front() {
            order.push(*list.get_mut(k));
        }
        assert_eq!(order, [0, 1, 3, 4]);
        assert!(list.is_empty());
        for k in keys {
            list.remove(k);
        }
        assert_eq!(list.allocated, 0);
    }

    #[test]
    fn slots_are_reused_and_memory_is_returned() {
        let mut list = WaitList::new();
        let a = list.push_back('a');
        list.remove(a);
        let b = list.push_back('b');
        assert_eq!(a, b, "freed slot reused");
        list.remove(b);
        let many: Vec<Key> = (0..100).map(|i| list.push_back(char::from(i))).collect();
        for k in many {
            list.remove(k);
        }
        assert_eq!(list.slots.capacity(), 0, "burst memory returned");
    }
}
