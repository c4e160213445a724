//! Models of a worker sleeping in the reactor (`multi_thread::worker`,
//! "Sleeping in the reactor", and `Parker::park_driving`), with the real
//! `Idle` and `Parker`.
//!
//! The workers follow `worker.rs`: run a task, else search, else park; the
//! park step is `transition_worker_to_parked`, the re-check, then `sleep`:
//! take the reactor's turn if it is free and wait on the poller through
//! `Parker::park_driving`, else `Parker::park`. A wait that returns with
//! woken tasks takes the worker off the sleepers (`unpark_worker_by_id`)
//! before the tasks are pushed to its local queue (notifying a peer if the
//! queue already held one). Unparking a worker whose parker says it is
//! driving also notifies the poller (`Shared::unpark_worker`).
//!
//! The poller is a loom mutex and condition variable: `deliver` stands for
//! readiness arriving in the kernel (kept until some wait collects it), and
//! `notify` is `Poller::notify` (sticky until a wait consumes it). Busy
//! workers' periodic look at the reactor is left out: the models show that
//! nothing is lost without it (it only bounds latency).
#![cfg(loom)]

use std::collections::VecDeque;

use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering::*};
use loom::sync::{Arc, Condvar, Mutex};
use loom::thread;
use windlass::__loom::{Idle, Parker};
use windlass_loom_tests::model;

/// The poller: ready events not yet collected, and the notify flag.
#[derive(Default)]
struct Poller {
    state: Mutex<(VecDeque<u32>, bool)>,
    cvar: Condvar,
}

impl Poller {
    /// `Turn::wait(None)`: blocks until an event or a notification, takes
    /// every event and consumes the notification.
    fn wait(&self) -> Vec<u32> {
        let mut state = self.state.lock().unwrap();
        while state.0.is_empty() && !state.1 {
            state = self.cvar.wait(state).unwrap();
        }
        state.1 = false;
        state.0.drain(..).collect()
    }

    /// Readiness for the task `task` reaches the kernel.
    fn deliver(&self, task: u32) {
        self.state.lock().unwrap().0.push_back(task);
        self.cvar.notify_all();
    }

    /// `Poller::notify`.
    fn notify(&self) {
        self.state.lock().unwrap().1 = true;
        self.cvar.notify_all();
    }
}

struct Shared {
    injector: Mutex<VecDeque<u32>>,
    locals: Vec<Mutex<VecDeque<u32>>>,
    idle: Idle,
    parkers: Vec<Parker>,
    /// The reactor's turn (`Reactor::try_turn`, a `try_lock`): held by
    /// the worker waiting on `poller`. An atomic flag here, because loom
    /// 0.7 blocks a thread whose next operation is a `try_lock` when
    /// another thread takes the mutex, which reports a deadlock that a real
    /// `try_lock` cannot have.
    turn: AtomicBool,
    poller: Poller,
    shutdown: AtomicBool,
    ran: AtomicUsize,
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
            turn: AtomicBool::new(false),
            poller: Poller::default(),
            shutdown: AtomicBool::new(false),
            ran: AtomicUsize::new(0),
            main: Parker::new(),
            expected,
        }
    }

    fn has_visible_work(&self) -> bool {
        !self.injector.lock().unwrap().is_empty()
            || self.locals.iter().any(|q| !q.lock().unwrap().is_empty())
    }

    /// `Shared::unpark_worker`.
    fn unpark_worker(&self, index: usize) {
        if self.parkers[index].unpark_for_driving() {
            self.poller.notify();
        }
    }

    fn notify_parked(&self) {
        if let Some(index) = self.idle.worker_to_notify() {
            self.unpark_worker(index);
        }
    }

    fn schedule_remote(&self, task: u32) {
        self.injector.lock().unwrap().push_back(task);
        self.notify_parked();
    }

    fn signal_shutdown(&self) {
        self.shutdown.store(true, SeqCst);
        for i in 0..self.parkers.len() {
            self.unpark_worker(i);
        }
    }
}

struct Worker {
    shared: Arc<Shared>,
    index: usize,
    is_searching: bool,
}

impl Worker {
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

    fn next_task(&self) -> Option<u32> {
        let local = self.shared.locals[self.index].lock().unwrap().pop_front();
        local.or_else(|| self.shared.injector.lock().unwrap().pop_front())
    }

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

    fn run_task(&mut self, _task: u32) {
        if self.is_searching {
            self.is_searching = false;
            if self.shared.idle.transition_worker_from_searching() {
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
            let woke_tasks = self.sleep();
            if shared.shutdown.load(Acquire) {
                return;
            }
            if woke_tasks || !shared.idle.is_parked(self.index) {
                break;
            }
        }
        self.is_searching = true;
    }

    /// `Context::sleep`.
    fn sleep(&self) -> bool {
        let shared = &*self.shared;
        let parker = &shared.parkers[self.index];
        // Acquire/Release: what the last holder did is seen by the next.
        if shared
            .turn
            .compare_exchange(false, true, Acquire, Relaxed)
            .is_err()
        {
            parker.park();
            return false;
        }
        let mut woken = Vec::new();
        parker.park_driving(|| woken = shared.poller.wait());
        shared.turn.store(false, Release);
        if woken.is_empty() {
            return false;
        }
        shared.idle.unpark_worker_by_id(self.index);
        for task in woken {
            // `schedule_local`: a push notifies if the queue held a task.
            let had_work = {
                let mut q = shared.locals[self.index].lock().unwrap();
                let had = !q.is_empty();
                q.push_back(task);
                had
            };
            if had_work {
                shared.notify_parked();
            }
        }
        true
    }
}

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
/// asleep: loom reports the deadlock), then shuts down and joins.
fn finish(shared: &Arc<Shared>, workers: Vec<thread::JoinHandle<()>>) {
    while shared.ran.load(SeqCst) < shared.expected {
        shared.main.park();
    }
    shared.signal_shutdown();
    for w in workers {
        w.join().unwrap();
    }
}

/// Readiness arrives while two workers run out of work and go to sleep,
/// one of them in the poller: the event's task runs.
#[test]
fn event_vs_park_two_workers() {
    model(|| {
        let shared = Arc::new(Shared::new(2, 1));
        let workers = start(&shared);
        shared.poller.deliver(1);
        finish(&shared, workers);
    });
}

/// A task pushed from outside while the only worker sleeps in the poller:
/// the unpark must interrupt the wait (parker `DRIVING` -> notify), or the
/// push is lost. Then an event: the worker must be back in the poller.
#[test]
fn remote_push_vs_driving_one_worker() {
    model(|| {
        let shared = Arc::new(Shared::new(1, 2));
        let workers = start(&shared);
        shared.schedule_remote(1);
        shared.poller.deliver(2);
        finish(&shared, workers);
    });
}

/// A remote push and an event at once, with two workers: both tasks run,
/// whichever worker holds the turn.
#[test]
fn push_and_event_two_workers() {
    model(|| {
        let shared = Arc::new(Shared::new(2, 2));
        let workers = start(&shared);
        let s = shared.clone();
        let io = thread::spawn(move || s.poller.deliver(2));
        shared.schedule_remote(1);
        io.join().unwrap();
        finish(&shared, workers);
    });
}

/// The parker's driving contract alone: an `unpark` racing the move to
/// `DRIVING` and the wait either stops the wait from starting or interrupts
/// it through the poller's notification, and what the unparker wrote
/// before is visible after.
#[test]
fn unpark_vs_park_driving() {
    model(|| {
        let parker = Arc::new(Parker::new());
        let poller = Arc::new(Poller::default());
        let flag = Arc::new(AtomicBool::new(false));
        let unparker = {
            let (parker, poller, flag) = (parker.clone(), poller.clone(), flag.clone());
            thread::spawn(move || {
                flag.store(true, Relaxed);
                if parker.unpark_for_driving() {
                    poller.notify();
                }
            })
        };
        while !flag.load(Relaxed) {
            parker.park_driving(|| {
                poller.wait();
            });
        }
        unparker.join().unwrap();
    });
}
