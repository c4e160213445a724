//! The exit watch: a child process and the way to learn that it exited,
//! a pidfd on the reactor or a SIGCHLD listener (rules 1 to 3 of the
//! [module docs](super)).

use std::fmt;
use std::io;
use std::os::fd::OwnedFd;
use std::process::ExitStatus;
use std::task::{Context, Poll};

use crate::io::Async;
use crate::signal::unix::{Signal, SignalKind, signal};

/// One child process, until it is reaped, and its exit notification.
pub(super) struct Exit {
    /// The process; `try_wait` on it is `waitpid(pid, WNOHANG)`, and std
    /// keeps the status once it was collected.
    pub(super) std: std::process::Child,
    /// What wakes a waiter when the process exits.
    watch: Watch,
}

/// The two ways to learn of an exit.
enum Watch {
    /// Rule 2: the pidfd, readable once the child exited.
    Pidfd(Async<OwnedFd>),
    /// Rule 3: a listener for SIGCHLD, made right after the spawn.
    Sigchld(Signal),
}

impl Exit {
    /// Watches `std`, a child just spawned; needs a current runtime. With
    /// `force_sigchld` the fallback is used even where pidfds exist (the
    /// tests of rule 3 use it). On error the process is given back.
    pub(super) fn new(
        std: std::process::Child,
        force_sigchld: bool,
    ) -> Result<Exit, (std::process::Child, io::Error)> {
        let watch = match pidfd(&std, force_sigchld) {
            Ok(Some(fd)) => Async::new(fd).map(Watch::Pidfd),
            Ok(None) => signal(SignalKind::child()).map(Watch::Sigchld),
            Err(e) => Err(e),
        };
        match watch {
            Ok(watch) => Ok(Exit { std, watch }),
            Err(e) => Err((std, e)),
        }
    }

    /// The status if the process exited (reaping it), `None` if it runs.
    pub(super) fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        self.std.try_wait()
    }

    /// Waits for the exit and reaps: rules 2 and 3.
    pub(super) fn poll_exit(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<ExitStatus>> {
        let std = &mut self.std;
        match &mut self.watch {
            // Try the reap; "still running" counts as WouldBlock, so the
            // reactor keeps our waker for the pidfd's next event.
            Watch::Pidfd(fd) => fd.poll_read_with(cx, |_| {
                std.try_wait()?
                    .ok_or_else(|| io::ErrorKind::WouldBlock.into())
            }),
            Watch::Sigchld(listener) => loop {
                if let Some(status) = std.try_wait()? {
                    return Poll::Ready(Ok(status));
                }
                // A SIGCHLD since the listener last reported: try again.
                if std::task::ready!(listener.poll_recv(cx)).is_none() {
                    return Poll::Ready(Err(io::Error::other(
                        "windlass::process: the runtime this child was spawned on shut down \
                         while waiting for it",
                    )));
                }
            },
        }
    }
}

/// Opens a pidfd for `child`: `Ok(None)` where the kernel has none
/// (`ENOSYS`) or the fallback is forced.
fn pidfd(child: &std::process::Child, force_sigchld: bool) -> io::Result<Option<OwnedFd>> {
    if force_sigchld {
        return Ok(None);
    }
    let pid = rustix::process::Pid::from_raw(child.id() as i32)
        .expect("a spawned child's pid is positive");
    match rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty()) {
        Ok(fd) => Ok(Some(fd)),
        Err(rustix::io::Errno::NOSYS) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

impl fmt::Debug for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let watch = match self.watch {
            Watch::Pidfd(_) => "pidfd",
            Watch::Sigchld(_) => "SIGCHLD",
        };
        f.debug_struct("Exit")
            .field("pid", &self.std.id())
            .field("watch", &watch)
            .finish()
    }
}
