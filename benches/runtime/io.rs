//! Workloads on the reactor: TCP echo, many connections, timers.

use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{Contender, Latch, time_driver};

/// Bytes in one echo message.
pub(crate) const MSG: usize = 64;
/// Connections in `tcp_echo`.
pub(crate) const ECHO_CONNS: usize = 32;
/// Round trips per connection in `tcp_echo`.
pub(crate) const ECHO_ROUNDS: usize = 2_000;
/// Connections in `many_connections`.
pub(crate) const MANY_CONNS: usize = 1_000;
/// Sleeping tasks in `timers`.
pub(crate) const TIMER_TASKS: usize = 100_000;

/// A loopback listener with a backlog large enough for `MANY_CONNS`
/// simultaneous connects (std's default backlog of 128 would make the
/// kernel drop SYNs and the test measure retransmission timers).
fn listener() -> (TcpListener, SocketAddr) {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
    socket.set_reuse_address(true).expect("reuseaddr");
    socket
        .bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())
        .expect("bind");
    socket.listen(4096).expect("listen");
    let listener: TcpListener = socket.into();
    let addr = listener.local_addr().expect("local addr");
    (listener, addr)
}

/// Raises the open-file soft limit to the hard limit: `many_connections`
/// holds about 2,000 descriptors at once (both ends live in this process).
pub(crate) fn raise_fd_limit() {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    if limit.current < limit.maximum {
        limit.current = limit.maximum;
        let _ = setrlimit(Resource::Nofile, limit);
    }
}

/// 32 connections, each doing 2,000 round trips of 64 bytes with an echo
/// server on the same runtime, all at once.
///
/// **op** = one round trip (client write, server read + write, client read).
pub(crate) fn tcp_echo<C: Contender>(c: &C) -> Duration {
    let (listener, addr) = listener();
    let (latch, rx) = Latch::new(ECHO_CONNS);
    time_driver(c, rx, async move {
        C::spawn(C::echo_server(listener, ECHO_CONNS));
        for _ in 0..ECHO_CONNS {
            let latch = latch.clone();
            C::spawn(async move {
                C::echo_client(addr, ECHO_ROUNDS).await;
                latch.count_down();
            });
        }
    })
}

/// 1,000 connections opened at once, each sending one message and reading
/// the echo, then closing.
///
/// **op** = one connection (connect, accept, one round trip, close).
pub(crate) fn many_connections<C: Contender>(c: &C) -> Duration {
    let (listener, addr) = listener();
    let (latch, rx) = Latch::new(MANY_CONNS);
    time_driver(c, rx, async move {
        C::spawn(C::echo_server(listener, MANY_CONNS));
        for _ in 0..MANY_CONNS {
            let latch = latch.clone();
            C::spawn(async move {
                C::echo_client(addr, 1).await;
                latch.count_down();
            });
        }
    })
}

/// `n` deterministic pseudo-random sleep lengths in `0..max_ms` (xorshift).
fn sleep_lengths(n: usize, max_ms: u32) -> Vec<Duration> {
    let mut x: u32 = 0x2545_F491;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            Duration::from_micros(u64::from(x % (max_ms * 1000)))
        })
        .collect()
}

/// Runs the timer workload; returns its duration and each task's lateness
/// (how long after its deadline it resumed), in microseconds.
fn timers_with_lateness<C: Contender>(c: &C, n: usize, max_ms: u32) -> (Duration, Vec<u32>) {
    let lengths = sleep_lengths(n, max_ms);
    let late = Arc::new(Mutex::new(Vec::with_capacity(n)));
    let (latch, rx) = Latch::new(n);
    let late2 = late.clone();
    let took = time_driver(c, rx, async move {
        for d in lengths {
            let (latch, late) = (latch.clone(), late2.clone());
            C::spawn(async move {
                let deadline = Instant::now() + d;
                C::sleep(d).await;
                let lateness = Instant::now().saturating_duration_since(deadline);
                late.lock()
                    .unwrap()
                    .push(lateness.as_micros().min(u128::from(u32::MAX)) as u32);
                latch.count_down();
            });
        }
    });
    let late = std::mem::take(&mut *late.lock().unwrap());
    (took, late)
}

/// 100,000 tasks each sleeping a pseudo-random 0-10 ms, all at once.
///
/// **op** = one sleeping task (spawn, register a timer, fire, resume).
pub(crate) fn timers<C: Contender>(c: &C) -> Duration {
    timers_with_lateness(c, TIMER_TASKS, 10).0
}

/// Mean and 99th-percentile lateness, in µs, of `n` tasks sleeping a
/// pseudo-random `0..max_ms` each.
pub(crate) fn timer_lateness<C: Contender>(c: &C, n: usize, max_ms: u32) -> (f64, f64) {
    let (_, mut late) = timers_with_lateness(c, n, max_ms);
    late.sort_unstable();
    let mean = late.iter().map(|&l| f64::from(l)).sum::<f64>() / late.len() as f64;
    let p99 = f64::from(late[(late.len() * 99 / 100).min(late.len() - 1)]);
    (mean, p99)
}
