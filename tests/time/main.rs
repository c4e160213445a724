//! `windlass::time`: timers on the real clock, and virtual (paused) time,
//! linked as one test binary.

#[path = "../support/mod.rs"]
mod support;

mod paused;
mod timers;
