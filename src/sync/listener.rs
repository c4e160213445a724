//! Waiting on an `event_listener` listener (the wait of [`Event`](super::Event),
//! [`Barrier`](super::Barrier), [`Queue`](super::Queue), `broadcast`,
//! `watch` and a channel's `closed()`) so that no waker can panic inside
//! the notifier.
//!
//! `event_listener` wakes each listener under its own lock and counts it as
//! notified only after `wake` returns. A waker that panics there (a
//! foreign executor's) leaves that count one short, and the listener's
//! later removal underflows it: a panic in a `Drop` with overflow checks
//! on, and with them off a count near `usize::MAX`, after which every
//! `notify` believes all listeners were notified and wakes nobody. The
//! primitive would be dead for every task, not just the one with the bad
//! waker, and the panic would unwind into the task that called `set`,
//! `put` or `send`.
//!
//! So [`wait`] hands the listener a waker that cannot panic:
//! - a windlass task's own waker as it is (its `wake` only queues the task;
//!   the common case costs one comparison);
//! - any other waker (a foreign executor's, `block_on`'s) wrapped in a
//!   [`Contained`] waker, allocated once per wait, whose `wake` wakes the
//!   wrapped one through `task::waker::wake_contained`.

use crate::loom::std::sync::Arc;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Wake, Waker};

use event_listener::EventListener;

use crate::loom::sync::Mutex;
use crate::task::waker::{is_task_waker, wake_contained};

/// Waits for `listener`'s notification (see the module docs).
pub(crate) fn wait(listener: EventListener) -> Wait {
    Wait {
        listener,
        contained: None,
    }
}

/// The future of [`wait`].
pub(crate) struct Wait {
    listener: EventListener,
    /// The wrapper given to the listener for a waker that is not a task's,
    /// and that wrapper as a `Waker` (the same one on every poll, so the
    /// listener keeps it instead of cloning).
    contained: Option<(Arc<Contained>, Waker)>,
}

/// A waker around someone else's, whose `wake` never panics.
struct Contained(Mutex<Waker>);

impl Wake for Contained {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let waker = self.0.lock().clone();
        wake_contained(waker);
    }
}

impl Future for Wait {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if is_task_waker(cx.waker()) {
            return Pin::new(&mut this.listener).poll(cx);
        }
        match &this.contained {
            Some((inner, _)) => {
                let mut stored = inner.0.lock();
                if !stored.will_wake(cx.waker()) {
                    stored.clone_from(cx.waker());
                }
            }
            None => {
                let inner = Arc::new(Contained(Mutex::new(cx.waker().clone())));
                let waker = Waker::from(inner.clone());
                this.contained = Some((inner, waker));
            }
        }
        let Some((_, waker)) = &this.contained else {
            unreachable!("set above")
        };
        Pin::new(&mut this.listener).poll(&mut Context::from_waker(waker))
    }
}
