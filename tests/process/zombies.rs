//! No zombies: 1,000 short children, waited for, dropped unwaited, and
//! killed on drop, then `/proc` must show no zombie child of this process.
//! The test runs in a child process of its own
//! (`support::child::isolate`), so no other test's children are counted.

use std::time::Duration;

use crate::support::{child, eventually, is_gone, multi, watchdog, zombie_children};
use windlass::process::{Command, Stdio};

#[test]
fn a_thousand_children_leave_no_zombie() {
    if !child::isolate("zombies::a_thousand_children_leave_no_zombie") {
        return; // it ran in a child process of its own
    }
    scanner_sees_a_zombie();
    let rt = multi(2);
    let dropped = watchdog(move || {
        let dropped = rt.block_on(async {
            let mut dropped = Vec::new();
            for i in 0..1000 {
                let mut cmd = Command::new("true");
                cmd.stdout(Stdio::null());
                match i % 3 {
                    // Waited for.
                    0 => assert!(cmd.status().await.unwrap().success()),
                    // Dropped at once, possibly before it even ran.
                    1 => dropped.push(cmd.spawn().unwrap().id()),
                    // Dropped with kill_on_drop (killed, or exited already).
                    _ => dropped.push(cmd.kill_on_drop(true).spawn().unwrap().id()),
                }
            }
            dropped
        });
        // The reaper tasks run on the workers: keep the runtime alive
        // until every dropped child is gone.
        let all_gone = eventually(Duration::from_secs(30), || {
            dropped.iter().all(|&p| is_gone(p))
        });
        assert!(all_gone, "dropped children were not reaped");
        drop(rt);
        dropped
    });
    assert_eq!(dropped.len(), 666);
    let zombies = zombie_children();
    assert!(
        zombies.is_empty(),
        "zombie children of this process: {zombies:?}"
    );
}

/// The `/proc` scan must be able to fail: a std child that exited and was
/// not waited for is a zombie it reports, until it is waited for.
fn scanner_sees_a_zombie() {
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let pid = child.id();
    let seen = eventually(Duration::from_secs(10), || zombie_children().contains(&pid));
    assert!(seen, "the scan did not report the unreaped child {pid}");
    child.wait().unwrap();
    assert!(!zombie_children().contains(&pid));
}
