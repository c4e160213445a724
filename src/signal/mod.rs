//! Unix signals as async events: [`ctrl_c`] and [`unix::signal`], asyncio's
//! `KeyboardInterrupt` and `loop.add_signal_handler`.
//!
//! ```
//! use rustix::process::{Signal, getpid, kill_process};
//!
//! windlass::Runtime::new().unwrap().block_on(async {
//!     // Listening starts when the future is created...
//!     let ctrl_c = windlass::signal::ctrl_c();
//!     // ...so a Ctrl+C (here: a SIGINT we send ourselves) right after it
//!     // is caught, not lost, and does not kill the process.
//!     kill_process(getpid(), Signal::INT).unwrap();
//!     ctrl_c.await.unwrap();
//! });
//! ```
//!
//! # Handlers are process-wide and permanent
//!
//! The first listener for a signal installs a handler for it in the whole
//! process, and that handler stays until the process exits, even when every
//! listener is gone. From then on the signal's default action no longer
//! happens: after the first [`ctrl_c`], Ctrl+C stops ending the program by
//! itself, and a Ctrl+C that arrives while nobody listens is swallowed. A
//! program that wants "second Ctrl+C quits" keeps listening and exits itself.
//! Handlers that other code installed earlier keep running (the new handler
//! chains to them).
//!
//! # The protocol
//!
//! **Who owns what.**
//! - The *hub* (one per process, created on first use, never dropped) owns the
//!   *pipe*, a non-blocking Unix socket pair, and one *slot* per signal
//!   number. A slot holds the signal's *pending* flag and, under its lock,
//!   the *delivery count* and the wakers of its waiting listeners.
//! - The *handler* of a signal does two things, in this order: set the slot's
//!   pending flag, then send one byte into the pipe (on its own duplicate of
//!   the write end, without blocking; if the pipe is full the byte is
//!   dropped). An atomic store and one `send(2)` are async-signal-safe: the
//!   handler takes no lock and allocates nothing. `signal-hook` installs it
//!   and runs the two actions in registration order.
//! - Each *listener* ([`unix::Signal`], or the one inside [`ctrl_c`]) owns
//!   the count it has seen, an entry in its slot's waker list, and its own
//!   duplicate of the pipe's read end, registered with the reactor of its
//!   runtime (an [`io::Async`](crate::io::Async)).
//!
//! **How a delivery reaches every listener.** Any listener that finds bytes
//! in the pipe reads it empty and then *dispatches* on behalf of everyone:
//! for every slot it swaps the pending flag to false and, if it was set,
//! bumps the slot's count and wakes all the slot's wakers. A listener's poll
//! (1) compares the slot's count with the one it saw: if it moved, that is a
//! delivery; if not, it leaves its waker in the slot (same lock); (2) drains
//! its read end through the reactor: bytes read mean "dispatch, then back to
//! 1"; `WouldBlock` leaves its waker with the reactor for the next edge.
//!
//! **Why none is lost.**
//! - *No flag is stranded.* The handler sets the flag before it sends; a
//!   dispatch swaps the flags after it drained. If a swap misses a flag, the
//!   flag was set after the swap, so after the drain: its byte lands in the
//!   pipe and a later drain dispatches it. If the pipe was full, the byte is
//!   dropped, but a full pipe holds bytes nobody has drained yet, and their
//!   drain (and dispatch) is still to come, after the flag was set.
//! - *No listener sleeps through a delivery.* A listener returns `Pending`
//!   only with its waker in the slot at an unchanged count and with its
//!   reactor registration made after a drain that found the pipe empty. A
//!   later delivery is either dispatched by someone else, which wakes the
//!   slot's wakers, or its byte makes the empty pipe readable, an edge that
//!   every registered read end receives, this listener's included.
//!
//! **Coalescing, and "after creation".** Listeners compare counts, so a burst
//! between two polls reads as one delivery, or, if other listeners
//! dispatched during the burst, as one per dispatch (each dispatch closes a
//! batch; every listener's poll and creation dispatches for all signals). A new listener first drains and
//! dispatches (directly, not through a reactor) and only then reads the
//! count, so deliveries from before it existed are not reported to it. It
//! dispatches even when its drain read nothing: another listener may have
//! read a delivery's byte and not yet swapped its flag, and without that
//! dispatch the new listener would read the count before the delivery and
//! report it.
//!
//! **Runtimes.** Nothing is kept per runtime: each listener's read end is
//! registered with the reactor of the runtime it runs in, and a dispatch
//! wakes wakers of any runtime. Several runtimes at once, or a runtime
//! dropped and created again, need nothing special; a listener whose runtime
//! shut down ends ([`Signal::recv`](unix::Signal::recv) returns `None`).
//! There is no background thread and no timer: the reactors that already
//! exist do the waiting. The price is one descriptor and one reactor source
//! per listener, which is small for the handful of listeners a program has.

mod ctrl_c;
mod hub;
mod kind;
mod listener;
pub mod unix;

pub use ctrl_c::{CtrlC, ctrl_c};
