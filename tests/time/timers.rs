//! Timers: `sleep`, `sleep_until`, `Sleep::reset`, `timeout`, `timeout_at`,
//! `interval` with each `MissedTickBehavior`, deadline order, 100,000
//! concurrent sleeps, deadlines that never come, and that dropped sleeps
//! leave no timer registered.
//!
//! Timing assertions are lower bounds ("did not finish early") or generous
//! upper bounds; the interval tests assert on the scheduled instants the
//! interval returns, not on elapsed time.

use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::{
    DropCounter, XorShift, current, expect_panic, multi, signal_when_pending, watchdog,
};
use futures_lite::StreamExt;
use futures_lite::future::poll_once;
use windlass::runtime::Handle;
use windlass::time::{
    Elapsed, Instant, MissedTickBehavior, interval, interval_at, sleep, sleep_until, timeout,
    timeout_at,
};

const LONG: Duration = Duration::from_secs(20);
const HOUR: Duration = Duration::from_secs(3600);

/// Each test's runtime: the shared leak-checked run (2 workers, under the
/// watchdog; no source or timer left registered).
use crate::support::run_leak_checked as run;

fn num_timers() -> usize {
    Handle::current().num_timers()
}

#[test]
fn sleep_waits_at_least_its_duration() {
    run(|| async {
        for ms in [0, 1, 5, 20] {
            let d = Duration::from_millis(ms);
            let start = Instant::now();
            let s = sleep(d);
            assert_eq!(s.deadline().map(|dl| dl >= start + d), Some(true));
            s.await;
            let took = start.elapsed();
            assert!(took >= d, "sleep({d:?}) finished after {took:?}");
            assert!(took < LONG);
        }
        // In spawned tasks too, several at once.
        let start = Instant::now();
        let tasks: Vec<_> = (1..=10)
            .map(|i| windlass::spawn(sleep(Duration::from_millis(2 * i))))
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        assert!(start.elapsed() >= Duration::from_millis(20));
    });
}

#[test]
fn sleep_until_a_past_instant_is_ready_at_once() {
    run(|| async {
        let past = Instant::now() - Duration::from_millis(5);
        let mut s = sleep_until(past);
        assert!(s.is_elapsed());
        assert_eq!(poll_once(&mut s).await, Some(()));
        assert_eq!(num_timers(), 0);
        // A zero-length sleep too.
        assert_eq!(poll_once(sleep(Duration::ZERO)).await, Some(()));
    });
}

#[test]
fn timers_fire_in_deadline_order() {
    const N: usize = 40;
    const SPACING: Duration = Duration::from_millis(3);
    watchdog(|| {
        // Current-thread: a task is polled in the order it was woken, so
        // the order of the pushes is the order the reactor fired the timers.
        let rt = current();
        rt.block_on(async {
            let mut rng = XorShift::new(0x5EED);
            let mut ranks: Vec<usize> = (0..N).collect();
            for i in (1..N).rev() {
                ranks.swap(i, rng.below(i as u64 + 1) as usize);
            }
            // Far enough ahead that every task is polled (and registers
            // its timer) before the first deadline.
            let base = Instant::now() + Duration::from_millis(150);
            let woke = Arc::new(Mutex::new(Vec::new()));
            let tasks: Vec<_> = ranks
                .iter()
                .map(|&rank| {
                    let woke = woke.clone();
                    windlass::spawn(async move {
                        sleep_until(base + SPACING * rank as u32).await;
                        woke.lock().unwrap().push(rank);
                    })
                })
                .collect();
            for t in tasks {
                timeout(LONG, t).await.unwrap().unwrap();
            }
            let woke = woke.lock().unwrap().clone();
            let sorted: Vec<usize> = (0..N).collect();
            assert_eq!(woke, sorted, "timers fired out of deadline order");
            assert!(Instant::now() >= base + SPACING * (N as u32 - 1));
        });
        assert_eq!(rt.handle().num_timers(), 0);
    });
}

#[test]
fn hundred_thousand_concurrent_sleeps() {
    const N: usize = 100_000;
    run(|| async {
        let done = Arc::new(AtomicUsize::new(0));
        let mut rng = XorShift::new(42);
        let tasks: Vec<_> = (0..N)
            .map(|_| {
                let done = done.clone();
                let d = Duration::from_micros(rng.below(10_001));
                windlass::spawn(async move {
                    let start = Instant::now();
                    sleep(d).await;
                    assert!(start.elapsed() >= d);
                    done.fetch_add(1, SeqCst);
                })
            })
            .collect();
        for t in tasks {
            timeout(LONG, t).await.unwrap().unwrap();
        }
        assert_eq!(done.load(SeqCst), N);
        assert_eq!(num_timers(), 0);
    });
}

#[test]
fn timeout_cancels_the_inner_future_when_it_elapses() {
    run(|| async {
        let drops = DropCounter::new();
        let token = drops.token();
        let mut t = pin!(timeout(Duration::from_millis(20), async move {
            let _token = token;
            // Holds a timer of its own, which must be released too.
            sleep(HOUR).await;
            7
        }));
        let start = Instant::now();
        let res = t.as_mut().await;
        assert!(res.is_err());
        assert!(start.elapsed() >= Duration::from_millis(20));
        // Dropped when `timeout` returned, before the Timeout itself goes.
        assert_eq!(drops.dropped(), 1);
        assert_eq!(num_timers(), 0);
    });
}

#[test]
fn timeout_returns_ok_when_the_future_wins() {
    run(|| async {
        assert_eq!(timeout(LONG, async { 7 }).await, Ok(7));
        let v = timeout(LONG, async {
            sleep(Duration::from_millis(5)).await;
            "slept"
        })
        .await;
        assert_eq!(v, Ok("slept"));
        // A future that needs several wake-ups.
        let (tx, rx) = async_channel::unbounded();
        let sender = windlass::spawn(async move {
            for i in 0..10 {
                tx.send(i).await.unwrap();
                windlass::yield_now().await;
            }
        });
        let sum = timeout(LONG, async {
            let mut sum = 0;
            while let Ok(i) = rx.recv().await {
                sum += i;
            }
            sum
        })
        .await;
        assert_eq!(sum, Ok(45));
        sender.await.unwrap();
        assert_eq!(num_timers(), 0);
        // `timeout_at` likewise, both ways.
        assert_eq!(timeout_at(Instant::now() + LONG, async { 1 }).await, Ok(1));
        let deadline = Instant::now() + Duration::from_millis(10);
        let res = timeout_at(deadline, std::future::pending::<()>()).await;
        assert!(res.is_err());
        assert!(Instant::now() >= deadline);
    });
}

#[test]
fn elapsed_error_conversions() {
    run(|| async {
        let err: Elapsed = timeout(Duration::ZERO, std::future::pending::<()>())
            .await
            .unwrap_err();
        assert_eq!(err.to_string(), "deadline has elapsed");
        let io: std::io::Error = err.into();
        assert_eq!(io.kind(), std::io::ErrorKind::TimedOut);
        let _: &dyn std::error::Error = &err;
    });
}

#[test]
fn sleep_reset() {
    run(|| async {
        // Reset an hour-long sleep to 20 ms: it completes then, not later.
        let mut s = sleep(HOUR);
        assert!(poll_once(&mut s).await.is_none());
        assert_eq!(num_timers(), 1);
        let target = Instant::now() + Duration::from_millis(20);
        s.reset(target);
        assert_eq!(s.deadline(), Some(target));
        // The registration moved to the new deadline (one timer, not two).
        assert_eq!(num_timers(), 1);
        timeout(LONG, &mut s).await.unwrap();
        assert!(Instant::now() >= target);
        assert!(s.is_elapsed());
        assert_eq!(num_timers(), 0);

        // A completed sleep re-arms.
        let again = Instant::now() + Duration::from_millis(10);
        s.reset(again);
        assert!(!s.is_elapsed());
        assert!(poll_once(&mut s).await.is_none());
        timeout(LONG, &mut s).await.unwrap();
        assert!(Instant::now() >= again);

        // Moving a registered deadline later keeps a single timer.
        s.reset(Instant::now() + HOUR);
        assert!(poll_once(&mut s).await.is_none());
        s.reset(Instant::now() + 2 * HOUR);
        assert!(poll_once(&mut s).await.is_none());
        assert_eq!(num_timers(), 1);
        assert!(
            timeout(Duration::from_millis(10), &mut s).await.is_err(),
            "the later deadline holds"
        );
        // Reset into the past: ready on the next poll.
        s.reset(Instant::now() - Duration::from_millis(1));
        assert_eq!(poll_once(&mut s).await, Some(()));
        assert_eq!(num_timers(), 0);

        // A reset from another task wakes nobody early: the sleeping task
        // waits for the new deadline (reset takes `&mut`, so move it).
        let mut s = sleep(HOUR);
        assert!(poll_once(&mut s).await.is_none());
        let target = Instant::now() + Duration::from_millis(15);
        s.reset(target);
        windlass::spawn(s).await.unwrap();
        assert!(Instant::now() >= target);
    });
}

#[test]
fn interval_ticks_on_schedule() {
    run(|| async {
        let period = Duration::from_millis(5);
        let start = Instant::now() + Duration::from_millis(5);
        let mut iv = interval_at(start, period);
        assert_eq!(iv.period(), period);
        for k in 0..5u32 {
            let t = iv.tick().await;
            assert_eq!(t, start + period * k);
            assert!(Instant::now() >= t, "tick {k} came early");
        }
        // As a Stream.
        let ticks: Vec<Instant> = (&mut iv).take(3).collect().await;
        assert_eq!(
            ticks,
            (5..8).map(|k| start + period * k).collect::<Vec<_>>()
        );
        // `interval` ticks at once, then one period later.
        let before = Instant::now();
        let mut iv = interval(period);
        let first = iv.tick().await;
        assert!(first >= before);
        let second = iv.tick().await;
        assert_eq!(second, first + period);
        // `reset`: the next tick is one period from now.
        let at_reset = Instant::now();
        iv.reset();
        let next = iv.tick().await;
        assert!(next >= at_reset + period);
        assert_eq!(MissedTickBehavior::default(), MissedTickBehavior::Burst);
    });
}

/// Ticks once, blocks the task (not the reactor) for `blocked` periods,
/// and returns the scheduled instants of the next `n` ticks, with the
/// start and the instant the block ended.
async fn tick_after_blocking(
    behavior: MissedTickBehavior,
    period: Duration,
    blocked: u32,
    n: usize,
) -> (Instant, Instant, Vec<Instant>) {
    let start = Instant::now();
    let mut iv = interval_at(start, period);
    iv.set_missed_tick_behavior(behavior);
    assert_eq!(iv.tick().await, start);
    // The behaviour under test is what happens after the task was busy for
    // a while: block this thread on purpose.
    std::thread::sleep(period * blocked + period / 2);
    let unblocked = Instant::now();
    let mut ticks = Vec::new();
    for _ in 0..n {
        ticks.push(iv.tick().await);
    }
    (start, unblocked, ticks)
}

#[test]
fn interval_burst_catches_up_back_to_back() {
    run(|| async {
        // Long enough that the first tick is never late by a whole period.
        let period = Duration::from_millis(40);
        let (start, unblocked, ticks) =
            tick_after_blocking(MissedTickBehavior::Burst, period, 5, 6).await;
        // Every missed tick comes, on its original schedule...
        for (k, t) in ticks.iter().enumerate() {
            assert_eq!(*t, start + period * (k as u32 + 1));
        }
        // ...and the first four were already due when the task unblocked,
        // so they were returned back to back, without waiting.
        for t in &ticks[..4] {
            assert!(*t <= unblocked);
        }
    });
}

#[test]
fn interval_delay_restarts_from_now() {
    run(|| async {
        // Long enough that the first tick is never late by a whole period.
        let period = Duration::from_millis(40);
        let (start, unblocked, ticks) =
            tick_after_blocking(MissedTickBehavior::Delay, period, 5, 3).await;
        // One late tick at once (the first missed one)...
        assert_eq!(ticks[0], start + period);
        // ...then the schedule restarts a period after it was returned.
        assert!(ticks[1] >= unblocked + period, "{:?}", ticks[1] - unblocked);
        assert!(ticks[2] >= ticks[1] + period);
    });
}

#[test]
fn interval_skip_keeps_the_original_phase() {
    run(|| async {
        // Long enough that the first tick is never late by a whole period.
        let period = Duration::from_millis(40);
        let (start, unblocked, ticks) =
            tick_after_blocking(MissedTickBehavior::Skip, period, 5, 3).await;
        assert_eq!(ticks[0], start + period);
        // The next tick is in the future, on a multiple of the period.
        for t in &ticks[1..] {
            assert!(*t > unblocked);
            let since = t.duration_since(start);
            assert_eq!(since.as_nanos() % period.as_nanos(), 0, "{since:?}");
        }
        assert!(ticks[1] - start >= period * 6);
        assert!(ticks[2] > ticks[1]);
    });
}

#[test]
fn duration_max_sleep_never_completes() {
    run(|| async {
        let mut s = sleep(Duration::MAX);
        assert_eq!(s.deadline(), None);
        assert!(!s.is_elapsed());
        assert!(
            timeout(Duration::from_millis(20), &mut s).await.is_err(),
            "a Duration::MAX sleep completed"
        );
        assert!(poll_once(&mut s).await.is_none());
        drop(s);
        assert!(
            timeout(Duration::from_millis(20), sleep(Duration::MAX))
                .await
                .is_err()
        );
        // A timeout of Duration::MAX never fires either.
        assert_eq!(timeout(Duration::MAX, async { 3 }).await, Ok(3));
        let mut t = pin!(timeout(Duration::MAX, std::future::pending::<()>()));
        assert!(poll_once(t.as_mut()).await.is_none());
    });
}

#[test]
fn far_future_sleep_until_never_completes() {
    run(|| async {
        let far = Instant::now() + Duration::from_secs(86_400 * 365 * 30);
        assert!(
            timeout(Duration::from_millis(20), sleep_until(far))
                .await
                .is_err()
        );
        assert!(
            timeout(Duration::from_millis(20), sleep_until(farthest()))
                .await
                .is_err()
        );
        assert_eq!(num_timers(), 0);
    });
}

/// About the largest deadline an `Instant` can represent.
fn farthest() -> Instant {
    let mut huge = Duration::from_secs(u64::MAX);
    loop {
        if let Some(t) = Instant::now().checked_add(huge) {
            return t;
        }
        huge /= 2;
    }
}

#[test]
fn reactor_keeps_working_when_the_only_timer_is_far_away() {
    run(|| async {
        let far = farthest();
        let (reg_tx, reg_rx) = async_channel::unbounded();
        let sleeper = windlass::spawn(signal_when_pending(sleep_until(far), reg_tx));
        reg_rx.recv().await.unwrap();
        assert_eq!(num_timers(), 1);
        // I/O is still served while the reactor waits for that deadline.
        let (a, b) = windlass::net::UnixStream::pair().unwrap();
        let (mut a, mut b) = (a, b);
        let (reg_tx, reg_rx) = async_channel::unbounded();
        let reader = windlass::spawn(signal_when_pending(
            async move {
                use futures_lite::AsyncReadExt;
                let mut buf = [0; 2];
                b.read_exact(&mut buf).await.unwrap();
                buf
            },
            reg_tx,
        ));
        reg_rx.recv().await.unwrap();
        {
            use futures_lite::AsyncWriteExt;
            a.write_all(b"ok").await.unwrap();
        }
        assert_eq!(&timeout(LONG, reader).await.unwrap().unwrap(), b"ok");
        // And a nearer timer still fires.
        let start = Instant::now();
        sleep(Duration::from_millis(5)).await;
        assert!(start.elapsed() >= Duration::from_millis(5));
        sleeper.abort();
        assert!(sleeper.await.unwrap_err().is_cancelled());
        assert_eq!(num_timers(), 0);
    });
}

#[test]
fn dropped_sleeps_leave_no_timers() {
    run(|| async {
        let mut sleeps: Vec<_> = (0..100)
            .map(|i| sleep(HOUR + Duration::from_millis(i)))
            .collect();
        // A sleep registers on its first poll, not when created.
        assert_eq!(num_timers(), 0);
        for s in &mut sleeps {
            assert!(poll_once(s).await.is_none());
        }
        assert_eq!(num_timers(), 100);
        sleeps.truncate(40);
        assert_eq!(num_timers(), 40);
        drop(sleeps);
        assert_eq!(num_timers(), 0);

        // Tasks sleeping, aborted: their timers go with them.
        let (reg_tx, reg_rx) = async_channel::unbounded();
        let tasks: Vec<_> = (0..50)
            .map(|_| windlass::spawn(signal_when_pending(sleep(HOUR), reg_tx.clone())))
            .collect();
        crate::support::wait_registered(&reg_rx, 50).await;
        assert_eq!(num_timers(), 50);
        for t in &tasks {
            t.abort();
        }
        for t in tasks {
            assert!(t.await.unwrap_err().is_cancelled());
        }
        assert_eq!(num_timers(), 0);

        // Intervals and timeouts too.
        let mut iv = interval(HOUR);
        iv.tick().await;
        assert!(poll_once(iv.tick()).await.is_none());
        assert_eq!(num_timers(), 1);
        drop(iv);
        assert_eq!(num_timers(), 0);
        let mut t = pin!(timeout(HOUR, std::future::pending::<()>()));
        assert!(poll_once(t.as_mut()).await.is_none());
        assert_eq!(num_timers(), 1);
    });
}

/// #11 "Small gaps": a timer built outside a runtime binds to the one it
/// is first polled in; polled with no runtime at all, it panics with a
/// message naming the fix.
#[test]
fn timers_built_outside_a_runtime_bind_at_first_poll() {
    let nap = sleep(Duration::from_millis(1));
    let until = sleep_until(Instant::now() + Duration::from_millis(1));
    let bounded = timeout(Duration::from_millis(1), std::future::pending::<()>());
    for rt in [multi(2), current()] {
        let mut ticks = interval(Duration::from_millis(1));
        rt.block_on(async {
            let start = Instant::now();
            ticks.next().await;
            ticks.tick().await;
            assert!(start.elapsed() > Duration::ZERO);
        });
    }
    multi(2).block_on(async {
        nap.await;
        until.await;
        assert!(bounded.await.is_err());
    });
    for msg in [
        expect_panic(|| futures_lite::future::block_on(sleep(Duration::from_millis(1)))),
        expect_panic(|| {
            futures_lite::future::block_on(timeout(
                Duration::from_millis(1),
                std::future::pending::<()>(),
            ))
        }),
        expect_panic(|| futures_lite::future::block_on(interval(HOUR).tick())),
    ] {
        assert!(
            msg.contains("outside a windlass runtime") && msg.contains("block_on"),
            "unhelpful panic message: {msg}"
        );
    }
    // Under `Runtime::enter` a sleep binds at once, then is awaited later.
    let rt = multi(2);
    let s = {
        let _guard = rt.enter();
        sleep(Duration::from_millis(1))
    };
    rt.block_on(s);
}

#[test]
fn zero_period_interval_panics() {
    let rt = current();
    let _guard = rt.enter();
    let msg = expect_panic(|| interval(Duration::ZERO));
    assert!(msg.contains("period"), "{msg}");
}

#[test]
fn sleeps_on_the_current_thread_runtime() {
    watchdog(|| {
        let rt = current();
        rt.block_on(async {
            let start = Instant::now();
            let tasks: Vec<_> = (0..100)
                .map(|i| windlass::spawn(sleep(Duration::from_micros(100 * i))))
                .collect();
            for t in tasks {
                timeout(LONG, t).await.unwrap().unwrap();
            }
            assert!(start.elapsed() >= Duration::from_micros(9900));
            assert!(
                timeout(Duration::from_millis(5), std::future::pending::<()>())
                    .await
                    .is_err()
            );
        });
        assert_eq!(rt.handle().num_timers(), 0);
    });
}

/// A sleep reset while its task waits on it (polled, `Pending`, then reset
/// without a second poll: a hand-written future moving an idle deadline)
/// wakes that task at the new deadline, as tokio's does. The reset used to
/// drop the registered waker with the old registration, so the task was
/// never woken. On a paused clock the loss is exact: the only timer left
/// was the outer `timeout`, an hour later.
#[test]
fn a_reset_sleep_wakes_its_waiting_task_at_the_new_deadline() {
    for flavor in ["current_thread", "multi_thread"] {
        let mut builder = match flavor {
            "current_thread" => windlass::runtime::Builder::new_current_thread(),
            _ => windlass::runtime::Builder::new_multi_thread(),
        };
        let rt = builder.start_paused(true).build().unwrap();
        rt.block_on(async {
            let start = Instant::now();
            let mut s = pin!(sleep(HOUR));
            let mut reset = false;
            let waited = timeout(
                HOUR,
                std::future::poll_fn(|cx| {
                    if s.as_mut().poll(cx).is_ready() {
                        return std::task::Poll::Ready(());
                    }
                    if !reset {
                        s.as_mut().reset(start + Duration::from_millis(20));
                        reset = true;
                    }
                    std::task::Poll::Pending
                }),
            )
            .await;
            assert!(waited.is_ok(), "{flavor}: the task was never woken");
            assert_eq!(start.elapsed(), Duration::from_millis(20), "{flavor}");
        });
    }
}

/// A waker is user code and its `wake` may panic. The reactor contains
/// the panic: the wakers collected with it are still woken, and the thread
/// that drives the timers (a current-thread runtime's reactor thread, or a
/// worker) goes on. Before, the panic unwound out of the reactor: a
/// current-thread runtime's timers and I/O then hung for good.
#[test]
fn a_waker_that_panics_does_not_stop_the_runtimes_timers() {
    use std::sync::mpsc::{Sender, channel};
    use std::task::{Context, Wake, Waker};
    struct Bomb(Mutex<Sender<()>>);
    impl Wake for Bomb {
        fn wake(self: Arc<Self>) {
            let _ = self.0.lock().unwrap().send(());
            panic!("a user waker panics (expected by this test)");
        }
    }
    for rt in [current(), multi(2)] {
        let (fired_tx, fired) = channel();
        let mut bomb_sleep = {
            let _g = rt.enter();
            sleep(Duration::from_millis(1))
        };
        let waker = Waker::from(Arc::new(Bomb(Mutex::new(fired_tx))));
        let mut cx = Context::from_waker(&waker);
        assert!(Pin::new(&mut bomb_sleep).poll(&mut cx).is_pending());
        fired
            .recv_timeout(LONG)
            .expect("the timer's waker was woken");
        // The runtime's timers still work, for tasks and for `block_on`.
        watchdog(move || {
            let task = rt.spawn(sleep(Duration::from_millis(5)));
            rt.block_on(async {
                sleep(Duration::from_millis(5)).await;
                task.await.unwrap();
            });
        });
    }
}
