//! `#[windlass::test]` (and, through the same expansion, `#[windlass::main]`)
//! at run time: which runtime the body runs on, return values, other
//! attributes. The compile errors are in `ui.rs`. The last test
//! shows the same test written without the macro, for comparison.
use windlass::Handle;
use windlass::runtime::RuntimeFlavor;

#[windlass::test]
async fn test_runs_on_a_current_thread_runtime_by_default() {
    let handle = Handle::current();
    assert_eq!(handle.runtime_flavor(), RuntimeFlavor::CurrentThread);
    let here = std::thread::current().id();
    let there = windlass::spawn(async { std::thread::current().id() })
        .await
        .unwrap();
    assert_eq!(here, there, "spawned tasks run on the test's own thread");
}

#[windlass::test(flavor = "multi_thread", worker_threads = 3)]
async fn multi_thread_with_worker_threads() {
    let handle = Handle::current();
    assert_eq!(handle.runtime_flavor(), RuntimeFlavor::MultiThread);
    assert_eq!(handle.num_workers(), 3);
}

#[windlass::test(flavor = "multi_thread")]
async fn multi_thread_defaults_to_one_worker_per_cpu() {
    let cpus = std::thread::available_parallelism().unwrap().get();
    assert_eq!(Handle::current().num_workers(), cpus);
}

#[windlass::test]
async fn a_test_may_return_a_result() -> Result<(), std::num::ParseIntError> {
    let n: u32 = "42".parse()?;
    assert_eq!(n, 42);
    Ok(())
}

#[windlass::test]
#[should_panic(expected = "the body's own panic")]
async fn other_attributes_stay() {
    windlass::task::yield_now().await;
    panic!("the body's own panic");
}

#[windlass::test]
async fn each_test_gets_a_fresh_runtime() {
    // No task of another test is alive here.
    assert_eq!(Handle::current().num_alive_tasks(), 0);
}

/// `#[windlass::main]` on a function that is not `main`: the expansion is
/// a plain function that builds its runtime and blocks on the body.
#[windlass::main(flavor = "current_thread")]
async fn sum_on_a_runtime_of_its_own() -> u64 {
    let tasks: Vec<_> = (1..=10u64)
        .map(|i| windlass::spawn(async move { i * i }))
        .collect();
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    total
}

#[test]
fn main_attribute_builds_and_blocks() {
    assert_eq!(sum_on_a_runtime_of_its_own(), 385);
}

/// The same as `test_runs_on_a_current_thread_runtime_by_default`,
/// without the macro: what `#[windlass::test]` writes for you.
#[test]
fn without_the_macro() {
    let rt = windlass::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        assert_eq!(
            Handle::current().runtime_flavor(),
            RuntimeFlavor::CurrentThread
        );
    });
}

/// `start_paused = true`: the runtime starts with virtual time paused, so
/// an hour of sleep passes at once and `time::Instant` measures exactly
/// the virtual hour.
#[windlass::test(start_paused = true)]
async fn start_paused_runs_an_hour_of_timers_at_once() {
    use std::time::Duration;
    let start = windlass::time::Instant::now();
    let wall = std::time::Instant::now();
    windlass::time::sleep(Duration::from_secs(3600)).await;
    assert_eq!(start.elapsed(), Duration::from_secs(3600));
    // Generous: virtual time must not wait for the real hour.
    assert!(wall.elapsed() < Duration::from_secs(60));
}

/// The same on the multi-thread flavor, where tokio cannot pause time.
#[windlass::test(flavor = "multi_thread", worker_threads = 2, start_paused = true)]
async fn start_paused_on_the_multi_thread_flavor() {
    use std::time::Duration;
    let start = windlass::time::Instant::now();
    let sleepers: Vec<_> = (1..=4u64)
        .map(|i| windlass::spawn(windlass::time::sleep(Duration::from_secs(600 * i))))
        .collect();
    for s in sleepers {
        s.await.unwrap();
    }
    assert_eq!(start.elapsed(), Duration::from_secs(2400));
}

/// An inner attribute at the top of the body (`#![allow(..)]`) is valid in
/// any `async fn`; the expansion must keep it inside the body.
#[windlass::test]
async fn inner_attributes_of_the_body_stay_inside_it() {
    #![allow(unused_variables)]
    let unused = windlass::spawn(async { 1 }).await.unwrap();
}
