//! An accept loop that survives its errors: [`AcceptBackoff`].
//!
//! `accept` fails for two kinds of reasons that a server must tell apart:
//!
//! - **Resource errors** (`EMFILE`, `ENFILE`, `ENOBUFS`, `ENOMEM`): the
//!   process or the system is out of descriptors or memory. The pending
//!   connection stays in the backlog and the listener stays readable, so
//!   retrying at once spins at 100% CPU (and prints an error per spin);
//!   giving up kills the server. The right answer is to wait briefly,
//!   longer each time in a row, and retry: connections are served again as
//!   soon as something is freed.
//! - **Connection errors** (`ECONNABORTED`, `ECONNRESET`, `EPROTO`, `EPERM`
//!   and the network errors Linux passes on from the new socket): that one
//!   connection died before it was accepted. Skip it and accept the next.
//!
//! Anything else (`EBADF`, `EINVAL`, a listener after its runtime shut
//! down) is returned: retrying cannot help.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use rustix::io::Errno;

use super::TcpListener;
use super::TcpStream;

/// True for an `accept` error that means "out of descriptors or memory":
/// back off and retry (see [`AcceptBackoff`]).
///
/// ```
/// use std::io::Error;
/// use windlass::net::{is_connection_error, is_resource_error};
///
/// let emfile = Error::from_raw_os_error(24); // EMFILE on Linux
/// assert!(is_resource_error(&emfile) && !is_connection_error(&emfile));
/// ```
pub fn is_resource_error(e: &io::Error) -> bool {
    let resource = [Errno::MFILE, Errno::NFILE, Errno::NOBUFS, Errno::NOMEM];
    e.raw_os_error()
        .is_some_and(|code| resource.iter().any(|r| r.raw_os_error() == code))
}

/// True for an `accept` error that concerns only the connection being
/// accepted: skip it and accept the next (see [`AcceptBackoff`]).
///
/// ```
/// use std::io::{Error, ErrorKind};
///
/// let aborted = Error::from(ErrorKind::ConnectionAborted);
/// assert!(windlass::net::is_connection_error(&aborted));
/// ```
pub fn is_connection_error(e: &io::Error) -> bool {
    use io::ErrorKind::*;
    if matches!(e.kind(), ConnectionAborted | ConnectionReset | Interrupted) {
        return true;
    }
    // accept(2) on Linux: errors already pending on the new socket are
    // reported by accept itself, and are the connection's, not ours.
    let per_connection = [
        Errno::CONNABORTED,
        Errno::CONNRESET,
        Errno::PROTO,
        Errno::PERM,
        Errno::NETDOWN,
        Errno::NOPROTOOPT,
        Errno::HOSTDOWN,
        Errno::NONET,
        Errno::HOSTUNREACH,
        Errno::OPNOTSUPP,
        Errno::NETUNREACH,
    ];
    e.raw_os_error()
        .is_some_and(|code| per_connection.iter().any(|c| c.raw_os_error() == code))
}

/// Accepts connections the way a long-running server should: backs off on
/// resource errors, skips per-connection errors, and returns only the
/// errors a retry cannot fix.
///
/// Resource errors (`EMFILE`, `ENFILE`, `ENOBUFS`, `ENOMEM`) mean the
/// process is out of descriptors or memory: the connection stays in the
/// backlog and the listener stays readable, so retrying at once spins at
/// 100% CPU, and giving up kills the server. Per-connection errors
/// (`ECONNABORTED`, `ECONNRESET`, `EPROTO`, `EPERM` and the network errors
/// Linux's `accept` passes on from the new socket) concern one connection
/// that died before it was accepted. Anything else (`EBADF`, `EINVAL`, a
/// listener whose runtime shut down) is returned.
///
/// The wait after a resource error starts at `min` and doubles with each
/// one in a row, up to `max` (defaults 10 ms and 1 s); a successful accept
/// resets it. The counters say what it went through, for logs or metrics
/// (print one line per backoff, not one per failed call).
///
/// ```
/// use futures_lite::{AsyncReadExt, AsyncWriteExt};
/// use windlass::net::{AcceptBackoff, TcpListener, TcpStream};
///
/// windlass::Runtime::new().unwrap().block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let addr = listener.local_addr().unwrap();
///     let server = windlass::spawn(async move {
///         let mut backoff = AcceptBackoff::new();
///         // An accept loop that survives EMFILE and aborted connections.
///         loop {
///             let (mut conn, _) = match backoff.accept(&listener).await {
///                 Ok(accepted) => accepted,
///                 Err(e) => return Err(e), // the listener itself is broken
///             };
///             windlass::spawn(async move {
///                 let _ = conn.write_all(b"hello\n").await;
///             });
///         }
///         #[allow(unreachable_code)]
///         Ok::<(), std::io::Error>(())
///     });
///     let mut conn = TcpStream::connect(addr).await.unwrap();
///     let mut line = String::new();
///     conn.read_to_string(&mut line).await.unwrap();
///     assert_eq!(line, "hello\n");
///     server.abort();
/// });
/// ```
#[derive(Debug, Clone)]
pub struct AcceptBackoff {
    /// First wait after a resource error.
    min: Duration,
    /// Longest wait.
    max: Duration,
    /// The next wait; `min` after a success.
    next: Duration,
    /// Resource errors seen (each one waited once).
    resource_errors: u64,
    /// Per-connection errors skipped.
    connection_errors: u64,
}

impl Default for AcceptBackoff {
    fn default() -> Self {
        AcceptBackoff::new()
    }
}

impl AcceptBackoff {
    /// Waits from 10 ms up to 1 s after resource errors.
    ///
    /// ```
    /// let b = windlass::net::AcceptBackoff::new();
    /// assert_eq!(b.resource_errors(), 0);
    /// ```
    pub fn new() -> AcceptBackoff {
        AcceptBackoff::with_limits(Duration::from_millis(10), Duration::from_secs(1))
    }

    /// Waits from `min` up to `max` after resource errors. Panics if `min`
    /// is zero (that would be the busy retry this type exists to avoid) or
    /// larger than `max`.
    ///
    /// ```
    /// use std::time::Duration;
    /// let b = windlass::net::AcceptBackoff::with_limits(Duration::from_millis(1), Duration::from_millis(50));
    /// assert_eq!(b.connection_errors(), 0);
    /// ```
    #[track_caller]
    pub fn with_limits(min: Duration, max: Duration) -> AcceptBackoff {
        assert!(
            !min.is_zero() && min <= max,
            "AcceptBackoff::with_limits: need 0 < min <= max (got {min:?}, {max:?}); a zero wait is a busy retry"
        );
        AcceptBackoff {
            min,
            max,
            next: min,
            resource_errors: 0,
            connection_errors: 0,
        }
    }

    /// Accepts the next connection on `listener` (see the type's docs).
    pub async fn accept(&mut self, listener: &TcpListener) -> io::Result<(TcpStream, SocketAddr)> {
        self.accept_with(|| listener.accept()).await
    }

    /// The same loop around any accept call, e.g. a
    /// [`UnixListener`](super::UnixListener)'s.
    ///
    /// ```
    /// use windlass::net::{AcceptBackoff, UnixListener, UnixStream};
    ///
    /// windlass::Runtime::new().unwrap().block_on(async {
    ///     let dir = std::env::temp_dir().join(format!("windlass-backoff-{}", std::process::id()));
    ///     let _ = std::fs::remove_file(&dir);
    ///     let listener = UnixListener::bind(&dir).unwrap();
    ///     let _client = UnixStream::connect(&dir).await.unwrap();
    ///     let mut backoff = AcceptBackoff::new();
    ///     let accepted = backoff.accept_with(|| listener.accept()).await;
    ///     assert!(accepted.is_ok());
    ///     std::fs::remove_file(&dir).unwrap();
    /// });
    /// ```
    pub async fn accept_with<T, F, Fut>(&mut self, mut accept: F) -> io::Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = io::Result<T>>,
    {
        loop {
            match accept().await {
                Ok(accepted) => {
                    self.next = self.min;
                    return Ok(accepted);
                }
                Err(e) if is_connection_error(&e) => self.connection_errors += 1,
                Err(e) if is_resource_error(&e) => {
                    crate::time::sleep(self.on_resource_error()).await
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Counts a resource error and returns how long to wait for it; the
    /// next one waits twice as long, up to `max`.
    fn on_resource_error(&mut self) -> Duration {
        self.resource_errors += 1;
        let wait = self.next;
        self.next = (self.next * 2).min(self.max);
        wait
    }

    /// Resource errors met so far (each was followed by one wait).
    ///
    /// ```
    /// assert_eq!(windlass::net::AcceptBackoff::new().resource_errors(), 0);
    /// ```
    pub fn resource_errors(&self) -> u64 {
        self.resource_errors
    }

    /// Per-connection errors skipped so far.
    ///
    /// ```
    /// assert_eq!(windlass::net::AcceptBackoff::new().connection_errors(), 0);
    /// ```
    pub fn connection_errors(&self) -> u64 {
        self.connection_errors
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn os(e: Errno) -> io::Error {
        io::Error::from_raw_os_error(e.raw_os_error())
    }

    #[test]
    fn classifies_errors() {
        for e in [Errno::MFILE, Errno::NFILE, Errno::NOBUFS, Errno::NOMEM] {
            assert!(
                is_resource_error(&os(e)) && !is_connection_error(&os(e)),
                "{e:?}"
            );
        }
        for e in [
            Errno::CONNABORTED,
            Errno::CONNRESET,
            Errno::PROTO,
            Errno::PERM,
        ] {
            assert!(
                is_connection_error(&os(e)) && !is_resource_error(&os(e)),
                "{e:?}"
            );
        }
        for e in [Errno::BADF, Errno::INVAL, Errno::NOTSOCK] {
            assert!(
                !is_connection_error(&os(e)) && !is_resource_error(&os(e)),
                "{e:?}"
            );
        }
    }

    /// A scripted accept: resource errors back off, connection errors are
    /// skipped, a success resets the wait, and a fatal error is returned.
    #[test]
    #[cfg_attr(
        miri,
        ignore = "timers need the poller's timerfd, which Miri cannot emulate"
    )]
    fn backs_off_skips_and_returns() {
        let rt = crate::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            let ms = Duration::from_millis;
            let mut b = AcceptBackoff::with_limits(ms(1), ms(4));
            let mut script = vec![
                Err(os(Errno::MFILE)),
                Err(os(Errno::CONNABORTED)),
                Err(os(Errno::NFILE)),
                Err(os(Errno::NOBUFS)),
                Err(os(Errno::MFILE)),
                Ok(1),
                Err(os(Errno::BADF)),
            ]
            .into_iter();
            let mut calls = 0;
            let got = b
                .accept_with(|| {
                    calls += 1;
                    std::future::ready(script.next().unwrap())
                })
                .await;
            assert_eq!((got.unwrap(), calls), (1, 6));
            assert_eq!((b.resource_errors(), b.connection_errors()), (4, 1));
            assert_eq!(b.next, ms(1), "a success resets the wait");
            let fatal = b
                .accept_with(|| std::future::ready(script.next().unwrap()))
                .await;
            assert_eq!(
                fatal.unwrap_err().raw_os_error(),
                Some(Errno::BADF.raw_os_error())
            );
        });
    }

    #[test]
    fn wait_doubles_up_to_the_cap() {
        let ms = Duration::from_millis;
        let mut b = AcceptBackoff::with_limits(ms(1), ms(5));
        let waits: Vec<_> = (0..5).map(|_| b.on_resource_error()).collect();
        assert_eq!(waits, [ms(1), ms(2), ms(4), ms(5), ms(5)]);
        assert_eq!(b.resource_errors(), 5);
    }

    #[test]
    #[should_panic(expected = "busy retry")]
    fn zero_min_is_refused() {
        let _ = AcceptBackoff::with_limits(Duration::ZERO, Duration::from_secs(1));
    }
}
