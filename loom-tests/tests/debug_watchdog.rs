//! Model of the debug-mode watchdog's poll slot (`runtime::debug::watchdog`,
//! rules 1-3): a worker publishes two polls in a row while the watchdog
//! reads the slot. Whatever it reads, the `since` it sees belongs to the
//! poll it saw or to a later one, so the time it computes from it is never
//! longer than that poll has lasted: a blocked-worker report is never early.
#![cfg(loom)]

use loom::sync::Arc;
use loom::thread;
use windlass::loom_test_hooks::PollSlot;
use windlass_loom_tests::model;

#[test]
fn watchdog_never_sees_an_older_start_than_the_poll_it_sees() {
    model(|| {
        let slot = Arc::new(PollSlot::default());
        let worker = {
            let slot = slot.clone();
            thread::spawn(move || {
                let a = slot.begin(1);
                slot.end();
                let b = slot.begin(2);
                slot.end();
                (a, b)
            })
        };
        let seen = slot.current();
        let (a, b) = worker.join().unwrap();
        assert!(a <= b);
        match seen {
            None => {}
            Some((1, since)) => assert!(since >= a, "since {since} older than poll 1's start {a}"),
            Some((2, since)) => assert_eq!(since, b),
            Some(other) => panic!("no such poll: {other:?}"),
        }
        assert_eq!(slot.current(), None);
    });
}
