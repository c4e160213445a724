//! The runtime: `block_on`, both flavors, `Handle`, shutdown, metrics,
//! the scheduler's fairness and 16 workers on few cores, one module per
//! topic, linked as one test binary.

#[path = "../support/mod.rs"]
mod support;

mod block_on;
mod current_thread;
mod handle;
mod idle;
mod metrics;
mod oversubscribed;
mod reactor_shutdown;
mod scheduler_lifo;
mod shutdown;
