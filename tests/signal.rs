//! `windlass::signal`: `ctrl_c()` and `unix::signal()`.
//!
//! Signals are process-wide and the tests of this file share one process,
//! so every test that raises a signal, or asserts that a listener was *not*
//! woken, holds [`serial`] for its whole body: no other test's signal can
//! then complete or disturb its listeners. Signals are raised with
//! `raise(3)`, which runs the handler on the calling thread before it
//! returns, so "the delivery happened" is a fact at the next line, with no
//! sleep. Every test that waits for a delivery runs under a watchdog, so a
//! lost delivery fails the test instead of hanging it.

mod support;

use std::io;
use std::sync::{Mutex, MutexGuard};

use futures_lite::StreamExt;
use futures_lite::future::{block_on, poll_once};
use rustix::process::Signal as Sig;
use support::{current, multi, watchdog};
use windlass::signal::ctrl_c;
use windlass::signal::unix::{Signal, SignalKind, signal};

/// Serialises the tests that raise signals or assert their absence, and
/// every test that creates or polls a listener: a listener's creation and
/// its polls dispatch the pending deliveries of *every* signal, so one
/// running between another test's raises splits that test's burst into two
/// deliveries (`a_burst_is_coalesced_...` failed 2 times in 100 runs of
/// this binary while two such tests ran beside it unserialised).
fn serial() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    // A failed test poisons the lock; the others still run.
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Sends `kind` to this thread; its handler has run when this returns.
fn raise(kind: SignalKind) {
    signal_hook::low_level::raise(kind.as_raw()).expect("raise");
}

/// True if `s` has a delivery ready now (polls it once, without waiting).
async fn has_delivery(s: &mut Signal) -> bool {
    match poll_once(s.recv()).await {
        Some(got) => got.is_some(),
        None => false,
    }
}

#[test]
fn ctrl_c_completes_on_sigint_multi_thread() {
    let _serial = serial();
    watchdog(|| {
        multi(2).block_on(async {
            let ctrl_c = ctrl_c();
            raise(SignalKind::interrupt());
            ctrl_c.await.unwrap();
        })
    });
}

#[test]
fn ctrl_c_completes_on_sigint_current_thread() {
    let _serial = serial();
    watchdog(|| {
        current().block_on(async {
            // Awaited in a task while block_on waits on its handle.
            let ctrl_c = ctrl_c();
            let waiter = windlass::spawn(ctrl_c);
            raise(SignalKind::interrupt());
            waiter.await.unwrap().unwrap();
        })
    });
}

#[test]
fn ctrl_c_listens_from_creation_not_first_poll() {
    let _serial = serial();
    watchdog(|| {
        // Created outside any runtime, SIGINT arrives before the first poll.
        let ctrl_c = ctrl_c();
        raise(SignalKind::interrupt());
        current().block_on(ctrl_c).unwrap();
    });
}

#[test]
fn ctrl_c_ignores_sigint_from_before_its_creation() {
    let _serial = serial();
    watchdog(|| {
        multi(2).block_on(async {
            let first = ctrl_c();
            raise(SignalKind::interrupt());
            first.await.unwrap();
            // The handler stays; this SIGINT reaches nobody and is swallowed.
            raise(SignalKind::interrupt());
            let mut second = std::pin::pin!(ctrl_c());
            assert!(poll_once(&mut second).await.is_none(), "saw an old SIGINT");
            raise(SignalKind::interrupt());
            second.await.unwrap();
        })
    });
}

#[test]
fn ctrl_c_awaited_outside_a_runtime_errors() {
    let err = block_on(ctrl_c()).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("needs a windlass runtime"), "{msg}");
    assert!(msg.contains("block_on"), "the message names the fix: {msg}");
}

#[test]
fn two_listeners_both_wake() {
    let _serial = serial();
    watchdog(|| {
        multi(2).block_on(async {
            let a = signal(SignalKind::hangup()).unwrap();
            let b = signal(SignalKind::hangup()).unwrap();
            let wait = |mut s: Signal| windlass::spawn(async move { s.recv().await });
            let (a, b) = (wait(a), wait(b));
            raise(SignalKind::hangup());
            assert_eq!(a.await.unwrap(), Some(()));
            assert_eq!(b.await.unwrap(), Some(()));
        })
    });
}

#[test]
fn usr1_listener_is_not_woken_by_usr2() {
    let _serial = serial();
    watchdog(|| {
        multi(2).block_on(async {
            let mut usr1 = signal(SignalKind::user_defined1()).unwrap();
            let mut usr2 = signal(SignalKind::user_defined2()).unwrap();
            raise(SignalKind::user_defined2());
            // Once usr2 got it, the delivery has been dispatched.
            assert_eq!(usr2.recv().await, Some(()));
            assert!(
                !has_delivery(&mut usr1).await,
                "SIGUSR2 woke a SIGUSR1 listener"
            );
            raise(SignalKind::user_defined1());
            assert_eq!(usr1.recv().await, Some(()));
            assert!(
                !has_delivery(&mut usr2).await,
                "SIGUSR1 woke a SIGUSR2 listener"
            );
        })
    });
}

#[test]
fn listener_created_after_a_delivery_does_not_see_it() {
    let _serial = serial();
    watchdog(|| {
        current().block_on(async {
            let mut early = signal(SignalKind::alarm()).unwrap();
            raise(SignalKind::alarm());
            let mut late = signal(SignalKind::alarm()).unwrap();
            assert!(
                !has_delivery(&mut late).await,
                "late listener saw an old delivery"
            );
            assert!(has_delivery(&mut early).await);

            // Also when nobody at all listened at the time of the delivery.
            drop((early, late));
            raise(SignalKind::alarm());
            let mut later = signal(SignalKind::alarm()).unwrap();
            assert!(
                !has_delivery(&mut later).await,
                "saw a delivery nobody listened for"
            );
            raise(SignalKind::alarm());
            assert_eq!(later.recv().await, Some(()));
        })
    });
}

#[test]
fn a_burst_is_coalesced_and_a_stream_yields_per_delivery() {
    let _serial = serial();
    watchdog(|| {
        multi(2).block_on(async {
            let mut s = signal(SignalKind::window_change()).unwrap();
            for _ in 0..3 {
                raise(SignalKind::window_change());
            }
            assert_eq!(s.next().await, Some(()));
            assert!(
                !has_delivery(&mut s).await,
                "a burst before a poll counts once"
            );
            raise(SignalKind::window_change());
            assert_eq!(s.next().await, Some(()));
        })
    });
}

#[test]
fn terminate_on_current_thread_runtime() {
    let _serial = serial();
    watchdog(|| {
        current().block_on(async {
            let mut term = signal(SignalKind::terminate()).unwrap();
            let waiter = windlass::spawn(async move { term.recv().await });
            // Let the task start waiting first (it runs while we yield).
            windlass::yield_now().await;
            raise(SignalKind::terminate());
            assert_eq!(waiter.await.unwrap(), Some(()));
        })
    });
}

#[test]
fn a_second_runtime_after_the_first_is_dropped_still_receives() {
    let _serial = serial();
    let kind = SignalKind::quit();
    watchdog(move || {
        for rt in [multi(2), current(), multi(2)] {
            rt.block_on(async {
                let mut s = signal(kind).unwrap();
                raise(kind);
                assert_eq!(s.recv().await, Some(()));
            });
            drop(rt);
        }
    });
}

#[test]
fn two_runtimes_at_once_both_receive() {
    let _serial = serial();
    let kind = SignalKind::from_raw(Sig::URG.as_raw());
    watchdog(move || {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let other = std::thread::spawn(move || {
            current().block_on(async {
                let mut s = signal(kind).unwrap();
                ready_tx.send(()).unwrap();
                s.recv().await
            })
        });
        multi(2).block_on(async {
            let mut s = signal(kind).unwrap();
            // The other runtime's listener exists before the signal comes.
            ready_rx.recv().unwrap();
            raise(kind);
            assert_eq!(s.recv().await, Some(()));
        });
        assert_eq!(other.join().unwrap(), Some(()));
    });
}

#[test]
fn a_listener_outliving_its_runtime_ends() {
    // Raises nothing, and a signal no other test raises; serialised
    // because creating the listener dispatches every signal (`serial`).
    let _serial = serial();
    let kind = SignalKind::from_raw(Sig::VTALARM.as_raw());
    let rt = multi(2);
    let mut s = rt.block_on(async { signal(kind).unwrap() });
    drop(rt);
    let got = watchdog(move || current().block_on(async move { s.recv().await }));
    assert_eq!(got, None, "no delivery can come once the runtime is gone");
}

#[test]
fn dropping_listeners_leaves_no_reactor_source() {
    let _serial = serial();
    let rt = multi(2);
    let handle = rt.handle().clone();
    rt.block_on(async {
        let before = handle.num_io_sources();
        let a = signal(SignalKind::user_defined2()).unwrap();
        let b = signal(SignalKind::user_defined2()).unwrap();
        assert_eq!(handle.num_io_sources(), before + 2);
        drop((a, b));
        assert_eq!(handle.num_io_sources(), before);

        // A listener dropped while it waits (its task aborted).
        let mut c = signal(SignalKind::user_defined2()).unwrap();
        let (tx, rx) = windlass::sync::oneshot::channel();
        let task = windlass::spawn(async move {
            let _ = poll_once(c.recv()).await; // registered and waiting
            tx.send(()).unwrap();
            c.recv().await
        });
        rx.await.unwrap();
        task.abort();
        assert!(task.await.unwrap_err().is_cancelled());
        assert_eq!(handle.num_io_sources(), before);

        // A ctrl_c() future: registered on first poll, gone when dropped.
        let mut ctrl_c = Box::pin(ctrl_c());
        assert!(poll_once(&mut ctrl_c).await.is_none());
        assert_eq!(handle.num_io_sources(), before + 1);
        drop(ctrl_c);
        assert_eq!(handle.num_io_sources(), before);
    });
}

#[test]
fn forbidden_signals_are_refused_with_the_reason() {
    let rt = current();
    rt.block_on(async {
        let cases = [
            (Sig::KILL, "SIGKILL", "never lets a process catch it"),
            (Sig::STOP, "SIGSTOP", "never lets a process catch it"),
            (Sig::SEGV, "SIGSEGV", "fault in the program itself"),
            (Sig::BUS, "SIGBUS", "fault in the program itself"),
            (Sig::ILL, "SIGILL", "fault in the program itself"),
            (Sig::FPE, "SIGFPE", "fault in the program itself"),
        ];
        for (sig, name, why) in cases {
            let err = signal(SignalKind::from_raw(sig.as_raw())).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
            let msg = err.to_string();
            assert!(msg.contains(name) && msg.contains(why), "{msg}");
        }
        for n in [0, -3, 65, 1000] {
            let err = signal(SignalKind::from_raw(n)).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
            assert!(err.to_string().contains("not a signal number"), "{err}");
        }
    });
}

#[test]
fn signal_outside_a_runtime_errors_with_the_fix() {
    let err = signal(SignalKind::user_defined2()).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("needs a windlass runtime") && msg.contains("block_on"),
        "{msg}"
    );
}

#[test]
fn listener_and_ctrl_c_are_send() {
    fn send<T: Send>(_: &T) {}
    let c = ctrl_c();
    send(&c);
    let rt = current();
    rt.block_on(async {
        let s = signal(SignalKind::user_defined2()).unwrap();
        send(&s);
        assert_eq!(s.kind(), SignalKind::user_defined2());
    });
}
