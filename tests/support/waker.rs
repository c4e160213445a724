//! A waker that counts its wake-ups, for tests that poll by hand.

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
