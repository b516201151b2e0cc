//! The outbound guard over HTTP, on both stores: a tenant's provider URL or LLM base
//! URL at a loopback, private or metadata address (typed, or a name resolving to one)
//! is refused with a 422 naming the field unless the operator allows it; one stored
//! anyway fails its sends for good without a connection; redirects are not followed;
//! answers are read up to the cap; and a tenant never reads an error page's text.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::agent::AgentApp;
use common::dispatch_steps::stepped;
use common::waits::within;
use common::{TestApp, assert_invalid, problem_fields};
use leadline_core::SystemClock;
use leadline_core::WorkspaceId;
use leadline_core::agent::settings::AgentSettings;
use leadline_core::channel::{MessageProviderType, ProviderKind};
use leadline_providers::outbound::OutboundPolicy;
use leadline_server::serve::ServerOptions;
use leadline_store::BackendKind;
use leadline_store::channels::NewChannel;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Defines `NAME::sqlite` and `NAME::postgres` running `body` against a server whose
/// outbound policy allows exactly `allow` (the harness's own servers allow loopback),
/// and whose dispatcher runs when the test steps it.
macro_rules! guarded {
    ($name:ident, $allow:expr, |$app:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run($app: &TestApp) $body

            async fn spawn(kind: BackendKind) -> Option<TestApp> {
                let options = ServerOptions {
                    outbound: OutboundPolicy::parse($allow).unwrap(),
                    ..stepped()
                };
                TestApp::spawn_exact(kind, Arc::new(SystemClock), options).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = spawn(BackendKind::Sqlite).await.expect("SQLite is always available");
                run(&app).await;
                app.stop().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(app) = spawn(BackendKind::Postgres).await else { return };
                run(&app).await;
                app.stop().await;
            }
        }
    };
}

const SECRET: &str = "outbound-guard-secret";

/// A channel request of `provider` whose URL setting is `url`.
fn channel_body(provider: &str, url: &str) -> Value {
    match provider {
        "http" => json!({"name": "Gateway", "messageProviderType": "SMS", "provider": "http",
            "sender": "+14155550100", "settings": {"url": url},
            "secrets": {"signingSecret": SECRET}}),
        "twilio" => json!({"name": "Twilio", "messageProviderType": "SMS", "provider": "twilio",
            "sender": "+14155550100",
            "settings": {"accountSid": "AC0123456789abcdef0123456789abcdef", "apiBaseUrl": url},
            "secrets": {"authToken": "token"}}),
        "whatsapp_cloud" => json!({"name": "WhatsApp", "messageProviderType": "WHATSAPP",
            "provider": "whatsapp_cloud", "sender": "1234567890", "settings": {"apiBaseUrl": url},
            "secrets": {"accessToken": "a", "appSecret": "b", "verifyToken": "c"}}),
        "kannel" => json!({"name": "Kannel", "messageProviderType": "SMS", "provider": "kannel",
            "sender": "12345", "settings": {"sendsmsUrl": url, "username": "leadline"},
            "secrets": {"password": "p", "webhookSecret": "w"}}),
        other => panic!("no channel body for {other}"),
    }
}

/// The field each provider's URL is named by.
fn url_field(provider: &str) -> &'static str {
    match provider {
        "http" => "settings.url",
        "kannel" => "settings.sendsmsUrl",
        _ => "settings.apiBaseUrl",
    }
}

/// The message of the problem's error on `field`.
fn message_on(problem: &Value, field: &str) -> String {
    problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|error| error["field"] == field)
        .and_then(|error| error["message"].as_str())
        .unwrap_or_else(|| panic!("no error on {field}: {problem}"))
        .to_owned()
}

fn llm_settings(base_url: &str) -> Value {
    json!({"agent": "LLM", "llm": {"baseUrl": base_url, "model": "m"}})
}

impl TestApp {
    async fn put_settings(&self, body: Value) -> (u16, Value) {
        let request = self
            .request(reqwest::Method::PUT, "/api/v1/settings/agent")
            .json(&body);
        common::read(request.send().await.unwrap()).await
    }

    fn workspace(&self) -> WorkspaceId {
        self.workspace_id.parse().unwrap()
    }

    /// Opens a LeadScout conversation with `cellphone` on `channel_id` (creating the
    /// `welcome` template the first time); its conversation and message ids.
    async fn open_on(&self, channel_id: &str, cellphone: &str) -> (String, String) {
        let template = json!({"name": "welcome", "language": "en",
            "body": "Hi {{1}}, this is {{2}}.", "channelType": "SMS"});
        let (status, created) = self.post("/api/v1/templates", template).await;
        assert!(status == 201 || status == 409, "{created}");
        self.upsert_contact(json!({"cellphone": cellphone})).await;
        let (status, response) = self
            .post(
                &self.leadscout_path(),
                Self::leadscout_body(cellphone, channel_id, &["Ana", "Leo"]),
            )
            .await;
        assert_eq!(status, 200, "{response}");
        (
            response["conversation"]["id"].as_str().unwrap().to_owned(),
            response["templateSent"]["messageId"]
                .as_str()
                .unwrap()
                .to_owned(),
        )
    }

    /// An `http` channel stored as it is, past the API's checks: as one saved while the
    /// operator allowed its address and still stored after the allowance was removed.
    async fn stored_http_channel(&self, url: &str) -> String {
        let settings = json!({"url": url}).as_object().unwrap().clone();
        let secrets = json!({"signingSecret": SECRET})
            .as_object()
            .unwrap()
            .clone();
        let channel = self
            .store
            .create_channel(
                self.workspace(),
                NewChannel {
                    name: "Stored gateway".into(),
                    carries: MessageProviderType::Sms,
                    provider: ProviderKind::Http,
                    sender: "+14155550100".into(),
                    settings,
                    secrets: leadline_core::SecretMap::new(secrets),
                    delivery: Default::default(),
                },
            )
            .await
            .unwrap();
        channel.id.to_string()
    }
}

async fn gateway(answer: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(answer)
        .mount(&server)
        .await;
    server
}

guarded!(
    tenant_urls_at_refused_addresses_are_422_naming_the_field,
    &[] as &[&str],
    |app| {
        for (provider, url, expected) in [
            (
                "http",
                "http://127.0.0.1:9/send",
                "127.0.0.1 is a loopback address",
            ),
            (
                "http",
                "http://localhost:9/send",
                "localhost resolves to a loopback address",
            ),
            ("twilio", "http://10.0.0.1", "10.0.0.1 is a private address"),
            (
                "whatsapp_cloud",
                "http://169.254.169.254",
                "169.254.169.254 is a cloud metadata address",
            ),
            (
                "kannel",
                "http://[::ffff:192.168.0.10]:13013/cgi-bin/sendsms",
                "is a private address",
            ),
        ] {
            let (status, problem) = app
                .post("/api/v1/channels", channel_body(provider, url))
                .await;
            assert_invalid(status, &problem, url_field(provider));
            assert_eq!(problem_fields(&problem), [url_field(provider)]);
            let message = message_on(&problem, url_field(provider));
            assert!(message.contains(expected), "{provider} {url}: {message}");
            assert!(message.contains("--allow-outbound"), "{message}");
        }
        let (_, channels) = app.get("/api/v1/channels").await;
        assert_eq!(
            channels["data"],
            json!([]),
            "a refused channel is not stored"
        );

        for (url, expected) in [
            (
                "http://localhost:11434/v1",
                "localhost resolves to a loopback address",
            ),
            ("http://10.0.0.1/v1", "10.0.0.1 is a private address"),
            ("http://[fd00:ec2::254]/v1", "a cloud metadata address"),
            ("http://100.100.100.200/v1", "a cloud metadata address"),
        ] {
            let (status, problem) = app.put_settings(llm_settings(url)).await;
            assert_invalid(status, &problem, "llm.baseUrl");
            assert!(
                message_on(&problem, "llm.baseUrl").contains(expected),
                "{url}: {problem}"
            );
        }
        let (_, settings) = app.get("/api/v1/settings/agent").await;
        assert_eq!(
            settings["agent"], "FLOW",
            "a refused PUT stores nothing: {settings}"
        );

        // A name that does not resolve now is accepted: it is checked again at send time.
        let (status, channel) = app
            .post(
                "/api/v1/channels",
                channel_body("twilio", "https://api.twilio.invalid"),
            )
            .await;
        assert_eq!(status, 201, "{channel}");
        let (status, settings) = app
            .put_settings(llm_settings("https://llm.invalid/v1"))
            .await;
        assert_eq!(status, 200, "{settings}");
    }
);

guarded!(
    the_operators_allow_list_lets_them_through,
    &["127.0.0.0/8", "10.0.0.0/8", "169.254.0.0/16"],
    |app| {
        for (provider, url) in [
            ("http", "http://127.0.0.1:9/send"),
            ("http", "http://localhost:9/send"),
            ("twilio", "http://10.0.0.1"),
            ("kannel", "http://169.254.10.1:13013/cgi-bin/sendsms"),
        ] {
            let (status, channel) = app
                .post("/api/v1/channels", channel_body(provider, url))
                .await;
            assert_eq!(status, 201, "{provider} {url}: {channel}");
        }
        let (status, settings) = app
            .put_settings(llm_settings("http://localhost:11434/v1"))
            .await;
        assert_eq!(status, 200, "{settings}");

        // A metadata address passes only when the allow-list names it exactly.
        let (status, problem) = app
            .post(
                "/api/v1/channels",
                channel_body("whatsapp_cloud", "http://169.254.169.254"),
            )
            .await;
        assert_invalid(status, &problem, "settings.apiBaseUrl");
        // What is not on the list stays refused.
        let (status, problem) = app
            .post(
                "/api/v1/channels",
                channel_body("kannel", "http://192.168.0.10/cgi-bin/sendsms"),
            )
            .await;
        assert_invalid(status, &problem, "settings.sendsmsUrl");
    }
);

guarded!(
    a_stored_url_at_a_refused_address_fails_its_sends_for_good_without_a_call,
    &[] as &[&str],
    |app| {
        let gateway =
            gateway(ResponseTemplate::new(200).set_body_json(json!({"id": "gw-1"}))).await;
        let port = gateway.address().port();
        for (index, (url, expected)) in [
            (
                gateway.uri(),
                "refused by the outbound guard: 127.0.0.1 is a loopback address",
            ),
            (
                format!("http://localhost:{port}"),
                "refused by the outbound guard: localhost resolves to a loopback address",
            ),
        ]
        .into_iter()
        .enumerate()
        {
            let channel = app.stored_http_channel(&url).await;
            let (conversation, message) =
                app.open_on(&channel, &format!("+1415555710{index}")).await;
            let failed = app.wait_for_status(&conversation, &message, "failed").await;
            assert_eq!(failed["errorCode"], "outbound_refused", "{failed}");
            let reason = failed["errorMessage"].as_str().unwrap();
            assert!(reason.starts_with(expected), "{reason}");
            // A configuration fault, not a provider outage: the circuit stays closed.
            let (_, shown) = app.get(&format!("/api/v1/channels/{channel}")).await;
            assert_eq!(shown["circuit"]["state"], "closed", "{shown}");
        }
        assert!(gateway.received_requests().await.unwrap().is_empty());
    }
);

both_stores!(
    a_redirect_is_not_followed_and_fails_the_send_for_good,
    stepped(),
    |app| {
        let target =
            gateway(ResponseTemplate::new(200).set_body_json(json!({"id": "inside"}))).await;
        let redirecting = gateway(
            ResponseTemplate::new(302).insert_header("location", format!("{}/admin", target.uri())),
        )
        .await;
        let channel = app
            .create_channel(channel_body("http", &redirecting.uri()))
            .await;
        let channel = channel["id"].as_str().unwrap();

        let (conversation, message) = app.open_on(channel, "+14155557201").await;

        let failed = app.wait_for_status(&conversation, &message, "failed").await;
        assert_eq!(
            failed["errorMessage"],
            "the HTTP endpoint answered HTTP 302: a redirect, which is not followed; use the final URL"
        );
        assert_eq!(
            redirecting.received_requests().await.unwrap().len(),
            1,
            "not retried"
        );
        assert!(
            target.received_requests().await.unwrap().is_empty(),
            "the redirect was followed"
        );
    }
);

/// An HTML page with something a tenant must not read.
fn error_page() -> String {
    format!(
        "<html><body><h1>Jenkins</h1><pre>AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI</pre>{}</body></html>",
        "lorem ipsum ".repeat(2000)
    )
}

both_stores!(
    an_error_page_shows_the_tenant_no_body_text,
    stepped(),
    |app| {
        let refusing = gateway(ResponseTemplate::new(400).set_body_string(error_page())).await;
        let channel = app
            .create_channel(channel_body("http", &refusing.uri()))
            .await;
        let (conversation, message) = app
            .open_on(channel["id"].as_str().unwrap(), "+14155557301")
            .await;
        let failed = app.wait_for_status(&conversation, &message, "failed").await;
        assert_eq!(
            failed["errorMessage"],
            "the HTTP endpoint answered HTTP 400: the request was refused as malformed"
        );
        assert_eq!(failed["errorCode"], Value::Null);

        // A 500 is retried; five in a row open the circuit, whose reason the channel shows.
        // The answers are slow so that the five sends are in flight together (one step
        // starts them all): an idle lane forgets its failures.
        let failing = gateway(
            ResponseTemplate::new(500)
                .set_body_string(error_page())
                .set_delay(Duration::from_millis(1500)),
        )
        .await;
        let channel = app
            .create_channel(channel_body("http", &failing.uri()))
            .await;
        let channel = channel["id"].as_str().unwrap();
        for lead in 0..5 {
            app.open_on(channel, &format!("+1415555740{lead}")).await;
        }
        // The step returns once the five answers are in and their outcomes recorded; the
        // retries wait for the circuit's pause, so nothing more is due.
        app.drain_dispatcher().await;
        let (_, shown) = app.get(&format!("/api/v1/channels/{channel}")).await;
        assert_eq!(
            shown["circuit"]["state"], "open",
            "five failures in a row open the circuit: {shown}"
        );
        let circuit = &shown["circuit"];
        let reason = circuit["reason"].as_str().unwrap();
        assert!(
            reason.ends_with("the HTTP endpoint answered HTTP 500: the gateway failed"),
            "{reason}"
        );
        for leaked in ["Jenkins", "AWS", "lorem", "<"] {
            assert!(!reason.contains(leaked), "{reason}");
        }
    }
);

/// A gateway on 127.0.0.1 that answers every request 200 with a body that never ends.
async fn endless_gateway() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/send", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buffer = [0u8; 8192];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buffer[..n]),
                    }
                }
                let reply = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
                if stream.write_all(reply).await.is_err() {
                    return;
                }
                let chunk = format!("4000\r\n{}\r\n", " ".repeat(0x4000));
                while stream.write_all(chunk.as_bytes()).await.is_ok() {}
            });
        }
    });
    url
}

both_stores!(
    an_endless_answer_is_read_up_to_the_cap_and_the_send_completes,
    stepped(),
    |app| {
        let channel = app
            .create_channel(channel_body("http", &endless_gateway().await))
            .await;
        let (conversation, message) = app
            .open_on(channel["id"].as_str().unwrap(), "+14155557501")
            .await;

        // Read whole, the answer would hold the send until the 10 s provider timeout and
        // leave it uncertain; cut at the cap, it is a 2xx without an id, sent at once.
        let sent = within(
            Duration::from_secs(5),
            "the send through the endless answer is recorded",
            app.wait_for_status(&conversation, &message, "sent"),
        )
        .await;
        assert_eq!(sent["providerMessageId"], Value::Null, "{sent}");
    }
);

/// The LLM agent of a workspace whose stored base URL the guard refuses: the turn hands
/// off naming the refusal, and the endpoint is never called.
async fn a_refused_llm_endpoint_hands_off_without_a_call(kind: BackendKind) {
    let Some(app) = AgentApp::start_exact(kind, ServerOptions::default()).await else {
        return;
    };
    let endpoint = gateway(ResponseTemplate::new(200).set_body_json(json!({"choices": [
        {"message": {"role": "assistant", "content": "Hello from inside"}}]})))
    .await;
    // Stored as it is, past the API's check (saved while the operator allowed it).
    let settings: AgentSettings = serde_json::from_value(json!({
        "agent": "LLM", "minReplyDelaySeconds": 0,
        "llm": {"baseUrl": format!("{}/v1", endpoint.uri()), "model": "m"}
    }))
    .unwrap();
    let workspace: WorkspaceId = app.workspace_id.parse().unwrap();
    assert!(
        app.store
            .set_agent_settings(workspace, &settings)
            .await
            .unwrap()
    );

    let lead = app.open("+14155557601", json!({})).await;
    let mark = app.say(&lead, "Hi, tell me more").await;

    let hand_off = app.wait_for_decision(&lead, "HAND_OFF", &mark).await;
    let reason = hand_off["reason"].as_str().unwrap();
    assert!(
        reason.starts_with(
            "the LLM endpoint was refused by the outbound guard: 127.0.0.1 is a loopback address"
        ),
        "{hand_off}"
    );
    assert!(endpoint.received_requests().await.unwrap().is_empty());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_llm_endpoint_hands_off_without_a_call_sqlite() {
    a_refused_llm_endpoint_hands_off_without_a_call(BackendKind::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_llm_endpoint_hands_off_without_a_call_postgres() {
    a_refused_llm_endpoint_hands_off_without_a_call(BackendKind::Postgres).await;
}

#[path = "outbound_guard/binary.rs"]
mod binary;
