//! Task names and spawn sites: `task::Builder`, `#[track_caller]` on every
//! spawn path, `task::name()`, `JoinHandle::name()`, and both in
//! `JoinError` and in the report of a panic inside a task.

use std::panic::Location;

use crate::support::{current, multi, watchdog};
use windlass::join::{JoinSet, TaskGroup};
use windlass::runtime::Handle;
use windlass::task::{self, Builder};

/// The line of the caller, for comparing with a spawn on the same line.
#[track_caller]
fn line() -> u32 {
    Location::caller().line()
}

#[test]
fn every_spawn_path_records_its_caller() {
    watchdog(|| {
        let rt = multi(2);
        let h = rt.handle().clone();
        let file = file!();
        let check = |at: &Location<'static>, line: u32, what: &str| {
            assert_eq!((at.file(), at.line()), (file, line), "{what}");
        };
        let (t, l) = (rt.spawn(async {}), line());
        check(t.spawned_at(), l, "Runtime::spawn");
        let (t, l) = (h.spawn(async {}), line());
        check(t.spawned_at(), l, "Handle::spawn");
        let (t, l) = (rt.spawn_blocking(|| ()), line());
        check(t.spawned_at(), l, "Runtime::spawn_blocking");
        let (t, l) = (h.spawn_blocking(|| ()), line());
        check(t.spawned_at(), l, "Handle::spawn_blocking");
        let (t, l) = (Builder::new().spawn_on(async {}, &h), line());
        check(t.spawned_at(), l, "Builder::spawn_on");
        let (t, l) = (Builder::new().spawn_blocking_on(|| (), &h), line());
        check(t.spawned_at(), l, "Builder::spawn_blocking_on");
        let (t, l) = (h.blocking_pool().spawn(|| ()), line());
        check(t.spawned_at(), l, "BlockingHandle::spawn");
        rt.block_on(async {
            let (t, l) = (windlass::spawn(async {}), line());
            check(t.spawned_at(), l, "spawn");
            let (t, l) = (windlass::spawn_blocking(|| ()), line());
            check(t.spawned_at(), l, "spawn_blocking");
            let (t, l) = (Builder::new().spawn(async {}), line());
            check(t.spawned_at(), l, "Builder::spawn");
            let (t, l) = (Builder::new().spawn_blocking(|| ()), line());
            check(t.spawned_at(), l, "Builder::spawn_blocking");
            // Inside the task, the same site.
            let site = async { task::spawned_at().unwrap() };
            let (t, l) = (windlass::spawn(site), line());
            check(t.await.unwrap(), l, "task::spawned_at");
        });
    });
}

#[test]
fn group_spawns_record_their_caller() {
    watchdog(|| {
        let rt = multi(2);
        rt.block_on(async {
            let mut set = JoinSet::new();
            let l = line();
            set.spawn(async { task::spawned_at().unwrap().line() });
            assert_eq!(set.join_next().await.unwrap().unwrap(), l + 1);
            let (here, line_of) = (Handle::current(), async {
                task::spawned_at().unwrap().line()
            });
            let l = line();
            set.spawn_on(line_of, &here);
            assert_eq!(set.join_next().await.unwrap().unwrap(), l + 1);

            let mut group = TaskGroup::<u32, ()>::new();
            let l = line();
            group.spawn(async { Ok(task::spawned_at().unwrap().line()) });
            let spawner = group.spawner();
            let line_of = async { Ok(task::spawned_at().unwrap().line()) };
            let l2 = line();
            spawner.spawn(line_of).unwrap();
            assert_eq!(group.join().await.unwrap(), [l + 1, l2 + 1]);
        });
    });
}

#[test]
fn names_reach_the_handle_the_task_and_the_error() {
    watchdog(|| {
        for rt in [multi(2), current()] {
            rt.block_on(async {
                let t = Builder::new()
                    .name("fetch br")
                    .spawn(async { task::name() });
                assert_eq!(t.name(), Some("fetch br"));
                assert!(format!("{t:?}").contains("fetch br"));
                assert_eq!(t.await.unwrap().as_deref(), Some("fetch br"));
                assert_eq!(windlass::spawn(async { task::name() }).await.unwrap(), None);
                assert_eq!(task::name(), None); // block_on is not a task

                let t = Builder::new()
                    .name("fetch br")
                    .spawn(async { panic!("no route") });
                let at = t.spawned_at();
                let err = t.await.unwrap_err();
                let site = at.to_string();
                let shown = err.to_string();
                assert!(shown.starts_with("task 'fetch br' (id "), "{shown}");
                assert!(shown.contains(&format!("spawned at {site}")), "{shown}");
                assert!(
                    shown.ends_with("panicked with message \"no route\""),
                    "{shown}"
                );
                let debug = format!("{err:?}");
                assert!(
                    debug.starts_with("JoinError::Panic(task 'fetch br' (id "),
                    "{debug}"
                );
                assert!(debug.contains(&site), "{debug}");
                assert_eq!(err.name(), Some("fetch br"));
                assert_eq!(err.spawned_at(), at);

                let blocked = Builder::new()
                    .name("stuck")
                    .spawn(std::future::pending::<()>());
                blocked.abort();
                let err = blocked.await.unwrap_err();
                assert!(err.to_string().starts_with("task 'stuck' (id "));
                assert!(err.to_string().ends_with("was cancelled"));
                assert!(format!("{err:?}").starts_with("JoinError::Cancelled(task 'stuck'"));

                let unnamed = windlass::spawn(std::future::pending::<()>());
                unnamed.abort();
                let shown = unnamed.await.unwrap_err().to_string();
                assert!(shown.starts_with("task (id "), "{shown}");
            });
        }
    });
}

#[test]
fn control_characters_in_names_are_escaped_in_messages() {
    watchdog(|| {
        let rt = multi(2);
        let t = Builder::new()
            .name("evil\n\u{1b}[31mname")
            .spawn_on(async { panic!("x") }, rt.handle());
        assert_eq!(t.name(), Some("evil\n\u{1b}[31mname")); // the name itself is kept
        let shown = rt.block_on(t).unwrap_err().to_string();
        assert!(
            shown.starts_with("task 'evil\\n\\u{1b}[31mname' (id "),
            "{shown}"
        );
        assert!(!shown.contains('\n') && !shown.contains('\u{1b}'));
    });
}

/// Runs in a child process (see the parent below): a named task panics.
#[test]
fn panic_report_child() {
    if std::env::var_os("WINDLASS_PANIC_REPORT_CHILD").is_none() {
        return;
    }
    let rt = multi(2);
    let t = Builder::new()
        .name("fetch br")
        .spawn_on(async { panic!("no route to {}", "br") }, rt.handle());
    println!("SPAWNED_AT={}", t.spawned_at());
    println!("ID={}", t.id());
    assert!(rt.block_on(t).is_err());
}

#[test]
fn panic_report_names_the_task_and_its_site() {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "names::panic_report_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("WINDLASS_PANIC_REPORT_CHILD", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "child failed: {out:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    let field = |key: &str| {
        stdout
            .lines()
            .find_map(|l| l.split_once(key).map(|(_, v)| v))
            .unwrap_or_else(|| panic!("no {key} in {stdout}"))
            .to_string()
    };
    let expected = format!(
        "task 'fetch br' (id {}, spawned at {}) panicked at {}:",
        field("ID="),
        field("SPAWNED_AT="),
        file!()
    );
    let line = stderr
        .lines()
        .find(|l| l.starts_with("task 'fetch br'"))
        .unwrap_or_else(|| panic!("no task line in {stderr}"));
    assert!(line.starts_with(&expected), "{line}\nexpected {expected}");
    assert!(line.ends_with(": no route to br"), "{line}");
    // The standard report still follows (the previous hook ran too).
    assert!(stderr.contains("no route to br\n"), "{stderr}");
}
