//! `windlass::sync`, one module per primitive, linked as one test binary.

#[path = "../support/mod.rs"]
mod support;

mod broadcast;
mod condition;
mod event;
mod mpsc;
mod mutex;
mod oneshot;
mod queue;
mod semaphore;
mod watch;

/// Counts allocations per thread (`support::alloc_count`); otherwise the system
/// allocator.
#[global_allocator]
static ALLOC: support::alloc_count::Counting = support::alloc_count::Counting;
