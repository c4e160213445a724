//! `Signal`: one listener for one signal. The protocol is in the
//! [module docs](super) ("The protocol"); comments here use its words.

use std::fmt;
use std::io;
use std::os::unix::net::UnixStream;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;

use super::hub::{Hub, drain};
use super::kind::SignalKind;
use crate::io::Async;

/// A listener for one signal, made by [`signal`](super::unix::signal).
///
/// Each listener gets every delivery of its signal that happens after it
/// was created, through [`recv`](Self::recv) or as a [`Stream`]. Deliveries
/// are coalesced: several that arrive before the listener looks again
/// count as one, unless another listener (of any signal) dispatches between
/// them, which closes the batch: a burst then reads as one delivery per
/// dispatch that fell inside it. Dropping it removes its registration from the reactor;
/// the process-wide handler stays installed (see the
/// [module docs](super#handlers-are-process-wide-and-permanent)).
///
/// ```
/// use futures_lite::StreamExt;
/// use rustix::process::{Signal, getpid, kill_process};
/// use windlass::signal::unix::{SignalKind, signal};
///
/// windlass::Runtime::new().unwrap().block_on(async {
///     let mut hangups = signal(SignalKind::hangup()).unwrap();
///     kill_process(getpid(), Signal::HUP).unwrap();
///     // As a stream: one item per (coalesced) delivery.
///     assert_eq!(hangups.next().await, Some(()));
/// });
/// ```
pub struct Signal {
    /// The signal listened for.
    kind: SignalKind,
    /// The process-wide hub that owns the pipe and the slots.
    hub: &'static Hub,
    /// This listener's entry in its slot's waker list.
    id: u64,
    /// The slot's delivery count when this listener last reported (or was
    /// created); a different count means a delivery.
    seen: u64,
    /// This listener's read end of the pipe, registered with its runtime's
    /// reactor; `None` until registered (`ctrl_c` registers on first poll).
    reader: Option<Async<UnixStream>>,
}

impl Signal {
    /// Installs the handler (once per process), and joins the slot. The
    /// read end is registered later, by [`register`](Self::register).
    pub(super) fn unregistered(kind: SignalKind) -> io::Result<Signal> {
        kind.check()?;
        let hub = Hub::get()?;
        hub.install(kind.as_raw())?;
        let (id, seen) = hub.join(kind.as_raw());
        Ok(Signal {
            kind,
            hub,
            id,
            seen,
            reader: None,
        })
    }

    /// Registers this listener's read end with the current runtime's
    /// reactor, if not done yet. `what` names the caller in the error.
    pub(super) fn register(&mut self, what: &str) -> io::Result<()> {
        if self.reader.is_some() {
            return Ok(());
        }
        if crate::runtime::Handle::try_current().is_err() {
            return Err(io::Error::other(format!(
                "{what} needs a windlass runtime: call it inside `Runtime::block_on` \
                 or a task spawned on one"
            )));
        }
        self.reader = Some(Async::new(self.hub.read_end()?)?);
        Ok(())
    }

    /// The signal this listener is for.
    ///
    /// ```
    /// use windlass::signal::unix::{SignalKind, signal};
    ///
    /// windlass::Runtime::new().unwrap().block_on(async {
    ///     let s = signal(SignalKind::user_defined1()).unwrap();
    ///     assert_eq!(s.kind(), SignalKind::user_defined1());
    /// });
    /// ```
    pub fn kind(&self) -> SignalKind {
        self.kind
    }

    /// Waits for the next delivery. `Some(())` for a delivery; `None` once
    /// no more can come, because the runtime this listener was created in
    /// shut down.
    ///
    /// ```
    /// use rustix::process::{Signal, getpid, kill_process};
    /// use windlass::signal::unix::{SignalKind, signal};
    ///
    /// windlass::Runtime::new().unwrap().block_on(async {
    ///     let mut terms = signal(SignalKind::terminate()).unwrap();
    ///     kill_process(getpid(), Signal::TERM).unwrap();
    ///     assert_eq!(terms.recv().await, Some(()));
    /// });
    /// ```
    pub async fn recv(&mut self) -> Option<()> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// The `poll` form of [`recv`](Self::recv), for hand-written futures.
    /// Keeps the waker of the last call only.
    ///
    /// ```
    /// use std::task::Poll;
    /// use windlass::signal::unix::{SignalKind, signal};
    ///
    /// windlass::Runtime::new().unwrap().block_on(async {
    ///     let mut s = signal(SignalKind::user_defined2()).unwrap();
    ///     // Nothing was delivered since `s` was created.
    ///     let polled = std::future::poll_fn(|cx| Poll::Ready(s.poll_recv(cx))).await;
    ///     assert!(polled.is_pending());
    /// });
    /// ```
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<()>> {
        self.poll_delivery(cx, "windlass::signal::unix::Signal::recv")
            .map(Result::ok)
    }

    /// Waits for the next delivery; errors if the read end cannot be
    /// registered or its runtime shut down.
    pub(super) fn poll_delivery(
        &mut self,
        cx: &mut Context<'_>,
        what: &str,
    ) -> Poll<io::Result<()>> {
        self.register(what)?;
        let (signal, id, hub) = (self.kind.as_raw(), self.id, self.hub);
        let reader = self.reader.as_ref().expect("registered above");
        loop {
            // 1. A delivery dispatched since we last looked? If not, our
            //    waker stays in the slot for the next dispatch.
            if hub.check_or_wait(signal, id, &mut self.seen, cx.waker()) {
                return Poll::Ready(Ok(()));
            }
            // 2. Bytes in the pipe are deliveries nobody dispatched yet:
            //    drain and dispatch them. Empty: the reactor keeps our
            //    waker for the next byte.
            let drained = reader.poll_read_with(cx, |r| match drain(r) {
                Ok(true) => Ok(()),
                Ok(false) => Err(io::ErrorKind::WouldBlock.into()),
                Err(e) => Err(e),
            });
            match drained {
                Poll::Ready(Ok(())) => hub.dispatch(),
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

impl Stream for Signal {
    type Item = ();

    /// One item per (coalesced) delivery; ends when the runtime shuts down.
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<()>> {
        self.get_mut().poll_recv(cx)
    }
}

impl Drop for Signal {
    fn drop(&mut self) {
        // The reader (if any) deregisters itself when it drops, after this.
        self.hub.leave(self.kind.as_raw(), self.id);
    }
}

impl fmt::Debug for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signal")
            .field("kind", &self.kind)
            .field("registered", &self.reader.is_some())
            .finish()
    }
}
