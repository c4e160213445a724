//! Helpers for the `windlass::process` tests: reading `/proc` for zombies
//! and for processes that are gone, and waiting for a background fact.

use std::time::{Duration, Instant};

/// The pids of this process's children that are zombies (exited, not
/// reaped): `/proc/*/stat` entries with state `Z` and our pid as parent.
pub fn zombie_children() -> Vec<u32> {
    let me = std::process::id();
    let mut zombies = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("read /proc").flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        // A process may vanish between the listing and the read.
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        if let Some((state, ppid)) = state_and_parent(&stat) {
            if state == 'Z' && ppid == me {
                zombies.push(pid);
            }
        }
    }
    zombies
}

/// State and parent pid from a `/proc/PID/stat` line. The command name, in
/// parentheses, may hold spaces and parentheses itself: parse after the
/// last `)`.
fn state_and_parent(stat: &str) -> Option<(char, u32)> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    Some((state, ppid))
}

/// True once `/proc/PID` is gone: the process exited and was reaped.
pub fn is_gone(pid: u32) -> bool {
    !std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// Checks `done` until it holds or `limit` passes; true if it held. For
/// facts that another part of the system makes true in the background
/// (a reaper task), checked, not slept on: each miss waits 1 ms.
pub fn eventually(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    loop {
        if done() {
            return true;
        }
        if start.elapsed() > limit {
            return false;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}
