//! The multi-thread worker loop as the scheduler models run it (`idle.rs`,
//! `park_driving.rs`), with the real `Idle` and `Parker`.
//!
//! The workers follow `worker.rs` step for step: `run_loop` (take a task,
//! else search, else park), `search` (become a searcher only if
//! `transition_worker_to_searching` allows it, then look in the other
//! queues), `run_task` (the found-work step: leave searching, notify if
//! last), `park` (`transition_worker_to_parked`, the re-check: the
//! queues unless `another_is_searching`, then `sleep` until `is_parked`
//! says a notifier took us off the list) and `sleep` (with `drive`: take the reactor's turn if free and
//! wait on the poller through `Parker::park_driving`, else `Parker::park`).
//! The pusher is `schedule_remote` (push to the injector, then
//! `worker_to_notify` and `unpark_worker`). The queues are plain loom-mutex
//! `VecDeque`s, as in `queue.rs` under loom.
//!
//! The poller is a loom mutex and condition variable: `deliver` stands for
//! readiness arriving in the kernel (kept until some wait collects it), and
//! `notify` is `Poller::notify` (sticky until a wait consumes it). Busy
//! workers' periodic look at the reactor is left out: the models show that
//! nothing is lost without it (it only bounds latency).

use std::collections::VecDeque;

use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering::*};
use loom::sync::{Arc, Condvar, Mutex};
use loom::thread;
use windlass::loom_test_hooks::{Idle, Parker};

/// A task that only runs.
pub const PLAIN: u32 = 0;
/// A task that pushes a `PLAIN` one to its worker's local queue.
pub const SPAWNS: u32 = 1;

/// The poller: ready events not yet collected, and the notify flag.
#[derive(Default)]
pub struct Poller {
    state: Mutex<(VecDeque<u32>, bool)>,
    cvar: Condvar,
}

impl Poller {
    /// `Turn::wait(None)`: blocks until an event or a notification, takes
    /// every event and consumes the notification.
    pub fn wait(&self) -> Vec<u32> {
        let mut state = self.state.lock().unwrap();
        while state.0.is_empty() && !state.1 {
            state = self.cvar.wait(state).unwrap();
        }
        state.1 = false;
        state.0.drain(..).collect()
    }

    /// Readiness for the task `task` reaches the kernel.
    pub fn deliver(&self, task: u32) {
        self.state.lock().unwrap().0.push_back(task);
        self.cvar.notify_all();
    }

    /// `Poller::notify`.
    pub fn notify(&self) {
        self.state.lock().unwrap().1 = true;
        self.cvar.notify_all();
    }
}

/// What `multi_thread::Shared` holds for the protocol.
pub struct Shared {
    injector: Mutex<VecDeque<u32>>,
    /// Each worker's local queue (its stealer reads the same deque).
    locals: Vec<Mutex<VecDeque<u32>>>,
    idle: Idle,
    parkers: Vec<Parker>,
    /// Whether a reactor exists for sleeping workers to wait on.
    drive: bool,
    /// The reactor's turn (`Reactor::try_turn`, a `try_lock`): held by the
    /// worker waiting on `poller`. An atomic flag here, because loom 0.7
    /// blocks a thread whose next operation is a `try_lock` when another
    /// thread takes the mutex, which reports a deadlock that a real
    /// `try_lock` cannot have.
    turn: AtomicBool,
    pub poller: Poller,
    shutdown: AtomicBool,
    /// Tasks run so far.
    ran: AtomicUsize,
    /// The model thread sleeps here until the tasks ran.
    main: Parker,
    expected: usize,
}

impl Shared {
    /// `workers` workers expecting `expected` tasks; with `drive`, sleeping
    /// workers may wait on the poller.
    pub fn new(workers: usize, expected: usize, drive: bool) -> Shared {
        Shared {
            injector: Mutex::new(VecDeque::new()),
            locals: (0..workers).map(|_| Mutex::new(VecDeque::new())).collect(),
            idle: Idle::new(workers),
            parkers: (0..workers).map(|_| Parker::new()).collect(),
            drive,
            turn: AtomicBool::new(false),
            poller: Poller::default(),
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

    /// `Shared::unpark_worker`.
    fn unpark_worker(&self, index: usize) {
        if self.parkers[index].unpark_for_driving() {
            self.poller.notify();
        }
    }

    /// `Handle::notify_parked`.
    fn notify_parked(&self) {
        if let Some(index) = self.idle.worker_to_notify() {
            self.unpark_worker(index);
        }
    }

    /// `Handle::schedule_remote` (before shutdown).
    pub fn schedule_remote(&self, task: u32) {
        self.injector.lock().unwrap().push_back(task);
        self.notify_parked();
    }

    /// `signal_shutdown`'s part in the protocol.
    fn signal_shutdown(&self) {
        self.shutdown.store(true, SeqCst);
        for i in 0..self.parkers.len() {
            self.unpark_worker(i);
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

    /// `Core::push_local` + `schedule_local`: notify only if the queue
    /// already held a task.
    fn push_local(&self, task: u32) {
        let had_work = {
            let mut q = self.shared.locals[self.index].lock().unwrap();
            let had = !q.is_empty();
            q.push_back(task);
            had
        };
        if had_work {
            self.shared.notify_parked();
        }
    }

    /// `Context::run_task`: the found-work step, then "run" the task.
    fn run_task(&mut self, task: u32) {
        if self.is_searching {
            self.is_searching = false;
            if self.shared.idle.transition_worker_from_searching() {
                self.shared.notify_parked();
            }
        }
        if task == SPAWNS {
            self.push_local(PLAIN);
        }
        if self.shared.ran.fetch_add(1, SeqCst) + 1 == self.shared.expected {
            self.shared.main.unpark();
        }
    }

    /// `Context::park`.
    fn park(&mut self) {
        // A clone: `sleep` borrows `self` mutably.
        let shared = Arc::clone(&self.shared);
        let shared = &*shared;
        let was_searching = std::mem::take(&mut self.is_searching);
        shared
            .idle
            .transition_worker_to_parked(self.index, was_searching);
        // The re-check: the queues only if no other worker is searching.
        let must_look = !shared.idle.another_is_searching() && shared.has_visible_work();
        if must_look || shared.shutdown.load(Acquire) {
            shared.idle.unpark_worker_by_id(self.index);
            self.is_searching = true;
            return;
        }
        loop {
            let woke_tasks = self.sleep();
            if shared.shutdown.load(Acquire) {
                return;
            }
            if woke_tasks {
                // `sleep` set `is_searching` (idle, "Woken by the poller").
                return;
            }
            if !shared.idle.is_parked(self.index) {
                break;
            }
        }
        self.is_searching = true;
    }

    /// `Context::sleep`.
    fn sleep(&mut self) -> bool {
        let shared = &*self.shared;
        let parker = &shared.parkers[self.index];
        // Acquire/Release: what the last holder did is seen by the next.
        let took_turn = shared.drive
            && shared
                .turn
                .compare_exchange(false, true, Acquire, Relaxed)
                .is_ok();
        if !took_turn {
            parker.park();
            return false;
        }
        let mut woken = Vec::new();
        parker.park_driving(|| woken = shared.poller.wait());
        shared.turn.store(false, Release);
        if woken.is_empty() {
            return false;
        }
        // Awake with work, not searching, unless a notifier got here first.
        self.is_searching = shared.idle.transition_worker_from_poller(self.index);
        for task in woken {
            self.push_local(task);
        }
        true
    }
}

/// Starts one loom thread per worker.
pub fn start(shared: &Arc<Shared>) -> Vec<thread::JoinHandle<()>> {
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
pub fn finish(shared: &Arc<Shared>, workers: Vec<thread::JoinHandle<()>>) {
    while shared.ran.load(SeqCst) < shared.expected {
        shared.main.park();
    }
    shared.signal_shutdown();
    for w in workers {
        w.join().unwrap();
    }
    assert!(shared.injector.lock().unwrap().is_empty());
}
