//! aiohttp's `ClientSession` example, on hyper and windlass
//! (`windlass::hyper`):
//!
//! ```python
//! async with aiohttp.ClientSession() as session:
//!     async with session.get('http://python.org') as response:
//!         print("Status:", response.status)
//!         print("Content-type:", response.headers['content-type'])
//!         html = await response.text()
//!         print("Body:", html[:15], "...")
//! ```
//!
//! A [`Session`] keeps one keep-alive connection per host and reuses it
//! for every request to that host, as a `ClientSession` pools them.
//! `cargo run --example http_client --features hyper -- http://HOST/PATH`
//! fetches a URL (plain http); Ctrl+C stops it cleanly. Without arguments
//! it checks its own claims against a small server of its own on loopback:
//! five requests, one connection.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper::{Request, Response, Uri};
use windlass::hyper::WindlassIo;
use windlass::net::{TcpListener, TcpStream};

/// aiohttp's `ClientSession`: one open connection per `host:port`, reused.
#[derive(Default)]
struct Session {
    conns: HashMap<String, SendRequest<Full<Bytes>>>,
}

/// What `session.get()` gives back: status, headers, and the whole body.
struct Reply {
    status: u16,
    content_type: String,
    text: String,
}

type Error = Box<dyn std::error::Error + Send + Sync>;

impl Session {
    async fn get(&mut self, url: &str) -> Result<Reply, Error> {
        let uri: Uri = url.parse()?;
        if uri.scheme_str() != Some("http") {
            return Err(format!("{url}: only http:// URLs (this example has no TLS)").into());
        }
        let host = uri.host().ok_or("URL without a host")?.to_string();
        let key = format!("{host}:{}", uri.port_u16().unwrap_or(80));
        // Reuse the host's connection while it is open (keep-alive).
        if self.conns.get(&key).is_none_or(|s| s.is_closed()) {
            let stream = TcpStream::connect(key.clone()).await?;
            let (sender, conn) =
                hyper::client::conn::http1::handshake(WindlassIo::new(stream)).await?;
            windlass::spawn(async move {
                let _ = conn.await;
            });
            self.conns.insert(key.clone(), sender);
        }
        let sender = self.conns.get_mut(&key).expect("inserted above");
        sender.ready().await?;
        let path = uri.path_and_query().map_or("/", |p| p.as_str());
        let req = Request::get(path)
            .header("host", host)
            .body(Full::new(Bytes::new()))?;
        let res = sender.send_request(req).await?;
        let status = res.status().as_u16();
        let content_type = res
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let body = res.into_body().collect().await?.to_bytes();
        Ok(Reply {
            status,
            content_type,
            text: String::from_utf8_lossy(&body).into_owned(),
        })
    }
}

/// The example's `main` body for one URL.
async fn fetch(session: &mut Session, url: &str) -> Result<Reply, Error> {
    let reply = session.get(url).await?;
    println!("Status: {}", reply.status);
    println!("Content-type: {}", reply.content_type);
    let head: String = reply.text.chars().take(15).collect();
    println!("Body: {head:?} ...");
    Ok(reply)
}

fn main() {
    let rt = windlass::Runtime::new().expect("runtime");
    if let Some(url) = std::env::args().nth(1) {
        rt.block_on(async {
            let mut session = Session::default();
            let work = async { Some(fetch(&mut session, &url).await) };
            let interrupted = async {
                let _ = windlass::signal::ctrl_c().await;
                None
            };
            match futures_lite::future::or(work, interrupted).await {
                Some(Ok(_)) => {}
                Some(Err(e)) => eprintln!("error: {e}"),
                None => println!("Ctrl+C: stopped; the session's connections are closed"),
            }
        });
        return;
    }
    rt.block_on(self_check());
}

/// A loopback server that counts its connections, and five requests.
async fn self_check() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let connections = Arc::new(AtomicUsize::new(0));
    let counted = connections.clone();
    windlass::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            counted.fetch_add(1, SeqCst);
            let page =
                hyper::service::service_fn(|req: Request<hyper::body::Incoming>| async move {
                    let body = format!("<!doctype html><title>{}</title>", req.uri().path());
                    Ok::<_, std::convert::Infallible>(
                        Response::builder()
                            .header("content-type", "text/html; charset=utf-8")
                            .body(Full::new(Bytes::from(body)))
                            .expect("response"),
                    )
                });
            windlass::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(WindlassIo::new(stream), page)
                    .await;
            });
        }
    });

    let mut session = Session::default();
    for i in 0..5 {
        let reply = fetch(&mut session, &format!("http://{addr}/page/{i}"))
            .await
            .expect("get");
        assert_eq!(reply.status, 200);
        assert_eq!(reply.content_type, "text/html; charset=utf-8");
        assert_eq!(
            reply.text,
            format!("<!doctype html><title>/page/{i}</title>")
        );
    }
    let err = session
        .get("https://example.invalid/")
        .await
        .err()
        .expect("https refused");
    assert!(err.to_string().contains("only http://"));
    println!(
        "claim: 5 requests, 5 answers checked, over {} connection(s)",
        connections.load(SeqCst)
    );
    assert_eq!(
        connections.load(SeqCst),
        1,
        "the session did not reuse its connection"
    );
    println!("all claims checked: OK");
}
