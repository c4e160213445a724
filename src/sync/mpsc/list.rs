//! The message queue of an unbounded `mpsc` channel: a linked list of
//! fixed blocks that the receiver recycles instead of freeing, so that a
//! channel in a steady state allocates nothing.
//!
//! # Why not a general-purpose queue
//!
//! A list of blocks that frees each block once read allocates on the
//! senders' threads and frees on the receiver's. With glibc, the receiver's
//! frees of a size it never allocates go past its thread cache to the main
//! arena, under the arena's lock, against the senders' allocations: on 2
//! cores that lock was most of the futex calls and context switches of a
//! paced channel (docs/PERFORMANCE.md, "Latency under load on 2 cores").
//! Here the receiver hands a finished block back to the end of the list,
//! where the senders find it, and nobody allocates once the list is as
//! long as the traffic needs.
//!
//! # Layout
//!
//! Every message gets an **index**, its place in the queue. Index `i` lives
//! in slot `i % B` of the block whose `start` is `i - i % B`. Blocks are
//! chained by `next` (and back by `prev`), each `start` being its
//! predecessor's plus `B`; each slot has a `ready` flag, set once the
//! slot holds its message (a flag per slot, not one word per block: the
//! senders of one block on different cores would all write that word, and
//! the receiver read it, for every message), and a block's `released`
//! word says when the receiver may take it back.
//!
//! - `tail`: `index << 1 | CLOSED`, the next index to hand out and the
//!   close, in one word. Written by every push.
//! - `tail_block`: the block of the latest claims, or near it, where a
//!   push starts looking. `first`: the first block ever made (the list is
//!   made on the first push).
//! - The receiver's own: `head` (the next index to pop), the block it pops
//!   from, and `oldest`, the first block it has not handed back yet.
//!
//! A block's *life* runs from its making (or its reset, rule 7) to its
//! next reset (or its freeing). Rules speak of lives: a pointer to a block
//! "holds" the life it was read in.
//!
//! # Rules
//!
//! 1. **Claim.** A push takes index `i` by `tail.fetch_add(1 << 1)`
//!    (Acquire, rule 6). If the word it read has `CLOSED`, the push fails
//!    and hands its value back without touching any block. The receiver
//!    closes by `tail.fetch_or(CLOSED)` and keeps the index it read as
//!    `closed_at`. The two are read-modify-writes of one word, so each
//!    push is before the close (`i < closed_at`: it will be received) or
//!    after it (it fails).
//! 2. **Find.** After its claim, the push loads `tail_block` (Acquire:
//!    pairs with the Release of whoever stored it, so the block's reset,
//!    `start` and `prev` are seen). If that block is before its own, it
//!    walks `next` (Acquire, pairs with the Release CAS that linked the
//!    block), appending a new block where `next` is null (rule 7's CAS);
//!    if it is past its own (a later push moved `tail_block` on between
//!    this push's claim and its load), it walks `prev` back. Either way it
//!    stops at the block whose `start` is its own.
//! 3. **Write.** The push writes its slot, then sets the slot's `ready`
//!    flag (a Release store: publishes the value, and every access this
//!    push made to any block, to the receiver's Acquire load of rule 8).
//!    That flag is the push's last access to any block. Nothing between
//!    the claim and the flag can panic (an allocation failure aborts), so every claimed
//!    index below `closed_at` is filled.
//! 4. **Advance.** `tail_block` moves from a block `X` to `X.next` only by
//!    a CAS (Release, for rule 2's Acquire) made by a push walking forward
//!    past `X` to its own block, so every index of `X` is claimed by then
//!    (not necessarily written: a push stalled between its claim and its
//!    flag does not hold `tail_block` back, as it would if `tail_block`
//!    waited for full blocks, making every later push walk a longer
//!    chain). A push that fails the CAS stops advancing for the rest of
//!    its walk.
//! 5. **Release.** The push whose CAS moved `tail_block` past `X` then
//!    does `tail.fetch_add(0)` (Release, for rule 6), reads the index `o`
//!    from it, and stores `o` with the `RELEASED` bit in `X.released`
//!    (Release: its own accesses to `X` happen before the receiver's
//!    Acquire load). It touches `X` no more.
//! 6. **Every push that can still reach `X` has an index below `o`.** Take
//!    a push `P` with index `i` that reaches `X`. `P`'s claim `c` and rule
//!    5's `w` are read-modify-writes of `tail`, so one is before the other
//!    in `tail`'s modification order, and claims hand out indices in that
//!    order.
//!    - If `X` is `P`'s block or a later one (reached walking forward from
//!      an older `tail_block`, or back from a newer one), the push that
//!      moved `tail_block` past `X` claimed an index past `X`, so above
//!      `i`: after `c` in the order, and before its own `w`. So `i < o`.
//!    - If `X` is before `P`'s block, `P` reached it walking forward from
//!      a `tail_block` value at or before `X`, so its load of
//!      `tail_block` read a value before rule 4's CAS `C` in
//!      `tail_block`'s modification order. If `w` were before `c`, `c`
//!      (Acquire) would read a value in `w`'s release sequence (every
//!      later write of `tail` is a read-modify-write), so `C` (before `w`)
//!      would happen before `P`'s load, which could then not read a value
//!      older than `C`. So `c` is first, and `i < o`.
//!
//!    No fence is needed: the two read-modify-writes of one word are what
//!    is totally ordered.
//! 7. **Recycle.** The receiver takes `X` back once it has moved past `X`,
//!    `X.released` is set (Acquire, pairs with rule 5) and `head >= o`:
//!    it has then popped every index below `o`, each after reading its
//!    push's flag (rule 3's Acquire), so by rule 6 every access of this life
//!    of `X` happens before the take-back. It resets `X` (no flags, not
//!    released, no `next`), then appends it after the last block, found
//!    from `tail_block` in at most `SPARE_WALK` steps: it sets `X.start`
//!    and `X.prev` and CASes the last block's `next` from null (Release,
//!    for the Acquire loads of rules 2 and 8; a push appending a new block
//!    does the same). If no end is within reach, enough spare blocks exist and
//!    `X` is freed. A push reaches the new life only through that CAS, so
//!    it sees the reset.
//! 8. **Pop.** Only the receiver pops (`pop` is an `unsafe fn`). It reads
//!    `head`'s slot's `ready` flag (Acquire, pairs with rule 3),
//!    moving to `next` (Acquire) when the block is finished. A clear flag
//!    is `Empty` (a push may have claimed the index and not written yet:
//!    that push wakes the receiver after its flag, `chan.rs` rule 1), or
//!    `Closed` if `head == closed_at`.
//! 9. **Drop.** With `&mut self`, every push is done: the drop pops what is
//!    left and frees every block from `oldest` on. A message whose drop
//!    panics was already taken out, so it is not dropped twice; the rest
//!    are dropped and the blocks freed while that panic unwinds (a second
//!    panicking drop during the unwind aborts, as for a `Vec`).
//!
//! # Memory
//!
//! A block is 4 words plus `B` slots of a message and its flag (`B` = 32;
//! 544 bytes for an 8-byte message). An unused channel has no block. A channel in a steady
//! state keeps the block being filled, the one being read, and at most
//! `SPARE_WALK` spares past `tail_block`; a burst keeps the blocks it
//! needed until the receiver has read them, then frees all but the spares.

use std::mem::{self, MaybeUninit};
use std::ptr;

use crossbeam_utils::CachePadded;

use crate::loom::cell::UnsafeCell;
use crate::loom::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering::*};

/// Slots per block. 2 under loom, so that models cross blocks quickly.
#[cfg(not(loom))]
const B: usize = 32;
#[cfg(loom)]
const B: usize = 2;

/// `tail`: the receiver closed the list (rule 1).
const CLOSED: usize = 1;
/// `tail`: one index.
const ONE: usize = 1 << 1;
/// `released`: the block may be taken back once `head` reaches the index
/// above this bit (rule 5).
const RELEASED: usize = 1;
/// How far from `tail_block` the receiver looks for the end to hand a
/// block back (rule 7); this many spare blocks at most are kept.
const SPARE_WALK: usize = 3;

/// Why `pop` returned nothing.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum PopError {
    /// Nothing to pop now.
    Empty,
    /// Nothing to pop ever again: closed, and every message popped.
    Closed,
}

/// `B` slots and their bookkeeping.
struct Block<T> {
    /// Index of slot 0, and the block before (null for the first). Written
    /// only while no push can reach this life (when made, or in rule 7's
    /// append).
    link: UnsafeCell<Link<T>>,
    /// The next block, null until a push or the receiver links one.
    next: AtomicPtr<Block<T>>,
    /// `o << 1 | RELEASED` once `tail_block` left this block (rule 5).
    released: AtomicUsize,
    /// The messages.
    slots: [Slot<T>; B],
}

/// One message's place.
struct Slot<T> {
    value: UnsafeCell<MaybeUninit<T>>,
    /// The slot holds its message (rule 3).
    ready: AtomicBool,
}

/// Where a block sits in the chain.
struct Link<T> {
    start: usize,
    prev: *mut Block<T>,
}

impl<T> Block<T> {
    /// A new, empty block on the heap.
    fn alloc(start: usize, prev: *mut Block<T>) -> *mut Block<T> {
        Box::into_raw(Box::new(Block {
            link: UnsafeCell::new(Link { start, prev }),
            next: AtomicPtr::new(ptr::null_mut()),
            released: AtomicUsize::new(0),
            slots: std::array::from_fn(|_| Slot {
                value: UnsafeCell::new(MaybeUninit::uninit()),
                ready: AtomicBool::new(false),
            }),
        }))
    }

    fn start(&self) -> usize {
        // SAFETY: `link` is written only while no other thread can reach
        // this life (rule 7), and those writes happen before this read.
        self.link.with(|p| unsafe { (*p).start })
    }

    fn prev(&self) -> *mut Block<T> {
        // SAFETY: as in `start`.
        self.link.with(|p| unsafe { (*p).prev })
    }

    /// The next block of `this` (`self`); one is appended if there is none
    /// (rule 2).
    fn next_or_append(&self, this: *mut Block<T>) -> *mut Block<T> {
        // Acquire: pairs with the Release CAS that linked it (rule 7).
        let next = self.next.load(Acquire);
        if !next.is_null() {
            return next;
        }
        Block::publish(&self.next, Block::alloc(self.start() + B, this))
    }

    /// Stores `new` into the empty `at`, or, if another thread filled it
    /// first, frees `new` and returns that thread's block.
    fn publish(at: &AtomicPtr<Block<T>>, new: *mut Block<T>) -> *mut Block<T> {
        // Release: publishes the new block. Acquire on failure: the
        // winner's block, made or reset before its Release CAS.
        match at.compare_exchange(ptr::null_mut(), new, Release, Acquire) {
            Ok(_) => new,
            Err(won) => {
                // SAFETY: `new` was never published: this thread owns it.
                drop(unsafe { Box::from_raw(new) });
                won
            }
        }
    }
}

/// The senders' words, on a cache line of their own.
struct Tail<T> {
    /// `index << 1 | CLOSED` (rule 1).
    index: AtomicUsize,
    /// Where a push starts looking (rules 2 and 4); null until the first
    /// push.
    block: AtomicPtr<Block<T>>,
    /// The first block ever made; read only until the receiver and
    /// `block` have one.
    first: AtomicPtr<Block<T>>,
}

/// The receiver's own position (rule 8).
struct Cursor<T> {
    /// The block `head` is in (or just past); null before the first pop
    /// that finds a block.
    block: *mut Block<T>,
    /// The first block not handed back yet (rule 7).
    oldest: *mut Block<T>,
}

/// An unbounded multi-producer, single-consumer queue (the module doc).
pub(crate) struct List<T> {
    tail: CachePadded<Tail<T>>,
    /// The next index to pop. Written only by the receiver; also read by
    /// `len` from any thread.
    head: AtomicUsize,
    /// Rule 1's `closed_at`; `usize::MAX` while open.
    closed_at: AtomicUsize,
    rx: UnsafeCell<Cursor<T>>,
}

// SAFETY: the list moves `T`s from the pushing thread to the popping one,
// which needs `T: Send`; it never hands out a `&T`, so sharing the list
// needs nothing more. The raw pointers are blocks owned by the list.
unsafe impl<T: Send> Send for List<T> {}
// SAFETY: as above; every shared access goes through the rules.
unsafe impl<T: Send> Sync for List<T> {}

impl<T> List<T> {
    /// An empty list; no block until the first push.
    pub(crate) fn new() -> List<T> {
        List {
            tail: CachePadded::new(Tail {
                index: AtomicUsize::new(0),
                block: AtomicPtr::new(ptr::null_mut()),
                first: AtomicPtr::new(ptr::null_mut()),
            }),
            head: AtomicUsize::new(0),
            closed_at: AtomicUsize::new(usize::MAX),
            rx: UnsafeCell::new(Cursor {
                block: ptr::null_mut(),
                oldest: ptr::null_mut(),
            }),
        }
    }

    /// Pushes `value`, or hands it back if the list is closed (rules 1-3).
    pub(crate) fn push(&self, value: T) -> Result<(), T> {
        // Acquire: rule 6 (reads rule 5's Release read-modify-writes).
        let word = self.tail.index.fetch_add(ONE, Acquire);
        if word & CLOSED != 0 {
            return Err(value);
        }
        self.fill(word >> 1, value);
        Ok(())
    }

    /// Rules 2 and 3 for the claimed `index`.
    #[inline]
    fn fill(&self, index: usize, value: T) {
        let block = self.find(index);
        // SAFETY: `find` returned the block of `index` in a life that
        // cannot be recycled before this push's flag is read (rules 6, 7);
        // slot `index % B` of it is this push's alone (rule 1).
        unsafe {
            let block = &*block;
            let slot = index % B;
            let slot = &block.slots[slot];
            slot.value.with_mut(|p| (*p).write(value));
            // Release: rule 3.
            slot.ready.store(true, Release);
        }
    }

    /// The block of `index`, walking from `tail_block` and advancing it
    /// past full blocks on the way (rules 2, 4 and 5).
    fn find(&self, index: usize) -> *mut Block<T> {
        let want = index - index % B;
        // Acquire: rule 2.
        let mut block = self.tail.block.load(Acquire);
        if block.is_null() {
            block = self.first_block();
        }
        // SAFETY: this push reached `block` from a `tail_block` it loaded
        // after its claim, so this life is not recycled before the push's
        // flag is read (rule 6); the same for each block below.
        let mut b = unsafe { &*block };
        // Past this push's block: back (rule 2).
        while b.start() > want {
            block = b.prev();
            // SAFETY: as above.
            b = unsafe { &*block };
        }
        // Before it: forward, moving `tail_block` on (rules 2 and 4).
        let mut advancing = true;
        while b.start() < want {
            let next = b.next_or_append(block);
            if advancing {
                advancing = self.advance(b, block, next);
            }
            block = next;
            // SAFETY: as above.
            b = unsafe { &*block };
        }
        block
    }

    /// Rules 4 and 5: moves `tail_block` from `block` to `next`; true if
    /// this push did, and then released `block`.
    fn advance(&self, b: &Block<T>, block: *mut Block<T>, next: *mut Block<T>) -> bool {
        // Release: rule 4 (for rule 2's Acquire). Relaxed on failure:
        // nothing is read.
        if self
            .tail
            .block
            .compare_exchange(block, next, Release, Relaxed)
            .is_err()
        {
            return false;
        }
        // Release: rule 5's `w` (rule 6's Acquire claims read it). It adds
        // nothing: it only reads the index at a point in `tail`'s order.
        let seen = self.tail.index.fetch_add(0, Release) >> 1;
        // Release: rule 5 (the receiver's Acquire load in `recycle`).
        b.released.store(seen << 1 | RELEASED, Release);
        true
    }

    /// The first push: makes the first block (or finds the one another
    /// push made) and publishes it as `tail_block`.
    #[cold]
    fn first_block(&self) -> *mut Block<T> {
        // Acquire: pairs with the Release CAS below (the block's fields).
        let mut first = self.tail.first.load(Acquire);
        if first.is_null() {
            first = Block::publish(&self.tail.first, Block::alloc(0, ptr::null_mut()));
        }
        // Release: rule 2's Acquire. Relaxed on failure: reloaded below.
        let _ = self
            .tail
            .block
            .compare_exchange(ptr::null_mut(), first, Release, Relaxed);
        // `first` itself may be recycled already: use `tail_block`, the
        // value rule 6 speaks of. Acquire: rule 2. Not null: the CAS above
        // read it after it was set.
        self.tail.block.load(Acquire)
    }

    /// Takes the next message (rule 8).
    ///
    /// # Safety
    ///
    /// Only one thread pops: calls never overlap, and each happens before
    /// the next (the receiver's `&mut self`).
    pub(crate) unsafe fn pop(&self) -> Result<T, PopError> {
        // SAFETY: the caller is the only consumer: nobody else touches the
        // cursor.
        self.rx.with_mut(|rx| unsafe { self.pop_at(&mut *rx) })
    }

    /// [`pop`](Self::pop) with the receiver's cursor.
    ///
    /// # Safety
    ///
    /// As for `pop`.
    unsafe fn pop_at(&self, rx: &mut Cursor<T>) -> Result<T, PopError> {
        // Relaxed: only this thread writes `head`.
        let head = self.head.load(Relaxed);
        if rx.block.is_null() {
            // Acquire: pairs with `first_block`'s Release CAS.
            rx.block = self.tail.first.load(Acquire);
            rx.oldest = rx.block;
            if rx.block.is_null() {
                return Err(self.nothing_at(head));
            }
        }
        // SAFETY: the receiver's block is recycled only by the receiver,
        // and only once it moved past it (rule 7).
        let mut b = unsafe { &*rx.block };
        if b.start() + B == head {
            // Acquire: pairs with the Release CAS that linked it.
            let next = b.next.load(Acquire);
            if next.is_null() {
                return Err(self.nothing_at(head));
            }
            rx.block = next;
            // SAFETY: as above.
            b = unsafe { &*next };
        }
        debug_assert_eq!(b.start(), head - head % B, "mpsc list: lost place");
        let slot = head % B;
        // Acquire: rule 8 (pairs with rule 3's Release).
        if !b.slots[slot].ready.load(Acquire) {
            return Err(self.nothing_at(head));
        }
        let cell = &b.slots[slot].value;
        // SAFETY: the flag says the slot holds a message written before it
        // (rule 3); this index is popped once (`head` moves on below).
        let value = cell.with(|p| unsafe { ptr::read(p).assume_init() });
        // Relaxed: `head` orders nothing; `len` reads a snapshot.
        self.head.store(head + 1, Relaxed);
        if rx.oldest != rx.block {
            // SAFETY: the caller is the only consumer.
            unsafe { self.recycle(rx, head + 1) };
        }
        Ok(value)
    }

    /// Why the slot at `head` has nothing (rule 8).
    fn nothing_at(&self, head: usize) -> PopError {
        // Relaxed: only the receiver writes it (in `close`).
        if self.closed_at.load(Relaxed) == head {
            PopError::Closed
        } else {
            PopError::Empty
        }
    }

    /// Rule 7: takes back the blocks before the receiver's that may be.
    ///
    /// # Safety
    ///
    /// As for `pop`.
    unsafe fn recycle(&self, rx: &mut Cursor<T>, head: usize) {
        while rx.oldest != rx.block {
            // SAFETY: blocks from `oldest` on are owned by the list and
            // only the receiver recycles them.
            let x = unsafe { &*rx.oldest };
            // Acquire: pairs with rule 5's Release store.
            let released = x.released.load(Acquire);
            if released & RELEASED == 0 || head < released >> 1 {
                return;
            }
            // Relaxed: linked before the receiver moved past it, and read
            // then with Acquire; it does not change within this life.
            let next = x.next.load(Relaxed);
            // SAFETY: rules 6 and 7: no push holds this life any more.
            unsafe { self.hand_back(rx.oldest) };
            rx.oldest = next;
        }
    }

    /// Rule 7: resets `block` and appends it after the last block, or
    /// frees it if the end is more than `SPARE_WALK` steps away.
    ///
    /// # Safety
    ///
    /// No other thread can reach `block` (rule 7's conditions hold).
    unsafe fn hand_back(&self, block: *mut Block<T>) {
        // SAFETY: the caller's.
        let x = unsafe { &*block };
        // Relaxed: published by the Release CAS below.
        for slot in &x.slots {
            slot.ready.store(false, Relaxed);
        }
        x.released.store(0, Relaxed);
        x.next.store(ptr::null_mut(), Relaxed);
        // Acquire: the block's fields (rule 2's pairing). Not null, and
        // past `block`: the receiver read `block.released`, stored after
        // `tail_block` left `block`.
        let mut last = self.tail.block.load(Acquire);
        for _ in 0..SPARE_WALK {
            // SAFETY: blocks from `tail_block` on are not recycled but by
            // this thread.
            let l = unsafe { &*last };
            // Acquire: pairs with the Release CAS that linked it.
            let next = l.next.load(Acquire);
            if !next.is_null() {
                last = next;
                continue;
            }
            // SAFETY: nobody else reaches this life of `block`.
            x.link.with_mut(|p| unsafe {
                *p = Link {
                    start: l.start() + B,
                    prev: last,
                }
            });
            // Release: rule 7 (publishes the reset and `start`). Acquire
            // on failure: the winner's block, walked next.
            match l
                .next
                .compare_exchange(ptr::null_mut(), block, Release, Acquire)
            {
                Ok(_) => return,
                Err(won) => last = won,
            }
        }
        // SAFETY: unreachable by others (the caller's), and empty: every
        // message of it was popped.
        drop(unsafe { Box::from_raw(block) });
    }

    /// Closes the list: later pushes fail (rule 1). Only the receiver
    /// closes; a second close does nothing.
    pub(crate) fn close(&self) {
        // Relaxed: the word's modification order decides each push against
        // the close (rule 1); the messages are handed over by rule 3.
        let word = self.tail.index.fetch_or(CLOSED, Relaxed);
        if word & CLOSED == 0 {
            // Relaxed: read by the receiver itself, and by `len`.
            self.closed_at.store(word >> 1, Relaxed);
        }
    }

    /// Messages queued now (claimed and not popped): a snapshot.
    pub(crate) fn len(&self) -> usize {
        // Relaxed: a snapshot; `head` is read first, so that a racing pop
        // makes the result smaller rather than larger.
        let head = self.head.load(Relaxed);
        let tail = self.tail.index.load(Relaxed) >> 1;
        let end = tail.min(self.closed_at.load(Relaxed));
        end.saturating_sub(head)
    }

    /// Rule 9: drops what is left, then frees the blocks; a panicking drop
    /// resumes here while it unwinds.
    fn drain_and_free(&mut self) {
        /// Runs the rest of `drain_and_free` if a message's drop panics.
        struct Resume<'a, T>(&'a mut List<T>);
        impl<T> Drop for Resume<'_, T> {
            fn drop(&mut self) {
                self.0.drain_and_free();
            }
        }
        let resume = Resume(self);
        // SAFETY: `&mut self`: this is the only thread with the list.
        while let Ok(value) = unsafe { resume.0.pop() } {
            drop(value);
        }
        mem::forget(resume);
        self.free_blocks();
    }

    /// Frees every block from the receiver's oldest on.
    fn free_blocks(&mut self) {
        let oldest = self.rx.with_mut(|rx| {
            // SAFETY: `&mut self`.
            let rx = unsafe { &mut *rx };
            let oldest = rx.oldest;
            rx.oldest = ptr::null_mut();
            rx.block = ptr::null_mut();
            oldest
        });
        // Relaxed: `&mut self`; every push happened before.
        let mut block = if oldest.is_null() {
            self.tail.first.load(Relaxed)
        } else {
            oldest
        };
        self.tail.first.store(ptr::null_mut(), Relaxed);
        self.tail.block.store(ptr::null_mut(), Relaxed);
        while !block.is_null() {
            // SAFETY: the chain from `oldest` holds every block of the
            // list once; each is freed once, its messages already popped.
            let owned = unsafe { Box::from_raw(block) };
            // Relaxed: as above.
            block = owned.next.load(Relaxed);
        }
    }
}

impl<T> Drop for List<T> {
    fn drop(&mut self) {
        self.drain_and_free();
    }
}

#[cfg(all(test, not(loom)))]
mod tests;
