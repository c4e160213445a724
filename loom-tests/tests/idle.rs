//! Models of the multi-thread scheduler's sleep/wake protocol
//! (`runtime::multi_thread::idle`, "Why no wake-up is lost") with the real
//! `Idle` and `Parker`.
//!
//! The workers below follow `worker.rs` step for step: `run_loop` (take a
//! task, else search, else park), `search` (become a searcher only if
//! `transition_worker_to_searching` allows it, then look in the other queues),
//! `run_task` (the found-work step: leave searching, notify if last), `park`
//! (`transition_worker_to_parked`, the re-check of every queue, then
//! `Parker::park` until `is_parked` says a notifier took us off the list),
//! and `schedule_remote` for the pusher (push to the injector, then
//! `worker_to_notify` and `unpark`). The queues are plain loom-mutex
//! `VecDeque`s, as in `queue.rs` under loom. Sleeping in the reactor (the
//! park step once a reactor exists) is modelled in `park_driving.rs`;
//! `tests/runtime.rs` runs the real worker loop end to end.
//!
//! With mutex-guarded queues, a queue's lock already orders a push before a
//! re-check that sees it, so these models cannot show why `Idle` needs its
//! RMWs with crossbeam's lock-free deques; what they check is the rest of
//! the protocol: sleepers list, counts, parker tokens, the found-work step.
#![cfg(loom)]

use std::collections::VecDeque;

use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering::*};
use loom::sync::{Arc, Mutex};
use loom::thread;
use windlass::__loom::{Idle, Parker};
use windlass_loom_tests::model;

/// What `multi_thread::Shared` holds for the protocol.
struct Shared {
    injector: Mutex<VecDeque<u32>>,
    /// Each worker's local queue (its stealer reads the same deque).
    locals: Vec<Mutex<VecDeque<u32>>>,
    idle: Idle,
    parkers: Vec<Parker>,
    shutdown: AtomicBool,
    /// Tasks run so far.
    ran: AtomicUsize,
    /// The model thread sleeps here until the tasks ran.
    main: Parker,
    expected: usize,
}

impl Shared {
    fn new(workers: usize, expected: usize) -> Shared {
        Shared {
            injector: Mutex::new(VecDeque::new()),
            locals: (0..workers).map(|_| Mutex::new(VecDeque::new())).collect(),
            idle: Idle::new(workers),
            parkers: (0..workers).map(|_| Parker::new()).collect(),
            shutdown: AtomicBool::new(false),
            ran: AtomicUsize::new(0),
            main: Parker::new(),
            expected,
        }
    }

    /// `Shared::has_visible_work`.
    fn has_visible_work(&self) -> bool {
        !self.injector.lock().unwrap().is_empty()
            || self.locals.iter().any(|q| !q.lock().unwrap().is_empty())
    }

    /// `Handle::notify_parked`.
    fn notify_parked(&self) {
        if let Some(index) = self.idle.worker_to_notify() {
            self.parkers[index].unpark();
        }
    }

    /// `Handle::schedule_remote` (before shutdown).
    fn schedule_remote(&self, task: u32) {
        self.injector.lock().unwrap().push_back(task);
        self.notify_parked();
    }

    /// `signal_shutdown`'s part in the protocol.
    fn signal_shutdown(&self) {
        self.shutdown.store(true, SeqCst);
        for p in &self.parkers {
            p.unpark();
        }
    }
}

/// One worker: `worker::Context` minus the task machinery.
struct Worker {
    shared: Arc<Shared>,
    index: usize,
    is_searching: bool,
}

impl Worker {
    /// `Context::run_loop`.
    fn run(mut self) {
        while !self.shared.shutdown.load(Acquire) {
            if let Some(task) = self.next_task() {
                self.run_task(task);
            } else if let Some(task) = self.search() {
                self.run_task(task);
            } else {
                self.park();
            }
        }
    }

    /// `Context::next_task`: the local queue, then the injector.
    fn next_task(&self) -> Option<u32> {
        let local = self.shared.locals[self.index].lock().unwrap().pop_front();
        local.or_else(|| self.shared.injector.lock().unwrap().pop_front())
    }

    /// `Context::search`.
    fn search(&mut self) -> Option<u32> {
        if !self.is_searching {
            if !self.shared.idle.transition_worker_to_searching() {
                return None;
            }
            self.is_searching = true;
        }
        let n = self.shared.locals.len();
        for i in 1..n {
            let victim = (self.index + i) % n;
            if let Some(task) = self.shared.locals[victim].lock().unwrap().pop_front() {
                return Some(task);
            }
        }
        self.shared.injector.lock().unwrap().pop_front()
    }

    /// `Context::run_task`: the found-work step, then "run" the task.
    fn run_task(&mut self, task: u32) {
        if self.is_searching {
            self.is_searching = false;
            if self.shared.idle.transition_worker_from_searching() {
                self.shared.notify_parked();
            }
        }
        // A task with a follow-up pushes it to the local queue, notifying
        // only if the queue already held one (`Core::push_local`).
        if task == SPAWNS {
            let had_work = {
                let mut q = self.shared.locals[self.index].lock().unwrap();
                let had = !q.is_empty();
                q.push_back(PLAIN);
                had
            };
            if had_work {
                self.shared.notify_parked();
            }
        }
        if self.shared.ran.fetch_add(1, SeqCst) + 1 == self.shared.expected {
            self.shared.main.unpark();
        }
    }

    /// `Context::park`.
    fn park(&mut self) {
        let shared = &*self.shared;
        let was_searching = std::mem::take(&mut self.is_searching);
        shared
            .idle
            .transition_worker_to_parked(self.index, was_searching);
        if shared.has_visible_work() || shared.shutdown.load(Acquire) {
            shared.idle.unpark_worker_by_id(self.index);
            self.is_searching = true;
            return;
        }
        loop {
            shared.parkers[self.index].park();
            if shared.shutdown.load(Acquire) {
                return;
            }
            if !shared.idle.is_parked(self.index) {
                break;
            }
        }
        self.is_searching = true;
    }
}

/// A task that only runs.
const PLAIN: u32 = 0;
/// A task that pushes a `PLAIN` one to its worker's local queue.
const SPAWNS: u32 = 1;

fn start(shared: &Arc<Shared>) -> Vec<thread::JoinHandle<()>> {
    (0..shared.parkers.len())
        .map(|index| {
            let w = Worker {
                shared: shared.clone(),
                index,
                is_searching: false,
            };
            thread::spawn(move || w.run())
        })
        .collect()
}

/// Waits until every expected task ran (a lost wake-up leaves every thread
/// asleep here and in `Worker::park`: loom reports the deadlock), then shuts
/// down and joins the workers.
fn finish(shared: &Arc<Shared>, workers: Vec<thread::JoinHandle<()>>) {
    while shared.ran.load(SeqCst) < shared.expected {
        shared.main.park();
    }
    shared.signal_shutdown();
    for w in workers {
        w.join().unwrap();
    }
    assert!(shared.injector.lock().unwrap().is_empty());
}

/// Model 2, the notify step against the park step: the model thread pushes
/// a task into the injector and notifies while both workers run out of work
/// and park (each through `transition_worker_to_parked`, the re-check and
/// `Parker::park`). The task is always run: either the pusher's RMW sees a
/// sleeper and unparks it, or the parking worker's re-check sees the task.
#[test]
fn push_vs_park_two_workers() {
    model(|| {
        let shared = Arc::new(Shared::new(2, 1));
        let workers = start(&shared);
        shared.schedule_remote(PLAIN);
        finish(&shared, workers);
    });
}

/// Model 2 with the found-work step: the injected task pushes a second one
/// to its worker's local queue. While one worker runs it, the other is
/// searching or parking; the second task is run by whichever finds it, and
/// nobody is left asleep with it queued.
#[test]
fn local_push_vs_park_two_workers() {
    model(|| {
        let shared = Arc::new(Shared::new(2, 2));
        let workers = start(&shared);
        shared.schedule_remote(SPAWNS);
        finish(&shared, workers);
    });
}

/// The parker's own contract, which the park step leans on: whatever a
/// thread wrote before `unpark` is visible once `park` returns, even when
/// two unparks land while the parker is between its checks (they coalesce
/// into one token; consuming it must synchronise with the later one). The
/// parker waits for two flags, each set by its own thread before it
/// unparks; a missed flag means sleeping with no token left: a deadlock.
#[test]
fn two_unparks_vs_park() {
    model(|| {
        let parker = Arc::new(Parker::new());
        let flags = Arc::new([AtomicBool::new(false), AtomicBool::new(false)]);
        let unparkers: Vec<_> = (0..2)
            .map(|i| {
                let (parker, flags) = (parker.clone(), flags.clone());
                thread::spawn(move || {
                    flags[i].store(true, Relaxed);
                    parker.unpark();
                })
            })
            .collect();
        while !(flags[0].load(Relaxed) && flags[1].load(Relaxed)) {
            parker.park();
        }
        for u in unparkers {
            u.join().unwrap();
        }
    });
}
