//! Models of the task state protocol (rules 1-9 in `windlass::task`), run on
//! the real task cell through `windlass::loom_test_hooks::TestScheduler`: the model
//! decides which loom thread runs a queued `Notified`, and the other threads
//! drop, abort, join, wake or shut the task down at the same time.
//!
//! Every model ends by checking that the future and the output were each
//! dropped exactly once, that no task cell is left (rule 1's last reference
//! freed it) and that the owned list is empty. The scheduler also fails a
//! model that ever holds two `Notified` of one task in its queue (rule 5).
#![cfg(loom)]

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use loom::future::block_on;
use loom::thread;
use windlass::loom_test_hooks::TestScheduler;
use windlass_loom_tests::{DropCounter, Gate, TaskBody, Wake, model};

/// Counters for one task: drops of its future, drops of its output.
struct Drops {
    future: DropCounter,
    output: DropCounter,
}

impl Drops {
    fn new() -> Drops {
        Drops {
            future: DropCounter::new(),
            output: DropCounter::new(),
        }
    }

    /// A future that completes on its first poll.
    fn ready(&self) -> TaskBody {
        TaskBody::ready(self.future.token(), self.output.token())
    }

    /// A future that completes once the gate opens.
    fn after(&self, gate: &loom::sync::Arc<Gate>) -> TaskBody {
        TaskBody::after(self.future.token(), self.output.token(), Gate::wait(gate))
    }

    /// The end-of-model check: each dropped once, no cell or list entry left.
    fn check(&self, s: &TestScheduler) {
        assert_eq!(self.future.get(), 1, "future dropped exactly once");
        assert_eq!(self.output.get(), 1, "output dropped exactly once");
        assert_eq!(s.owned_len(), 0, "owned list empty");
        assert_eq!(s.queued(), 0, "queue empty");
        assert_eq!(s.live_tasks(), 0, "task cell freed (no leaked reference)");
    }
}

/// 1(i), rules 4 and 8: the task completes on thread A while thread B drops
/// the `JoinHandle`. Whichever of `COMPLETE` and the cleared `JOIN_INTEREST`
/// comes second drops the output; the last of the three references (join
/// handle, owned list, poller) frees the cell.
#[test]
fn complete_vs_drop_join_handle() {
    model(|| {
        let s = TestScheduler::new();
        let d = Drops::new();
        let jh = s.spawn(d.ready());

        let a = {
            let s = s.clone();
            thread::spawn(move || assert!(s.run_one()))
        };
        drop(jh);
        a.join().unwrap();

        d.check(&s);
    });
}

/// 1(ii), rules 2, 4 and 6: the task is polled (and completes) on thread A
/// while thread B aborts it. An abort that lands before the poll cancels
/// the task unpolled; one that lands during or after the poll leaves the
/// output, which the join yields. So the handle reports cancelled exactly
/// when the future never returned (issue #13, defect 6: before, an abort
/// during the poll replaced an output that had been produced).
#[test]
fn poll_vs_abort() {
    model(|| {
        let s = TestScheduler::new();
        let d = Drops::new();
        let returned = Returned::new();
        let jh = s.spawn(returned.wrap(d.ready()));

        let a = {
            let s = s.clone();
            thread::spawn(move || assert!(s.run_one()))
        };
        jh.abort();
        a.join().unwrap();

        // An abort never submits here: the task was queued or running or
        // complete when it came.
        assert_eq!(s.run_all(), 0);
        match block_on(jh) {
            Ok(out) => {
                assert!(returned.get(), "an output without a return");
                drop(out);
            }
            Err(e) => {
                assert!(e.is_cancelled());
                assert!(
                    !returned.get(),
                    "the future returned, yet the join says cancelled"
                );
            }
        }
        d.check(&s);
    });
}

/// Records whether the wrapped future returned `Ready` (a plain atomic,
/// outside the model, like `DropCounter`).
#[derive(Clone)]
struct Returned(std::sync::Arc<std::sync::atomic::AtomicBool>);

impl Returned {
    fn new() -> Returned {
        Returned(Default::default())
    }

    fn get(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn wrap<F: Future + Unpin>(&self, inner: F) -> impl Future<Output = F::Output> + use<F> {
        let flag = self.0.clone();
        let mut inner = inner;
        std::future::poll_fn(move |cx| {
            let out = Pin::new(&mut inner).poll(cx);
            if out.is_ready() {
                flag.store(true, std::sync::atomic::Ordering::SeqCst);
            }
            out
        })
    }
}

/// 1(ii), rules 3 and 6, with a task that stays pending: thread B aborts
/// while thread A polls. Before the poll, the poller cancels instead of
/// polling (rule 2); during it, `transition_to_idle` sees `CANCELLED` and
/// cancels (rule 3); after it, the abort submits the idle task and the next
/// run cancels it. The handle always reports cancellation.
#[test]
fn poll_pending_vs_abort() {
    model(|| {
        let s = TestScheduler::new();
        let d = Drops::new();
        let gate = Gate::new();
        let jh = s.spawn(d.after(&gate));

        let a = {
            let s = s.clone();
            thread::spawn(move || assert!(s.run_one()))
        };
        jh.abort();
        a.join().unwrap();

        s.run_all();
        let err = block_on(jh).unwrap_err();
        assert!(err.is_cancelled());
        gate.clear();
        d.check(&s);
    });
}

/// 1(iii), rules 4 and 9: thread B polls the `JoinHandle` until it is ready
/// (storing a join waker and sleeping in between) while thread A completes
/// the task. Either B sees `COMPLETE`, or A sees `JOIN_WAKER` and wakes it: a
/// lost join wake-up leaves B asleep forever, which loom reports as a
/// deadlock.
#[test]
fn join_waker_vs_complete() {
    model(|| {
        let s = TestScheduler::new();
        let d = Drops::new();
        let jh = s.spawn(d.ready());

        let a = {
            let s = s.clone();
            thread::spawn(move || assert!(s.run_one()))
        };
        drop(block_on(jh).unwrap());
        a.join().unwrap();

        d.check(&s);
    });
}

/// 1(iii), rule 9's replace path: B first polls the `JoinHandle` with one
/// waker, then waits with another (`unset_join_waker`, rewrite the slot,
/// `set_join_waker`) while A completes the task. The second waker is always
/// woken or the output is read directly.
#[test]
fn join_waker_replace_vs_complete() {
    model(|| {
        let s = TestScheduler::new();
        let d = Drops::new();
        let mut jh = s.spawn(d.ready());

        let a = {
            let s = s.clone();
            thread::spawn(move || assert!(s.run_one()))
        };
        // The first waker is never woken on purpose: only the second one
        // must be.
        let mut cx = Context::from_waker(Waker::noop());
        let out = match Pin::new(&mut jh).poll(&mut cx) {
            Poll::Ready(out) => {
                drop(jh);
                out
            }
            Poll::Pending => block_on(jh),
        };
        drop(out.unwrap());
        a.join().unwrap();

        d.check(&s);
    });
}

/// Shared body of the rule 5 models: the task's first poll wakes itself (a
/// yield) and stores its waker; thread A runs the queue while thread B
/// opens the gate and wakes the task with `how`. Whether the wake lands
/// before, during or after a poll, the task is queued at most once (checked
/// by the scheduler on every push) and polled again after the wake, so it
/// completes once the queue is drained.
fn wake_vs_poll(how: Wake) {
    model(move || {
        let s = TestScheduler::new();
        let d = Drops::new();
        let gate = Gate::new();
        let jh = s.spawn(TaskBody::after(
            d.future.token(),
            d.output.token(),
            Gate::wait_yield_first(&gate),
        ));

        let a = {
            let s = s.clone();
            thread::spawn(move || {
                s.run_all();
            })
        };
        gate.open(how);
        a.join().unwrap();

        s.run_all();
        assert!(
            jh.is_finished(),
            "a wake was lost: the task never ran again"
        );
        drop(block_on(jh).unwrap());
        gate.clear();
        d.check(&s);
    });
}

/// 1(iv), rules 3 and 5, `Waker::wake_by_ref` from thread B while thread A
/// polls: see `wake_vs_poll`.
#[test]
fn wake_by_ref_vs_poll() {
    wake_vs_poll(Wake::ByRef);
}

/// 1(iv), rules 3 and 5, `Waker::wake` (by value: the waker's reference
/// becomes the `Notified` one, or is released) from thread B while thread A
/// polls: see `wake_vs_poll`.
#[test]
fn wake_by_val_vs_poll() {
    wake_vs_poll(Wake::ByVal);
}

/// 1(iv), rule 5 with two wakers at once: the task waits on two gates; the
/// model thread runs the queue while thread B (`wake_by_ref`) and thread C
/// (`wake` by value) each open one gate and wake the task. Two wakes racing
/// for an idle task submit it once: only the one that sets `NOTIFIED` on an
/// idle task queues it, and the scheduler fails the model if the queue ever
/// holds it twice.
#[test]
fn two_wakers_vs_poll() {
    model(|| {
        let s = TestScheduler::new();
        let d = Drops::new();
        let (g1, g2) = (Gate::new(), Gate::new());
        let jh = s.spawn(TaskBody::after(
            d.future.token(),
            d.output.token(),
            Gate::wait_all(&[&g1, &g2]),
        ));
        assert!(s.run_one()); // first poll: both wakers stored

        let b = {
            let g1 = g1.clone();
            thread::spawn(move || {
                g1.open(Wake::ByRef);
            })
        };
        let c = {
            let g2 = g2.clone();
            thread::spawn(move || {
                g2.open(Wake::ByVal);
            })
        };
        s.run_all();
        b.join().unwrap();
        c.join().unwrap();

        s.run_all();
        assert!(
            jh.is_finished(),
            "a wake was lost: the task never ran again"
        );
        drop(block_on(jh).unwrap());
        g1.clear();
        g2.clear();
        d.check(&s);
    });
}

/// 1(v), rules 5 and 7: the owned list's shutdown pass on thread A while
/// thread B wakes the idle task. The wake's `Notified` (if it got one) finds
/// the task complete and is skipped; the future is dropped once, by the
/// shutdown pass.
#[test]
fn shutdown_vs_wake() {
    model(|| {
        let s = TestScheduler::new();
        let d = Drops::new();
        let gate = Gate::new();
        let jh = s.spawn(d.after(&gate));
        assert!(s.run_one()); // first poll: pending, waker stored

        let a = {
            let s = s.clone();
            thread::spawn(move || s.shutdown())
        };
        gate.open(Wake::ByVal);
        a.join().unwrap();

        assert_eq!(s.owned_len(), 0);
        // The queued `Notified`, if any, finds the task complete (rule 2).
        s.run_all();
        assert!(block_on(jh).unwrap_err().is_cancelled());
        gate.clear();
        d.check(&s);
    });
}

/// 1(v), rules 6 and 7: the shutdown pass on thread A while thread B aborts
/// the idle task. Exactly one of them cancels it; an abort's `Notified`
/// finds it complete.
#[test]
fn shutdown_vs_abort() {
    model(|| {
        let s = TestScheduler::new();
        let d = Drops::new();
        let gate = Gate::new();
        let jh = s.spawn(d.after(&gate));
        assert!(s.run_one());

        let a = {
            let s = s.clone();
            thread::spawn(move || s.shutdown())
        };
        jh.abort();
        a.join().unwrap();

        s.run_all();
        assert!(block_on(jh).unwrap_err().is_cancelled());
        gate.clear();
        d.check(&s);
    });
}

/// 1(v), rules 3 and 7: the shutdown pass on thread B while thread A polls
/// the task. A running task is only marked; its poller cancels it when the
/// poll returns (rule 3), and a task shutdown finds idle is cancelled by the
/// shutdown pass, its queued `Notified` skipped (rule 2).
#[test]
fn shutdown_vs_poll() {
    model(|| {
        let s = TestScheduler::new();
        let d = Drops::new();
        let gate = Gate::new();
        let jh = s.spawn(d.after(&gate));

        let a = {
            let s = s.clone();
            thread::spawn(move || assert!(s.run_one()))
        };
        s.shutdown();
        a.join().unwrap();

        assert_eq!(s.run_all(), 0);
        assert!(block_on(jh).unwrap_err().is_cancelled());
        gate.clear();
        d.check(&s);
    });
}
