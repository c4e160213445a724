//! The unbounded `mpsc` channel's message list (`sync/mpsc/list.rs`, 2
//! slots per block under loom), driven directly: loom threads play the
//! senders and the receiver, without the channel's wake protocol around it
//! (that has its own models).

use std::fmt;

use crate::loom::sync::Arc;
use crate::sync::mpsc::list::{List, PopError};

/// Makes a list: pushers (clone them) and its one popper.
pub fn mpsc_list() -> (ListPusher, ListPopper) {
    let list = Arc::new(List::new());
    (ListPusher(list.clone()), ListPopper(list))
}

/// Pushes into the list; clone for more pushers.
#[derive(Clone)]
pub struct ListPusher(Arc<List<u32>>);

impl ListPusher {
    /// Rules 1-3: `Err(value)` if the list is closed.
    pub fn push(&self, value: u32) -> Result<(), u32> {
        self.0.push(value)
    }
}

/// What a pop found.
#[derive(Debug, PartialEq, Eq)]
pub enum Popped {
    /// The next message.
    Value(u32),
    /// Nothing now.
    Empty,
    /// Closed, and every message popped.
    Closed,
}

/// The list's one consumer (not `Clone`; `pop` takes `&mut self`).
pub struct ListPopper(Arc<List<u32>>);

impl ListPopper {
    /// Rule 8.
    pub fn pop(&mut self) -> Popped {
        // SAFETY: `ListPopper` is the list's only popper and is not
        // `Clone`; `&mut self` serialises its calls.
        match unsafe { self.0.pop() } {
            Ok(value) => Popped::Value(value),
            Err(PopError::Empty) => Popped::Empty,
            Err(PopError::Closed) => Popped::Closed,
        }
    }

    /// Rule 1's close.
    pub fn close(&self) {
        self.0.close();
    }

    /// Messages queued now.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True if none is queued.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl fmt::Debug for ListPusher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ListPusher").finish_non_exhaustive()
    }
}

impl fmt::Debug for ListPopper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ListPopper")
            .field("len", &self.len())
            .finish()
    }
}
