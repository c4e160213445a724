//! The seed tutorial's crawler, over real sockets on loopback:
//!
//! ```python
//! async def fetch(session, url):
//!     print(f"Send Request: {url}")
//!     async with session.get(url, verify_ssl=False) as response:
//!         text = await response.text()
//!         print("Getting results:", url, len(text))
//!
//! async def main():
//!     async with aiohttp.ClientSession() as session:
//!         tasks = [asyncio.create_task(fetch(session, url)) for url in url_list]
//!         await asyncio.wait(tasks)
//! ```
//!
//! There is no HTTP library on windlass yet (hyper support is not yet in
//! windlass), so both ends speak a few lines of HTTP/1.0 by hand over
//! `windlass::net`: a server that answers `/pages/N` after N "seconds"
//! (each connection in its own task), and a `fetch` that connects, sends
//! the request and reads the reply to the end. The crawl runs every fetch
//! as a task, so the slow pages overlap; the server measures how many
//! connections it held at once. One "second" is 100 ms.
//!
//! Run it with `cargo run --example crawler`. It checks its own claims.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures_lite::{AsyncReadExt, AsyncWriteExt};
use windlass::join::{ReturnWhen, wait};
use windlass::net::{AcceptBackoff, TcpListener, TcpStream};
use windlass::time::sleep;

/// One second of the Python original.
const UNIT: Duration = Duration::from_millis(100);

/// Connections open at the server now, and the most seen.
#[derive(Default)]
struct Load {
    now: AtomicUsize,
    peak: AtomicUsize,
}

/// Reads a request head (up to the blank line) and returns its path.
async fn read_path(conn: &mut TcpStream) -> io::Result<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if conn.read(&mut byte).await? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head);
    let path = head.split_whitespace().nth(1).unwrap_or("/");
    Ok(path.to_string())
}

/// Serves one connection: `/pages/N` takes N units and returns N*100 bytes.
async fn serve(mut conn: TcpStream, load: Arc<Load>) -> io::Result<()> {
    let n = load.now.fetch_add(1, Ordering::SeqCst) + 1;
    load.peak.fetch_max(n, Ordering::SeqCst);
    let path = read_path(&mut conn).await?;
    let secs: u32 = path.trim_start_matches("/pages/").parse().unwrap_or(0);
    sleep(UNIT * secs).await; // a slow page
    let body = "x".repeat(secs as usize * 100);
    let reply = format!(
        "HTTP/1.0 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    conn.write_all(reply.as_bytes()).await?;
    load.now.fetch_sub(1, Ordering::SeqCst);
    Ok(())
}

/// The server: every connection in its own task.
///
/// `AcceptBackoff` is the accept loop to copy: out of file descriptors
/// (`EMFILE`), it waits a little and retries instead of dying or spinning;
/// a connection that died before it was accepted is skipped. Only an error
/// of the listener itself ends the loop.
async fn server(listener: TcpListener, load: Arc<Load>) {
    let mut backoff = AcceptBackoff::new();
    loop {
        let (conn, _) = match backoff.accept(&listener).await {
            Ok(accepted) => accepted,
            Err(e) => {
                eprintln!("server: the listener failed, stopping: {e}");
                return;
            }
        };
        let load = load.clone();
        windlass::spawn(async move {
            if let Err(e) = serve(conn, load).await {
                eprintln!("server: a connection failed: {e}");
            }
        });
    }
}

/// `session.get(url)` + `response.text()`: the status line and the body.
async fn fetch(addr: SocketAddr, path: String) -> io::Result<(String, usize)> {
    println!("Send Request: http://{addr}{path}");
    let mut conn = TcpStream::connect(addr).await?;
    conn.write_all(format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").as_bytes())
        .await?;
    let mut reply = String::new();
    conn.read_to_string(&mut reply).await?;
    let (head, body) = reply
        .split_once("\r\n\r\n")
        .ok_or(io::ErrorKind::InvalidData)?;
    let status = head.lines().next().unwrap_or_default().to_string();
    println!("Getting results: http://{addr}{path} {}", body.len());
    Ok((status, body.len()))
}

fn main() -> io::Result<()> {
    let rt = windlass::Runtime::new()?;
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let load = Arc::new(Load::default());
        let server = windlass::spawn(server(listener, load.clone()));

        let pages = [3u32, 1, 2, 3, 1];
        let start = Instant::now();
        let tasks = pages.map(|n| windlass::spawn(fetch(addr, format!("/pages/{n}"))));
        let (done, pending) = wait(tasks, ReturnWhen::AllCompleted, None).await;
        let took = start.elapsed();
        let sum: u32 = pages.iter().sum();
        let peak = load.peak.load(Ordering::SeqCst);
        println!(
            "crawled {} pages in {took:.2?} (one after another: {:.2?}); the server held {peak} connections at once",
            done.len(),
            UNIT * sum
        );
        assert!(pending.is_empty());
        let mut sizes = Vec::new();
        for result in done {
            let (status, len) = result.expect("fetch task")?;
            assert_eq!(status, "HTTP/1.0 200 OK");
            sizes.push(len);
        }
        sizes.sort();
        assert_eq!(sizes, [100, 100, 200, 300, 300], "every page arrived whole");
        assert!(took < UNIT * sum * 7 / 10, "the fetches overlapped: {took:?}");
        assert!(peak >= 2, "the server served connections concurrently: {peak}");

        server.abort();
        assert!(server.await.unwrap_err().is_cancelled());
        Ok::<(), io::Error>(())
    })?;
    println!("\nall claims checked: OK");
    Ok(())
}
