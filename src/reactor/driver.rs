//! [`Driver`]: a runtime's reactor over its life (created with the
//! runtime, started on first use, stopped at shutdown), and [`DriveMode`],
//! who waits on it (see "Who waits" in the [reactor docs](super)).

use std::io;

// The real primitives in every build (an exception listed in
// `crate::loom`'s docs): under loom the reactor has a thread of its own,
// a plain OS thread (see `Driver::for_workers`).
use crate::loom::std::sync::{Arc, Mutex, OnceLock};

use super::clock::Clock;
use super::{Reactor, WaitFailed, gone};

/// A runtime's reactor: created with the runtime (so a lack of descriptors
/// fails the build), started on first use (a runtime that never touches
/// I/O or timers never has a thread or a worker waiting on it), and
/// stopped at shutdown.
pub(crate) struct Driver {
    reactor: OnceLock<Arc<Reactor>>,
    /// Serialises start and shutdown. Holds the reactor created at build
    /// time until it starts (`None` afterwards, and once shut down).
    init: Mutex<Reserved>,
    /// Who waits on the poller.
    mode: DriveMode,
    /// The runtime's clock, which exists before the reactor starts.
    clock: Arc<Clock>,
    /// Where the reactor reports a failed wait (kept for a reactor created
    /// on first use, under Miri).
    report: WaitFailed,
}

/// What [`Driver::init`] guards.
struct Reserved {
    /// The reactor, created but not started yet.
    reactor: Option<Arc<Reactor>>,
    shut_down: bool,
}

/// See [`DriveMode::Workers`].
pub(crate) type StartHook = Box<dyn Fn(&Reactor) + Send + Sync>;

/// Who waits on a runtime's poller (see "Who waits").
pub(crate) enum DriveMode {
    /// A reactor thread of this name.
    Thread(String),
    /// The runtime's worker threads, when they have nothing to run. The
    /// callback runs once, right after the reactor starts: it must make
    /// the sleeping workers look again, so that one of them waits on it.
    Workers(OnceLock<StartHook>),
}

impl Driver {
    /// A driver whose reactor has a thread of its own; failed waits on the
    /// poller go to `report`. Fails if the poller cannot be created.
    pub(crate) fn with_thread(thread_name: String, report: WaitFailed) -> io::Result<Driver> {
        Driver::new(DriveMode::Thread(thread_name), report)
    }

    /// A driver whose reactor the runtime's workers wait on. Under loom
    /// (whose threads cannot block in a real `epoll_wait`) it gets a
    /// thread instead. That thread is a plain OS thread, so a loom model
    /// may use timers but no `Async`: the reactor thread would take a
    /// `Source`'s loom lock. (The source protocol is modelled on its own,
    /// in `loom-tests/tests/reactor_source.rs`.)
    pub(crate) fn for_workers(thread_name: String, report: WaitFailed) -> io::Result<Driver> {
        if cfg!(loom) {
            Driver::with_thread(thread_name, report)
        } else {
            Driver::new(DriveMode::Workers(OnceLock::new()), report)
        }
    }

    fn new(mode: DriveMode, report: WaitFailed) -> io::Result<Driver> {
        // Under Miri, which cannot emulate the poller (`timerfd_create`),
        // the poller is created on first use instead, so that runtimes that
        // never touch I/O or timers can still be tested there.
        let clock = Arc::new(Clock::new());
        let reserved = if cfg!(miri) {
            None
        } else {
            Some(Reactor::new(clock.clone(), report.clone())?)
        };
        Ok(Driver {
            reactor: OnceLock::new(),
            init: Mutex::new(Reserved {
                reactor: reserved,
                shut_down: false,
            }),
            mode,
            clock,
            report,
        })
    }

    /// Sets the callback of [`DriveMode::Workers`] (once, before any use).
    pub(crate) fn on_start(&self, f: StartHook) {
        if let DriveMode::Workers(cb) = &self.mode {
            assert!(cb.set(f).is_ok(), "Driver::on_start called twice");
        }
    }

    /// The reactor, started now if this is the first use. Fails only after
    /// shutdown, or if the reactor thread cannot be spawned (the reactor
    /// then stays reserved for the next try); never for lack of
    /// descriptors, which were taken at build time.
    pub(crate) fn get(&self) -> io::Result<Arc<Reactor>> {
        if let Some(r) = self.reactor.get() {
            return Ok(r.clone());
        }
        let mut init = self.init.lock();
        if let Some(r) = self.reactor.get() {
            return Ok(r.clone());
        }
        if init.shut_down {
            return Err(gone());
        }
        let r = match init.reactor.take() {
            Some(r) => r,
            // Only under Miri (see `new`): create it now.
            None => Reactor::new(self.clock.clone(), self.report.clone())?,
        };
        if let DriveMode::Thread(name) = &self.mode {
            if let Err(e) = r.spawn_thread(name) {
                init.reactor = Some(r);
                return Err(e);
            }
        }
        let _ = self.reactor.set(r.clone());
        drop(init);
        if let DriveMode::Workers(cb) = &self.mode {
            // After the `set`: a worker that looks again finds the reactor.
            if let Some(cb) = cb.get() {
                cb(&r);
            }
        }
        Ok(r)
    }

    /// The runtime's clock.
    pub(crate) fn clock(&self) -> &Arc<Clock> {
        &self.clock
    }

    /// The reactor if it was started.
    pub(crate) fn started(&self) -> Option<&Arc<Reactor>> {
        self.reactor.get()
    }

    pub(crate) fn shutdown(&self) {
        let mut init = self.init.lock();
        init.shut_down = true;
        // A reactor that never started has no thread: just close it.
        drop(init.reactor.take());
        if let Some(r) = self.reactor.get() {
            r.shutdown();
        }
    }
}
