//! `windlass::process`: spawning, pipes, waiting, killing, bad input, on
//! both runtime flavors. The zombie count and the SIGPIPE default have
//! their own modules (each runs in a child process of its own); the SIGCHLD
//! fallback is tested inside the crate (`src/process/tests.rs`).

use std::io::ErrorKind;
use std::os::unix::process::ExitStatusExt;
use std::time::Duration;

use crate::support::{current, eventually, is_gone, multi, watchdog};
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use windlass::Runtime;
use windlass::process::{Child, Command, Stdio};

/// Runs `f` on a current-thread and on a multi-thread runtime, under the
/// watchdog (a lost exit notification hangs, and fails here instead).
fn both<F, Fut>(f: F)
where
    F: Fn() -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = ()>,
{
    let runtimes: [fn() -> Runtime; 2] = [|| current(), || multi(2)];
    for make in runtimes {
        let f = f.clone();
        watchdog(move || make().block_on(f()));
    }
}

#[test]
fn types_are_send_and_sync_where_expected() {
    fn send<T: Send>() {}
    fn sync<T: Sync>() {}
    send::<Command>();
    sync::<Command>();
    send::<Child>();
    sync::<Child>();
}

#[test]
fn missing_program_is_not_found_at_spawn() {
    both(|| async {
        let err = Command::new("/no/such/windlass-test-program")
            .spawn()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
        let err = Command::new("no-such-windlass-test-program")
            .output()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    });
}

#[test]
fn spawn_outside_a_runtime_names_the_fix() {
    let err = Command::new("true").spawn().unwrap_err();
    assert!(err.to_string().contains("Runtime::enter"), "{err}");
}

#[test]
fn exit_codes_and_signals_come_back() {
    both(|| async {
        let status = Command::new("sh")
            .args(["-c", "exit 7"])
            .status()
            .await
            .unwrap();
        assert_eq!(status.code(), Some(7));
        let mut child = Command::new("sleep").arg("60").spawn().unwrap();
        assert!(child.try_wait().unwrap().is_none());
        child.kill().unwrap();
        let status = child.wait().await.unwrap();
        assert_eq!(status.signal(), Some(9));
        assert_eq!(child.try_wait().unwrap(), Some(status));
        child.kill().unwrap(); // reaped already: not an error
    });
}

#[test]
fn large_output_on_both_pipes_does_not_deadlock() {
    both(|| async {
        // 4 MiB on each pipe, interleaved: a reader that drained only one
        // pipe at a time would stall the child on the other (64 KiB).
        let script = "for i in 1 2 3 4; do head -c 1048576 /dev/zero; \
                      head -c 1048576 /dev/zero >&2; done";
        let out = Command::new("sh")
            .args(["-c", script])
            .output()
            .await
            .unwrap();
        assert!(out.status.success());
        assert_eq!((out.stdout.len(), out.stderr.len()), (4 << 20, 4 << 20));
    });
}

#[test]
fn communicate_writes_and_reads_concurrently() {
    both(|| async {
        let input: Vec<u8> = (0..4u32 << 20).map(|i| i as u8).collect();
        let child = Command::new("cat")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let out = child.communicate(&input).await.unwrap();
        assert!(out.status.success());
        assert!(out.stdout == input, "cat gave back different bytes");
    });
}

#[test]
fn communicate_without_piped_stdin_is_invalid_input() {
    both(|| async {
        let child = Command::new("true").spawn().unwrap();
        let err = child.communicate(b"data").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.to_string().contains("Stdio::piped"), "{err}");
    });
}

#[test]
fn reading_a_pipe_after_exit_gives_the_rest_then_eof() {
    both(|| async {
        let mut child = Command::new("echo")
            .arg("last words")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        assert!(child.wait().await.unwrap().success());
        let mut stdout = child.stdout.take().unwrap();
        let mut text = String::new();
        stdout.read_to_string(&mut text).await.unwrap();
        assert_eq!(text, "last words\n");
        assert_eq!(stdout.read(&mut [0; 16]).await.unwrap(), 0, "EOF again");
    });
}

#[test]
fn writing_to_an_exited_child_is_broken_pipe() {
    both(|| async {
        let mut child = Command::new("true").stdin(Stdio::piped()).spawn().unwrap();
        let mut stdin = child.stdin.take().unwrap();
        assert!(child.wait().await.unwrap().success());
        let err = stdin.write_all(b"nobody reads this").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BrokenPipe);
        // Still alive (SIGPIPE did not kill us) and still working:
        assert!(Command::new("true").status().await.unwrap().success());
    });
}

#[test]
fn communicate_ignores_a_child_that_stops_reading() {
    both(|| async {
        let child = Command::new("head")
            .args(["-c", "1"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let out = child.communicate(&vec![b'y'; 8 << 20]).await.unwrap();
        assert_eq!(out.stdout, b"y");
    });
}

#[test]
fn wait_closes_stdin_so_a_reader_ends() {
    both(|| async {
        let mut child = Command::new("cat")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        assert!(child.stdin.is_some());
        assert!(child.wait().await.unwrap().success());
        assert!(child.stdin.is_none());
    });
}

#[test]
fn output_defaults_do_not_stick_to_the_command() {
    both(|| async {
        let mut cmd = Command::new("echo");
        cmd.arg("x");
        assert_eq!(cmd.output().await.unwrap().stdout, b"x\n");
        // After output(), spawn() inherits stdout again: no pipe.
        let mut child = cmd.stdin(Stdio::null()).spawn().unwrap();
        assert!(child.stdout.is_none());
        child.wait().await.unwrap();
    });
}

#[test]
fn many_children_at_once() {
    both(|| async {
        let tasks: Vec<_> = (0..64)
            .map(|i| {
                windlass::spawn(async move {
                    let out = Command::new("sh")
                        .args(["-c", &format!("echo {i}")])
                        .output()
                        .await
                        .unwrap();
                    String::from_utf8(out.stdout).unwrap()
                })
            })
            .collect();
        for (i, t) in tasks.into_iter().enumerate() {
            assert_eq!(t.await.unwrap(), format!("{i}\n"));
        }
    });
}

#[test]
fn kill_on_drop_kills_and_the_runtime_reaps() {
    both(|| async {
        let child = Command::new("sleep")
            .arg("60")
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let pid = child.id();
        drop(child);
        // Killed and reaped in the background by the reaper task, which
        // needs this runtime to run: yield while checking.
        let mut gone = false;
        for _ in 0..10_000 {
            if is_gone(pid) {
                gone = true;
                break;
            }
            windlass::time::sleep(Duration::from_millis(1)).await;
        }
        assert!(gone, "the killed child {pid} was not reaped");
    });
}

#[test]
fn dropped_child_keeps_running_without_kill_on_drop() {
    both(|| async {
        let (tx, rx) = std::os::unix::net::UnixStream::pair().unwrap();
        // `cat` copies the socket to itself: it runs until we close `tx`.
        let child = Command::new("cat")
            .stdin(std::os::fd::OwnedFd::from(rx))
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let pid = child.id();
        drop(child);
        assert!(!is_gone(pid), "the child must not be killed by the drop");
        drop(tx); // now cat sees EOF and exits; the reaper collects it
        let mut gone = false;
        for _ in 0..10_000 {
            if is_gone(pid) {
                gone = true;
                break;
            }
            windlass::time::sleep(Duration::from_millis(1)).await;
        }
        assert!(
            gone,
            "the dropped child {pid} was not reaped after it exited"
        );
    });
}

#[test]
fn env_and_current_dir_reach_the_child() {
    both(|| async {
        let dir = std::env::temp_dir();
        let out = Command::new("sh")
            .args(["-c", "printf '%s %s' \"$WINDLASS_T\" \"$(pwd -P)\""])
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("WINDLASS_T", "set")
            .current_dir(&dir)
            .output()
            .await
            .unwrap();
        let want = format!("set {}", dir.canonicalize().unwrap().display());
        assert_eq!(String::from_utf8(out.stdout).unwrap(), want);
    });
}

#[test]
fn reaper_outlives_nothing_eventually_helper_sanity() {
    // The helper used by the zombie test must report a miss as false.
    assert!(!eventually(Duration::from_millis(5), || false));
    assert!(eventually(Duration::from_millis(5), || true));
}

#[test]
fn a_missing_working_directory_is_named_in_the_spawn_error() {
    both(|| async {
        // The program exists; the directory does not. std reports the
        // child's failed chdir(2) as a bare ENOENT, which reads exactly
        // like "program not found" (the kind spawn documents for that).
        let err = Command::new("true")
            .current_dir("/no/such/windlass-test-dir")
            .spawn()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
        assert!(
            err.to_string().contains("/no/such/windlass-test-dir"),
            "the error does not say that the working directory is missing: {err}"
        );
        // std's error, with its OS code, is kept as the source.
        let source = std::error::Error::source(err.get_ref().expect("a wrapped error"))
            .and_then(|s| s.downcast_ref::<std::io::Error>())
            .expect("std's error as the source");
        assert_eq!(source.raw_os_error(), Some(libc::ENOENT));
        // With a working directory that exists, both are named: the failure
        // may be the program's or the directory's (a chdir refused).
        let err = Command::new("no-such-windlass-test-program")
            .current_dir("/")
            .spawn()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
        let msg = err.to_string();
        assert!(
            msg.contains("no-such-windlass-test-program")
                && msg.contains("working directory \"/\""),
            "{msg}"
        );
        // And a missing program is named (asyncio: "No such file or
        // directory: 'no-such-...'").
        let err = Command::new("no-such-windlass-test-program")
            .spawn()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
        assert!(
            err.to_string().contains("no-such-windlass-test-program"),
            "the error does not name the program: {err}"
        );
    });
}
