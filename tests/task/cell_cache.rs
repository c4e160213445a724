//! Task cells go back to the next spawn (`task/cell_cache.rs`): a thread
//! outside the runtime spawns into cells the workers freed, without
//! calling the global allocator for them; `WINDLASS_TASK_CELL_CACHE=0`
//! turns that off.

use std::sync::mpsc;

use crate::support::{alloc_count, multi, watchdog};

/// Tasks spawned, and freed on the workers, before the count.
const WARM_UP: usize = 2_000;
/// Spawns counted. Well under what the warm-up leaves in the depot (its
/// bound is 64 KiB of cells of a class, over 500 of these).
const COUNTED: u64 = 200;

/// Spawns `WARM_UP` detached tasks from this thread and waits until each
/// has run, so that the workers free their cells; then spawns `COUNTED`
/// more of the same type and returns the allocations this thread made for
/// them.
fn allocations_for_remote_spawns() -> u64 {
    let rt = multi(2);
    let (tx, rx) = mpsc::channel::<()>();
    let spawn = |tx: &mpsc::Sender<()>| {
        let tx = tx.clone();
        // The handle is dropped here: the worker that completes the task
        // releases its last reference and frees the cell.
        drop(rt.spawn(async move {
            let _ = tx.send(());
        }));
    };
    for _ in 0..WARM_UP {
        spawn(&tx);
    }
    for _ in 0..WARM_UP {
        rx.recv().expect("a warm-up task ran");
    }
    let before = alloc_count::made_here();
    for _ in 0..COUNTED {
        spawn(&tx);
    }
    let made = alloc_count::made_here() - before;
    for _ in 0..COUNTED {
        rx.recv().expect("a counted task ran");
    }
    made
}

/// A cell per spawn would be `COUNTED` allocations. What is left is the
/// injector's blocks (one per 63 remote spawns) and the depot's hand-over
/// (none: it moves addresses into a stack allocated once).
#[test]
fn a_remote_spawner_reuses_the_cells_workers_freed() {
    if std::env::var_os("WINDLASS_TASK_CELL_CACHE").is_some() {
        return; // `off_switch_child`'s process, or a user's setting
    }
    let made = watchdog(allocations_for_remote_spawns);
    assert!(
        made < COUNTED / 10,
        "{made} allocations for {COUNTED} spawns from outside the runtime: \
         the cells the workers freed did not come back"
    );
}

/// Runs in a child process, with `WINDLASS_TASK_CELL_CACHE=0`: prints the
/// allocations for the counted spawns.
#[test]
fn off_switch_child() {
    if std::env::var_os("WINDLASS_TASK_CELL_CACHE_TEST_CHILD").is_none() {
        return;
    }
    println!("allocations: {}", allocations_for_remote_spawns());
}

#[test]
fn the_off_switch_sends_every_cell_to_the_allocator() {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "cell_cache::off_switch_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("WINDLASS_TASK_CELL_CACHE_TEST_CHILD", "1")
        .env("WINDLASS_TASK_CELL_CACHE", "0")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    // The harness prints "test <name> ... " on the same line first.
    let made: u64 = stdout
        .split("allocations: ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count in {stdout:?}"));
    assert!(
        made >= COUNTED,
        "{made} allocations for {COUNTED} spawns with the cache off"
    );
}
