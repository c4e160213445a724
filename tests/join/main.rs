//! `windlass::join`: the gather helpers (`join_all`, `try_join_all`,
//! `wait`, `as_completed`), `JoinSet`, `TaskGroup` and the cancellation
//! rule, one module per helper, linked as one test binary.

#[path = "../support/mod.rs"]
mod support;

mod all;
mod as_completed;
mod cancel;
mod ownership;
mod set;
mod stress;
mod task_group;
mod wait;
