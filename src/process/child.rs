//! `Child`: a running (or exited) child process, its pipes and its exit.

use std::fmt;
use std::io;
use std::process::{ExitStatus, Output};

use futures_lite::future::try_zip;
use futures_lite::{AsyncRead, AsyncReadExt, AsyncWriteExt};

use super::exit::Exit;
use super::orphan;
use super::pipe::{ChildStderr, ChildStdin, ChildStdout};
use crate::runtime::Handle;

/// A child process started by [`Command::spawn`](super::Command::spawn):
/// asyncio's `Process`.
///
/// The pipes the [`Command`](super::Command) asked for with
/// [`Stdio::piped`](super::Stdio::piped) are in `stdin`, `stdout` and
/// `stderr`; take them out to use them on their own.
///
/// Dropping a `Child` does not stop the process (unless
/// [`kill_on_drop`](super::Command::kill_on_drop) was set), and never
/// leaves a zombie: the runtime reaps the process when it exits (rule 4 of
/// the [module docs](super)).
///
/// ```
/// use windlass::process::Command;
///
/// windlass::Runtime::new().unwrap().block_on(async {
///     let mut child = Command::new("sleep").arg("60").spawn().unwrap();
///     assert!(child.try_wait().unwrap().is_none()); // still running
///     child.kill().unwrap();
///     let status = child.wait().await.unwrap();
///     assert!(!status.success()); // killed by SIGKILL
/// });
/// ```
pub struct Child {
    /// The writing end of the child's stdin, if it was piped.
    pub stdin: Option<ChildStdin>,
    /// The reading end of the child's stdout, if it was piped.
    pub stdout: Option<ChildStdout>,
    /// The reading end of the child's stderr, if it was piped.
    pub stderr: Option<ChildStderr>,
    /// The process and its exit watch; `None` only during drop.
    exit: Option<Exit>,
    /// The runtime the child was spawned on, where its reaper task goes
    /// if it is dropped before it was reaped.
    handle: Handle,
    /// Send SIGKILL when dropped before it was reaped.
    kill_on_drop: bool,
}

impl Child {
    /// Wraps a just-spawned process; on error the process is killed and
    /// reaped in the background.
    pub(super) fn new(
        mut std: std::process::Child,
        handle: Handle,
        kill_on_drop: bool,
        force_sigchld: bool,
    ) -> io::Result<Child> {
        let (stdin, stdout, stderr) = (std.stdin.take(), std.stdout.take(), std.stderr.take());
        let exit = match Exit::new(std, force_sigchld) {
            Ok(exit) => exit,
            Err((mut std, e)) => {
                let _ = std.kill();
                orphan::push(std);
                return Err(e);
            }
        };
        let mut child = Child {
            stdin: None,
            stdout: None,
            stderr: None,
            exit: Some(exit),
            handle,
            // Until the pipes are set up: a failure kills the process.
            kill_on_drop: true,
        };
        child.stdin = stdin.map(ChildStdin::new).transpose()?;
        child.stdout = stdout.map(ChildStdout::new).transpose()?;
        child.stderr = stderr.map(ChildStderr::new).transpose()?;
        child.kill_on_drop = kill_on_drop;
        Ok(child)
    }

    fn exit(&mut self) -> &mut Exit {
        self.exit.as_mut().expect("present until drop")
    }

    /// The process id (it stays reserved for this process until it was
    /// reaped by [`wait`](Self::wait) or [`try_wait`](Self::try_wait)).
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let mut child = windlass::process::Command::new("true").spawn().unwrap();
    /// assert!(child.id() > 0 && child.id() != std::process::id());
    /// # child.wait().await.unwrap();
    /// # });
    /// ```
    pub fn id(&self) -> u32 {
        self.exit.as_ref().expect("present until drop").std.id()
    }

    /// Waits for the process to exit and returns its status, without
    /// blocking the worker: asyncio's `await proc.wait()`.
    ///
    /// Closes `stdin` first (if it is still here), so a child that reads
    /// until end-of-file does not wait for input forever. Output the child
    /// writes to pipes that nobody reads can fill them and stall it: use
    /// [`wait_with_output`](Self::wait_with_output) to read them meanwhile.
    /// Waiting again returns the same status.
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let mut child = windlass::process::Command::new("sh").args(["-c", "exit 3"]).spawn().unwrap();
    /// assert_eq!(child.wait().await.unwrap().code(), Some(3));
    /// assert_eq!(child.wait().await.unwrap().code(), Some(3));
    /// # });
    /// ```
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        drop(self.stdin.take());
        let exit = self.exit();
        std::future::poll_fn(|cx| exit.poll_exit(cx)).await
    }

    /// The status if the process exited (reaping it), `None` if it still
    /// runs. Never waits.
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let mut child = windlass::process::Command::new("sleep").arg("60").spawn().unwrap();
    /// assert!(child.try_wait().unwrap().is_none());
    /// child.kill().unwrap();
    /// child.wait().await.unwrap();
    /// assert!(child.try_wait().unwrap().is_some());
    /// # });
    /// ```
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        self.exit().try_wait()
    }

    /// Sends SIGKILL to the process at once and returns; the process is
    /// gone after its [`wait`](Self::wait). Killing a process that already
    /// exited is not an error. As in std and asyncio (`proc.kill()`).
    ///
    /// ```
    /// use std::os::unix::process::ExitStatusExt;
    ///
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let mut child = windlass::process::Command::new("sleep").arg("60").spawn().unwrap();
    /// child.kill().unwrap();
    /// assert_eq!(child.wait().await.unwrap().signal(), Some(9));
    /// child.kill().unwrap(); // already reaped: still Ok
    /// # });
    /// ```
    pub fn kill(&mut self) -> io::Result<()> {
        self.exit().std.kill()
    }

    /// Closes stdin, reads stdout and stderr to their ends while waiting
    /// for the exit, and returns all three: asyncio's
    /// `await proc.communicate()`. The pipes are read concurrently, so a
    /// child that writes much to both never stalls on a full pipe. Pipes
    /// that were not requested (or were taken out) give empty output.
    ///
    /// ```
    /// use windlass::process::{Command, Stdio};
    ///
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let child = Command::new("sh").args(["-c", "echo out; echo err >&2"])
    ///     .stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    /// let out = child.wait_with_output().await.unwrap();
    /// assert_eq!((&out.stdout[..], &out.stderr[..]), (&b"out\n"[..], &b"err\n"[..]));
    /// # });
    /// ```
    pub async fn wait_with_output(self) -> io::Result<Output> {
        self.communicate(&[]).await
    }

    /// Writes `input` to stdin and closes it, while reading stdout and
    /// stderr to their ends and waiting for the exit: asyncio's
    /// `await proc.communicate(input)`. All of it runs concurrently, so
    /// large input and large output cannot deadlock. A child that exits
    /// without reading all its input is not an error (the `BrokenPipe` is
    /// ignored, as asyncio does). Input given without a piped stdin is an
    /// `InvalidInput` error.
    ///
    /// ```
    /// use windlass::process::{Command, Stdio};
    ///
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let child = Command::new("cat").stdin(Stdio::piped()).stdout(Stdio::piped())
    ///     .spawn().unwrap();
    /// let big = vec![b'x'; 1 << 20]; // far more than a pipe holds
    /// let out = child.communicate(&big).await.unwrap();
    /// assert_eq!(out.stdout.len(), 1 << 20);
    /// # });
    /// ```
    pub async fn communicate(mut self, input: &[u8]) -> io::Result<Output> {
        let stdin = self.stdin.take();
        if stdin.is_none() && !input.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "windlass::process::Child::communicate: input given, but stdin is not piped; \
                 spawn with `.stdin(Stdio::piped())`",
            ));
        }
        let (stdout, stderr) = (self.stdout.take(), self.stderr.take());
        let io = try_zip(
            write_all(stdin, input),
            try_zip(read_all(stdout), read_all(stderr)),
        );
        let ((), (stdout, stderr)) = io.await?;
        let status = self.wait().await?;
        Ok(Output {
            status,
            stdout,
            stderr,
        })
    }
}

/// Writes `input` and closes the pipe; a child that went away early is
/// not an error.
async fn write_all(stdin: Option<ChildStdin>, input: &[u8]) -> io::Result<()> {
    let Some(mut stdin) = stdin else {
        return Ok(());
    };
    match stdin.write_all(input).await {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(e),
        _ => Ok(()),
    }
}

/// Reads `pipe` to its end; nothing if there is none.
async fn read_all(pipe: Option<impl AsyncRead + Unpin>) -> io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    if let Some(mut pipe) = pipe {
        pipe.read_to_end(&mut buf).await?;
    }
    Ok(buf)
}

impl Drop for Child {
    fn drop(&mut self) {
        let Some(mut exit) = self.exit.take() else {
            return;
        };
        if self.kill_on_drop {
            let _ = exit.std.kill();
        }
        orphan::adopt(exit, &self.handle);
    }
}

impl fmt::Debug for Child {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Child")
            .field("exit", &self.exit)
            .field("stdin", &self.stdin)
            .field("stdout", &self.stdout)
            .field("stderr", &self.stderr)
            .field("kill_on_drop", &self.kill_on_drop)
            .finish()
    }
}
