//! A runtime's clock: real time, or virtual time while paused.
//!
//! Every "now" of the timers (a `Sleep`'s check, the reactor's wait and
//! firing, `time::Instant::now()` inside the runtime) comes from here.
//! Deadlines are `std::time::Instant`s on the clock's timeline, which is
//! the real one until the clock is first paused.
//!
//! - **Running** (the start, and after [`resume`](Clock::resume)): now is
//!   `base_virtual + (real now - base_real)`. Until the first pause both
//!   bases are equal and [`now`](Clock::now) is one atomic load plus
//!   `Instant::now()`: the fast path of every runtime that never pauses.
//! - **Paused** ([`pause`](Clock::pause)): now stands still at `frozen`. It
//!   moves only forward, by [`jump_to`](Clock::jump_to): the reactor's
//!   decider jumps to the next timer when the runtime is idle (the auto-
//!   advance, protocol in `activity.rs`), and `time::advance` waits for
//!   those jumps.
//!
//! The clock also keeps the runtime's [`Activity`], which the auto-advance
//! reads.

use std::time::{Duration, Instant};

use super::activity::Activity;
// The real primitives in every build (an exception listed in
// `crate::loom`'s docs): under loom the reactor is driven by a plain OS
// thread (see `Driver::for_workers`), which reads the clock.
use crate::loom::std::sync::Mutex;
use crate::loom::std::sync::atomic::{AtomicBool, Ordering::*};

pub(crate) struct Clock {
    /// False until the first pause: `now` is then the real time, read
    /// without the lock.
    adjusted: AtomicBool,
    /// True while paused (a copy of `state.paused`, for lock-free reads).
    paused: AtomicBool,
    state: Mutex<State>,
    /// Busy threads, for the auto-advance.
    pub(crate) activity: Activity,
}

struct State {
    paused: bool,
    /// While running: the real instant at which the virtual time was
    /// `base_virtual`.
    base_real: Instant,
    base_virtual: Instant,
    /// While paused: the virtual now.
    frozen: Instant,
}

/// Why a pause or resume was refused; the panic message names the fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Misuse {
    AlreadyPaused,
    NotPaused,
}

impl Clock {
    pub(crate) fn new() -> Clock {
        let now = Instant::now();
        Clock {
            adjusted: AtomicBool::new(false),
            paused: AtomicBool::new(false),
            state: Mutex::new(State {
                paused: false,
                base_real: now,
                base_virtual: now,
                frozen: now,
            }),
            activity: Activity::new(),
        }
    }

    /// The clock's now.
    #[inline]
    pub(crate) fn now(&self) -> Instant {
        // Acquire: pairs with the Release store in `pause`, so the bases
        // written before it are seen by the locked read below. (The lock
        // alone orders them; this just keeps the unlocked path honest.)
        if !self.adjusted.load(Acquire) {
            return Instant::now();
        }
        self.now_adjusted()
    }

    #[cold]
    fn now_adjusted(&self) -> Instant {
        let state = self.state.lock();
        if state.paused {
            state.frozen
        } else {
            state.base_virtual + state.base_real.elapsed()
        }
    }

    /// True until the clock is first paused: its timeline is then the real
    /// one, so a deadline on it can arm the poller's real-time timer.
    #[inline]
    pub(crate) fn is_real(&self) -> bool {
        // Acquire: as in `now`.
        !self.adjusted.load(Acquire)
    }

    /// True while paused. (A hint outside the lock: the reactor re-reads it
    /// every turn, and pause and resume wake the reactor.)
    #[inline]
    pub(crate) fn is_paused(&self) -> bool {
        // Relaxed: see above; nothing else is published through it.
        self.paused.load(Relaxed)
    }

    /// Stops the clock at its current time.
    pub(crate) fn pause(&self) -> Result<(), Misuse> {
        let mut state = self.state.lock();
        if state.paused {
            return Err(Misuse::AlreadyPaused);
        }
        let now = state.base_virtual + state.base_real.elapsed();
        state.frozen = now;
        state.paused = true;
        self.paused.store(true, Relaxed);
        // Release: pairs with the Acquire in `now`.
        self.adjusted.store(true, Release);
        Ok(())
    }

    /// Lets the clock run again from where it stood.
    pub(crate) fn resume(&self) -> Result<(), Misuse> {
        let mut state = self.state.lock();
        if !state.paused {
            return Err(Misuse::NotPaused);
        }
        state.base_real = Instant::now();
        state.base_virtual = state.frozen;
        state.paused = false;
        self.paused.store(false, Relaxed);
        Ok(())
    }

    /// Moves a paused clock forward to `to` (never back), if the runtime is
    /// still idle since the idle test that read `idle` (rule 7 of
    /// `activity.rs`: the check is made under this lock). False if the
    /// clock is not paused, or a unit was entered since.
    pub(crate) fn jump_to(&self, to: Instant, idle: u64) -> bool {
        let mut state = self.state.lock();
        if !state.paused || !self.activity.still_idle(idle) {
            return false;
        }
        if to > state.frozen {
            state.frozen = to;
        }
        true
    }

    /// What a turn of the reactor does about timers, given the earliest
    /// deadline `next` and the caller's own limit `max` (`Some(ZERO)`: a
    /// busy worker's look, which never jumps).
    pub(crate) fn plan(&self, next: Option<Instant>, max: Option<Duration>) -> Plan {
        let Some(deadline) = next else {
            return Plan::wait(max);
        };
        let now = self.now();
        if deadline <= now {
            return Plan::wait(Some(Duration::ZERO)).fire(deadline);
        }
        if !self.is_paused() {
            return Plan::wait(min(Some(deadline - now), max)).fire(deadline);
        }
        // Paused, with a timer ahead: waiting does not bring it closer.
        if max == Some(Duration::ZERO) {
            return Plan::wait(max);
        }
        if let Some(idle) = self.activity.idle_word() {
            // Rule 4 said idle: look at I/O once, then jump (unless the
            // look found something to wake, which runs first, or a unit
            // was entered meanwhile: rule 7).
            return Plan {
                timeout: Some(Duration::ZERO),
                deadline: Some(deadline),
                jump: Some(idle),
                waiting: false,
            };
        }
        // Busy: wait for I/O, a notify, or the leave that makes the count
        // zero (rule 5; `waiting` stays set until `stop_waiting`).
        Plan {
            waiting: true,
            ..Plan::wait(max)
        }
    }
}

/// See [`Clock::plan`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Plan {
    /// The poller wait's timeout.
    pub(crate) timeout: Option<Duration>,
    /// A timer may be due after the wait: fire what is due then.
    pub(crate) deadline: Option<Instant>,
    /// Auto-advance: jump the clock to `deadline` first, if the wait
    /// collected nothing to wake and the runtime is still idle since the
    /// idle test that read this word (`activity.rs`, rule 7).
    pub(crate) jump: Option<u64>,
    /// The wait is rule 5's wait for idle: call
    /// [`Activity::stop_waiting`] after it.
    pub(crate) waiting: bool,
}

impl Plan {
    fn wait(timeout: Option<Duration>) -> Plan {
        Plan {
            timeout,
            deadline: None,
            jump: None,
            waiting: false,
        }
    }

    fn fire(self, deadline: Instant) -> Plan {
        Plan {
            deadline: Some(deadline),
            ..self
        }
    }
}

fn min(a: Option<Duration>, b: Option<Duration>) -> Option<Duration> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}
