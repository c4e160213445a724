//! The unhandled-panic policy ([`UnhandledPanic`]) and what `block_on`
//! does when it shuts a runtime down: shared by both scheduler flavors.

/// What happens when a spawned task panics.
///
/// The panic is always caught and returned by the task's `JoinHandle` as a
/// [`JoinError`](crate::task::JoinError); this policy decides what *else*
/// happens. Set it with [`Builder::unhandled_panic`](super::Builder::unhandled_panic).
///
/// ```
/// use windlass::runtime::{Builder, UnhandledPanic};
///
/// let rt = Builder::new_multi_thread()
///     .unhandled_panic(UnhandledPanic::ShutdownRuntime)
///     .build()
///     .unwrap();
/// let handle = rt.handle().clone();
/// // One task's bug stops the whole runtime: block_on panics too.
/// let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
///     rt.block_on(async {
///         let _ = windlass::spawn(async { panic!("bug in a task") }).await;
///         std::future::pending::<()>().await; // only the shutdown ends this
///     })
/// }));
/// assert!(outcome.is_err());
/// assert!(handle.is_shutdown());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum UnhandledPanic {
    /// Nothing else: the runtime keeps running (the default).
    #[default]
    Ignore,
    /// Shut the runtime down: every task is cancelled and `block_on` panics
    /// with a message naming this setting. Works on both flavors.
    ShutdownRuntime,
}

/// What `block_on` does after a task panicked under
/// [`UnhandledPanic::ShutdownRuntime`], on either flavor.
#[track_caller]
pub(crate) fn panic_shutdown() -> ! {
    panic!(
        "windlass: a spawned task panicked and the runtime is configured to shut down on unhandled panics \
         (Builder::unhandled_panic(UnhandledPanic::ShutdownRuntime)); await the task's JoinHandle to handle its panic, \
         or use UnhandledPanic::Ignore"
    )
}
