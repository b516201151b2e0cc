//! Events are written with their change and only with it, on both stores: a repeated
//! request that changes nothing writes no event, and a transaction that fails after
//! writing its events (here: queuing their deliveries is refused) leaves neither the
//! change nor its events behind.

mod common;

use common::TestApp;
use common::event_log::EventLog;
use leadline_core::event::EventFilter;
use leadline_store::BackendKind;
use leadline_store::webhook_endpoints::NewWebhookEndpoint;
use reqwest::Method;
use serde_json::json;

both_stores!(a_change_that_changes_nothing_tells_nothing, |app| {
    let mut log = EventLog::new(app);

    let (status, contact) = app
        .upsert_contact(json!({"cellphone": "+14155550401", "firstName": "Ana"}))
        .await;
    assert_eq!(status, 200, "{contact}");
    let step = log.step(app).await;
    assert_eq!(step.types(), ["contact.created"]);
    step.assert_as_the_api_shows(app).await;
    app.upsert_contact(json!({"cellphone": "+14155550401", "firstName": "Ana"}))
        .await;
    assert_eq!(log.step(app).await.types(), Vec::<String>::new());
    app.upsert_contact(json!({"cellphone": "+14155550401", "lastName": "Lee"}))
        .await;
    let step = log.step(app).await;
    assert_eq!(step.types(), ["contact.updated"]);
    step.assert_as_the_api_shows(app).await;
    assert_eq!(step.0[0].data["lastName"], "Lee");

    let opt_outs = format!(
        "/api/v1/contacts/{}/opt-outs",
        contact["id"].as_str().unwrap()
    );
    let body = json!({"messageProviderType": "SMS", "evidence": "asked on a call"});
    let (status, _) = app.post(&opt_outs, body.clone()).await;
    assert!(status < 300, "{status}");
    let step = log.step(app).await;
    assert_eq!(step.types(), ["opt_out.recorded"]);
    step.assert_as_the_api_shows(app).await;
    app.post(&opt_outs, body).await;
    assert_eq!(log.step(app).await.types(), Vec::<String>::new());
    let lift = || {
        app.request(Method::DELETE, &format!("{opt_outs}/SMS"))
            .send()
    };
    assert!(lift().await.unwrap().status().is_success());
    let step = log.step(app).await;
    assert_eq!(step.types(), ["opt_out.revoked"]);
    assert_eq!(step.0[0].data["evidence"], "asked on a call");
    lift().await.unwrap();
    assert_eq!(log.step(app).await.types(), Vec::<String>::new());

    let (status, number) = app
        .post("/api/v1/phone-numbers", json!({"number": "+14155552671"}))
        .await;
    assert_eq!(status, 201, "{number}");
    let number = format!("/api/v1/phone-numbers/{}", number["id"].as_str().unwrap());
    let pause = json!({"reason": "too many opt-outs"});
    for _ in 0..2 {
        let (status, paused) = app.post(&format!("{number}/pause"), pause.clone()).await;
        assert_eq!(status, 200, "{paused}");
    }
    let step = log.step(app).await;
    assert_eq!(step.types(), ["number.paused"]);
    step.assert_as_the_api_shows(app).await;
    for _ in 0..2 {
        let (status, resumed) = app.post(&format!("{number}/resume"), json!({})).await;
        assert_eq!(status, 200, "{resumed}");
    }
    let step = log.step(app).await;
    assert_eq!(step.types(), ["number.resumed"]);
    step.assert_as_the_api_shows(app).await;
});

/// Makes every insert of a webhook delivery job fail, on `app`'s database.
async fn refuse_deliveries(app: &TestApp, kind: BackendKind) {
    let statements: &[&str] = match kind {
        BackendKind::Sqlite => &["CREATE TRIGGER refuse_deliveries BEFORE INSERT ON jobs \
             WHEN NEW.task LIKE '%webhook.v1%' BEGIN SELECT RAISE(ABORT, 'deliveries refused'); END"],
        BackendKind::Postgres => &[
            "CREATE FUNCTION refuse_deliveries() RETURNS trigger LANGUAGE plpgsql AS $$ \
             BEGIN IF NEW.task LIKE '%webhook.v1%' THEN RAISE EXCEPTION 'deliveries refused'; END IF; \
             RETURN NEW; END $$",
            "CREATE TRIGGER refuse_deliveries BEFORE INSERT ON jobs \
             FOR EACH ROW EXECUTE FUNCTION refuse_deliveries()",
        ],
    };
    run_sql(app, kind, statements).await;
}

async fn accept_deliveries(app: &TestApp, kind: BackendKind) {
    let sql = match kind {
        BackendKind::Sqlite => "DROP TRIGGER refuse_deliveries",
        BackendKind::Postgres => "DROP TRIGGER refuse_deliveries ON jobs",
    };
    run_sql(app, kind, &[sql]).await;
}

/// Runs `statements` on a connection of its own, beside the server's pools.
async fn run_sql(app: &TestApp, kind: BackendKind, statements: &[&str]) {
    let url = &app.database.url;
    for sql in statements {
        let sql = sqlx::AssertSqlSafe(sql.to_string());
        match kind {
            BackendKind::Sqlite => {
                let mut connection = <sqlx::SqliteConnection as sqlx::Connection>::connect(url)
                    .await
                    .unwrap();
                sqlx::query(sql).execute(&mut connection).await.unwrap();
            }
            BackendKind::Postgres => {
                let mut connection = <sqlx::PgConnection as sqlx::Connection>::connect(url)
                    .await
                    .unwrap();
                sqlx::query(sql).execute(&mut connection).await.unwrap();
            }
        }
    }
}

async fn a_failed_transaction_writes_no_event(kind: BackendKind) {
    let Some(app) = TestApp::spawn(kind).await else {
        return;
    };
    let workspace = app.workspace_id.parse().unwrap();
    let endpoint = NewWebhookEndpoint {
        url: "https://crm.example.com/hooks".to_owned(),
        description: "CRM".to_owned(),
        event_types: EventFilter::All,
        enabled: true,
        rate_limit: None,
    };
    app.store
        .create_webhook_endpoint(workspace, &endpoint)
        .await
        .expect("an endpoint");
    let mut log = EventLog::new(&app);
    let jobs = app.store.outbox_depth().await.unwrap();

    refuse_deliveries(&app, kind).await;
    let (status, _) = app
        .upsert_contact(json!({"cellphone": "+14155550402", "firstName": "Ana"}))
        .await;
    assert_eq!(
        status, 500,
        "the contact's transaction fails with its deliveries"
    );
    assert_eq!(log.step(&app).await.types(), Vec::<String>::new());
    let (_, found) = app.get("/api/v1/contacts?cellphone=%2B14155550402").await;
    assert_eq!(
        found["data"],
        json!([]),
        "the contact was not written either"
    );
    assert_eq!(app.store.outbox_depth().await.unwrap(), jobs);

    accept_deliveries(&app, kind).await;
    let (status, _) = app
        .upsert_contact(json!({"cellphone": "+14155550402", "firstName": "Ana"}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(log.step(&app).await.types(), ["contact.created"]);
    assert_eq!(
        app.store.outbox_depth().await.unwrap(),
        jobs + 1,
        "one delivery queued"
    );
    app.stop().await;
}

on_both_stores!(a_failed_transaction_writes_no_event);

both_stores!(an_advisor_takes_over_and_gives_back, |app| {
    let opened = app.open_leadscout("+14155550403").await;
    let advisor = app.create_user("closer@acme.com").await;
    let mut log = EventLog::new(app);
    log.step(app).await;
    let path = format!("/api/v1/conversations/{}", opened.conversation_id);

    let (status, taken) = app
        .post(&format!("{path}/handoff"), json!({"userId": advisor["id"]}))
        .await;
    assert_eq!(status, 200, "{taken}");
    // The opening is sent meanwhile by the background dispatcher.
    let step = log.step(app).await.only("conversation.");
    assert_eq!(step.types(), ["conversation.handed_off"]);
    step.assert_as_the_api_shows(app).await;
    assert_eq!(step.0[0].data["assignedUserId"], advisor["id"]);

    let (status, released) = app.post(&format!("{path}/release"), json!({})).await;
    assert_eq!(status, 200, "{released}");
    let step = log.step(app).await.only("conversation.");
    assert_eq!(step.types(), ["conversation.released"]);
    step.assert_as_the_api_shows(app).await;
    let kinds: Vec<String> = log
        .all(app)
        .await
        .into_iter()
        .filter(|e| e.event_type == "agent.decision")
        .map(|e| e.data["kind"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kinds, ["HAND_OFF", "RELEASED"]);
});

both_stores!(leads_added_in_bulk_are_told_once_each, |app| {
    let channel = app.sandbox_channel().await;
    app.create_template(
        json!({"name": "welcome", "language": "en", "body": "Hi {{1}}!",
                               "channelType": "SMS"}),
    )
    .await;
    let (status, campaign) = app
        .post(
            "/api/v1/campaigns",
            json!({
                "name": "Bulk", "channelId": channel, "defaultTimeZone": "America/New_York",
                "maxAttempts": 1, "retryInterval": "Daily",
                "openingTemplate": "welcome", "openingTemplateParams": ["{{firstName}}"]
            }),
        )
        .await;
    assert_eq!(status, 201, "{campaign}");
    let bulk = format!(
        "/api/v1/campaigns/{}/leads:bulk",
        campaign["id"].as_str().unwrap()
    );
    app.upsert_contact(json!({"cellphone": "+14155550500"}))
        .await;
    let mut log = EventLog::new(app);
    log.step(app).await;

    // 250 leads, one of them with a contact that exists already.
    let leads: Vec<_> = (0..250)
        .map(|n| {
            json!({"phoneNumber": format!("+1415555{:04}", 500 + n),
                        "externalId": format!("b-{n}"), "callData": {"firstName": "L"}})
        })
        .collect();
    let (status, answer) = app.post(&bulk, json!({"leads": leads})).await;
    assert_eq!(status, 200, "{answer}");
    let step = log.step(app).await;
    let count = |kind: &str| step.types().iter().filter(|t| *t == kind).count();
    assert_eq!(count("contact.created"), 249);
    assert_eq!(count("lead.added"), 250);
    assert_eq!(step.0.len(), 499);
    // A sample, within the API key's rate limit.
    let added = step.only("lead.");
    common::event_log::Step(added.0[..5].to_vec())
        .assert_as_the_api_shows(app)
        .await;

    // The same external ids again update those leads: nothing is added.
    let (status, _) = app.post(&bulk, json!({"leads": leads})).await;
    assert_eq!(status, 200);
    assert_eq!(log.step(app).await.types(), Vec::<String>::new());
});

both_stores!(
    a_campaign_is_activated_paused_and_completed_once_each,
    |app| {
        let mut log = EventLog::new(app);
        let channel = app.sandbox_channel().await;
        app.create_template(
            json!({"name": "welcome", "language": "en", "body": "Hi!", "channelType": "SMS"}),
        )
        .await;
        let (status, campaign) = app
            .post(
                "/api/v1/campaigns",
                json!({
                    "name": "Spring", "channelId": channel, "openingTemplate": "welcome",
                    "defaultTimeZone": "America/New_York", "callingHours": [], "maxAttempts": 1,
                    "retryInterval": "Daily"
                }),
            )
            .await;
        assert_eq!(status, 201, "{campaign}");
        let path = format!("/api/v1/campaigns/{}", campaign["id"].as_str().unwrap());
        log.step(app).await;

        for (action, event) in [
            ("activate", "campaign.activated"),
            ("pause", "campaign.paused"),
            ("complete", "campaign.completed"),
        ] {
            let (status, answer) = app.post(&format!("{path}/{action}"), json!({})).await;
            assert_eq!(status, 200, "{action}: {answer}");
            let step = log.step(app).await;
            assert_eq!(step.types(), [event]);
            step.assert_as_the_api_shows(app).await;
        }
        for action in ["activate", "complete"] {
            let (status, answer) = app.post(&format!("{path}/{action}"), json!({})).await;
            assert_eq!(
                status, 409,
                "a completed campaign cannot {action}: {answer}"
            );
        }
        assert_eq!(log.step(app).await.types(), Vec::<String>::new());
    }
);
