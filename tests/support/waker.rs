//! Wakers for tests that poll by hand: one that counts its wake-ups, and
//! one that panics (a foreign executor's bug).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::task::{Wake, Waker};

/// Counts the wake-ups of the wakers made from it (`Waker::from(arc)`),
/// by value and by reference alike; read the count with `.0`.
#[derive(Default, Debug)]
pub struct CountWaker(pub AtomicUsize);

impl Wake for CountWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// A fresh [`CountWaker`] and a waker that counts into it.
pub fn counting_waker() -> (Arc<CountWaker>, Waker) {
    let count = Arc::new(CountWaker::default());
    (count.clone(), Waker::from(count))
}

/// A waker whose `wake` panics, as a foreign executor's might; it counts
/// its wake-ups first (read the count with `.0`).
#[derive(Default, Debug)]
pub struct PanickingWaker(pub AtomicUsize);

impl Wake for PanickingWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
        panic!("a foreign waker panics (expected by this test)");
    }
}

/// A fresh [`PanickingWaker`] and a waker made from it.
pub fn panicking_waker() -> (Arc<PanickingWaker>, Waker) {
    let count = Arc::new(PanickingWaker::default());
    (count.clone(), Waker::from(count))
}

/// A waker whose destructor panics once its last clone goes (a foreign
/// executor's bug); its `wake` does nothing.
#[derive(Debug)]
pub struct PanicOnLastDrop;

impl Wake for PanicOnLastDrop {
    fn wake(self: Arc<Self>) {}
}

impl Drop for PanicOnLastDrop {
    fn drop(&mut self) {
        panic!("a waker's drop panics (expected by this test)");
    }
}
