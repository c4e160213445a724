//! The process-wide hub: the pipe, one slot per signal number, handler
//! installation, draining and dispatching. The protocol is in the
//! [module docs](super) ("The protocol"); comments here use its words.

use std::collections::HashMap;
use std::io::{self, Read};
use std::os::unix::net::UnixStream;
use std::task::Waker;

// The real primitives in every build, loom's included (an exception listed
// in the facade's docs, `crate::loom`): the hub is a process-wide static,
// which outlives any loom model, and the pending flags are set by the
// signal handler, outside any loom thread, through `signal_hook::flag`,
// which takes exactly these types.
use crate::loom::std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use crate::loom::std::sync::{Arc, Mutex, OnceLock};

/// Slots for signal numbers `0..SLOTS`: Linux numbers its signals up to 64
/// (the last real-time one); other Unixes stop earlier.
pub(super) const SLOTS: usize = 65;

/// The hub; see the module docs.
pub(super) struct Hub {
    /// The pipe's read end. New listeners drain it directly; waiting
    /// listeners read through their own duplicates.
    reader: UnixStream,
    /// The pipe's write end. Each installed handler sends on its own
    /// duplicate; this one is kept so the pipe never reports end-of-file.
    writer: UnixStream,
    /// One per signal number (slot 0 is never used).
    slots: Box<[Slot]>,
}

/// One signal number's state.
struct Slot {
    /// Set by the handler, swapped back to false by a dispatch.
    pending: Arc<AtomicBool>,
    /// True once the handler is installed (for the rest of the process).
    installed: Mutex<bool>,
    /// The delivery count and the waiting listeners.
    waiters: Mutex<Waiters>,
}

/// The part of a slot that listeners compare against and wait on.
#[derive(Default)]
struct Waiters {
    /// Dispatched deliveries so far.
    count: u64,
    /// The next listener id.
    next_id: u64,
    /// Wakers of the listeners that saw `count` and wait for more, by id.
    wakers: HashMap<u64, Waker>,
}

static HUB: OnceLock<Hub> = OnceLock::new();

impl Hub {
    /// The hub, created on first use.
    pub(super) fn get() -> io::Result<&'static Hub> {
        if let Some(hub) = HUB.get() {
            return Ok(hub);
        }
        let (reader, writer) = UnixStream::pair()?;
        reader.set_nonblocking(true)?;
        writer.set_nonblocking(true)?;
        let slots = (0..SLOTS).map(|_| Slot::new()).collect();
        // Two threads may race here; the loser's pipe is closed unused.
        let _ = HUB.set(Hub {
            reader,
            writer,
            slots,
        });
        Ok(HUB.get().expect("just set"))
    }

    /// Installs the handler of `signal` (checked by `SignalKind::check`)
    /// unless it already is.
    pub(super) fn install(&self, signal: i32) -> io::Result<()> {
        let slot = self.slot(signal);
        let mut installed = slot.installed.lock();
        if *installed {
            return Ok(());
        }
        let wake_end = self.writer.try_clone()?;
        // First the flag, then the byte: `signal-hook` runs a signal's
        // actions in registration order, which "no flag is stranded" needs.
        let flag = signal_hook::flag::register(signal, slot.pending.clone())?;
        if let Err(e) = signal_hook::low_level::pipe::register(signal, wake_end) {
            signal_hook::low_level::unregister(flag);
            return Err(e);
        }
        *installed = true;
        Ok(())
    }

    /// A new entry in `signal`'s slot: the listener's id and the count it
    /// starts from. Drains and dispatches first, so that deliveries that
    /// came before the listener existed are counted already.
    pub(super) fn join(&self, signal: i32) -> (u64, u64) {
        // Dispatch even if the drain read nothing (or failed): another
        // listener may have drained the byte of a delivery whose flag it
        // has not swapped yet, and that delivery came before this one.
        let _ = drain(&self.reader);
        self.dispatch();
        let mut w = self.slot(signal).waiters.lock();
        let id = w.next_id;
        w.next_id += 1;
        (id, w.count)
    }

    /// If `signal`'s count moved past `*seen`, catches `*seen` up and
    /// returns true; otherwise leaves `waker` to be woken by the next
    /// dispatch of this signal. One lock, so no dispatch falls in between.
    pub(super) fn check_or_wait(
        &self,
        signal: i32,
        id: u64,
        seen: &mut u64,
        waker: &Waker,
    ) -> bool {
        let mut w = self.slot(signal).waiters.lock();
        if w.count != *seen {
            *seen = w.count;
            w.wakers.remove(&id);
            return true;
        }
        match w.wakers.get_mut(&id) {
            Some(old) => old.clone_from(waker),
            None => {
                w.wakers.insert(id, waker.clone());
            }
        }
        false
    }

    /// Removes a listener's entry (it is being dropped).
    pub(super) fn leave(&self, signal: i32, id: u64) {
        self.slot(signal).waiters.lock().wakers.remove(&id);
    }

    /// For every slot whose pending flag is set: clear it, bump the count
    /// and wake the slot's wakers. Called after a drain.
    pub(super) fn dispatch(&self) {
        let mut wake = Vec::new();
        for slot in self.slots.iter() {
            // SeqCst: pairs with the handler's SeqCst store (signal-hook's
            // choice). What must hold is "this swap comes after the drain
            // that preceded it", an order against a read(2) and the
            // handler's send(2), which the memory model does not describe;
            // the strongest ordering keeps the argument simple.
            if slot.pending.swap(false, SeqCst) {
                let mut w = slot.waiters.lock();
                w.count += 1;
                wake.extend(w.wakers.drain().map(|(_, waker)| waker));
            }
        }
        // Outside every lock: a woken task may run right away and poll.
        for waker in wake {
            waker.wake();
        }
    }

    /// A duplicate of the pipe's read end, for a listener to register with
    /// its reactor.
    pub(super) fn read_end(&self) -> io::Result<UnixStream> {
        self.reader.try_clone()
    }

    fn slot(&self, signal: i32) -> &Slot {
        &self.slots[signal as usize]
    }
}

impl Slot {
    fn new() -> Slot {
        Slot {
            pending: Default::default(),
            installed: Mutex::new(false),
            waiters: Mutex::new(Waiters::default()),
        }
    }
}

/// Reads the pipe empty. `Ok(true)` if it read anything, `Ok(false)` if it
/// was empty already.
pub(super) fn drain(reader: &UnixStream) -> io::Result<bool> {
    // The bytes carry no information (the flags do); any size will do.
    let mut buf = [0u8; 64];
    let mut any = false;
    loop {
        match (&*reader).read(&mut buf) {
            // Cannot happen while the hub keeps its write end open (for the
            // life of the process); an error beats spinning on end-of-file.
            Ok(0) => {
                return Err(io::Error::other(
                    "windlass::signal: the signal pipe was closed",
                ));
            }
            Ok(_) => any = true,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(any),
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// "After creation" holds while another listener is between its drain
    /// and its dispatch: the delivery it drained came before the new
    /// listener, so the new one must not report it.
    #[test]
    #[cfg_attr(miri, ignore = "a socket pair and fcntl")]
    fn a_join_counts_a_delivery_another_listener_drained_but_not_dispatched() {
        let hub = Hub::get().expect("the hub");
        // A real-time signal nothing installs or raises: only this test
        // touches its slot.
        let signal = 50;
        // Its handler ran (the flag), and another listener has read its
        // byte from the pipe but not dispatched yet.
        hub.slot(signal).pending.store(true, SeqCst);
        let (id, seen) = hub.join(signal);
        hub.dispatch(); // that other listener's dispatch, late
        let count = hub.slot(signal).waiters.lock().count;
        hub.leave(signal, id);
        assert_eq!(
            count, seen,
            "a listener created after a delivery would report it"
        );
    }
}
