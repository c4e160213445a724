//! asyncio's debug mode, in windlass. The Python walkthrough:
//!
//! ```python
//! import asyncio, time
//!
//! async def blocker():
//!     time.sleep(0.3)            # blocks the event loop
//!
//! async def main():
//!     async with asyncio.TaskGroup() as crawl, asyncio.TaskGroup() as index:
//!         ...                    # python -m asyncio pstree PID shows the tree
//!     await asyncio.create_task(blocker(), name="blocker")
//!
//! asyncio.run(main(), debug=True)
//! # Executing <Task pending name='blocker' ...> took 0.300 seconds
//! ```
//!
//! Here debug mode is `Builder::debug(true)` (or `WINDLASS_DEBUG=1`):
//!
//! 1. A task named "blocker" calls `std::thread::sleep` inside a poll. The
//!    watchdog names it *while* it blocks its worker, and suggests
//!    `spawn_blocking`; when the poll returns, the slow poll is reported too.
//! 2. Two tasks each run a `TaskGroup` of waiting workers; `Handle::dump()`
//!    prints them as a tree, each group under the task that owns it.
//! 3. `Handle::metrics()` prints the workers' counters and the poll-time
//!    and schedule-latency histograms (always on, about one poll and one
//!    wake in 128 sampled, in debug mode or not).
//!
//! Run it with `cargo run --example debug_mode`. It checks its own claims.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use windlass::join::TaskGroup;
use windlass::runtime::{Builder, DebugEvent, Handle};
use windlass::sync::{Barrier, Event};
use windlass::task;

fn main() -> std::io::Result<()> {
    let events = Arc::new(Mutex::new(Vec::<DebugEvent>::new()));
    let (named_tx, named_rx) = mpsc::channel::<()>();
    let named_tx = Mutex::new(named_tx);
    let log = events.clone();
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .debug(true)
        .slow_poll_threshold(Duration::from_millis(100)) // asyncio's default
        .on_debug_event(move |event| {
            println!("debug event: {event}");
            if matches!(event, DebugEvent::BlockedWorker { .. }) {
                let _ = named_tx.lock().unwrap().send(());
            }
            log.lock().unwrap().push(event.clone());
        })
        .build()?;

    // 1. A task that blocks its worker.
    let blocker = task::Builder::new().name("blocker").spawn_on(
        async move {
            std::thread::sleep(Duration::from_millis(300)); // the mistake
            // Still the same poll: wait until the runtime has named us, so
            // the claim below does not depend on the machine's speed.
            named_rx.recv_timeout(Duration::from_secs(30)).is_ok()
        },
        rt.handle(),
    );
    let named_while_blocked = rt.block_on(blocker).expect("blocker");

    // 2. Two task groups, dumped as a tree.
    let tree = rt.block_on(async {
        let release = Arc::new(Event::new());
        let ready = Arc::new(Barrier::new(3));
        let owners: Vec<_> = [("crawler", 3), ("indexer", 2)]
            .into_iter()
            .map(|(name, workers)| {
                let (release, ready) = (release.clone(), ready.clone());
                task::Builder::new().name(name).spawn(async move {
                    let mut group = TaskGroup::<(), ()>::new();
                    for _ in 0..workers {
                        let release = release.clone();
                        group.spawn(async move {
                            release.wait().await;
                            Ok(())
                        });
                    }
                    ready.wait().await;
                    group.join().await.map(|done| done.len())
                })
            })
            .collect();
        ready.wait().await;
        let dump = Handle::current().dump();
        println!("\nHandle::dump():\n{dump}");
        let sizes: Vec<_> = owners
            .iter()
            .map(|o| dump.children(o.id()).count())
            .collect();
        release.set();
        let mut joined = Vec::new();
        for owner in owners {
            joined.push(owner.await.expect("owner").expect("group"));
        }
        (sizes, joined, dump.to_string())
    });

    // The claims.
    let events = events.lock().unwrap();
    let about_blocker = |e: &&DebugEvent| e.task().and_then(|t| t.name()) == Some("blocker");
    let blocked = events
        .iter()
        .filter(about_blocker)
        .filter(|e| matches!(e, DebugEvent::BlockedWorker { .. }))
        .count();
    let slow = events.iter().filter(about_blocker).find_map(|e| match e {
        DebugEvent::SlowPoll { took, .. } => Some(*took),
        _ => None,
    });
    assert!(
        named_while_blocked,
        "the blocker was named while it blocked"
    );
    assert_eq!(blocked, 1, "one blocked-worker report for the one poll");
    assert!(
        events
            .iter()
            .any(|e| e.to_string().contains("spawn_blocking")),
        "the report suggests spawn_blocking"
    );
    let slow = slow.expect("a slow-poll report for the blocker");
    assert!(
        slow >= Duration::from_millis(300),
        "slow poll took {slow:?}"
    );
    let (sizes, joined, text) = tree;
    assert_eq!(sizes, [3, 2], "each group's workers sit under its owner");
    assert_eq!(joined, [3, 2]);
    assert!(text.contains("├─ task 'crawler'") && text.contains("└─ task 'indexer'"));
    // 3. The runtime's metrics. The histograms are sampled (about one poll
    // and one wake in HISTOGRAM_SAMPLE_INTERVAL, each worker's first poll
    // and each thread's first wake included), so they are never empty.
    let metrics = rt.handle().metrics();
    println!("\nHandle::metrics():\n{metrics}");
    assert!(metrics.workers.iter().map(|w| w.polls).sum::<u64>() > 0);
    assert!(metrics.poll_duration.total() >= 1, "sampled poll durations");
    assert!(metrics.schedule_latency.total() >= 1, "sampled wakes");
    println!("all claims checked: OK");
    Ok(())
}
