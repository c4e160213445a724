//! The blocking pool: `spawn_blocking`, user pools, the hand-off rule and
//! `to_thread`, linked as one test binary.

#[path = "../support/mod.rs"]
mod support;

mod handoff;
mod pool;
mod to_thread;
