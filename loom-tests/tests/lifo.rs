//! Model of the stealable LIFO slot (`runtime::multi_thread::lifo`, rules
//! 1-3): the owner puts tasks into its slot (replacing the one there, which
//! goes back to its queue) while another worker rescues whatever is in the
//! slot. Every task must be run exactly once, by whoever took it, and no
//! reference may leak or be released twice.
#![cfg(loom)]

use loom::thread;
use windlass::loom_test_hooks::{LifoSlot, TestScheduler};
use windlass_loom_tests::{DropCounter, TaskBody, model};

#[test]
fn owner_puts_while_a_peer_rescues() {
    model(|| {
        let s = TestScheduler::new();
        let (futures, outputs) = (DropCounter::new(), DropCounter::new());
        let handles: Vec<_> = (0..2)
            .map(|_| s.spawn(TaskBody::ready(futures.token(), outputs.token())))
            .collect();
        let slot = loom::sync::Arc::new(LifoSlot::new());

        let thief = {
            let slot = slot.clone();
            thread::spawn(move || slot.take_and_run())
        };
        // The owner: both tasks through the slot, the second replacing the
        // first unless the thief took it already.
        assert!(s.put_into(&slot));
        assert!(s.put_into(&slot));
        thief.join().unwrap();

        // Whatever is left: in the slot, or back in the queue.
        slot.take_and_run();
        s.run_all();
        for h in handles {
            drop(loom::future::block_on(h).expect("every task ran to completion"));
        }
        assert_eq!(futures.get(), 2, "each future dropped exactly once");
        assert_eq!(outputs.get(), 2, "each output dropped exactly once");
        assert_eq!(s.owned_len(), 0);
        assert_eq!(s.live_tasks(), 0, "no reference leaked");
    });
}
