//! Reactor, socket and file helpers: a "registered with the reactor"
//! signal, a unique temp dir, a stream hash, the open-file limit and a
//! descriptor's flags.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

/// Polls `fut`; the first time it returns `Pending` (so it has registered
/// its waker with the reactor, or its timer), sends one message on
/// `registered`. A synchronisation point for "this task is now blocked in
/// the reactor", without sleeping.
pub async fn signal_when_pending<F: Future>(
    fut: F,
    registered: async_channel::Sender<()>,
) -> F::Output {
    let mut fut = std::pin::pin!(fut);
    let mut registered = Some(registered);
    std::future::poll_fn(|cx| {
        let res = fut.as_mut().poll(cx);
        if res.is_pending() {
            if let Some(tx) = registered.take() {
                tx.try_send(()).expect("registration channel open");
            }
        }
        res
    })
    .await
}

/// Receives `n` messages on `rx`: waits until `n` futures wrapped in
/// [`signal_when_pending`] with its sender have registered.
pub async fn wait_registered(rx: &async_channel::Receiver<()>, n: usize) {
    for _ in 0..n {
        rx.recv().await.expect("sender alive");
    }
}

/// A directory unique to this process and call, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir = std::env::temp_dir().join(format!(
            "windlass-{tag}-{}-{}-{nanos}",
            std::process::id(),
            NEXT.fetch_add(1, SeqCst)
        ));
        std::fs::create_dir(&dir).expect("create temp dir");
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// An order-sensitive 64-bit hash over 8-byte words (FNV-style multiply,
/// plus a rotation so that equal words at different offsets differ).
/// `data.len()` must be a multiple of 8.
pub fn hash_words(mut h: u64, data: &[u8]) -> u64 {
    assert_eq!(data.len() % 8, 0, "hash_words takes whole words");
    for w in data.chunks_exact(8) {
        let x = u64::from_le_bytes(w.try_into().unwrap());
        h = (h ^ x).wrapping_mul(0x0000_0100_0000_01B3).rotate_left(29);
    }
    h
}

/// The FNV offset basis, the hash's starting value.
pub const HASH_SEED: u64 = 0xCBF2_9CE4_8422_2325;

/// Fills `buf` (a multiple of 8 bytes) with xorshift output.
pub fn fill_pseudo_random(state: &mut u64, buf: &mut [u8]) {
    for w in buf.chunks_exact_mut(8) {
        let mut x = *state;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *state = x;
        w.copy_from_slice(&x.to_le_bytes());
    }
}

/// Makes the soft `RLIMIT_NOFILE` at least `wanted` if the hard limit
/// allows; returns the soft limit now in force.
pub fn ensure_nofile(wanted: u64) -> u64 {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let lim = getrlimit(Resource::Nofile);
    let soft = lim.current.unwrap_or(u64::MAX);
    if soft >= wanted {
        return soft;
    }
    let hard = lim.maximum.unwrap_or(u64::MAX);
    let new = wanted.min(hard);
    let _ = setrlimit(
        Resource::Nofile,
        rustix::process::Rlimit {
            current: Some(new),
            maximum: lim.maximum,
        },
    );
    getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX)
}

/// A lowered soft `RLIMIT_NOFILE`; restores the original limit when
/// dropped (also on panic). The limit is per process: a test that lowers
/// it must be alone in its process (its own test binary, or a child
/// process, `support::child`).
pub struct LimitGuard(rustix::process::Rlimit);

impl LimitGuard {
    /// Sets the soft limit so that exactly `slack` descriptor numbers
    /// below it are free. (New descriptors take the lowest free number,
    /// and inherited descriptors can sit far above the others, so the
    /// limit is counted in free slots rather than from the highest fd.)
    pub fn lower(slack: u64) -> LimitGuard {
        let original = rustix::process::getrlimit(rustix::process::Resource::Nofile);
        let mut open: Vec<u64> = std::fs::read_dir("/proc/self/fd")
            .expect("/proc/self/fd")
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u64>().ok())
            .collect();
        open.sort_unstable();
        // (The directory's own descriptor is counted as open; it is closed
        // by now, which leaves at most one extra free slot.)
        let mut open = open.into_iter().peekable();
        let (mut soft, mut free) = (0u64, 0u64);
        while free < slack {
            if open.peek() == Some(&soft) {
                open.next();
            } else {
                free += 1;
            }
            soft += 1;
        }
        rustix::process::setrlimit(
            rustix::process::Resource::Nofile,
            rustix::process::Rlimit {
                current: Some(soft),
                maximum: original.maximum,
            },
        )
        .expect("lower RLIMIT_NOFILE");
        LimitGuard(original)
    }
}

impl Drop for LimitGuard {
    fn drop(&mut self) {
        rustix::process::setrlimit(
            rustix::process::Resource::Nofile,
            rustix::process::Rlimit {
                current: self.0.current,
                maximum: self.0.maximum,
            },
        )
        .expect("restore RLIMIT_NOFILE");
    }
}

/// Opens `/dev/null` until the process runs out of descriptors (`EMFILE`)
/// and returns the files: dropping them frees the descriptors again. Use
/// under a [`LimitGuard`] so that "out" comes after a few dozen files.
pub fn hoard_descriptors() -> Vec<std::fs::File> {
    let mut files = Vec::new();
    loop {
        match std::fs::File::open("/dev/null") {
            Ok(f) => files.push(f),
            Err(e) => {
                assert_eq!(e.raw_os_error(), Some(24), "expected EMFILE, got {e:?}");
                return files;
            }
        }
        assert!(files.len() < 100_000, "no descriptor limit in force");
    }
}

/// The descriptor's status flags and descriptor flags: `(O_NONBLOCK set,
/// FD_CLOEXEC set)`.
pub fn nonblocking_and_cloexec(fd: std::os::fd::BorrowedFd<'_>) -> (bool, bool) {
    use std::os::fd::AsRawFd;
    // SAFETY: fcntl with F_GETFL / F_GETFD reads flags of a descriptor
    // that the borrow keeps open; it touches no memory of ours.
    let (fl, fd_flags) = unsafe {
        (
            libc::fcntl(fd.as_raw_fd(), libc::F_GETFL),
            libc::fcntl(fd.as_raw_fd(), libc::F_GETFD),
        )
    };
    assert!(fl >= 0 && fd_flags >= 0, "fcntl failed");
    (fl & libc::O_NONBLOCK != 0, fd_flags & libc::FD_CLOEXEC != 0)
}

/// Waits until `handle`'s reactor has delivered at least one readiness
/// event (the one `epoll_ctl(ADD)` queues for a socket that already holds
/// data), then lets the other tasks run a while: reads after this run at
/// the tick of that event, with no further edge to come unless more data
/// arrives.
pub async fn reactor_settled(handle: &windlass::runtime::Handle) {
    while handle.metrics().reactor.events == 0 {
        windlass::task::yield_now().await;
    }
    for _ in 0..100 {
        windlass::task::yield_now().await;
    }
}

/// Reads until `want` bytes came, in reads of at most 64 bytes, each under
/// a 5 s limit; panics, with what came so far, if one hangs.
pub async fn read_exactly_in_small_reads<R: futures_lite::AsyncRead + Unpin>(
    r: &mut R,
    want: usize,
) -> Vec<u8> {
    use futures_lite::AsyncReadExt;
    let mut got = Vec::new();
    let mut buf = [0u8; 64];
    while got.len() < want {
        let n = windlass::time::timeout(std::time::Duration::from_secs(5), r.read(&mut buf))
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "a read hung with data queued in the socket; got so far {:?}",
                    String::from_utf8_lossy(&got)
                )
            })
            .unwrap();
        assert!(n > 0, "unexpected end of stream");
        got.extend_from_slice(&buf[..n]);
    }
    got
}
