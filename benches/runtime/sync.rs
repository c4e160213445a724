//! Workloads on synchronisation primitives: `windlass::sync` on windlass,
//! `tokio::sync` on tokio, and smol's stack (`async-lock`, `async-channel`)
//! on smol.
//!
//! Each contender runs its own runtime *and* its own primitives, so the
//! numbers are end to end (a wake-up costs what that runtime's scheduler
//! charges for it). The primitives are chosen by the contender's name,
//! through [`SyncApi`]; the workloads are written once, generic over it.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use super::{Contender, Latch, time_driver};

/// Lock/unlock pairs in `sync_mutex_uncontended`.
pub(crate) const UNCONTENDED_LOCKS: usize = 10_000;
/// Tasks in the contended mutex workloads.
pub(crate) const MUTEX_TASKS: usize = 8;
/// Lock/unlock pairs per task in `sync_mutex_contended`.
pub(crate) const CONTENDED_LOCKS: usize = 1_000;
/// Lock/unlock pairs per task in `sync_mutex_handoff`.
pub(crate) const HANDOFF_LOCKS: usize = 250;
/// Tasks and permits in `sync_semaphore`.
pub(crate) const SEM_TASKS: usize = 6;
const SEM_PERMITS: usize = 2;
/// Acquisitions per task in `sync_semaphore`.
pub(crate) const SEM_ROUNDS: usize = 1_000;
/// Producers and messages per producer in the mpsc workloads.
pub(crate) const MPSC_PRODUCERS: usize = 5;
pub(crate) const MPSC_MESSAGES: usize = 1_000;
/// Capacity of the bounded mpsc channel.
const MPSC_CAPACITY: usize = 100;
/// Round trips in `sync_oneshot`.
pub(crate) const ONESHOT_ROUNDS: usize = 1_000;

/// The primitives one contender uses.
pub(crate) trait SyncApi: 'static {
    type Mutex: Send + Sync + 'static;
    fn mutex() -> Self::Mutex;
    /// Locks, adds 1, unlocks; with `hold`, yields once while holding.
    fn lock_add<C: Contender>(m: &Self::Mutex, hold: bool) -> impl Future<Output = ()> + Send;
    /// The value, for the end-of-run check.
    fn mutex_value(m: &Self::Mutex) -> impl Future<Output = u64> + Send;

    type Semaphore: Send + Sync + 'static;
    fn semaphore(permits: usize) -> Self::Semaphore;
    /// Acquires a permit, yields once while holding it, releases it.
    fn with_permit<C: Contender>(s: &Self::Semaphore) -> impl Future<Output = ()> + Send;

    type Tx: Clone + Send + 'static;
    type Rx: Send + 'static;
    /// A bounded channel (`Some(capacity)`) or an unbounded one.
    fn mpsc(capacity: Option<usize>) -> (Self::Tx, Self::Rx);
    fn send(tx: &Self::Tx, v: u64) -> impl Future<Output = ()> + Send;
    fn recv(rx: &mut Self::Rx) -> impl Future<Output = Option<u64>> + Send;

    type OneTx: Send + 'static;
    type OneRx: Send + 'static;
    fn oneshot() -> (Self::OneTx, Self::OneRx);
    fn oneshot_send(tx: Self::OneTx, v: u64);
    fn oneshot_recv(rx: Self::OneRx) -> impl Future<Output = u64> + Send;
}

/// Runs `$f::<C, S>(args)` with `S` the primitives of contender `C`.
macro_rules! dispatch {
    ($f:ident::<$c:ident>($($arg:expr),*)) => {
        match $c::NAME {
            "windlass" => $f::<$c, WindlassSync>($($arg),*),
            "tokio" => $f::<$c, TokioSync>($($arg),*),
            "smol" => $f::<$c, SmolSync>($($arg),*),
            other => panic!("no sync primitives for contender {other}"),
        }
    };
}

// ---------------------------------------------------------------------------
// Workloads
// ---------------------------------------------------------------------------

/// One task locks and unlocks a mutex 10,000 times; nobody else wants it.
///
/// **op** = one lock + unlock.
pub(crate) fn mutex_uncontended<C: Contender>(c: &C) -> Duration {
    dispatch!(mutex_uncontended_with::<C>(c))
}

fn mutex_uncontended_with<C: Contender, S: SyncApi>(c: &C) -> Duration {
    let (tx, rx) = futures_channel::oneshot::channel();
    time_driver(c, rx, async move {
        let m = S::mutex();
        for _ in 0..UNCONTENDED_LOCKS {
            S::lock_add::<C>(&m, false).await;
        }
        assert_eq!(S::mutex_value(&m).await, UNCONTENDED_LOCKS as u64);
        let _ = tx.send(());
    })
}

/// 8 tasks on every worker each lock one mutex 1,000 times for a short
/// critical section (no `.await` inside): contention comes from workers
/// colliding.
///
/// **op** = one lock + unlock.
pub(crate) fn mutex_contended<C: Contender>(c: &C) -> Duration {
    dispatch!(mutex_tasks_with::<C>(c, CONTENDED_LOCKS, false))
}

/// 8 tasks each lock one mutex 250 times and yield while holding it, so
/// every other task queues: each unlock hands the lock to a waiter and
/// wakes it.
///
/// **op** = one lock + unlock (one hand-off).
pub(crate) fn mutex_handoff<C: Contender>(c: &C) -> Duration {
    dispatch!(mutex_tasks_with::<C>(c, HANDOFF_LOCKS, true))
}

fn mutex_tasks_with<C: Contender, S: SyncApi>(c: &C, rounds: usize, hold: bool) -> Duration {
    let (latch, rx) = Latch::new(MUTEX_TASKS);
    let m = Arc::new(S::mutex());
    let check = m.clone();
    let elapsed = time_driver(c, rx, async move {
        for _ in 0..MUTEX_TASKS {
            let (m, latch) = (m.clone(), latch.clone());
            C::spawn(async move {
                for _ in 0..rounds {
                    S::lock_add::<C>(&m, hold).await;
                }
                latch.count_down();
            });
        }
    });
    let total = c.block_on(S::mutex_value(&check));
    assert_eq!(total, (MUTEX_TASKS * rounds) as u64);
    elapsed
}

/// 6 tasks share 2 permits; each acquires 1,000 times and yields once
/// while holding the permit (the bounded-concurrency pattern).
///
/// **op** = one acquire + release.
pub(crate) fn semaphore<C: Contender>(c: &C) -> Duration {
    dispatch!(semaphore_with::<C>(c))
}

fn semaphore_with<C: Contender, S: SyncApi>(c: &C) -> Duration {
    let (latch, rx) = Latch::new(SEM_TASKS);
    time_driver(c, rx, async move {
        let sem = Arc::new(S::semaphore(SEM_PERMITS));
        for _ in 0..SEM_TASKS {
            let (sem, latch) = (sem.clone(), latch.clone());
            C::spawn(async move {
                for _ in 0..SEM_ROUNDS {
                    S::with_permit::<C>(&sem).await;
                }
                latch.count_down();
            });
        }
    })
}

/// 5 producer tasks send 1,000 messages each to one consumer task over a
/// bounded channel of 100.
///
/// **op** = one message.
pub(crate) fn mpsc_bounded<C: Contender>(c: &C) -> Duration {
    dispatch!(mpsc_with::<C>(c, Some(MPSC_CAPACITY)))
}

/// As [`mpsc_bounded`], over an unbounded channel.
///
/// **op** = one message.
pub(crate) fn mpsc_unbounded<C: Contender>(c: &C) -> Duration {
    dispatch!(mpsc_with::<C>(c, None))
}

fn mpsc_with<C: Contender, S: SyncApi>(c: &C, capacity: Option<usize>) -> Duration {
    let (done, rx) = futures_channel::oneshot::channel();
    time_driver(c, rx, async move {
        let (tx, mut chan) = S::mpsc(capacity);
        for p in 0..MPSC_PRODUCERS {
            let tx = tx.clone();
            C::spawn(async move {
                for i in 0..MPSC_MESSAGES {
                    S::send(&tx, (p * MPSC_MESSAGES + i) as u64).await;
                }
            });
        }
        drop(tx);
        C::spawn(async move {
            let mut n = 0;
            while S::recv(&mut chan).await.is_some() {
                n += 1;
            }
            assert_eq!(n, MPSC_PRODUCERS * MPSC_MESSAGES);
            let _ = done.send(());
        });
    })
}

/// A client task makes 1,000 sequential requests to a server task; each
/// request carries a oneshot sender for the reply (the "future you complete
/// yourself"). Requests travel over a runtime-neutral `futures-channel`
/// mpsc, so only the oneshot differs between contenders.
///
/// **op** = one request/reply round trip.
pub(crate) fn oneshot<C: Contender>(c: &C) -> Duration {
    dispatch!(oneshot_with::<C>(c))
}

fn oneshot_with<C: Contender, S: SyncApi>(c: &C) -> Duration {
    use futures_lite::StreamExt;
    let (done, rx) = futures_channel::oneshot::channel();
    time_driver(c, rx, async move {
        let (req_tx, mut req_rx) = futures_channel::mpsc::unbounded::<(u64, S::OneTx)>();
        C::spawn(async move {
            while let Some((n, reply)) = req_rx.next().await {
                S::oneshot_send(reply, n + 1);
            }
        });
        C::spawn(async move {
            let mut sum = 0;
            for n in 0..ONESHOT_ROUNDS as u64 {
                let (tx, rx) = S::oneshot();
                req_tx.unbounded_send((n, tx)).expect("server gone");
                sum += S::oneshot_recv(rx).await;
            }
            assert_eq!(sum, (1..=ONESHOT_ROUNDS as u64).sum());
            let _ = done.send(());
        });
    })
}

// ---------------------------------------------------------------------------
// The primitives of each contender
// ---------------------------------------------------------------------------

pub(crate) struct WindlassSync;

impl SyncApi for WindlassSync {
    type Mutex = windlass::sync::Mutex<u64>;
    fn mutex() -> Self::Mutex {
        windlass::sync::Mutex::new(0)
    }
    async fn lock_add<C: Contender>(m: &Self::Mutex, hold: bool) {
        let mut g = m.lock().await;
        if hold {
            C::yield_now().await;
        }
        *g += 1;
    }
    async fn mutex_value(m: &Self::Mutex) -> u64 {
        *m.lock().await
    }

    type Semaphore = windlass::sync::Semaphore;
    fn semaphore(permits: usize) -> Self::Semaphore {
        windlass::sync::Semaphore::new(permits)
    }
    async fn with_permit<C: Contender>(s: &Self::Semaphore) {
        let _permit = s.acquire().await.expect("open");
        C::yield_now().await;
    }

    type Tx = WindlassTx;
    type Rx = windlass::sync::mpsc::Receiver<u64>;
    fn mpsc(capacity: Option<usize>) -> (Self::Tx, Self::Rx) {
        match capacity {
            Some(n) => {
                let (tx, rx) = windlass::sync::mpsc::channel(n);
                (WindlassTx::Bounded(tx), rx)
            }
            None => {
                let (tx, rx) = windlass::sync::mpsc::unbounded_channel();
                (WindlassTx::Unbounded(tx), rx)
            }
        }
    }
    async fn send(tx: &Self::Tx, v: u64) {
        match tx {
            WindlassTx::Bounded(tx) => tx.send(v).await.expect("receiver gone"),
            WindlassTx::Unbounded(tx) => tx.send(v).expect("receiver gone"),
        }
    }
    async fn recv(rx: &mut Self::Rx) -> Option<u64> {
        rx.recv().await
    }

    type OneTx = windlass::sync::oneshot::Sender<u64>;
    type OneRx = windlass::sync::oneshot::Receiver<u64>;
    fn oneshot() -> (Self::OneTx, Self::OneRx) {
        windlass::sync::oneshot::channel()
    }
    fn oneshot_send(tx: Self::OneTx, v: u64) {
        tx.send(v).expect("receiver gone");
    }
    async fn oneshot_recv(rx: Self::OneRx) -> u64 {
        rx.await.expect("sender gone")
    }
}

#[derive(Clone)]
pub(crate) enum WindlassTx {
    Bounded(windlass::sync::mpsc::Sender<u64>),
    Unbounded(windlass::sync::mpsc::UnboundedSender<u64>),
}

pub(crate) struct TokioSync;

impl SyncApi for TokioSync {
    type Mutex = tokio::sync::Mutex<u64>;
    fn mutex() -> Self::Mutex {
        tokio::sync::Mutex::new(0)
    }
    async fn lock_add<C: Contender>(m: &Self::Mutex, hold: bool) {
        let mut g = m.lock().await;
        if hold {
            C::yield_now().await;
        }
        *g += 1;
    }
    async fn mutex_value(m: &Self::Mutex) -> u64 {
        *m.lock().await
    }

    type Semaphore = tokio::sync::Semaphore;
    fn semaphore(permits: usize) -> Self::Semaphore {
        tokio::sync::Semaphore::new(permits)
    }
    async fn with_permit<C: Contender>(s: &Self::Semaphore) {
        let _permit = s.acquire().await.expect("open");
        C::yield_now().await;
    }

    type Tx = TokioTx;
    type Rx = TokioRx;
    fn mpsc(capacity: Option<usize>) -> (Self::Tx, Self::Rx) {
        match capacity {
            Some(n) => {
                let (tx, rx) = tokio::sync::mpsc::channel(n);
                (TokioTx::Bounded(tx), TokioRx::Bounded(rx))
            }
            None => {
                let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
                (TokioTx::Unbounded(tx), TokioRx::Unbounded(rx))
            }
        }
    }
    async fn send(tx: &Self::Tx, v: u64) {
        match tx {
            TokioTx::Bounded(tx) => tx.send(v).await.expect("receiver gone"),
            TokioTx::Unbounded(tx) => tx.send(v).expect("receiver gone"),
        }
    }
    async fn recv(rx: &mut Self::Rx) -> Option<u64> {
        match rx {
            TokioRx::Bounded(rx) => rx.recv().await,
            TokioRx::Unbounded(rx) => rx.recv().await,
        }
    }

    type OneTx = tokio::sync::oneshot::Sender<u64>;
    type OneRx = tokio::sync::oneshot::Receiver<u64>;
    fn oneshot() -> (Self::OneTx, Self::OneRx) {
        tokio::sync::oneshot::channel()
    }
    fn oneshot_send(tx: Self::OneTx, v: u64) {
        tx.send(v).expect("receiver gone");
    }
    async fn oneshot_recv(rx: Self::OneRx) -> u64 {
        rx.await.expect("sender gone")
    }
}

#[derive(Clone)]
pub(crate) enum TokioTx {
    Bounded(tokio::sync::mpsc::Sender<u64>),
    Unbounded(tokio::sync::mpsc::UnboundedSender<u64>),
}

pub(crate) enum TokioRx {
    Bounded(tokio::sync::mpsc::Receiver<u64>),
    Unbounded(tokio::sync::mpsc::UnboundedReceiver<u64>),
}

/// smol's stack: `async-lock` and `async-channel` (smol has no oneshot; a
/// bounded channel of one is what its users write).
pub(crate) struct SmolSync;

impl SyncApi for SmolSync {
    type Mutex = async_lock::Mutex<u64>;
    fn mutex() -> Self::Mutex {
        async_lock::Mutex::new(0)
    }
    async fn lock_add<C: Contender>(m: &Self::Mutex, hold: bool) {
        let mut g = m.lock().await;
        if hold {
            C::yield_now().await;
        }
        *g += 1;
    }
    async fn mutex_value(m: &Self::Mutex) -> u64 {
        *m.lock().await
    }

    type Semaphore = async_lock::Semaphore;
    fn semaphore(permits: usize) -> Self::Semaphore {
        async_lock::Semaphore::new(permits)
    }
    async fn with_permit<C: Contender>(s: &Self::Semaphore) {
        let _permit = s.acquire().await;
        C::yield_now().await;
    }

    type Tx = async_channel::Sender<u64>;
    type Rx = async_channel::Receiver<u64>;
    fn mpsc(capacity: Option<usize>) -> (Self::Tx, Self::Rx) {
        match capacity {
            Some(n) => async_channel::bounded(n),
            None => async_channel::unbounded(),
        }
    }
    async fn send(tx: &Self::Tx, v: u64) {
        tx.send(v).await.expect("receiver gone");
    }
    async fn recv(rx: &mut Self::Rx) -> Option<u64> {
        rx.recv().await.ok()
    }

    type OneTx = async_channel::Sender<u64>;
    type OneRx = async_channel::Receiver<u64>;
    fn oneshot() -> (Self::OneTx, Self::OneRx) {
        async_channel::bounded(1)
    }
    fn oneshot_send(tx: Self::OneTx, v: u64) {
        tx.try_send(v).expect("receiver gone");
    }
    async fn oneshot_recv(rx: Self::OneRx) -> u64 {
        rx.recv().await.expect("sender gone")
    }
}
