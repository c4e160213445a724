//! [`Semaphore`]: a fair (FIFO) counting semaphore, and the core of
//! [`Mutex`](super::Mutex) and [`RwLock`](super::RwLock).
//!
//! # Protocol
//!
//! One atomic word, the *state*, and a mutex-guarded [`WaitList`] of
//! waiters, each asking for some number of permits and holding a *ticket*,
//! plus one more atomic, `granted`, that tells a waiter it was served.
//!
//! ```text
//! state   = available permits << 2 | CLOSED | QUEUED
//! granted = one past the ticket of the last waiter served (rule 4)
//! ```
//!
//! - `QUEUED`: the wait list may be non-empty, so released permits must go
//!   to waiters, through the mutex. Set and cleared only by a thread that
//!   holds the waiters mutex.
//! - `CLOSED`: set once by [`Semaphore::close`]; acquisitions fail after it.
//!
//! Invariant (**I**): while `QUEUED` is set, the word holds zero permits.
//! Every permit is then either held by a user, or *assigned* to a waiter
//! (counted in its `acquired`), never lying free while someone waits.
//!
//! The rules, which keep **I** and lose no permit or wake-up:
//!
//! 1. **Fast acquire.** Without the mutex: CAS the word from `s` to
//!    `s - n` only if `QUEUED` and `CLOSED` are clear and `s` holds `n`
//!    permits (`Acquire`, pairs with the `Release` of rules 2 and 5, so
//!    the previous holder's writes are visible).
//! 2. **Fast release.** Without the mutex: CAS the word from `s` to `s + n`
//!    only if `QUEUED` is clear (`Release`).
//! 3. **Enqueue.** Under the mutex, an acquirer that cannot take its `n`
//!    permits CASes the word from `s` (with `p < n` permits, or `QUEUED`
//!    and so `p = 0` by **I**) to `QUEUED`, taking the `p` permits as a
//!    down payment, takes the next ticket and links itself at the tail.
//!    Because rules 1 and 2 also CAS, a concurrent fast release either
//!    lands before this CAS (which then fails and re-reads, seeing more
//!    permits) or after it (and sees `QUEUED`, so it takes the slow path
//!    of rule 4 and finds the waiter). That is why no wake-up is lost.
//!    If the word reads exactly `QUEUED` under the mutex there is nothing
//!    to take and nothing to set, and no other thread can change that
//!    word until we unlock (rules 1 and 2 leave a `QUEUED` word alone, and
//!    every other writer holds the mutex), so the acquirer links itself
//!    without the CAS: a full channel's senders then enqueue without
//!    writing the line that `granted` shares with the word.
//! 4. **Slow release.** Under the mutex, released permits are assigned to
//!    waiters from the head: the head's `acquired` grows, and once it has
//!    all it asked for it is *served*: the releaser frees its slot, collects
//!    its waker and stores its ticket + 1 in `granted` (`Release`). Only
//!    when the list is empty do leftover permits go back to the word, in
//!    the same CAS that clears `QUEUED` (rule 5).
//! 5. **Deposit.** Under the mutex with an empty list: CAS the word from
//!    `s` to `(s + n) & !QUEUED` (`Release`).
//! 6. **Cancel.** A dropped waiter, under the mutex, releases (rule 4)
//!    what it holds: all `n` permits if it was served but had not noticed
//!    (rule 9; its slot is already freed), else its down payment (while
//!    linked; nothing once closed), after freeing its slot.
//!    Removing a linked waiter can empty the list, so rule 4 runs even for
//!    zero permits (it then clears `QUEUED`).
//! 7. **Close.** Under the mutex: set `CLOSED`, unlink every waiter, mark
//!    it closed, wake it, and deposit (rule 5) the down payments.
//! 8. **Check first.** A release that would overflow the word panics
//!    before it changes anything: before the fast CAS, and in rule 4
//!    before the first waiter is granted. (Panicking after a grant lost
//!    that waiter's wake-up and left `QUEUED` set, wedging the semaphore.)
//! 9. **Served without the mutex.** Tickets are taken in list order and
//!    rule 4 serves only the head, so waiters are served in ticket order
//!    (a cancelled or closed waiter is skipped, never served later):
//!    a live waiter was served exactly when its ticket is below `granted`.
//!    A woken waiter reads `granted` first, without the mutex (`Acquire`,
//!    pairs with rule 4's `Release`), and if served returns at once; only
//!    otherwise does it take the mutex and look at its slot. A dropped
//!    waiter (rule 6) reads `granted` first too, under the mutex. Once
//!    served, a waiter never uses its key again: the releaser freed that
//!    slot, and a newer waiter may hold it. (Before this rule a served
//!    waiter took the mutex to learn it was served: a third lock per
//!    hand-off besides the release and the next enqueue, and when two
//!    workers share a semaphore the one that collided most; see
//!    docs/PERFORMANCE.md, "sync_semaphore".)
//!
//! Fairness follows from **I**: while anyone waits, the word holds no
//! permits, so a newcomer's fast acquire fails and it queues behind.
//! Handing permits to a waiter publishes the previous holder's writes to
//! it: the releaser's `Release` store to `granted` follows them, and the
//! waiter's `Acquire` load reads it, with or without the mutex. (Each
//! hand-off is such a pair, rules 1 with 2 and 5 on the fast path, so the
//! writes of every earlier holder come along.)

use crate::loom::std::sync::Arc;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use super::waiters::{Key, WaitList, WakeList, set_waker};
use crate::loom::sync::atomic::{AtomicU64, AtomicUsize, Ordering::*};
use crate::loom::sync::{Mutex, MutexGuard};
use crate::task::coop;

/// The wait list may be non-empty: releases go through the mutex.
const QUEUED: usize = 0b01;
/// The semaphore is closed.
const CLOSED: usize = 0b10;
/// Permits are counted above the flag bits.
const SHIFT: usize = 2;

/// A counting semaphore for tasks: asyncio's `Semaphore`, served
/// first-come first-served.
///
/// A semaphore holds a number of permits. [`acquire`](Semaphore::acquire)
/// waits until one is free and returns it as a [`SemaphorePermit`], which
/// gives the permit back when dropped (asyncio's `async with sem:`).
/// Waiters are served in the order they started waiting, including those
/// asking for several permits at once ([`acquire_many`](Semaphore::acquire_many)):
/// a released permit goes to the longest waiter, never to a newcomer.
///
/// To bound concurrency across spawned tasks, share it in an [`Arc`] and
/// use [`acquire_owned`](Semaphore::acquire_owned), whose permit can move
/// into the task.
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use windlass::sync::Semaphore;
///
/// # windlass::Runtime::new().unwrap().block_on(async {
/// // At most 3 downloads at once, as the asyncio tutorials do with
/// // `async with sem:`.
/// let sem = Arc::new(Semaphore::new(3));
/// let in_flight = Arc::new(AtomicUsize::new(0));
/// let mut tasks = Vec::new();
/// for _ in 0..10 {
///     let permit = sem.clone().acquire_owned().await.unwrap();
///     let in_flight = in_flight.clone();
///     tasks.push(windlass::spawn(async move {
///         assert!(in_flight.fetch_add(1, Ordering::SeqCst) < 3);
///         windlass::task::yield_now().await; // the download
///         in_flight.fetch_sub(1, Ordering::SeqCst);
///         drop(permit);
///     }));
/// }
/// for t in tasks {
///     t.await.unwrap();
/// }
/// assert_eq!(sem.available_permits(), 3);
/// # });
/// ```
//
// Layout (`repr(C)`, 80 bytes): the mutex and everything it guards come
// first and fill exactly one 64-byte line when the semaphore starts on a
// line (the lock byte, the wait list's header with 32-bit links, the next
// ticket), and the two words read without the mutex, `state` and
// `granted`, share the next line. With waiters, a release and an enqueue
// each take the mutex, so that line moves between the releaser's core and
// the enqueuer's once per hand-off; keeping the list's header on it, and
// the steady-state words (`state` is not written while the list stays
// non-empty) off it, saves a line transfer per hand-off inside the lock
// (docs/PERFORMANCE.md, "Bounded channels: a lock on one line, and no
// spin before a park"). The bounded mpsc channel pads its semaphore to
// lines of its own.
#[repr(C)]
pub struct Semaphore {
    /// The waiters, oldest first, and the next ticket.
    waiters: Mutex<Waiters>,
    /// Available permits, `CLOSED` and `QUEUED` (see the module docs).
    state: AtomicUsize,
    /// One past the ticket of the last waiter served (rules 4 and 9).
    /// Written only under the `waiters` mutex; read without it by waiters.
    granted: AtomicU64,
}

/// What the semaphore's mutex guards.
#[derive(Debug)]
struct Waiters {
    /// The waiters, oldest first (so in ticket order).
    list: WaitList<Waiter>,
    /// The ticket the next enqueued waiter takes (rule 3). 64 bits, so it
    /// never wraps: rule 9 compares tickets with `<`.
    next_ticket: u64,
}

/// One waiting acquisition, in its [`WaitList`] slot.
#[derive(Debug)]
struct Waiter {
    /// Permits it still needs.
    needed: usize,
    /// Permits assigned to it so far (its down payment and later releases).
    acquired: usize,
    /// Its place in the order of service (rule 9).
    ticket: u64,
    /// The task to wake when served.
    waker: Option<std::task::Waker>,
    /// Whether `close` unlinked it. (A served waiter has no slot: rule 4
    /// frees it, and the waiter learns it was served from `granted`.)
    status: Status,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    /// Linked, waiting.
    Waiting,
    /// Unlinked by `close`: its down payment was deposited back.
    Closed,
}

/// The error of [`Semaphore::acquire`] (and its `_many` and `_owned`
/// forms): the semaphore was closed, before or while waiting.
///
/// ```
/// use std::sync::Arc;
/// use windlass::sync::Semaphore;
///
/// windlass::Runtime::new().unwrap().block_on(async {
///     let sem = Arc::new(Semaphore::new(0));
///     let waiter = windlass::spawn({
///         let sem = sem.clone();
///         async move { sem.acquire().await.map(drop) }
///     });
///     sem.close(); // wakes the waiter, with an error
///     assert!(waiter.await.unwrap().is_err());
/// });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AcquireError(());

/// The error of [`Semaphore::try_acquire`] (and its `_many` and `_owned`
/// forms).
///
/// ```
/// use windlass::sync::{Semaphore, TryAcquireError};
///
/// let sem = Semaphore::new(1);
/// let _permit = sem.try_acquire().unwrap();
/// assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::NoPermits);
/// sem.close();
/// assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::Closed);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TryAcquireError {
    /// The semaphore was closed.
    Closed,
    /// Not enough permits are free, or others are waiting for them.
    NoPermits,
}

impl Semaphore {
    /// The most permits a semaphore can hold.
    ///
    /// ```
    /// assert!(windlass::sync::Semaphore::MAX_PERMITS >= u32::MAX as usize);
    /// ```
    pub const MAX_PERMITS: usize = usize::MAX >> 3;

    /// A semaphore with `permits` permits.
    ///
    /// Panics if `permits` exceeds [`MAX_PERMITS`](Self::MAX_PERMITS).
    ///
    /// ```
    /// let sem = windlass::sync::Semaphore::new(2);
    /// assert_eq!(sem.available_permits(), 2);
    /// ```
    #[track_caller]
    pub fn new(permits: usize) -> Semaphore {
        assert!(
            permits <= Self::MAX_PERMITS,
            "a semaphore holds at most {} permits",
            Self::MAX_PERMITS
        );
        Semaphore {
            state: AtomicUsize::new(permits << SHIFT),
            granted: AtomicU64::new(0),
            waiters: Mutex::new(Waiters {
                list: WaitList::new(),
                next_ticket: 0,
            }),
        }
    }

    /// Permits free right now. While tasks wait this is 0: released
    /// permits go straight to them.
    ///
    /// ```
    /// let sem = windlass::sync::Semaphore::new(3);
    /// let permit = sem.try_acquire().unwrap();
    /// assert_eq!(sem.available_permits(), 2);
    /// drop(permit);
    /// assert_eq!(sem.available_permits(), 3);
    /// ```
    pub fn available_permits(&self) -> usize {
        self.state.load(Acquire) >> SHIFT
    }

    /// Adds `n` permits (to waiters first). asyncio's `release()` without
    /// an `acquire()`.
    ///
    /// Panics if `n`, or the total it would make, exceeds
    /// [`MAX_PERMITS`](Self::MAX_PERMITS). The check comes before anything
    /// changes: after the panic the semaphore is as it was, and its waiters
    /// still wait for permits.
    ///
    /// ```
    /// let sem = windlass::sync::Semaphore::new(0);
    /// sem.add_permits(2);
    /// assert_eq!(sem.available_permits(), 2);
    /// ```
    #[track_caller]
    pub fn add_permits(&self, n: usize) {
        if n > Self::MAX_PERMITS {
            overflow();
        }
        self.release(n);
    }

    /// Waits for a permit, in FIFO order with the other waiters.
    ///
    /// Fails only if the semaphore is (or gets) [closed](Self::close).
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: dropping the future gives back whatever it was handed
    /// (to the next waiter), so no permit is lost, and it leaves the queue.
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let sem = windlass::sync::Semaphore::new(1);
    /// let permit = sem.acquire().await.unwrap();
    /// assert_eq!(sem.available_permits(), 0);
    /// drop(permit);
    /// assert_eq!(sem.available_permits(), 1);
    /// # });
    /// ```
    pub async fn acquire(&self) -> Result<SemaphorePermit<'_>, AcquireError> {
        self.acquire_many(1).await
    }

    /// Waits for `n` permits at once, in FIFO order: while this waits, later
    /// acquisitions wait behind it even if they need fewer.
    ///
    /// Panics if `n` exceeds [`MAX_PERMITS`](Self::MAX_PERMITS).
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: permits already assigned to the dropped future go to the
    /// next waiter.
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let sem = windlass::sync::Semaphore::new(5);
    /// let three = sem.acquire_many(3).await.unwrap();
    /// assert_eq!(three.num_permits(), 3);
    /// assert_eq!(sem.available_permits(), 2);
    /// # });
    /// ```
    pub async fn acquire_many(&self, n: usize) -> Result<SemaphorePermit<'_>, AcquireError> {
        Acquire::new(self, n).await?;
        Ok(SemaphorePermit { sem: self, n })
    }

    /// [`acquire`](Self::acquire) for a semaphore in an [`Arc`]: the permit
    /// owns a reference, so it can move into a spawned task.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe, like [`acquire`](Self::acquire).
    ///
    /// ```
    /// use std::sync::Arc;
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let sem = Arc::new(windlass::sync::Semaphore::new(1));
    /// let permit = sem.clone().acquire_owned().await.unwrap();
    /// windlass::spawn(async move {
    ///     // ... work while holding the permit ...
    ///     drop(permit);
    /// })
    /// .await
    /// .unwrap();
    /// assert_eq!(sem.available_permits(), 1);
    /// # });
    /// ```
    pub async fn acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, AcquireError> {
        self.acquire_many_owned(1).await
    }

    /// [`acquire_many`](Self::acquire_many) with an owned permit.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe, like [`acquire_many`](Self::acquire_many).
    ///
    /// ```
    /// use std::sync::Arc;
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let sem = Arc::new(windlass::sync::Semaphore::new(4));
    /// let permit = sem.clone().acquire_many_owned(4).await.unwrap();
    /// assert_eq!(permit.num_permits(), 4);
    /// # });
    /// ```
    pub async fn acquire_many_owned(
        self: Arc<Self>,
        n: usize,
    ) -> Result<OwnedSemaphorePermit, AcquireError> {
        Acquire::new(&self, n).await?;
        Ok(OwnedSemaphorePermit { sem: self, n })
    }

    /// Takes a permit if one is free and nobody waits; never waits.
    ///
    /// ```
    /// use windlass::sync::{Semaphore, TryAcquireError};
    /// let sem = Semaphore::new(1);
    /// let permit = sem.try_acquire().unwrap();
    /// assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::NoPermits);
    /// ```
    pub fn try_acquire(&self) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.try_acquire_many(1)
    }

    /// Takes `n` permits if they are free and nobody waits; never waits.
    ///
    /// ```
    /// let sem = windlass::sync::Semaphore::new(2);
    /// assert!(sem.try_acquire_many(3).is_err());
    /// assert_eq!(sem.try_acquire_many(2).unwrap().num_permits(), 2);
    /// ```
    pub fn try_acquire_many(&self, n: usize) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.try_take(n)?;
        Ok(SemaphorePermit { sem: self, n })
    }

    /// [`try_acquire`](Self::try_acquire) with an owned permit.
    ///
    /// ```
    /// use std::sync::Arc;
    /// let sem = Arc::new(windlass::sync::Semaphore::new(1));
    /// let permit = sem.clone().try_acquire_owned().unwrap();
    /// assert_eq!(sem.available_permits(), 0);
    /// drop(permit);
    /// ```
    pub fn try_acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        self.try_acquire_many_owned(1)
    }

    /// [`try_acquire_many`](Self::try_acquire_many) with an owned permit.
    ///
    /// ```
    /// use std::sync::Arc;
    /// let sem = Arc::new(windlass::sync::Semaphore::new(3));
    /// assert_eq!(sem.try_acquire_many_owned(2).unwrap().num_permits(), 2);
    /// ```
    pub fn try_acquire_many_owned(
        self: Arc<Self>,
        n: usize,
    ) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        self.try_take(n)?;
        Ok(OwnedSemaphorePermit { sem: self, n })
    }

    /// Blocks the thread until a permit is free, for code outside tasks.
    ///
    /// Panics if called on a thread that runs windlass tasks (a worker, or
    /// inside `block_on`): use [`acquire`](Self::acquire) there.
    ///
    /// ```
    /// use std::sync::Arc;
    /// let sem = Arc::new(windlass::sync::Semaphore::new(1));
    /// let s = sem.clone();
    /// std::thread::spawn(move || {
    ///     let _permit = s.blocking_acquire().unwrap();
    /// })
    /// .join()
    /// .unwrap();
    /// assert_eq!(sem.available_permits(), 1);
    /// ```
    #[track_caller]
    pub fn blocking_acquire(&self) -> Result<SemaphorePermit<'_>, AcquireError> {
        super::block_on("Semaphore::blocking_acquire", self.acquire())
    }

    /// Closes the semaphore: every waiter and every later acquisition fails
    /// with [`AcquireError`]. Permits already held stay valid and are given
    /// back as usual.
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let sem = windlass::sync::Semaphore::new(0);
    /// sem.close();
    /// assert!(sem.is_closed());
    /// assert!(sem.acquire().await.is_err());
    /// # });
    /// ```
    pub fn close(&self) {
        let mut waiters = self.waiters.lock();
        let list = &mut waiters.list;
        self.state.fetch_or(CLOSED, Release);
        let mut wakers = WakeList::new();
        let mut down_payments = 0;
        while let Some(key) = list.pop_front() {
            let w = list.get_mut(key);
            w.status = Status::Closed;
            down_payments += std::mem::take(&mut w.acquired);
            wakers.push(w.waker.take());
        }
        self.deposit_locked(down_payments);
        drop(waiters);
        wakers.wake_all();
    }

    /// True once [`close`](Self::close) was called.
    ///
    /// ```
    /// let sem = windlass::sync::Semaphore::new(1);
    /// assert!(!sem.is_closed());
    /// sem.close();
    /// assert!(sem.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.state.load(Acquire) & CLOSED != 0
    }

    /// Rule 1: takes `n` permits from the word, or says why not.
    pub(crate) fn try_take(&self, n: usize) -> Result<(), TryAcquireError> {
        let mut cur = self.state.load(Relaxed);
        loop {
            if cur & CLOSED != 0 {
                return Err(TryAcquireError::Closed);
            }
            if n == 0 {
                return Ok(());
            }
            if cur & QUEUED != 0 || cur >> SHIFT < n {
                return Err(TryAcquireError::NoPermits);
            }
            // Acquire: pairs with the Release of rules 2 and 5, so the
            // previous holder's writes happen before ours.
            match self
                .state
                .compare_exchange_weak(cur, cur - (n << SHIFT), Acquire, Relaxed)
            {
                Ok(_) => return Ok(()),
                Err(actual) => cur = actual,
            }
        }
    }

    /// Gives back `n` permits: rule 2, or rule 4 when tasks wait.
    #[track_caller]
    pub(crate) fn release(&self, n: usize) {
        if n == 0 {
            return;
        }
        let mut cur = self.state.load(Relaxed);
        while cur & QUEUED == 0 {
            let permits = (cur >> SHIFT).checked_add(n);
            let new = match permits {
                Some(p) if p <= Self::MAX_PERMITS => (cur & CLOSED) | (p << SHIFT),
                _ => overflow(),
            };
            // Release: pairs with the Acquire of rule 1.
            match self.state.compare_exchange_weak(cur, new, Release, Relaxed) {
                Ok(_) => return,
                Err(actual) => cur = actual,
            }
        }
        self.release_locked(n, self.waiters.lock());
    }

    /// Rule 4: assigns `n` permits to waiters from the head, deposits the
    /// rest if the list is left empty (rule 5), unlocks, then wakes.
    ///
    /// Overflow is checked before any waiter is touched (rule 8): a panic
    /// after a waiter was granted and unlinked would lose its wake-up and
    /// leave `QUEUED` set with nobody to clear it.
    #[track_caller]
    fn release_locked(&self, mut n: usize, mut waiters: MutexGuard<'_, Waiters>) {
        let list = &mut waiters.list;
        self.check_deposit(n, list);
        let mut wakers = WakeList::new();
        while n > 0 {
            let Some(key) = list.front() else { break };
            let w = list.get_mut(key);
            let give = n.min(w.needed);
            w.needed -= give;
            w.acquired += give;
            n -= give;
            if w.needed == 0 {
                // Served: we take the slot over and free it (rule 4).
                let w = list.remove(key);
                wakers.push(w.waker);
                // Release: pairs with the waiter's Acquire load (rule 9),
                // so our writes, and those of the holders before us, are
                // visible to it when it sees itself served.
                self.granted.store(w.ticket + 1, Release);
            }
        }
        if list.is_empty() {
            self.deposit_locked(n);
        } else {
            debug_assert_eq!(n, 0, "permits left over while tasks wait");
        }
        drop(waiters);
        wakers.wake_all();
    }

    /// Rule 9: true if the waiter holding `ticket` was served.
    fn served(&self, ticket: u64) -> bool {
        // Acquire: pairs with the Release store of rule 4.
        ticket < self.granted.load(Acquire)
    }

    /// Rule 8: panics, before anything changes, if releasing `n` permits to
    /// the waiters in `list` would leave more than `MAX_PERMITS` in the
    /// word. Cheap in the common case: waiters can only lower the deposit.
    #[track_caller]
    fn check_deposit(&self, n: usize, list: &WaitList<Waiter>) {
        let word = self.state.load(Relaxed) >> SHIFT;
        if n <= Self::MAX_PERMITS - word.min(Self::MAX_PERMITS) {
            return;
        }
        let wanted = list
            .iter()
            .fold(0usize, |sum, w| sum.saturating_add(w.needed));
        let left = n.saturating_sub(wanted);
        if left > Self::MAX_PERMITS - word.min(Self::MAX_PERMITS) {
            overflow();
        }
    }

    /// Rule 5: with the mutex held and the list empty, adds `n` permits to
    /// the word and clears `QUEUED`.
    #[track_caller]
    fn deposit_locked(&self, n: usize) {
        let mut cur = self.state.load(Relaxed);
        loop {
            if cur & QUEUED == 0 && n == 0 {
                return;
            }
            let new = match (cur >> SHIFT).checked_add(n) {
                Some(p) if p <= Self::MAX_PERMITS => (cur & CLOSED) | (p << SHIFT),
                _ => overflow(),
            };
            // Release: the deposited permits carry the releasers' writes
            // to fast acquirers (rule 1).
            match self.state.compare_exchange_weak(cur, new, Release, Relaxed) {
                Ok(_) => return,
                Err(actual) => cur = actual,
            }
        }
    }
}

#[cold]
#[track_caller]
fn overflow() -> ! {
    panic!(
        "semaphore permits overflow: more than {} permits",
        Semaphore::MAX_PERMITS
    )
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.state.load(Relaxed);
        f.debug_struct("Semaphore")
            .field("available_permits", &(s >> SHIFT))
            .field("closed", &(s & CLOSED != 0))
            .field("queued", &(s & QUEUED != 0))
            .finish()
    }
}

/// Where an [`Acquire`] is.
#[derive(Debug)]
enum Stage {
    /// Not polled yet, or polled only to find the budget spent.
    Start,
    /// Enqueued (rule 3) in the slot `key`, with `ticket`.
    Waiting { key: Key, ticket: u64 },
    /// Returned `Ready`.
    Done,
}

/// The future of an acquisition of `n` permits (rules 1, 3 and 6).
///
/// On `Ready(Ok)` the caller owns `n` permits and must release them.
#[derive(Debug)]
pub(crate) struct Acquire<'a> {
    sem: &'a Semaphore,
    n: usize,
    stage: Stage,
}

impl<'a> Acquire<'a> {
    #[track_caller]
    pub(crate) fn new(sem: &'a Semaphore, n: usize) -> Acquire<'a> {
        assert!(
            n <= Semaphore::MAX_PERMITS,
            "cannot acquire more than {} permits",
            Semaphore::MAX_PERMITS
        );
        Acquire {
            sem,
            n,
            stage: Stage::Start,
        }
    }

    /// First poll: rule 1, else rule 3 under the mutex.
    fn poll_start(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), AcquireError>> {
        match self.sem.try_take(self.n) {
            Ok(()) => return Poll::Ready(Ok(())),
            Err(TryAcquireError::Closed) => return Poll::Ready(Err(AcquireError(()))),
            Err(TryAcquireError::NoPermits) => {}
        }
        // Cloned before the lock: the clone writes the task's reference
        // count, a line the releaser does not need to wait for.
        let waker = cx.waker().clone();
        let mut waiters = self.sem.waiters.lock();
        let mut cur = self.sem.state.load(Acquire);
        let down_payment = loop {
            if cur & CLOSED != 0 {
                return Poll::Ready(Err(AcquireError(())));
            }
            if cur == QUEUED {
                // Rule 3 without the CAS: queued, so empty by I, and
                // nobody else can change the word while we hold the mutex.
                // The Acquire load above is enough: there is no down
                // payment whose holder's writes we would need.
                break 0;
            }
            let available = cur >> SHIFT;
            if cur & QUEUED == 0 && available >= self.n {
                // Permits came back since the fast path: take them (rule 1).
                match self.sem.state.compare_exchange_weak(
                    cur,
                    cur - (self.n << SHIFT),
                    Acquire,
                    Acquire,
                ) {
                    Ok(_) => return Poll::Ready(Ok(())),
                    Err(actual) => cur = actual,
                }
                continue;
            }
            // Rule 3: take the `available` permits (0 if QUEUED, by I) and
            // set QUEUED in one CAS. AcqRel: Acquire for the down payment
            // (rule 1's reason), Release is not needed but harmless.
            match self
                .sem
                .state
                .compare_exchange_weak(cur, QUEUED, AcqRel, Acquire)
            {
                Ok(_) => break available,
                Err(actual) => cur = actual,
            }
        };
        let ticket = waiters.next_ticket;
        waiters.next_ticket += 1;
        let key = waiters.list.push_back(Waiter {
            needed: self.n - down_payment,
            acquired: down_payment,
            ticket,
            waker: Some(waker),
            status: Status::Waiting,
        });
        self.stage = Stage::Waiting { key, ticket };
        Poll::Pending
    }

    /// Later polls: served (rule 9, no lock), else what the slot says.
    fn poll_waiting(
        &mut self,
        key: Key,
        ticket: u64,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), AcquireError>> {
        if self.sem.served(ticket) {
            return Poll::Ready(Ok(()));
        }
        let mut waiters = self.sem.waiters.lock();
        // Served while we took the lock: the slot is no longer ours.
        if self.sem.served(ticket) {
            return Poll::Ready(Ok(()));
        }
        let w = waiters.list.get_mut(key);
        match w.status {
            Status::Waiting => {
                set_waker(&mut w.waker, cx.waker());
                Poll::Pending
            }
            Status::Closed => {
                waiters.list.remove(key);
                Poll::Ready(Err(AcquireError(())))
            }
        }
    }
}

impl Future for Acquire<'_> {
    type Output = Result<(), AcquireError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        ready!(coop::poll_proceed(cx));
        let out = match this.stage {
            Stage::Start => this.poll_start(cx),
            Stage::Waiting { key, ticket } => this.poll_waiting(key, ticket, cx),
            Stage::Done => panic!("semaphore acquire polled after completion"),
        };
        if out.is_ready() {
            this.stage = Stage::Done;
            coop::consume();
        }
        out
    }
}

impl Drop for Acquire<'_> {
    /// Rule 6: a cancelled waiter gives back what it holds.
    fn drop(&mut self) {
        let Stage::Waiting { key, ticket } = self.stage else {
            return;
        };
        let mut waiters = self.sem.waiters.lock();
        // Under the mutex `granted` cannot move, so this answer holds.
        let held = if self.sem.served(ticket) {
            // Served but not noticed: the releaser freed the slot (rule 9).
            self.n
        } else {
            let w = waiters.list.remove(key);
            match w.status {
                Status::Waiting => w.acquired,
                Status::Closed => 0,
            }
        };
        self.sem.release_locked(held, waiters);
    }
}

/// Permits from [`Semaphore::acquire`], given back when dropped.
///
/// ```
/// # windlass::Runtime::new().unwrap().block_on(async {
/// let sem = windlass::sync::Semaphore::new(1);
/// {
///     let _permit = sem.acquire().await.unwrap(); // `async with sem:`
///     assert_eq!(sem.available_permits(), 0);
/// }
/// assert_eq!(sem.available_permits(), 1);
/// # });
/// ```
#[must_use = "the permit is given back as soon as it is dropped"]
pub struct SemaphorePermit<'a> {
    sem: &'a Semaphore,
    n: usize,
}

impl SemaphorePermit<'_> {
    /// How many permits this holds.
    ///
    /// ```
    /// let sem = windlass::sync::Semaphore::new(2);
    /// assert_eq!(sem.try_acquire_many(2).unwrap().num_permits(), 2);
    /// ```
    pub fn num_permits(&self) -> usize {
        self.n
    }

    /// Keeps the permits out of the semaphore for good: they are not given
    /// back (asyncio's `acquire()` without `release()`).
    ///
    /// ```
    /// let sem = windlass::sync::Semaphore::new(2);
    /// sem.try_acquire().unwrap().forget();
    /// assert_eq!(sem.available_permits(), 1);
    /// ```
    pub fn forget(mut self) {
        self.n = 0;
    }
}

impl Drop for SemaphorePermit<'_> {
    fn drop(&mut self) {
        self.sem.release(self.n);
    }
}

impl fmt::Debug for SemaphorePermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphorePermit")
            .field("permits", &self.n)
            .finish()
    }
}

/// Permits from [`Semaphore::acquire_owned`]: like [`SemaphorePermit`],
/// but owning a reference to the semaphore, so it can move into a task.
///
/// ```
/// use std::sync::Arc;
/// let sem = Arc::new(windlass::sync::Semaphore::new(1));
/// let permit = sem.clone().try_acquire_owned().unwrap();
/// assert_eq!(permit.num_permits(), 1);
/// assert!(Arc::ptr_eq(permit.semaphore(), &sem));
/// ```
#[must_use = "the permit is given back as soon as it is dropped"]
pub struct OwnedSemaphorePermit {
    sem: Arc<Semaphore>,
    n: usize,
}

impl OwnedSemaphorePermit {
    /// How many permits this holds.
    ///
    /// ```
    /// use std::sync::Arc;
    /// let sem = Arc::new(windlass::sync::Semaphore::new(2));
    /// assert_eq!(sem.try_acquire_many_owned(2).unwrap().num_permits(), 2);
    /// ```
    pub fn num_permits(&self) -> usize {
        self.n
    }

    /// The semaphore the permits belong to.
    ///
    /// ```
    /// use std::sync::Arc;
    /// let sem = Arc::new(windlass::sync::Semaphore::new(1));
    /// let permit = sem.clone().try_acquire_owned().unwrap();
    /// assert_eq!(permit.semaphore().available_permits(), 0);
    /// ```
    pub fn semaphore(&self) -> &Arc<Semaphore> {
        &self.sem
    }

    /// Keeps the permits out of the semaphore for good.
    ///
    /// ```
    /// use std::sync::Arc;
    /// let sem = Arc::new(windlass::sync::Semaphore::new(1));
    /// sem.clone().try_acquire_owned().unwrap().forget();
    /// assert_eq!(sem.available_permits(), 0);
    /// ```
    pub fn forget(mut self) {
        self.n = 0;
    }
}

impl Drop for OwnedSemaphorePermit {
    fn drop(&mut self) {
        self.sem.release(self.n);
    }
}

impl fmt::Debug for OwnedSemaphorePermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedSemaphorePermit")
            .field("permits", &self.n)
            .finish()
    }
}

impl fmt::Display for AcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("semaphore closed")
    }
}

impl std::error::Error for AcquireError {}

impl fmt::Display for TryAcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryAcquireError::Closed => f.write_str("semaphore closed"),
            TryAcquireError::NoPermits => f.write_str("no permits available"),
        }
    }
}

impl std::error::Error for TryAcquireError {}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::sync::mpsc;
    use std::task::Waker;
    use std::time::Duration;

    use super::*;

    /// The layout the comment on [`Semaphore`] describes: the lock, the
    /// wait list's header and the next ticket fill one 64-byte line, and
    /// `state` and `granted` the next. With 64-bit links the guarded part
    /// was 80 bytes, so every hand-off moved two lines under the lock; a
    /// waiter's slot is exactly one line instead of 72 bytes across two.
    #[test]
    fn the_lock_and_what_it_guards_fill_one_line() {
        use std::mem::{offset_of, size_of};
        assert_eq!(size_of::<Mutex<Waiters>>(), 64);
        assert_eq!(offset_of!(Semaphore, waiters), 0);
        assert_eq!(offset_of!(Semaphore, state), 64);
        assert_eq!(offset_of!(Semaphore, granted), 72);
        assert_eq!(size_of::<Semaphore>(), 80);
        assert_eq!(super::super::waiters::slot_size::<Waiter>(), 64);
    }

    /// Rule 9: a served waiter learns it was served from `granted`, without
    /// the waiters mutex, so its poll completes even while another thread
    /// holds that mutex. Before rule 9 the poll took the mutex (a third lock
    /// per hand-off, the one that made `sync_semaphore` slow when two
    /// workers shared the semaphore) and this test timed out.
    #[test]
    fn a_served_waiter_completes_without_the_mutex() {
        let sem = Semaphore::new(0);
        let mut waiter = Box::pin(Acquire::new(&sem, 1));
        let mut cx = Context::from_waker(Waker::noop());
        assert!(waiter.as_mut().poll(&mut cx).is_pending(), "queued");
        sem.release(1); // serves it (rule 4)
        let (tx, rx) = mpsc::channel();
        let locked = sem.waiters.lock();
        std::thread::scope(|s| {
            let waiter = &mut waiter;
            s.spawn(move || {
                let mut cx = Context::from_waker(Waker::noop());
                tx.send(waiter.as_mut().poll(&mut cx)).unwrap();
            });
            // A bound for the failure case only: with rule 9 the answer
            // comes at once.
            let polled = rx.recv_timeout(Duration::from_secs(10));
            drop(locked);
            assert!(
                matches!(polled, Ok(Poll::Ready(Ok(())))),
                "the served waiter waited for the mutex: {polled:?}"
            );
        });
        // The permit is ours (the future returned Ready): give it back.
        sem.release(1);
        assert_eq!(sem.available_permits(), 1);
        assert_eq!(sem.granted.load(Relaxed), 1, "one waiter served");
    }
}
