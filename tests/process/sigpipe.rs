//! Rule 5 of `windlass::process`: a program whose SIGPIPE is at its
//! default action (a C host, `-Zon-broken-pipe=inherit`) is not killed
//! when it writes to a child that exited. The test runs in a child process
//! of its own (`support::child::isolate`): it changes the process-wide
//! SIGPIPE disposition, which would kill its binary if another test wrote
//! to a closed pipe meanwhile.

use std::io::ErrorKind;

use crate::support::child;
use futures_lite::AsyncWriteExt;
use windlass::process::{Command, Stdio};

/// The current SIGPIPE disposition.
fn sigpipe_disposition() -> libc::sighandler_t {
    // SAFETY: a null new action only reads the current one into `old`,
    // a zeroed, valid `sigaction`.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        assert_eq!(
            libc::sigaction(libc::SIGPIPE, std::ptr::null(), &mut old),
            0
        );
        old.sa_sigaction
    }
}

#[test]
fn writing_to_an_exited_child_with_default_sigpipe_is_broken_pipe() {
    if !child::isolate("sigpipe::writing_to_an_exited_child_with_default_sigpipe_is_broken_pipe") {
        return; // it ran in a child process of its own
    }
    // The test harness, a Rust binary, ignores SIGPIPE: undo that, as a
    // host program that never did would have it.
    // SAFETY: SIG_DFL installs no handler code.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    assert_eq!(sigpipe_disposition(), libc::SIG_DFL);
    windlass::Runtime::new().unwrap().block_on(async {
        let mut child = Command::new("true").stdin(Stdio::piped()).spawn().unwrap();
        let mut stdin = child.stdin.take().unwrap();
        assert!(child.wait().await.unwrap().success());
        // Without rule 5 this write kills the test process.
        let err = stdin.write_all(b"into the void").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BrokenPipe);
    });
    assert_eq!(sigpipe_disposition(), libc::SIG_IGN);
}

/// Rule 5 again, with the pipe asked for through std (`Command::from` a
/// configured `std::process::Command`, or `as_std_mut`): it is as piped
/// as one asked for with `Command::stdin`, and `communicate` promises
/// that a child that stops reading is not an error.
#[test]
fn a_stdin_piped_through_std_with_default_sigpipe_is_not_killed() {
    if !child::isolate("sigpipe::a_stdin_piped_through_std_with_default_sigpipe_is_not_killed") {
        return; // it ran in a child process of its own
    }
    // SAFETY: SIG_DFL installs no handler code.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    windlass::Runtime::new().unwrap().block_on(async {
        let mut std_cmd = std::process::Command::new("true");
        std_cmd.stdin(Stdio::piped());
        let child = Command::from(std_cmd).spawn().unwrap();
        assert!(child.stdin.is_some());
        // `true` reads nothing: far more than a pipe holds cannot all go in.
        // Without rule 5 the write raises SIGPIPE and kills this process.
        let out = child.communicate(&vec![b'x'; 1 << 20]).await.unwrap();
        assert!(out.status.success());
    });
}
