//! `hyper::rt::Executor` on windlass.

use std::future::Future;

use crate::runtime::Handle;

/// Spawns hyper's background tasks (HTTP/2 streams and connections, the
/// client's connection driver) on a windlass runtime: the one current when
/// the executor was made, or the one of a given [`Handle`].
///
/// ```
/// use hyper::rt::Executor;
/// use windlass::hyper::WindlassExecutor;
///
/// windlass::Runtime::new().unwrap().block_on(async {
///     let (tx, rx) = windlass::sync::oneshot::channel();
///     WindlassExecutor::new().execute(async move { tx.send(42).unwrap() });
///     assert_eq!(rx.await.unwrap(), 42);
/// });
/// ```
#[derive(Clone, Debug)]
pub struct WindlassExecutor {
    handle: Handle,
}

impl WindlassExecutor {
    /// An executor for the current runtime.
    ///
    /// # Panics
    ///
    /// Outside a runtime (see [`Handle::current`]); use
    /// [`with_handle`](Self::with_handle) there.
    #[track_caller]
    pub fn new() -> WindlassExecutor {
        WindlassExecutor {
            handle: Handle::current(),
        }
    }

    /// An executor for the runtime of `handle`, usable from anywhere.
    ///
    /// ```
    /// use hyper::rt::Executor;
    ///
    /// let rt = windlass::Runtime::new().unwrap();
    /// let exec = windlass::hyper::WindlassExecutor::with_handle(rt.handle().clone());
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// exec.execute(async move { tx.send("ran").unwrap() }); // from outside the runtime
    /// assert_eq!(rx.recv().unwrap(), "ran");
    /// ```
    pub fn with_handle(handle: Handle) -> WindlassExecutor {
        WindlassExecutor { handle }
    }
}

impl Default for WindlassExecutor {
    /// [`WindlassExecutor::new`].
    #[track_caller]
    fn default() -> WindlassExecutor {
        WindlassExecutor::new()
    }
}

impl<F> ::hyper::rt::Executor<F> for WindlassExecutor
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn execute(&self, future: F) {
        // Detached: hyper watches its own tasks through channels.
        drop(self.handle.spawn(future));
    }
}
