//! The payload of a panic windlass caught: dropped, never allowed to
//! unwind again.
//!
//! A payload is user data (`panic_any` takes anything), and its destructor
//! may panic too. Windlass catches panics where unwinding would break its
//! own state (a task's poll and drop, a waker's wake, a debug callback, a
//! thread-start hook); dropping the caught payload in the open would let
//! that second panic unwind from the same place. So every caught payload
//! that windlass does not hand to the user goes through [`drop_payload`].

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// Drops a caught panic's payload; one whose destructor panics is
/// forgotten (leaked) instead, as is the second payload.
#[cold]
pub(crate) fn drop_payload(payload: Box<dyn Any + Send>) {
    if let Err(again) = catch_unwind(AssertUnwindSafe(move || drop(payload))) {
        std::mem::forget(again);
    }
}
