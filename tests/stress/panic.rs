//! A panic storm (issue #13): tens of thousands of tasks panicking, being
//! cancelled and completing at once, on both flavors, with exact
//! `JoinError` counts and every panic payload accounted for.
//!
//! Runs in a child process (`support::child`) with a silent panic hook, so
//! the storm does not print one message per panic into the test output;
//! a hang is then a failure at the deadline, too.
//!
//! Size: 60,000 tasks per flavor in bounded mode (about a second on 2
//! cores in a debug build); `WINDLASS_STRESS_SCALE` multiplies it.

use std::time::Duration;

use crate::support::{child, current, multi, panic_message, stress_scale};
use windlass::Runtime;

fn storm(rt: &Runtime, n: usize) {
    // Task i: panics if i % 3 == 0, waits forever (and is aborted) if
    // i % 3 == 1, returns i otherwise.
    let handles: Vec<_> = (0..n)
        .map(|i| {
            rt.spawn(async move {
                windlass::yield_now().await;
                match i % 3 {
                    0 => panic!("task {i}"),
                    1 => std::future::pending::<usize>().await,
                    _ => i,
                }
            })
        })
        .collect();
    for h in handles.iter().skip(1).step_by(3) {
        h.abort();
    }
    let (mut ok, mut cancelled) = (0usize, 0usize);
    let mut panicked = vec![false; n];
    for (i, h) in handles.into_iter().enumerate() {
        match rt.block_on(h) {
            Ok(v) => {
                assert_eq!(v, i);
                ok += 1;
            }
            Err(e) if e.is_cancelled() => {
                assert_eq!(i % 3, 1, "task {i} cancelled");
                cancelled += 1;
            }
            Err(e) => {
                let msg = panic_message(&*e.into_panic());
                assert_eq!(msg, format!("task {i}"));
                assert!(!std::mem::replace(&mut panicked[i], true));
            }
        }
    }
    let panics = panicked.iter().filter(|&&p| p).count();
    assert_eq!((panics, cancelled, ok), (n.div_ceil(3), (n + 1) / 3, n / 3));
    assert_eq!(rt.handle().num_alive_tasks(), 0);
    // The workers survived all of it.
    assert_eq!(rt.block_on(rt.spawn(async { 5 })).unwrap(), 5);
}

#[test]
fn panic_storm_exact_join_errors() {
    child::run(
        "panic::panic_storm_exact_join_errors",
        Duration::from_secs(50),
        || {
            std::panic::set_hook(Box::new(|_| {}));
            let n = 60_000 * stress_scale();
            storm(&multi(2), n);
            storm(&current(), n);
        },
    )
    .assert_passed();
}
