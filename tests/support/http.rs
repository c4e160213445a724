//! Shared by the `http` tests (feature `hyper`): a hyper server and client
//! on windlass and on tokio, the routes, and the descriptor count.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::server::graceful::GracefulShutdown;
use windlass::hyper::{WindlassExecutor, WindlassIo, WindlassTimer};
use windlass::net::{TcpListener, TcpStream};
use windlass::sync::Event;

/// Which HTTP version a connection speaks (HTTP/2 in the clear: h2c).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proto {
    H1,
    H2,
}

/// Body sizes every round trip is tried with, up to 1 MiB.
pub const SIZES: [usize; 6] = [0, 1, 100, 4096, 65_537, 1 << 20];

/// A body of `len` bytes that is not all one value.
pub fn body(len: usize) -> Bytes {
    (0..len)
        .map(|i| (i * 31 % 251) as u8)
        .collect::<Vec<u8>>()
        .into()
}

/// The routes: `GET /hello` says hello, `POST /echo` returns the body.
/// Counts the requests it answered.
pub async fn route(
    req: Request<Incoming>,
    count: Arc<AtomicUsize>,
) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let res = match (req.method().as_str(), req.uri().path()) {
        ("GET", "/hello") => Response::new(Full::new(Bytes::from_static(b"hello"))),
        ("POST", "/echo") => {
            let body = req.into_body().collect().await?.to_bytes();
            Response::new(Full::new(body))
        }
        _ => {
            let mut res = Response::new(Full::new(Bytes::new()));
            *res.status_mut() = StatusCode::NOT_FOUND;
            res
        }
    };
    count.fetch_add(1, SeqCst);
    Ok(res)
}

/// A windlass-hosted hyper server: its address, the requests it answered,
/// and how to stop it.
pub struct Server {
    pub addr: SocketAddr,
    pub requests: Arc<AtomicUsize>,
    /// Connections that ended in an error (bad input, resets, timeouts).
    pub conn_errors: Arc<AtomicUsize>,
    stop: Arc<Event>,
    task: windlass::JoinHandle<usize>,
}

/// Options of [`Server::start`].
#[derive(Clone, Copy)]
pub struct Options {
    pub proto: Proto,
    /// HTTP/1 header-read timeout (hyper's default, 30 s, if `None`).
    pub header_timeout: Option<Duration>,
}

impl Server {
    /// Starts serving on an ephemeral loopback port, on the current runtime.
    pub async fn start(opts: Options) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(AtomicUsize::new(0));
        let conn_errors = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(Event::new());
        let task = windlass::spawn(accept_loop(
            listener,
            opts,
            requests.clone(),
            conn_errors.clone(),
            stop.clone(),
        ));
        Server {
            addr,
            requests,
            conn_errors,
            stop,
            task,
        }
    }

    /// Graceful shutdown: stop accepting, let every open connection finish
    /// its requests in flight, then return how many connections were served.
    pub async fn shutdown(self) -> usize {
        self.stop.set();
        self.task.await.unwrap()
    }
}

async fn accept_loop(
    listener: TcpListener,
    opts: Options,
    requests: Arc<AtomicUsize>,
    conn_errors: Arc<AtomicUsize>,
    stop: Arc<Event>,
) -> usize {
    let graceful = GracefulShutdown::new();
    let mut served = 0;
    loop {
        // The stop signal first: once it is set, nothing more is accepted.
        let next = futures_lite::future::or(
            async {
                stop.wait().await;
                None
            },
            async { Some(listener.accept().await) },
        );
        let (stream, _) = match next.await {
            None => break,
            Some(Ok(accepted)) => accepted,
            // One failed accept (a reset in the backlog, EMFILE) is not the
            // end of the server: back off a little and go on.
            Some(Err(_)) => {
                windlass::time::sleep(Duration::from_millis(5)).await;
                continue;
            }
        };
        served += 1;
        let (count, errors) = (requests.clone(), conn_errors.clone());
        let svc = hyper::service::service_fn(move |req| route(req, count.clone()));
        let io = WindlassIo::new(stream);
        match opts.proto {
            Proto::H1 => {
                let mut b = hyper::server::conn::http1::Builder::new();
                b.timer(WindlassTimer::new());
                if let Some(t) = opts.header_timeout {
                    b.header_read_timeout(t);
                }
                let conn = graceful.watch(b.serve_connection(io, svc));
                windlass::spawn(async move {
                    if conn.await.is_err() {
                        errors.fetch_add(1, SeqCst);
                    }
                });
            }
            Proto::H2 => {
                let mut b = hyper::server::conn::http2::Builder::new(WindlassExecutor::new());
                b.timer(WindlassTimer::new());
                let conn = graceful.watch(b.serve_connection(io, svc));
                windlass::spawn(async move {
                    if conn.await.is_err() {
                        errors.fetch_add(1, SeqCst);
                    }
                });
            }
        }
    }
    drop(listener);
    graceful.shutdown().await;
    served
}

/// A hyper client connection on windlass.
pub enum Client {
    H1(hyper::client::conn::http1::SendRequest<Full<Bytes>>),
    H2(hyper::client::conn::http2::SendRequest<Full<Bytes>>),
}

impl Client {
    pub async fn connect(addr: SocketAddr, proto: Proto) -> Client {
        let io = WindlassIo::new(TcpStream::connect(addr).await.unwrap());
        match proto {
            Proto::H1 => {
                let (send, conn) = hyper::client::conn::http1::handshake(io).await.unwrap();
                windlass::spawn(conn);
                Client::H1(send)
            }
            Proto::H2 => {
                let (send, conn) =
                    hyper::client::conn::http2::Builder::new(WindlassExecutor::new())
                        .timer(WindlassTimer::new())
                        .handshake(io)
                        .await
                        .unwrap();
                windlass::spawn(conn);
                Client::H2(send)
            }
        }
    }

    /// Sends one request; the status and the whole response body.
    pub async fn send(&mut self, req: Request<Full<Bytes>>) -> hyper::Result<(StatusCode, Bytes)> {
        let res = match self {
            Client::H1(s) => {
                s.ready().await?;
                s.send_request(req).await?
            }
            Client::H2(s) => {
                s.ready().await?;
                s.send_request(req).await?
            }
        };
        let status = res.status();
        Ok((status, res.into_body().collect().await?.to_bytes()))
    }
}

/// `POST /echo` with `body`.
pub fn echo_request(addr: SocketAddr, body: Bytes) -> Request<Full<Bytes>> {
    Request::post(format!("http://{addr}/echo"))
        .body(Full::new(body))
        .unwrap()
}

/// `GET /hello`.
pub fn hello_request(addr: SocketAddr) -> Request<Full<Bytes>> {
    Request::get(format!("http://{addr}/hello"))
        .body(Full::new(Bytes::new()))
        .unwrap()
}

/// Descriptors open in this process now.
pub fn fd_count() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// The kernel's count of connections dropped because a listener's queue
/// was full (`TcpExtListenOverflows` in `/proc/net/netstat`), for this
/// network namespace: every process in it, not only this one. `None` where
/// the file or the counter is missing.
pub fn listen_overflows() -> Option<u64> {
    let netstat = std::fs::read_to_string("/proc/net/netstat").ok()?;
    // Pairs of lines: "TcpExt: Name Name ..." then "TcpExt: 1 2 ...".
    let mut lines = netstat.lines().filter(|l| l.starts_with("TcpExt:"));
    let (names, values) = (lines.next()?, lines.next()?);
    let at = names
        .split_whitespace()
        .position(|n| n == "ListenOverflows")?;
    values.split_whitespace().nth(at)?.parse().ok()
}

/// Waits (polling every 10 ms, up to 20 s) until the descriptor count is
/// back to `baseline` or lower; returns the last count seen. Closing is
/// asynchronous (connection tasks end after their peers go), so the test
/// waits for the count instead of sleeping a fixed time.
pub async fn settle_fds(baseline: usize) -> usize {
    let mut now = fd_count();
    for _ in 0..2000 {
        if now <= baseline {
            break;
        }
        windlass::time::sleep(Duration::from_millis(10)).await;
        now = fd_count();
    }
    now
}

/// The routes on a tokio-hosted hyper server, in a thread of its own: the
/// address, the request count, and a sender that stops it.
pub fn tokio_server(
    proto: Proto,
) -> (
    SocketAddr,
    Arc<AtomicUsize>,
    tokio::sync::oneshot::Sender<()>,
    std::thread::JoinHandle<()>,
) {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    let requests = Arc::new(AtomicUsize::new(0));
    let (stop_tx, mut stop_rx) = tokio::sync::oneshot::channel::<()>();
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let count = requests.clone();
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            addr_tx.send(listener.local_addr().unwrap()).unwrap();
            let graceful = GracefulShutdown::new();
            loop {
                let (stream, _) = tokio::select! {
                    r = listener.accept() => r.unwrap(),
                    _ = &mut stop_rx => break,
                };
                let count = count.clone();
                let svc = hyper::service::service_fn(move |req| route(req, count.clone()));
                let io = TokioIo::new(stream);
                match proto {
                    Proto::H1 => {
                        let conn = graceful.watch(
                            hyper::server::conn::http1::Builder::new()
                                .timer(TokioTimer::new())
                                .serve_connection(io, svc),
                        );
                        tokio::spawn(conn);
                    }
                    Proto::H2 => {
                        let conn = graceful.watch(
                            hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                                .serve_connection(io, svc),
                        );
                        tokio::spawn(conn);
                    }
                }
            }
            graceful.shutdown().await;
        });
    });
    (addr_rx.recv().unwrap(), requests, stop_tx, thread)
}
