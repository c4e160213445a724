//! Racing and zipping a fixed number of futures: `futures-lite`'s
//! combinators, re-exported.
//!
//! These are the right tools already, so windlass does not write its own:
//!
//! | want | use | notes |
//! |---|---|---|
//! | the first of two, either may win | [`race`] | polls the two in random order each time: fair when both are ready |
//! | the first of two, the first preferred | [`or`] | always polls `future1` first; cheaper, biased |
//! | both outputs | [`zip`] | asyncio's `gather(a, b)` for two futures of different types |
//! | both, or the first error | [`try_zip`] | `gather(a, b)` where the first exception propagates |
//!
//! The loser of a race is **dropped** when the winner finishes: a plain
//! future is cancelled, a [`JoinHandle`](crate::JoinHandle) detached (wrap
//! it in [`AbortOnDrop`](super::AbortOnDrop) to cancel the task). The futures
//! of [`race`] and [`or`] must have the same output type; map them into an
//! enum to race different things. For more than two, nest them, or use
//! [`as_completed`](super::as_completed) (`.next().await` is the first to
//! finish, and the rest keep running in the stream) or
//! [`wait`](super::wait) with [`ReturnWhen::FirstCompleted`](super::ReturnWhen)
//! (which hands the losers back). To race work against the clock, use
//! [`time::timeout`](crate::time::timeout).
//!
//! ```
//! use std::time::Duration;
//! use windlass::join::{race, try_zip, zip};
//! use windlass::time::sleep;
//!
//! enum Event { Data(u32), Tick }
//!
//! windlass::Runtime::new().unwrap().block_on(async {
//!     let data = async { sleep(Duration::from_millis(10)).await; Event::Data(7) };
//!     let tick = async { sleep(Duration::from_secs(60)).await; Event::Tick };
//!     assert!(matches!(race(data, tick).await, Event::Data(7)));
//!
//!     let (a, b) = zip(async { 1 }, async { "two" }).await;
//!     assert_eq!((a, b), (1, "two"));
//!
//!     let r: Result<(u8, u8), &str> = try_zip(async { Ok(1) }, async { Err("bad") }).await;
//!     assert_eq!(r, Err("bad"));
//! });
//! ```

#[doc(no_inline)]
pub use futures_lite::future::{Or, Race, TryZip, Zip, or, race, try_zip, zip};
