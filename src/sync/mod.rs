//! Synchronisation for tasks: asyncio's `Lock`, `Event`, `Condition`,
//! `Semaphore`, `Barrier` and `Queue`, plus channels.
//!
//! | asyncio | windlass | backed by |
//! |---|---|---|
//! | `Lock` (`async with lock`) | [`Mutex<T>`] (guard, [`OwnedMutexGuard`] for spawned tasks) | windlass's fair semaphore |
//! | — | [`RwLock<T>`] | windlass's fair semaphore |
//! | `Semaphore`, `BoundedSemaphore` | [`Semaphore`] (permits, owned permits, `acquire_many`, `close`) | windlass's fair semaphore |
//! | `Event` | [`Event`] | `event-listener` |
//! | `Condition` | [`Condition`] (with a [`Mutex`] guard) | [`Notify`]'s wait list |
//! | — | [`Notify`] | windlass's wait list |
//! | `Barrier` | [`Barrier`] | `event-listener` |
//! | `Queue`, `LifoQueue`, `PriorityQueue` | [`Queue`], [`LifoQueue`], [`PriorityQueue`] (`task_done` / `join`) | `event-listener` |
//! | `loop.create_future()` + `set_result` | [`oneshot`] | hand-written |
//! | — | [`mpsc`] (bounded, unbounded) | `concurrent-queue`'s array + windlass's fair semaphore when bounded; windlass's list of recycled blocks when unbounded |
//! | — | [`broadcast`] (lagging receivers learn how many they missed) | `event-listener` |
//! | — | [`watch`] (latest value) | `event-listener` |
//!
//! Nothing here depends on the windlass runtime: every primitive works in
//! tasks of any executor, and from plain threads through the `blocking_*`
//! forms (which panic with a message on a thread that drives a windlass
//! runtime, where blocking would stall other tasks).
//!
//! asyncio's worker-pool pattern: a bounded [`Queue`] feeds three workers,
//! a [`Mutex`] guards the shared total, and `join` waits until every item
//! is processed. Unlike asyncio, the workers run in parallel on all
//! threads, so the shared total needs its lock for real.
//!
//! ```
//! use std::sync::Arc;
//! use windlass::sync::{Mutex, Queue};
//!
//! windlass::Runtime::new().unwrap().block_on(async {
//!     let queue = Arc::new(Queue::new(2)); // `put` waits while 2 items are queued
//!     let total = Arc::new(Mutex::new(0));
//!     let workers: Vec<_> = (0..3)
//!         .map(|_| {
//!             let (queue, total) = (queue.clone(), total.clone());
//!             windlass::spawn(async move {
//!                 // `get` fails once the queue is shut down and empty.
//!                 while let Ok(n) = queue.get().await {
//!                     *total.lock().await += n;
//!                     queue.task_done();
//!                 }
//!             })
//!         })
//!         .collect();
//!     for n in 1..=10 {
//!         queue.put(n).await.unwrap();
//!     }
//!     queue.join().await; // every item was taken and marked done
//!     assert_eq!(*total.lock().await, 55);
//!     queue.shutdown(false); // the workers' `get` now ends their loops
//!     for w in workers {
//!         w.await.unwrap();
//!     }
//! });
//! ```
//!
//! # Why not `std::sync::Mutex`?
//!
//! A `std::sync::Mutex` is fine for short critical sections with no
//! `.await` inside. Its guard cannot be held across an `.await` in a
//! spawned task (it is not `Send`, and a blocked lock would stall the
//! worker); [`Mutex`]'s guard can:
//!
//! ```compile_fail
//! use std::sync::{Arc, Mutex};
//!
//! windlass::Runtime::new().unwrap().block_on(async {
//!     let counter = Arc::new(Mutex::new(0));
//!     windlass::spawn(async move {
//!         let mut n = counter.lock().unwrap();
//!         windlass::task::yield_now().await; // error: the guard is not `Send`
//!         *n += 1;
//!     });
//! });
//! ```
//!
//! ```
//! use std::sync::Arc;
//! use windlass::sync::Mutex;
//!
//! windlass::Runtime::new().unwrap().block_on(async {
//!     let counter = Arc::new(Mutex::new(0));
//!     let c = counter.clone();
//!     windlass::spawn(async move {
//!         let mut n = c.lock().await;
//!         windlass::task::yield_now().await; // others wait for the lock, not the thread
//!         *n += 1;
//!     })
//!     .await
//!     .unwrap();
//!     assert_eq!(*counter.lock().await, 1);
//! });
//! ```
//!
//! # Cancel safety
//!
//! Dropping a future before it completes is how Rust cancels (asyncio's
//! `task.cancel()` drops the task's future at its current `.await`). Every
//! wait here is *cancel-safe*: dropping a pending `lock()`, `acquire()`,
//! `get()`, `recv()` or `wait()` loses no permit, wake-up or message. A
//! permit or a notification that was already handed to the dropped waiter
//! passes on to the next one; a message is only taken out of a channel by
//! the poll that returns it. Each method's docs say so under "Cancel safety",
//! including the few exceptions (a dropped `send` on a full channel drops its
//! message with it).
//!
//! # Fairness
//!
//! Where asyncio serves waiters first-come first-served, so does windlass:
//! [`Mutex`], [`RwLock`] and [`Semaphore`] hand a released permit straight
//! to the longest waiter (a newcomer cannot barge in), and [`Condition`] and
//! [`Notify`] wake waiters in the order they started waiting.
//!
//! # Cooperative budget
//!
//! A loop that always finds its lock free or its channel non-empty never
//! returns `Pending` on its own. These futures spend the task's cooperative
//! budget (see [`task::consume_budget`](crate::task::consume_budget)), so
//! such a loop still lets the other tasks of its worker run.

mod barrier;
pub mod broadcast;
mod condition;
mod event;
mod listener;
pub mod mpsc;
mod mutex;
mod notify;
pub mod oneshot;
mod queue;
mod rwlock;
mod semaphore;
mod waiters;
pub mod watch;

pub use barrier::{Barrier, BarrierWaitResult};
pub use condition::Condition;
pub use event::Event;
pub use mutex::{Mutex, MutexGuard, OwnedMutexGuard, TryLockError};
pub use notify::{Notified, Notify};
pub use queue::{
    Fifo, GetError, Lifo, LifoQueue, Order, Priority, PriorityQueue, PutError, Queue, TryGetError,
    TryPutError,
};
pub use rwlock::{RwLock, RwLockReadGuard, RwLockWriteGuard};
pub use semaphore::{
    AcquireError, OwnedSemaphorePermit, Semaphore, SemaphorePermit, TryAcquireError,
};

use std::future::Future;

use crate::task::coop;

/// Runs `fut` to completion on this thread, for the `blocking_*` methods.
///
/// Panics if this thread drives a windlass runtime (a worker, or inside
/// `block_on`): blocking there would stall every task of that thread, and
/// could deadlock if the task that would wake us is queued behind us.
#[track_caller]
pub(crate) fn block_on<F: Future>(what: &str, fut: F) -> F::Output {
    if crate::runtime::context::is_entered() {
        panic!(
            "windlass: `{what}` cannot be called here: this thread runs windlass tasks (a worker \
             thread, or inside `block_on`), and blocking it would stall them. Use the async \
             form with `.await` instead, or call `{what}` from `windlass::spawn_blocking` or a \
             plain thread."
        );
    }
    futures_lite::future::block_on(fut)
}

/// Runs `fut` as one unit of cooperative work: yields first if the task's
/// budget is spent, and spends one unit when `fut` completes.
pub(crate) async fn budgeted<F: Future>(fut: F) -> F::Output {
    std::future::poll_fn(coop::poll_proceed).await;
    let out = fut.await;
    coop::consume();
    out
}
