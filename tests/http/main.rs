//! hyper on windlass (feature `hyper`): round trips both ways and bad
//! input, linked as one test binary. Each bad-input test counts the
//! process's descriptors, so it runs in a child process of its own.

#[path = "../support/mod.rs"]
mod support;

mod bad_input;
mod roundtrip;
mod timer;
