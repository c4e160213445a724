//! Helpers shared by the models (compiled only under `--cfg loom`).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc as StdArc;
use std::sync::atomic::{AtomicUsize as StdAtomicUsize, Ordering as StdOrdering};
use std::task::{Context, Poll, Waker};

use loom::sync::atomic::{AtomicBool, Ordering::SeqCst};
use loom::sync::{Arc, Mutex};

/// The preemption bound when `LOOM_MAX_PREEMPTIONS` is not set.
pub const DEFAULT_PREEMPTIONS: usize = 2;

/// A model builder: loom's defaults and environment variables, with the
/// preemption bound defaulting to [`DEFAULT_PREEMPTIONS`].
pub fn builder() -> loom::model::Builder {
    let mut b = loom::model::Builder::new();
    if b.preemption_bound.is_none() {
        b.preemption_bound = Some(DEFAULT_PREEMPTIONS);
    }
    b
}

/// Checks `f` under every interleaving within the bounds of [`builder`].
/// Each iteration starts with task ids reset ([`windlass::loom_test_hooks::reset_task_ids`]).
pub fn model<F>(f: F)
where
    F: Fn() + Sync + Send + 'static,
{
    check(builder(), f);
}

/// [`model`] with a custom builder (smaller bounds for the big models).
pub fn check<F>(builder: loom::model::Builder, f: F)
where
    F: Fn() + Sync + Send + 'static,
{
    let iterations = StdArc::new(StdAtomicUsize::new(0));
    let start = std::time::Instant::now();
    let counted = iterations.clone();
    builder.check(move || {
        counted.fetch_add(1, StdOrdering::Relaxed);
        windlass::loom_test_hooks::reset_task_ids();
        f();
    });
    // Shown with `--nocapture` (run.sh passes it): the size of each model.
    eprintln!(
        "loom: {}: {} iterations in {:.2?} (preemption bound {:?})",
        std::thread::current().name().unwrap_or("model"),
        iterations.load(StdOrdering::Relaxed),
        start.elapsed(),
        builder.preemption_bound,
    );
}

/// Counts the drops of its [`Token`]s. Counted outside the model (a plain
/// atomic): loom threads share one OS thread, so a read after the threads
/// are joined sees every drop, and the counter adds no interleavings.
#[derive(Clone, Debug, Default)]
pub struct DropCounter(StdArc<StdAtomicUsize>);

impl DropCounter {
    /// A counter at zero.
    pub fn new() -> DropCounter {
        DropCounter::default()
    }

    /// A value that counts one drop here when dropped.
    pub fn token(&self) -> Token {
        Token(self.0.clone())
    }

    /// Drops so far.
    pub fn get(&self) -> usize {
        self.0.load(StdOrdering::SeqCst)
    }
}

/// Counts one drop on its [`DropCounter`].
#[derive(Debug)]
pub struct Token(StdArc<StdAtomicUsize>);

impl Drop for Token {
    fn drop(&mut self) {
        self.0.fetch_add(1, StdOrdering::SeqCst);
    }
}

/// A one-shot event with a waker slot: [`Gate::wait`] is a future that is
/// pending until [`Gate::open`]; while pending it stores the task's waker in
/// the slot, so another loom thread can wake the task (by value or by
/// reference) through the task's real waker.
#[derive(Debug, Default)]
pub struct Gate {
    open: AtomicBool,
    waker: Mutex<Option<Waker>>,
}

/// How [`Gate::open`] wakes the stored waker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wake {
    /// `Waker::wake` (the waker's reference becomes the `Notified` one).
    ByVal,
    /// `Waker::wake_by_ref`, then drop the waker.
    ByRef,
}

impl Gate {
    /// A closed gate.
    pub fn new() -> Arc<Gate> {
        Arc::new(Gate::default())
    }

    /// Opens the gate, then wakes the waker stored by the last pending poll
    /// (if any). Returns true if it woke one.
    pub fn open(&self, how: Wake) -> bool {
        self.open.store(true, SeqCst);
        let waker = self.waker.lock().unwrap().take();
        match waker {
            Some(w) => {
                match how {
                    Wake::ByVal => w.wake(),
                    Wake::ByRef => {
                        w.wake_by_ref();
                        drop(w);
                    }
                }
                true
            }
            None => false,
        }
    }

    /// True once opened.
    pub fn is_open(&self) -> bool {
        self.open.load(SeqCst)
    }

    /// Drops the stored waker, if any (releasing its task reference).
    pub fn clear(&self) {
        let waker = self.waker.lock().unwrap().take();
        drop(waker);
    }

    /// A future that is ready once the gate is open.
    pub fn wait(gate: &Arc<Gate>) -> GateWait {
        Gate::wait_all(&[gate])
    }

    /// A future that is ready once every one of `gates` is open; while
    /// pending, each gate still closed holds a clone of the task's waker.
    pub fn wait_all(gates: &[&Arc<Gate>]) -> GateWait {
        GateWait {
            gates: gates.iter().map(|&g| g.clone()).collect(),
            yield_first: false,
        }
    }

    /// Like [`wait`](Gate::wait), but the first poll also wakes its own task
    /// (a yield: rule 3's `NOTIFIED`-while-running path) before it returns
    /// `Pending`.
    pub fn wait_yield_first(gate: &Arc<Gate>) -> GateWait {
        GateWait {
            gates: vec![gate.clone()],
            yield_first: true,
        }
    }
}

/// See [`Gate::wait`].
#[derive(Debug)]
pub struct GateWait {
    gates: Vec<Arc<Gate>>,
    yield_first: bool,
}

impl Future for GateWait {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut ready = true;
        for gate in &self.gates {
            // Store the waker, then check: `open` sets the flag, then takes
            // the waker, so one of the two sees the other.
            if !gate.is_open() {
                *gate.waker.lock().unwrap() = Some(cx.waker().clone());
                ready &= gate.is_open();
            }
        }
        if ready {
            return Poll::Ready(());
        }
        if std::mem::take(&mut self.yield_first) {
            cx.waker().wake_by_ref();
        }
        Poll::Pending
    }
}

/// A task body for the models: holds a [`Token`] for the future (dropped
/// with the future, whether it completes or is cancelled), optionally waits
/// on a [`GateWait`], then returns the output token.
pub struct TaskBody {
    future_token: Option<Token>,
    output: Option<Token>,
    wait: Option<GateWait>,
}

impl TaskBody {
    /// A future that completes on its first poll with `output`.
    pub fn ready(future_token: Token, output: Token) -> TaskBody {
        TaskBody {
            future_token: Some(future_token),
            output: Some(output),
            wait: None,
        }
    }

    /// A future that completes with `output` once `wait` is ready.
    pub fn after(future_token: Token, output: Token, wait: GateWait) -> TaskBody {
        TaskBody {
            future_token: Some(future_token),
            output: Some(output),
            wait: Some(wait),
        }
    }
}

impl Future for TaskBody {
    type Output = Token;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Token> {
        if let Some(wait) = self.wait.as_mut() {
            if Pin::new(wait).poll(cx).is_pending() {
                return Poll::Pending;
            }
        }
        let out = self
            .output
            .take()
            .expect("TaskBody polled after completion");
        // The future's own token stays until the future is dropped.
        let _ = &self.future_token;
        Poll::Ready(out)
    }
}

/// A waker that counts its wakes, for a task the model polls by hand.
/// Counted outside the model (plain atomics), like [`DropCounter`].
#[derive(Clone, Debug, Default)]
pub struct WakeCounter(StdArc<WakeCount>);

/// What a [`WakeCounter`]'s wakers share.
#[derive(Debug, Default)]
pub struct WakeCount {
    /// Wakes so far, by value or by reference.
    wakes: StdAtomicUsize,
}

impl std::task::Wake for WakeCount {
    fn wake(self: StdArc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &StdArc<Self>) {
        self.wakes.fetch_add(1, StdOrdering::SeqCst);
    }
}

impl WakeCounter {
    /// A counter at zero, with no wakers out.
    pub fn new() -> WakeCounter {
        WakeCounter::default()
    }

    /// A new waker that counts here.
    pub fn waker(&self) -> Waker {
        Waker::from(self.0.clone())
    }

    /// Wakes so far.
    pub fn wakes(&self) -> usize {
        self.0.wakes.load(StdOrdering::SeqCst)
    }

    /// Wakers (and clones of them) not yet dropped: a source that kept one
    /// after it was woken or freed would leak it.
    pub fn wakers_alive(&self) -> usize {
        StdArc::strong_count(&self.0) - 1
    }
}
