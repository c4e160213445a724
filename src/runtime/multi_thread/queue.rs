//! The run queues: each worker's local FIFO (with a stealer the other
//! workers use) and the global injector for tasks from outside the workers.
//!
//! A normal build uses `crossbeam-deque`. Under loom the same interface sits
//! on a mutex-guarded `VecDeque`: crossbeam's atomics are not instrumented,
//! and the models are about windlass's protocols, not the deque's.

use crate::task::Notified;

#[cfg(not(loom))]
mod imp {
    use crossbeam_deque::Steal;

    use super::Notified;

    /// Retries a steal until it succeeds or finds the queue empty.
    fn settle(mut f: impl FnMut() -> Steal<Notified>) -> Option<Notified> {
        loop {
            match f() {
                Steal::Success(t) => return Some(t),
                Steal::Empty => return None,
                Steal::Retry => std::hint::spin_loop(),
            }
        }
    }

    /// The global queue.
    pub(crate) struct Injector(crossbeam_deque::Injector<Notified>);

    /// A worker's own queue; only its worker pushes and pops.
    pub(crate) struct Local(crossbeam_deque::Worker<Notified>);

    /// The other workers' view of a `Local`.
    pub(crate) struct Stealer(crossbeam_deque::Stealer<Notified>);

    impl Injector {
        pub(crate) fn new() -> Injector {
            Injector(crossbeam_deque::Injector::new())
        }
        pub(crate) fn push(&self, task: Notified) {
            self.0.push(task);
        }
        pub(crate) fn pop(&self) -> Option<Notified> {
            settle(|| self.0.steal())
        }
        /// Moves a batch into `local` and returns one task of it.
        pub(crate) fn pop_batch_into(&self, local: &Local) -> Option<Notified> {
            settle(|| self.0.steal_batch_and_pop(&local.0))
        }
        pub(crate) fn is_empty(&self) -> bool {
            self.0.is_empty()
        }
        /// Tasks queued now (a racy snapshot, for `Handle::metrics`).
        pub(crate) fn len(&self) -> usize {
            self.0.len()
        }
    }

    impl Local {
        pub(crate) fn new() -> Local {
            Local(crossbeam_deque::Worker::new_fifo())
        }
        pub(crate) fn push(&self, task: Notified) {
            self.0.push(task);
        }
        pub(crate) fn pop(&self) -> Option<Notified> {
            self.0.pop()
        }
        pub(crate) fn stealer(&self) -> Stealer {
            Stealer(self.0.stealer())
        }
        pub(crate) fn is_empty(&self) -> bool {
            self.0.is_empty()
        }
        /// Tasks queued now (a racy snapshot, for `Handle::metrics`).
        pub(crate) fn len(&self) -> usize {
            self.0.len()
        }
    }

    impl Stealer {
        /// Steals about half of the victim's tasks into `local`, returning one.
        pub(crate) fn steal_half_into(&self, local: &Local) -> Option<Notified> {
            settle(|| self.0.steal_batch_and_pop(&local.0))
        }
        pub(crate) fn is_empty(&self) -> bool {
            self.0.is_empty()
        }
        /// Tasks queued now (a racy snapshot, for `Handle::metrics`).
        pub(crate) fn len(&self) -> usize {
            self.0.len()
        }
    }
}

#[cfg(loom)]
mod imp {
    use std::collections::VecDeque;

    use super::Notified;
    use crate::loom::sync::{Arc, Mutex};

    type Queue = Arc<Mutex<VecDeque<Notified>>>;

    pub(crate) struct Injector(Mutex<VecDeque<Notified>>);
    pub(crate) struct Local(Queue);
    pub(crate) struct Stealer(Queue);

    impl Injector {
        pub(crate) fn new() -> Injector {
            Injector(Mutex::new(VecDeque::new()))
        }
        pub(crate) fn push(&self, task: Notified) {
            self.0.lock().push_back(task);
        }
        pub(crate) fn pop(&self) -> Option<Notified> {
            self.0.lock().pop_front()
        }
        pub(crate) fn pop_batch_into(&self, _local: &Local) -> Option<Notified> {
            self.pop()
        }
        pub(crate) fn is_empty(&self) -> bool {
            self.0.lock().is_empty()
        }
        pub(crate) fn len(&self) -> usize {
            self.0.lock().len()
        }
    }

    impl Local {
        pub(crate) fn new() -> Local {
            Local(Arc::new(Mutex::new(VecDeque::new())))
        }
        pub(crate) fn push(&self, task: Notified) {
            self.0.lock().push_back(task);
        }
        pub(crate) fn pop(&self) -> Option<Notified> {
            self.0.lock().pop_front()
        }
        pub(crate) fn stealer(&self) -> Stealer {
            Stealer(self.0.clone())
        }
        pub(crate) fn is_empty(&self) -> bool {
            self.0.lock().is_empty()
        }
        pub(crate) fn len(&self) -> usize {
            self.0.lock().len()
        }
    }

    impl Stealer {
        pub(crate) fn steal_half_into(&self, _local: &Local) -> Option<Notified> {
            self.0.lock().pop_front()
        }
        pub(crate) fn is_empty(&self) -> bool {
            self.0.lock().is_empty()
        }
        pub(crate) fn len(&self) -> usize {
            self.0.lock().len()
        }
    }
}

pub(crate) use imp::{Injector, Local, Stealer};
