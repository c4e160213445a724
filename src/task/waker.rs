//! The task waker: a `RawWaker` whose data pointer is the task header.
//!
//! `clone` takes a reference and `drop` releases one. `wake_by_ref` touches
//! the reference count only when it must submit the task, so the common
//! wake costs a single compare-and-swap on the state word (rule 5). A wake
//! that submits takes a new reference for the `Notified` and releases the
//! waker's only after `schedule` returns: `schedule` runs with `&self` in
//! the task's cell, which must outlive the call.

use std::ptr::NonNull;
use std::task::{RawWaker, RawWakerVTable, Waker};

use super::core::Header;
use super::state::ToNotified;

static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake_by_ref, drop_waker);

/// A waker for the task at `ptr`, taking over one reference.
///
/// # Safety
/// `ptr` is a live task header and the caller gives the waker one reference
/// (or wraps it in `ManuallyDrop` while it holds one of its own).
pub(crate) unsafe fn from_header(ptr: NonNull<Header>) -> Waker {
    // SAFETY: the vtable functions below uphold the `RawWaker` contract for
    // a task header, and the caller gives the waker its reference.
    unsafe { Waker::from_raw(RawWaker::new(ptr.as_ptr() as *const (), &VTABLE)) }
}

/// # Safety
/// `data` is the header pointer of a waker built by `from_header`.
unsafe fn header<'a>(data: *const ()) -> &'a Header {
    // SAFETY: the waker owns a reference, so the header is alive.
    unsafe { &*(data as *const Header) }
}

/// The task pointer, with the provenance of the whole cell (a pointer made
/// from a `&Header` would cover the header only, and could not free the cell).
///
/// # Safety
/// `data` is the header pointer of a waker built by `from_header`.
unsafe fn raw(data: *const ()) -> NonNull<Header> {
    // SAFETY: a waker's data pointer is never null.
    unsafe { NonNull::new_unchecked(data as *mut Header) }
}

unsafe fn clone(data: *const ()) -> RawWaker {
    // SAFETY: called by `Waker::clone` on one of our wakers.
    unsafe { header(data) }.state.ref_inc();
    RawWaker::new(data, &VTABLE)
}

unsafe fn wake(data: *const ()) {
    // SAFETY: called by `Waker::wake` on one of our wakers.
    let header = unsafe { header(data) };
    // SAFETY: as above.
    let ptr = unsafe { raw(data) };
    match header.state.transition_to_notified_by_val() {
        ToNotified::Done => {}
        ToNotified::Submit => {
            // SAFETY: the transition took a new reference for the
            // `Notified`; the waker's own keeps the cell (and the scheduler
            // in it, `schedule`'s `&self`) alive until `schedule` returns.
            unsafe { (header.vtable.schedule)(ptr) };
            // SAFETY: the waker's reference, given up now.
            unsafe { drop_waker(data) };
        }
        // SAFETY: the waker held the last reference.
        ToNotified::Dealloc => unsafe { (header.vtable.dealloc)(ptr) },
    }
}

unsafe fn wake_by_ref(data: *const ()) {
    // SAFETY: called by `Waker::wake_by_ref` on one of our wakers.
    let header = unsafe { header(data) };
    if header.state.transition_to_notified_by_ref() == ToNotified::Submit {
        // SAFETY: the transition took a new reference for the `Notified`.
        unsafe { (header.vtable.schedule)(raw(data)) };
    }
}

unsafe fn drop_waker(data: *const ()) {
    // SAFETY: called by `Waker::drop` on one of our wakers.
    let header = unsafe { header(data) };
    if header.state.ref_dec(1) {
        // SAFETY: that was the last reference.
        unsafe { (header.vtable.dealloc)(raw(data)) };
    }
}

/// True if `waker` is a windlass task's waker, whose `wake` never panics
/// (it only changes the task's state word and queues the task).
#[inline]
pub(crate) fn is_task_waker(waker: &Waker) -> bool {
    std::ptr::eq(waker.vtable(), &VTABLE)
}

/// Wakes `waker`, containing a panic of its `wake`.
///
/// A waker that is not a windlass task's is someone else's code (a
/// foreign executor's, a hand-written future's), and its `wake` may panic.
/// The panic hook has reported the panic by the time it is caught here;
/// letting it unwind would hand it to whoever woke the waker: the reactor
/// (whose thread drives every timer and socket of the runtime), or a task
/// that released a permit or took a message, which would lose its work
/// and the wake-ups still to be given. So windlass's own wake-ups of
/// stored wakers (the reactor's, the sync wait lists', the listeners')
/// go through here, and the panic stops with the waker that raised it.
/// (Inlined: it runs on every hand-off of a lock or a channel's room; a
/// task's waker, the common case, skips the `catch_unwind`.)
#[inline]
pub(crate) fn wake_contained(waker: Waker) {
    use std::panic::{AssertUnwindSafe, catch_unwind};
    // A task's own waker never panics: no landing pad on the common path.
    if is_task_waker(&waker) {
        return waker.wake();
    }
    if let Err(payload) = catch_unwind(AssertUnwindSafe(|| waker.wake())) {
        super::caught::drop_payload(payload);
    }
}

/// [`wake_contained`] by reference: for a waker that stays where it is
/// stored (a oneshot's cell), woken by whoever finishes.
#[inline]
pub(crate) fn wake_by_ref_contained(waker: &Waker) {
    use std::panic::{AssertUnwindSafe, catch_unwind};
    if is_task_waker(waker) {
        return waker.wake_by_ref();
    }
    if let Err(payload) = catch_unwind(AssertUnwindSafe(|| waker.wake_by_ref())) {
        super::caught::drop_payload(payload);
    }
}
