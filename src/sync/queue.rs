//! [`Queue`]: asyncio's `Queue`, `LifoQueue` and `PriorityQueue`, with
//! `task_done()` / `join()` and 3.13's `shutdown()`.
//!
//! One mutex guards the items (a `VecDeque`, a `Vec` or a `BinaryHeap`,
//! chosen by the [`Order`] parameter), the count of unfinished items and
//! the shut-down flag. Three `event-listener` events wake the tasks that
//! wait: getters (`not_empty`), putters (`not_full`) and joiners
//! (`all_done`). A waiter tries, registers a listener, then tries again
//! before it sleeps; a change is made under the mutex and notified after
//! it, so a change between the two tries is seen by the second, and one
//! after it reaches the listener. Each put wakes one more getter and each
//! get one more putter (`notify_additional(1)`); a listener dropped after
//! being notified passes the notification on (an `event-listener`
//! guarantee), which is what makes `get()` and `put()` cancel-safe.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};

use event_listener::Event as Listeners;

use crate::loom::sync::Mutex;

/// A queue that tasks share to hand work to each other: asyncio's `Queue`.
///
/// `maxsize` bounds it: [`put`](Queue::put) waits while it is full (0 means
/// unbounded); [`get`](Queue::get) waits while it is empty.
/// [`put_nowait`](Queue::put_nowait) and [`get_nowait`](Queue::get_nowait)
/// never wait and say why they failed. Every item put counts as unfinished
/// until a consumer calls [`task_done`](Queue::task_done);
/// [`join`](Queue::join) waits until none is unfinished.
/// [`shutdown`](Queue::shutdown) ends it all (asyncio 3.13).
///
/// The order is a type parameter: [`Queue<T>`] is first-in first-out,
/// [`LifoQueue<T>`] (from [`Queue::lifo`]) last-in first-out, and
/// [`PriorityQueue<T>`] (from [`Queue::priority`]) smallest first, like
/// asyncio's (wrap items in [`std::cmp::Reverse`] for largest first).
///
/// Share it between tasks with an `Arc`. Items of one order come out in
/// that order; waiting putters and getters are woken in FIFO order, but a
/// task that calls `put`/`get` when the queue has room/items does not wait
/// behind them (as in asyncio).
///
/// ```
/// use std::sync::Arc;
/// use windlass::sync::Queue;
///
/// # windlass::Runtime::new().unwrap().block_on(async {
/// let queue = Arc::new(Queue::new(10));
/// let workers: Vec<_> = (0..3)
///     .map(|_| {
///         let queue = queue.clone();
///         windlass::spawn(async move {
///             let mut done = 0;
///             while let Ok(job) = queue.get().await {
///                 let _: u32 = job; // process it
///                 done += 1;
///                 queue.task_done();
///             }
///             done
///         })
///     })
///     .collect();
/// for job in 0..100 {
///     queue.put(job).await.unwrap();
/// }
/// queue.join().await; // every job processed
/// queue.shutdown(false); // the workers' `get` now fails
/// let mut total = 0;
/// for w in workers {
///     total += w.await.unwrap();
/// }
/// assert_eq!(total, 100);
/// # });
/// ```
pub struct Queue<T, K: Order<T> = Fifo> {
    /// 0 for unbounded.
    maxsize: usize,
    state: Mutex<State<T, K>>,
    /// Getters waiting for an item (or the shutdown).
    not_empty: Listeners,
    /// Putters waiting for room (or the shutdown).
    not_full: Listeners,
    /// Joiners waiting for `unfinished == 0`.
    all_done: Listeners,
}

struct State<T, K: Order<T>> {
    items: K::Items,
    /// Items put and not yet marked done.
    unfinished: usize,
    shut_down: bool,
}

/// A last-in first-out [`Queue`]: asyncio's `LifoQueue`. Make one with
/// [`Queue::lifo`].
///
/// ```
/// use windlass::sync::{LifoQueue, Queue};
/// let stack: LifoQueue<u8> = Queue::lifo(0);
/// stack.put_nowait(1).unwrap();
/// stack.put_nowait(2).unwrap();
/// assert_eq!(stack.get_nowait().unwrap(), 2);
/// ```
pub type LifoQueue<T> = Queue<T, Lifo>;

/// A smallest-first [`Queue`]: asyncio's `PriorityQueue`. Make one with
/// [`Queue::priority`].
///
/// The items' `Ord` runs inside `put` and `get`. If it panics (say a
/// `partial_cmp(..).unwrap()` meets a NaN), the panic reaches the caller
/// and the queue stays consistent: an item the heap kept counts as
/// unfinished, and one it dropped while taking it out stops counting (its
/// room goes to a waiting putter, and `join` does not wait for it).
///
/// ```
/// use windlass::sync::{PriorityQueue, Queue};
/// let jobs: PriorityQueue<(u8, &str)> = Queue::priority(0);
/// jobs.put_nowait((2, "later")).unwrap();
/// jobs.put_nowait((1, "first")).unwrap();
/// assert_eq!(jobs.get_nowait().unwrap(), (1, "first"));
/// ```
pub type PriorityQueue<T> = Queue<T, Priority>;

/// The order of a [`Queue`]: [`Fifo`], [`Lifo`] or [`Priority`].
///
/// Sealed: the three orders are all there is.
///
/// ```
/// fn describe<K: windlass::sync::Order<u32>>(_q: &windlass::sync::Queue<u32, K>) {}
/// describe(&windlass::sync::Queue::new(0));
/// ```
pub trait Order<T>: private::Store<T> {}

/// First in, first out: asyncio's `Queue`.
///
/// ```
/// let q: windlass::sync::Queue<u8, windlass::sync::Fifo> = windlass::sync::Queue::new(0);
/// # drop(q);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Fifo(());

/// Last in, first out: asyncio's `LifoQueue`.
///
/// ```
/// let q: windlass::sync::Queue<u8, windlass::sync::Lifo> = windlass::sync::Queue::lifo(0);
/// # drop(q);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Lifo(());

/// Smallest first: asyncio's `PriorityQueue`.
///
/// ```
/// let q: windlass::sync::Queue<u8, windlass::sync::Priority> = windlass::sync::Queue::priority(0);
/// # drop(q);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Priority(());

mod private {
    /// How an [`Order`](super::Order) keeps its items.
    pub trait Store<T> {
        type Items;
        fn new_items() -> Self::Items;
        fn push(items: &mut Self::Items, item: T);
        fn pop(items: &mut Self::Items) -> Option<T>;
        fn len(items: &Self::Items) -> usize;
    }
}

impl<T> private::Store<T> for Fifo {
    type Items = VecDeque<T>;
    fn new_items() -> VecDeque<T> {
        VecDeque::new()
    }
    fn push(items: &mut VecDeque<T>, item: T) {
        items.push_back(item);
    }
    fn pop(items: &mut VecDeque<T>) -> Option<T> {
        items.pop_front()
    }
    fn len(items: &VecDeque<T>) -> usize {
        items.len()
    }
}
impl<T> Order<T> for Fifo {}

impl<T> private::Store<T> for Lifo {
    type Items = Vec<T>;
    fn new_items() -> Vec<T> {
        Vec::new()
    }
    fn push(items: &mut Vec<T>, item: T) {
        items.push(item);
    }
    fn pop(items: &mut Vec<T>) -> Option<T> {
        items.pop()
    }
    fn len(items: &Vec<T>) -> usize {
        items.len()
    }
}
impl<T> Order<T> for Lifo {}

impl<T: Ord> private::Store<T> for Priority {
    type Items = BinaryHeap<Reverse<T>>;
    fn new_items() -> BinaryHeap<Reverse<T>> {
        BinaryHeap::new()
    }
    fn push(items: &mut BinaryHeap<Reverse<T>>, item: T) {
        items.push(Reverse(item));
    }
    fn pop(items: &mut BinaryHeap<Reverse<T>>) -> Option<T> {
        items.pop().map(|Reverse(item)| item)
    }
    fn len(items: &BinaryHeap<Reverse<T>>) -> usize {
        items.len()
    }
}
impl<T: Ord> Order<T> for Priority {}

/// The error of [`Queue::put`]: the queue was shut down. Holds the item,
/// so nothing is lost.
///
/// ```
/// use windlass::sync::{PutError, Queue};
///
/// # futures_lite::future::block_on(async {
/// let q = Queue::new(0);
/// q.shutdown(false);
/// let PutError(item) = q.put("late job").await.unwrap_err();
/// assert_eq!(item, "late job"); // handed back
/// # });
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PutError<T>(pub T);

/// The error of [`Queue::put_nowait`]. Holds the item; see
/// [`into_inner`](Self::into_inner).
///
/// ```
/// use windlass::sync::{Queue, TryPutError};
///
/// let q = Queue::new(1);
/// q.put_nowait(1).unwrap();
/// assert_eq!(q.put_nowait(2), Err(TryPutError::Full(2))); // asyncio's QueueFull
/// q.shutdown(false);
/// assert_eq!(q.put_nowait(3), Err(TryPutError::ShutDown(3)));
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum TryPutError<T> {
    /// The queue has `maxsize` items: asyncio's `QueueFull`.
    Full(T),
    /// The queue was shut down: asyncio's `QueueShutDown`.
    ShutDown(T),
}

/// The error of [`Queue::get`]: the queue was shut down and is empty
/// (asyncio's `QueueShutDown`). A consumer's `while let Ok(item) =
/// queue.get().await` loop ends on it.
///
/// ```
/// use windlass::sync::Queue;
///
/// # futures_lite::future::block_on(async {
/// let q = Queue::new(0);
/// q.put(1).await.unwrap();
/// q.shutdown(false);
/// assert_eq!(q.get().await, Ok(1)); // what was queued is still handed out
/// let err = q.get().await.unwrap_err();
/// assert_eq!(err.to_string(), "queue is shut down and empty");
/// # });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GetError(());

/// The error of [`Queue::get_nowait`].
///
/// ```
/// use windlass::sync::{Queue, TryGetError};
///
/// let q = Queue::<u8>::new(0);
/// assert_eq!(q.get_nowait(), Err(TryGetError::Empty)); // asyncio's QueueEmpty
/// q.shutdown(false);
/// assert_eq!(q.get_nowait(), Err(TryGetError::ShutDown));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TryGetError {
    /// No item: asyncio's `QueueEmpty`.
    Empty,
    /// Shut down and empty: asyncio's `QueueShutDown`.
    ShutDown,
}

impl<T> Queue<T> {
    /// A first-in first-out queue holding at most `maxsize` items (0 for
    /// no limit): asyncio's `Queue(maxsize)`.
    ///
    /// ```
    /// let q = windlass::sync::Queue::<u8>::new(2);
    /// assert_eq!(q.maxsize(), 2);
    /// ```
    pub fn new(maxsize: usize) -> Queue<T> {
        Queue::with_order(maxsize)
    }
}

impl<T> Queue<T, Lifo> {
    /// A last-in first-out queue: asyncio's `LifoQueue(maxsize)`.
    ///
    /// ```
    /// let q = windlass::sync::Queue::lifo(0);
    /// q.put_nowait('a').unwrap();
    /// q.put_nowait('b').unwrap();
    /// assert_eq!(q.get_nowait().unwrap(), 'b');
    /// ```
    pub fn lifo(maxsize: usize) -> Queue<T, Lifo> {
        Queue::with_order(maxsize)
    }
}

impl<T: Ord> Queue<T, Priority> {
    /// A smallest-first queue: asyncio's `PriorityQueue(maxsize)`.
    ///
    /// ```
    /// let q = windlass::sync::Queue::priority(0);
    /// for n in [3, 1, 2] {
    ///     q.put_nowait(n).unwrap();
    /// }
    /// assert_eq!(q.get_nowait().unwrap(), 1);
    /// ```
    pub fn priority(maxsize: usize) -> Queue<T, Priority> {
        Queue::with_order(maxsize)
    }
}

impl<T, K: Order<T>> Queue<T, K> {
    fn with_order(maxsize: usize) -> Queue<T, K> {
        Queue {
            maxsize,
            state: Mutex::new(State {
                items: K::new_items(),
                unfinished: 0,
                shut_down: false,
            }),
            not_empty: Listeners::new(),
            not_full: Listeners::new(),
            all_done: Listeners::new(),
        }
    }

    /// The bound given at creation; 0 means unbounded.
    ///
    /// ```
    /// assert_eq!(windlass::sync::Queue::<()>::new(0).maxsize(), 0);
    /// ```
    pub fn maxsize(&self) -> usize {
        self.maxsize
    }

    /// Items in the queue now: asyncio's `qsize()`.
    ///
    /// ```
    /// let q = windlass::sync::Queue::new(0);
    /// q.put_nowait(1).unwrap();
    /// assert_eq!(q.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        K::len(&self.state.lock().items)
    }

    /// True if the queue holds no item: asyncio's `empty()`.
    ///
    /// ```
    /// assert!(windlass::sync::Queue::<u8>::new(0).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True if the queue holds `maxsize` items: asyncio's `full()`. An
    /// unbounded queue is never full.
    ///
    /// ```
    /// let q = windlass::sync::Queue::new(1);
    /// q.put_nowait(1).unwrap();
    /// assert!(q.is_full());
    /// ```
    pub fn is_full(&self) -> bool {
        self.maxsize > 0 && self.len() >= self.maxsize
    }

    /// Items put and not yet marked done with [`task_done`](Self::task_done).
    ///
    /// ```
    /// let q = windlass::sync::Queue::new(0);
    /// q.put_nowait(1).unwrap();
    /// q.get_nowait().unwrap();
    /// assert_eq!(q.unfinished_tasks(), 1);
    /// q.task_done();
    /// assert_eq!(q.unfinished_tasks(), 0);
    /// ```
    pub fn unfinished_tasks(&self) -> usize {
        self.state.lock().unfinished
    }

    /// Puts `item` in, waiting while the queue is full. Fails (handing the
    /// item back) if the queue is or gets shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: a dropped `put` either put its item in (it completed
    /// its last poll) or did not and drops it with the future; a wake-up it
    /// received goes to the next waiting putter.
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let q = windlass::sync::Queue::new(1);
    /// q.put("a").await.unwrap();
    /// assert!(q.put_nowait("b").is_err()); // full
    /// # });
    /// ```
    pub async fn put(&self, item: T) -> Result<(), PutError<T>> {
        super::budgeted(self.put_inner(item)).await
    }

    async fn put_inner(&self, mut item: T) -> Result<(), PutError<T>> {
        loop {
            item = match self.put_nowait(item) {
                Ok(()) => return Ok(()),
                Err(TryPutError::ShutDown(it)) => return Err(PutError(it)),
                Err(TryPutError::Full(it)) => it,
            };
            // Listen, then check again: a get between the check above and
            // the registration would otherwise go unnoticed.
            let listener = self.not_full.listen();
            item = match self.put_nowait(item) {
                Ok(()) => return Ok(()),
                Err(TryPutError::ShutDown(it)) => return Err(PutError(it)),
                Err(TryPutError::Full(it)) => it,
            };
            super::listener::wait(listener).await;
        }
    }

    /// Puts `item` in if there is room; never waits. asyncio's
    /// `put_nowait`, with `QueueFull` as [`TryPutError::Full`].
    ///
    /// ```
    /// use windlass::sync::{Queue, TryPutError};
    /// let q = Queue::new(1);
    /// q.put_nowait(1).unwrap();
    /// assert_eq!(q.put_nowait(2), Err(TryPutError::Full(2)));
    /// ```
    pub fn put_nowait(&self, item: T) -> Result<(), TryPutError<T>> {
        self.try_put_locked(self.state.lock(), item)
    }

    fn try_put_locked(
        &self,
        mut state: crate::loom::sync::MutexGuard<'_, State<T, K>>,
        item: T,
    ) -> Result<(), TryPutError<T>> {
        if state.shut_down {
            return Err(TryPutError::ShutDown(item));
        }
        if self.maxsize > 0 && K::len(&state.items) >= self.maxsize {
            return Err(TryPutError::Full(item));
        }
        // A priority queue's push runs the items' `Ord`: user code, which
        // may panic (`partial_cmp(..).unwrap()` on a NaN). Count what went
        // in and wake a getter either way, so that no state is left
        // half-written under the lock (std's `BinaryHeap` keeps the item).
        let before = K::len(&state.items);
        let pushed = catch_unwind(AssertUnwindSafe(|| K::push(&mut state.items, item)));
        let added = K::len(&state.items).saturating_sub(before);
        state.unfinished += added;
        drop(state);
        if added > 0 {
            self.not_empty.notify_additional(added);
        }
        match pushed {
            Ok(()) => Ok(()),
            Err(payload) => resume_unwind(payload),
        }
    }

    /// Takes the next item, waiting while the queue is empty. Fails only
    /// once the queue is shut down and empty.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: an item leaves the queue only in the poll that returns
    /// it, and a wake-up the dropped future received goes to the next
    /// waiting getter.
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let q = windlass::sync::Queue::new(0);
    /// q.put(5).await.unwrap();
    /// assert_eq!(q.get().await.unwrap(), 5);
    /// # });
    /// ```
    pub async fn get(&self) -> Result<T, GetError> {
        super::budgeted(self.get_inner()).await
    }

    async fn get_inner(&self) -> Result<T, GetError> {
        loop {
            match self.get_nowait() {
                Ok(item) => return Ok(item),
                Err(TryGetError::ShutDown) => return Err(GetError(())),
                Err(TryGetError::Empty) => {}
            }
            // Listen, then check again (see `put_inner`).
            let listener = self.not_empty.listen();
            match self.get_nowait() {
                Ok(item) => return Ok(item),
                Err(TryGetError::ShutDown) => return Err(GetError(())),
                Err(TryGetError::Empty) => {}
            }
            super::listener::wait(listener).await;
        }
    }

    /// Takes the next item if there is one; never waits. asyncio's
    /// `get_nowait`, with `QueueEmpty` as [`TryGetError::Empty`].
    ///
    /// ```
    /// use windlass::sync::{Queue, TryGetError};
    /// let q = Queue::<u8>::new(0);
    /// assert_eq!(q.get_nowait(), Err(TryGetError::Empty));
    /// ```
    pub fn get_nowait(&self) -> Result<T, TryGetError> {
        self.try_get_locked(self.state.lock())
    }

    fn try_get_locked(
        &self,
        mut state: crate::loom::sync::MutexGuard<'_, State<T, K>>,
    ) -> Result<T, TryGetError> {
        // As in `try_put_locked`: a priority queue's pop runs `Ord`. If it
        // panics, std drops the item it was taking out; nobody can mark
        // that one done, so it stops counting as unfinished, and the room
        // it freed still wakes a putter.
        let before = K::len(&state.items);
        let popped = match catch_unwind(AssertUnwindSafe(|| K::pop(&mut state.items))) {
            Ok(popped) => popped,
            Err(payload) => {
                let lost = before.saturating_sub(K::len(&state.items));
                state.unfinished = state.unfinished.saturating_sub(lost);
                let all_done = lost > 0 && state.unfinished == 0;
                drop(state);
                if lost > 0 && self.maxsize > 0 {
                    self.not_full.notify_additional(lost);
                }
                if all_done {
                    self.all_done.notify(usize::MAX);
                }
                resume_unwind(payload);
            }
        };
        match popped {
            Some(item) => {
                drop(state);
                if self.maxsize > 0 {
                    self.not_full.notify_additional(1);
                }
                Ok(item)
            }
            None if state.shut_down => Err(TryGetError::ShutDown),
            None => Err(TryGetError::Empty),
        }
    }

    /// Marks one item taken with `get` as processed: asyncio's
    /// `task_done()`. When every item put has been marked done,
    /// [`join`](Self::join) returns.
    ///
    /// Panics if called more times than items were put (asyncio raises
    /// `ValueError`).
    ///
    /// ```
    /// let q = windlass::sync::Queue::new(0);
    /// q.put_nowait(1).unwrap();
    /// let _job = q.get_nowait().unwrap();
    /// q.task_done();
    /// assert_eq!(q.unfinished_tasks(), 0);
    /// ```
    #[track_caller]
    pub fn task_done(&self) {
        let mut state = self.state.lock();
        assert!(
            state.unfinished > 0,
            "Queue::task_done called more times than items were put"
        );
        state.unfinished -= 1;
        let all_done = state.unfinished == 0;
        drop(state);
        if all_done {
            self.all_done.notify(usize::MAX);
        }
    }

    /// Waits until every item put has been marked done with
    /// [`task_done`](Self::task_done): asyncio's `join()`. Returns at once
    /// if none is unfinished.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: it only waits; every joiner is woken.
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let q = windlass::sync::Queue::<u8>::new(0);
    /// q.join().await; // nothing unfinished
    /// # });
    /// ```
    pub async fn join(&self) {
        super::budgeted(async {
            loop {
                if self.unfinished_tasks() == 0 {
                    return;
                }
                // Listen, then check again (see `put_inner`).
                let listener = self.all_done.listen();
                if self.unfinished_tasks() == 0 {
                    return;
                }
                super::listener::wait(listener).await;
            }
        })
        .await
    }

    /// Shuts the queue down (asyncio 3.13's `shutdown`): `put` fails from
    /// now on, and so does `get` once the queue is empty. With `immediate`,
    /// the items still in the queue are dropped at once and count as done,
    /// so [`join`](Self::join) can return. Waiting putters, getters (and
    /// joiners, if that finished everything) are woken.
    ///
    /// ```
    /// use windlass::sync::{Queue, TryGetError, TryPutError};
    /// let q = Queue::new(0);
    /// q.put_nowait(1).unwrap();
    /// q.shutdown(false);
    /// assert_eq!(q.put_nowait(2), Err(TryPutError::ShutDown(2)));
    /// assert_eq!(q.get_nowait(), Ok(1)); // drained as usual
    /// assert_eq!(q.get_nowait(), Err(TryGetError::ShutDown));
    /// ```
    pub fn shutdown(&self, immediate: bool) {
        let mut state = self.state.lock();
        state.shut_down = true;
        let dropped = if immediate {
            let dropped = std::mem::replace(&mut state.items, K::new_items());
            let n = K::len(&dropped);
            state.unfinished = state.unfinished.saturating_sub(n);
            Some(dropped)
        } else {
            None
        };
        let all_done = state.unfinished == 0;
        drop(state);
        // Items may run arbitrary code when dropped: outside the lock.
        drop(dropped);
        self.not_empty.notify(usize::MAX);
        self.not_full.notify(usize::MAX);
        if all_done {
            self.all_done.notify(usize::MAX);
        }
    }

    /// True once [`shutdown`](Self::shutdown) was called.
    ///
    /// ```
    /// let q = windlass::sync::Queue::<u8>::new(0);
    /// q.shutdown(true);
    /// assert!(q.is_shut_down());
    /// ```
    pub fn is_shut_down(&self) -> bool {
        self.state.lock().shut_down
    }

    /// Blocks the thread to [`put`](Self::put), for code outside tasks.
    ///
    /// Panics on a thread that runs windlass tasks: use `put` there.
    ///
    /// ```
    /// let q = windlass::sync::Queue::new(1);
    /// q.blocking_put(1).unwrap();
    /// assert_eq!(q.len(), 1);
    /// ```
    #[track_caller]
    pub fn blocking_put(&self, item: T) -> Result<(), PutError<T>> {
        super::block_on("Queue::blocking_put", self.put(item))
    }

    /// Blocks the thread to [`get`](Self::get), for code outside tasks.
    ///
    /// Panics on a thread that runs windlass tasks: use `get` there.
    ///
    /// ```
    /// let q = windlass::sync::Queue::new(0);
    /// q.put_nowait(4).unwrap();
    /// assert_eq!(q.blocking_get().unwrap(), 4);
    /// ```
    #[track_caller]
    pub fn blocking_get(&self) -> Result<T, GetError> {
        super::block_on("Queue::blocking_get", self.get())
    }
}

impl<T, K: Order<T>> fmt::Debug for Queue<T, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.lock();
        f.debug_struct("Queue")
            .field("maxsize", &self.maxsize)
            .field("len", &K::len(&state.items))
            .field("unfinished", &state.unfinished)
            .field("shut_down", &state.shut_down)
            .finish()
    }
}

impl<T> fmt::Debug for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PutError(..)")
    }
}

impl<T> fmt::Display for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("queue is shut down")
    }
}

impl<T> std::error::Error for PutError<T> {}

impl<T> fmt::Debug for TryPutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryPutError::Full(_) => f.write_str("Full(..)"),
            TryPutError::ShutDown(_) => f.write_str("ShutDown(..)"),
        }
    }
}

impl<T> fmt::Display for TryPutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryPutError::Full(_) => f.write_str("queue is full"),
            TryPutError::ShutDown(_) => f.write_str("queue is shut down"),
        }
    }
}

impl<T> std::error::Error for TryPutError<T> {}

impl<T> TryPutError<T> {
    /// The item that was not put.
    ///
    /// ```
    /// let q = windlass::sync::Queue::new(1);
    /// q.put_nowait('a').unwrap();
    /// assert_eq!(q.put_nowait('b').unwrap_err().into_inner(), 'b');
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            TryPutError::Full(item) | TryPutError::ShutDown(item) => item,
        }
    }
}

impl fmt::Display for GetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("queue is shut down and empty")
    }
}

impl std::error::Error for GetError {}

impl fmt::Display for TryGetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryGetError::Empty => f.write_str("queue is empty"),
            TryGetError::ShutDown => f.write_str("queue is shut down and empty"),
        }
    }
}

impl std::error::Error for TryGetError {}
