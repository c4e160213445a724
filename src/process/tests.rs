//! Tests of the SIGCHLD fallback (rule 3), forced where pidfds exist, and
//! of the orphan list (rule 4), which need the crate's internals.

use std::time::{Duration, Instant};

use super::orphan;
use super::{Child, Command, Stdio};
use crate::runtime::Builder;

/// A command that uses the SIGCHLD fallback.
fn fallback(program: &str) -> Command {
    let mut cmd = Command::new(program);
    cmd.force_sigchld = true;
    cmd
}

fn uses_sigchld(child: &Child) -> bool {
    format!("{child:?}").contains("SIGCHLD")
}

/// True once `/proc/PID` is gone (exited and reaped), checked for up to 10 s.
fn gone_soon(pid: u32) -> bool {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        if is_gone(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    false
}

#[test]
fn fallback_waits_on_both_flavors() {
    let builders = [Builder::new_current_thread(), Builder::new_multi_thread()];
    for mut builder in builders {
        builder.build().unwrap().block_on(async {
            let mut child = fallback("sh").args(["-c", "exit 5"]).spawn().unwrap();
            assert!(uses_sigchld(&child), "{child:?}");
            assert_eq!(child.wait().await.unwrap().code(), Some(5));
            let out = fallback("echo").arg("via SIGCHLD").output().await.unwrap();
            assert_eq!(out.stdout, b"via SIGCHLD\n");
        });
    }
}

#[test]
fn fallback_with_many_children_exiting_together_loses_none() {
    // Coalesced SIGCHLDs: one delivery may stand for many exits.
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    rt.block_on(async {
        let waits: Vec<_> = (0..100)
            .map(|i| {
                crate::spawn(async move {
                    let mut cmd = fallback("sh");
                    let status = cmd.args(["-c", &format!("exit {}", i % 7)]).status();
                    status.await.unwrap().code()
                })
            })
            .collect();
        for (i, w) in waits.into_iter().enumerate() {
            assert_eq!(w.await.unwrap(), Some(i as i32 % 7));
        }
    });
}

#[test]
fn fallback_kill_and_dropped_children_are_reaped() {
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let pids = rt.block_on(async {
        let mut child = fallback("sleep").arg("60").spawn().unwrap();
        child.kill().unwrap();
        assert!(!child.wait().await.unwrap().success());
        (0..20)
            .map(|_| fallback("true").stdout(Stdio::null()).spawn().unwrap().id())
            .collect::<Vec<_>>()
    });
    for pid in pids {
        assert!(gone_soon(pid), "fallback orphan {pid} was not reaped");
    }
}

#[test]
fn orphans_of_a_shut_down_runtime_are_reaped_by_the_next_spawn() {
    let (tx, rx) = std::os::unix::net::UnixStream::pair().unwrap();
    let rt = Builder::new_current_thread().build().unwrap();
    let pid = rt.block_on(async {
        // Runs until `tx` closes.
        let child = Command::new("cat")
            .stdin(std::os::fd::OwnedFd::from(rx))
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        child.id()
    });
    // The reaper task is dropped unrun with the runtime: the process goes
    // to the orphan list.
    drop(rt);
    assert!(orphan::is_listed(pid), "not on the orphan list");
    drop(tx);
    // Now cat exits and stays a zombie until a spawn reaps it (another
    // test's spawn, running in parallel, may be the one)...
    let start = Instant::now();
    while !is_zombie(pid) && !is_gone(pid) {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "cat {pid} did not exit"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    // ...which the next spawn does, on any runtime.
    Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(async {
            Command::new("true").status().await.unwrap();
        });
    assert!(!orphan::is_listed(pid));
    assert!(is_gone(pid), "{pid} still there");
}

fn is_gone(pid: u32) -> bool {
    !std::path::Path::new(&format!("/proc/{pid}")).exists()
}

fn is_zombie(pid: u32) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    stat.rfind(')')
        .is_some_and(|i| stat[i + 1..].trim_start().starts_with('Z'))
}
