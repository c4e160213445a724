//! The stress suite (issue #13), linked as one test binary. Every test
//! that needs its process to itself (a lowered descriptor limit, a silent
//! panic hook, an abort, resident-memory readings) runs in a child process
//! (`support::child`).

#[path = "../support/mod.rs"]
mod support;

mod fd;
mod misuse;
mod panic;
mod soak;
mod tasks;
mod timers;
