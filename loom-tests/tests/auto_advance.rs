//! Models of the auto-advance's idle test (`reactor::activity`, rules
//! 1-5) with the real `Activity`, `Presence` and `Parker`.
//!
//! Each model has a decider that runs the idle test once or waits for it,
//! and asserts what "idle" promises: every piece of work handed off before
//! has been done (a `done` flag its doer sets before giving up its unit).
#![cfg(loom)]

use loom::sync::Arc;
use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use loom::thread;
use windlass::loom_test_hooks::{Activity, Parker, Presence};
use windlass_loom_tests::{builder, check, model};

/// Rules 2 and 3 for a `block_on` thread: a waker (a busy worker holding a
/// unit) wakes the `block_on` future and then leaves, while the `block_on`
/// thread is parking. The decider never finds the runtime idle before the
/// woken future has been polled.
#[test]
fn block_on_wake_vs_park_vs_decider() {
    model(|| {
        let activity = Arc::new(Activity::new());
        let presence = Arc::new(Presence::entered(&activity));
        activity.enter(); // the waker's own unit
        let woken = Arc::new(AtomicBool::new(false));
        let polled = Arc::new(AtomicBool::new(false));
        let parker = Arc::new(Parker::new());

        let waker = {
            let (activity, presence, woken, parker) = (
                activity.clone(),
                presence.clone(),
                woken.clone(),
                parker.clone(),
            );
            thread::spawn(move || {
                woken.store(true, SeqCst);
                presence.wake(&activity);
                parker.unpark();
                activity.leave();
            })
        };
        let block_on = {
            let (activity, presence, woken, polled, parker) = (
                activity.clone(),
                presence.clone(),
                woken.clone(),
                polled.clone(),
                parker.clone(),
            );
            thread::spawn(move || {
                // The first poll returned Pending; wait for the wake.
                while !woken.load(SeqCst) {
                    if presence.before_park(&activity, || woken.load(SeqCst)) {
                        parker.park();
                        presence.after_park(&activity);
                    }
                }
                // The second poll completes.
                polled.store(true, SeqCst);
                presence.exit(&activity);
            })
        };
        if activity.is_idle() {
            assert!(
                polled.load(SeqCst),
                "jumped before the woken block_on polled"
            );
        }
        activity.stop_waiting();
        waker.join().unwrap();
        block_on.join().unwrap();
        assert_eq!(activity.units(), 0);
    });
}

/// `Presence`: a thread outside the count (no unit of its own: a plain
/// thread sending on a channel) wakes a `block_on` thread that has a
/// stale unpark token, so it may run again at any moment. The count never
/// drops below the units the presence believes it holds: the `block_on`
/// thread's later leaves (another park, its exit) find their unit in it
/// (`leave`'s debug assertion), and nothing is left over.
#[test]
fn block_on_woken_from_outside_the_count() {
    model(|| {
        let activity = Arc::new(Activity::new());
        let presence = Arc::new(Presence::entered(&activity));
        let woken = Arc::new(AtomicBool::new(false));
        let parker = Arc::new(Parker::new());
        // A token from an earlier wake: the first park returns at once.
        parker.unpark();

        let waker = {
            let (activity, presence, woken, parker) = (
                activity.clone(),
                presence.clone(),
                woken.clone(),
                parker.clone(),
            );
            thread::spawn(move || {
                woken.store(true, SeqCst);
                presence.wake(&activity);
                parker.unpark();
            })
        };
        while !woken.load(SeqCst) {
            if presence.before_park(&activity, || woken.load(SeqCst)) {
                parker.park();
                presence.after_park(&activity);
            }
        }
        presence.exit(&activity);
        waker.join().unwrap();
        assert_eq!(activity.units(), 0);
    });
}

/// Rule 7: a thread enters (a `block_on` starting, a blocking job from
/// outside) and reads the clock under the clock's lock, while the decider,
/// found idle by its test, re-checks under that lock and jumps. The jump
/// never lands while that thread holds its unit after a read of the clock
/// from before the jump (its timers would be measured from the old time
/// and skipped). Checked by mutation: jumping without the re-check fails.
#[test]
fn jump_vs_enter_and_clock_read() {
    model(|| {
        let activity = Arc::new(Activity::new());
        // The clock's lock, over (jumped, a unit holder read the old time).
        let clock = Arc::new(loom::sync::Mutex::new((false, false)));
        let enterer = {
            let (activity, clock) = (activity.clone(), clock.clone());
            thread::spawn(move || {
                activity.enter();
                {
                    let mut c = clock.lock().unwrap();
                    c.1 = !c.0; // read the time: from before the jump?
                }
                // ... registers a timer, runs ...
                clock.lock().unwrap().1 = false;
                activity.leave();
            })
        };
        if let Some(word) = activity.idle_word() {
            // The look at I/O would come here.
            let mut c = clock.lock().unwrap();
            if activity.still_idle(word) {
                assert!(!c.1, "jumped while a thread held a unit and the old time");
                c.0 = true;
            }
        }
        activity.stop_waiting();
        enterer.join().unwrap();
        assert_eq!(activity.units(), 0);
    });
}

/// Rules 3 and 4 for a visible queue: a busy worker pushes a task and
/// leaves; a sleeping worker wakes, enters, pops and runs it, and leaves.
/// The epoch catches the pop that falls between the decider's two reads.
#[test]
fn queue_handoff_vs_decider() {
    model(|| {
        let activity = Arc::new(Activity::new());
        let queued = Arc::new(AtomicUsize::new(0));
        let ran = Arc::new(AtomicBool::new(false));
        {
            let queued = queued.clone();
            activity.set_queued_hook(move || queued.load(SeqCst) != 0);
        }
        activity.enter(); // the pusher's unit
        let parker = Arc::new(Parker::new());

        let pusher = {
            let (activity, queued, parker) = (activity.clone(), queued.clone(), parker.clone());
            thread::spawn(move || {
                queued.fetch_add(1, SeqCst);
                parker.unpark(); // notify the sleeping worker
                activity.leave();
            })
        };
        let sleeper = {
            let (activity, queued, ran, parker) = (
                activity.clone(),
                queued.clone(),
                ran.clone(),
                parker.clone(),
            );
            thread::spawn(move || {
                parker.park();
                activity.enter();
                if queued.load(SeqCst) != 0 {
                    queued.fetch_sub(1, SeqCst);
                    ran.store(true, SeqCst);
                }
                activity.leave();
            })
        };
        if activity.is_idle() {
            assert!(ran.load(SeqCst), "jumped with a task queued or running");
        }
        activity.stop_waiting();
        pusher.join().unwrap();
        sleeper.join().unwrap();
        assert_eq!(activity.units(), 0);
    });
}

/// Rule 4's epoch: a chain of hand-offs through the queue. A woken
/// worker pops the first task and its run pushes a second one for another
/// worker, all between the decider's two reads of the word. Without the
/// epoch the two reads could both see a count of zero, with the second
/// task pushed after the decider looked at the queue. That interleaving
/// needs three preemptions (checked: comparing counts only fails here), so
/// this model runs with a bound of at least 3.
#[test]
fn queue_chain_vs_decider() {
    let mut builder = builder();
    builder.preemption_bound = Some(builder.preemption_bound.unwrap_or(3).max(3));
    check(builder, || {
        let activity = Arc::new(Activity::new());
        let queued = Arc::new(AtomicUsize::new(1)); // the first task
        let ran_second = Arc::new(AtomicBool::new(false));
        {
            let queued = queued.clone();
            activity.set_queued_hook(move || queued.load(SeqCst) != 0);
        }
        let first = Arc::new(Parker::new());
        let second = Arc::new(Parker::new());
        let one = {
            let (activity, queued, first, second) = (
                activity.clone(),
                queued.clone(),
                first.clone(),
                second.clone(),
            );
            thread::spawn(move || {
                first.park();
                activity.enter();
                queued.fetch_sub(1, SeqCst); // pop the first task
                queued.fetch_add(1, SeqCst); // its run pushes the second
                second.unpark();
                activity.leave();
            })
        };
        let two = {
            let (activity, queued, ran_second, second) = (
                activity.clone(),
                queued.clone(),
                ran_second.clone(),
                second.clone(),
            );
            thread::spawn(move || {
                second.park();
                activity.enter();
                queued.fetch_sub(1, SeqCst);
                ran_second.store(true, SeqCst);
                activity.leave();
            })
        };
        // The pusher of the first task (outside the model's count, like
        // the decider's own turn wake) notifies the first worker.
        first.unpark();
        if activity.is_idle() {
            assert!(
                ran_second.load(SeqCst),
                "jumped with the second task pending"
            );
        }
        activity.stop_waiting();
        one.join().unwrap();
        two.join().unwrap();
        assert_eq!(activity.units(), 0);
    });
}

/// Rule 5: a decider that found the runtime busy waits, and the leave that
/// drops the count to zero wakes it (no lost wake-up: loom reports a
/// deadlock if the decider sleeps forever).
#[test]
fn last_leave_wakes_the_waiting_decider() {
    model(|| {
        let activity = Arc::new(Activity::new());
        let decider = Arc::new(Parker::new());
        {
            let decider = decider.clone();
            activity.set_wake_hook(move || decider.unpark());
        }
        activity.enter();
        activity.enter();
        let workers: Vec<_> = (0..2)
            .map(|_| {
                let activity = activity.clone();
                thread::spawn(move || activity.leave())
            })
            .collect();
        while !activity.is_idle() {
            decider.park();
            activity.stop_waiting();
        }
        assert_eq!(activity.units(), 0);
        for w in workers {
            w.join().unwrap();
        }
    });
}

/// Rule 6: debug mode's watchdog sleeps as the activity's watcher while no
/// unit is held, and a worker waking (an enter) races its registration.
/// A watcher that decided
/// to sleep is always kicked by an enter that follows (a lost kick leaves
/// it parked for good, which loom reports as a deadlock), and it never
/// sleeps while the worker's unit is held.
#[test]
fn watcher_sleep_vs_first_enter() {
    model(|| {
        let activity = Arc::new(Activity::new());
        let parker = Arc::new(Parker::new());
        let kicks = Arc::new(AtomicUsize::new(0));
        {
            let (parker, kicks) = (parker.clone(), kicks.clone());
            activity.set_watcher_hook(move || {
                kicks.fetch_add(1, SeqCst);
                parker.unpark();
            });
        }
        let entered = Arc::new(AtomicBool::new(false));
        let worker = {
            let (activity, entered) = (activity.clone(), entered.clone());
            thread::spawn(move || {
                activity.enter();
                entered.store(true, SeqCst);
            })
        };
        if activity.watch_idle() {
            // Asleep: only a kick may end it.
            while kicks.load(SeqCst) == 0 {
                parker.park();
            }
            activity.stop_watching();
        } else {
            assert!(entered.load(SeqCst) || activity.units() > 0);
        }
        worker.join().unwrap();
        assert_eq!(activity.units(), 1);
    });
}
