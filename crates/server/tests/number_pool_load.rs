//! What number selection loads from the store: every number of a workspace with the
//! day's usage and the outcomes of the health window, in a handful of statements
//! whatever the pool's size. Counters are written with plain SQL, as the send path
//! and delivery reports write them.

mod common;

use chrono::NaiveDate;
use common::TestApp;
use leadline_core::numbers::{Capabilities, Hold, NumberMetrics};
use leadline_core::{ContactId, E164, WorkspaceId};
use leadline_store::BackendKind;
use leadline_store::phone_numbers::{PhoneNumber, PhoneNumberFields};
use leadline_store::sources::SourceFields;

/// Runs statements on the app's database beside the store.
async fn execute(app: &TestApp, statements: &[String]) {
    match app.store.kind() {
        BackendKind::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&app.database.url).await.unwrap();
            for sql in statements {
                sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                    .execute(&pool)
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e}"));
            }
            pool.close().await;
        }
        BackendKind::Postgres => {
            let pool = sqlx::PgPool::connect(&app.database.url).await.unwrap();
            for sql in statements {
                sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                    .execute(&pool)
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e}"));
            }
            pool.close().await;
        }
    }
}

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
}

fn fields(number: &str) -> PhoneNumberFields {
    PhoneNumberFields {
        number: E164::parse(number).unwrap(),
        display_number: number.to_owned(),
        capabilities: Capabilities {
            sms: true,
            call: true,
        },
        channel_id: None,
        label: None,
        team_id: None,
        campaign_ids: Vec::new(),
        source_ids: Vec::new(),
        preferred: false,
        is_default: false,
        warmup_started_on: None,
    }
}

fn usage(number: &PhoneNumber, day: &str, sms: u32, calls: u32) -> String {
    format!(
        "INSERT INTO number_usage (phone_number_id, day, sms, calls) VALUES ('{}', '{day}', {sms}, {calls})",
        number.id
    )
}

fn outcome(number: &PhoneNumber, day: &str, counts: [u32; 7]) -> String {
    let [sent, delivered, failed, filtered, blocks, opt_outs, replies] = counts;
    format!(
        "INSERT INTO number_outcomes (phone_number_id, day, sent, delivered, failed, filtered, \
         carrier_blocks, opt_outs, replies) VALUES ('{}', '{day}', {sent}, {delivered}, {failed}, \
         {filtered}, {blocks}, {opt_outs}, {replies})",
        number.id
    )
}

both_stores!(
    the_pool_carries_the_days_usage_and_the_windows_outcomes,
    |app| {
        let store = &app.store;
        let workspace: WorkspaceId = app.workspace_id.parse().unwrap();
        let source = store
            .create_source(
                workspace,
                SourceFields {
                    name: "Web".into(),
                    description: None,
                },
            )
            .await
            .unwrap();
        let mut first = fields("+14155552671");
        first.source_ids = vec![source.id];
        first.is_default = true;
        first.warmup_started_on = Some(day(2));
        let first = store.create_phone_number(workspace, first).await.unwrap();
        let second = store
            .create_phone_number(workspace, fields("+14155552672"))
            .await
            .unwrap();
        let (other_workspace, _) = store.create_workspace("Other").await.unwrap();
        let stranger = store
            .create_phone_number(other_workspace.id, fields("+14155552671"))
            .await
            .unwrap();
        execute(
            app,
            &[
                usage(&first, "2026-11-20", 5, 2),
                usage(&first, "2026-11-19", 99, 99),
                usage(&stranger, "2026-11-20", 7, 7),
                outcome(&first, "2026-11-14", [1000, 0, 1000, 0, 0, 0, 0]),
                outcome(&first, "2026-11-15", [10, 8, 2, 1, 0, 1, 3]),
                outcome(&first, "2026-11-20", [5, 5, 0, 0, 1, 0, 1]),
                outcome(&stranger, "2026-11-20", [9, 9, 9, 9, 9, 9, 9]),
            ],
        )
        .await;

        let pool = store
            .pool_numbers(workspace, day(20), day(15))
            .await
            .unwrap();
        assert_eq!(pool.len(), 2, "only the workspace's own numbers");
        let (a, b) = (&pool[0], &pool[1]);
        assert_eq!(a.number, first, "the number as the store reads it alone");
        assert_eq!(a.number.source_ids, [source.id]);
        assert_eq!(a.number.warmup_started_on, Some(day(2)));
        assert_eq!((a.sms_used, a.calls_used), (5, 2));
        let expected = NumberMetrics {
            sent: 15,
            delivered: 13,
            failed: 2,
            filtered: 1,
            carrier_blocks: 1,
            opt_outs: 1,
            replies: 4,
        };
        assert_eq!(a.metrics, expected);
        assert_eq!(b.number.id, second.id);
        assert_eq!(
            (b.sms_used, b.calls_used, b.metrics),
            (0, 0, NumberMetrics::default())
        );

        assert_eq!(
            store.phone_number_usage(first.id, day(20)).await.unwrap(),
            (5, 2)
        );
        assert_eq!(
            store.phone_number_usage(second.id, day(20)).await.unwrap(),
            (0, 0)
        );
        assert_eq!(
            store.phone_number_metrics(first.id, day(15)).await.unwrap(),
            expected
        );
        assert_eq!(
            store.phone_number_metrics(first.id, day(21)).await.unwrap(),
            NumberMetrics::default()
        );

        let hold = Hold::Paused {
            reason: "Delivery below 75 %".into(),
            automatic: true,
        };
        let held = store
            .set_phone_number_hold(workspace, second.id, hold.clone())
            .await
            .unwrap()
            .expect("the number exists");
        assert_eq!(held.hold, hold);
        assert!(held.held_at.is_some());
        let pool = store
            .pool_numbers(workspace, day(20), day(15))
            .await
            .unwrap();
        assert_eq!(pool[1].number.hold, hold);
        assert!(
            store
                .set_phone_number_hold(other_workspace.id, second.id, Hold::None)
                .await
                .unwrap()
                .is_none(),
            "another workspace cannot lift it"
        );
        assert!(
            !store
                .assign_contact_number(workspace, ContactId::new(), Some(first.id))
                .await
                .unwrap()
        );
    }
);

/// Ten thousand numbers, each with a source, today's usage and a week of outcomes.
fn bulk_pool(kind: BackendKind, workspace: &str, source: &str) -> Vec<String> {
    let series = match kind {
        BackendKind::Sqlite => {
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000) \
             SELECT i, printf('%012d', i) AS pad, printf('%07d', i) AS line FROM n"
        }
        BackendKind::Postgres => {
            "SELECT i, lpad(i::text, 12, '0') AS pad, lpad(i::text, 7, '0') AS line \
             FROM generate_series(1, 10000) AS i"
        }
    };
    let (yes, no) = match kind {
        BackendKind::Sqlite => ("1", "0"),
        BackendKind::Postgres => ("TRUE", "FALSE"),
    };
    let id = "'00000000-0000-7000-8000-' || pad";
    let mut statements = vec![
        format!(
            "INSERT INTO phone_numbers (id, workspace_id, number, display_number, can_sms, can_call, \
             preferred, is_default, created_at, updated_at) \
             SELECT {id}, '{workspace}', '+1415' || line, line, {yes}, {yes}, {no}, {no}, 0, 0 FROM ({series}) s"
        ),
        format!(
            "INSERT INTO phone_number_sources (phone_number_id, source_id) SELECT {id}, '{source}' FROM ({series}) s"
        ),
        format!(
            "INSERT INTO number_usage (phone_number_id, day, sms, calls) SELECT {id}, '2026-11-20', i, 1 FROM ({series}) s"
        ),
    ];
    for d in 14..=20 {
        statements.push(format!(
            "INSERT INTO number_outcomes (phone_number_id, day, sent, delivered, failed) \
             SELECT {id}, '2026-11-{d}', 10, 9, 1 FROM ({series}) s"
        ));
    }
    statements
}

both_stores!(ten_thousand_numbers_load_in_one_go, |app| {
    let workspace: WorkspaceId = app.workspace_id.parse().unwrap();
    let source = app
        .store
        .create_source(
            workspace,
            SourceFields {
                name: "Web".into(),
                description: None,
            },
        )
        .await
        .unwrap();
    let statements = bulk_pool(app.store.kind(), &app.workspace_id, &source.id.to_string());
    execute(app, &statements).await;
    if app.store.kind() == BackendKind::Postgres {
        execute(app, &["ANALYZE".to_owned()]).await;
    }
    let pool = app
        .store
        .pool_numbers(workspace, day(20), day(15))
        .await
        .unwrap();
    assert_eq!(pool.len(), 10_000);
    let last = pool.last().unwrap();
    assert_eq!((last.sms_used, last.calls_used), (10_000, 1));
    assert_eq!((last.metrics.sent, last.metrics.delivered), (60, 54));
    assert_eq!(last.number.source_ids, [source.id]);
});
