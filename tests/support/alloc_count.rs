//! A global allocator that counts the allocations each thread makes, for
//! tests that assert a path allocates nothing. Per thread, so that the
//! tests running in parallel in this binary do not count each other's.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// The system allocator, counting each thread's allocations.
pub struct Counting;

std::thread_local! {
    /// Allocations (and reallocations) made by this thread.
    static MADE: Cell<u64> = const { Cell::new(0) };
}

fn count() {
    // `try_with`: an allocation during the thread's teardown is not counted.
    let _ = MADE.try_with(|n| n.set(n.get() + 1));
}

// SAFETY: every call is passed to `System` unchanged; counting allocates
// nothing (a const-initialised thread-local without a destructor).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: the caller's contract, passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Allocations this thread has made so far.
pub fn made_here() -> u64 {
    MADE.with(Cell::get)
}
