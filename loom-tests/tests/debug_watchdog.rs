//! Model of the debug-mode watchdog's poll slot (`runtime::debug::watchdog`,
//! rules 1-3): a worker publishes two polls in a row (task `n` in poll
//! number `n`) while the watchdog reads the slot twice. A pair it reads
//! never puts a task beside the number of an older poll (rule 3: with the
//! `Release` store of rule 1 made `Relaxed`, the model finds task 2 beside
//! poll 1), and the numbers it reads never go back (rule 4 counts a poll's
//! time from the first look that saw its number).
#![cfg(loom)]

use loom::sync::Arc;
use loom::thread;
use windlass::loom_test_hooks::PollSlot;
use windlass_loom_tests::model;

#[test]
fn watchdog_never_pairs_a_task_with_an_older_poll() {
    model(|| {
        let slot = Arc::new(PollSlot::default());
        let worker = {
            let slot = slot.clone();
            thread::spawn(move || {
                slot.begin(1);
                slot.end();
                slot.begin(2);
                slot.end();
            })
        };
        let first = slot.current();
        let second = slot.current();
        for (task, seq) in [first, second].into_iter().flatten() {
            assert!(task == 1 || task == 2, "no such task: {task} (poll {seq})");
            assert!(seq >= task, "task {task} beside older poll {seq}");
        }
        if let (Some((_, a)), Some((_, b))) = (first, second) {
            assert!(a <= b, "poll numbers went back: {a} then {b}");
        }
        worker.join().unwrap();
        assert_eq!(slot.current(), None);
    });
}
