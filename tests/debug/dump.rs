//! `Handle::dump`: the tree of groups, states (idle, running on worker N,
//! blocking closures), counters, escaping, and dumps taken while tasks are
//! spawned and completed, from inside tasks and from plain threads.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::mpsc;

use crate::support::{current, watchdog};
use windlass::join::{JoinSet, TaskGroup};
use windlass::runtime::{Builder, Handle, TaskState};
use windlass::sync::{Barrier, Event};
use windlass::task;

fn debug_rt(workers: usize) -> windlass::Runtime {
    Builder::new_multi_thread()
        .worker_threads(workers)
        .debug(true)
        .build()
        .unwrap()
}

#[test]
fn a_thousand_tasks_in_three_groups_make_three_subtrees() {
    watchdog(|| {
        let rt = debug_rt(2);
        let sizes = [500usize, 300, 200];
        let release = Arc::new(Event::new());
        // The three owners and this test meet once every member is spawned.
        let spawned = Arc::new(Barrier::new(sizes.len() + 1));
        let owners: Vec<_> = sizes
            .iter()
            .enumerate()
            .map(|(i, &n)| {
                let (release, spawned) = (release.clone(), spawned.clone());
                task::Builder::new().name(format!("owner {i}")).spawn_on(
                    async move {
                        let mut group = TaskGroup::<(), ()>::new();
                        for _ in 0..n {
                            let release = release.clone();
                            group.spawn(async move {
                                release.wait().await;
                                Ok(())
                            });
                        }
                        spawned.wait().await;
                        group.join().await.unwrap().len()
                    },
                    rt.handle(),
                )
            })
            .collect();
        rt.block_on(async {
            spawned.wait().await;
            let dump = Handle::current().dump();
            assert_eq!(dump.tasks().len(), 1000 + 3, "{dump}");
            for (owner, &n) in owners.iter().zip(&sizes) {
                let children: Vec<_> = dump.children(owner.id()).collect();
                assert_eq!(children.len(), n);
                assert!(children.iter().all(|c| dump.children(c.id()).count() == 0));
                assert_eq!(dump.get(owner.id()).unwrap().name(), owner.name());
            }
            let roots: Vec<_> = dump.roots().map(|t| t.id()).collect();
            let owner_ids: Vec<_> = owners.iter().map(|o| o.id()).collect();
            assert_eq!(roots, owner_ids);
            // The printed tree: three owners at depth 1, members at depth 2.
            let text = dump.to_string();
            let depth1 = text
                .lines()
                .filter(|l| l.starts_with("├─ task 'owner") || l.starts_with("└─ task 'owner"))
                .count();
            let depth2 = text
                .lines()
                .filter(|l| {
                    ["│  ├─ ", "│  └─ ", "   ├─ ", "   └─ "]
                        .iter()
                        .any(|p| l.starts_with(p))
                })
                .count();
            assert_eq!((depth1, depth2), (3, 1000), "{text}");
            release.set();
            for (owner, &n) in owners.into_iter().zip(&sizes) {
                assert_eq!(owner.await.unwrap(), n);
            }
        });
    });
}

#[test]
fn join_set_members_sit_under_their_owner() {
    watchdog(|| {
        let rt = debug_rt(2);
        rt.block_on(async {
            let (tx, rx) = windlass::sync::oneshot::channel::<JoinSet<()>>();
            let owner = windlass::spawn(async move {
                let mut set = JoinSet::new();
                for _ in 0..4 {
                    set.spawn(std::future::pending::<()>());
                }
                tx.send(set).ok().unwrap();
            });
            let owner_id = owner.id();
            owner.await.unwrap();
            let set = rx.await.unwrap();
            // The owner finished: its members become roots, with the parent
            // still recorded.
            let dump = Handle::current().dump();
            assert_eq!(dump.roots().count(), 4);
            assert!(dump.tasks().iter().all(|t| t.parent() == Some(owner_id)));
            drop(set);
        });
    });
}

#[test]
fn states_workers_counters_and_blocking_closures() {
    watchdog(|| {
        let rt = debug_rt(2);
        let (inside_tx, inside_rx) = mpsc::channel::<()>();
        let (go_tx, go_rx) = mpsc::channel::<()>();
        let busy = task::Builder::new().name("busy").spawn_on(
            async move {
                inside_tx.send(()).unwrap();
                go_rx.recv().unwrap(); // blocks its worker until released
            },
            rt.handle(),
        );
        let (b_inside_tx, b_inside_rx) = mpsc::channel::<()>();
        let (b_go_tx, b_go_rx) = mpsc::channel::<()>();
        let hash = task::Builder::new().name("hash").spawn_blocking_on(
            move || {
                b_inside_tx.send(()).unwrap();
                b_go_rx.recv().unwrap();
            },
            rt.handle(),
        );
        inside_rx.recv().unwrap();
        b_inside_rx.recv().unwrap();
        let dump = rt.handle().dump();
        let task = dump.get(busy.id()).expect("busy is alive");
        assert!(
            matches!(task.state(), TaskState::Running { worker: Some(w) } if w < 2),
            "{dump}"
        );
        let line = dump.to_string();
        assert!(line.contains("task 'busy' (id "), "{line}");
        assert!(line.contains("running on worker "), "{line}");
        let blocking = dump.blocking();
        assert_eq!(blocking.len(), 1, "{dump}");
        assert_eq!(blocking[0].name(), Some("hash"));
        assert_eq!(blocking[0].state(), TaskState::Running { worker: None });
        assert!(dump.blocking_threads().0 >= 1);
        go_tx.send(()).unwrap();
        b_go_tx.send(()).unwrap();
        rt.block_on(busy).unwrap();
        rt.block_on(hash).unwrap();

        // Counters: a task that polled three times and now waits.
        let (tx, rx) = futures_channel::oneshot::channel::<()>();
        let waiter = rt.spawn(async move {
            task::yield_now().await;
            task::yield_now().await;
            rx.await.unwrap();
        });
        let counters = loop {
            let dump = rt.handle().dump();
            let t = dump.get(waiter.id()).unwrap();
            let c = t.counters().expect("debug mode keeps counters");
            assert!(c.polls <= 3, "{c:?}");
            // The count moves when the third poll starts; the state turns
            // Idle when it ends (the watchdog bounds the wait).
            if c.polls == 3 && t.state() == TaskState::Idle {
                break c;
            }
            std::thread::yield_now();
        };
        assert!(counters.since_last_poll.is_some());
        tx.send(()).unwrap();
        rt.block_on(waiter).unwrap();
    });
}

#[test]
fn outside_debug_mode_only_named_tasks_keep_counters() {
    watchdog(|| {
        let rt = current();
        let plain = rt.spawn(std::future::pending::<()>());
        let named = task::Builder::new()
            .name("named")
            .spawn_on(std::future::pending::<()>(), rt.handle());
        rt.block_on(task::yield_now()); // lets both run once
        let dump = rt.handle().dump();
        assert_eq!(dump.tasks().len(), 2);
        assert!(dump.get(plain.id()).unwrap().counters().is_none());
        let c = dump.get(named.id()).unwrap().counters().unwrap();
        assert_eq!(c.polls, 1);
        assert!(dump.to_string().contains("debug mode off"));
    });
}

#[test]
fn control_characters_in_names_are_escaped() {
    let rt = current();
    let _t = task::Builder::new()
        .name("bad\nname\u{1b}[2J\u{7}")
        .spawn_on(std::future::pending::<()>(), rt.handle());
    let text = rt.handle().dump().to_string();
    let line = text
        .lines()
        .find(|l| l.contains("task 'bad"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(line.contains("'bad\\nname\\u{1b}[2J\\u{7}'"), "{line}");
    assert!(!text.contains('\u{1b}') && !text.contains('\u{7}'));
    assert_eq!(text.lines().count(), 3, "{text}"); // header, the task, the pool
}

#[test]
fn dumps_while_tasks_are_spawned_and_completed() {
    watchdog(|| {
        let rt = debug_rt(2);
        let stop = Arc::new(AtomicBool::new(false));
        // Churn: tasks spawned and completed continuously, some named. It
        // says when its first round is done, and the dumps start only then,
        // so they overlap the churn. (Before, `stop` could be set before the
        // churn task first ran: it then did no round, and the last assertion
        // failed about once in 30 runs of this binary.)
        let (first_round, first_round_done) = windlass::sync::oneshot::channel();
        let churn = {
            let stop = stop.clone();
            rt.spawn(async move {
                let mut n = 0u64;
                let mut first_round = Some(first_round);
                while !stop.load(SeqCst) {
                    let mut set = JoinSet::new();
                    for i in 0..20 {
                        if i % 2 == 0 {
                            set.spawn(async move { task::yield_now().await });
                        } else {
                            let t = task::Builder::new().name("churn").spawn(async {});
                            set.insert(t);
                        }
                    }
                    while set.join_next().await.is_some() {
                        n += 1;
                    }
                    if let Some(tx) = first_round.take() {
                        let _ = tx.send(());
                    }
                }
                n
            })
        };
        rt.block_on(first_round_done).expect("the churn task runs");
        // Dumps from a plain thread...
        let handle = rt.handle().clone();
        let from_thread = std::thread::spawn(move || {
            for _ in 0..200 {
                check(&handle.dump());
            }
        });
        // ...and from inside tasks.
        let inside = rt.spawn(async {
            for _ in 0..200 {
                check(&Handle::current().dump());
                task::yield_now().await;
            }
        });
        rt.block_on(inside).unwrap();
        from_thread.join().unwrap();
        stop.store(true, SeqCst);
        assert!(rt.block_on(churn).unwrap() > 0);
    });
}

/// Every dump is a consistent list: unique ids, sorted, and printable.
fn check(dump: &windlass::runtime::TaskDump) {
    let ids: Vec<_> = dump.tasks().iter().map(|t| t.id()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids sorted and unique");
    for t in dump.tasks() {
        assert!(
            t.counters().is_some(),
            "debug mode: every task has counters"
        );
        if t.name().is_some() {
            assert_eq!(t.name(), Some("churn"));
        }
    }
    let text = dump.to_string();
    assert!(text.lines().count() >= dump.tasks().len() + 2);
}
