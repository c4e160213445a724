//! hyper 1.x on windlass (`windlass::hyper`), over loopback: HTTP/1.1 and
//! HTTP/2 (h2c), windlass server with windlass client, and windlass
//! against a tokio-hosted hyper in both directions. Exact request counts,
//! bodies up to 1 MiB, graceful shutdown.

use std::time::Duration;

use crate::support::http::{
    Client, Options, Proto, SIZES, Server, body, echo_request, hello_request, tokio_server,
};
use crate::support::{multi, watchdog};
use windlass::time::timeout;

const LONG: Duration = Duration::from_secs(30);

/// Every body size, echoed, then `hellos` plain requests, on one
/// connection. Returns the requests sent.
async fn exchange(client: &mut Client, addr: std::net::SocketAddr, hellos: usize) -> usize {
    for len in SIZES {
        let sent = body(len);
        let (status, got) = timeout(LONG, client.send(echo_request(addr, sent.clone())))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(status, 200);
        assert_eq!(got.len(), len);
        assert!(got == sent, "echoed body of {len} bytes differs");
    }
    for _ in 0..hellos {
        let (status, got) = client.send(hello_request(addr)).await.unwrap();
        assert_eq!((status.as_u16(), &got[..]), (200, &b"hello"[..]));
    }
    SIZES.len() + hellos
}

fn windlass_to_windlass(proto: Proto) {
    watchdog(move || {
        multi(2).block_on(async move {
            let server = Server::start(Options {
                proto,
                header_timeout: None,
            })
            .await;
            let addr = server.addr;
            // Four connections at once, each with its own requests.
            let clients: Vec<_> = (0..4)
                .map(|_| {
                    windlass::spawn(async move {
                        let mut c = Client::connect(addr, proto).await;
                        exchange(&mut c, addr, 25).await
                    })
                })
                .collect();
            let mut sent = 0;
            for c in clients {
                sent += c.await.unwrap();
            }
            assert_eq!(sent, 4 * (SIZES.len() + 25));
            assert_eq!(
                server.requests.load(std::sync::atomic::Ordering::SeqCst),
                sent
            );
            // The clients are gone: shutdown finds no connection in flight.
            let served = timeout(LONG, server.shutdown()).await.unwrap();
            assert_eq!(served, 4);
        });
    });
}

#[test]
fn http1_windlass_server_windlass_client() {
    windlass_to_windlass(Proto::H1);
}

#[test]
fn http2_windlass_server_windlass_client() {
    windlass_to_windlass(Proto::H2);
}

/// Many HTTP/2 requests in flight at once on one connection (streams are
/// tasks spawned by `WindlassExecutor`).
#[test]
fn http2_concurrent_streams_on_one_connection() {
    watchdog(|| {
        multi(2).block_on(async {
            let server = Server::start(Options {
                proto: Proto::H2,
                header_timeout: None,
            })
            .await;
            let addr = server.addr;
            let Client::H2(send) = Client::connect(addr, Proto::H2).await else {
                unreachable!()
            };
            let calls: Vec<_> = (0..64)
                .map(|i| {
                    let mut send = send.clone();
                    windlass::spawn(async move {
                        let res = send
                            .send_request(echo_request(addr, body(i * 1000)))
                            .await
                            .unwrap();
                        use http_body_util::BodyExt;
                        res.into_body().collect().await.unwrap().to_bytes().len()
                    })
                })
                .collect();
            for (i, c) in calls.into_iter().enumerate() {
                assert_eq!(c.await.unwrap(), i * 1000);
            }
            assert_eq!(
                server.requests.load(std::sync::atomic::Ordering::SeqCst),
                64
            );
            drop(send);
            assert_eq!(timeout(LONG, server.shutdown()).await.unwrap(), 1);
        });
    });
}

/// windlass client, tokio-hosted server.
fn windlass_client_tokio_server(proto: Proto) {
    watchdog(move || {
        let (addr, requests, stop, thread) = tokio_server(proto);
        let sent = multi(2).block_on(async move {
            let mut c = Client::connect(addr, proto).await;
            exchange(&mut c, addr, 50).await
        });
        assert_eq!(requests.load(std::sync::atomic::Ordering::SeqCst), sent);
        stop.send(()).unwrap();
        thread.join().unwrap();
    });
}

#[test]
fn http1_windlass_client_tokio_server() {
    windlass_client_tokio_server(Proto::H1);
}

#[test]
fn http2_windlass_client_tokio_server() {
    windlass_client_tokio_server(Proto::H2);
}

/// tokio-hosted client (hyper-util's `TokioIo`), windlass server.
fn tokio_client_windlass_server(proto: Proto) {
    use http_body_util::{BodyExt, Full};
    use hyper_util::rt::{TokioExecutor, TokioIo};
    watchdog(move || {
        let rt = multi(2);
        let server = rt.block_on(Server::start(Options {
            proto,
            header_timeout: None,
        }));
        let addr = server.addr;
        let tokio_rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let sent = tokio_rt.block_on(async move {
            let io = TokioIo::new(tokio::net::TcpStream::connect(addr).await.unwrap());
            let mut n = 0;
            macro_rules! run {
                ($send:expr) => {{
                    let mut send = $send;
                    for len in SIZES.into_iter().chain([0; 50]) {
                        let sent = body(len);
                        let req = echo_request(addr, sent.clone());
                        send.ready().await.unwrap();
                        let res = send.send_request(req).await.unwrap();
                        assert_eq!(res.status(), 200);
                        let got = res.into_body().collect().await.unwrap().to_bytes();
                        assert!(got == sent, "echoed body of {len} bytes differs");
                        n += 1;
                    }
                }};
            }
            match proto {
                Proto::H1 => {
                    let (send, conn) = hyper::client::conn::http1::handshake::<_, Full<_>>(io)
                        .await
                        .unwrap();
                    tokio::spawn(conn);
                    run!(send);
                }
                Proto::H2 => {
                    let (send, conn) = hyper::client::conn::http2::handshake::<_, _, Full<_>>(
                        TokioExecutor::new(),
                        io,
                    )
                    .await
                    .unwrap();
                    tokio::spawn(conn);
                    run!(send);
                }
            }
            n
        });
        drop(tokio_rt); // closes the client's connection
        assert_eq!(sent, SIZES.len() + 50);
        assert_eq!(
            server.requests.load(std::sync::atomic::Ordering::SeqCst),
            sent
        );
        let served = rt.block_on(async { timeout(LONG, server.shutdown()).await });
        assert_eq!(served.unwrap(), 1);
    });
}

#[test]
fn http1_tokio_client_windlass_server() {
    tokio_client_windlass_server(Proto::H1);
}

#[test]
fn http2_tokio_client_windlass_server() {
    tokio_client_windlass_server(Proto::H2);
}

/// Graceful shutdown with a request in flight: the server stops accepting,
/// the slow request still gets its whole answer, then the server returns.
#[test]
fn graceful_shutdown_finishes_the_request_in_flight() {
    watchdog(|| {
        multi(2).block_on(async {
            let server = Server::start(Options {
                proto: Proto::H1,
                header_timeout: None,
            })
            .await;
            let addr = server.addr;
            let c = Client::connect(addr, Proto::H1).await;
            // A 1 MiB body sent in pieces, so the request is in flight while
            // the shutdown starts.
            let (mut tx, body_stream) = futures_channel::mpsc::channel::<
                Result<hyper::body::Frame<hyper::body::Bytes>, std::convert::Infallible>,
            >(1);
            let req = hyper::Request::post(format!("http://{addr}/echo"))
                .body(http_body_util::StreamBody::new(body_stream))
                .unwrap();
            // A second connection type for the streamed body.
            let io = windlass::hyper::WindlassIo::new(
                windlass::net::TcpStream::connect(addr).await.unwrap(),
            );
            let (mut streaming, conn) = hyper::client::conn::http1::handshake(io).await.unwrap();
            windlass::spawn(conn);
            let response = windlass::spawn(async move {
                use http_body_util::BodyExt;
                let res = streaming.send_request(req).await.unwrap();
                res.into_body().collect().await.unwrap().to_bytes().len()
            });
            // The first piece arrives, so the server is inside the request.
            use futures::SinkExt;
            tx.send(Ok(hyper::body::Frame::data(body(1 << 19))))
                .await
                .unwrap();
            let requests = server.requests.clone();
            let stopping = windlass::spawn(server.shutdown());
            // New connections are refused once the listener is dropped.
            let mut refused = false;
            for _ in 0..200 {
                if windlass::net::TcpStream::connect(addr).await.is_err() {
                    refused = true;
                    break;
                }
                windlass::time::sleep(Duration::from_millis(5)).await;
            }
            assert!(refused, "the listener stayed open during shutdown");
            assert!(
                !stopping.is_finished(),
                "shutdown did not wait for the request in flight"
            );
            tx.send(Ok(hyper::body::Frame::data(body(1 << 19))))
                .await
                .unwrap();
            drop(tx);
            assert_eq!(timeout(LONG, response).await.unwrap().unwrap(), 1 << 20);
            drop(c);
            // The idle connection is closed by the shutdown, the busy one
            // after its response; a probe may have been accepted before
            // the listener closed.
            assert!(timeout(LONG, stopping).await.unwrap().unwrap() >= 2);
            assert_eq!(requests.load(std::sync::atomic::Ordering::SeqCst), 1);
        });
    });
}

/// One connection served through the owned halves of a Unix stream: the
/// server's `hyper::rt::Read` is a `WindlassIo<UnixOwnedReadHalf>` and its
/// `Write` a `WindlassIo<UnixOwnedWriteHalf>`, joined by [`Halves`] only
/// because hyper wants one object. Every body size is echoed exactly.
#[test]
fn http1_over_unix_owned_halves() {
    use std::pin::Pin;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    use std::task::{Context, Poll};

    use hyper::rt::{Read, ReadBufCursor, Write};
    use windlass::hyper::WindlassIo;
    use windlass::net::{UnixOwnedReadHalf, UnixOwnedWriteHalf, UnixStream};

    struct Halves(
        WindlassIo<UnixOwnedReadHalf>,
        WindlassIo<UnixOwnedWriteHalf>,
    );
    impl Read for Halves {
        fn poll_read(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: ReadBufCursor<'_>,
        ) -> Poll<std::io::Result<()>> {
            Pin::new(&mut self.0).poll_read(cx, buf)
        }
    }
    impl Write for Halves {
        fn poll_write(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<std::io::Result<usize>> {
            Pin::new(&mut self.1).poll_write(cx, buf)
        }
        fn poll_write_vectored(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            bufs: &[std::io::IoSlice<'_>],
        ) -> Poll<std::io::Result<usize>> {
            Pin::new(&mut self.1).poll_write_vectored(cx, bufs)
        }
        fn is_write_vectored(&self) -> bool {
            self.1.is_write_vectored()
        }
        fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
            Pin::new(&mut self.1).poll_flush(cx)
        }
        fn poll_shutdown(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
        ) -> Poll<std::io::Result<()>> {
            Pin::new(&mut self.1).poll_shutdown(cx)
        }
    }

    watchdog(|| {
        multi(2).block_on(async {
            let (client_end, server_end) = UnixStream::pair().unwrap();
            let answered = Arc::new(AtomicUsize::new(0));
            let count = answered.clone();
            let server = windlass::spawn(async move {
                let (read, write) = server_end.into_split();
                let io = Halves(WindlassIo::new(read), WindlassIo::new(write));
                let service = hyper::service::service_fn(move |req| {
                    crate::support::http::route(req, count.clone())
                });
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(io, service)
                    .await
                    .unwrap();
            });
            let (mut send, conn) =
                hyper::client::conn::http1::handshake(WindlassIo::new(client_end))
                    .await
                    .unwrap();
            let conn = windlass::spawn(conn);
            let addr: std::net::SocketAddr = "127.0.0.1:80".parse().unwrap();
            for len in SIZES {
                let sent = body(len);
                send.ready().await.unwrap();
                let res = timeout(LONG, send.send_request(echo_request(addr, sent.clone())))
                    .await
                    .unwrap()
                    .unwrap();
                assert_eq!(res.status(), 200);
                let got = http_body_util::BodyExt::collect(res.into_body())
                    .await
                    .unwrap()
                    .to_bytes();
                assert!(got == sent, "echoed body of {len} bytes differs");
            }
            drop(send);
            conn.await.unwrap().unwrap();
            timeout(LONG, server).await.unwrap().unwrap();
            assert_eq!(answered.load(SeqCst), SIZES.len());
        });
    });
}
