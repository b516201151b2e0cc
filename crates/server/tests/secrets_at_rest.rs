//! Secrets sealed at rest, read from the database the way an attacker with a copy of it
//! would: the SQLite file's bytes (and its WAL) and the columns as text, or every
//! PostgreSQL row as text. No channel credential or LLM key may show; sends still sign
//! with the opened secret; a sealed value copied into another row does not open (503,
//! nothing internal shown); values stored in clear by an older version are sealed when
//! a server starts; `Debug` of a channel names its secrets and shows none.

mod common;

use common::TestApp;
use common::dispatch_steps::stepped;
use leadline_providers::signing::{SIGNATURE_HEADER, verify};
use leadline_server::serve::{ServerOptions, start_with};
use leadline_store::BackendKind;
use serde_json::{Value, json};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const SIGNING_SECRET: &str = "sealed-signing-secret-7f3a";
const KANNEL_PASSWORD: &str = "sealed-kannel-password-55cd";
const KANNEL_WEBHOOK_SECRET: &str = "sealed-kannel-webhook-66de";
const LLM_KEY: &str = "sk-sealed-llm-key-0042";

/// Every secret the tests store, to look for in the raw database.
const SECRETS: [&str; 4] = [
    SIGNING_SECRET,
    KANNEL_PASSWORD,
    KANNEL_WEBHOOK_SECRET,
    LLM_KEY,
];

/// What a copy of the database shows: on SQLite the bytes of the file and its WAL and
/// the secret columns as text, on PostgreSQL every row of both tables as text.
async fn raw_database(app: &TestApp) -> String {
    let mut seen = String::new();
    match app.database.kind {
        BackendKind::Sqlite => {
            let path = app.database.url.trim_start_matches("sqlite://");
            for file in [path.to_owned(), format!("{path}-wal")] {
                if let Ok(bytes) = std::fs::read(&file) {
                    seen.push_str(&String::from_utf8_lossy(&bytes));
                }
            }
            let pool = sqlx::SqlitePool::connect(&app.database.url).await.unwrap();
            for sql in [
                "SELECT secrets || ' ' || COALESCE(secrets_key_id, '') FROM channels",
                "SELECT COALESCE(agent_settings, '') || ' ' || COALESCE(llm_api_key, '') FROM workspaces",
            ] {
                let rows: Vec<String> = sqlx::query_scalar(sql).fetch_all(&pool).await.unwrap();
                seen.push_str(&rows.join("\n"));
            }
            pool.close().await;
        }
        BackendKind::Postgres => {
            let pool = sqlx::PgPool::connect(&app.database.url).await.unwrap();
            for sql in [
                "SELECT c::text FROM channels c",
                "SELECT w::text FROM workspaces w",
            ] {
                let rows: Vec<String> = sqlx::query_scalar(sql).fetch_all(&pool).await.unwrap();
                seen.push_str(&rows.join("\n"));
            }
            pool.close().await;
        }
    }
    seen
}

/// Runs one statement on the test's database, outside the store.
async fn execute(app: &TestApp, sql: &'static str, args: &[&str]) {
    macro_rules! run {
        ($pool:expr) => {{
            let mut query = sqlx::query(sql);
            for arg in args {
                query = query.bind(arg.to_string());
            }
            query.execute(&$pool).await.unwrap();
            $pool.close().await;
        }};
    }
    match app.database.kind {
        BackendKind::Sqlite => run!(sqlx::SqlitePool::connect(&app.database.url).await.unwrap()),
        BackendKind::Postgres => run!(sqlx::PgPool::connect(&app.database.url).await.unwrap()),
    }
}

impl TestApp {
    async fn kannel_channel(&self, name: &str, webhook_secret: &str) -> String {
        let channel = self
            .create_channel(json!({
                "name": name, "messageProviderType": "SMS", "provider": "kannel", "sender": "12345",
                "settings": {"sendsmsUrl": "http://127.0.0.1:9/cgi-bin/sendsms", "username": "leadline"},
                "secrets": {"password": KANNEL_PASSWORD, "webhookSecret": webhook_secret}
            }))
            .await;
        channel["id"].as_str().unwrap().to_owned()
    }

    async fn send_through_http(&self, gateway: &MockServer, cellphone: &str) -> (String, String) {
        let channel = self
            .create_channel(json!({
                "name": "HTTP gateway", "messageProviderType": "SMS", "provider": "http", "sender": "+14155550100",
                "settings": {"url": gateway.uri()}, "secrets": {"signingSecret": SIGNING_SECRET}
            }))
            .await;
        let channel = channel["id"].as_str().unwrap();
        self.create_template(json!({"name": "welcome", "language": "en", "body": "Hi {{1}}, this is {{2}}.", "channelType": "SMS"}))
            .await;
        self.upsert_contact(json!({"cellphone": cellphone})).await;
        let (status, opened) = self
            .post(
                &self.leadscout_path(),
                Self::leadscout_body(cellphone, channel, &["Ana", "Leo"]),
            )
            .await;
        assert_eq!(status, 200, "{opened}");
        (
            opened["conversation"]["id"].as_str().unwrap().to_owned(),
            opened["templateSent"]["messageId"]
                .as_str()
                .unwrap()
                .to_owned(),
        )
    }

    async fn set_llm_key(&self, key: &str) {
        let body = json!({"agent": "LLM", "llm": {"baseUrl": "https://api.openai.com/v1", "model": "m", "apiKey": key}});
        let response = self
            .request(reqwest::Method::PUT, "/api/v1/settings/agent")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }

    fn workspace(&self) -> leadline_core::WorkspaceId {
        self.workspace_id.parse().unwrap()
    }
}

async fn accepting_gateway() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "gw-1"})))
        .mount(&server)
        .await;
    server
}

both_stores!(
    no_secret_reaches_the_database_and_sends_still_sign,
    stepped(),
    |app| {
        let gateway = accepting_gateway().await;
        app.kannel_channel("Kannel", KANNEL_WEBHOOK_SECRET).await;
        app.set_llm_key(LLM_KEY).await;
        let (conversation, message) = app.send_through_http(&gateway, "+14155557001").await;
        app.wait_for_status(&conversation, &message, "sent").await;

        // The gateway got a request signed with the secret as given.
        let request = &gateway.received_requests().await.unwrap()[0];
        let signature = request
            .headers
            .get(SIGNATURE_HEADER)
            .unwrap()
            .to_str()
            .unwrap();
        verify(
            SIGNING_SECRET.as_bytes(),
            signature,
            &request.body,
            chrono::Utc::now(),
        )
        .expect("signed with the opened secret");

        let raw = raw_database(app).await;
        for secret in SECRETS {
            assert!(
                !raw.contains(secret),
                "{secret} is readable in the database"
            );
        }
        let key_id = app.database.secret_key().id();
        assert!(raw.contains(key_id), "sealed values name their key");

        // The store still hands the secrets to those who need them.
        let settings = app.store.agent_settings(app.workspace()).await.unwrap();
        assert_eq!(settings.llm.unwrap().api_key.unwrap().expose(), LLM_KEY);
    }
);

both_stores!(a_sealed_value_moved_to_another_row_does_not_open, |app| {
    let victim = app.kannel_channel("Victim", KANNEL_WEBHOOK_SECRET).await;
    let attacker = app
        .kannel_channel("Attacker", "attacker-webhook-secret")
        .await;
    // Someone with write access to the database copies the victim's sealed secrets
    // into the channel they control, hoping its webhook now answers to them.
    execute(
        app,
        "UPDATE channels SET secrets = (SELECT secrets FROM channels WHERE id = $1), \
         secrets_key_id = (SELECT secrets_key_id FROM channels WHERE id = $1) WHERE id = $2",
        &[&victim, &attacker],
    )
    .await;

    let id: leadline_core::ChannelId = attacker.parse().unwrap();
    let error = app.store.channel_by_id(id).await.unwrap_err().to_string();
    assert!(
        error.contains(&format!("channels.secrets:{}:{attacker}", app.workspace_id)),
        "{error}"
    );
    assert!(error.contains("does not decrypt"), "{error}");

    let (status, content_type, problem) = app
        .send(app.request(
            reqwest::Method::GET,
            &format!("/api/v1/channels/{attacker}"),
        ))
        .await;
    common::assert_problem(status, &content_type, &problem, 503);
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains("cannot be decrypted"), "{detail}");
    assert!(
        !detail.contains(&attacker) && !detail.contains("kid"),
        "{detail}"
    );
    let webhook = app
        .anonymous(
            reqwest::Method::GET,
            &format!("/webhooks/providers/{attacker}?kind=mo&from=1&text=x"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(webhook.status(), 503);
    // The victim's channel is untouched.
    let (status, _) = app.get(&format!("/api/v1/channels/{victim}")).await;
    assert_eq!(status, 200);
});

both_stores!(debug_output_names_secrets_and_shows_none, |app| {
    let id = app.kannel_channel("Kannel", KANNEL_WEBHOOK_SECRET).await;
    app.set_llm_key(LLM_KEY).await;
    let channel = app
        .store
        .channel_by_id(id.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    let shown = format!("{channel:?} {channel:#?}");
    assert!(
        shown.contains("webhookSecret") && shown.contains("<redacted>"),
        "{shown}"
    );
    let settings = app.store.agent_settings(app.workspace()).await.unwrap();
    let shown = format!("{shown} {settings:?}");
    for secret in SECRETS {
        assert!(!shown.contains(secret), "{secret} shows in {shown}");
    }
});

both_stores!(
    values_stored_in_clear_are_sealed_when_a_server_starts,
    |app| {
        let id = app.kannel_channel("Kannel", "to-be-replaced").await;
        // What a database written before secrets were sealed holds.
        let clear = json!({"password": KANNEL_PASSWORD, "webhookSecret": KANNEL_WEBHOOK_SECRET})
            .to_string();
        let settings = json!({"agent": "LLM", "llm": {"baseUrl": "https://api.openai.com/v1", "model": "m", "apiKey": LLM_KEY}}).to_string();
        execute(
            app,
            "UPDATE channels SET secrets = $1, secrets_key_id = NULL WHERE id = $2",
            &[&clear, &id],
        )
        .await;
        execute(
        app,
        "UPDATE workspaces SET agent_settings = $1, llm_api_key = NULL, llm_api_key_id = NULL WHERE id = $2",
        &[&settings, &app.workspace_id],
    )
    .await;
        // Read as they are until then.
        let channel = app
            .store
            .channel_by_id(id.parse().unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            channel.secrets.expose()["webhookSecret"],
            KANNEL_WEBHOOK_SECRET
        );
        assert!(raw_database(app).await.contains(LLM_KEY));

        let options = ServerOptions {
            without_dispatcher: true,
            ..ServerOptions::default()
        };
        let another = start_with(app.store.clone(), "127.0.0.1:0", options)
            .await
            .unwrap();
        another.stop().await.unwrap();

        let raw = raw_database(app).await;
        for secret in SECRETS {
            assert!(
                !raw.contains(secret),
                "{secret} is still in clear after a start"
            );
        }
        let channel = app
            .store
            .channel_by_id(id.parse().unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(channel.secrets.expose()["password"], KANNEL_PASSWORD);
        let settings = app.store.agent_settings(app.workspace()).await.unwrap();
        let llm = settings.llm.unwrap();
        assert_eq!(llm.api_key.unwrap().expose(), LLM_KEY);
        assert!(llm.api_key_set);
        let (_, shown) = app.get("/api/v1/settings/agent").await;
        assert_eq!(shown["llm"]["apiKeySet"], Value::Bool(true), "{shown}");
    }
);
