//! An asynchronous iterator, from the seed tutorial:
//!
//! ```python
//! class Reader(object):
//!     def __init__(self):
//!         self.count = 0
//!     async def readline(self):
//!         # await asyncio.sleep(1)
//!         self.count += 1
//!         if self.count == 100:
//!             return None
//!         return self.count
//!     def __aiter__(self):
//!         return self
//!     async def __anext__(self):
//!         val = await self.readline()
//!         if val == None:
//!             raise StopAsyncIteration
//!         return val
//!
//! async for item in Reader():
//!     print(item)
//! ```
//!
//! `__aiter__`/`__anext__` is the `Stream` trait (futures-core, re-exported
//! by futures-lite): `poll_next` gives `Some(item)`, or `None` where Python
//! raises `StopAsyncIteration`. `async for` is `while let Some(item) =
//! stream.next().await`. The same reader is written twice: by hand (a
//! struct with a `poll_next`), and with `futures_lite::stream::unfold` from
//! an `async` step. Each line takes 2 ms to "read" (the commented-out sleep
//! of the original), so two readers side by side show that waiting for one
//! line lets other tasks run.
//!
//! Run it with `cargo run --example async_iterator --features macros`. It checks its own
//! claims.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures_lite::{Stream, StreamExt, stream};
use windlass::time::{Sleep, sleep};

/// How long one `readline` waits.
const LINE: Duration = Duration::from_millis(2);

/// The hand-written async iterator: counts lines until 100.
struct Reader {
    count: u32,
    /// The read in progress, if `poll_next` is waiting for one.
    pending: Option<Sleep>,
}

impl Reader {
    fn new() -> Reader {
        Reader {
            count: 0,
            pending: None,
        }
    }
}

impl Stream for Reader {
    type Item = u32;

    /// `__anext__`: start a read, wait for it, then give the count, or end
    /// the stream (`StopAsyncIteration`) at 100.
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<u32>> {
        let read = self.pending.get_or_insert_with(|| sleep(LINE));
        // `Sleep` is `Unpin`, so it can be polled in place.
        std::task::ready!(Pin::new(read).poll(cx));
        self.pending = None;
        self.count += 1;
        Poll::Ready((self.count < 100).then_some(self.count))
    }
}

/// The same reader from an `async` step: `unfold` keeps `count` between
/// calls, and `None` ends the stream.
fn reader_unfold() -> impl Stream<Item = u32> {
    stream::unfold(0u32, |count| async move {
        sleep(LINE).await; // readline()
        let count = count + 1;
        (count < 100).then_some((count, count))
    })
}

/// `async for item in reader: ...`, collecting the items.
async fn read_all<S: Stream<Item = u32> + Unpin>(mut reader: S) -> Vec<u32> {
    let mut items = Vec::new();
    while let Some(item) = reader.next().await {
        items.push(item);
    }
    items
}

#[windlass::main]
async fn main() {
    let expected: Vec<u32> = (1..100).collect();

    // 1. async for item in Reader(): print(item)
    let start = Instant::now();
    let items = read_all(Reader::new()).await;
    let one = start.elapsed();
    let shown: Vec<String> = items.iter().map(u32::to_string).collect();
    println!(
        "Reader: {} ... {}",
        shown[..5].join(" "),
        shown[94..].join(" ")
    );
    println!(
        "  {} items in {one:.2?}, then StopAsyncIteration",
        items.len()
    );
    assert_eq!(items, expected, "1..=99, then the stream ended");

    // 2. The unfold version reads the same lines.
    let items = read_all(Box::pin(reader_unfold())).await;
    println!(
        "unfold reader: {} items, last {:?}",
        items.len(),
        items.last()
    );
    assert_eq!(items, expected);

    // 3. Stream adapters instead of a loop body: the even lines, squared.
    let evens: Vec<u32> = Reader::new()
        .filter(|n| n % 2 == 0)
        .map(|n| n * n)
        .take(3)
        .collect()
        .await;
    println!("even lines squared, first three: {evens:?}");
    assert_eq!(evens, [4, 16, 36]);

    // 4. Two readers in two tasks: each waits for its lines while the
    //    other reads, so both together take about as long as one.
    let start = Instant::now();
    let a = windlass::spawn(read_all(Reader::new()));
    let b = windlass::spawn(read_all(Box::pin(reader_unfold())));
    let (a, b) = (a.await.expect("reader a"), b.await.expect("reader b"));
    let both = start.elapsed();
    println!(
        "two readers at once: {both:.2?} (one after another: about {:.2?})",
        one * 2
    );
    assert_eq!((a.len(), b.len()), (99, 99));
    assert!(both < one * 2 * 7 / 10, "the readers overlapped: {both:?}");
    println!("\nall claims checked: OK");
}
