//! Where a task comes from: its spawn site and, for a named task or any task
//! of a runtime in debug mode, its name, its parent and its poll counters,
//! all reached through one word of the header.
//!
//! # The word
//!
//! 1. An unnamed task of a runtime outside debug mode stores only a
//!    `&'static Location` (the `#[track_caller]` site of the spawn): no
//!    allocation, one word.
//! 2. Otherwise the word points to a boxed [`Extras`] holding the location,
//!    the name, the parent task (the owner of the `TaskGroup` or `JoinSet`
//!    it was spawned into) and the [`PollStats`]. The box is allocated at
//!    spawn and freed with the cell.
//! 3. The two cases are told apart by the pointer's low bit (1 for the
//!    box); both pointees are 8-byte aligned, so the bit is otherwise 0.
//! 4. The word never changes after spawn, so any thread holding a
//!    reference to the task may read it without synchronisation.

use crate::loom::std::sync::Arc;
use std::panic::Location;
use std::ptr::NonNull;

use super::id::Id;
use crate::loom::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Rule 3's tag bit.
const EXTRAS: usize = 1;

/// The header's word (module docs). Owns the `Extras` box when there is one.
pub(crate) struct Site {
    raw: NonNull<()>,
}

// SAFETY: the word is immutable after spawn (rule 4); the `Extras` it may
// own holds `Send + Sync` data (an `Arc<str>`, atomics).
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

    /// Rules 1 and 2: the header's word for this spawn. Inline, so that
    /// an unnamed spawn outside debug mode pays two tests and a move here;
    /// the box is built out of line.
    #[inline]
    pub(crate) fn into_site(self, debug: bool) -> Site {
        if self.name.is_none() && !debug {
            let raw = NonNull::from(self.location).cast::<()>();
            debug_assert_eq!(raw.as_ptr().addr() & EXTRAS, 0);
            return Site { raw };
        }
        self.into_extras()
    }

    /// Rule 2: the boxed extras of a named or debug-mode task.
    #[cold]
    #[inline(never)]
    fn into_extras(self) -> Site {
        let extras = Box::new(Extras {
            location: self.location,
            name: self.name,
            parent: self.parent,
            stats: PollStats::default(),
        });
        // Queued from now on: the spawn's schedule latency starts here.
        extras.stats.mark_queued();
        let raw = NonNull::from(Box::leak(extras)).cast::<()>();
        Site {
            raw: raw.map_addr(|a| a | EXTRAS),
        }
    }
}

/// The out-of-line part of a named or debug-mode task (rule 2).
pub(crate) struct Extras {
    pub(crate) location: &'static Location<'static>,
    pub(crate) name: Option<Arc<str>>,
    pub(crate) parent: Option<Id>,
    pub(crate) stats: PollStats,
}

/// Per-task poll counters, kept only for tasks with [`Extras`].
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
    /// When the task was last queued (spawned, woken, or, as a poll that
    /// returned `Pending` ends, yielded), in
    /// nanoseconds since [`epoch`]; 0: not known. The exception to "only
    /// the poller writes": the thread that queues the task writes it, with
    /// a `Relaxed` store *before* it hands the task to a run queue, whose
    /// push (release) and pop (acquire) order the store before the
    /// poller's load. Two racing stamps only make the statistic less exact
    /// (`runtime::metrics` rule 5).
    pub(crate) queued_ns: AtomicU64,
}

impl PollStats {
    /// Stamps the time the task was queued (see `queued_ns`).
    pub(crate) fn mark_queued(&self) {
        self.queued_ns.store(now_ns().max(1), Relaxed);
    }

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
    static EPOCH: crate::loom::std::sync::OnceLock<std::time::Instant> =
        crate::loom::std::sync::OnceLock::new();
    *EPOCH.get_or_init(std::time::Instant::now)
}

/// Nanoseconds since [`epoch`] (saturating; 584 years fit in a `u64`).
pub(crate) fn now_ns() -> u64 {
    u64::try_from(epoch().elapsed().as_nanos()).unwrap_or(u64::MAX)
}

impl Site {
    /// The pointer to the extras box, with the tag cleared (rule 3), if
    /// this task has one. Derived from the raw word (with the box's own
    /// provenance), never from a reference, so `drop` may free through it.
    #[inline]
    fn extras_ptr(&self) -> Option<NonNull<Extras>> {
        if self.raw.as_ptr().addr() & EXTRAS == 0 {
            return None;
        }
        let ptr = self.raw.map_addr(|a| {
            // SAFETY: a tagged pointer came from a non-null box address
            // with the bit added; clearing it cannot give zero.
            unsafe { std::num::NonZeroUsize::new_unchecked(a.get() & !EXTRAS) }
        });
        Some(ptr.cast::<Extras>())
    }

    /// The extras, if this task has them (rule 2).
    #[inline]
    pub(crate) fn extras(&self) -> Option<&Extras> {
        // SAFETY: tagged, so it is the leaked `Box<Extras>` of `into_site`,
        // freed only in `drop`, which needs `&mut self`.
        self.extras_ptr().map(|p| unsafe { p.as_ref() })
    }

    /// The spawn site.
    pub(crate) fn location(&self) -> &'static Location<'static> {
        match self.extras() {
            Some(extras) => extras.location,
            // SAFETY: untagged, so it was made from a `&'static Location`.
            None => unsafe { self.raw.cast::<Location<'static>>().as_ref() },
        }
    }

    /// The name given at spawn, if any.
    pub(crate) fn name(&self) -> Option<&Arc<str>> {
        self.extras().and_then(|e| e.name.as_ref())
    }
}

impl Drop for Site {
    /// Inline: freeing a task without extras is one test of the tag bit.
    #[inline]
    fn drop(&mut self) {
        if let Some(ptr) = self.extras_ptr() {
            // SAFETY: the box leaked in `into_extras`, freed once, here; the
            // pointer carries the box's provenance (see `extras_ptr`).
            unsafe { free_extras(ptr) };
        }
    }
}

/// Frees a task's extras box, out of the inline path of [`Site`]'s drop.
///
/// # Safety
/// `ptr` is the box leaked by `into_extras`, with its provenance, freed
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

        let debug = SpawnMeta::here().into_site(true);
        let stats = &debug.extras().expect("debug mode gives extras").stats;
        stats.record(5, 10);
        stats.record(7, 20);
        assert_eq!(stats.polls.load(Relaxed), 2);
        assert_eq!(stats.busy_ns.load(Relaxed), 12);
        assert_eq!(stats.last_poll_end_ns.load(Relaxed), 20);
    }
}
