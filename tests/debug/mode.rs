//! Debug mode: every report kind triggered and asserted (slow poll, blocked
//! worker while blocked, pending at shutdown, panic never retrieved), the
//! environment switch and default stderr line, and bad input (a zero
//! threshold, a panicking callback).

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::watchdog;
use windlass::runtime::{Builder, DebugEvent};
use windlass::task;

type Log = Arc<Mutex<Vec<DebugEvent>>>;

/// A debug-mode builder whose events land in the returned log.
fn logged(mut builder: Builder) -> (Builder, Log) {
    let log: Log = Arc::default();
    let sink = log.clone();
    builder
        .debug(true)
        .on_debug_event(move |e| sink.lock().unwrap().push(e.clone()));
    (builder, log)
}

fn named<'a>(log: &'a [DebugEvent], name: &'a str) -> impl Iterator<Item = &'a DebugEvent> + 'a {
    log.iter()
        .filter(move |e| e.task().and_then(|t| t.name()) == Some(name))
}

/// A 2-worker debug-mode runtime with a 100 ms threshold, its event log,
/// and a channel that gets one message per blocked-worker report (so a
/// blocked task can wait for its report inside the same poll).
fn multi_thread_telling_blocked_reports() -> (windlass::runtime::Runtime, Log, mpsc::Receiver<()>) {
    let (tx, rx) = mpsc::channel::<()>();
    let tx = Mutex::new(tx);
    let log: Log = Arc::default();
    let sink = log.clone();
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .debug(true)
        .slow_poll_threshold(Duration::from_millis(100))
        .on_debug_event(move |e| {
            if matches!(e, DebugEvent::BlockedWorker { .. }) {
                // Tells the blocked task that the report arrived.
                let _ = tx.lock().unwrap().send(());
            }
            sink.lock().unwrap().push(e.clone());
        })
        .build()
        .unwrap();
    (rt, log, rx)
}

#[test]
fn a_blocked_worker_is_reported_while_blocked_then_the_slow_poll() {
    watchdog(|| {
        let (rt, log, rx) = multi_thread_telling_blocked_reports();
        let sleeper = task::Builder::new().name("sleeper").spawn_on(
            async move {
                std::thread::sleep(Duration::from_millis(300)); // blocks the worker
                // Still inside the same poll: wait for the watchdog's report.
                rx.recv_timeout(Duration::from_secs(20)).is_ok()
            },
            rt.handle(),
        );
        let site = sleeper.spawned_at();
        let delivered_during_poll = rt.block_on(sleeper).unwrap();
        assert!(
            delivered_during_poll,
            "no blocked-worker report during the poll"
        );

        let log = log.lock().unwrap();
        let blocked: Vec<_> = named(&log, "sleeper")
            .filter(|e| matches!(e, DebugEvent::BlockedWorker { .. }))
            .collect();
        assert_eq!(blocked.len(), 1, "{log:#?}");
        let DebugEvent::BlockedWorker {
            worker,
            task,
            blocked_for,
        } = blocked[0]
        else {
            unreachable!()
        };
        assert!(*worker < 2);
        assert_eq!(task.spawned_at(), site);
        assert!(*blocked_for >= Duration::from_millis(100));
        let line = blocked[0].to_string();
        assert!(line.contains("task 'sleeper' (id "), "{line}");
        assert!(line.contains("spawn_blocking"), "{line}");

        let slow: Vec<_> = named(&log, "sleeper")
            .filter_map(|e| match e {
                DebugEvent::SlowPoll { took, .. } => Some(*took),
                _ => None,
            })
            .collect();
        assert_eq!(slow.len(), 1, "{log:#?}");
        assert!(slow[0] >= Duration::from_millis(300), "{slow:?}");
    });
}

/// After an idle spell (the watchdog sleeps once no worker is awake for
/// 10 ms: `debug::watchdog` rule 8), a quick task is not reported slow (no
/// stale coarse clock) and a blocking task is still reported while it
/// blocks: the first worker to wake kicked the watchdog.
#[test]
fn after_an_idle_spell_the_watchdog_still_reports_and_times_right() {
    watchdog(|| {
        let (rt, log, rx) = multi_thread_telling_blocked_reports();
        let reported = rt.block_on(async {
            // Idle: no task, the block_on thread parked on the timer.
            windlass::time::sleep(Duration::from_millis(300)).await;
            let quick = task::Builder::new().name("quick").spawn(async { 7 });
            assert_eq!(quick.await.unwrap(), 7);
            windlass::time::sleep(Duration::from_millis(300)).await;
            task::Builder::new()
                .name("sleeper")
                .spawn(async move {
                    std::thread::sleep(Duration::from_millis(300));
                    rx.recv_timeout(Duration::from_secs(20)).is_ok()
                })
                .await
                .unwrap()
        });
        assert!(reported, "no blocked-worker report during the poll");
        let log = log.lock().unwrap();
        assert_eq!(named(&log, "quick").count(), 0, "{log:#?}");
        let sleeper: Vec<_> = named(&log, "sleeper").collect();
        assert_eq!(sleeper.len(), 2, "one blocked, one slow: {log:#?}");
        assert!(matches!(sleeper[0], DebugEvent::BlockedWorker { .. }));
        assert!(
            matches!(sleeper[1], DebugEvent::SlowPoll { took, .. } if *took >= Duration::from_millis(300))
        );
    });
}

#[test]
fn fast_polls_and_blocking_closures_are_not_reported() {
    watchdog(|| {
        let (mut builder, log) = logged(Builder::new_multi_thread());
        // A threshold far above any of the fast polls, even on a loaded
        // machine, and below the blocking closure's sleep.
        let rt = builder
            .slow_poll_threshold(Duration::from_millis(400))
            .build()
            .unwrap();
        rt.block_on(async {
            for _ in 0..100 {
                windlass::spawn(task::yield_now()).await.unwrap();
            }
            // Blocking is what the pool is for: no report.
            windlass::spawn_blocking(|| std::thread::sleep(Duration::from_millis(500)))
                .await
                .unwrap();
        });
        drop(rt);
        assert!(log.lock().unwrap().is_empty(), "{:#?}", log.lock().unwrap());
    });
}

#[test]
fn shutdown_reports_every_pending_task() {
    watchdog(|| {
        for flavor in [Builder::new_multi_thread(), Builder::new_current_thread()] {
            let (mut builder, log) = logged(flavor);
            let rt = builder.build().unwrap();
            let names = ["fetch br", "fetch de", "poll feed"];
            let sites: Vec<_> = names
                .iter()
                .map(|n| {
                    task::Builder::new()
                        .name(n)
                        .spawn_on(std::future::pending::<()>(), rt.handle())
                        .spawned_at()
                })
                .collect();
            let done = rt.spawn(async {});
            rt.block_on(done).unwrap(); // finished tasks are not reported
            drop(rt);
            let log = log.lock().unwrap();
            let pending = log
                .iter()
                .filter(|e| matches!(e, DebugEvent::PendingAtShutdown { .. }))
                .count();
            assert_eq!(pending, names.len(), "{log:#?}");
            for (name, site) in names.iter().zip(sites) {
                let mut found =
                    named(&log, name).filter(|e| matches!(e, DebugEvent::PendingAtShutdown { .. }));
                let Some(DebugEvent::PendingAtShutdown { task }) = found.next() else {
                    panic!("no report for {name}: {log:#?}");
                };
                assert_eq!(task.spawned_at(), site);
                assert!(found.next().is_none());
            }
        }
    });
}

#[test]
fn a_panic_nobody_retrieves_is_reported() {
    watchdog(|| {
        let (tx, rx) = mpsc::channel::<DebugEvent>();
        let tx = Mutex::new(tx);
        let rt = Builder::new_multi_thread()
            .worker_threads(2)
            .debug(true)
            .on_debug_event(move |e| {
                // Only this kind: on a loaded machine, printing the panic
                // can make its poll slow enough for the other reports.
                if matches!(e, DebugEvent::PanicNotRetrieved { .. }) {
                    let _ = tx.lock().unwrap().send(e.clone());
                }
            })
            .build()
            .unwrap();
        // Detached before it panics: reported when it completes.
        let (go, wait) = futures_channel::oneshot::channel::<()>();
        let detached = task::Builder::new().name("detached").spawn_on(
            async move {
                wait.await.unwrap();
                panic!("lost {}", 1);
            },
            rt.handle(),
        );
        drop(detached);
        go.send(()).unwrap();
        let event = rx.recv_timeout(Duration::from_secs(20)).unwrap();
        let DebugEvent::PanicNotRetrieved { task, message } = &event else {
            panic!("{event:?}");
        };
        assert_eq!(task.name(), Some("detached"));
        assert_eq!(message.as_deref(), Some("lost 1"));
        assert!(event.to_string().contains("was dropped"), "{event}");

        // Finished, then its handle dropped unread: reported at the drop.
        let late = task::Builder::new()
            .name("late")
            .spawn_on(async { panic!("lost 2") }, rt.handle());
        while !late.is_finished() {
            std::thread::yield_now();
        }
        assert!(
            rx.try_recv().is_err(),
            "reported before the handle was dropped"
        );
        drop(late);
        let event = rx.try_recv().expect("reported at the drop");
        assert_eq!(event.task().and_then(|t| t.name()), Some("late"));

        // A retrieved panic is not reported.
        let seen = rt.spawn(async { panic!("seen") });
        assert!(rt.block_on(seen).is_err());
        drop(rt);
        assert!(rx.try_recv().is_err());
    });
}

#[test]
fn a_zero_threshold_is_rejected_with_the_fix() {
    for mut builder in [Builder::new_multi_thread(), Builder::new_current_thread()] {
        let err = builder
            .debug(true)
            .slow_poll_threshold(Duration::ZERO)
            .build()
            .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
        let msg = err.to_string();
        assert!(msg.contains("slow_poll_threshold"), "{msg}");
        assert!(msg.contains("Duration::from_millis(100)"), "{msg}");
    }
}

#[test]
fn a_panicking_callback_does_not_take_a_worker_down() {
    watchdog(|| {
        let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = calls.clone();
        let rt = Builder::new_multi_thread()
            .worker_threads(1)
            .debug(true)
            .slow_poll_threshold(Duration::from_millis(20))
            .on_debug_event(move |_| {
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                panic!("callback bug");
            })
            .build()
            .unwrap();
        for round in 1..=2 {
            // A slow poll: the callback panics on the only worker (and on
            // the watchdog, for the blocked worker).
            let slow = rt.spawn(async { std::thread::sleep(Duration::from_millis(60)) });
            rt.block_on(slow).unwrap();
            // The worker still runs tasks.
            let after = rt.spawn(async { 40 + 2 });
            assert_eq!(rt.block_on(after).unwrap(), 42);
            let n = calls.load(std::sync::atomic::Ordering::SeqCst);
            assert!(n >= round, "round {round}: {n} calls");
        }
    });
}

/// Runs in a child process: `WINDLASS_DEBUG=1` with no setter, no callback.
#[test]
fn env_child() {
    let Some(mode) = std::env::var_os("WINDLASS_DEBUG_TEST_CHILD") else {
        return;
    };
    let mut builder = Builder::new_current_thread();
    if mode == "off" {
        builder.debug(false); // the setter wins over the environment
    }
    let rt = builder.build().unwrap();
    task::Builder::new()
        .name("left\nbehind")
        .spawn_on(std::future::pending::<()>(), rt.handle());
    drop(rt);
}

fn run_env_child(mode: &str) -> String {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "mode::env_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("WINDLASS_DEBUG_TEST_CHILD", mode)
        .env("WINDLASS_DEBUG", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stderr).unwrap()
}

#[test]
fn windlass_debug_env_turns_it_on_and_reports_go_to_stderr() {
    let stderr = run_env_child("on");
    let line = stderr
        .lines()
        .find(|l| l.starts_with("windlass debug: pending at shutdown: task 'left\\nbehind' (id "))
        .unwrap_or_else(|| panic!("no report in {stderr:?}"));
    assert!(line.contains(&format!("spawned at {}:", file!())), "{line}");
    let stderr = run_env_child("off");
    assert!(!stderr.contains("windlass debug:"), "{stderr}");
}

/// The descriptor numbers of this process's epoll instances.
fn epoll_fds() -> Vec<i32> {
    std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd")
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let target = std::fs::read_link(entry.path()).ok()?;
            if target.to_str()? != "anon_inode:[eventpoll]" {
                return None;
            }
            entry.file_name().to_str()?.parse().ok()
        })
        .collect()
}

/// A failed wait on the reactor's poller reaches the `on_debug_event`
/// callback as `ReactorWaitFailed`, with debug mode off, and the runtime
/// goes on (a timer still fires). The failure is real: in a child process
/// (so that no other test's runtime is around), `/dev/null` is `dup2`ed
/// over the runtime's epoll descriptor, so every wait fails with `EINVAL`.
fn reactor_wait_failure_is_reported(name: &str, mut builder: Builder) {
    use std::os::fd::AsRawFd;
    crate::support::child::run(name, Duration::from_secs(60), move || {
        let log: Log = Arc::default();
        let sink = log.clone();
        let before = epoll_fds();
        let rt = builder
            .debug(false)
            .on_debug_event(move |e| sink.lock().unwrap().push(e.clone()))
            .build()
            .unwrap();
        let new: Vec<i32> = epoll_fds()
            .into_iter()
            .filter(|fd| !before.contains(fd))
            .collect();
        assert_eq!(new.len(), 1, "one poller per runtime: {new:?}");
        let devnull = std::fs::File::open("/dev/null").unwrap();
        // SAFETY: both descriptors are open. The poller's number now names
        // /dev/null, which the poller closes when the runtime is dropped,
        // as it would have closed its epoll instance.
        let res = unsafe { libc::dup2(devnull.as_raw_fd(), new[0]) };
        assert_eq!(res, new[0], "dup2: {}", std::io::Error::last_os_error());
        drop(devnull);

        // The first timer starts the reactor; its waits fail, and the timer
        // fires at a retry.
        rt.block_on(windlass::time::sleep(Duration::from_millis(20)));
        drop(rt);

        let log = log.lock().unwrap();
        let failures: Vec<Option<i32>> = log
            .iter()
            .filter_map(|e| match e {
                DebugEvent::ReactorWaitFailed { error } => Some(error.raw_os_error()),
                _ => None,
            })
            .collect();
        assert!(!failures.is_empty(), "no ReactorWaitFailed in {log:?}");
        assert!(
            failures.iter().all(|&code| code == Some(libc::EINVAL)),
            "{failures:?}"
        );
        assert!(log.iter().all(|e| e.task().is_none()), "{log:?}");
        assert!(log[0].to_string().starts_with("reactor wait failed: "));
    })
    .assert_passed();
}

#[test]
fn reactor_wait_failure_is_reported_current_thread() {
    reactor_wait_failure_is_reported(
        "mode::reactor_wait_failure_is_reported_current_thread",
        Builder::new_current_thread(),
    );
}

#[test]
fn reactor_wait_failure_is_reported_multi_thread() {
    let mut builder = Builder::new_multi_thread();
    builder.worker_threads(2);
    reactor_wait_failure_is_reported(
        "mode::reactor_wait_failure_is_reported_multi_thread",
        builder,
    );
}

/// Debug rule 2 and watchdog rule 6: a poll that took at least the
/// threshold gives a `SlowPoll` once it returns, and the coarse clock a
/// multi-thread worker times it with is never used stale. A poll that is in
/// progress when the runtime begins to shut down (the very poll that makes
/// `drop(rt)` wait) ends after the watchdog has stopped; its end must still
/// be read from a moving clock, so the report comes, with the real length.
#[test]
fn a_slow_poll_that_ends_during_shutdown_is_still_reported() {
    watchdog(|| {
        let log: Arc<Mutex<Vec<DebugEvent>>> = Arc::default();
        let sink = log.clone();
        let rt = Builder::new_multi_thread()
            .worker_threads(1)
            .debug(true)
            .slow_poll_threshold(Duration::from_millis(100))
            .on_debug_event(move |e| sink.lock().unwrap().push(e.clone()))
            .build()
            .unwrap();
        let (started_tx, started) = mpsc::channel();
        let sleeper = task::Builder::new().name("sleeper").spawn_on(
            async move {
                started_tx.send(()).unwrap();
                std::thread::sleep(Duration::from_millis(300)); // blocks the worker
            },
            rt.handle(),
        );
        started.recv().unwrap();
        // Shut down while the poll is in progress: drop waits for it.
        drop(rt);
        futures_lite::future::block_on(sleeper).unwrap();
        let log = log.lock().unwrap();
        let slow: Vec<Duration> = log
            .iter()
            .filter_map(|e| match e {
                DebugEvent::SlowPoll { task, took } if task.name() == Some("sleeper") => {
                    Some(*took)
                }
                _ => None,
            })
            .collect();
        assert_eq!(
            slow.len(),
            1,
            "a 300 ms poll with a 100 ms threshold: {log:#?}"
        );
        assert!(slow[0] >= Duration::from_millis(300), "{slow:?}");
    });
}

/// A panic payload whose destructor panics too.
struct PanickyPayload;
impl Drop for PanickyPayload {
    fn drop(&mut self) {
        panic!("payload drop panicked");
    }
}

/// Debug rule 5: a panic in the `on_debug_event` callback "is caught and
/// reported on stderr, and the thread goes on". A callback whose panic
/// payload panics again when dropped (the case `task::harness` already
/// guards for a task's payload) must not unwind out of the runtime: here,
/// out of the shutdown pass that reports `PendingAtShutdown`, which would
/// leave the remaining tasks uncancelled and `drop(rt)` waiting forever.
#[test]
fn a_callback_panic_whose_payload_panics_on_drop_is_contained() {
    watchdog(|| {
        let rt = Builder::new_multi_thread()
            .worker_threads(1)
            .debug(true)
            .on_debug_event(|e| {
                if matches!(e, DebugEvent::PendingAtShutdown { .. }) {
                    std::panic::panic_any(PanickyPayload);
                }
            })
            .build()
            .unwrap();
        let pending: Vec<_> = (0..4)
            .map(|_| rt.spawn(std::future::pending::<()>()))
            .collect();
        let (done_tx, done) = mpsc::channel();
        std::thread::spawn(move || {
            let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(rt)));
            let _ = done_tx.send(dropped.is_ok());
        });
        let returned = done
            .recv_timeout(Duration::from_secs(10))
            .expect("drop(rt) hung: the shutdown pass was cut short");
        assert!(returned, "drop(rt) unwound");
        for h in pending {
            assert!(
                futures_lite::future::block_on(h)
                    .unwrap_err()
                    .is_cancelled()
            );
        }
    });
}

/// The same on `JoinHandle::drop` (task rule 8: it never unwinds): the
/// `PanicNotRetrieved` report of a dropped handle runs the callback on the
/// dropping thread.
#[test]
fn join_handle_drop_does_not_unwind_from_a_callback_payload() {
    watchdog(|| {
        let rt = Builder::new_current_thread()
            .debug(true)
            .on_debug_event(|e| {
                if matches!(e, DebugEvent::PanicNotRetrieved { .. }) {
                    std::panic::panic_any(PanickyPayload);
                }
            })
            .build()
            .unwrap();
        let h = rt.spawn(async { panic!("task panicked") });
        rt.block_on(async {
            while !h.is_finished() {
                windlass::yield_now().await;
            }
        });
        let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(h)));
        assert!(dropped.is_ok(), "JoinHandle::drop unwound");
    });
}
