//! aiohttp's hello-world server, on hyper and windlass (`windlass::hyper`):
//!
//! ```python
//! from aiohttp import web
//!
//! async def handle(request):
//!     name = request.match_info.get('name', "Anonymous")
//!     text = "Hello, " + name
//!     return web.Response(text=text)
//!
//! app = web.Application()
//! app.add_routes([web.get('/', handle),
//!                 web.get('/{name}', handle)])
//! web.run_app(app)
//! ```
//!
//! `cargo run --example http_server --features hyper -- serve` serves on
//! http://127.0.0.1:8080 until Ctrl+C, then shuts down gracefully (as
//! `run_app` does): it stops accepting, lets the requests in flight finish,
//! and returns. Without arguments it checks its own claims: it serves on a
//! free port, asks itself a few questions over one keep-alive connection,
//! presses Ctrl+C itself (a SIGINT to its own process) and checks that the
//! shutdown was graceful.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::server::graceful::GracefulShutdown;
use windlass::hyper::{WindlassIo, WindlassTimer};
use windlass::net::{TcpListener, TcpStream};

/// aiohttp's `handle`: "Hello, " and the name in the path, or "Anonymous".
async fn handle(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let name = match req.uri().path().trim_start_matches('/') {
        "" => "Anonymous",
        name => name,
    };
    Ok(Response::new(Full::new(Bytes::from(format!(
        "Hello, {name}"
    )))))
}

/// `web.run_app`: serves until Ctrl+C, then shuts down gracefully.
/// Returns the number of connections served.
async fn run_app(listener: TcpListener) -> usize {
    let graceful = GracefulShutdown::new();
    let mut ctrl_c = std::pin::pin!(windlass::signal::ctrl_c());
    let mut served = 0;
    // Backs off on EMFILE-type errors, skips per-connection ones.
    let mut backoff = windlass::net::AcceptBackoff::new();
    loop {
        let accepted = futures_lite::future::or(
            async {
                let _ = (&mut ctrl_c).await;
                None
            },
            async { Some(backoff.accept(&listener).await) },
        );
        let stream = match accepted.await {
            None => break, // Ctrl+C
            Some(Ok((stream, _))) => stream,
            // Only errors that are neither: the listener itself is broken.
            Some(Err(e)) => panic!("accept: {e}"),
        };
        served += 1;
        let conn = hyper::server::conn::http1::Builder::new()
            .timer(WindlassTimer::new())
            .serve_connection(WindlassIo::new(stream), hyper::service::service_fn(handle));
        let conn = graceful.watch(conn);
        windlass::spawn(async move {
            let _ = conn.await; // a client that misbehaves only loses its own connection
        });
    }
    drop(listener);
    println!("Ctrl+C: no new connections; finishing the requests in flight");
    graceful.shutdown().await;
    served
}

/// GET `path` on an open client connection; the body as text.
async fn get(
    sender: &mut hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    addr: SocketAddr,
    path: &str,
) -> String {
    sender.ready().await.expect("connection ready");
    let req = Request::get(format!("http://{addr}{path}"))
        .body(Full::new(Bytes::new()))
        .expect("request");
    let res = sender.send_request(req).await.expect("response");
    assert_eq!(res.status(), 200);
    let body = res.into_body().collect().await.expect("body").to_bytes();
    String::from_utf8(body.to_vec()).expect("text")
}

fn main() {
    let rt = windlass::Runtime::new().expect("runtime");
    if std::env::args().nth(1).as_deref() == Some("serve") {
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:8080")
                .await
                .expect("bind 8080");
            println!("======== Running on http://127.0.0.1:8080 ========\n(Press CTRL+C to quit)");
            let served = run_app(listener).await;
            println!("served {served} connection(s); bye");
        });
        return;
    }
    rt.block_on(self_check());
}

/// Serves on a free port, asks itself, presses Ctrl+C, checks.
async fn self_check() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    println!("======== Running on http://{addr} ========");
    let server = windlass::spawn(run_app(listener));

    let stream = TcpStream::connect(addr).await.expect("connect");
    let (mut sender, conn) = hyper::client::conn::http1::handshake(WindlassIo::new(stream))
        .await
        .expect("handshake");
    let client_conn = windlass::spawn(conn);
    let answers = Arc::new(AtomicUsize::new(0));
    for (path, expected) in [
        ("/", "Hello, Anonymous"),
        ("/windlass", "Hello, windlass"),
        ("/aiohttp", "Hello, aiohttp"),
    ] {
        let text = get(&mut sender, addr, path).await;
        println!("GET {path:<10} -> {text}");
        assert_eq!(text, expected);
        answers.fetch_add(1, SeqCst);
    }

    // Ctrl+C while our keep-alive connection is still open: the graceful
    // shutdown closes it (it is idle) and the server returns.
    println!("(pressing Ctrl+C: SIGINT to pid {})", std::process::id());
    rustix::process::kill_process(rustix::process::getpid(), rustix::process::Signal::INT)
        .expect("send SIGINT to ourselves");
    let served = windlass::time::timeout(std::time::Duration::from_secs(30), server)
        .await
        .expect("the server shut down within 30 s")
        .expect("server task");
    // The idle keep-alive connection was closed by the server, so the
    // client's connection task ends too.
    windlass::time::timeout(std::time::Duration::from_secs(30), client_conn)
        .await
        .expect("the server closed our idle connection")
        .expect("client connection task")
        .expect("clean close");
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "still accepting after shutdown"
    );

    println!(
        "claim: 3 answers over 1 keep-alive connection: {} over {served}",
        answers.load(SeqCst)
    );
    assert_eq!((answers.load(SeqCst), served), (3, 1));
    println!("claim: Ctrl+C stopped the server gracefully (idle connection closed, port closed)");
    println!("all claims checked: OK");
}
