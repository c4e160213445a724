//! Loom models for windlass live in `tests/`; run them with `RUSTFLAGS="--cfg loom"`
//! (see `run.sh`). Without `--cfg loom` this crate and its tests compile to
//! nothing.
//!
//! This library holds what the models share: the model runner with the
//! project's preemption bound, drop counters, [`Gate`], a future whose
//! waker another loom thread can reach, and [`WakeCounter`], a waker that
//! counts its wakes.

#[cfg(loom)]
mod support;

#[cfg(loom)]
pub use support::*;
