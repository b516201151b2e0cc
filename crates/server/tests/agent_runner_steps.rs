//! The agent runner stepped by hand, on both stores: one `run_once` runs the pass of
//! every conversation due now and says how many, a reply held by the minimum delay is
//! not due until the store's clock reaches it, and a runner with nothing due is idle.

mod common;

use chrono::Duration;
use common::agent::{BUDGET_QUESTION, TIMELINE_QUESTION};
use leadline_server::worker_step::Step;
use serde_json::json;

agent_stores!(a_step_runs_what_is_due_and_then_the_runner_is_idle, |app| {
    app.qualifying_attributes().await;
    app.workspace_script(json!({})).await;
    app.agent_settings(json!({"minReplyDelaySeconds": 60}))
        .await;
    let runner = app.agent_runner();
    let first = app.open("+14155550501", json!({})).await;
    let second = app.open("+14155550502", json!({})).await;
    assert_eq!(
        runner.run_once().await.unwrap(),
        Step::Idle,
        "nobody wrote yet"
    );

    let first_mark = app.say(&first, "Hi").await;
    let second_mark = app.say(&second, "Hello").await;
    assert_eq!(runner.run_once().await.unwrap(), Step::Worked(2));
    // Written by the step itself: nothing to wait for.
    assert_eq!(app.kinds_since(&first, &first_mark).await, ["REPLY"]);
    assert_eq!(
        app.sent_since(&second, &second_mark).await,
        [TIMELINE_QUESTION]
    );
    assert_eq!(runner.run_once().await.unwrap(), Step::Idle);

    // Held by the minimum delay: due a minute later on the store's clock.
    let mark = app.say(&first, "Now").await;
    assert_eq!(runner.run_once().await.unwrap(), Step::Worked(1));
    assert_eq!(app.kinds_since(&first, &mark).await, ["DEFERRED"]);
    assert_eq!(runner.run_once().await.unwrap(), Step::Idle);
    app.clock.advance(Duration::seconds(61));
    assert_eq!(runner.run_once().await.unwrap(), Step::Worked(1));
    assert_eq!(app.sent_since(&first, &mark).await, [BUDGET_QUESTION]);
    assert_eq!(runner.run_once().await.unwrap(), Step::Idle);
});
