//! The task API (`spawn`, `JoinHandle`, abort, panics, cooperative
//! budgeting), one module per topic, linked as one test binary.

#[path = "../support/mod.rs"]
mod support;

mod abort;
mod coop;
mod join;
mod panic;
mod spawn;
