//! The supervisor restarts a panicking worker and counts it, stops with the shutdown,
//! and restarts a group as a whole.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::*;
use crate::telemetry::metrics_handle;

/// Restarts within milliseconds, so the tests wait on events, not on the clock.
fn quick() -> RestartPolicy {
    RestartPolicy {
        first_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(4),
        healthy_after: Duration::from_secs(60),
    }
}

/// Waits (at most 10 s, a failure rather than a hang) for the next event.
async fn next<T>(events: &mut mpsc::UnboundedReceiver<T>) -> T {
    tokio::time::timeout(Duration::from_secs(10), events.recv())
        .await
        .expect("the event comes")
        .expect("the sender is alive")
}

fn restarts_of(worker: &str) -> Option<u64> {
    let wanted = format!("leadline_worker_restarts_total{{worker=\"{worker}\"}} ");
    metrics_handle()
        .render()
        .lines()
        .find_map(|line| line.strip_prefix(&wanted)?.trim().parse().ok())
}

#[tokio::test]
async fn a_panicking_worker_is_restarted_and_counted() {
    metrics_handle();
    let shutdown = CancellationToken::new();
    let (started, mut runs) = mpsc::unbounded_channel();
    let count = Arc::new(AtomicUsize::new(0));
    let token = shutdown.clone();
    let supervisor = supervise_with("test-panics", shutdown.clone(), quick(), move || {
        let run = count.fetch_add(1, Ordering::SeqCst) + 1;
        let started = started.clone();
        let token = token.clone();
        async move {
            started.send(run).expect("the test listens");
            if run < 3 {
                panic!("run {run} hit a bad row");
            }
            token.cancelled().await;
        }
    });
    assert_eq!(next(&mut runs).await, 1);
    assert_eq!(next(&mut runs).await, 2);
    assert_eq!(next(&mut runs).await, 3);
    assert_eq!(restarts_of("test-panics"), Some(2));

    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(10), supervisor)
        .await
        .expect("the supervisor stops with the shutdown")
        .expect("the supervisor does not panic");
    assert!(runs.try_recv().is_err(), "no run after the shutdown");
}

#[tokio::test]
async fn a_shutdown_during_the_pause_stops_the_restarts() {
    metrics_handle();
    let shutdown = CancellationToken::new();
    let (started, mut runs) = mpsc::unbounded_channel();
    let policy = RestartPolicy {
        first_delay: Duration::from_secs(3600),
        ..quick()
    };
    let supervisor = supervise_with("test-pause", shutdown.clone(), policy, move || {
        let started = started.clone();
        async move {
            started.send(()).expect("the test listens");
            panic!("always");
        }
    });
    next(&mut runs).await;
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(10), supervisor)
        .await
        .expect("the pause ends with the shutdown")
        .expect("the supervisor does not panic");
    assert_eq!(restarts_of("test-pause"), None, "nothing was restarted");
}

#[tokio::test]
async fn aborting_the_supervisor_aborts_its_worker() {
    let (dropped, mut drops) = mpsc::unbounded_channel();
    let (started, mut runs) = mpsc::unbounded_channel();
    struct Guard(mpsc::UnboundedSender<()>);
    impl Drop for Guard {
        fn drop(&mut self) {
            let _ = self.0.send(());
        }
    }
    let supervisor = supervise_with("test-abort", CancellationToken::new(), quick(), move || {
        let guard = Guard(dropped.clone());
        let started = started.clone();
        async move {
            let _guard = guard;
            started.send(()).expect("the test listens");
            std::future::pending::<()>().await;
        }
    });
    next(&mut runs).await;
    supervisor.abort();
    next(&mut drops).await;
}

#[tokio::test]
async fn a_group_is_stopped_and_restarted_when_one_of_it_panics() {
    metrics_handle();
    let shutdown = CancellationToken::new();
    let (events, mut seen) = mpsc::unbounded_channel();
    let count = Arc::new(AtomicUsize::new(0));
    let parent = shutdown.clone();
    let supervisor = supervise_with("test-group", shutdown.clone(), quick(), move || {
        let run = count.fetch_add(1, Ordering::SeqCst) + 1;
        let group = parent.child_token();
        let steady = {
            let (group, events) = (group.clone(), events.clone());
            tokio::spawn(async move {
                events.send(format!("run {run}: steady started")).unwrap();
                group.cancelled().await;
                events.send(format!("run {run}: steady stopped")).unwrap();
            })
        };
        let flaky = {
            let events = events.clone();
            let group = group.clone();
            tokio::spawn(async move {
                if run == 1 {
                    panic!("the first run fails");
                }
                events.send(format!("run {run}: flaky running")).unwrap();
                group.cancelled().await;
            })
        };
        join_group(vec![steady, flaky], group)
    });
    let mut log = Vec::new();
    while !log.contains(&"run 2: flaky running".to_owned())
        || !log.contains(&"run 2: steady started".to_owned())
    {
        log.push(next(&mut seen).await);
    }
    assert!(
        log.contains(&"run 1: steady stopped".to_owned()),
        "the group's other task was stopped before the restart: {log:?}"
    );
    assert_eq!(restarts_of("test-group"), Some(1));
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(10), supervisor)
        .await
        .expect("the group stops with the shutdown")
        .expect("the supervisor does not panic");
}

#[test]
fn panic_messages_are_read_from_both_payload_kinds() {
    let text: Box<dyn Any + Send> = Box::new("static text");
    assert_eq!(panic_message(text.as_ref()), "static text");
    let owned: Box<dyn Any + Send> = Box::new(String::from("formatted 42"));
    assert_eq!(panic_message(owned.as_ref()), "formatted 42");
    let other: Box<dyn Any + Send> = Box::new(42_u8);
    assert_eq!(panic_message(other.as_ref()), "(a panic without a message)");
}
