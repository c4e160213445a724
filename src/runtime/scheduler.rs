//! The two scheduler flavors behind one handle type.

use std::future::Future;

use super::{current_thread, multi_thread};
use crate::loom::sync::Arc;
use crate::task::site::SpawnMeta;
use crate::task::{Id, JoinHandle};

/// Counts a forced yield (a task spent its budget) on the worker this
/// thread runs, if any: the hook `task::coop` calls (installed by
/// `Builder::build`), from inside a task's poll, on the thread that owns
/// that worker's counters (metrics rule 2).
pub(crate) fn count_forced_yield() {
    super::context::with_current(|h| h.inner.count_forced_yield());
}

#[derive(Clone)]
pub(crate) enum Handle {
    MultiThread(Arc<multi_thread::Handle>),
    CurrentThread(Arc<current_thread::Handle>),
}

impl Handle {
    pub(crate) fn spawn<F>(&self, future: F, meta: SpawnMeta) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let id = Id::next();
        match self {
            Handle::MultiThread(h) => {
                let site = meta.into_site(h.shared.config.debug.enabled);
                multi_thread::Handle::spawn(h, future, id, site)
            }
            Handle::CurrentThread(h) => {
                let site = meta.into_site(h.config.debug.enabled);
                current_thread::Handle::spawn(h, future, id, site)
            }
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

    /// Counts a forced yield (a task spent its budget) on the worker this
    /// thread runs, if any: called only from inside a task's poll, on the
    /// thread that owns that worker's counters (metrics rule 2).
    pub(crate) fn count_forced_yield(&self) {
        match self {
            Handle::MultiThread(h) => h.count_forced_yield(),
            Handle::CurrentThread(h) => super::metrics::add(&h.counters.forced_yields, 1),
        }
    }

    pub(crate) fn is_debug(&self) -> bool {
        match self {
            Handle::MultiThread(h) => h.shared.config.debug.enabled,
            Handle::CurrentThread(h) => h.config.debug.enabled,
        }
    }

    pub(crate) fn is_shutdown(&self) -> bool {
        match self {
            Handle::MultiThread(h) => h.is_shutdown(),
            Handle::CurrentThread(h) => h.is_shutdown(),
        }
    }
}
