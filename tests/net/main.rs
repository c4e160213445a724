//! `windlass::net`: addresses, TCP, UDP and Unix sockets, one module per
//! socket kind, linked as one test binary. `emfile` lowers the process's
//! descriptor limit, so its test runs in a child process of its own.

#[path = "../support/mod.rs"]
mod support;

mod addr;
mod emfile;
mod tcp;
mod udp;
mod unix;
mod unix_split;
