//! The task API (`spawn`, `JoinHandle`, abort, panics, cooperative
//! budgeting), one module per topic, linked as one test binary.

#[path = "../support/mod.rs"]
mod support;

mod abort;
mod cell_cache;
mod coop;
mod join;
mod panic;
mod spawn;

/// Counts allocations per thread (`support::alloc_count`), for
/// `cell_cache`; otherwise the system allocator.
#[global_allocator]
static ALLOC: support::alloc_count::Counting = support::alloc_count::Counting;
