//! The two scheduler flavors behind one handle type, and the one place
//! that tells them apart: every `match` on the flavor in the runtime is in
//! this file (creating the reactor, starting the scheduler, spawning,
//! `block_on`, shutdown and the handle's questions).
//!
//! Each flavor's handle holds the parts every runtime has (the reactor's
//! `Driver`, the blocking pool's handle, the settings) beside its own
//! queues, so a [`runtime::Handle`](super::Handle) is this enum and nothing
//! more: one `Arc` per flavor, cloned whole, built once by
//! `Builder::build` through [`start`].

use crate::loom::std::sync::Arc as StdArc;
use std::future::Future;
use std::io;

use super::builder::Config;
use super::{RuntimeFlavor, context, current_thread, multi_thread};
use crate::blocking::BlockingHandle;
use crate::deadline::Deadline;
use crate::loom::sync::Arc;
use crate::reactor::{Driver, WaitFailed};
use crate::task::core::Schedule;
use crate::task::list::OwnedTasks;
use crate::task::site::SpawnMeta;
use crate::task::{Id, JoinHandle, Notified};

#[derive(Clone)]
pub(crate) enum Handle {
    MultiThread(Arc<multi_thread::Handle>),
    CurrentThread(Arc<current_thread::Handle>),
}

/// The reactor of a new runtime of `flavor`: a current-thread runtime has
/// a reactor thread, a multi-thread one is waited on by an idle worker.
/// Its descriptors are taken now: out of descriptors, the build fails here
/// rather than a timer later (issue #13).
pub(crate) fn new_driver(
    flavor: RuntimeFlavor,
    thread_name: String,
    report: WaitFailed,
) -> io::Result<Driver> {
    match flavor {
        RuntimeFlavor::CurrentThread => Driver::with_thread(thread_name, report),
        RuntimeFlavor::MultiThread => Driver::for_workers(thread_name, report),
    }
}

/// Creates the scheduler of `flavor`, wraps it in the runtime's one
/// [`Handle`](super::Handle) and starts its threads (the workers, for the
/// multi-thread flavor), each with a clone of that handle.
pub(crate) fn start(
    flavor: RuntimeFlavor,
    num_workers: usize,
    config: Config,
    blocking: BlockingHandle,
    driver: StdArc<Driver>,
) -> io::Result<(super::Handle, Vec<crate::loom::thread::JoinHandle<()>>)> {
    match flavor {
        RuntimeFlavor::CurrentThread => {
            let h = current_thread::Handle::new(config, blocking, driver);
            Ok((Handle::CurrentThread(h).into(), Vec::new()))
        }
        RuntimeFlavor::MultiThread => {
            let (h, locals) = multi_thread::Handle::new(num_workers, config, blocking, driver);
            let rt: super::Handle = Handle::MultiThread(h.clone()).into();
            let threads = multi_thread::start(&h, &rt, locals)?;
            Ok((rt, threads))
        }
    }
}

/// What a flavor gives the one spawn path ([`spawn_on`]).
pub(crate) trait Spawner: Sized
where
    Arc<Self>: Schedule,
{
    /// The flavor's list of live tasks.
    fn owned(&self) -> &OwnedTasks;
    /// Debug mode: new tasks keep their spawn site and name.
    fn debug(&self) -> bool;
    /// Queues a task that was just spawned.
    fn schedule_spawned(me: &Arc<Self>, task: Notified);
}

/// Spawns `future` onto the flavor `me`: binds it to the owned list (task
/// rule 1; refused after shutdown) and queues its first poll.
#[inline]
fn spawn_on<H, F>(me: &Arc<H>, future: F, meta: SpawnMeta) -> JoinHandle<F::Output>
where
    H: Spawner,
    Arc<H>: Schedule,
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let site = meta.into_site(me.debug());
    let (join, notified) = me.owned().bind(future, me.clone(), Id::next(), site);
    if let Some(task) = notified {
        H::schedule_spawned(me, task);
    }
    join
}

/// Counts a forced yield (a task spent its budget) on the worker this
/// thread runs, if any: the hook `task::coop` calls (installed by
/// `Builder::build`), from inside a task's poll, on the thread that owns
/// that worker's counters (metrics rule 2).
pub(crate) fn count_forced_yield() {
    context::with_current(|h| match &h.inner {
        Handle::MultiThread(h) => h.count_forced_yield(),
        Handle::CurrentThread(h) => super::metrics::add(&h.counters.forced_yields, 1),
    });
}

impl Handle {
    pub(crate) fn spawn<F>(&self, future: F, meta: SpawnMeta) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match self {
            Handle::MultiThread(h) => spawn_on(h, future, meta),
            Handle::CurrentThread(h) => spawn_on(h, future, meta),
        }
    }

    /// `Runtime::block_on`, after the caller entered the runtime.
    pub(crate) fn block_on<F: Future>(&self, future: F) -> F::Output {
        match self {
            Handle::MultiThread(h) => h.block_on(future),
            Handle::CurrentThread(h) => current_thread::Handle::block_on(h, future),
        }
    }

    /// The scheduler's part of `Runtime`'s shutdown: every task cancelled,
    /// and the worker `threads` joined if they stop before `deadline`.
    /// `rt` is the runtime's handle (current while a current-thread
    /// runtime drops its tasks, so their destructors find it).
    pub(crate) fn shutdown(
        &self,
        rt: &super::Handle,
        threads: Vec<crate::loom::thread::JoinHandle<()>>,
        deadline: Deadline,
    ) {
        match self {
            Handle::MultiThread(h) => {
                h.signal_shutdown();
                if h.wait_done(deadline) {
                    for t in threads {
                        let _ = t.join();
                    }
                }
            }
            Handle::CurrentThread(h) => {
                let _current = context::set_current(rt);
                h.shutdown();
            }
        }
    }

    pub(crate) fn flavor(&self) -> RuntimeFlavor {
        match self {
            Handle::MultiThread(_) => RuntimeFlavor::MultiThread,
            Handle::CurrentThread(_) => RuntimeFlavor::CurrentThread,
        }
    }

    pub(crate) fn num_workers(&self) -> usize {
        match self {
            Handle::MultiThread(h) => h.num_workers(),
            Handle::CurrentThread(_) => 1,
        }
    }

    /// The runtime's reactor.
    pub(crate) fn driver(&self) -> &StdArc<Driver> {
        match self {
            Handle::MultiThread(h) => h.driver(),
            Handle::CurrentThread(h) => &h.driver,
        }
    }

    /// The runtime's blocking pool.
    pub(crate) fn blocking(&self) -> &BlockingHandle {
        match self {
            Handle::MultiThread(h) => h.blocking(),
            Handle::CurrentThread(h) => &h.blocking,
        }
    }

    pub(crate) fn num_alive_tasks(&self) -> usize {
        match self {
            Handle::MultiThread(h) => h.num_alive_tasks(),
            Handle::CurrentThread(h) => h.num_alive_tasks(),
        }
    }

    pub(crate) fn dump_tasks(&self, out: &mut Vec<super::dump::TaskSnapshot>) {
        match self {
            Handle::MultiThread(h) => h.dump_tasks(out),
            Handle::CurrentThread(h) => h.dump_tasks(out),
        }
    }

    /// The workers' metrics and the injector's depth; adds the workers'
    /// histograms to `poll` and `latency`.
    pub(crate) fn metrics(
        &self,
        poll: &mut super::Histogram,
        latency: &mut super::Histogram,
    ) -> (Vec<super::WorkerMetrics>, usize) {
        match self {
            Handle::MultiThread(h) => h.metrics(poll, latency),
            Handle::CurrentThread(h) => h.metrics(poll, latency),
        }
    }

    pub(crate) fn is_debug(&self) -> bool {
        match self {
            Handle::MultiThread(h) => h.debug(),
            Handle::CurrentThread(h) => h.debug(),
        }
    }

    pub(crate) fn is_shutdown(&self) -> bool {
        match self {
            Handle::MultiThread(h) => h.is_shutdown(),
            Handle::CurrentThread(h) => h.is_shutdown(),
        }
    }

    /// `(unparked, searching)` workers of a multi-thread runtime, for the
    /// loom models; `None` for the current-thread flavor.
    #[cfg(loom)]
    pub(crate) fn idle_counts(&self) -> Option<(usize, usize)> {
        match self {
            Handle::MultiThread(h) => Some(h.idle_counts()),
            Handle::CurrentThread(_) => None,
        }
    }
}
