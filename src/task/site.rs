//! Where a task comes from: its spawn site and, for a named task or any task
//! of a runtime in debug mode, its name, its parent and its poll counters,
//! all reached through one word of the header.
//!
//! # The word
//!
//! 1. An unnamed task of a runtime outside debug mode stores only a
//!    `&'static Location` (the `#[track_caller]` site of the spawn): no
//!    allocation, one word.
//! 2. A named task, or a task spawned into a group in debug mode, points to
//!    a boxed [`Extras`] holding the location, the name, the parent task
//!    (the owner of the `TaskGroup` or `JoinSet` it was spawned into) and
//!    the [`PollStats`]. The box is allocated at spawn and freed with the
//!    cell.
//! 3. The cases are told apart by the pointer's low bits: `EXTRAS` (1)
//!    for the box, `TIMED` (2) for rule 5, neither for rule 1. `WAKE` (4)
//!    is rule 6's mark, on top of either. Both pointees are 8-byte aligned
//!    on 64-bit targets, so the bits are otherwise 0. (Where a `Location`
//!    is only 4-byte aligned, `WAKE` is 0: wakes are never marked there,
//!    and the schedule-latency histogram stays empty.)
//! 4. The word has two kinds of writer, and each writes with a
//!    read-modify-write that keeps the other's bits:
//!    - the thread polling the task (which holds `RUNNING`) replaces rule
//!      5's timed location with an extras box, at most once after spawn;
//!    - the holder of the task's one `Notified` reference sets or clears
//!      `WAKE` (rule 6).
//!
//!    (The two never overlap in time, since a task with a `Notified` is
//!    not running, but a writer never relies on that: an RMW cannot lose a
//!    bit even if they did.) Each write is a release and every reader
//!    loads the word with `Acquire`, so a reader on another thread
//!    (`Handle::dump`, a `JoinHandle` asking for the name) sees either the
//!    location or the whole box. The box is freed only with the cell, so a
//!    reference to it lives as long as the reference to the task it came
//!    through.
//! 5. **Lazy extras in debug mode.** An unnamed task outside any group, in
//!    debug mode, starts as its location tagged `TIMED`: its polls are
//!    timed like those of tasks with extras (debug mode's slow-poll
//!    report), but the box is allocated only when a poll returns
//!    `Pending` (rule 4). A task that completes in its first poll, which
//!    is most short tasks, never allocates; one that is still alive after
//!    a poll has its counters, as every debug-mode task must for
//!    `Handle::dump`. A timed task without a box has completed no poll
//!    yet, so a dump shows it with zero counters.
//! 6. **A sampled wake** (`runtime::sampling`, rules 2 and 3). The thread
//!    that queues a task whose wake the runtime samples sets `WAKE` before
//!    the push; the queue's hand-off publishes it to the poller. The next
//!    run of the task (poll, cancel or skip) finds the bit in the word it
//!    loads anyway, clears it, and asks its scheduler to time the wake.
//!    So the poll path reads only the task's own header, never a line
//!    shared by the whole runtime.

use crate::loom::std::sync::{Arc, OnceLock};
use std::panic::Location;
use std::ptr::NonNull;

use super::id::Id;
use crate::loom::sync::atomic::{AtomicPtr, AtomicU64, Ordering::*};

/// Rule 3's tag bits: `TAGS` tell what the word points to, `WAKE` is
/// rule 6's mark.
const EXTRAS: usize = 1;
const TIMED: usize = 2;
const TAGS: usize = EXTRAS | TIMED;
const WAKE: usize = if align_of::<Location<'static>>() >= 8 && align_of::<Extras>() >= 8 {
    4
} else {
    0
};
const ALL: usize = TAGS | WAKE;

/// The header's word (module docs). Owns the `Extras` box when there is one.
pub(crate) struct Site {
    raw: AtomicPtr<()>,
}

// SAFETY: the word changes only as rule 4 says (read-modify-writes that
// keep each other's bits, published with Release, read with Acquire); the `Extras` it may own holds `Send + Sync`
// data (an `Arc<str>`, atomics).
unsafe impl Send for Site {}
// SAFETY: as above.
unsafe impl Sync for Site {}

/// What a spawn says about its task before the task exists.
pub(crate) struct SpawnMeta {
    pub(crate) location: &'static Location<'static>,
    pub(crate) name: Option<Arc<str>>,
    /// The owner of the group the task is spawned into, if any.
    pub(crate) parent: Option<Id>,
}

impl SpawnMeta {
    /// An unnamed spawn at the caller's location.
    #[track_caller]
    pub(crate) fn here() -> SpawnMeta {
        SpawnMeta {
            location: Location::caller(),
            name: None,
            parent: None,
        }
    }

    /// The same spawn, as a member of a group owned by task `parent`.
    pub(crate) fn child_of(mut self, parent: Option<Id>) -> SpawnMeta {
        self.parent = parent;
        self
    }

    /// Rules 1, 2 and 5: the header's word for this spawn.
    ///
    /// Inline, so that an unnamed spawn outside debug mode pays two tests
    /// and a move here; the box is built out of line (`Extras::boxed`).
    #[inline]
    pub(crate) fn into_site(self, debug: bool) -> Site {
        let plain = self.name.is_none() && !(debug && self.parent.is_some());
        if plain {
            let raw = NonNull::from(self.location).cast::<()>();
            debug_assert_eq!(raw.as_ptr().addr() & ALL, 0);
            let tag = if debug { TIMED } else { 0 };
            return Site::from_raw(raw.map_addr(|a| a | tag));
        }
        Site::from_raw(Extras::boxed(self.location, self.name, self.parent))
    }
}

/// The out-of-line part of a named or debug-mode task (rules 2 and 5).
pub(crate) struct Extras {
    pub(crate) location: &'static Location<'static>,
    pub(crate) name: Option<Arc<str>>,
    pub(crate) parent: Option<Id>,
    pub(crate) stats: PollStats,
}

impl Extras {
    /// A new box, leaked, as a tagged word (rule 3). Cold and out of line:
    /// the plain spawn path of rule 1 never comes here.
    #[cold]
    #[inline(never)]
    fn boxed(
        location: &'static Location<'static>,
        name: Option<Arc<str>>,
        parent: Option<Id>,
    ) -> NonNull<()> {
        let extras = Box::new(Extras {
            location,
            name,
            parent,
            stats: PollStats::default(),
        });
        let raw = NonNull::from(Box::leak(extras)).cast::<()>();
        raw.map_addr(|a| a | EXTRAS)
    }
}

/// Per-task poll counters, kept only for tasks with [`Extras`]. Times are
/// in the scheduler's poll clock (`Schedule::poll_clock_ns`): nanoseconds
/// since [`epoch`], read exactly, or, in a multi-thread runtime in debug
/// mode, the watchdog's coarse clock, whose differences add up to the
/// busy time without bias (`runtime::debug::watchdog`, rule 6).
///
/// Written only by the thread polling the task (which holds `RUNNING`, so
/// at most one thread at a time; the next poller, maybe on another thread,
/// sees these writes through the state word's `RUNNING` hand-off, whose
/// release/acquire pair orders one poll before the next), with `Relaxed`
/// stores: each value is a
/// statistic on its own, nothing else is published through it, and a reader
/// (`Handle::dump`) accepts a value one poll old. A reader never sees a torn
/// value, since each is one atomic word.
#[derive(Default)]
pub(crate) struct PollStats {
    /// Polls completed.
    pub(crate) polls: AtomicU64,
    /// Total nanoseconds spent inside polls.
    pub(crate) busy_ns: AtomicU64,
    /// When the last poll ended, in nanoseconds since [`epoch`]; 0: never.
    pub(crate) last_poll_end_ns: AtomicU64,
}

impl PollStats {
    /// Records one poll that took `took_ns` and ended at `end_ns`.
    pub(crate) fn record(&self, took_ns: u64, end_ns: u64) {
        // Relaxed throughout: only the polling thread writes (see the type
        // docs), so a load-then-store cannot lose an update.
        self.polls.store(self.polls.load(Relaxed) + 1, Relaxed);
        self.busy_ns
            .store(self.busy_ns.load(Relaxed).saturating_add(took_ns), Relaxed);
        self.last_poll_end_ns.store(end_ns.max(1), Relaxed);
    }
}

/// The process-wide instant that poll timestamps count from.
pub(crate) fn epoch() -> std::time::Instant {
    static EPOCH: OnceLock<std::time::Instant> = OnceLock::new();
    *EPOCH.get_or_init(std::time::Instant::now)
}

/// Nanoseconds since [`epoch`] (saturating; 584 years fit in a `u64`).
pub(crate) fn now_ns() -> u64 {
    u64::try_from(epoch().elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// What a run of the task needs to know from its word, read once (rules
/// 3, 5 and 6).
#[derive(Clone, Copy)]
pub(crate) struct Flags(usize);

impl Flags {
    /// Rule 6: a sampled wake waits to be timed.
    #[inline(always)]
    pub(crate) fn wake_sampled(self) -> bool {
        self.0 & WAKE != 0
    }

    /// The task's polls are timed: it has extras, or is a debug-mode task
    /// that will get them (rule 5). Never changes after spawn (rule 4's
    /// attach goes from one timed word to another).
    #[inline(always)]
    pub(crate) fn is_timed(self) -> bool {
        self.0 & TAGS != 0
    }
}

impl Site {
    fn from_raw(raw: NonNull<()>) -> Site {
        Site {
            raw: AtomicPtr::new(raw.as_ptr()),
        }
    }

    /// The word (rule 4: Acquire, pairing with the Release store of
    /// `extras_or_attach`).
    #[inline]
    fn word(&self) -> NonNull<()> {
        let raw = self.raw.load(Acquire);
        // SAFETY: the word is set from a non-null pointer and never to null.
        unsafe { NonNull::new_unchecked(raw) }
    }

    /// True if this task's polls are timed: it has extras, or it is a
    /// debug-mode task that will get them (rule 5).
    #[inline(always)]
    pub(crate) fn is_timed(&self) -> bool {
        self.flags().is_timed()
    }

    /// The word's tag bits, for one run of the task (one `Acquire` load,
    /// as every reader's).
    #[inline(always)]
    pub(crate) fn flags(&self) -> Flags {
        Flags(self.word().as_ptr().addr() & ALL)
    }

    /// Rule 6: marks a sampled wake. Called by the holder of the task's
    /// `Notified`, before it pushes it to a run queue.
    pub(crate) fn mark_wake(&self) {
        // AcqRel: an RMW after rule 4's attach keeps its release sequence,
        // and Release makes this write a publisher of the word as well.
        // The poller sees the bit through the queue's own hand-off.
        let _ = self
            .raw
            .fetch_update(AcqRel, Acquire, |w| Some(w.map_addr(|a| a | WAKE)));
    }

    /// Rule 6: clears the mark; true if it was set. Called by the holder of
    /// the task's `Notified`, at the start of its run.
    pub(crate) fn take_wake(&self) -> bool {
        // AcqRel: as in `mark_wake`.
        self.raw
            .fetch_update(AcqRel, Acquire, |w| {
                (w.addr() & WAKE != 0).then(|| w.map_addr(|a| a & !WAKE))
            })
            .is_ok()
    }

    /// The pointer to the extras box, with the tag cleared (rule 3), if
    /// the word is one. Derived from the raw word (with the box's own
    /// provenance), never from a reference, so `drop` may free through it.
    #[inline]
    fn extras_ptr(word: NonNull<()>) -> Option<NonNull<Extras>> {
        if word.as_ptr().addr() & EXTRAS == 0 {
            return None;
        }
        let ptr = word.map_addr(|a| {
            // SAFETY: a tagged pointer came from a non-null box address
            // with tag bits added; clearing them cannot give zero.
            unsafe { std::num::NonZeroUsize::new_unchecked(a.get() & !ALL) }
        });
        Some(ptr.cast::<Extras>())
    }

    /// The extras, if this task has them (rules 2 and 5).
    #[inline]
    pub(crate) fn extras(&self) -> Option<&Extras> {
        // SAFETY: tagged, so it is a leaked `Box<Extras>` of `Extras::boxed`,
        // freed only in `drop`, which needs `&mut self`; rule 4's Acquire
        // load makes its contents visible.
        Self::extras_ptr(self.word()).map(|p| unsafe { p.as_ref() })
    }

    /// The extras, allocated now if this is a timed task without them
    /// (rule 5); `None` for an untimed task.
    ///
    /// # Safety
    /// The caller holds the task's `RUNNING` bit (rule 4: the one writer).
    pub(crate) unsafe fn extras_or_attach(&self) -> Option<&Extras> {
        let word = self.word();
        if word.as_ptr().addr() & TIMED == 0 {
            return self.extras();
        }
        let location = Self::location_of(word);
        let boxed = Extras::boxed(location, None, None).as_ptr();
        // Release: pairs with `word`'s Acquire; the box is filled in. An
        // RMW keeping rule 6's mark (rule 4).
        let _ = self.raw.fetch_update(Release, Relaxed, |w| {
            Some(boxed.map_addr(|a| a | (w.addr() & WAKE)))
        });
        self.extras()
    }

    /// The location a word without extras points to.
    fn location_of(word: NonNull<()>) -> &'static Location<'static> {
        let untagged = word.map_addr(|a| {
            // SAFETY: a location's address with at most the TIMED and
            // WAKE bits added; clearing them leaves the non-null address.
            unsafe { std::num::NonZeroUsize::new_unchecked(a.get() & !ALL) }
        });
        // SAFETY: not an extras word, so it was made from a `&'static
        // Location` (rules 1 and 5).
        unsafe { untagged.cast::<Location<'static>>().as_ref() }
    }

    /// The spawn site.
    pub(crate) fn location(&self) -> &'static Location<'static> {
        let word = self.word();
        match Self::extras_ptr(word) {
            // SAFETY: as in `extras`.
            Some(extras) => unsafe { extras.as_ref() }.location,
            None => Self::location_of(word),
        }
    }

    /// The name given at spawn, if any.
    pub(crate) fn name(&self) -> Option<&Arc<str>> {
        self.extras().and_then(|e| e.name.as_ref())
    }
}

impl Site {
    /// The word, from its owner about to free it.
    fn word_mut(&mut self) -> NonNull<()> {
        // Relaxed: `&mut self`, so no other thread holds the task.
        let raw = self.raw.load(Relaxed);
        // SAFETY: as in `word`.
        unsafe { NonNull::new_unchecked(raw) }
    }
}

impl Drop for Site {
    /// Inline: freeing a task without extras is one test of the tag bits.
    #[inline]
    fn drop(&mut self) {
        if let Some(ptr) = Self::extras_ptr(self.word_mut()) {
            // SAFETY: the box leaked in `Extras::boxed`, freed once, here;
            // the pointer carries the box's provenance (see `extras_ptr`).
            unsafe { free_extras(ptr) };
        }
    }
}

/// Frees a task's extras box, out of the inline path of [`Site`]'s drop.
///
/// # Safety
/// `ptr` is the box leaked by `Extras::boxed`, with its provenance, freed
/// only this once.
#[cold]
#[inline(never)]
unsafe fn free_extras(ptr: NonNull<Extras>) {
    // SAFETY: per the caller's contract.
    drop(unsafe { Box::from_raw(ptr.as_ptr()) });
}

/// A task's name and site as they appear in messages:
/// `'fetch br' (id 17, spawned at src/main.rs:3:5)`.
pub(crate) struct Describe<'a> {
    pub(crate) id: Id,
    pub(crate) name: Option<&'a str>,
    pub(crate) location: &'static Location<'static>,
}

impl std::fmt::Display for Describe<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(name) = self.name {
            write!(f, "'{}' ", name.escape_debug())?;
        }
        write!(f, "(id {}, spawned at {})", self.id, self.location)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn plain_site_is_the_location_and_extras_carry_the_name() {
        let here = Location::caller();
        let plain = SpawnMeta::here().into_site(false);
        assert!(plain.extras().is_none());
        assert_eq!(plain.location().file(), here.file());
        assert!(plain.name().is_none());

        let mut meta = SpawnMeta::here();
        meta.name = Some(Arc::from("fetch\nbr"));
        let named = meta.into_site(false);
        assert_eq!(named.name().map(|n| &**n), Some("fetch\nbr"));
        assert_eq!(named.location().file(), here.file());
        let desc = Describe {
            id: Id::next(),
            name: named.name().map(|n| &**n),
            location: named.location(),
        };
        assert!(desc.to_string().starts_with("'fetch\\nbr' (id "));

        // Debug mode: timed, and the extras come with the first Pending.
        let debug = SpawnMeta::here().into_site(true);
        assert!(debug.is_timed() && debug.extras().is_none());
        assert!(!plain.is_timed() && named.is_timed());
        // SAFETY: no other thread has this site.
        let stats = &unsafe { debug.extras_or_attach() }
            .expect("a timed site gets extras")
            .stats;
        assert_eq!(debug.location().file(), here.file());
        assert!(debug.name().is_none());
        stats.record(5, 10);
        stats.record(7, 20);
        assert_eq!(stats.polls.load(Relaxed), 2);
        assert_eq!(stats.busy_ns.load(Relaxed), 12);
        assert_eq!(stats.last_poll_end_ns.load(Relaxed), 20);
    }

    #[test]
    fn a_wake_mark_rides_on_any_word_and_comes_back_once() {
        let here = Location::caller();
        let mut named = SpawnMeta::here();
        named.name = Some(Arc::from("n"));
        let sites = [
            SpawnMeta::here().into_site(false),
            SpawnMeta::here().into_site(true),
            named.into_site(false),
        ];
        for site in &sites {
            let timed = site.is_timed();
            assert!(!site.flags().wake_sampled() && !site.take_wake());
            site.mark_wake();
            assert!(site.flags().wake_sampled());
            // The mark hides nothing: site, name, timing, extras.
            assert_eq!(site.location().file(), here.file());
            assert_eq!(site.is_timed(), timed);
            assert_eq!(site.flags().is_timed(), timed);
            let name = site.name().map(|n| n.to_string());
            // Rule 4: the attach keeps a mark it finds.
            // SAFETY: no other thread has this site.
            let extras = unsafe { site.extras_or_attach() };
            assert_eq!(extras.is_some(), timed);
            assert!(site.flags().wake_sampled());
            assert_eq!(site.name().map(|n| n.to_string()), name);
            assert!(site.take_wake());
            assert!(!site.take_wake() && !site.flags().wake_sampled());
            assert_eq!(site.location().file(), here.file());
        }
        // Dropped with a mark still set: the box is freed all the same
        // (Miri checks the provenance and the leak).
        sites[1].mark_wake();
    }
}
