//! Running other programs: asyncio's `create_subprocess_exec`,
//! `Process.communicate()`, `wait()` and `kill()`.
//!
//! [`Command`] mirrors [`std::process::Command`]; [`Command::spawn`] gives a
//! [`Child`] whose pipes ([`ChildStdin`], [`ChildStdout`], [`ChildStderr`])
//! are registered with the runtime's reactor and implement the `futures-io`
//! traits, and whose exit is awaited without blocking a worker.
//! [`ExitStatus`] and [`Output`] are std's types.
//!
//! ```
//! use windlass::process::{Command, Stdio};
//!
//! windlass::Runtime::new().unwrap().block_on(async {
//!     // asyncio: proc = await create_subprocess_exec("tr", "a-z", "A-Z", stdin=PIPE, stdout=PIPE)
//!     //          out, err = await proc.communicate(b"hello")
//!     let child = Command::new("tr")
//!         .args(["a-z", "A-Z"])
//!         .stdin(Stdio::piped())
//!         .stdout(Stdio::piped())
//!         .spawn()
//!         .unwrap();
//!     let out = child.communicate(b"hello").await.unwrap();
//!     assert!(out.status.success());
//!     assert_eq!(out.stdout, b"HELLO");
//! });
//! ```
//!
//! `create_subprocess_shell(cmd)` is `Command::new("sh").arg("-c").arg(cmd)`.
//!
//! # The protocol
//!
//! **Who owns what.** A [`Child`] owns its process until the process is
//! *reaped* (its exit status collected with `waitpid`, which frees the
//! kernel's zombie entry). Inside the `Child`, an *exit watch* (`exit.rs`)
//! holds the `std::process::Child` and a way to learn that it exited:
//!
//! 1. **Nothing else reaps it.** windlass never calls `waitpid(-1)`; each
//!    exit watch reaps its own pid, and only that one. An unreaped child
//!    stays a zombie, which keeps its pid reserved: `pidfd_open` after the
//!    fork and [`Child::kill`] before the reap can never reach an unrelated
//!    process that reused the pid.
//! 2. **pidfd.** On Linux 5.3 and later the watch opens a pidfd for the
//!    child and registers it with the reactor. The pidfd becomes readable
//!    when the child exits. A wait first tries `waitpid(pid, WNOHANG)`; if
//!    the child still runs, it waits for the pidfd's next readiness event
//!    (the reactor's readiness protocol, `reactor/source.rs`). An exit after
//!    the try is an event after the try, so it wakes the waiter: none is lost.
//! 3. **SIGCHLD fallback.** Where `pidfd_open` fails with `ENOSYS` (older
//!    kernels), the watch holds a [`signal`](crate::signal) listener for
//!    SIGCHLD instead, made right after the spawn. A wait tries
//!    `waitpid(pid, WNOHANG)`, then waits for the listener's next delivery,
//!    and tries again. The listener counts every SIGCHLD after its creation,
//!    so an exit after the try is a delivery it has not reported yet: none
//!    is lost. Deliveries coalesce (one SIGCHLD may stand for several
//!    exits), which is harmless because every waiter re-checks its own pid.
//!    No thread is started, per child or otherwise; the cost is one
//!    descriptor and one reactor source per child being waited for.
//! 4. **Orphans.** A `Child` dropped before its process was reaped (never
//!    waited for, or [`kill_on_drop`](Command::kill_on_drop) killed it)
//!    hands its exit watch to a *reaper task* on the runtime it was spawned
//!    on: the watch waits as in 2 or 3 and reaps. If that runtime shuts down
//!    first, the reaper's drop puts the process on a process-wide *orphan
//!    list*, which every later [`Command::spawn`] sweeps with
//!    `waitpid(pid, WNOHANG)`. No zombie outlives the next spawn after its
//!    exit; one whose runtime is gone and after which nothing is spawned
//!    again lasts until this process exits (then `init` reaps it).
//! 5. **SIGPIPE.** Writing to a pipe whose reader exited raises SIGPIPE,
//!    whose default action kills the writer, and pipes cannot be written
//!    with `MSG_NOSIGNAL`. Rust binaries, test harnesses included, set
//!    SIGPIPE to "ignore" before `main`, so the write fails with
//!    `BrokenPipe` instead. For programs that do not (a C host loading a
//!    Rust library, `-Zon-broken-pipe=inherit`), the first spawn with a
//!    piped stdin (however it was asked for: `Command::stdin`, or through
//!    std before `Command::from` or with `as_std_mut`; the spawned child's
//!    pipe decides) sets SIGPIPE to "ignore", after the spawn and before
//!    anything is written, if it was at its default action; a handler
//!    someone else installed is left alone. The child gets the default
//!    action back (std resets it between fork and exec).

mod child;
mod command;
mod exit;
mod orphan;
mod pipe;
mod sigpipe;
// Not under Miri: its interpreter cannot spawn processes
// (`posix_spawn`), and this module's only unsafe code is the `sigaction`
// calls of `sigpipe.rs`, which Miri does not model either.
#[cfg(all(test, not(miri)))]
mod tests;

pub use child::Child;
pub use command::Command;
pub use pipe::{ChildStderr, ChildStdin, ChildStdout};
pub use std::process::{ExitStatus, Output, Stdio};
