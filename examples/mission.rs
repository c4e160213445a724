//! The examples of the seed tutorial "asyncio与aiohttp" (asyncio and
//! aiohttp), in three parts:
//!
//! ```python
//! async def to_do_something(i):
//!     print('第{}个任务:任务启动...'.format(i))      # task i: started
//!     await asyncio.sleep(i)
//!     print('第{}个任务:任务完成!'.format(i))       # task i: done
//! async def mission_running():
//!     print('任务正在执行...')                      # the mission is running
//! tasks = [asyncio.ensure_future(to_do_something(1)),
//!          asyncio.ensure_future(to_do_something(2)),
//!          asyncio.ensure_future(mission_running())]
//! loop.run_until_complete(asyncio.wait(tasks))     # about 2 s, not 3
//! ```
//!
//! then "a hundred requests to baidu in under a second"
//! (`tasks = [asyncio.ensure_future(request()) for _ in range(100)]`,
//! waited with `asyncio.wait`), here against a local HTTP-ish server that
//! answers after a simulated network delay, and last the modern spelling the
//! tutorial lists: `asyncio.run(main())`, `create_task` and `gather`.
//! One "second" of the original is 200 ms here.
//!
//! Run it with `cargo run --example mission`. It checks its own claims.

use std::io;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use futures_lite::{AsyncReadExt, AsyncWriteExt};
use windlass::join::{ReturnWhen, join_all, wait};
use windlass::net::{AcceptBackoff, TcpListener, TcpStream};
use windlass::time::sleep;

/// One second of the Python original (long enough that the overlap shows
/// clearly on a busy machine).
const UNIT: Duration = Duration::from_millis(200);

/// How long the local server takes to answer one request (the network).
const LATENCY: Duration = Duration::from_millis(100);

/// The number of requests of the aiohttp example.
const REQUESTS: usize = 100;

/// What the tasks printed, in order, for checking the story afterwards.
static LOG: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Prints `line` and logs it.
fn say(line: String) {
    println!("{line}");
    LOG.lock().unwrap().push(line);
}

/// Takes the log, and the position of each line in it.
fn take_log() -> impl Fn(&str) -> usize {
    let log = std::mem::take(&mut *LOG.lock().unwrap());
    move |line| {
        log.iter()
            .position(|l| l == line)
            .unwrap_or_else(|| panic!("{line:?} was never printed"))
    }
}

async fn to_do_something(i: u32) -> u32 {
    say(format!("task {i}: started..."));
    sleep(UNIT * i).await;
    say(format!("task {i}: done!"));
    i
}

async fn mission_running() -> u32 {
    say("the mission is running...".to_string());
    0
}

/// Part 1: three tasks waited on with `wait`, overlapped.
async fn part_one() {
    let start = Instant::now();
    let tasks = vec![
        windlass::spawn(to_do_something(1)),
        windlass::spawn(to_do_something(2)),
        windlass::spawn(mission_running()),
    ];
    let (done, pending) = wait(tasks, ReturnWhen::AllCompleted, None).await;
    let took = start.elapsed();
    let sequential = UNIT * (1 + 2);
    println!("{took:.2?} (one after another: {sequential:.2?})\n");
    assert!(pending.is_empty());
    // `done` is in completion order: the one that does not sleep first.
    let order: Vec<u32> = done.into_iter().map(|r| r.expect("task")).collect();
    assert_eq!(order, [0, 1, 2], "finished in order of their sleeps");
    // Overlapped: everything started before the first task finished.
    let at = take_log();
    assert!(at("task 2: started...") < at("task 1: done!"));
    assert!(at("the mission is running...") < at("task 1: done!"));
    assert!(took >= UNIT * 2, "the longest task took {took:?}");
    assert!(took < sequential, "overlapped: {took:?} vs {sequential:?}");
}

/// A tiny server: for each connection, reads the request, waits
/// [`LATENCY`] (as a far-away site would), and answers.
///
/// The accept loop backs off on resource errors such as `EMFILE` and skips
/// connections that died before they were accepted ([`AcceptBackoff`]);
/// only a broken listener ends it, and says so.
async fn serve(listener: TcpListener) {
    let mut backoff = AcceptBackoff::new();
    loop {
        let (mut conn, _) = match backoff.accept(&listener).await {
            Ok(accepted) => accepted,
            Err(e) => {
                eprintln!("server: the listener failed, stopping: {e}");
                return;
            }
        };
        windlass::spawn(async move {
            let mut buf = [0u8; 256];
            let n = conn.read(&mut buf).await?;
            assert!(buf[..n].starts_with(b"GET / "), "a GET request");
            sleep(LATENCY).await;
            conn.write_all(b"HTTP/1.0 200 OK\r\ncontent-length: 5\r\n\r\nhello")
                .await?;
            conn.close().await
        });
    }
}

/// `async with session.get(url) as response: print(response)`: one
/// request, returning the status line.
async fn get(addr: SocketAddr) -> io::Result<String> {
    let mut conn = TcpStream::connect(addr).await?;
    conn.write_all(b"GET / HTTP/1.0\r\nhost: localhost\r\n\r\n")
        .await?;
    let mut response = String::new();
    conn.read_to_string(&mut response).await?;
    Ok(response.lines().next().unwrap_or_default().to_string())
}

/// Part 2: a hundred requests at once, waited on with `wait`.
async fn part_two() -> io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = windlass::spawn(serve(listener));

    let start = Instant::now();
    let tasks: Vec<_> = (0..REQUESTS).map(|_| windlass::spawn(get(addr))).collect();
    let (done, pending) = wait(tasks, ReturnWhen::AllCompleted, None).await;
    let took = start.elapsed();
    assert!(pending.is_empty());
    let statuses: Vec<String> = done
        .into_iter()
        .map(|r| r.expect("task").expect("request"))
        .collect();
    for status in statuses.iter().take(3) {
        println!("{status}");
    }
    println!("... ({} responses in all)", statuses.len());
    let sequential = LATENCY * REQUESTS as u32;
    println!("{took:.2?} (one after another: at least {sequential:.2?})\n");
    assert_eq!(statuses.len(), REQUESTS);
    assert!(statuses.iter().all(|s| s == "HTTP/1.0 200 OK"));
    assert!(took >= LATENCY, "each request waits for the server");
    assert!(
        took < sequential * 7 / 10,
        "the requests overlapped: {took:?} vs {sequential:?}"
    );
    server.abort();
    Ok(())
}

/// Part 3: `asyncio.run(main())`, where `main` creates tasks and gathers
/// them: `Runtime::block_on`, `spawn` and `join_all`.
async fn main_coroutine() -> Vec<u32> {
    let start = Instant::now();
    let tasks = [3, 2, 1].map(|i| windlass::spawn(to_do_something(i)));
    let results: Vec<u32> = join_all(tasks)
        .await
        .into_iter()
        .map(|r| r.expect("task"))
        .collect();
    let took = start.elapsed();
    let sequential = UNIT * (3 + 2 + 1);
    println!("gathered {results:?} in {took:.2?} (one after another: {sequential:.2?})");
    let at = take_log();
    assert!(
        at("task 1: done!") < at("task 3: done!"),
        "1 finished first"
    );
    assert!(
        took < sequential * 7 / 10,
        "overlapped: {took:?} vs {sequential:?}"
    );
    results
}

fn main() -> io::Result<()> {
    let rt = windlass::Runtime::new()?;
    println!("1. ensure_future + asyncio.wait");
    rt.block_on(part_one());
    println!("2. {REQUESTS} requests + asyncio.wait");
    rt.block_on(part_two())?;
    println!("3. asyncio.run + create_task + gather");
    let results = rt.block_on(main_coroutine());
    // gather: input order, not finishing order.
    assert_eq!(results, [3, 2, 1]);
    println!("\nall claims checked: OK");
    Ok(())
}
