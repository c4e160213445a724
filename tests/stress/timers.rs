//! A million cancelled timeouts (issue #13): every `timeout` whose inner
//! future wins removes its timer, so none is left registered, and the
//! resident memory stays flat between a warm-up and the end.
//!
//! Size: 1,000,000 timeouts in bounded mode (a few seconds on 2 cores in a
//! debug build); `WINDLASS_STRESS_SCALE` multiplies it. RSS is read from
//! `/proc/self/statm` after a warm-up of 100,000 and at the end, in a child
//! process of its own (`support::child::isolate`): the resident size is
//! the whole process's, and the other stress tests allocate too.

use std::time::Duration;

use crate::support::{child, multi, rss_bytes, stress_scale, watchdog_for};
use windlass::time::timeout;

/// Timeouts per task: tasks in flight at once, each running its share.
const TASKS: usize = 100;
/// Allowed RSS growth from the warm-up to the end. A leak of even 16 bytes
/// per timeout would be 16 MB over a million.
const RSS_SLACK: usize = 8 << 20;

#[test]
fn million_cancelled_timeouts_leave_no_timer_and_flat_rss() {
    if !child::isolate("timers::million_cancelled_timeouts_leave_no_timer_and_flat_rss") {
        return; // it ran in a child process of its own
    }
    watchdog_for(Duration::from_secs(50), || {
        let rt = multi(2);
        let total = 1_000_000 * stress_scale();
        let warm_up = 100_000;
        let run = |n: usize| {
            let per_task = n / TASKS;
            let tasks: Vec<_> = (0..TASKS)
                .map(|_| {
                    rt.spawn(async move {
                        let mut done = 0usize;
                        for i in 0..per_task {
                            // The inner future is ready at once: the timer is
                            // registered (first poll) and cancelled (drop).
                            let ready = async {
                                windlass::task::yield_now().await;
                                i
                            };
                            let got = timeout(Duration::from_secs(3600), ready).await;
                            assert_eq!(got.unwrap(), i);
                            done += 1;
                        }
                        done
                    })
                })
                .collect();
            let done: usize = rt
                .block_on(windlass::join_all(tasks))
                .into_iter()
                .map(Result::unwrap)
                .sum();
            assert_eq!(done, n);
            assert_eq!(
                rt.handle().num_timers(),
                0,
                "a cancelled timeout left its timer"
            );
        };
        run(warm_up);
        let warm = rss_bytes();
        run(total - warm_up);
        let end = rss_bytes();
        eprintln!(
            "stress_timers: {total} cancelled timeouts; RSS after warm-up {:.1} MiB, at end {:.1} MiB",
            warm as f64 / 1048576.0,
            end as f64 / 1048576.0
        );
        assert!(
            end <= warm + RSS_SLACK,
            "RSS grew from {warm} to {end} bytes over {total} cancelled timeouts"
        );
    });
}
