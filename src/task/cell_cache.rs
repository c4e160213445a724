//! Freed task cells, kept for the next spawn.
//!
//! # Why
//!
//! A task's cell is usually freed on a worker, and often allocated on
//! another thread: a thread outside the runtime that spawns, or a worker
//! whose tasks the others stole. With glibc's allocator the spawning
//! thread's own free cache is then empty, and every eighth spawn or so
//! takes the arena lock and pops cells one at a time from a list linked
//! through the freed cells themselves. Each pop is a compare-and-swap on a
//! list head the freeing workers swap too, and a load from a cell last
//! written on another core: about 43% of a remote spawner's spawning loop in
//! `spawn_many_remote_busy` (docs/PERFORMANCE.md, "Task cells: a cache
//! that hands freed cells to the next spawn").
//!
//! This module keeps freed cells for the next spawn instead, and moves
//! them between threads 32 at a time, as an array of addresses: no load
//! from a cell, and one lock per 32 cells.
//!
//! The oneshot channel's block (`sync::oneshot`) is allocated here too: it
//! has a task cell's life, made on one worker and freed on whichever side
//! leaves last, once per request in a request/reply loop. Everything below
//! says "cell" for either; a block is a cell of its layout's class.
//!
//! # Rules
//!
//! 1. **Classes.** A cell whose `Layout` is at most [`MAX_SIZE`] bytes and
//!    aligned to at most [`ALIGN`] belongs to the class of its size rounded
//!    up to a multiple of [`GRAIN`]. A cell's size already is one (its
//!    header holds pointers), so the class adds no byte: a task is as large
//!    with the cache as without it. A cell is always allocated with its
//!    class's layout (that size, aligned to [`ALIGN`]), whether it comes
//!    from here or from the global allocator. So any cell of a class can
//!    hold any task of that class, and a cell goes back to the global
//!    allocator with the layout it came with. Other cells bypass this
//!    module.
//! 2. **A thread's stacks.** Each thread has, per class, a stack of up to
//!    [`LOCAL_CAP`] freed cells that only it touches. A free pushes and an
//!    allocation pops: the cell this thread freed last is the one most
//!    likely still in its core's cache.
//! 3. **The depot.** A full stack moves its [`BATCH`] oldest cells to the
//!    class's depot, a vector under a lock holding at most [`DEPOT_BYTES`]
//!    of cells; what does not fit goes back to the global allocator. An
//!    empty stack takes up to [`BATCH`] cells from the depot before it
//!    falls back to the global allocator. A cell changes threads only
//!    through the depot's lock, which orders the freeing thread's last
//!    access to the cell before the next owner's first.
//! 4. **Ownership.** A cell in a stack or in the depot belongs to this
//!    module alone: no reference to it exists outside, its contents are
//!    dead (the task was dropped in place before [`free`]), and [`alloc`]
//!    hands it out to exactly one caller.
//! 5. **Teardown and re-entry.** A thread's stacks go back to the global
//!    allocator when it exits. A call that cannot use the stacks (during
//!    the thread's thread-local teardown, or while they are in use further
//!    up the same thread, which only a global allocator that spawns could
//!    cause) goes straight to the global allocator, with the class's
//!    layout.
//! 6. **Off switch.** `WINDLASS_TASK_CELL_CACHE=0` (read once, at the
//!    first spawn or channel) sends every cell straight to the global
//!    allocator, for heap profilers and leak checkers that should see each
//!    task's own allocation (asyncio's `PYTHONMALLOC=malloc`). Under loom the cache is
//!    always off: the models check the task protocol, and loom's threads
//!    share one OS thread and its thread-locals.
//!
//! There is no atomic protocol here: only a lock and per-thread state.
//!
//! # What it holds on to
//!
//! At most [`LOCAL_CAP`] cells per class per thread that has freed cells
//! of that class, and [`DEPOT_BYTES`] per class in the depot: for the 80
//! bytes of an `async {}`, 5 KiB per thread and 64 KiB in all. glibc would
//! keep that memory in its own free lists too; what differs is that these
//! cells serve only tasks.

use std::alloc::Layout;
use std::cell::RefCell;
use std::ptr::NonNull;

use crate::loom::std::sync::atomic::{AtomicU8, Ordering};
use crate::loom::std::sync::{StdMutex, StdMutexGuard};

/// Class sizes are the multiples of this (rule 1): the alignment of the
/// header's pointers, so every cell's size is one already. (Classes 16
/// bytes apart cost an idle task 16 bytes of RSS: a 136-byte cell taken as
/// 144 moved to glibc's next chunk size.)
const GRAIN: usize = 8;
/// Every cell of a class is aligned to this (rule 1); glibc's `malloc`
/// aligns to 16 anyway.
const ALIGN: usize = 16;
/// Cells larger than this bypass the cache (rule 1): their futures cost
/// more to run than the allocator's slow path does.
const MAX_SIZE: usize = 512;
const CLASSES: usize = MAX_SIZE / GRAIN;
/// Cells a thread keeps per class (rule 2).
const LOCAL_CAP: usize = 64;
/// Cells moved to or from the depot at once (rule 3).
const BATCH: usize = 32;
/// Bytes of cells the depot keeps per class (rule 3).
const DEPOT_BYTES: usize = 64 * 1024;

/// The address of a cell that belongs to this module (rule 4).
struct Free(NonNull<u8>);

// SAFETY: a `Free` is an address of memory nobody else references (rule
// 4); moving it to another thread moves the ownership of that memory,
// which is not tied to any thread.
unsafe impl Send for Free {}

/// Per class, cells any thread may take (rule 3). `std`'s lock, not
/// `parking_lot`'s: a spawning thread outside the runtime shares it with
/// busy workers, and must not yield its CPU to them while it waits
/// (`loom::std::sync::StdMutex`).
static DEPOT: [StdMutex<Vec<Free>>; CLASSES] = [const { StdMutex::new(Vec::new()) }; CLASSES];

/// `class`'s depot, locked. Nothing under the lock panics (it moves
/// addresses, and reserves room once, where a failure aborts), so a
/// poisoned lock is taken as it is.
fn depot(class: usize) -> StdMutexGuard<'static, Vec<Free>> {
    DEPOT[class]
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// One thread's stack of freed cells of one class (rule 2).
struct Stack {
    len: usize,
    /// `cells[..len]` are owned by this module (rule 4); the rest are stale.
    cells: [*mut u8; LOCAL_CAP],
}

/// One thread's stacks, each allocated at the thread's first free or
/// allocation of its class.
struct Local {
    stacks: [Option<Box<Stack>>; CLASSES],
}

impl Drop for Local {
    /// Rule 5: the thread exits; its cells go back to the global allocator.
    fn drop(&mut self) {
        for (class, stack) in self.stacks.iter().enumerate() {
            if let Some(stack) = stack {
                for &cell in &stack.cells[..stack.len] {
                    // SAFETY: owned by this module (rule 4), allocated with
                    // the class's layout (rule 1).
                    unsafe { std::alloc::dealloc(cell, class_layout(class)) };
                }
            }
        }
    }
}

crate::loom::std::thread_local! {
    static LOCAL: RefCell<Local> = const {
        RefCell::new(Local { stacks: [const { None }; CLASSES] })
    };
}

/// Rule 6's switch: 0 until the environment is read, then `ON` or `OFF`.
static SWITCH: AtomicU8 = AtomicU8::new(0);
const ON: u8 = 1;
const OFF: u8 = 2;

/// Rule 6.
#[inline]
fn enabled() -> bool {
    if cfg!(loom) {
        return false;
    }
    // Relaxed: the value is all that is read, and every thread that
    // reads the environment stores the same value.
    match SWITCH.load(Ordering::Relaxed) {
        ON => true,
        OFF => false,
        _ => read_switch(),
    }
}

#[cold]
fn read_switch() -> bool {
    let off = std::env::var_os("WINDLASS_TASK_CELL_CACHE").is_some_and(|v| v == "0");
    // Relaxed: as in `enabled`.
    SWITCH.store(if off { OFF } else { ON }, Ordering::Relaxed);
    !off
}

/// The class of `layout`, if it has one (rule 1).
#[inline]
fn class_of(layout: Layout) -> Option<usize> {
    if layout.size() == 0 || layout.size() > MAX_SIZE || layout.align() > ALIGN {
        return None;
    }
    Some((layout.size() - 1) / GRAIN)
}

/// The layout every cell of `class` is allocated with (rule 1).
#[inline]
fn class_layout(class: usize) -> Layout {
    // Never fails: the alignment is a power of two, and the size non-zero
    // and far below `isize::MAX`.
    Layout::from_size_align((class + 1) * GRAIN, ALIGN).expect("a class layout is valid")
}

/// Bytes of `class`'s cells the depot keeps, as a count of cells.
fn depot_cap(class: usize) -> usize {
    DEPOT_BYTES / class_layout(class).size()
}

fn new_stack() -> Box<Stack> {
    Box::new(Stack {
        len: 0,
        cells: [std::ptr::null_mut(); LOCAL_CAP],
    })
}

/// Memory for a task cell of `layout`: uninitialised, to be freed with
/// [`free`] and the same `layout`.
#[inline]
pub(crate) fn alloc(layout: Layout) -> NonNull<u8> {
    let class = match class_of(layout) {
        Some(class) if enabled() => class,
        Some(class) => return global_alloc(class_layout(class)),
        None => return global_alloc(layout),
    };
    let cached = LOCAL.try_with(|local| {
        let mut local = local.try_borrow_mut().ok()?;
        let stack = local.stacks[class].get_or_insert_with(new_stack);
        if stack.len == 0 {
            refill(class, stack);
        }
        stack.len = stack.len.checked_sub(1)?;
        // Rule 4: the cell leaves the stack, and with it the module.
        NonNull::new(stack.cells[stack.len])
    });
    match cached {
        Ok(Some(cell)) => cell,
        _ => global_alloc(class_layout(class)),
    }
}

/// Rule 3: up to `BATCH` cells from the depot into an empty stack.
#[cold]
fn refill(class: usize, stack: &mut Stack) {
    let mut depot = depot(class);
    let from = depot.len().saturating_sub(BATCH);
    for (slot, Free(cell)) in stack.cells.iter_mut().zip(depot.drain(from..)) {
        *slot = cell.as_ptr();
        stack.len += 1;
    }
}

fn global_alloc(layout: Layout) -> NonNull<u8> {
    // SAFETY: `layout` has a non-zero size: a task cell holds at least its
    // header, and `class_layout` is never empty.
    let cell = unsafe { std::alloc::alloc(layout) };
    NonNull::new(cell).unwrap_or_else(|| std::alloc::handle_alloc_error(layout))
}

/// Frees a task cell.
///
/// # Safety
/// `cell` came from [`alloc`] with this `layout`, what it held has been
/// dropped or moved out, and nothing will touch it again.
#[inline]
pub(crate) unsafe fn free(cell: NonNull<u8>, layout: Layout) {
    let Some(class) = class_of(layout) else {
        // SAFETY: `alloc` allocated a class-less cell with `layout` itself
        // (rule 1); the caller gives it up.
        unsafe { std::alloc::dealloc(cell.as_ptr(), layout) };
        return;
    };
    let kept = enabled()
        && LOCAL
            .try_with(|local| {
                let Ok(mut local) = local.try_borrow_mut() else {
                    return false;
                };
                let stack = local.stacks[class].get_or_insert_with(new_stack);
                if stack.len == LOCAL_CAP {
                    spill(class, stack);
                }
                // Rule 4: the caller gave the cell up.
                stack.cells[stack.len] = cell.as_ptr();
                stack.len += 1;
                true
            })
            .unwrap_or(false);
    if !kept {
        // SAFETY: allocated with the class's layout (rule 1); the caller
        // gives it up.
        unsafe { std::alloc::dealloc(cell.as_ptr(), class_layout(class)) };
    }
}

/// Rule 3: a full stack's `BATCH` oldest cells to the depot, or, past its
/// bound, to the global allocator.
#[cold]
fn spill(class: usize, stack: &mut Stack) {
    let mut depot = depot(class);
    let cap = depot_cap(class);
    let room = cap.saturating_sub(depot.len()).min(BATCH);
    if depot.capacity() < cap {
        let len = depot.len();
        depot.reserve_exact(cap - len);
    }
    depot.extend(
        stack.cells[..room]
            .iter()
            .filter_map(|&cell| NonNull::new(cell).map(Free)),
    );
    drop(depot);
    for &cell in &stack.cells[room..BATCH] {
        // SAFETY: owned by this module (rule 4), allocated with the class's
        // layout (rule 1); it leaves the stack below.
        unsafe { std::alloc::dealloc(cell, class_layout(class)) };
    }
    stack.cells.copy_within(BATCH.., 0);
    stack.len -= BATCH;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(size: usize) -> Layout {
        Layout::from_size_align(size, 8).unwrap()
    }

    /// What `free` keeps, `alloc` on the same thread hands back, newest
    /// first (rule 2).
    #[test]
    fn a_thread_gets_back_what_it_freed() {
        std::thread::spawn(|| {
            let l = layout(72);
            let a = alloc(l);
            let b = alloc(l);
            // SAFETY: from `alloc` with `l`, never used.
            unsafe {
                free(a, l);
                free(b, l);
            }
            assert_eq!(alloc(l), b);
            assert_eq!(alloc(l), a);
            // SAFETY: as above.
            unsafe {
                free(a, l);
                free(b, l);
            }
        })
        .join()
        .unwrap();
    }

    /// Rule 1: sizes share a class by 8-byte step, a cell's size keeps its
    /// class's size, and a cell of one size serves another of the same
    /// class; over-aligned and large layouts bypass the cache.
    #[test]
    fn classes() {
        assert_eq!(class_of(layout(73)), class_of(layout(80)));
        assert_ne!(class_of(layout(80)), class_of(layout(81)));
        for size in (8..=MAX_SIZE).step_by(8) {
            assert_eq!(class_layout(class_of(layout(size)).unwrap()).size(), size);
        }
        assert_eq!(class_of(layout(MAX_SIZE + 1)), None);
        assert_eq!(class_of(Layout::from_size_align(64, 32).unwrap()), None);
        std::thread::spawn(|| {
            let cell = alloc(layout(73));
            // SAFETY: from `alloc` with that layout, never used.
            unsafe { free(cell, layout(73)) };
            let again = alloc(layout(80));
            assert_eq!(again, cell);
            // SAFETY: as above, with the layout it was allocated with.
            unsafe { free(again, layout(80)) };
        })
        .join()
        .unwrap();
    }

    /// Rule 3: cells freed on one thread beyond its stack reach another
    /// thread through the depot. A layout of its own keeps the other tests'
    /// cells out of this depot.
    #[test]
    fn cells_move_between_threads_through_the_depot() {
        let l = layout(MAX_SIZE - 8);
        let freed: Vec<usize> = std::thread::spawn(move || {
            let cells: Vec<NonNull<u8>> = (0..LOCAL_CAP + BATCH).map(|_| alloc(l)).collect();
            for &cell in &cells {
                // SAFETY: from `alloc` with `l`, never used.
                unsafe { free(cell, l) };
            }
            cells.iter().map(|c| c.as_ptr() as usize).collect()
        })
        .join()
        .unwrap();
        // That thread's stack spilled its oldest `BATCH` cells into the
        // depot; its exit returned the rest to the global allocator.
        std::thread::spawn(move || {
            let taken: Vec<NonNull<u8>> = (0..BATCH).map(|_| alloc(l)).collect();
            for cell in &taken {
                assert!(freed[..BATCH].contains(&(cell.as_ptr() as usize)));
            }
            for cell in taken {
                // SAFETY: from `alloc` with `l`, never used.
                unsafe { free(cell, l) };
            }
        })
        .join()
        .unwrap();
    }

    /// Rule 3's bound: a depot never holds more than `DEPOT_BYTES` of a
    /// class; a spill past it frees the cells instead.
    #[test]
    fn the_depot_is_bounded() {
        let l = layout(MAX_SIZE);
        let class = class_of(l).unwrap();
        let cap = depot_cap(class);
        std::thread::spawn(move || {
            let n = LOCAL_CAP + cap + 2 * BATCH;
            let cells: Vec<NonNull<u8>> = (0..n).map(|_| alloc(l)).collect();
            for cell in cells {
                // SAFETY: from `alloc` with `l`, never used.
                unsafe { free(cell, l) };
            }
        })
        .join()
        .unwrap();
        assert_eq!(depot(class).len(), cap);
    }
}
