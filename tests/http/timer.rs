//! hyper's timeouts through `windlass::hyper::WindlassTimer`: measured on
//! the runtime's clock, virtual time included.

use std::convert::Infallible;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Request, Response};
use windlass::hyper::{WindlassIo, WindlassTimer};
use windlass::net::{TcpListener, TcpStream};
use windlass::runtime::Builder;

use crate::support::watchdog;

/// hyper computes its deadlines as `timer.now() + timeout` and hands them
/// to `sleep_until`, whose deadline is on the runtime's clock. `now()` was
/// hyper's default, the real clock: on a paused clock an hour ahead (as in
/// any `start_paused` test after one sleep), a 30 s header-read timeout lay
/// in the virtual past, and the server dropped every new connection at
/// once with `HeaderTimeout`. Now the timeout holds for 30 virtual seconds
/// and fires at 30.
#[test]
fn the_header_read_timeout_is_measured_on_the_runtimes_clock() {
    watchdog(|| {
        let rt = Builder::new_multi_thread()
            .worker_threads(2)
            .start_paused(true)
            .build()
            .unwrap();
        rt.block_on(async {
            windlass::time::sleep(Duration::from_secs(3600)).await;
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = windlass::spawn(async move {
                let (conn, _) = listener.accept().await.unwrap();
                let svc = hyper::service::service_fn(|_: Request<hyper::body::Incoming>| async {
                    Ok::<_, Infallible>(Response::new(Full::new(Bytes::from("hello"))))
                });
                let start = windlass::time::Instant::now();
                let res = hyper::server::conn::http1::Builder::new()
                    .timer(WindlassTimer::new())
                    .header_read_timeout(Duration::from_secs(30))
                    .serve_connection(WindlassIo::new(conn), svc)
                    .await;
                (res, start.elapsed())
            });
            // A client that never sends its request.
            let _client = TcpStream::connect(addr).await.unwrap();
            windlass::time::sleep(Duration::from_secs(10)).await;
            assert!(
                !server.is_finished(),
                "the server gave up after 10 s of a 30 s header timeout: {:?}",
                server.await
            );
            let (res, waited) = server.await.unwrap();
            assert!(res.unwrap_err().is_timeout());
            assert_eq!(waited, Duration::from_secs(30));
        });
    });
}
