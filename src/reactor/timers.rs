//! The reactor's timers: an ordered map from `(deadline, id)` to the waker
//! of the task waiting for it.

use std::collections::BTreeMap;
use std::task::Waker;
use std::time::Instant;

#[derive(Default)]
pub(crate) struct Timers {
    map: BTreeMap<(Instant, u64), Waker>,
    next_id: u64,
}

impl Timers {
    /// Adds a timer; returns its id and whether it is now the earliest.
    pub(crate) fn insert(&mut self, deadline: Instant, waker: Waker) -> (u64, bool) {
        let id = self.next_id;
        self.next_id += 1;
        self.map.insert((deadline, id), waker);
        let earliest = self
            .map
            .first_key_value()
            .is_some_and(|(k, _)| *k == (deadline, id));
        (id, earliest)
    }

    /// Updates the waker; false if the timer is no longer registered (it
    /// fired).
    pub(crate) fn update(&mut self, deadline: Instant, id: u64, waker: &Waker) -> bool {
        match self.map.get_mut(&(deadline, id)) {
            Some(w) => {
                if !w.will_wake(waker) {
                    w.clone_from(waker);
                }
                true
            }
            None => false,
        }
    }

    /// Removes the timer; false if it was not registered (it fired).
    pub(crate) fn remove(&mut self, deadline: Instant, id: u64) -> bool {
        self.map.remove(&(deadline, id)).is_some()
    }

    /// Moves a timer to `deadline`, keeping its waker; returns its new id
    /// and whether it is now the earliest, or `None` if it was not
    /// registered (it fired: its waker was taken to be woken).
    pub(crate) fn reset(
        &mut self,
        old: Instant,
        id: u64,
        deadline: Instant,
    ) -> Option<(u64, bool)> {
        let waker = self.map.remove(&(old, id))?;
        Some(self.insert(deadline, waker))
    }

    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.map.first_key_value().map(|((d, _), _)| *d)
    }

    /// Moves the wakers of every timer due at `now` into `out`, earliest
    /// first; returns how many.
    pub(crate) fn fire(&mut self, now: Instant, out: &mut Vec<Waker>) -> usize {
        let before = out.len();
        while let Some(entry) = self.map.first_entry() {
            if entry.key().0 > now {
                break;
            }
            out.push(entry.remove());
        }
        out.len() - before
    }

    /// Moves every waker into `out`; returns how many.
    pub(crate) fn drain(&mut self, out: &mut Vec<Waker>) -> usize {
        let map = std::mem::take(&mut self.map);
        let n = map.len();
        out.extend(map.into_values());
        n
    }

    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }
}
