//! `windlass::sync`, one module per primitive, linked as one test binary.

#[path = "../support/mod.rs"]
mod support;

mod alloc_count;
mod broadcast;
mod condition;
mod event;
mod mpsc;
mod mutex;
mod oneshot;
mod queue;
mod semaphore;
mod watch;

/// Counts allocations per thread (`alloc_count`); otherwise the system
/// allocator.
#[global_allocator]
static ALLOC: alloc_count::Counting = alloc_count::Counting;
