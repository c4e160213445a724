//! [`Barrier`]: asyncio's `Barrier` (3.11), on `event-listener`.
//!
//! A mutex guards the number of tasks that arrived and the *generation*
//! (how many times the barrier opened). The task that completes a group
//! bumps the generation and notifies every listener; the others wait until
//! the generation moves. A task that leaves before the barrier opens
//! (its future dropped) takes its arrival back, as asyncio does, so a
//! cancelled waiter does not count towards the group.

use std::fmt;

use event_listener::Event as Listeners;

use crate::loom::sync::Mutex;

/// Makes a group of `n` tasks wait until all of them have arrived:
/// asyncio's `Barrier`.
///
/// Each task calls [`wait`](Barrier::wait); the `n`-th call opens the
/// barrier and all `n` return, one of them as the *leader*. The barrier
/// then serves the next group of `n`.
///
/// ```
/// use std::sync::Arc;
/// use windlass::sync::Barrier;
///
/// # windlass::Runtime::new().unwrap().block_on(async {
/// let barrier = Arc::new(Barrier::new(3));
/// let tasks: Vec<_> = (0..3)
///     .map(|_| {
///         let barrier = barrier.clone();
///         windlass::spawn(async move { barrier.wait().await.is_leader() })
///     })
///     .collect();
/// let mut leaders = 0;
/// for t in tasks {
///     leaders += t.await.unwrap() as usize;
/// }
/// assert_eq!(leaders, 1);
/// # });
/// ```
pub struct Barrier {
    parties: usize,
    state: Mutex<State>,
    listeners: Listeners,
}

struct State {
    /// Tasks waiting in the current group.
    arrived: usize,
    /// Times the barrier opened.
    generation: u64,
}

/// What [`Barrier::wait`] returns.
///
/// ```
/// # windlass::Runtime::new().unwrap().block_on(async {
/// let barrier = windlass::sync::Barrier::new(1);
/// assert!(barrier.wait().await.is_leader());
/// # });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BarrierWaitResult {
    leader: bool,
}

impl BarrierWaitResult {
    /// True for exactly one task of each group: the one whose arrival
    /// opened the barrier.
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let barrier = windlass::sync::Barrier::new(1);
    /// assert!(barrier.wait().await.is_leader());
    /// # });
    /// ```
    pub fn is_leader(&self) -> bool {
        self.leader
    }
}

impl Barrier {
    /// A barrier for groups of `parties` tasks. A barrier of 0 or 1 parties
    /// never waits.
    ///
    /// ```
    /// let barrier = windlass::sync::Barrier::new(4);
    /// assert_eq!(barrier.parties(), 4);
    /// ```
    pub fn new(parties: usize) -> Barrier {
        Barrier {
            parties: parties.max(1),
            state: Mutex::new(State {
                arrived: 0,
                generation: 0,
            }),
            listeners: Listeners::new(),
        }
    }

    /// Tasks per group.
    ///
    /// ```
    /// assert_eq!(windlass::sync::Barrier::new(2).parties(), 2);
    /// ```
    pub fn parties(&self) -> usize {
        self.parties
    }

    /// Tasks waiting in the current group: asyncio's `n_waiting`.
    ///
    /// ```
    /// assert_eq!(windlass::sync::Barrier::new(2).n_waiting(), 0);
    /// ```
    pub fn n_waiting(&self) -> usize {
        self.state.lock().arrived
    }

    /// Arrives and waits until the group is complete.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: a task dropped while waiting takes its arrival back, so
    /// the group still needs `parties` live tasks to open. Once the barrier
    /// has opened, dropping the future changes nothing.
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let barrier = windlass::sync::Barrier::new(1);
    /// barrier.wait().await;
    /// barrier.wait().await; // the next group
    /// # });
    /// ```
    pub async fn wait(&self) -> BarrierWaitResult {
        super::budgeted(self.wait_inner()).await
    }

    async fn wait_inner(&self) -> BarrierWaitResult {
        let generation = {
            let mut state = self.state.lock();
            state.arrived += 1;
            if state.arrived == self.parties {
                state.arrived = 0;
                state.generation += 1;
                drop(state);
                self.listeners.notify(usize::MAX);
                return BarrierWaitResult { leader: true };
            }
            state.generation
        };
        let arrival = Arrival {
            barrier: self,
            generation,
        };
        loop {
            let listener = self.listeners.listen();
            if self.state.lock().generation != generation {
                break;
            }
            super::listener::wait(listener).await;
        }
        std::mem::forget(arrival);
        BarrierWaitResult { leader: false }
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Barrier")
            .field("parties", &self.parties)
            .field("n_waiting", &self.n_waiting())
            .finish()
    }
}

/// A waiting task's arrival; dropping it (the wait was cancelled) takes
/// the arrival back unless the barrier opened meanwhile.
struct Arrival<'a> {
    barrier: &'a Barrier,
    generation: u64,
}

impl Drop for Arrival<'_> {
    fn drop(&mut self) {
        let mut state = self.barrier.state.lock();
        if state.generation == self.generation {
            state.arrived -= 1;
        }
    }
}
