//! `#[windlass::main]` and `#[windlass::test]`. Use them through windlass's
//! `macros` feature (`windlass = { version = "...", features = ["macros"] }`),
//! as `#[windlass::main]` and `#[windlass::test]`; this crate is not meant
//! to be named directly.
//!
//! Both turn an `async fn` without arguments into a plain `fn` that builds
//! a runtime and runs the body on it with `block_on`: asyncio's
//! `asyncio.run(main())`, written as a decorator. The options are checked
//! at compile time; a mistake is a compile error that points at the
//! offending token.
#![warn(missing_docs)]

mod expand;
mod options;

use proc_macro::TokenStream;

use options::Kind;

/// Runs an `async fn main` on a windlass runtime: asyncio's
/// `asyncio.run(main())`.
///
/// ```
/// #[windlass::main]
/// async fn main() {
///     let answer = windlass::spawn(async { 6 * 7 }).await.unwrap();
///     assert_eq!(answer, 42);
/// }
/// ```
///
/// expands to (roughly)
///
/// ```
/// fn main() {
///     async fn body() {
///         let answer = windlass::spawn(async { 6 * 7 }).await.unwrap();
///         assert_eq!(answer, 42);
///     }
///     windlass::runtime::Builder::new_multi_thread()
///         .build()
///         .expect("windlass::main: could not build the runtime")
///         .block_on(body())
/// }
/// ```
///
/// # Options
///
/// - `flavor = "multi_thread"` (the default): worker threads that steal
///   work from each other; `flavor = "current_thread"`: every task runs on
///   the thread that calls `main`.
/// - `worker_threads = N`: the number of workers (multi-thread only;
///   default: one per CPU).
///
/// ```
/// #[windlass::main(flavor = "multi_thread", worker_threads = 2)]
/// async fn main() -> std::io::Result<()> {
///     assert_eq!(windlass::Handle::current().num_workers(), 2);
///     Ok(())
/// }
/// ```
///
/// `main` may return anything `main` may: `()`, `Result<(), E>`, and so on.
///
/// # Mistakes are compile errors
///
/// The function must be `async`, without arguments or generics; an
/// unknown option, a wrong value or `worker_threads` with the
/// current-thread flavor is an error at that token:
///
/// ```compile_fail
/// #[windlass::main(flavor = "current_thread", worker_threads = 2)]
/// async fn main() {}
/// ```
///
/// ```compile_fail
/// #[windlass::main]
/// fn main() {} // not async
/// ```
// The doc shows the expansion, which is a `fn main`.
#[allow(clippy::needless_doctest_main)]
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand(Kind::Main, args.into(), item.into()).into()
}

/// Runs an `async fn` test on a fresh windlass runtime: a current-thread
/// one by default, as a test is usually about one sequence of events.
///
/// ```
/// #[windlass::test]
/// async fn sends_and_receives() {
///     let (tx, rx) = windlass::sync::oneshot::channel();
///     windlass::spawn(async move { tx.send(7).unwrap() });
///     assert_eq!(rx.await.unwrap(), 7);
/// }
/// ```
///
/// Other attributes stay (`#[should_panic]`, `#[ignore]`), and the test
/// may return a `Result` like any test.
///
/// # Options
///
/// - `flavor = "current_thread"` (the default) or `"multi_thread"`;
/// - `worker_threads = N` (multi-thread only);
/// - `start_paused = true`: the test starts with time paused (the runtime
///   is built with `Builder::start_paused(true)`), so timers complete as
///   soon as every task is idle instead of after real time.
///
/// ```
/// #[windlass::test(flavor = "multi_thread", worker_threads = 2)]
/// async fn on_two_workers() {
///     assert_eq!(windlass::Handle::current().num_workers(), 2);
/// }
/// ```
///
/// Unknown options are compile errors:
///
/// ```compile_fail
/// #[windlass::test(start_pasued = true)] // sic
/// async fn typo() {}
/// ```
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand(Kind::Test, args.into(), item.into()).into()
}
