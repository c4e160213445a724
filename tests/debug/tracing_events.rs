//! With the `tracing` feature, debug-mode reports are also `tracing`
//! events (target `windlass::debug`, with the task's fields).
use std::sync::{Arc, Mutex};

use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

/// An event's target and its fields as `(name, value)`.
type Recorded = (String, Vec<(String, String)>);

/// Records every event.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<Recorded>>>);

struct Fields(Vec<(String, String)>);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0
            .push((field.name().to_string(), format!("{value:?}")));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.push((field.name().to_string(), value.to_string()));
    }
}

impl<S: tracing::Subscriber> Layer<S> for Recorder {
    fn on_event(&self, event: &tracing::Event<'_>, _cx: Context<'_, S>) {
        let mut fields = Fields(Vec::new());
        event.record(&mut fields);
        let target = event.metadata().target().to_string();
        self.0.lock().unwrap().push((target, fields.0));
    }
}

#[test]
fn debug_events_are_tracing_events() {
    let recorder = Recorder::default();
    let subscriber = tracing_subscriber::registry().with(recorder.clone());
    tracing::subscriber::with_default(subscriber, || {
        let rt = windlass::runtime::Builder::new_current_thread()
            .debug(true)
            .on_debug_event(|_| {})
            .build()
            .unwrap();
        windlass::task::Builder::new()
            .name("traced")
            .spawn_on(std::future::pending::<()>(), rt.handle());
        drop(rt); // on this thread, under the default subscriber
    });
    let events = recorder.0.lock().unwrap();
    let (target, fields) = events
        .iter()
        .find(|(t, _)| t == "windlass::debug")
        .unwrap_or_else(|| panic!("no windlass::debug event in {events:?}"));
    assert_eq!(target, "windlass::debug");
    let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    assert_eq!(get("kind"), Some("pending_at_shutdown"));
    assert_eq!(get("task.name"), Some("traced"));
    assert!(
        get("message")
            .unwrap()
            .contains("pending at shutdown: task 'traced'")
    );
    assert!(get("task.spawned_at").unwrap().starts_with(file!()));
}

/// A subscriber that panics on windlass's events.
struct Panicking;

impl<S: tracing::Subscriber> Layer<S> for Panicking {
    fn on_event(&self, event: &tracing::Event<'_>, _cx: Context<'_, S>) {
        if event.metadata().target() == "windlass::debug" {
            panic!("a tracing subscriber panics (expected by this test)");
        }
    }
}

/// Debug rule 5 holds for the `tracing` side too: a subscriber that
/// panics on a report is caught, and the thread goes on. Before, the
/// panic unwound out of whatever emitted the report: here the shutdown
/// pass of a current-thread runtime's drop, which stopped before it
/// cancelled the remaining tasks.
#[test]
fn a_subscriber_that_panics_does_not_stop_the_shutdown() {
    let subscriber = tracing_subscriber::registry().with(Panicking);
    tracing::subscriber::with_default(subscriber, || {
        let rt = windlass::runtime::Builder::new_current_thread()
            .debug(true)
            .on_debug_event(|_| {})
            .build()
            .unwrap();
        let pending: Vec<_> = (0..3)
            .map(|_| rt.spawn(std::future::pending::<()>()))
            .collect();
        let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(rt)));
        assert!(dropped.is_ok(), "the runtime's drop unwound");
        for h in pending {
            let err = futures_lite::future::block_on(h).unwrap_err();
            assert!(err.is_cancelled(), "{err:?}");
        }
    });
}
