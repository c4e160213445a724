//! Any Unix signal as a stream of deliveries: [`signal`], [`SignalKind`],
//! [`Signal`].

use std::io;

pub use super::kind::SignalKind;
pub use super::listener::Signal;

/// Starts listening for `kind`: the returned [`Signal`] sees every delivery
/// from now on (coalesced, see [`Signal`]). Must be called inside a
/// windlass runtime, whose reactor then wakes the listener.
///
/// The first listener for a signal installs a process-wide handler that
/// stays for the life of the process and replaces the signal's default
/// action (see the [module docs](super#handlers-are-process-wide-and-permanent)).
///
/// # Errors
///
/// - `InvalidInput` for signals that cannot be listened for: SIGKILL and
///   SIGSTOP (the kernel never lets them be caught), SIGSEGV, SIGBUS,
///   SIGILL and SIGFPE (faults of the program itself), and numbers that
///   are not signals. The message says which and why.
/// - An error naming the fix when called outside a windlass runtime.
/// - The operating system's error if the handler cannot be installed.
///
/// ```
/// use rustix::process::{Signal, getpid, kill_process};
/// use windlass::signal::unix::{SignalKind, signal};
///
/// windlass::Runtime::new().unwrap().block_on(async {
///     let mut usr1 = signal(SignalKind::user_defined1()).unwrap();
///     let waiter = windlass::spawn(async move { usr1.recv().await });
///     kill_process(getpid(), Signal::USR1).unwrap();
///     assert_eq!(waiter.await.unwrap(), Some(()));
///
///     let err = signal(SignalKind::from_raw(9)).unwrap_err();
///     assert!(err.to_string().contains("SIGKILL"), "{err}");
/// });
/// ```
pub fn signal(kind: SignalKind) -> io::Result<Signal> {
    let mut listener = Signal::unregistered(kind)?;
    listener.register("windlass::signal::unix::signal")?;
    Ok(listener)
}
