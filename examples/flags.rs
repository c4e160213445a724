//! Download the flags: the seed tutorial's concurrent downloader, end to end
//! on windlass. The seed's core lines (Python, asyncio + aiohttp):
//!
//! ```python
//! with (await semaphore):                   # semaphore.acquire
//!     image = await get_flag(base_url, cc)
//!                                           # semaphore.release
//! ```
//!
//! and, because asyncio has no async files, each image is saved with
//! `loop.run_in_executor(...)` so the event loop never waits on the disk.
//!
//! What happens here:
//!
//! 1. A hyper HTTP/1.1 server (`windlass::hyper`, feature `hyper`) starts
//!    on `127.0.0.1:0`, on windlass itself, one task per connection,
//!    keep-alive. It serves 249 generated flags, `GET /flags/<cc>.ppm`
//!    (three coloured stripes per country code, as a PPM image), each after
//!    a simulated network delay of 20 to 60 ms; anything else gets a 404.
//!    Its accept loop backs off when the process runs out of descriptors
//!    and skips a connection that fails on its own.
//! 2. One spawned task per flag downloads it with a hyper client (aiohttp's
//!    part), at most 25 at a time: a `sync::Semaphore` is the
//!    `async with semaphore`. The client keeps its connections open and
//!    reuses them (a small pool, as an aiohttp `ClientSession` does), so the
//!    semaphore also bounds the connections: 25 at most for 279 requests.
//! 3. Each image is saved into a fresh temporary directory on the blocking
//!    pool (`spawn_blocking` is `run_in_executor`), then every file on disk is
//!    read back and compared with what the server generated.
//! 4. An `indicatif` progress bar on stderr; when stderr is not a terminal
//!    (CI, a pipe) a line at each quarter instead.
//! 5. A sample of the flags is downloaded again one after another, to show
//!    what the semaphore's overlap bought.
//!
//! Run it with `cargo run --release --example flags --features hyper`. It checks its own
//! claims and ends with `all claims checked: OK`.

use std::collections::HashSet;
use std::convert::Infallible;
use std::io::{self, IsTerminal};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_lite::StreamExt;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::{Bytes, Incoming};
use hyper::client::conn::http1::SendRequest;
use hyper::{Method, Request, StatusCode};
use windlass::hyper::WindlassIo;
use windlass::net::{TcpListener, TcpStream};
use windlass::sync::Semaphore;
use windlass::time::{sleep, timeout};

/// The ISO 3166 two-letter country codes: one flag each.
const COUNTRY_CODES: &str = "\
    ad ae af ag ai al am ao aq ar as at au aw ax az \
    ba bb bd be bf bg bh bi bj bl bm bn bo bq br bs bt bv bw by bz \
    ca cc cd cf cg ch ci ck cl cm cn co cr cu cv cw cx cy cz \
    de dj dk dm do dz ec ee eg eh er es et fi fj fk fm fo fr \
    ga gb gd ge gf gg gh gi gl gm gn gp gq gr gs gt gu gw gy \
    hk hm hn hr ht hu id ie il im in io iq ir is it je jm jo jp \
    ke kg kh ki km kn kp kr kw ky kz la lb lc li lk lr ls lt lu lv ly \
    ma mc md me mf mg mh mk ml mm mn mo mp mq mr ms mt mu mv mw mx my mz \
    na nc ne nf ng ni nl no np nr nu nz om \
    pa pe pf pg ph pk pl pm pn pr ps pt pw py qa re ro rs ru rw \
    sa sb sc sd se sg sh si sj sk sl sm sn so sr ss st sv sx sy sz \
    tc td tf tg th tj tk tl tm tn to tr tt tv tw tz \
    ua ug um us uy uz va vc ve vg vi vn vu wf ws ye yt za zm zw";

/// Downloads in flight at once: the semaphore's permits.
const PERMITS: usize = 25;

/// Flags timed one after another, to estimate the sequential time.
const SAMPLE: usize = 30;

/// Width and height of a flag, in pixels.
const FLAG_SIZE: (usize, usize) = (96, 64);

/// The simulated network delay of one request lies in this range (ms).
const DELAY_MS: (u64, u64) = (20, 60);

/// How long one download may take before it counts as failed.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------------------
// The flags: generated, so the server and the checker agree without files.
// ---------------------------------------------------------------------------

/// Every country code, in the order they are requested.
fn country_codes() -> Vec<&'static str> {
    COUNTRY_CODES.split_whitespace().collect()
}

/// splitmix64: a few lines of good mixing, so one code gives stable
/// "random" colours and delays.
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The `i`th pseudo-random number of country `cc`. (The code's bytes leave
/// the low four bits free for `i`, so no two codes share a number.)
fn dice(cc: &str, i: u64) -> u64 {
    let seed = cc.bytes().fold(0, |acc, b| acc << 8 | u64::from(b));
    mix(seed << 4 | i)
}

/// The flag of `cc`: a binary PPM image of three stripes, horizontal or
/// vertical, in colours derived from the code.
fn flag_image(cc: &str) -> Vec<u8> {
    let colours: [[u8; 3]; 3] = std::array::from_fn(|i| {
        let [r, g, b, ..] = dice(cc, i as u64).to_le_bytes();
        [r, g, b]
    });
    let vertical = dice(cc, 3) & 1 == 1;
    let (w, h) = FLAG_SIZE;
    let mut image = format!("P6\n# flag {cc}\n{w} {h}\n255\n").into_bytes();
    for y in 0..h {
        for x in 0..w {
            let stripe = if vertical { x * 3 / w } else { y * 3 / h };
            image.extend_from_slice(&colours[stripe]);
        }
    }
    image
}

/// How long the "network" takes to answer for `cc`.
fn delay_for(cc: &str) -> Duration {
    let (lo, hi) = DELAY_MS;
    Duration::from_millis(lo + dice(cc, 4) % (hi - lo + 1))
}

/// Length and FNV-1a hash: enough to tell two images apart.
fn fingerprint(bytes: &[u8]) -> (usize, u64) {
    let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    (bytes.len(), hash)
}

// ---------------------------------------------------------------------------
// The server: hyper on windlass.
// ---------------------------------------------------------------------------

/// What the server saw, shared by its connection tasks.
#[derive(Default)]
struct ServerStats {
    /// Requests between "head read" and "answer starts": see `serve_flag`.
    in_flight: AtomicUsize,
    /// The most `in_flight` ever was.
    peak: AtomicUsize,
    /// Flags served with a 200.
    served: AtomicUsize,
    /// Connections accepted.
    connections: AtomicUsize,
}

/// Accepts connections forever, one task each, serving HTTP/1.1 with
/// keep-alive. `AcceptBackoff` waits and retries when the process is out of
/// descriptors and skips errors that belong to one connection (a reset in
/// the backlog); any other error means the listener is broken.
async fn serve(listener: TcpListener, stats: Arc<ServerStats>) {
    let mut backoff = windlass::net::AcceptBackoff::new();
    loop {
        let stream = match backoff.accept(&listener).await {
            Ok((stream, _)) => stream,
            Err(e) => {
                eprintln!("server: accept failed, stopping: {e}");
                return;
            }
        };
        // Relaxed: a counter read once every download is done.
        stats.connections.fetch_add(1, Ordering::Relaxed);
        let stats = stats.clone();
        windlass::spawn(async move {
            let service = hyper::service::service_fn(move |req| handle(req, stats.clone()));
            if let Err(e) = hyper::server::conn::http1::Builder::new()
                .serve_connection(WindlassIo::new(stream), service)
                .await
            {
                eprintln!("server: {e}");
            }
        });
    }
}

/// What a request asks for.
enum Route {
    /// `GET /flags/<cc>.ppm` for a known code.
    Flag(String),
    /// A GET for anything else.
    NotFound,
    /// Not a GET.
    MethodNotAllowed,
}

/// Routes a request such as `GET /flags/br.ppm`.
fn route(method: &Method, path: &str) -> Route {
    if method != Method::GET {
        return Route::MethodNotAllowed;
    }
    let cc = path
        .strip_prefix("/flags/")
        .and_then(|rest| rest.strip_suffix(".ppm"));
    match cc {
        Some(cc) if COUNTRY_CODES.split_whitespace().any(|c| c == cc) => Route::Flag(cc.to_owned()),
        _ => Route::NotFound,
    }
}

/// Answers one request.
async fn handle(
    req: Request<Incoming>,
    stats: Arc<ServerStats>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let text = |msg: &'static str| ("text/plain", Bytes::from_static(msg.as_bytes()));
    let (status, (content_type, body)) = match route(req.method(), req.uri().path()) {
        Route::Flag(cc) => (
            StatusCode::OK,
            (
                "image/x-portable-pixmap",
                Bytes::from(serve_flag(&cc, &stats).await),
            ),
        ),
        Route::NotFound => (StatusCode::NOT_FOUND, text("no such flag\n")),
        Route::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, text("GET only\n")),
    };
    let res = hyper::Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(Full::new(body))
        .expect("a valid response");
    Ok(res)
}

/// Waits out the simulated network delay, then makes the flag.
///
/// The request counts as in flight from here (its head has arrived, so the
/// client holds a permit) until just before the answer is written (the
/// client cannot have the body yet, so it still holds the permit). Each
/// in-flight span therefore lies inside one permit's lifetime, and the peak
/// can never exceed the permits: a race-free check of the semaphore.
async fn serve_flag(cc: &str, stats: &ServerStats) -> Vec<u8> {
    // Relaxed: a counter and its maximum, read once every download is
    // done; each update here comes before the answer its client waits for.
    let now = stats.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
    stats.peak.fetch_max(now, Ordering::Relaxed);
    sleep(delay_for(cc)).await;
    let image = flag_image(cc);
    stats.in_flight.fetch_sub(1, Ordering::Relaxed);
    stats.served.fetch_add(1, Ordering::Relaxed);
    image
}

// ---------------------------------------------------------------------------
// The client: aiohttp's part, hyper with reused connections.
// ---------------------------------------------------------------------------

/// A response: status code and body.
struct Response {
    /// The status code, e.g. 200.
    status: u16,
    /// The whole body.
    body: Vec<u8>,
}

/// Open keep-alive connections to one server, reused from request to
/// request (aiohttp's `ClientSession` pool). A request takes an idle one
/// or opens a new one, and gives it back when its answer is read; so there
/// are never more connections than requests at once (the semaphore's
/// permits).
struct Pool {
    addr: SocketAddr,
    idle: Mutex<Vec<SendRequest<Empty<Bytes>>>>,
}

impl Pool {
    fn new(addr: SocketAddr) -> Pool {
        Pool {
            addr,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// An idle open connection, or a new one.
    async fn connection(&self) -> io::Result<SendRequest<Empty<Bytes>>> {
        loop {
            let Some(conn) = self.idle.lock().unwrap().pop() else {
                break;
            };
            if !conn.is_closed() {
                return Ok(conn);
            }
        }
        let stream = TcpStream::connect(self.addr).await?;
        let (sender, conn) = hyper::client::conn::http1::handshake(WindlassIo::new(stream))
            .await
            .map_err(io::Error::other)?;
        windlass::spawn(async move {
            let _ = conn.await; // ends when the sender is dropped or the server closes
        });
        Ok(sender)
    }

    /// `GET path`, on a reused connection when there is one.
    async fn get(&self, path: &str) -> io::Result<Response> {
        let mut conn = self.connection().await?;
        conn.ready().await.map_err(io::Error::other)?;
        let req = Request::get(path)
            .header("host", self.addr.to_string())
            .body(Empty::new())
            .expect("a valid request");
        let res = conn.send_request(req).await.map_err(io::Error::other)?;
        let status = res.status().as_u16();
        let body = res.into_body().collect().await.map_err(io::Error::other)?;
        // The answer is read: the connection is free for the next request.
        self.idle.lock().unwrap().push(conn);
        Ok(Response {
            status,
            body: body.to_bytes().to_vec(),
        })
    }
}

// ---------------------------------------------------------------------------
// One flag: get it (under the semaphore), save it (on the blocking pool).
// ---------------------------------------------------------------------------

/// Downloads the flag of `cc` and checks it is the one the server made.
async fn get_flag(pool: &Pool, cc: &str) -> Result<Vec<u8>, String> {
    let path = format!("/flags/{cc}.ppm");
    // asyncio.wait_for: a server that never answers fails the download
    // instead of hanging the whole run.
    let response = timeout(REQUEST_TIMEOUT, pool.get(&path))
        .await
        .map_err(|_| format!("GET {path}: no answer in {REQUEST_TIMEOUT:?}"))?
        .map_err(|e| format!("GET {path}: {e}"))?;
    if response.status != 200 {
        return Err(format!("GET {path}: status {}", response.status));
    }
    if fingerprint(&response.body) != fingerprint(&flag_image(cc)) {
        return Err(format!("GET {path}: the image arrived damaged"));
    }
    Ok(response.body)
}

/// Writes the image to `dir/<cc>.ppm` on the blocking pool, so no worker
/// thread waits on the disk: asyncio's `run_in_executor`.
async fn save_flag(dir: &Path, cc: &str, image: Vec<u8>) -> Result<(), String> {
    let path = dir.join(format!("{cc}.ppm"));
    let shown = path.display().to_string();
    windlass::spawn_blocking(move || std::fs::write(path, image))
        .await
        .map_err(|e| format!("saving {shown}: {e}"))?
        .map_err(|e| format!("saving {shown}: {e}"))
}

// ---------------------------------------------------------------------------
// Progress, shared by the download tasks and the ticker that draws it.
// ---------------------------------------------------------------------------

/// How far the concurrent downloads are: an `indicatif` bar on a terminal,
/// a line at each quarter otherwise (CI, a pipe), so the log stays short.
struct Progress {
    /// Flags to download.
    total: usize,
    /// Drawn on stderr (hidden when stderr is not a terminal).
    bar: indicatif::ProgressBar,
    /// Stderr is a terminal.
    tty: bool,
    /// When the downloads started.
    start: Instant,
    /// Flags downloaded and saved.
    done: AtomicUsize,
    /// Their bytes.
    bytes: AtomicU64,
    /// Codes in the order they finished.
    order: Mutex<Vec<&'static str>>,
}

impl Progress {
    /// Nothing done yet, out of `total`.
    fn new(total: usize) -> Progress {
        let tty = io::stderr().is_terminal();
        let bar = if tty {
            let style = indicatif::ProgressStyle::with_template(
                "[{bar:30}] {pos:>3}/{len} flags {msg} {elapsed_precise}",
            )
            .expect("a valid template")
            .progress_chars("#>.");
            let bar = indicatif::ProgressBar::new(total as u64).with_style(style);
            bar.enable_steady_tick(Duration::from_millis(100));
            bar
        } else {
            indicatif::ProgressBar::hidden()
        };
        Progress {
            total,
            bar,
            tty,
            start: Instant::now(),
            done: AtomicUsize::new(0),
            bytes: AtomicU64::new(0),
            order: Mutex::new(Vec::with_capacity(total)),
        }
    }

    /// One more flag is saved.
    fn record(&self, cc: &'static str, bytes: usize) {
        self.order.lock().unwrap().push(cc);
        // Relaxed: these only feed the progress display; the claims count
        // the files on disk.
        let all = self.bytes.fetch_add(bytes as u64, Ordering::Relaxed) + bytes as u64;
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        self.bar.set_message(format!("{:>5.1} MiB", mib(all)));
        self.bar.inc(1);
        let quarter = |n: usize| n * 4 / self.total.max(1);
        if !self.tty && quarter(done) > quarter(done - 1) {
            eprintln!(
                "{done:>3}/{} flags {:>5.1} MiB {:>5.2} s",
                self.total,
                mib(all),
                self.start.elapsed().as_secs_f64()
            );
        }
    }

    /// Every download is done: the bar's last frame stays.
    fn finish(&self) {
        self.bar.finish();
    }
}

/// Bytes as MiB.
fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

// ---------------------------------------------------------------------------
// The two runs and the check on disk.
// ---------------------------------------------------------------------------

/// Downloads every flag, at most `PERMITS` at once; returns the time taken
/// and the order the flags finished in.
async fn download_concurrently(
    pool: &Arc<Pool>,
    codes: &[&'static str],
    dir: &Path,
) -> (Duration, Vec<&'static str>) {
    let start = Instant::now();
    let semaphore = Arc::new(Semaphore::new(PERMITS));
    let progress = Arc::new(Progress::new(codes.len()));
    let tasks: Vec<_> = codes
        .iter()
        .map(|&cc| {
            let (semaphore, progress, pool) = (semaphore.clone(), progress.clone(), pool.clone());
            let dir = dir.to_owned();
            windlass::spawn(async move {
                let image = {
                    let _permit = semaphore.acquire().await.expect("never closed");
                    get_flag(&pool, cc).await?
                }; // the permit goes back here: saving holds no download slot
                let bytes = image.len();
                save_flag(&dir, cc, image).await?;
                progress.record(cc, bytes);
                Ok::<_, String>(())
            })
        })
        .collect();
    let results = windlass::join_all(tasks).await;
    let took = start.elapsed();
    progress.finish();
    for (cc, result) in codes.iter().zip(results) {
        match result {
            Ok(Ok(())) => {}
            Ok(Err(e)) => panic!("flag {cc}: {e}"),
            Err(e) => panic!("flag {cc}: the task failed: {e}"),
        }
    }
    let order = std::mem::take(&mut *progress.order.lock().unwrap());
    (took, order)
}

/// Downloads and saves `codes` one after another; returns the time taken.
async fn download_sequentially(pool: &Pool, codes: &[&'static str], dir: &Path) -> Duration {
    let start = Instant::now();
    for &cc in codes {
        let image = get_flag(pool, cc).await.expect("sequential download");
        save_flag(dir, cc, image).await.expect("sequential save");
    }
    start.elapsed()
}

/// Reads back every file in `dir` and checks it is exactly the flag the
/// server generated; returns the number of files and their bytes.
async fn verify_saved(dir: &Path, codes: &[&'static str]) -> (usize, u64) {
    let mut unseen: HashSet<&str> = codes.iter().copied().collect();
    let mut entries = windlass::fs::read_dir(dir)
        .await
        .expect("list the directory");
    let (mut files, mut bytes) = (0, 0);
    while let Some(entry) = entries.next().await {
        let entry = entry.expect("a directory entry");
        let name = entry.file_name().to_string_lossy().into_owned();
        let cc = name.strip_suffix(".ppm").expect("only .ppm files");
        let saved = windlass::fs::read(entry.path()).await.expect("read back");
        assert_eq!(
            fingerprint(&saved),
            fingerprint(&flag_image(cc)),
            "{name} on disk differs from what the server generated"
        );
        assert!(unseen.remove(cc), "{name}: not a flag, or seen twice");
        files += 1;
        bytes += saved.len() as u64;
    }
    assert!(unseen.is_empty(), "never saved: {unseen:?}");
    (files, bytes)
}

/// Removes the download directory if a failed claim ends the demo early;
/// on success `main` has already removed it (and checked).
struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

// ---------------------------------------------------------------------------
// The story.
// ---------------------------------------------------------------------------

/// What the runs measured, for the summary.
struct Summary {
    /// Flag files found on disk and verified.
    files: usize,
    /// Their bytes.
    bytes: u64,
    /// The concurrent run's time.
    concurrent: Duration,
    /// One after another, extrapolated from the timed sample.
    sequential: Duration,
    /// The sum of every flag's simulated delay: a floor for one after another.
    delays: Duration,
    /// The most requests the server had in flight at once.
    peak: usize,
    /// Flags the server answered with a 200, over both runs.
    served: usize,
    /// Connections the server accepted, over both runs.
    connections: usize,
    /// The runtime's worker threads.
    workers: usize,
    /// Whether the download directory is gone.
    removed: bool,
}

/// Starts the flag server on a free loopback port.
async fn start_server() -> (SocketAddr, Arc<ServerStats>, windlass::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local address");
    let stats = Arc::new(ServerStats::default());
    let server = windlass::spawn(serve(listener, stats.clone()));
    (addr, stats, server)
}

/// The first few codes of `codes`, for printing.
fn first_few(codes: &[&str]) -> String {
    let few: Vec<&str> = codes.iter().take(10).copied().collect();
    format!("{} ...", few.join(" "))
}

/// The concurrent run, then the check of every file on disk and a 404;
/// returns the run's time and the files' count and bytes.
async fn concurrent_run(
    pool: &Arc<Pool>,
    codes: &[&'static str],
    dir: &Path,
) -> (Duration, usize, u64) {
    let (took, order) = download_concurrently(pool, codes, dir).await;
    let (files, bytes) = verify_saved(dir, codes).await;
    println!("\nrequested in order:  {}", first_few(codes));
    println!("finished in order:   {}", first_few(&order));
    println!("  (each finishes when its answer arrives, not in the order asked)");
    println!(
        "on disk: {files} files, {:.1} MiB, each identical to what the server generated",
        mib(bytes)
    );
    assert_ne!(order, codes, "overlapping downloads finish out of order");

    let missing = pool.get("/flags/zz.ppm").await.expect("GET zz");
    println!("GET /flags/zz.ppm -> {} (no such country)", missing.status);
    assert_eq!(missing.status, 404, "unknown paths get a 404");
    (took, files, bytes)
}

/// Times `SAMPLE` flags, spread over the list, one after another; returns
/// the time all of them would take at that pace.
async fn sequential_estimate(pool: &Pool, codes: &[&'static str], dir: &Path) -> Duration {
    let step = (codes.len() / SAMPLE).max(1);
    let sample: Vec<&'static str> = codes.iter().step_by(step).take(SAMPLE).copied().collect();
    println!(
        "\nOne after another, for comparison: {} of the flags (every {step}th), timed...",
        sample.len()
    );
    let took = download_sequentially(pool, &sample, dir).await;
    let per_flag = took / sample.len() as u32;
    let all = per_flag * codes.len() as u32;
    println!(
        "  {} flags in {:.2} s = {:.1} ms a flag, so all {} would take about {:.1} s",
        sample.len(),
        took.as_secs_f64(),
        per_flag.as_secs_f64() * 1e3,
        codes.len(),
        all.as_secs_f64()
    );
    all
}

/// Prints the summary.
fn print_summary(s: &Summary) {
    println!("\nSummary");
    println!(
        "  files              {} flags, {:.1} MiB, all verified",
        s.files,
        mib(s.bytes)
    );
    println!(
        "  concurrent         {:.2} s ({PERMITS} permits, {} worker threads)",
        s.concurrent.as_secs_f64(),
        s.workers
    );
    println!(
        "  one after another  {:.1} s, extrapolated from {SAMPLE} timed flags \
         (the delays alone add up to {:.1} s)",
        s.sequential.as_secs_f64(),
        s.delays.as_secs_f64()
    );
    println!(
        "  speed-up           {:.1}x",
        s.sequential.as_secs_f64() / s.concurrent.as_secs_f64()
    );
    println!(
        "  peak concurrency   {} requests at once at the server (permits: {PERMITS})",
        s.peak
    );
    println!(
        "  connections        {} for {} requests (kept open and reused)",
        s.connections,
        s.served + 1
    );
    let dir_state = if s.removed { "removed" } else { "STILL THERE" };
    println!("  temp directory     {dir_state}");
}

/// Asserts the summary's claims.
fn check_summary(s: &Summary, flags: usize) {
    assert_eq!(s.files, flags, "every flag saved");
    assert_eq!(s.served, flags + SAMPLE, "each flag asked for once per run");
    assert!(
        s.peak <= PERMITS,
        "the semaphore bounds the downloads: peak {}",
        s.peak
    );
    assert!(s.peak > 1, "downloads overlapped: peak {}", s.peak);
    assert!(
        (1..=PERMITS).contains(&s.connections),
        "connections are reused, never more than the permits: {}",
        s.connections
    );
    // Generous margins: a noisy 2-core CI box still clears them easily
    // (the real ratio is about 1 to 20).
    let concurrent = s.concurrent.as_secs_f64();
    assert!(
        concurrent < 0.5 * s.sequential.as_secs_f64(),
        "overlap beats one after another: {:?} vs {:?}",
        s.concurrent,
        s.sequential
    );
    assert!(
        concurrent < 0.5 * s.delays.as_secs_f64(),
        "overlap beats even the bare sum of delays: {:?} vs {:?}",
        s.concurrent,
        s.delays
    );
    assert!(s.removed, "the download directory was removed");
}

/// True if nothing is at `path` any more (asked on the blocking pool, like
/// every file system call here).
async fn is_gone(path: &Path) -> bool {
    match windlass::fs::metadata(path).await {
        Err(e) => e.kind() == io::ErrorKind::NotFound,
        Ok(_) => false,
    }
}

/// The whole demo; a failed claim panics.
async fn run(dir: &Path) {
    let codes = country_codes();
    assert_eq!(codes.len(), 249, "the ISO 3166 list");
    let (addr, stats, server) = start_server().await;
    let workers = windlass::Handle::current().num_workers();
    windlass::fs::create_dir(dir)
        .await
        .expect("create the download directory");
    println!(
        "Downloading {} flags from http://{addr}/flags/",
        codes.len()
    );
    let (lo, hi) = DELAY_MS;
    println!("  served by hyper on windlass, each after a {lo}-{hi} ms simulated network delay;");
    println!("  at most {PERMITS} at a time (Semaphore), saved on the blocking pool into");
    println!("  {}\n", dir.display());

    let pool = Arc::new(Pool::new(addr));
    let (concurrent, files, bytes) = concurrent_run(&pool, &codes, dir).await;
    // Relaxed: every request that touched these has been answered and read.
    let peak = stats.peak.load(Ordering::Relaxed);
    let sequential = sequential_estimate(&pool, &codes, dir).await;
    server.abort();
    let served = stats.served.load(Ordering::Relaxed);
    let connections = stats.connections.load(Ordering::Relaxed);
    windlass::fs::remove_dir_all(dir)
        .await
        .expect("remove the download directory");

    let summary = Summary {
        files,
        bytes,
        concurrent,
        sequential,
        delays: codes.iter().map(|cc| delay_for(cc)).sum(),
        peak,
        served,
        connections,
        workers,
        removed: is_gone(dir).await,
    };
    print_summary(&summary);
    check_summary(&summary, codes.len());
}

fn main() -> io::Result<()> {
    let dir = std::env::temp_dir().join(format!("windlass-flags-{}", std::process::id()));
    // A directory left by an earlier run that had the same process id.
    let _ = std::fs::remove_dir_all(&dir);
    let _cleanup = RemoveOnDrop(dir.clone());
    let rt = windlass::Runtime::new()?;
    rt.block_on(run(&dir));
    println!("\nall claims checked: OK");
    Ok(())
}
