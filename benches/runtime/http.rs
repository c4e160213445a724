//! The HTTP workload: a hyper 1.x HTTP/1.1 server on each runtime, loaded
//! over keep-alive connections by a client on threads of its own.
//!
//! - **Servers** (2 workers each, built once, alive for the whole group):
//!   windlass through `windlass::hyper` (feature `hyper`); tokio through
//!   hyper-util's `TokioIo`; smol (`async-executor` + `async-io`) through a
//!   small adapter in this file, [`SmolIo`], which must zero hyper's
//!   buffer before each read (futures-io reads into initialised memory).
//!   Routes: `/` answers "Hello, World!"; `/hash` hashes a 4 KiB buffer
//!   (FNV-1a) and answers with those 4 KiB and the hash in a header.
//! - **Client**: one thread with a tokio current-thread runtime (like
//!   `wrk -t1`), the same for every server: `conns` connections, each
//!   sending a request, reading the whole response, and again. Hand-written
//!   HTTP/1.1 (a fixed request, `content-length` framing), so the client
//!   costs the same whichever server it loads.
//! - **Per measurement**: 300 ms of warm-up, then a window of
//!   `BENCH_HTTP_MS` (default 2,000 ms). Reported: requests per second,
//!   p50 and p99 latency (from every request of the window), server CPU per
//!   request (`/proc/self/task/*/schedstat` of the server's threads: its
//!   workers, and for smol also the `async-io` reactor thread).
//!   Syscalls per request are counted outside the bench, on a server in its
//!   own process (below), so that the client's syscalls are not mixed in.
//! - **Rounds**: `BENCH_HTTP_ROUNDS` (default 3), the order of the servers
//!   rotating from round to round; the tables give the median round.
//!
//! - **Pinning** (optional): `BENCH_HTTP_SERVER_CPUS=0,1` pins every
//!   server thread to those CPUs, and `BENCH_HTTP_CLIENT_CPUS=2,3` the
//!   client thread to those (lists like `0,1` or `2-5`; see [`pin`]). The
//!   server's threads are pinned again at each measurement, so threads a
//!   runtime starts late (smol's `async-io`) are caught too. Unset: the
//!   scheduler places every thread.
//!
//! `cargo bench --features hyper --bench runtime -- http` runs only this.
//! For `wrk`, `strace -c -f -p` and `perf stat -p`,
//! `BENCH_HTTP_SERVE=windlass|tokio|smol` makes the binary serve on
//! `127.0.0.1:BENCH_HTTP_PORT` (default 8080) until killed; `bench-http.sh`
//! beside this file runs that measurement.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::*};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};

const WORKERS: usize = 2;
const HASH_LEN: usize = 4096;

/// The routes: `/` hello world, `/hash` 4 KiB hashed and sent.
async fn handle(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    if req.uri().path() == "/hash" {
        static DATA: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
        let data = DATA.get_or_init(|| (0..HASH_LEN).map(|i| (i * 131 % 251) as u8).collect());
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in data.iter() {
            h = (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3);
        }
        let res = Response::builder()
            .header("x-hash", format!("{h:016x}"))
            .body(Full::new(Bytes::from_static(data)))
            .expect("response");
        return Ok(res);
    }
    Ok(Response::new(Full::new(Bytes::from_static(
        b"Hello, World!",
    ))))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Rt {
    Windlass,
    Tokio,
    Smol,
}

impl Rt {
    const ALL: [Rt; 3] = [Rt::Windlass, Rt::Tokio, Rt::Smol];

    fn name(self) -> &'static str {
        match self {
            Rt::Windlass => "windlass",
            Rt::Tokio => "tokio",
            Rt::Smol => "smol",
        }
    }

    /// Thread names (prefixes) that count as this server's CPU.
    fn threads(self) -> &'static [&'static str] {
        match self {
            Rt::Windlass => &["srv-windlass"],
            Rt::Tokio => &["srv-tokio"],
            Rt::Smol => &["srv-smol", "async-io"],
        }
    }
}

/// A running server; dropping it leaves the runtime running until exit.
struct Server {
    addr: SocketAddr,
    _keep: Box<dyn std::any::Any>,
}

fn std_listener(port: u16) -> std::net::TcpListener {
    use socket2::{Domain, Socket, Type};
    let s = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
    s.set_reuse_address(true).expect("reuseaddr");
    s.bind(&SocketAddr::from(([127, 0, 0, 1], port)).into())
        .expect("bind");
    s.listen(4096).expect("listen");
    s.into()
}

fn start(rt: Rt, port: u16) -> Server {
    let listener = std_listener(port);
    let addr = listener.local_addr().expect("addr");
    let keep: Box<dyn std::any::Any> = match rt {
        Rt::Windlass => Box::new(start_windlass(listener)),
        Rt::Tokio => Box::new(start_tokio(listener)),
        Rt::Smol => Box::new(start_smol(listener)),
    };
    Server { addr, _keep: keep }
}

fn start_windlass(listener: std::net::TcpListener) -> windlass::Runtime {
    use windlass::hyper::WindlassIo;
    let rt = windlass::runtime::Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .thread_name("srv-windlass")
        .build()
        .expect("windlass runtime");
    rt.spawn(async move {
        let listener = windlass::net::TcpListener::from_std(listener).expect("listener");
        loop {
            let Ok((s, _)) = listener.accept().await else {
                continue;
            };
            let _ = s.set_nodelay(true);
            windlass::spawn(async move {
                let svc = hyper::service::service_fn(handle);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(WindlassIo::new(s), svc)
                    .await;
            });
        }
    });
    rt
}

fn start_tokio(listener: std::net::TcpListener) -> tokio::runtime::Runtime {
    use hyper_util::rt::TokioIo;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .thread_name("srv-tokio")
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.spawn(async move {
        listener.set_nonblocking(true).expect("nonblocking");
        let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
        loop {
            let Ok((s, _)) = listener.accept().await else {
                continue;
            };
            let _ = s.set_nodelay(true);
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(handle);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(s), svc)
                    .await;
            });
        }
    });
    rt
}

fn start_smol(listener: std::net::TcpListener) -> Arc<async_executor::Executor<'static>> {
    let ex = Arc::new(async_executor::Executor::new());
    for i in 0..WORKERS {
        let ex = ex.clone();
        std::thread::Builder::new()
            .name(format!("srv-smol-{i}"))
            .spawn(move || futures_lite::future::block_on(ex.run(std::future::pending::<()>())))
            .expect("smol thread");
    }
    let ex2 = ex.clone();
    ex.spawn(async move {
        let listener = async_io::Async::new(listener).expect("listener");
        loop {
            let Ok((s, _)) = listener.accept().await else {
                continue;
            };
            let _ = s.get_ref().set_nodelay(true);
            ex2.spawn(async move {
                let svc = hyper::service::service_fn(handle);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(SmolIo(s), svc)
                    .await;
            })
            .detach();
        }
    })
    .detach();
    ex
}

/// hyper's I/O traits over `async_io::Async<TcpStream>` (futures-io), as a
/// smol user writes them: futures-io reads need initialised memory, so the
/// unfilled part of hyper's buffer is zeroed before each read.
struct SmolIo(async_io::Async<std::net::TcpStream>);

impl hyper::rt::Read for SmolIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        // SAFETY: we only write initialised bytes (zeros, then data) into
        // the unfilled part.
        let unfilled = unsafe { buf.as_mut() };
        for b in unfilled.iter_mut() {
            b.write(0);
        }
        // SAFETY: every byte of `unfilled` was just initialised.
        let init = unsafe { &mut *(unfilled as *mut [std::mem::MaybeUninit<u8>] as *mut [u8]) };
        let n = std::task::ready!(futures_io::AsyncRead::poll_read(
            Pin::new(&mut self.0),
            cx,
            init
        ))?;
        // SAFETY: the read initialised (filled) the first `n` bytes.
        unsafe { buf.advance(n) };
        Poll::Ready(Ok(()))
    }
}

impl hyper::rt::Write for SmolIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        futures_io::AsyncWrite::poll_write(Pin::new(&mut self.0), cx, buf)
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        futures_io::AsyncWrite::poll_write_vectored(Pin::new(&mut self.0), cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        true
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        futures_io::AsyncWrite::poll_flush(Pin::new(&mut self.0), cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        futures_io::AsyncWrite::poll_close(Pin::new(&mut self.0), cx)
    }
}

// ---------------------------------------------------------------------------
// The client
// ---------------------------------------------------------------------------

/// The load generator: a thread of its own with `conns` connections.
struct Client {
    /// Requests completed so far (all of them).
    count: Arc<AtomicU64>,
    /// Record latencies now.
    measuring: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<Vec<u32>>,
}

impl Client {
    /// Connects `conns` keep-alive connections to `addr`, each requesting
    /// `path` over and over.
    fn start(addr: SocketAddr, path: &str, conns: usize) -> Client {
        let request: Arc<[u8]> = format!("GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n")
            .into_bytes()
            .into();
        let measuring = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let count = Arc::new(AtomicU64::new(0));
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let thread = {
            let (measuring, stop, count) = (measuring.clone(), stop.clone(), count.clone());
            std::thread::Builder::new()
                .name("http-client".into())
                .spawn(move || {
                    if let Some(cpus) = cpus_from_env("BENCH_HTTP_CLIENT_CPUS") {
                        pin(&[0], &cpus);
                    }
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_io()
                        .build()
                        .expect("client runtime");
                    rt.block_on(async move {
                        let mut tasks = Vec::new();
                        for _ in 0..conns {
                            let s = tokio::net::TcpStream::connect(addr).await.expect("connect");
                            s.set_nodelay(true).expect("nodelay");
                            let (request, measuring, stop, count) = (
                                request.clone(),
                                measuring.clone(),
                                stop.clone(),
                                count.clone(),
                            );
                            tasks
                                .push(tokio::spawn(connection(s, request, measuring, stop, count)));
                        }
                        ready_tx.send(()).expect("ready");
                        let mut all = Vec::new();
                        for t in tasks {
                            all.extend(t.await.expect("client task"));
                        }
                        all
                    })
                })
                .expect("client thread")
        };
        ready_rx.recv().expect("client start");
        Client {
            count,
            measuring,
            stop,
            thread,
        }
    }

    fn completed(&self) -> u64 {
        self.count.load(Relaxed)
    }

    /// Stops and closes every connection; the sorted latencies (µs) of the
    /// requests made while measuring.
    fn finish(self) -> Vec<u32> {
        self.stop.store(true, Relaxed);
        let mut lat = self.thread.join().expect("client");
        lat.sort_unstable();
        lat
    }
}

/// One client connection: request, whole response, again, until `stop`.
/// Returns the latencies (µs) of the requests made while `measuring`.
async fn connection(
    mut s: tokio::net::TcpStream,
    request: Arc<[u8]>,
    measuring: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    count: Arc<AtomicU64>,
) -> Vec<u32> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut lat = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    while !stop.load(Relaxed) {
        let t0 = Instant::now();
        if s.write_all(&request).await.is_err() {
            break;
        }
        // Read the head, then the body by its content-length.
        let mut have = 0;
        let body_len;
        let head_end;
        loop {
            let n = match s.read(&mut buf[have..]).await {
                Ok(0) | Err(_) => return lat,
                Ok(n) => n,
            };
            have += n;
            if let Some(end) = find_head_end(&buf[..have]) {
                head_end = end;
                body_len = content_length(&buf[..end]);
                break;
            }
        }
        while have < head_end + body_len {
            match s.read(&mut buf[have..]).await {
                Ok(0) | Err(_) => return lat,
                Ok(n) => have += n,
            }
        }
        count.fetch_add(1, Relaxed);
        if measuring.load(Relaxed) {
            lat.push(t0.elapsed().as_micros().min(u32::MAX as u128) as u32);
        }
    }
    lat
}

fn find_head_end(b: &[u8]) -> Option<usize> {
    b.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4)
}

fn content_length(head: &[u8]) -> usize {
    let text = std::str::from_utf8(head).unwrap_or("");
    text.lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())
                .flatten()
        })
        .unwrap_or(0)
}

// ---------------------------------------------------------------------------
// Server-side measurement: CPU of the server's threads
// ---------------------------------------------------------------------------

/// The ids and names of this process's threads.
fn threads() -> Vec<(u32, String)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc/self/task")
        .into_iter()
        .flatten()
        .flatten()
    {
        let Ok(tid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let comm = std::fs::read_to_string(e.path().join("comm")).unwrap_or_default();
        out.push((tid, comm.trim().to_string()));
    }
    out
}

fn server_tids(rt: Rt) -> Vec<u32> {
    threads()
        .into_iter()
        .filter(|(_, name)| rt.threads().iter().any(|p| name.starts_with(p)))
        .map(|(tid, _)| tid)
        .collect()
}

/// CPU time (ns) the threads `tids` have run, from `schedstat`.
fn cpu_ns(tids: &[u32]) -> u64 {
    tids.iter()
        .filter_map(|t| std::fs::read_to_string(format!("/proc/self/task/{t}/schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

/// One measurement of one server.
struct Sample {
    rps: f64,
    p50_us: u32,
    p99_us: u32,
    cpu_us_per_req: f64,
}

/// The CPUs named by the environment variable `var` (`0,1`, `2-5`, or a
/// mix); `None` if it is unset or empty.
fn cpus_from_env(var: &str) -> Option<Vec<usize>> {
    let v = std::env::var(var).ok().filter(|v| !v.trim().is_empty())?;
    let bad = || panic!("{var}={v:?}: expected a CPU list such as 0,1 or 2-5");
    let mut cpus = Vec::new();
    for part in v.split(',') {
        let part = part.trim();
        let (a, b) = part.split_once('-').unwrap_or((part, part));
        let (a, b): (usize, usize) = match (a.trim().parse(), b.trim().parse()) {
            (Ok(a), Ok(b)) if a <= b => (a, b),
            _ => bad(),
        };
        cpus.extend(a..=b);
    }
    Some(cpus)
}

/// Pins the threads `tids` of this process (0: the calling thread) to
/// `cpus`. Fails loudly: a bench that silently ran unpinned would be
/// reported as pinned.
fn pin(tids: &[u32], cpus: &[usize]) {
    // SAFETY: `cpu_set_t` is plain data; all zeroes is the empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    for &c in cpus {
        assert!(c < libc::CPU_SETSIZE as usize, "CPU {c} out of range");
        // SAFETY: `c` is below CPU_SETSIZE, checked above.
        unsafe { libc::CPU_SET(c, &mut set) };
    }
    for &tid in tids {
        // SAFETY: `set` is a valid, initialised `cpu_set_t` of the size
        // passed; the kernel only reads it.
        let rc = unsafe {
            libc::sched_setaffinity(tid as libc::pid_t, std::mem::size_of_val(&set), &set)
        };
        assert!(
            rc == 0,
            "pinning thread {tid} to CPUs {cpus:?}: {}",
            io::Error::last_os_error()
        );
    }
}

fn measure(rt: Rt, server: &Server, path: &str, conns: usize, window: Duration) -> Sample {
    let tids = server_tids(rt);
    if let Some(cpus) = cpus_from_env("BENCH_HTTP_SERVER_CPUS") {
        pin(&tids, &cpus);
    }
    let client = Client::start(server.addr, path, conns);
    std::thread::sleep(Duration::from_millis(300)); // warm-up
    client.measuring.store(true, Relaxed);
    let (from, cpu_from, start) = (client.completed(), cpu_ns(&tids), Instant::now());
    std::thread::sleep(window);
    let (to, cpu_to, elapsed) = (client.completed(), cpu_ns(&tids), start.elapsed());
    client.measuring.store(false, Relaxed);
    let lat = client.finish();
    let reqs = (to - from).max(1) as f64;
    let pct = |p: f64| {
        if lat.is_empty() {
            0
        } else {
            lat[((lat.len() - 1) as f64 * p) as usize]
        }
    };
    Sample {
        rps: reqs / elapsed.as_secs_f64(),
        p50_us: pct(0.50),
        p99_us: pct(0.99),
        cpu_us_per_req: (cpu_to - cpu_from) as f64 / 1000.0 / reqs,
    }
}

/// `BENCH_HTTP_SERVE=<runtime>`: serve until killed (for wrk / strace).
pub(crate) fn serve_forever(name: &str) -> ! {
    let rt = Rt::ALL
        .into_iter()
        .find(|r| r.name() == name)
        .unwrap_or_else(|| panic!("BENCH_HTTP_SERVE={name}: expected windlass, tokio or smol"));
    let port = std::env::var("BENCH_HTTP_PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(8080);
    let server = start(rt, port);
    eprintln!(
        "{} serving on http://{} (pid {})",
        rt.name(),
        server.addr,
        std::process::id()
    );
    loop {
        std::thread::park();
    }
}

/// The group: every route, connection count and server, in rounds.
pub(crate) fn run(quick: bool) {
    let env = |k: &str, d: u64| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let window = Duration::from_millis(if quick {
        100
    } else {
        env("BENCH_HTTP_MS", 2000)
    });
    let rounds = if quick {
        1
    } else {
        env("BENCH_HTTP_ROUNDS", 3) as usize
    };
    let servers: Vec<(Rt, Server)> = Rt::ALL.into_iter().map(|rt| (rt, start(rt, 0))).collect();
    let placement = match (
        cpus_from_env("BENCH_HTTP_SERVER_CPUS"),
        cpus_from_env("BENCH_HTTP_CLIENT_CPUS"),
    ) {
        (None, None) => String::from("unpinned"),
        (s, c) => format!("server pinned to CPUs {s:?}, client to {c:?}"),
    };
    println!(
        "\nHTTP/1.1 keep-alive, hyper 1.x, {WORKERS} server workers each, client on its own thread \
         ({placement}); median of {rounds} round(s) of {window:?}:\n"
    );
    println!(
        "| route | conns | runtime | req/s | vs tokio | p50 µs | p99 µs | server CPU µs/req |"
    );
    println!("|---|---:|---|---:|---:|---:|---:|---:|");
    for (route, path) in [("hello", "/"), ("hash 4 KiB", "/hash")] {
        for conns in [64, 256] {
            let mut samples: Vec<Vec<Sample>> = (0..servers.len()).map(|_| Vec::new()).collect();
            for round in 0..rounds {
                for k in 0..servers.len() {
                    let i = (k + round) % servers.len();
                    let (rt, server) = &servers[i];
                    samples[i].push(measure(*rt, server, path, conns, window));
                }
            }
            let medians: Vec<&Sample> = samples
                .iter_mut()
                .map(|s| {
                    s.sort_by(|a, b| a.rps.total_cmp(&b.rps));
                    &s[s.len() / 2]
                })
                .collect();
            let tokio_rps = medians[1].rps;
            for ((rt, _), m) in servers.iter().zip(&medians) {
                println!(
                    "| {route} | {conns} | {} | {:.0} | {:.2} | {} | {} | {:.1} |",
                    rt.name(),
                    m.rps,
                    m.rps / tokio_rps,
                    m.p50_us,
                    m.p99_us,
                    m.cpu_us_per_req,
                );
            }
        }
    }
}
