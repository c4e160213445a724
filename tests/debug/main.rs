//! Debug mode, task names and spawn sites, `Handle::dump`, and (feature
//! `tracing`) debug reports as `tracing` events, linked as one test binary.

#[path = "../support/mod.rs"]
mod support;

mod dump;
mod mode;
mod names;
#[cfg(feature = "tracing")]
mod tracing_events;
