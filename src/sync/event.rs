//! [`Event`]: asyncio's `Event`, on `event-listener`.
//!
//! One atomic word holds the flag (bit 0) and how many times the flag went
//! from clear to set (the *generation*, above it). A waiter records the
//! word, registers an `event_listener` listener, then checks again; `set`
//! changes the word, then notifies every listener. `event-listener` puts a
//! full fence in both `listen` and `notify`, so either the waiter's second
//! check sees the set, or the set's notify sees the listener.
//!
//! asyncio wakes every task waiting when `set()` is called, even if the
//! event is cleared before they run; the generation gives that: a waiter
//! returns once the generation moved past the one it recorded, whatever the
//! flag says by then.

use std::fmt;

use event_listener::Event as Listeners;

use crate::loom::sync::atomic::{AtomicUsize, Ordering::*};

/// The flag bit of the state word.
const SET: usize = 1;
/// One generation, above the flag.
const GENERATION: usize = 2;

/// A flag that tasks can wait for: asyncio's `Event`.
///
/// [`wait`](Event::wait) returns once the flag is set; [`set`](Event::set)
/// sets it and wakes every waiter; [`clear`](Event::clear) resets it.
///
/// ```
/// use std::sync::Arc;
/// use windlass::sync::Event;
///
/// # windlass::Runtime::new().unwrap().block_on(async {
/// let ready = Arc::new(Event::new());
/// let waiters: Vec<_> = (0..3)
///     .map(|i| {
///         let ready = ready.clone();
///         windlass::spawn(async move {
///             ready.wait().await;
///             i
///         })
///     })
///     .collect();
/// ready.set();
/// let mut sum = 0;
/// for w in waiters {
///     sum += w.await.unwrap();
/// }
/// assert_eq!(sum, 3);
/// # });
/// ```
pub struct Event {
    /// `generation << 1 | SET`.
    state: AtomicUsize,
    /// The waiting tasks.
    listeners: Listeners,
}

impl Event {
    /// A cleared event.
    ///
    /// ```
    /// assert!(!windlass::sync::Event::new().is_set());
    /// ```
    pub fn new() -> Event {
        Event {
            state: AtomicUsize::new(0),
            listeners: Listeners::new(),
        }
    }

    /// Sets the flag and wakes every waiting task. Does nothing if already
    /// set.
    ///
    /// ```
    /// let event = windlass::sync::Event::new();
    /// event.set();
    /// assert!(event.is_set());
    /// ```
    pub fn set(&self) {
        let mut cur = self.state.load(Relaxed);
        loop {
            if cur & SET != 0 {
                return;
            }
            // Release: a waiter that sees the new word (Acquire) sees what
            // the setter wrote before `set`.
            match self.state.compare_exchange_weak(
                cur,
                cur.wrapping_add(GENERATION) | SET,
                Release,
                Relaxed,
            ) {
                Ok(_) => break,
                Err(actual) => cur = actual,
            }
        }
        self.listeners.notify(usize::MAX);
    }

    /// Clears the flag: later [`wait`](Self::wait)s block until the next
    /// [`set`](Self::set). Tasks already woken by a `set` still return.
    ///
    /// ```
    /// let event = windlass::sync::Event::new();
    /// event.set();
    /// event.clear();
    /// assert!(!event.is_set());
    /// ```
    pub fn clear(&self) {
        self.state.fetch_and(!SET, Relaxed);
    }

    /// True if the flag is set.
    ///
    /// ```
    /// let event = windlass::sync::Event::new();
    /// assert!(!event.is_set());
    /// ```
    pub fn is_set(&self) -> bool {
        self.state.load(Acquire) & SET != 0
    }

    /// Waits until the flag is set; returns at once if it is.
    ///
    /// Returns once a [`set`](Self::set) happened after the call started,
    /// even if the flag was cleared again before this task ran (as
    /// asyncio's `Event.wait`).
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: every waiter is woken by `set`, so a dropped waiter
    /// takes nothing from the others.
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let event = windlass::sync::Event::new();
    /// event.set();
    /// event.wait().await; // already set
    /// # });
    /// ```
    pub async fn wait(&self) {
        super::budgeted(self.wait_inner()).await
    }

    async fn wait_inner(&self) {
        let start = self.state.load(Acquire);
        if start & SET != 0 {
            return;
        }
        loop {
            let listener = self.listeners.listen();
            // Re-check after registering (the full fence in `listen` pairs
            // with the one in `notify`).
            if self.happened_since(start) {
                return;
            }
            super::listener::wait(listener).await;
            if self.happened_since(start) {
                return;
            }
        }
    }

    /// True if the flag is set, or was set since the word was `start`.
    fn happened_since(&self, start: usize) -> bool {
        let now = self.state.load(Acquire);
        now & SET != 0 || now & !SET != start & !SET
    }

    /// Blocks the thread until the flag is set, for code outside tasks.
    ///
    /// Panics on a thread that runs windlass tasks: use [`wait`](Self::wait).
    ///
    /// ```
    /// use std::sync::Arc;
    /// let event = Arc::new(windlass::sync::Event::new());
    /// let e = event.clone();
    /// let t = std::thread::spawn(move || e.blocking_wait());
    /// event.set();
    /// t.join().unwrap();
    /// ```
    #[track_caller]
    pub fn blocking_wait(&self) {
        super::block_on("Event::blocking_wait", self.wait())
    }
}

impl Default for Event {
    fn default() -> Event {
        Event::new()
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("is_set", &self.is_set())
            .finish()
    }
}
