//! Many rounds of every helper over thousands of tasks, each inside a task
//! (so the cooperative budget cuts batches short): a lost wake-up shows up
//! as a hang, which the watchdog turns into a failure.

use crate::support::{multi, watchdog};
use futures_lite::StreamExt;
use windlass::join::{JoinSet, ReturnWhen, TaskGroup, as_completed, join_all, wait};

const ROUNDS: usize = 40;
const TASKS: usize = 3_000;
const SUM: usize = TASKS * (TASKS - 1) / 2;

fn spawn_all() -> Vec<windlass::JoinHandle<usize>> {
    (0..TASKS)
        .map(|i| windlass::spawn(async move { i }))
        .collect()
}

#[test]
fn every_helper_many_rounds_inside_tasks() {
    watchdog(|| {
        let rt = multi(2);
        for round in 0..ROUNDS {
            let sums = rt.block_on(rt.spawn(async move {
                let a: usize = join_all(spawn_all())
                    .await
                    .into_iter()
                    .map(Result::unwrap)
                    .sum();
                let b: usize = as_completed(spawn_all())
                    .map(Result::unwrap)
                    .fold(0, |s, x| s + x)
                    .await;
                let (done, pending) = wait(spawn_all(), ReturnWhen::AllCompleted, None).await;
                assert!(pending.is_empty());
                let c: usize = done.into_iter().map(Result::unwrap).sum();
                let mut set = JoinSet::new();
                for i in 0..TASKS {
                    set.spawn(async move { i });
                }
                let mut d = 0;
                while let Some(res) = set.join_next().await {
                    d += res.unwrap();
                }
                // Half the members spawned by the group's own tasks.
                let mut group = TaskGroup::<usize, ()>::new();
                for i in 0..TASKS / 2 {
                    let spawner = group.spawner();
                    group.spawn(async move {
                        spawner.spawn(async move { Ok(TASKS / 2 + i) }).unwrap();
                        Ok(i)
                    });
                }
                let e: usize = group.join().await.unwrap().into_iter().sum();
                [a, b, c, d, e]
            }));
            assert_eq!(sums.unwrap(), [SUM; 5], "round {round}");
        }
    });
}
