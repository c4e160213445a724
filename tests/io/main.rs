//! `windlass::io::Async` and `windlass::fs`, linked as one test binary.

#[path = "../support/mod.rs"]
mod support;

mod async_io;
mod fs;
