//! `windlass::process`, linked as one test binary. `zombies` (it counts
//! every zombie child of its process) and `sigpipe` (it changes the
//! process-wide SIGPIPE disposition) each run in a child process of their
//! own, so the other tests' children and pipes cannot disturb them.

#[path = "../support/mod.rs"]
mod support;

mod command;
mod sigpipe;
mod zombies;
