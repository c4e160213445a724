//! `Command`: what to run and how, `std::process::Command`'s API.

use std::ffi::OsStr;
use std::fmt;
use std::io;
use std::path::Path;
use std::process::{ExitStatus, Output, Stdio};

use super::child::Child;
use super::{orphan, sigpipe};
use crate::runtime::Handle;

/// A program to run, with its arguments, environment, working directory
/// and standard streams: [`std::process::Command`] with an async
/// [`spawn`](Self::spawn), [`output`](Self::output) and
/// [`status`](Self::status). asyncio's `create_subprocess_exec`.
///
/// Options std has and this type does not repeat (user and group ids,
/// `pre_exec`, process groups...) are set through
/// [`as_std_mut`](Self::as_std_mut).
///
/// ```
/// use windlass::process::Command;
///
/// windlass::Runtime::new().unwrap().block_on(async {
///     let out = Command::new("sh")
///         .args(["-c", "echo $GREETING from $(pwd)"])
///         .env("GREETING", "hello")
///         .current_dir("/")
///         .output()
///         .await
///         .unwrap();
///     assert_eq!(out.stdout, b"hello from /\n");
/// });
/// ```
pub struct Command {
    /// Program, arguments, environment, directory and streams.
    std: std::process::Command,
    /// Kill the child when its [`Child`] is dropped before it was reaped.
    kill_on_drop: bool,
    /// Which streams were set by the caller ([`output`](Self::output)
    /// pipes only the others).
    set: [bool; 3],
    /// Use the SIGCHLD fallback even where pidfds exist (tests of rule 3).
    pub(super) force_sigchld: bool,
}

impl Command {
    /// A command that runs `program`, found through `PATH` unless it
    /// contains a `/`. By default the child inherits the environment, the
    /// working directory and the three standard streams.
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let status = windlass::process::Command::new("true").status().await.unwrap();
    /// assert!(status.success());
    /// # });
    /// ```
    pub fn new(program: impl AsRef<OsStr>) -> Command {
        Command::from(std::process::Command::new(program))
    }

    /// Adds one argument.
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let out = windlass::process::Command::new("echo").arg("a b").output().await.unwrap();
    /// assert_eq!(out.stdout, b"a b\n"); // one argument, spaces and all
    /// # });
    /// ```
    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut Command {
        self.std.arg(arg);
        self
    }

    /// Adds several arguments.
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let out = windlass::process::Command::new("echo").args(["a", "b"]).output().await.unwrap();
    /// assert_eq!(out.stdout, b"a b\n");
    /// # });
    /// ```
    pub fn args<I, S>(&mut self, args: I) -> &mut Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.std.args(args);
        self
    }

    /// Sets an environment variable for the child.
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let out = windlass::process::Command::new("sh").args(["-c", "echo $X"])
    ///     .env("X", "42").output().await.unwrap();
    /// assert_eq!(out.stdout, b"42\n");
    /// # });
    /// ```
    pub fn env(&mut self, key: impl AsRef<OsStr>, val: impl AsRef<OsStr>) -> &mut Command {
        self.std.env(key, val);
        self
    }

    /// Sets several environment variables.
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let out = windlass::process::Command::new("sh").args(["-c", "echo $A$B"])
    ///     .envs([("A", "1"), ("B", "2")]).output().await.unwrap();
    /// assert_eq!(out.stdout, b"12\n");
    /// # });
    /// ```
    pub fn envs<I, K, V>(&mut self, vars: I) -> &mut Command
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        self.std.envs(vars);
        self
    }

    /// Removes an environment variable from the child's environment.
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let out = windlass::process::Command::new("sh").args(["-c", "echo ${X-unset}"])
    ///     .env("X", "1").env_remove("X").output().await.unwrap();
    /// assert_eq!(out.stdout, b"unset\n");
    /// # });
    /// ```
    pub fn env_remove(&mut self, key: impl AsRef<OsStr>) -> &mut Command {
        self.std.env_remove(key);
        self
    }

    /// Starts the child with an empty environment (plus what
    /// [`env`](Self::env) adds afterwards).
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let out = windlass::process::Command::new("/usr/bin/env").env_clear().env("ONLY", "me")
    ///     .output().await.unwrap();
    /// assert_eq!(out.stdout, b"ONLY=me\n");
    /// # });
    /// ```
    pub fn env_clear(&mut self) -> &mut Command {
        self.std.env_clear();
        self
    }

    /// Sets the child's working directory.
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let out = windlass::process::Command::new("pwd").current_dir("/tmp").output().await.unwrap();
    /// assert_eq!(out.stdout, b"/tmp\n");
    /// # });
    /// ```
    pub fn current_dir(&mut self, dir: impl AsRef<Path>) -> &mut Command {
        self.std.current_dir(dir);
        self
    }

    /// The child's stdin: [`Stdio::piped`] for a [`ChildStdin`](super::ChildStdin)
    /// in [`Child::stdin`], `Stdio::null()`, `Stdio::inherit()` (the
    /// default), or any file or descriptor converted into a `Stdio`.
    ///
    /// ```
    /// use windlass::process::{Command, Stdio};
    ///
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let mut child = Command::new("cat").stdin(Stdio::piped()).spawn().unwrap();
    /// assert!(child.stdin.is_some() && child.stdout.is_none());
    /// child.wait().await.unwrap(); // closes stdin: cat ends
    /// # });
    /// ```
    pub fn stdin(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.set[0] = true;
        self.std.stdin(cfg);
        self
    }

    /// The child's stdout; see [`stdin`](Self::stdin).
    ///
    /// ```
    /// use windlass::process::{Command, Stdio};
    ///
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// // output() pipes stdout unless told otherwise: here it is discarded.
    /// let out = Command::new("echo").arg("lost").stdout(Stdio::null()).output().await.unwrap();
    /// assert!(out.stdout.is_empty());
    /// # });
    /// ```
    pub fn stdout(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.set[1] = true;
        self.std.stdout(cfg);
        self
    }

    /// The child's stderr; see [`stdin`](Self::stdin).
    ///
    /// ```
    /// use windlass::process::{Command, Stdio};
    ///
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let mut child = Command::new("true").stderr(Stdio::piped()).spawn().unwrap();
    /// assert!(child.stderr.is_some());
    /// # child.wait().await.unwrap();
    /// # });
    /// ```
    pub fn stderr(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.set[2] = true;
        self.std.stderr(cfg);
        self
    }

    /// Whether dropping the [`Child`] before it was reaped sends it
    /// SIGKILL (default: false, the process runs on; either way it is
    /// reaped when it exits). As in tokio.
    ///
    /// ```
    /// use windlass::process::Command;
    ///
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let child = Command::new("sleep").arg("60").kill_on_drop(true).spawn().unwrap();
    /// let pid = child.id();
    /// drop(child); // SIGKILL now; the runtime reaps it
    /// # let _ = pid;
    /// # });
    /// ```
    pub fn kill_on_drop(&mut self, kill: bool) -> &mut Command {
        self.kill_on_drop = kill;
        self
    }

    /// The std command inside, for the options this type does not repeat.
    ///
    /// ```
    /// use std::os::unix::process::CommandExt;
    ///
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let mut cmd = windlass::process::Command::new("sh");
    /// cmd.args(["-c", "echo $0"]).as_std_mut().arg0("renamed");
    /// assert_eq!(cmd.output().await.unwrap().stdout, b"renamed\n");
    /// # });
    /// ```
    pub fn as_std_mut(&mut self) -> &mut std::process::Command {
        &mut self.std
    }

    /// The std command inside.
    ///
    /// ```
    /// let mut cmd = windlass::process::Command::new("ls");
    /// cmd.arg("-l");
    /// assert_eq!(cmd.as_std().get_program(), "ls");
    /// assert_eq!(cmd.as_std().get_args().collect::<Vec<_>>(), ["-l"]);
    /// ```
    pub fn as_std(&self) -> &std::process::Command {
        &self.std
    }

    /// Starts the program. Must be called inside a windlass runtime, whose
    /// reactor then carries the child's pipes and exit.
    ///
    /// # Errors
    ///
    /// A program that does not exist is `NotFound`, one that may not be
    /// run `PermissionDenied`, as from std, here at spawn (never a panic).
    /// The message names the program, or the working directory when that
    /// is what does not exist (also `NotFound`); std's own error, with its
    /// OS code, is the error's [`source`](std::error::Error::source).
    /// Outside a runtime: an error that says how to enter one.
    ///
    /// ```
    /// use std::io::ErrorKind;
    /// use windlass::process::Command;
    ///
    /// windlass::Runtime::new().unwrap().block_on(async {
    ///     let err = Command::new("no-such-program-here").spawn().unwrap_err();
    ///     assert_eq!(err.kind(), ErrorKind::NotFound);
    ///     let mut child = Command::new("true").spawn().unwrap();
    ///     assert!(child.wait().await.unwrap().success());
    /// });
    /// ```
    pub fn spawn(&mut self) -> io::Result<Child> {
        let handle = Handle::try_current()
            .map_err(|e| io::Error::other(format!("windlass::process::Command::spawn: {e}")))?;
        // Rule 4: each spawn reaps the orphans whose runtime is gone.
        orphan::sweep();
        let std = self.std.spawn().map_err(|e| self.spawn_error(e))?;
        // Rule 5, before anything can be written to the pipe. Whether stdin
        // is piped is read from the child, not from `set`: a pipe asked for
        // through std (`Command::from`, `as_std_mut`) is as much a pipe.
        if std.stdin.is_some() {
            sigpipe::ensure_ignored();
        }
        Child::new(std, handle, self.kill_on_drop, self.force_sigchld)
    }

    /// `e`, from std's spawn, with what it was about. std reports a working
    /// directory that does not exist (the child's failed `chdir`) as the
    /// bare errno, which reads exactly like a missing program, and names
    /// neither. The kind is kept, and `e` (with its OS code) is the new
    /// error's `source()`.
    fn spawn_error(&self, e: io::Error) -> io::Error {
        let program = self.std.get_program();
        let what = match self.std.get_current_dir() {
            Some(dir) if !dir.is_dir() => format!(
                "the working directory {dir:?} (set by `current_dir`) is not a directory that exists"
            ),
            // The directory exists, but the failure may still be its
            // (a `chdir` refused): name both.
            Some(dir) => format!("cannot run {program:?} in the working directory {dir:?}"),
            None => format!("cannot run {program:?}"),
        };
        io::Error::new(e.kind(), SpawnError { what, source: e })
    }

    /// Runs the program to its end and collects its output: stdout and
    /// stderr are piped and read concurrently unless set otherwise, stdin
    /// is null unless set otherwise (std's rules for `output`). asyncio's
    /// `create_subprocess_exec(..., stdout=PIPE, stderr=PIPE)` followed by
    /// `communicate()`. A non-zero exit is not an error: look at `status`.
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let out = windlass::process::Command::new("ls").arg("/no/such/dir").output().await.unwrap();
    /// assert!(!out.status.success());
    /// assert!(!out.stderr.is_empty());
    /// # });
    /// ```
    pub async fn output(&mut self) -> io::Result<Output> {
        let defaults = [Stdio::null, Stdio::piped, Stdio::piped];
        let mut cmd = self.with_defaults(defaults);
        cmd.spawn()?.wait_with_output().await
    }

    /// Runs the program to its end and returns its exit status; the child
    /// inherits the three streams unless set otherwise.
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let status = windlass::process::Command::new("false").status().await.unwrap();
    /// assert_eq!(status.code(), Some(1));
    /// # });
    /// ```
    pub async fn status(&mut self) -> io::Result<ExitStatus> {
        self.spawn()?.wait().await
    }

    /// Applies `defaults` to the streams the caller did not set, for one
    /// run; the returned guard puts them back to inherit when dropped.
    fn with_defaults(&mut self, defaults: [fn() -> Stdio; 3]) -> OneRun<'_> {
        let fresh: [bool; 3] = std::array::from_fn(|i| !self.set[i]);
        set_streams(&mut self.std, fresh, defaults);
        OneRun { cmd: self, fresh }
    }
}

/// Sets the streams marked in `which` to `to`'s values.
fn set_streams(std: &mut std::process::Command, which: [bool; 3], to: [fn() -> Stdio; 3]) {
    if which[0] {
        std.stdin(to[0]());
    }
    if which[1] {
        std.stdout(to[1]());
    }
    if which[2] {
        std.stderr(to[2]());
    }
}

/// A [`Command`] with one run's default streams applied; dropping it puts
/// the streams the caller never set back to inherit, std's default.
/// A failed spawn: what it was about, and std's error.
#[derive(Debug)]
struct SpawnError {
    what: String,
    source: io::Error,
}

impl fmt::Display for SpawnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "windlass::process::Command::spawn: {}: {}",
            self.what, self.source
        )
    }
}

impl std::error::Error for SpawnError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

struct OneRun<'a> {
    cmd: &'a mut Command,
    fresh: [bool; 3],
}

impl OneRun<'_> {
    fn spawn(&mut self) -> io::Result<Child> {
        self.cmd.spawn()
    }
}

impl Drop for OneRun<'_> {
    fn drop(&mut self) {
        set_streams(&mut self.cmd.std, self.fresh, [Stdio::inherit; 3]);
    }
}

impl From<std::process::Command> for Command {
    /// Takes a std command as it is configured. [`output`](Command::output)
    /// pipes stdout and stderr unless they were set through `Command`.
    fn from(std: std::process::Command) -> Command {
        Command {
            std,
            kill_on_drop: false,
            set: [false; 3],
            force_sigchld: false,
        }
    }
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Command")
            .field("std", &self.std)
            .field("kill_on_drop", &self.kill_on_drop)
            .finish()
    }
}
