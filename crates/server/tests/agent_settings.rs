//! The agent's settings and flow scripts over HTTP: defaults until set, every refusal
//! naming its field, the LLM key written but never read back, one script per scope,
//! and a conversation getting the most specific script (campaign, channel, workspace).

mod common;

use common::{TestApp, assert_invalid, problem_fields};
use leadline_core::{ChannelId, WorkspaceId};
use reqwest::Method;
use serde_json::{Value, json};

const SETTINGS: &str = "/api/v1/settings/agent";
const SCRIPTS: &str = "/api/v1/agent-scripts";
const UNKNOWN: &str = "0190a5a0-0000-7000-8000-000000000000";

impl TestApp {
    async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        common::read(
            self.request(Method::PUT, path)
                .json(&body)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    async fn delete(&self, path: &str) -> u16 {
        let response = self.request(Method::DELETE, path).send().await.unwrap();
        response.status().as_u16()
    }

    /// A CLOSED `budget` attribute (Low, High) and an OPEN `notes` one.
    async fn script_attributes(&self) {
        self.create_attribute(json!({"key": "budget", "label": "Budget", "kind": "CLOSED",
            "options": [{"label": "Low"}, {"label": "High"}]}))
            .await;
        self.create_attribute(json!({"key": "notes", "label": "Notes", "kind": "OPEN"}))
            .await;
    }

    /// Another workspace with the attributes of [`TestApp::script_attributes`]; its key.
    async fn other_workspace_with_attributes(&self) -> String {
        let (_, key) = self.other_workspace().await;
        for body in [
            json!({"key": "budget", "label": "Budget", "kind": "CLOSED",
                   "options": [{"label": "Low"}, {"label": "High"}]}),
            json!({"key": "notes", "label": "Notes", "kind": "OPEN"}),
        ] {
            let (status, attribute) = self.post_as(&key, "/api/v1/custom-attributes", body).await;
            assert_eq!(status, 201, "{attribute}");
        }
        key
    }

    fn workspace(&self) -> WorkspaceId {
        self.workspace_id.parse().unwrap()
    }
}

/// A script over the attributes of [`TestApp::script_attributes`].
fn script() -> Value {
    json!({
        "questions": [
            {"attribute": "budget", "text": "Is your budget low or high?"},
            {"attribute": "notes", "text": "Anything else we should know?"}
        ],
        "qualification": [{"attribute": "budget", "anyOf": ["High"]}]
    })
}

both_stores!(settings_are_the_defaults_until_set, |app| {
    let (status, settings) = app.get(SETTINGS).await;
    assert_eq!(status, 200, "{settings}");
    assert_eq!(settings["agent"], "FLOW");
    assert_eq!(settings["maxTurns"], 20);
    assert_eq!(settings["minReplyDelaySeconds"], 2);
    assert_eq!(settings["respectQuietHours"], true);
    assert_eq!(settings["replyHours"], json!([]));
    assert_eq!(settings["handoffTeamId"], Value::Null);
    assert_eq!(settings["llm"], Value::Null);
    assert!(settings["helpReply"].as_str().unwrap().contains("STOP"));

    let (status, restored) = app.put(SETTINGS, json!({})).await;
    assert_eq!(
        (status, &restored),
        (200, &settings),
        "PUT {{}} is the defaults"
    );
});

both_stores!(settings_round_trip, |app| {
    let (_, team) = app.post("/api/v1/teams", json!({"name": "Closers"})).await;
    app.create_template(json!({"name": "reopen", "language": "en",
        "body": "Are you still there?", "channelType": "WHATSAPP"}))
        .await;
    let body = json!({
        "agent": "LLM",
        "helpReply": "Help is here. Reply STOP to stop.",
        "optOutConfirmation": "Bye.",
        "optInConfirmation": "Welcome back.",
        "handoffMessage": "",
        "maxTurns": 5,
        "minReplyDelaySeconds": 0,
        "respectQuietHours": false,
        "replyHours": [{"day": "MONDAY", "start": "09:00", "end": "17:00"}],
        "handoffTeamId": team["id"],
        "whatsappReopenTemplate": "reopen",
        "llm": {"baseUrl": "http://localhost:11434/v1", "model": "llama3",
                "timeoutSeconds": 30, "systemPrompt": "Be brief."}
    });
    let (status, stored) = app.put(SETTINGS, body.clone()).await;
    assert_eq!(status, 200, "{stored}");
    let mut expected = body;
    expected["llm"]["apiKeySet"] = json!(false);
    assert_eq!(stored, expected);
    let (_, fetched) = app.get(SETTINGS).await;
    assert_eq!(fetched, stored);

    let (other_workspace, other_key) = app.other_workspace().await;
    let (_, theirs) = app.get_as(&other_key, SETTINGS).await;
    assert_eq!(theirs["agent"], "FLOW", "{other_workspace} keeps its own");
});

both_stores!(settings_refusals_name_their_fields, |app| {
    let (status, problem) = app
        .put(
            SETTINGS,
            json!({"helpReply": " ", "maxTurns": 0, "minReplyDelaySeconds": 90000,
                   "replyHours": [{"day": "MONDAY", "start": "18:00", "end": "9:00"}],
                   "llm": {"baseUrl": "ftp://x", "model": "", "timeoutSeconds": 0}}),
        )
        .await;
    assert_eq!(status, 422, "{problem}");
    let fields = problem_fields(&problem);
    for field in [
        "helpReply",
        "maxTurns",
        "minReplyDelaySeconds",
        "llm.baseUrl",
        "llm.model",
        "llm.timeoutSeconds",
    ] {
        assert!(fields.iter().any(|f| f == field), "{field} in {fields:?}");
    }
    assert!(
        fields.iter().any(|f| f.starts_with("replyHours[0]")),
        "{fields:?}"
    );

    let (status, problem) = app.put(SETTINGS, json!({"agent": "LLM"})).await;
    assert_eq!(
        (status, problem_fields(&problem)),
        (422, vec!["llm".to_owned()])
    );
    let (status, problem) = app.put(SETTINGS, json!({"maxTurn": 3})).await;
    assert_invalid(status, &problem, "maxTurn");
    let (status, problem) = app
        .put(
            SETTINGS,
            json!({"llm": {"baseUrl": "https://x.com", "model": "m", "key": "k"}}),
        )
        .await;
    assert_invalid(status, &problem, "llm.key");

    let (status, problem) = app.put(SETTINGS, json!({"handoffTeamId": UNKNOWN})).await;
    assert_invalid(status, &problem, "handoffTeamId");
    let (status, problem) = app
        .put(SETTINGS, json!({"handoffTeamId": "not-a-uuid"}))
        .await;
    assert_invalid(status, &problem, "handoffTeamId");
    let (_, other_key) = app.other_workspace().await;
    let (_, their_team) = app
        .post_as(&other_key, "/api/v1/teams", json!({"name": "Theirs"}))
        .await;
    let (status, problem) = app
        .put(SETTINGS, json!({"handoffTeamId": their_team["id"]}))
        .await;
    assert_invalid(status, &problem, "handoffTeamId");

    let (status, problem) = app
        .put(SETTINGS, json!({"whatsappReopenTemplate": "missing"}))
        .await;
    assert_invalid(status, &problem, "whatsappReopenTemplate");
    app.create_template(json!({"name": "sms-only", "language": "en", "body": "Hi",
        "channelType": "SMS"}))
        .await;
    let (status, problem) = app
        .put(SETTINGS, json!({"whatsappReopenTemplate": "sms-only"}))
        .await;
    assert_invalid(status, &problem, "whatsappReopenTemplate");

    let (_, unchanged) = app.get(SETTINGS).await;
    assert_eq!(unchanged["maxTurns"], 20, "a refused PUT stores nothing");
});

both_stores!(the_llm_key_is_written_but_never_read_back, |app| {
    let llm = |key: Option<&str>, base_url: &str| {
        let mut llm = json!({"baseUrl": base_url, "model": "gpt-4o-mini"});
        if let Some(key) = key {
            llm["apiKey"] = json!(key);
        }
        json!({"agent": "LLM", "llm": llm})
    };
    let stored_key = || async {
        app.store
            .agent_settings(app.workspace())
            .await
            .unwrap()
            .llm
            .and_then(|llm| llm.api_key)
            .map(|key| key.expose().to_owned())
    };

    let (status, shown) = app
        .put(
            SETTINGS,
            llm(Some("sk-secret"), "https://api.openai.com/v1"),
        )
        .await;
    assert_eq!(status, 200, "{shown}");
    assert!(shown["llm"].get("apiKey").is_none(), "{shown}");
    assert_eq!(shown["llm"]["apiKeySet"], true);
    let (_, fetched) = app.get(SETTINGS).await;
    assert!(!fetched.to_string().contains("sk-secret"), "{fetched}");
    assert_eq!(fetched["llm"]["apiKeySet"], true);
    assert_eq!(stored_key().await.as_deref(), Some("sk-secret"));

    // Changing the model keeps the key: the endpoint is the same.
    let mut body = llm(None, "https://api.openai.com/v1");
    body["llm"]["model"] = json!("gpt-4o");
    let (_, shown) = app.put(SETTINGS, body).await;
    assert_eq!(shown["llm"]["apiKeySet"], true, "{shown}");
    assert_eq!(stored_key().await.as_deref(), Some("sk-secret"));

    // A read-only flag sent back changes nothing.
    let mut body = llm(None, "https://api.openai.com/v1");
    body["llm"]["apiKeySet"] = json!(false);
    let (_, shown) = app.put(SETTINGS, body).await;
    assert_eq!(shown["llm"]["apiKeySet"], true, "{shown}");

    // Another endpoint never gets the old key.
    let (_, shown) = app
        .put(SETTINGS, llm(None, "https://llm.example.com/v1"))
        .await;
    assert_eq!(shown["llm"]["apiKeySet"], false, "{shown}");
    assert_eq!(stored_key().await, None);

    // An empty key removes it.
    app.put(SETTINGS, llm(Some("sk-2"), "https://llm.example.com/v1"))
        .await;
    assert_eq!(stored_key().await.as_deref(), Some("sk-2"));
    let (_, shown) = app
        .put(SETTINGS, llm(Some(""), "https://llm.example.com/v1"))
        .await;
    assert_eq!(shown["llm"]["apiKeySet"], false, "{shown}");
    assert_eq!(stored_key().await, None);
});

both_stores!(
    scripts_are_created_read_listed_replaced_and_deleted,
    |app| {
        app.script_attributes().await;
        let channel_id = app.sandbox_channel().await;
        let (status, created) = app
            .post(SCRIPTS, json!({"name": " Default ", "script": script()}))
            .await;
        assert_eq!(status, 201, "{created}");
        assert_eq!(created["name"], "Default");
        assert_eq!(created["scope"], "WORKSPACE");
        assert_eq!(created["campaignId"], Value::Null);
        assert_eq!(created["channelId"], Value::Null);
        assert_eq!(created["script"]["questions"], script()["questions"]);
        assert_eq!(created["script"]["maxRetries"], 2, "defaults are filled in");
        let path = format!("{SCRIPTS}/{}", created["id"].as_str().unwrap());
        let (status, fetched) = app.get(&path).await;
        assert_eq!((status, &fetched), (200, &created));

        let (status, second) = app
            .post(
                SCRIPTS,
                json!({"name": "Spring", "campaignId": "spring-2026", "script": script()}),
            )
            .await;
        assert_eq!(status, 201, "{second}");
        assert_eq!(second["scope"], "CAMPAIGN");
        assert_eq!(second["campaignId"], "spring-2026");
        let (_, page) = app.get(&format!("{SCRIPTS}?limit=1")).await;
        assert_eq!(page["data"], json!([created]));
        let cursor = page["nextCursor"].as_str().unwrap();
        let (_, page) = app.get(&format!("{SCRIPTS}?limit=1&cursor={cursor}")).await;
        assert_eq!(page["data"], json!([second]));

        let (status, replaced) = app
            .put(
                &path,
                json!({"name": "SMS", "channelId": channel_id,
                   "script": {"questions": [{"attribute": "notes", "text": "Tell us more"}]}}),
            )
            .await;
        assert_eq!(status, 200, "{replaced}");
        assert_eq!(replaced["id"], created["id"]);
        assert_eq!(replaced["scope"], "CHANNEL");
        assert_eq!(replaced["channelId"], json!(channel_id));
        assert_eq!(replaced["script"]["qualification"], json!([]));
        assert_eq!(replaced["createdAt"], created["createdAt"]);
        assert_eq!(app.get(&path).await.1, replaced);

        let (_, other_key) = app.other_workspace().await;
        assert_eq!(app.get_as(&other_key, &path).await.0, 404);
        assert_eq!(app.delete(&path).await, 204);
        assert_eq!(app.get(&path).await.0, 404);
        assert_eq!(app.delete(&path).await, 404);
        let (status, _) = app
            .put(&path, json!({"name": "x", "script": script()}))
            .await;
        assert_eq!(status, 404);
        assert_eq!(app.get(&format!("{SCRIPTS}/nope")).await.0, 404);
    }
);

both_stores!(script_refusals_name_their_fields, |app| {
    app.script_attributes().await;
    let refused = |body: Value| async move { app.post(SCRIPTS, body).await };

    let (status, problem) = refused(json!({"name": "x", "script": {"questions": [
        {"attribute": "colour", "text": "Which colour?"}]}}))
    .await;
    assert_invalid(status, &problem, "script.questions[0].attribute");
    let (status, problem) = refused(json!({"name": "x", "script": {
        "questions": [{"attribute": "budget", "text": "Budget?"}],
        "qualification": [{"attribute": "budget", "anyOf": ["Huge"]}]}}))
    .await;
    assert_eq!(
        (status, problem_fields(&problem)),
        (422, vec!["script.qualification[0].anyOf[0]".to_owned()])
    );
    let (status, problem) = refused(json!({"name": "x", "script": {
        "questions": [{"attribute": "budget", "text": ""}], "maxRetries": 99}}))
    .await;
    assert_invalid(status, &problem, "script.questions[0].text");
    assert_invalid(status, &problem, "script.maxRetries");

    let channel_id = app.sandbox_channel().await;
    let (status, problem) = refused(json!({"name": "x", "campaignId": "c",
        "channelId": channel_id, "script": script()}))
    .await;
    assert_invalid(status, &problem, "channelId");
    assert_invalid(status, &problem, "campaignId");
    let (status, problem) =
        refused(json!({"name": "x", "channelId": UNKNOWN, "script": script()})).await;
    assert_invalid(status, &problem, "channelId");
    let (status, problem) =
        refused(json!({"name": "x", "channelId": "nope", "script": script()})).await;
    assert_invalid(status, &problem, "channelId");
    let (status, problem) =
        refused(json!({"name": "x", "campaignId": "c".repeat(201), "script": script()})).await;
    assert_invalid(status, &problem, "campaignId");
    let (status, problem) = refused(json!({"name": "", "script": script()})).await;
    assert_invalid(status, &problem, "name");
    let (status, problem) = refused(json!({"name": "x"})).await;
    assert_invalid(status, &problem, "script");
    let (status, problem) = refused(json!({"name": "x", "script": script(), "scope": "ALL"})).await;
    assert_invalid(status, &problem, "scope");
    let mut with_team = script();
    with_team["handoffTeamId"] = json!(UNKNOWN);
    let (status, problem) = refused(json!({"name": "x", "script": with_team})).await;
    assert_invalid(status, &problem, "script.handoffTeamId");

    let (_, page) = app.get(SCRIPTS).await;
    assert_eq!(page["data"], json!([]), "nothing refused was stored");
});

both_stores!(one_script_per_scope, |app| {
    app.script_attributes().await;
    let channel_id = app.sandbox_channel().await;
    for body in [
        json!({"name": "a", "campaignId": "spring", "script": script()}),
        json!({"name": "b", "channelId": channel_id, "script": script()}),
        json!({"name": "c", "script": script()}),
    ] {
        let (status, created) = app.post(SCRIPTS, body).await;
        assert_eq!(status, 201, "{created}");
    }
    let (status, problem) = app
        .post(
            SCRIPTS,
            json!({"name": "a2", "campaignId": "spring", "script": script()}),
        )
        .await;
    assert_eq!(
        (status, problem_fields(&problem)),
        (409, vec!["campaignId".to_owned()])
    );
    let (status, problem) = app
        .post(
            SCRIPTS,
            json!({"name": "b2", "channelId": channel_id, "script": script()}),
        )
        .await;
    assert_eq!(
        (status, problem_fields(&problem)),
        (409, vec!["channelId".to_owned()])
    );
    let (status, problem) = app
        .post(SCRIPTS, json!({"name": "c2", "script": script()}))
        .await;
    assert_eq!(status, 409, "{problem}");

    // Moving a script onto a taken scope is refused the same way.
    let (_, summer) = app
        .post(
            SCRIPTS,
            json!({"name": "d", "campaignId": "summer", "script": script()}),
        )
        .await;
    let path = format!("{SCRIPTS}/{}", summer["id"].as_str().unwrap());
    let (status, problem) = app
        .put(
            &path,
            json!({"name": "d", "campaignId": "spring", "script": script()}),
        )
        .await;
    assert_eq!(
        (status, problem_fields(&problem)),
        (409, vec!["campaignId".to_owned()])
    );
    // Another workspace has scopes of its own.
    let other_key = app.other_workspace_with_attributes().await;
    let (status, theirs) = app
        .post_as(
            &other_key,
            SCRIPTS,
            json!({"name": "c", "campaignId": "spring", "script": script()}),
        )
        .await;
    assert_eq!(status, 201, "{theirs}");
});

both_stores!(the_most_specific_script_answers, |app| {
    app.script_attributes().await;
    let sms: ChannelId = app.sandbox_channel().await.parse().unwrap();
    let other: ChannelId = app
        .create_channel(json!({"name": "Other SMS", "messageProviderType": "SMS",
            "sender": "+14155550199"}))
        .await["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let workspace = app.workspace();
    let pick = |campaign: Option<&'static str>, channel: ChannelId| async move {
        app.store
            .agent_script_for(workspace, campaign, channel)
            .await
            .unwrap()
            .map(|script| script.name)
    };
    assert_eq!(pick(Some("spring"), sms).await, None);

    let create = |body: Value| async move {
        let (status, created) = app.post(SCRIPTS, body).await;
        assert_eq!(status, 201, "{created}");
        created
    };
    let whole = create(json!({"name": "workspace", "script": script()})).await;
    assert_eq!(
        pick(Some("spring"), sms).await.as_deref(),
        Some("workspace")
    );
    create(json!({"name": "channel", "channelId": sms.to_string(), "script": script()})).await;
    assert_eq!(pick(Some("spring"), sms).await.as_deref(), Some("channel"));
    assert_eq!(pick(None, sms).await.as_deref(), Some("channel"));
    assert_eq!(pick(None, other).await.as_deref(), Some("workspace"));
    create(json!({"name": "campaign", "campaignId": "spring", "script": script()})).await;
    assert_eq!(pick(Some("spring"), sms).await.as_deref(), Some("campaign"));
    assert_eq!(
        pick(Some("spring"), other).await.as_deref(),
        Some("campaign")
    );
    assert_eq!(pick(Some("summer"), sms).await.as_deref(), Some("channel"));
    assert_eq!(pick(None, sms).await.as_deref(), Some("channel"));

    let path = format!("{SCRIPTS}/{}", whole["id"].as_str().unwrap());
    assert_eq!(app.delete(&path).await, 204);
    assert_eq!(pick(Some("summer"), other).await, None);

    let other_key = app.other_workspace_with_attributes().await;
    let (_, theirs) = app
        .post_as(
            &other_key,
            SCRIPTS,
            json!({"name": "theirs", "script": script()}),
        )
        .await;
    assert_eq!(theirs["scope"], "WORKSPACE", "{theirs}");
    assert_eq!(
        pick(Some("summer"), other).await,
        None,
        "another workspace's script never answers"
    );
});
