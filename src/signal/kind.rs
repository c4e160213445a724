//! `SignalKind`: which signal to listen for, and which ones may not be.

use std::fmt;
use std::io;

use signal_hook::consts as sig;

/// A signal to listen for with [`signal`](super::unix::signal).
///
/// The constructors name the signals programs usually handle; any other
/// number goes through [`from_raw`](Self::from_raw). Signals that cannot or
/// must not be handled (SIGKILL, SIGSTOP, SIGSEGV, SIGILL, SIGFPE, SIGBUS)
/// are refused when you listen, with an error saying why.
///
/// ```
/// use windlass::signal::unix::SignalKind;
///
/// assert_eq!(SignalKind::interrupt().as_raw(), 2); // SIGINT
/// assert_eq!(SignalKind::from_raw(15), SignalKind::terminate());
/// assert_eq!(SignalKind::hangup().to_string(), "SIGHUP");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SignalKind(i32);

impl SignalKind {
    /// SIGINT: Ctrl+C in a terminal.
    pub const fn interrupt() -> SignalKind {
        SignalKind(sig::SIGINT)
    }

    /// SIGTERM: a polite request to stop (`kill PID`, service managers).
    pub const fn terminate() -> SignalKind {
        SignalKind(sig::SIGTERM)
    }

    /// SIGHUP: the terminal went away; daemons use it for "reload".
    pub const fn hangup() -> SignalKind {
        SignalKind(sig::SIGHUP)
    }

    /// SIGQUIT: Ctrl+\ in a terminal.
    pub const fn quit() -> SignalKind {
        SignalKind(sig::SIGQUIT)
    }

    /// SIGUSR1: free for the application to define.
    pub const fn user_defined1() -> SignalKind {
        SignalKind(sig::SIGUSR1)
    }

    /// SIGUSR2: free for the application to define.
    pub const fn user_defined2() -> SignalKind {
        SignalKind(sig::SIGUSR2)
    }

    /// SIGALRM: a timer set with `alarm(2)` or `setitimer(2)` expired.
    pub const fn alarm() -> SignalKind {
        SignalKind(sig::SIGALRM)
    }

    /// SIGWINCH: the terminal window changed size.
    pub const fn window_change() -> SignalKind {
        SignalKind(sig::SIGWINCH)
    }

    /// SIGCHLD: a child process exited (or stopped, or continued).
    /// [`windlass::process`](crate::process) listens for it where the
    /// kernel has no pidfds; listening yourself does not disturb that.
    pub const fn child() -> SignalKind {
        SignalKind(sig::SIGCHLD)
    }

    /// Any signal by number. Whether it may be listened for is checked by
    /// [`signal`](super::unix::signal), not here.
    pub const fn from_raw(signum: i32) -> SignalKind {
        SignalKind(signum)
    }

    /// The signal's number.
    pub const fn as_raw(self) -> i32 {
        self.0
    }

    /// The conventional name, if it is one of the common signals.
    fn name(self) -> Option<&'static str> {
        const NAMES: &[(i32, &str)] = &[
            (sig::SIGHUP, "SIGHUP"),
            (sig::SIGINT, "SIGINT"),
            (sig::SIGQUIT, "SIGQUIT"),
            (sig::SIGILL, "SIGILL"),
            (sig::SIGTRAP, "SIGTRAP"),
            (sig::SIGABRT, "SIGABRT"),
            (sig::SIGBUS, "SIGBUS"),
            (sig::SIGFPE, "SIGFPE"),
            (sig::SIGKILL, "SIGKILL"),
            (sig::SIGUSR1, "SIGUSR1"),
            (sig::SIGSEGV, "SIGSEGV"),
            (sig::SIGUSR2, "SIGUSR2"),
            (sig::SIGPIPE, "SIGPIPE"),
            (sig::SIGALRM, "SIGALRM"),
            (sig::SIGTERM, "SIGTERM"),
            (sig::SIGCHLD, "SIGCHLD"),
            (sig::SIGCONT, "SIGCONT"),
            (sig::SIGSTOP, "SIGSTOP"),
            (sig::SIGTSTP, "SIGTSTP"),
            (sig::SIGWINCH, "SIGWINCH"),
        ];
        NAMES
            .iter()
            .find(|(n, _)| *n == self.0)
            .map(|(_, name)| *name)
    }

    /// Ok if a handler may be installed for this signal; otherwise an
    /// `InvalidInput` error that says why not.
    pub(super) fn check(self) -> io::Result<()> {
        let why = match self.0 {
            n if n <= 0 || n as usize >= super::hub::SLOTS => {
                "it is not a signal number (signals are numbered from 1 to 64 at most)"
            }
            sig::SIGKILL | sig::SIGSTOP => {
                "the kernel never lets a process catch it; it always takes effect"
            }
            sig::SIGSEGV | sig::SIGBUS | sig::SIGILL | sig::SIGFPE => {
                "it reports a fault in the program itself; a handler that returns \
                 re-runs the faulting instruction, so it cannot be awaited"
            }
            _ => return Ok(()),
        };
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("windlass::signal: cannot listen for {self}: {why}"),
        ))
    }
}

impl fmt::Display for SignalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "signal {}", self.0),
        }
    }
}
