//! Models of `Handle::dump`'s read of task state (`runtime::dump`, rules
//! 1-3): a snapshot of the owned list taken while another thread polls,
//! completes and frees the task. The snapshot must only see a task that is
//! still in the list (so its header is alive), with a state and counters
//! that are each a value some moment of the task had; and one taken while
//! another thread spawns a task into the list. The last model adds rule 6
//! of `task::site`: the sampled-wake mark, a second writer of the word.
#![cfg(loom)]

use loom::thread;
use windlass::loom_test_hooks::TestScheduler;
use windlass::runtime::TaskState;
use windlass_loom_tests::{DropCounter, TaskBody, model};

/// A debug-mode task on `s` that waits on a closed gate: its join handle,
/// the gate, and the drop counters of its future and output.
fn spawn_gated_debug_task(
    s: &TestScheduler,
) -> (
    windlass::task::JoinHandle<windlass_loom_tests::Token>,
    loom::sync::Arc<windlass_loom_tests::Gate>,
    DropCounter,
    DropCounter,
) {
    let (future, output) = (DropCounter::new(), DropCounter::new());
    let gate = windlass_loom_tests::Gate::new();
    let body = TaskBody::after(
        future.token(),
        output.token(),
        windlass_loom_tests::Gate::wait(&gate),
    );
    (s.spawn_debug(body), gate, future, output)
}

/// The task's `JoinHandle` is dropped first, so the thread that completes
/// it also frees the cell while the snapshot may be walking the list.
#[test]
fn dump_vs_complete_and_free() {
    model(|| {
        let s = TestScheduler::new();
        let (future, output) = (DropCounter::new(), DropCounter::new());
        drop(s.spawn_debug(TaskBody::ready(future.token(), output.token())));
        let runner = s.clone();
        let t = thread::spawn(move || assert!(runner.run_one()));
        let snap = s.snapshot();
        assert!(snap.len() <= 1);
        if let Some(task) = snap.first() {
            // Queued, or being polled; a task leaves the list before it
            // publishes COMPLETE, so `Finished` is possible only in between.
            assert!(matches!(
                task.state(),
                TaskState::Scheduled | TaskState::Running { .. } | TaskState::Finished
            ));
            let polls = task.counters().expect("debug task has counters").polls;
            assert!(polls <= 1);
        }
        t.join().unwrap();
        assert!(s.snapshot().is_empty());
        assert_eq!((future.get(), output.get()), (1, 1));
        assert_eq!(s.live_tasks(), 0, "task cell freed");
    });
}

/// A task spawned (bound into the list) while a snapshot walks it: the
/// snapshot sees it fully linked and scheduled, or not at all.
#[test]
fn dump_vs_spawn() {
    model(|| {
        let s = TestScheduler::new();
        let (future, output) = (DropCounter::new(), DropCounter::new());
        let spawner = s.clone();
        let (f, o) = (future.token(), output.token());
        let t = thread::spawn(move || spawner.spawn_debug(TaskBody::ready(f, o)));
        let snap = s.snapshot();
        assert!(snap.len() <= 1);
        if let Some(task) = snap.first() {
            assert_eq!(task.state(), TaskState::Scheduled);
            assert_eq!(task.counters().unwrap().polls, 0);
        }
        let join = t.join().unwrap();
        s.run_all();
        drop(join);
        assert_eq!((future.get(), output.get()), (1, 1));
        assert_eq!(s.live_tasks(), 0);
    });
}

/// A debug-mode task gets its extras when its first poll returns `Pending`
/// (`task::site`, rules 4 and 5) while a snapshot reads its word: the
/// snapshot sees the bare location (zero counters) or the whole box (one
/// poll, with its end time), never a box half filled in.
#[test]
fn dump_vs_extras_attached_at_first_pending() {
    model(|| {
        let s = TestScheduler::new();
        let (join, gate, future, output) = spawn_gated_debug_task(&s);
        let runner = s.clone();
        let t = thread::spawn(move || assert!(runner.run_one()));
        let snap = s.snapshot();
        if let Some(task) = snap.first() {
            let c = task.counters().expect("debug task has counters");
            match c.polls {
                0 => assert!(c.since_last_poll.is_none()),
                1 => assert!(c.since_last_poll.is_some()),
                n => panic!("{n} polls"),
            }
        }
        t.join().unwrap();
        let c = s.snapshot()[0].counters().unwrap();
        assert_eq!(c.polls, 1, "the Pending poll is counted");
        gate.open(windlass_loom_tests::Wake::ByRef);
        s.run_all();
        drop(join);
        assert_eq!((future.get(), output.get()), (1, 1));
        assert_eq!(s.live_tasks(), 0);
    });
}

/// `task::site` rule 6 against rules 4 and 5: the first queueing, or
/// every one, marks the task's word (a sampled wake), the first poll
/// returns `Pending` and
/// attaches the extras box, a third thread opens the gate (a wake that may
/// come during the poll, so the poller queues the task itself), and a
/// snapshot reads the word meanwhile. No mark is lost or handed back
/// twice (each mark comes back with exactly one run: a run that did not
/// clear it would hand the spawn's mark back twice), the
/// attach keeps the mark it finds, and the snapshot sees the spawn site
/// whatever tag bits are set.
#[test]
fn sampled_wake_marks_vs_extras_attach_and_dump() {
    model(|| marks_vs_attach_and_dump(1));
    model(|| marks_vs_attach_and_dump(usize::MAX));
}

fn marks_vs_attach_and_dump(marking: usize) {
    let s = TestScheduler::marking_wakes(marking);
    let (join, gate, future, output) = spawn_gated_debug_task(&s);
    let site = s.snapshot()[0].spawned_at();
    let runner = s.clone();
    let t = thread::spawn(move || assert!(runner.run_one()));
    let opener = gate.clone();
    let o = thread::spawn(move || opener.open(windlass_loom_tests::Wake::ByRef));
    if let Some(task) = s.snapshot().first() {
        assert_eq!(task.spawned_at(), site);
        assert!(task.counters().expect("debug task").polls <= 1);
    }
    t.join().unwrap();
    o.join().unwrap();
    s.run_all();
    drop(join);
    // A poll that stored its waker just after the opener looked leaves
    // it in the gate, holding a reference: drop it.
    gate.clear();
    assert_eq!((future.get(), output.get()), (1, 1));
    let (marked, claimed) = s.marks();
    assert!(marked >= 1, "the spawn's queueing is marked");
    assert_eq!(marked, claimed, "every mark handed back once");
    assert_eq!(s.live_tasks(), 0);
}
