//! Models of the reactor's source protocol (`src/reactor/source.rs`): the
//! tick, the per-direction ready bits, the main waker slots and the
//! `readable()` / `writable()` waiters, against the reactor delivering an
//! event or shutting down.
//!
//! The real `Source` runs with no poller (loom cannot make the syscalls): a
//! loom thread plays the reactor thread through `windlass::loom_test_hooks::Source`
//! (`deliver` is one event for the source's key, `close` is shutdown), and
//! the "socket" is a loom atomic that the reactor side fills *before* it
//! delivers the event, as the kernel makes data readable before it reports
//! the edge. Attempts read that atomic `Relaxed`: what makes the data
//! visible to an attempt is the source's own ordering (the tick's
//! Release/Acquire and its lock), not the socket's.
//!
//! A lost wake-up shows as a loom deadlock (every thread blocked in
//! `block_on`); a leaked source as loom's leak report; a leaked waker, task
//! or waiter entry as a failed count.
#![cfg(loom)]

use std::future::{Future, poll_fn};
use std::io;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use loom::future::block_on;
use loom::sync::Arc;
use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
use loom::thread;
use windlass::loom_test_hooks::{Dir, Source, TestScheduler, is_gone};
use windlass_loom_tests::{WakeCounter, model};

fn would_block() -> io::Error {
    io::ErrorKind::WouldBlock.into()
}

/// A non-consuming read (a peek): ready once the peer sent something.
fn peek(sent: &AtomicBool) -> io::Result<()> {
    if sent.load(Relaxed) {
        Ok(())
    } else {
        Err(would_block())
    }
}

/// A consuming read (an `accept` or a datagram `recv`): takes one item.
fn take(items: &AtomicUsize) -> io::Result<()> {
    match items.fetch_update(Relaxed, Relaxed, |n| n.checked_sub(1)) {
        Ok(_) => Ok(()),
        Err(_) => Err(would_block()),
    }
}

/// Makes `dir` not ready, as an attempt that would block at the current
/// tick does. (A fresh source is "ready": it has not tried yet.)
fn clear_ready(source: &Source, dir: Dir) {
    let tick = source.tick();
    let mut cx = Context::from_waker(Waker::noop());
    assert!(source.poll_would_block(&mut cx, dir, tick).is_pending());
}

/// Sends a "message" and delivers the readable edge for it.
fn send_and_deliver(source: &Source, sent: &AtomicBool) {
    sent.store(true, Relaxed);
    source.deliver(true, false);
}

/// A key as the reactor packs it: slot index low, generation high.
fn key(index: usize, generation: usize) -> usize {
    (generation << (usize::BITS / 2)) | index
}

/// (a) The `poll_io` path (every `Async` read and write): the event can
/// land before the tick is read, during the attempt, between the
/// `WouldBlock` and the waker registration, or after it. The reader always
/// finishes, and with data it can see: the tick's Acquire pairs with the
/// event's Release, so the `Relaxed` data is visible once the tick moved.
#[test]
fn event_vs_would_block() {
    model(|| {
        let source = Source::new(key(0, 0));
        let sent = Arc::new(AtomicBool::new(false));
        let reactor = {
            let (source, sent) = (source.clone(), sent.clone());
            thread::spawn(move || send_and_deliver(&source, &sent))
        };
        block_on(poll_fn(|cx| source.poll_io(cx, Dir::Read, || peek(&sent)))).unwrap();
        reactor.join().unwrap();
    });
}

/// (a) `poll_readable` (the main slot, no tick): the ready bit is set and
/// the slot taken under the same lock, so the waker is either registered
/// before the event (and woken) or sees the bit.
#[test]
fn event_vs_poll_readable() {
    model(|| {
        let source = Source::new(key(0, 0));
        clear_ready(&source, Dir::Read);
        let reactor = {
            let source = source.clone();
            thread::spawn(move || source.deliver(true, false))
        };
        block_on(poll_fn(|cx| source.poll_ready_main(cx, Dir::Read))).unwrap();
        reactor.join().unwrap();
    });
}

/// (a) `readable()`: the same for a waiter in the list.
#[test]
fn event_vs_readable_waiter() {
    model(|| {
        let source = Source::new(key(0, 0));
        clear_ready(&source, Dir::Read);
        let reactor = {
            let source = source.clone();
            thread::spawn(move || source.deliver(true, false))
        };
        block_on(source.ready(Dir::Read)).unwrap();
        reactor.join().unwrap();
        assert_eq!(
            source.waiters(Dir::Read),
            0,
            "a finished waiter stayed listed"
        );
    });
}

/// (a) An event for the other direction only moves the tick: a reader
/// whose attempt it overlaps retries, would block again and registers at
/// the new tick, and the readable event after it still wakes the reader.
#[test]
fn write_event_then_read_event_vs_reader() {
    model(|| {
        let source = Source::new(key(0, 0));
        let sent = Arc::new(AtomicBool::new(false));
        let reactor = {
            let (source, sent) = (source.clone(), sent.clone());
            thread::spawn(move || {
                source.deliver(false, true);
                send_and_deliver(&source, &sent);
            })
        };
        block_on(poll_fn(|cx| source.poll_io(cx, Dir::Read, || peek(&sent)))).unwrap();
        reactor.join().unwrap();
    });
}

/// (b) A stale `WouldBlock`: an attempt that read the tick before an event
/// but saw `WouldBlock` after it must not clear the readiness that event
/// delivered, or a `readable()` waiter woken by it would go back to sleep
/// with data waiting. (`poll_would_block` clears the bit only if the tick
/// is still the one read before the attempt.)
#[test]
fn stale_would_block_keeps_new_readiness() {
    model(|| {
        let source = Source::new(key(0, 0));
        clear_ready(&source, Dir::Read);
        let sent = Arc::new(AtomicBool::new(false));
        let reader = {
            let (source, sent) = (source.clone(), sent.clone());
            thread::spawn(move || {
                block_on(poll_fn(|cx| source.poll_io(cx, Dir::Read, || peek(&sent)))).unwrap();
            })
        };
        let reactor = {
            let (source, sent) = (source.clone(), sent.clone());
            thread::spawn(move || send_and_deliver(&source, &sent))
        };
        block_on(source.ready(Dir::Read)).unwrap();
        reader.join().unwrap();
        reactor.join().unwrap();
    });
}

/// (b) Key reuse: the reactor took the old registration's source out of
/// the slab with an event for the old key, and delivers it after the
/// `Async` deregistered and the slot went to a new registration (next
/// generation) whose task waits. The event reaches the old source only: the
/// new task is not woken, the old task's waker is woken or freed with the
/// old source, and the old source is freed once the reactor lets go.
///
/// What this does not model: the slab's generation check that drops an
/// event whose key names a freed slot (`reactor::Slab::get`), which is
/// private to the reactor module.
#[test]
fn old_registration_event_stays_with_old_owner() {
    model(|| {
        let old_task = WakeCounter::new();
        let new_task = WakeCounter::new();
        let old = Source::new(key(0, 0));
        clear_ready(&old, Dir::Read);
        let old_waker = old_task.waker();
        assert!(
            old.poll_ready_main(&mut Context::from_waker(&old_waker), Dir::Read)
                .is_pending()
        );
        drop(old_waker);
        let in_flight = old.clone();
        let reactor = thread::spawn(move || in_flight.deliver(true, false));

        // Deregistration: the `Async` and the slab let go of the source.
        drop(old);
        let new = Source::new(key(0, 1));
        clear_ready(&new, Dir::Read);
        let mut waiter = pin!(new.ready(Dir::Read));
        let new_waker = new_task.waker();
        let mut new_cx = Context::from_waker(&new_waker);
        assert!(waiter.as_mut().poll(&mut new_cx).is_pending());

        reactor.join().unwrap();
        assert_eq!(
            new_task.wakes(),
            0,
            "an event for the old key woke the new owner"
        );
        assert!(waiter.as_mut().poll(&mut new_cx).is_pending());
        assert!(old_task.wakes() <= 1);
        assert_eq!(old_task.wakers_alive(), 0, "the old source kept a waker");

        // The new registration's own event does wake it.
        new.deliver(true, false);
        assert_eq!(new_task.wakes(), 1);
        assert!(matches!(
            waiter.as_mut().poll(&mut new_cx),
            Poll::Ready(Ok(()))
        ));
    });
}

/// (c) One event wakes both a `readable()` waiter and the task in the
/// direction's main slot (here a reader in `poll_io`, as `poll_read` is),
/// whichever of them registered first and whether or not they registered
/// before the event.
#[test]
fn one_event_wakes_waiter_and_main_slot() {
    model(|| {
        let source = Source::new(key(0, 0));
        clear_ready(&source, Dir::Read);
        let sent = Arc::new(AtomicBool::new(false));
        let waiter = {
            let source = source.clone();
            thread::spawn(move || block_on(source.ready(Dir::Read)).unwrap())
        };
        let reader = {
            let (source, sent) = (source.clone(), sent.clone());
            thread::spawn(move || {
                block_on(poll_fn(|cx| source.poll_io(cx, Dir::Read, || peek(&sent)))).unwrap();
            })
        };
        send_and_deliver(&source, &sent);
        waiter.join().unwrap();
        reader.join().unwrap();
    });
}

/// (c) The main slot shared by two tasks: two acceptors on one listener
/// (`accept(&self)`), two connections, one event each. Both tasks must get
/// one, whatever the order in which they registered: a second task
/// registering must not push the first one's waker out.
#[test]
fn two_readers_share_the_main_slot() {
    model(|| {
        let source = Source::new(key(0, 0));
        let items = Arc::new(AtomicUsize::new(0));
        let readers: Vec<_> = (0..2)
            .map(|_| {
                let (source, items) = (source.clone(), items.clone());
                thread::spawn(move || {
                    block_on(poll_fn(|cx| source.poll_io(cx, Dir::Read, || take(&items)))).unwrap();
                })
            })
            .collect();
        for _ in 0..2 {
            items.fetch_add(1, Relaxed);
            source.deliver(true, false);
        }
        for r in readers {
            r.join().unwrap();
        }
        assert_eq!(items.load(Relaxed), 0);
    });
}

/// (d) A `readable()` future dropped while the event that wakes it is
/// delivered: its entry leaves the list (no leaked entry) and its waker is
/// freed, whether the event took the waker first or not.
#[test]
fn waiter_drop_vs_event() {
    model(|| {
        let task = WakeCounter::new();
        let source = Source::new(key(0, 0));
        clear_ready(&source, Dir::Read);
        let reactor = {
            let source = source.clone();
            thread::spawn(move || source.deliver(true, false))
        };
        {
            let mut waiter = pin!(source.ready(Dir::Read));
            let _ = waiter
                .as_mut()
                .poll(&mut Context::from_waker(&task.waker()));
        }
        reactor.join().unwrap();
        assert_eq!(
            source.waiters(Dir::Read),
            0,
            "a dropped waiter stayed listed"
        );
        assert_eq!(
            task.wakers_alive(),
            0,
            "the source kept a dropped waiter's waker"
        );
    });
}

/// (d) A real task waiting in `poll_io` is aborted and its `Async` dropped
/// (the source deregistered) while the reactor delivers an event it took
/// from the slab before. The wake reaches a live task reference or none
/// (no wake after free), the task ends (completed or cancelled), and the
/// task cell and the source are both freed (no leak).
#[test]
fn abort_and_deregister_vs_event() {
    model(|| {
        let sched = TestScheduler::new();
        let source = Source::new(key(0, 0));
        let sent = Arc::new(AtomicBool::new(false));
        let jh = {
            let (source, sent) = (source.clone(), sent.clone());
            sched.spawn(
                async move { poll_fn(|cx| source.poll_io(cx, Dir::Read, || peek(&sent))).await },
            )
        };
        // First poll: would block, the task's waker goes in the main slot.
        assert!(sched.run_one());
        assert!(!jh.is_finished());
        let reactor = {
            let (source, sent) = (source.clone(), sent.clone());
            thread::spawn(move || send_and_deliver(&source, &sent))
        };
        jh.abort();
        drop(source);
        sched.run_all();
        reactor.join().unwrap();
        sched.run_all();
        match block_on(jh) {
            Ok(res) => res.unwrap(),
            Err(e) => assert!(e.is_cancelled(), "{e}"),
        }
        assert_eq!(sched.live_tasks(), 0, "the task cell leaked");
    });
}

/// (e) Shutdown against a task about to wait in `poll_io` on a socket that
/// never becomes ready: the task gets the "runtime has shut down" error,
/// whether it registered before `close` (woken) or after (refused).
#[test]
fn close_vs_io_wait() {
    model(|| {
        let source = Source::new(key(0, 0));
        let reactor = {
            let source = source.clone();
            thread::spawn(move || source.close())
        };
        let res = block_on(poll_fn(|cx| {
            source.poll_io(cx, Dir::Read, || Err::<(), _>(would_block()))
        }));
        assert!(is_gone(&res.unwrap_err()));
        reactor.join().unwrap();
    });
}

/// (e) Shutdown against a `readable()` waiter and a `poll_writable` task
/// at once: both get the error, neither hangs.
#[test]
fn close_vs_waiter_and_poll_writable() {
    model(|| {
        let source = Source::new(key(0, 0));
        clear_ready(&source, Dir::Read);
        clear_ready(&source, Dir::Write);
        let waiter = {
            let source = source.clone();
            thread::spawn(move || {
                let res = block_on(source.ready(Dir::Read));
                assert!(is_gone(&res.unwrap_err()));
            })
        };
        let reactor = {
            let source = source.clone();
            thread::spawn(move || source.close())
        };
        let res = block_on(poll_fn(|cx| source.poll_ready_main(cx, Dir::Write)));
        assert!(is_gone(&res.unwrap_err()));
        waiter.join().unwrap();
        reactor.join().unwrap();
    });
}

/// A stream socket's receive queue: the bytes waiting, plus [`EOF`] once
/// the peer half-closed (after its last bytes; one word, as the kernel
/// orders data before the end of stream). A read of up to `want` bytes
/// takes what is there, returns 0 at end of stream, or would block.
struct Stream(AtomicUsize);

const EOF: usize = 1 << 16;

impl Stream {
    fn new(bytes: usize) -> Stream {
        Stream(AtomicUsize::new(bytes))
    }

    fn read(&self, want: usize) -> io::Result<usize> {
        let before = self
            .0
            .fetch_update(Relaxed, Relaxed, |n| {
                let bytes = n & !EOF;
                Some((n & EOF) | (bytes - bytes.min(want)))
            })
            .unwrap();
        let got = (before & !EOF).min(want);
        if got > 0 || before & EOF != 0 {
            Ok(got)
        } else {
            Err(would_block())
        }
    }
}

/// Rule 7: a short read marks the direction used up, and the next read at
/// the same tick waits without trying. The peer's next bytes (and their
/// edge) may land before the short read, between it and the mark, between
/// the mark and the skipped attempt, or after the registration: the reader
/// always gets all 3 bytes (a lost wake-up is a loom deadlock).
#[test]
fn short_read_vs_next_bytes() {
    model(|| {
        let source = Source::new(key(0, 0));
        let stream = Arc::new(Stream::new(1));
        let peer = {
            let (source, stream) = (source.clone(), stream.clone());
            thread::spawn(move || {
                stream.0.fetch_add(2, Relaxed);
                source.deliver(true, false);
            })
        };
        let mut got = 0;
        while got < 3 {
            let n = block_on(poll_fn(|cx| {
                source.poll_stream_io(cx, Dir::Read, 4, || stream.read(4))
            }))
            .unwrap();
            assert!(n > 0, "end of stream before the peer closed");
            got += n;
        }
        peer.join().unwrap();
        assert_eq!(got, 3);
    });
}

/// Rule 7 stands down at end of stream: the peer's last bytes and its
/// half-close come with one edge (`EPOLLRDHUP`), so a short read of those
/// bytes is followed by no further event; the next read must try and see
/// the end of stream (0) instead of waiting forever.
#[test]
fn short_read_then_end_of_stream() {
    model(|| {
        let source = Source::new(key(0, 0));
        clear_ready(&source, Dir::Read);
        let stream = Arc::new(Stream::new(0));
        let peer = {
            let (source, stream) = (source.clone(), stream.clone());
            thread::spawn(move || {
                // An RMW, as the kernel's queue update is (loom lets a
                // plain store be missed by the reader's load-and-CAS loop).
                stream.0.fetch_add(2 | EOF, Relaxed);
                source.deliver_read_closed();
            })
        };
        let mut got = 0;
        loop {
            let n = block_on(poll_fn(|cx| {
                source.poll_stream_io(cx, Dir::Read, 4, || stream.read(4))
            }))
            .unwrap();
            if n == 0 {
                break;
            }
            got += n;
        }
        peer.join().unwrap();
        assert_eq!(got, 2);
    });
}
