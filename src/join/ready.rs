//! The ready queue: one waker per item, one shared list of woken items.
//!
//! Every helper in this module waits on many items at once. Polling all of
//! them each time one wakes would cost O(n) per wake, O(n²) in all; instead
//! each item gets its own waker, and a wake records *which* item is ready.
//!
//! # Parts
//!
//! - A **slot** per item index: a `queued` flag, the index, and a pointer to
//!   the shared part. An item's waker is a pointer to its slot.
//! - The **shared list** ([`Shared`]): a mutex around the indices woken since
//!   the owner last looked, and the owner's own waker (the *parent waker*).
//!   The shared part also owns the slots, in chunks that never move, and is
//!   reference-counted: the [`ReadyQueue`] holds one reference and every
//!   item waker another, so a waker kept by a task that outlives the queue
//!   still points at a live slot.
//! - The **batch**: indices the owner took from the shared list and has not
//!   handed out yet, oldest first. Only the owner touches it.
//!
//! # Rules
//!
//! 1. **Queued.** A slot's `queued` flag is set while its index is in the
//!    shared list or in the batch. A wake sets it; only the wake that flips
//!    it from clear to set pushes the index and takes the parent waker (and
//!    wakes it, outside the lock). So an index is listed at most once, and
//!    a burst of wakes costs the owner one wake-up.
//! 2. **Pop before poll.** The owner clears `queued` when it pops an index
//!    from the batch, *before* polling the item. A wake that lands during or
//!    after that poll lists the index again; a wake that landed before the
//!    clear is covered by the poll that follows it. No wake is lost.
//! 3. **Register, then take everything.** [`ReadyQueue::begin`] stores the
//!    parent waker and moves the whole shared list to the end of the batch,
//!    under one lock. An index listed before that is in the batch; a wake
//!    after that finds the parent waker and wakes it. So an owner that
//!    returns `Pending` with an empty batch is always woken for later items.
//!    (Taking the list only when the batch is empty would lose exactly those
//!    indices listed while a left-over batch was being polled.)
//! 4. **One batch per poll.** An owner polls only what `begin` gave it; items
//!    that wake during the batch wait for the next poll. An item that wakes
//!    itself on every poll therefore cannot keep the owner spinning. When the
//!    task's cooperative budget runs out the owner stops early; the rest of
//!    the batch stays (still `queued`) for its next poll.
//!
//! Each item is thus polled once to start and then once per wake: waiting on
//! n items costs O(n) in all.

use crate::loom::std::sync::Arc;
use std::collections::VecDeque;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ptr::NonNull;
use std::task::{RawWaker, RawWakerVTable, Waker};

use crate::loom::sync::Mutex;
use crate::loom::sync::atomic::{AtomicBool, Ordering};

/// Slots in the first chunk when no size is known up front.
const MIN_CHUNK: usize = 32;

/// The owner's side: hands out ready indices and per-item wakers.
pub(crate) struct ReadyQueue {
    shared: Arc<Shared>,
    /// Copies of the chunk pointers (owned by `shared`), so that finding a
    /// slot takes no lock. Chunk 0 holds `first` slots; chunk k >= 1 holds
    /// `first << (k - 1)`, so the capacity doubles with each chunk.
    chunks: Vec<NonNull<Slot>>,
    /// Length of chunk 0.
    first: usize,
    /// Slots allocated so far (the sum of the chunk lengths).
    capacity: usize,
    /// Indices taken from the shared list, oldest first; each is still
    /// `queued`.
    batch: VecDeque<usize>,
}

// SAFETY: the chunk pointers point into allocations owned by `shared` (an
// `Arc` we hold), and slots are only read through atomics and immutable
// fields, so the queue can move to another thread.
unsafe impl Send for ReadyQueue {}
// SAFETY: `&ReadyQueue` only reads slots (atomics and immutable fields) and
// builds wakers, which are thread-safe.
unsafe impl Sync for ReadyQueue {}

/// The part shared with the item wakers.
struct Shared {
    list: Mutex<List>,
    /// Every chunk as (pointer, length), freed when the last reference goes.
    /// Locked only to add a chunk.
    chunks: Mutex<Vec<(NonNull<Slot>, usize)>>,
}

// SAFETY: the chunk pointers are owned by `Shared` and only freed in its
// `Drop`; slots are accessed through atomics and immutable fields.
unsafe impl Send for Shared {}
// SAFETY: as above; the lists are behind mutexes.
unsafe impl Sync for Shared {}

/// What the wakers and the owner exchange.
struct List {
    /// Indices woken since the owner last took the list, in wake order.
    ready: Vec<usize>,
    /// The owner's waker (rule 3); taken by the wake that lists an index.
    parent: Option<Waker>,
}

/// One item's waker target.
struct Slot {
    /// Rule 1: set while the index is listed or batched.
    queued: AtomicBool,
    index: usize,
    /// The `Shared` that owns this slot; each waker holds a strong
    /// reference to it.
    shared: *const Shared,
}

impl ReadyQueue {
    /// An empty queue whose first chunk of slots (allocated on first use)
    /// holds `hint` items, or 32 if that is more.
    pub(crate) fn with_capacity(hint: usize) -> ReadyQueue {
        ReadyQueue {
            shared: Arc::new(Shared {
                list: Mutex::new(List {
                    ready: Vec::new(),
                    parent: None,
                }),
                chunks: Mutex::new(Vec::new()),
            }),
            chunks: Vec::new(),
            first: hint.max(MIN_CHUNK),
            capacity: 0,
            batch: VecDeque::new(),
        }
    }

    /// A queue for exactly the items `0..n`, each ready for its first poll.
    pub(crate) fn all_ready(n: usize) -> ReadyQueue {
        let mut queue = ReadyQueue::with_capacity(n);
        queue.grow_to(n, true);
        queue.batch = (0..n).collect();
        queue
    }

    /// Marks `index` ready for a first poll (a new item in that slot),
    /// allocating slots up to it if needed.
    pub(crate) fn insert(&mut self, index: usize) {
        self.grow_to(index + 1, false);
        // Rule 1: if it is already listed (a late wake from the slot's
        // previous item), that listing will poll the new item.
        if !self.slot(index).queued.swap(true, Ordering::AcqRel) {
            self.batch.push_back(index);
        }
    }

    /// Rule 3: registers `parent` as the owner's waker and takes everything
    /// woken since the last call.
    pub(crate) fn begin(&mut self, parent: &Waker) {
        let mut list = self.shared.list.lock();
        match &mut list.parent {
            Some(w) if w.will_wake(parent) => {}
            slot => *slot = Some(parent.clone()),
        }
        self.batch.extend(list.ready.drain(..));
    }

    /// The next index to poll, clearing its `queued` flag (rule 2).
    pub(crate) fn pop(&mut self) -> Option<usize> {
        let index = self.batch.pop_front()?;
        // AcqRel: pairs with the `swap(true)` of a wake that found the flag
        // already set, so this poll sees what that waker published.
        self.slot(index).queued.swap(false, Ordering::AcqRel);
        Some(index)
    }

    /// True if indices are waiting in the current batch.
    pub(crate) fn has_batch(&self) -> bool {
        !self.batch.is_empty()
    }

    /// The waker for item `index`, borrowed: polling with it costs no
    /// reference count; an item that keeps it clones it.
    pub(crate) fn waker(&self, index: usize) -> WakerRef<'_> {
        let data: *const Slot = self.slot(index);
        // SAFETY: `data` is a live slot of `self.shared`; the vtable's
        // contract holds (see `clone_waker`). The waker is never dropped
        // (ManuallyDrop), so it releases no reference it does not own, and
        // `WakerRef` keeps it from outliving `self`.
        let waker = unsafe { Waker::from_raw(RawWaker::new(data.cast(), &VTABLE)) };
        WakerRef {
            waker: ManuallyDrop::new(waker),
            _queue: PhantomData,
        }
    }

    /// Allocates chunks until there are at least `n` slots, `queued` or not.
    fn grow_to(&mut self, n: usize, queued: bool) {
        while self.capacity < n {
            let len = if self.chunks.is_empty() {
                self.first
            } else {
                self.capacity
            };
            let shared: *const Shared = Arc::as_ptr(&self.shared);
            let start = self.capacity;
            let chunk: Box<[Slot]> = (start..start + len)
                .map(|index| Slot {
                    queued: AtomicBool::new(queued),
                    index,
                    shared,
                })
                .collect();
            let ptr = NonNull::from(Box::leak(chunk)).cast::<Slot>();
            self.shared.chunks.lock().push((ptr, len));
            self.chunks.push(ptr);
            self.capacity += len;
        }
    }

    fn slot(&self, index: usize) -> &Slot {
        debug_assert!(index < self.capacity, "slot {index} not allocated");
        let (chunk, offset) = if index < self.first {
            (0, index)
        } else {
            let k = (index / self.first).ilog2() as usize + 1;
            (k, index - (self.first << (k - 1)))
        };
        // SAFETY: `grow_to` allocated chunk `chunk` with more than `offset`
        // slots; `self.shared` owns it and we hold a reference to `shared`.
        unsafe { &*self.chunks[chunk].as_ptr().add(offset) }
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        for (ptr, len) in self.chunks.get_mut().drain(..) {
            // SAFETY: each chunk came from `Box::leak` of a `Box<[Slot]>` of
            // this length, and the last reference (queue or waker) is gone.
            drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(ptr.as_ptr(), len)) });
        }
    }
}

impl Slot {
    /// Rule 1: lists the index unless it is listed already, and wakes the
    /// owner if it was waiting.
    fn wake(&self) {
        // AcqRel: the release half publishes what the waker did before
        // waking to the owner's `pop`; see `ReadyQueue::pop`.
        if self.queued.swap(true, Ordering::AcqRel) {
            return;
        }
        // SAFETY: the caller's waker holds a reference to `shared`.
        let shared = unsafe { &*self.shared };
        let parent = {
            let mut list = shared.list.lock();
            list.ready.push(self.index);
            list.parent.take()
        };
        if let Some(parent) = parent {
            parent.wake();
        }
    }
}

/// A borrowed item waker; see [`ReadyQueue::waker`].
pub(crate) struct WakerRef<'a> {
    waker: ManuallyDrop<Waker>,
    _queue: PhantomData<&'a ReadyQueue>,
}

impl std::ops::Deref for WakerRef<'_> {
    type Target = Waker;

    fn deref(&self) -> &Waker {
        &self.waker
    }
}

static VTABLE: RawWakerVTable =
    RawWakerVTable::new(clone_waker, wake_waker, wake_by_ref_waker, drop_waker);

// The waker data is a `*const Slot`. An owned waker holds one strong
// reference to the slot's `Shared`, which keeps the slot alive; a borrowed
// one (`WakerRef`) relies on the queue's reference.

/// # Safety
/// `data` is a live slot.
unsafe fn clone_waker(data: *const ()) -> RawWaker {
    // SAFETY: the waker being cloned keeps the slot and its `Shared` alive.
    unsafe { Arc::increment_strong_count((*data.cast::<Slot>()).shared) };
    RawWaker::new(data, &VTABLE)
}

/// # Safety
/// `data` is a live slot and this waker owns a reference to its `Shared`.
unsafe fn wake_waker(data: *const ()) {
    // SAFETY: forwarded contract; then the owned reference is released.
    unsafe {
        wake_by_ref_waker(data);
        drop_waker(data);
    }
}

/// # Safety
/// `data` is a live slot.
unsafe fn wake_by_ref_waker(data: *const ()) {
    // SAFETY: the waker keeps the slot alive for the call.
    unsafe { &*data.cast::<Slot>() }.wake();
}

/// # Safety
/// `data` is a live slot and this waker owns a reference to its `Shared`.
unsafe fn drop_waker(data: *const ()) {
    // Read the pointer first: releasing the reference may free the slot.
    // SAFETY: the slot is alive until the decrement below.
    let shared = unsafe { (*data.cast::<Slot>()).shared };
    // SAFETY: this waker owned one strong reference.
    unsafe { Arc::decrement_strong_count(shared) };
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::task::Wake;

    struct Count(std::sync::atomic::AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }

    fn parent() -> (Arc<Count>, Waker) {
        let c = Arc::new(Count(Default::default()));
        (c.clone(), Waker::from(c))
    }

    fn drain(q: &mut ReadyQueue, parent: &Waker) -> Vec<usize> {
        q.begin(parent);
        std::iter::from_fn(|| q.pop()).collect()
    }

    #[test]
    fn first_poll_in_order_then_only_woken() {
        let (count, p) = parent();
        let mut q = ReadyQueue::all_ready(5);
        assert_eq!(drain(&mut q, &p), [0, 1, 2, 3, 4]);
        assert_eq!(drain(&mut q, &p), []);
        let w3 = (*q.waker(3)).clone();
        let w1 = (*q.waker(1)).clone();
        w3.wake_by_ref();
        w3.wake_by_ref(); // listed once
        w1.wake();
        assert_eq!(
            count.0.load(std::sync::atomic::Ordering::SeqCst),
            1,
            "one parent wake per burst"
        );
        assert_eq!(drain(&mut q, &p), [3, 1], "wake order");
        drop(w3);
    }

    #[test]
    fn wakers_outlive_queue_and_grow_across_chunks() {
        let (_count, p) = parent();
        let mut q = ReadyQueue::with_capacity(0);
        for i in 0..1000 {
            q.insert(i);
        }
        assert_eq!(drain(&mut q, &p).len(), 1000);
        let wakers: Vec<Waker> = (0..1000).map(|i| (*q.waker(i)).clone()).collect();
        for w in wakers.iter().rev().step_by(7) {
            w.wake_by_ref();
        }
        let got = drain(&mut q, &p);
        assert_eq!(got.len(), 143);
        assert_eq!(got[0], 999);
        drop(q);
        // The slots are still alive for the wakers.
        for w in wakers {
            w.wake();
        }
    }

    #[test]
    fn wakes_listed_while_a_batch_is_left_over_are_not_lost() {
        let (_count, p) = parent();
        let mut q = ReadyQueue::all_ready(3);
        q.begin(&p);
        assert_eq!(q.pop(), Some(0));
        // The owner stops (budget) with 1 and 2 left; 0 wakes meanwhile.
        q.waker(0).wake_by_ref();
        // Next poll: the left-over batch, then what was listed.
        assert_eq!(drain(&mut q, &p), [1, 2, 0]);
    }

    #[test]
    fn insert_of_listed_index_is_not_duplicated() {
        let (_count, p) = parent();
        let mut q = ReadyQueue::all_ready(2);
        assert_eq!(drain(&mut q, &p), [0, 1]);
        q.waker(0).wake_by_ref();
        q.insert(0);
        assert_eq!(drain(&mut q, &p), [0]);
    }
}
