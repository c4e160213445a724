//! The monomorphised functions behind [`Vtable`](super::core::Vtable): how a
//! task is polled, cancelled, completed, joined and freed. Each step names
//! the rule of the [`task`](super) module it follows.

use std::future::Future;
use std::mem::ManuallyDrop;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr::NonNull;
use std::task::{Context, Poll, Waker};

use super::core::{Cell, Header, Outcome, Schedule};
use super::error::JoinError;
use super::state::{ToIdle, ToRunning, WorkerTag};
use super::{Notified, Task, context, waker};

/// # Safety
/// `ptr` points to a live `Cell<F, S>` (the vtable that called us was built
/// for exactly these types).
unsafe fn cell<'a, F: Future, S: Schedule>(ptr: NonNull<Header>) -> &'a Cell<F, S> {
    // SAFETY: `Header` is the first field of the `repr(C)` `Cell<F, S>`, and
    // the caller guarantees the cell is alive and of these types.
    unsafe { ptr.cast::<Cell<F, S>>().as_ref() }
}

/// Runs the task once (rule 2), consuming the caller's `Notified` reference.
///
/// # Safety
/// `ptr` is a live `Cell<F, S>` and the caller gives up one reference.
pub(super) unsafe fn poll<F: Future, S: Schedule>(ptr: NonNull<Header>, tag: WorkerTag) {
    // SAFETY: forwarded from the caller.
    let cell = unsafe { cell::<F, S>(ptr) };
    // One load of the site word tells both whether a sampled wake waits to
    // be timed (`site` rule 6: on every way out below, so the sample is
    // never stranded) and whether the poll is timed (rule 5).
    let flags = cell.header.site.flags();
    if flags.wake_sampled() {
        wake_sampled(ptr, cell);
    }
    match cell.header.state.transition_to_running(tag) {
        ToRunning::Poll => {}
        ToRunning::Cancel => {
            // SAFETY: the transition gave us RUNNING with CANCELLED set
            // (rule 2), and our `Notified` reference plays the poller's.
            unsafe { cancel_and_complete::<F, S>(ptr) };
            return;
        }
        ToRunning::Skip => {
            // SAFETY: running or complete already: our `Notified`
            // reference is all we hold, and it is given up (rule 2).
            unsafe { release_one::<F, S>(ptr) };
            return;
        }
    }

    // Named tasks and debug-mode tasks are timed (see `site`), off the
    // path of the others.
    let result = if !flags.is_timed() {
        poll_inner(ptr, cell)
    } else {
        poll_timed(ptr, cell)
    };

    match result {
        Ok(Poll::Pending) => match cell.header.state.transition_to_idle() {
            ToIdle::Idle => {}
            ToIdle::Yielded => {
                // The transition took a new reference for the `Notified`;
                // ours keeps the cell (and `yield_now`'s `&self`, inside
                // it) alive until the call returns.
                // SAFETY: that new reference becomes the `Notified`.
                let task = Notified(unsafe { Task::from_raw(ptr) });
                cell.scheduler.yield_now(task);
                // SAFETY: the poller's reference, given up now.
                unsafe { release_one::<F, S>(ptr) };
            }
            // SAFETY: the transition kept RUNNING for us because CANCELLED
            // was set during the poll (rule 3); the poller's reference goes.
            ToIdle::Cancel => unsafe { cancel_and_complete::<F, S>(ptr) },
        },
        Ok(Poll::Ready(output)) => {
            // Rule 6: the future returned, so the output stands, even if an
            // abort set `CANCELLED` during this poll: the work was done, and
            // reporting it as cancelled could make a caller do it twice.
            // SAFETY: we still hold RUNNING (the poll returned, no
            // transition since) and the poller's reference, given up by
            // `complete` once the output is stored (rule 4).
            unsafe {
                store_output::<F, S>(ptr, Outcome::Output(output));
                complete::<F, S>(ptr);
            }
        }
        Err(payload) => {
            // SAFETY: as above; a panicking poll leaves RUNNING ours.
            unsafe { store_output::<F, S>(ptr, Outcome::Panicked(payload)) };
            cell.scheduler.unhandled_panic();
            // SAFETY: as above.
            unsafe { complete::<F, S>(ptr) };
        }
    }
}

/// `site` rule 6: this run carries a sampled wake; the scheduler times it
/// from its queueing to now. Out of line: one run in many.
#[cold]
#[inline(never)]
fn wake_sampled<F: Future, S: Schedule>(ptr: NonNull<Header>, cell: &Cell<F, S>) {
    if cell.header.site.take_wake() {
        cell.scheduler.wake_sampled(ptr);
    }
}

/// The poll itself, inside the task's context, catching a panic.
#[inline(always)]
fn poll_inner<F: Future, S: Schedule>(
    ptr: NonNull<Header>,
    cell: &Cell<F, S>,
) -> std::thread::Result<Poll<F::Output>> {
    context::in_task(ptr, || {
        // The poller's reference keeps the task alive, so the waker handed to
        // the future borrows it; a clone the future keeps takes its own.
        // SAFETY: `ptr` is a live task header.
        let waker = ManuallyDrop::new(unsafe { waker::from_header(ptr) });
        let mut cx = Context::from_waker(&waker);
        // SAFETY: RUNNING is ours and the stage is `Running` (rule 2).
        catch_unwind(AssertUnwindSafe(|| unsafe { cell.poll_future(&mut cx) }))
    })
}

/// [`poll_inner`] for a timed task: times the poll with the scheduler's
/// poll clock, records it in the task's counters (giving a debug-mode task
/// that stays alive its extras, `site` rule 5) and tells the scheduler
/// (debug mode's slow-poll report). Kept out of line so that other tasks'
/// polls pay only the check.
#[inline(never)]
fn poll_timed<F: Future, S: Schedule>(
    ptr: NonNull<Header>,
    cell: &Cell<F, S>,
) -> std::thread::Result<Poll<F::Output>> {
    let start_ns = cell.scheduler.poll_clock_ns();
    let result = poll_inner(ptr, cell);
    let end_ns = cell.scheduler.poll_clock_ns();
    let extras = if matches!(result, Ok(Poll::Pending)) {
        // SAFETY: RUNNING is ours until the transition below.
        unsafe { cell.header.site.extras_or_attach() }
    } else {
        cell.header.site.extras()
    };
    if let Some(extras) = extras {
        extras.stats.record(end_ns.saturating_sub(start_ns), end_ns);
    }
    cell.scheduler.polled(&cell.header, start_ns, end_ns);
    result
}

/// Drops the future (inside the task's context, catching a panic from its
/// destructor) and stores `outcome`, or the destructor's panic.
///
/// Helpers below take the raw pointer, not `&Cell`: a reference argument
/// must stay valid for the whole call, but another thread may free the cell
/// as soon as this one releases its reference.
///
/// # Safety
/// `ptr` is a live `Cell<F, S>` of which the caller holds a reference and
/// `RUNNING` (so it owns the stage, rule 2), and the task is not complete
/// (rule 4 has not happened yet). The reference stays the caller's.
unsafe fn store_output<F: Future, S: Schedule>(ptr: NonNull<Header>, outcome: Outcome<F::Output>) {
    // SAFETY: live per the caller's contract; its reference keeps it so.
    let cell = unsafe { cell::<F, S>(ptr) };
    let dropped = context::in_task(ptr, || {
        catch_unwind(AssertUnwindSafe(|| {
            // SAFETY: the caller holds RUNNING, so the stage is ours.
            unsafe { cell.drop_stage() }
        }))
    });
    let outcome = match dropped {
        Ok(()) => outcome,
        Err(payload) => {
            // The destructor's panic replaces `outcome`, which nobody will
            // read: an output, or an earlier panic's payload, whose own
            // destructor may panic too. Unwinding from here would leave
            // RUNNING held and the task never completed, so that panic is
            // contained like the others (the hook already printed it).
            let superseded = context::in_task(ptr, || {
                catch_unwind(AssertUnwindSafe(move || drop(outcome)))
            });
            if let Err(again) = superseded {
                super::caught::drop_payload(again);
            }
            Outcome::Panicked(payload)
        }
    };
    // SAFETY: as above.
    unsafe { cell.store(outcome) };
}

/// Rule 6/7: the owner of RUNNING cancels the task and completes it,
/// giving up its reference.
///
/// # Safety
/// `ptr` is a live `Cell<F, S>` of which the caller holds `RUNNING` and one
/// reference, which it gives up; the task is not complete.
unsafe fn cancel_and_complete<F: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: the caller's contract is both helpers' contract.
    unsafe {
        store_output::<F, S>(ptr, Outcome::Cancelled);
        complete::<F, S>(ptr);
    }
}

/// Rule 4: publish completion, hand the output over, release references.
/// Consumes the poller's reference.
///
/// # Safety
/// `ptr` is a live `Cell<F, S>` of which the caller holds `RUNNING` and one
/// reference (the poller's), which it gives up; the stage holds the
/// outcome (`store_output` ran) and the task is not complete. After this
/// returns the cell may be freed.
unsafe fn complete<F: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: live per the caller's contract; its reference keeps it so
    // until the `ref_dec` at the end.
    let cell = unsafe { cell::<F, S>(ptr) };
    // Leave the owned list first: the future is already gone, so shutdown
    // has nothing left to cancel here, and a joiner that sees COMPLETE also
    // sees the task no longer counted as alive.
    let list_ref = cell.scheduler.release(ptr);
    let after = cell.header.state.transition_to_complete();
    let result = catch_unwind(AssertUnwindSafe(|| {
        if !after.is_join_interested() {
            // The JoinHandle is gone (rule 8): the output is ours to drop,
            // and a panic in it will never be seen.
            // SAFETY: without JOIN_INTEREST nobody else reads the stage.
            if let Some(message) = unsafe { cell.panic_message() } {
                cell.scheduler.panic_lost(&cell.header, message);
            }
            // SAFETY: as above.
            unsafe { cell.drop_stage() };
        } else if after.is_join_waker_set() {
            // SAFETY: JOIN_WAKER was set when COMPLETE was published, so the
            // JoinHandle no longer writes the slot (rule 9).
            cell.join_waker.with(|w| match unsafe { &*w } {
                Some(w) => w.wake_by_ref(),
                None => unreachable!("JOIN_WAKER set without a waker"),
            });
        }
    }));
    // A panic here came from dropping the output of a detached task (or
    // from the join waker). Nobody awaits it, and unwinding would take the
    // worker (or `block_on`) down with it: it goes to the unhandled-panic
    // policy like a panic inside the task (the panic hook already printed
    // it). Before our references go: the cell holds the scheduler.
    if let Err(payload) = result {
        report_panic::<F, S>(cell, payload);
    }
    let n = 1 + usize::from(list_ref.is_some());
    std::mem::forget(list_ref);
    if cell.header.state.ref_dec(n) {
        // SAFETY: those were the last references.
        unsafe { dealloc::<F, S>(ptr) };
    }
}

/// A panic from a task's output or join waker, caught outside the task's
/// poll: applies the runtime's unhandled-panic policy, then drops the
/// payload (a payload whose own destructor panics is forgotten: a drop
/// must never unwind into its caller).
#[cold]
fn report_panic<F: Future, S: Schedule>(cell: &Cell<F, S>, payload: Box<dyn std::any::Any + Send>) {
    cell.scheduler.unhandled_panic();
    super::caught::drop_payload(payload);
}

/// Gives up one reference, freeing the cell if it was the last (rule 1).
///
/// # Safety
/// `ptr` is a live `Cell<F, S>` and the caller holds one reference, which
/// it gives up (it must not touch the task afterwards).
unsafe fn release_one<F: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: the caller's reference keeps the header alive until this
    // decrement.
    if unsafe { ptr.as_ref() }.state.ref_dec(1) {
        // SAFETY: that was the last reference.
        unsafe { dealloc::<F, S>(ptr) };
    }
}

/// Hands one `Notified` reference to the task's scheduler.
///
/// # Safety
/// `ptr` is a live `Cell<F, S>` and the caller gives up one reference.
pub(super) unsafe fn schedule<F: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: forwarded from the caller.
    let cell = unsafe { cell::<F, S>(ptr) };
    // SAFETY: the caller's reference becomes the `Notified` one.
    cell.scheduler
        .schedule(Notified(unsafe { Task::from_raw(ptr) }));
}

/// Frees the cell.
///
/// # Safety
/// `ptr` is a live `Cell<F, S>` whose last reference was just released.
pub(super) unsafe fn dealloc<F: Future, S: Schedule>(ptr: NonNull<Header>) {
    /// Frees the memory once the fields are dropped, also if a field's
    /// destructor (a join waker's, say) panics.
    struct FreeAfter(NonNull<u8>, std::alloc::Layout);
    impl Drop for FreeAfter {
        fn drop(&mut self) {
            // SAFETY: from `cell_cache::alloc` with this layout; its fields
            // are dropped (this runs after `drop_in_place`, or as it
            // unwinds, having dropped the rest); nobody touches it again.
            unsafe { super::cell_cache::free(self.0, self.1) };
        }
    }
    let cell = ptr.cast::<Cell<F, S>>();
    let _free = FreeAfter(cell.cast(), std::alloc::Layout::new::<Cell<F, S>>());
    // A field's destructor may panic (a foreign join waker's, the last
    // clone of which the slot holds). Whoever releases the last reference
    // (a worker completing the task, a waker woken by a sync primitive or
    // the reactor) must not unwind: the panic hook has reported it, and
    // the rest of the fields are still dropped by the unwinding glue.
    // SAFETY: written by `Cell::allocate` and live; no reference is left,
    // so its fields are dropped exactly once, here.
    let dropped = catch_unwind(AssertUnwindSafe(|| unsafe {
        std::ptr::drop_in_place(cell.as_ptr())
    }));
    if let Err(payload) = dropped {
        super::caught::drop_payload(payload);
    }
}

/// `JoinHandle::poll`: writes the output to `dst` if ready (rule 8),
/// otherwise stores `waker` to be woken at completion (rule 9).
///
/// # Safety
/// `ptr` is a live `Cell<F, S>`, the caller is its `JoinHandle`, and `dst`
/// points to a `Poll<Result<F::Output, JoinError>>`.
pub(super) unsafe fn try_read_output<F: Future, S: Schedule>(
    ptr: NonNull<Header>,
    dst: *mut (),
    waker: &Waker,
) {
    // SAFETY: forwarded from the caller.
    let cell = unsafe { cell::<F, S>(ptr) };
    if can_read_output(cell, waker) {
        let dst = dst.cast::<Poll<Result<F::Output, JoinError>>>();
        // SAFETY: complete and joined, so the stage is the handle's (rule 8);
        // `dst` is valid per the caller.
        unsafe { *dst = Poll::Ready(cell.take_output()) };
    }
}

/// Rule 9: true if the output can be read now; otherwise the join waker is
/// stored and the completing thread will wake it.
fn can_read_output<F: Future, S: Schedule>(cell: &Cell<F, S>, waker: &Waker) -> bool {
    let state = &cell.header.state;
    let snapshot = state.load();
    if snapshot.is_complete() {
        return true;
    }
    let res = if snapshot.is_join_waker_set() {
        // SAFETY: while JOIN_WAKER is set the slot is only read, by anyone.
        let same = cell
            .join_waker
            .with(|w| unsafe { &*w }.as_ref().is_some_and(|w| w.will_wake(waker)));
        if same {
            return false;
        }
        state
            .unset_join_waker()
            .and_then(|()| set_join_waker(cell, waker))
    } else {
        set_join_waker(cell, waker)
    };
    match res {
        Ok(()) => false,
        Err(s) => {
            debug_assert!(s.is_complete());
            true
        }
    }
}

fn set_join_waker<F: Future, S: Schedule>(
    cell: &Cell<F, S>,
    waker: &Waker,
) -> Result<(), super::state::Snapshot> {
    // SAFETY: JOIN_WAKER is clear, so only the JoinHandle (us) touches the
    // slot (rule 9).
    cell.join_waker
        .with_mut(|w| unsafe { *w = Some(waker.clone()) });
    let res = cell.header.state.set_join_waker();
    if res.is_err() {
        // The task completed first and never read the slot; take it back.
        // SAFETY: JOIN_WAKER was never set, so the slot is still ours.
        cell.join_waker.with_mut(|w| unsafe { *w = None });
    }
    res
}

/// Drop of a `JoinHandle` whose fast path failed (rule 8).
///
/// # Safety
/// `ptr` is a live `Cell<F, S>` and the caller is its `JoinHandle`, giving up
/// its reference.
pub(super) unsafe fn drop_join_handle_slow<F: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: forwarded from the caller.
    let cell = unsafe { cell::<F, S>(ptr) };
    let before = cell.header.state.unset_join_interested();
    let result = if before.is_complete() {
        // SAFETY: complete, and the handle still had interest: the output is
        // the handle's to drop (rule 8), and a panic in it was never taken.
        if let Some(message) = unsafe { cell.panic_message() } {
            cell.scheduler.panic_lost(&cell.header, message);
        }
        // SAFETY: as above.
        catch_unwind(AssertUnwindSafe(|| unsafe { cell.drop_stage() }))
    } else {
        Ok(())
    };
    // The output's destructor panicked. Re-raising it here would unwind
    // out of `JoinHandle::drop`, and two such handles dropped together (a
    // `Vec`, a `JoinSet`) would abort the process: report it instead.
    if let Err(payload) = result {
        report_panic::<F, S>(cell, payload);
    }
    // SAFETY: the handle's reference is given up, as our caller said.
    unsafe { release_one::<F, S>(ptr) };
}

/// Rule 7: cancels the task for runtime shutdown if nobody is polling it,
/// consuming one reference (the owned list's, popped by the caller).
///
/// # Safety
/// `ptr` is a live `Cell<F, S>` and the caller gives up one reference.
pub(super) unsafe fn shutdown<F: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: forwarded from the caller.
    let cell = unsafe { cell::<F, S>(ptr) };
    if cell.header.state.transition_to_shutdown() {
        // SAFETY: the transition took RUNNING for us (rule 7), and the
        // caller's reference plays the poller's in `complete`.
        unsafe { cancel_and_complete::<F, S>(ptr) };
    } else {
        // SAFETY: running (its poller cancels it) or complete: the
        // caller's reference is all we give up.
        unsafe { release_one::<F, S>(ptr) };
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::collections::VecDeque;
    use std::future::Future;
    use std::pin::Pin;
    use std::ptr::NonNull;
    use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
    use std::sync::mpsc;
    use std::sync::{Arc, Mutex};
    use std::task::{Context, Poll, Waker};

    use crate::task::core::{Header, Schedule};
    use crate::task::list::OwnedTasks;
    use crate::task::{Id, Notified, Task};

    /// A scheduler shaped like `multi_thread::Handle::schedule_remote`:
    /// push, then, if shut down meanwhile, empty the queue itself. The
    /// `entered`/`resume` pair pins one interleaving: the waking thread is
    /// preempted on entry, while the runtime shuts down and is dropped.
    struct Sched {
        owned: OwnedTasks,
        queue: Mutex<VecDeque<Notified>>,
        shutdown: AtomicBool,
        entered: Mutex<Option<mpsc::Sender<()>>>,
        resume: Mutex<Option<mpsc::Receiver<()>>>,
    }

    impl Schedule for Arc<Sched> {
        fn schedule(&self, task: Notified) {
            if let Some(entered) = self.entered.lock().unwrap().take() {
                entered.send(()).unwrap();
                let resume = self.resume.lock().unwrap().take().unwrap();
                resume.recv().unwrap();
            }
            self.queue.lock().unwrap().push_back(task);
            if self.shutdown.load(SeqCst) {
                loop {
                    let Some(task) = self.queue.lock().unwrap().pop_front() else {
                        break;
                    };
                    drop(task);
                }
            }
        }
        fn release(&self, task: NonNull<Header>) -> Option<Task> {
            self.owned.remove(task)
        }
    }

    /// Pending forever; hands its waker out.
    struct Park(Arc<Mutex<Option<Waker>>>);
    impl Future for Park {
        type Output = ();
        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            *self.0.lock().unwrap() = Some(cx.waker().clone());
            Poll::Pending
        }
    }

    /// `waker.wake()` hands the waker's reference to `Schedule::schedule`
    /// as the `Notified`, and then holds none: `&self` of `schedule` (the
    /// scheduler inside the cell) can outlive the cell. Here the runtime
    /// shuts down and drops its handle while the waking thread is inside
    /// `schedule`; the queue drain then frees the cell, whose scheduler
    /// `Arc` was the last, and `schedule` goes on with a freed `self`.
    #[test]
    fn wake_by_value_keeps_the_task_alive_through_schedule() {
        let (entered_tx, entered_rx) = mpsc::channel();
        let (resume_tx, resume_rx) = mpsc::channel();
        let sched = Arc::new(Sched {
            owned: OwnedTasks::new(1),
            queue: Mutex::new(VecDeque::new()),
            shutdown: AtomicBool::new(false),
            entered: Mutex::new(None),
            resume: Mutex::new(Some(resume_rx)),
        });
        let slot = Arc::new(Mutex::new(None));
        let site = crate::task::site::SpawnMeta::here().into_site(false);
        let (join, notified) =
            sched
                .owned
                .bind(Park(slot.clone()), sched.clone(), Id::next(), site);
        notified.unwrap().run(); // Pending: the waker is in `slot`
        drop(join); // detached
        let waker = slot.lock().unwrap().take().unwrap();
        *sched.entered.lock().unwrap() = Some(entered_tx);
        let waking = std::thread::spawn(move || waker.wake());
        entered_rx.recv().unwrap();
        // The runtime shuts down (the task is idle: cancelled here) and
        // is dropped: the task's cell now holds the last `Arc<Sched>`.
        sched.shutdown.store(true, SeqCst);
        sched.owned.close_and_shutdown(&|_| {});
        drop(sched);
        resume_tx.send(()).unwrap();
        waking.join().unwrap();
    }
}
