//! Kannel's calls through the server: delivery reports and inbound messages carry the
//! channel's Basic credentials (Kannel moves them from the URL's userinfo into an
//! `Authorization` header), a report whose status or id was changed by someone
//! without them is refused and changes nothing, a rotated secret works at once while
//! the replaced one works until its grace period ends on the server's clock, and a
//! caller outside the channel's `allowedSources` is refused.

mod common;

use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};
use common::TestApp;
use common::dispatch_steps::stepped;
use leadline_core::ManualClock;
use leadline_server::serve::ServerOptions;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const FIRST_SECRET: &str = "first-kannel-webhook-secret";

/// A GET as Kannel's HTTP client makes it: userinfo becomes Basic credentials.
async fn kannel_get(app: &TestApp, url: &str) -> u16 {
    let mut url = reqwest::Url::parse(url).unwrap();
    let (user, password) = (url.username().to_owned(), url.password().map(str::to_owned));
    url.set_username("").unwrap();
    url.set_password(None).unwrap();
    let mut request = app.client.get(url);
    if !user.is_empty() {
        request = request.basic_auth(user, password);
    }
    request.send().await.unwrap().status().as_u16()
}

/// What smsbox does with a URL template: the escapes replaced, URL-encoded.
fn fill(template: &str, values: &[(&str, &str)]) -> String {
    values
        .iter()
        .fold(template.to_owned(), |url, (escape, value)| {
            let encoded: String = value
                .bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => {
                        (b as char).to_string()
                    }
                    _ => format!("%{b:02X}"),
                })
                .collect();
            url.replace(escape, &encoded)
        })
}

impl TestApp {
    async fn kannel_channel(&self, sendsms: &str, allowed: Value) -> String {
        let channel = self
            .create_channel(json!({
                "name": "Kannel", "messageProviderType": "SMS", "provider": "kannel", "sender": "12345",
                "settings": {"sendsmsUrl": format!("{sendsms}/cgi-bin/sendsms"), "username": "leadline",
                             "allowedSources": allowed},
                "secrets": {"password": "sendsms-password", "webhookSecret": FIRST_SECRET}
            }))
            .await;
        assert!(!channel.to_string().contains(FIRST_SECRET), "{channel}");
        channel["id"].as_str().unwrap().to_owned()
    }

    fn webhook_url(&self, channel: &str) -> String {
        format!("{}/webhooks/providers/{channel}", self.base)
    }

    async fn rotate(&self, channel: &str) -> (u16, reqwest::header::HeaderMap, Value) {
        let response = self
            .request(
                reqwest::Method::POST,
                &format!("/api/v1/channels/{channel}/rotate-webhook-secret"),
            )
            .send()
            .await
            .unwrap();
        let (status, headers) = (response.status().as_u16(), response.headers().clone());
        (
            status,
            headers,
            response.json().await.unwrap_or(Value::Null),
        )
    }
}

fn mo(template: &str, text: &str) -> String {
    fill(
        template,
        &[
            ("%p", "14155558101"),
            ("%P", "12345"),
            ("%a", text),
            ("%I", "mo-1"),
            ("%T", "1700000000"),
        ],
    )
}

async fn rotation_and_grace(kind: leadline_store::BackendKind) {
    // The grace period is judged on the server's clock: a manual one, moved by a day.
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 3, 2, 15, 0, 0).unwrap(),
    ));
    let options = ServerOptions {
        without_dispatcher: true,
        ..ServerOptions::default()
    };
    let Some(app) = TestApp::spawn_with(kind, clock.clone(), options).await else {
        return;
    };
    let channel = app
        .kannel_channel("http://127.0.0.1:9", json!(["127.0.0.1", "::1"]))
        .await;
    let old_mo = leadline_providers::kannel::mo_get_url(&app.webhook_url(&channel), FIRST_SECRET);
    assert_eq!(kannel_get(&app, &mo(&old_mo, "before")).await, 200);

    let (status, headers, rotated) = app.rotate(&channel).await;
    assert_eq!(status, 200, "{rotated}");
    assert_eq!(headers["cache-control"], "no-store");
    let new_mo = rotated["moUrl"].as_str().unwrap().to_owned();
    assert!(
        new_mo.contains("kannel:") && !new_mo.contains("token="),
        "{new_mo}"
    );
    assert!(
        rotated["smsServiceGroup"]
            .as_str()
            .unwrap()
            .contains(&format!("get-url = \"{new_mo}\""))
    );
    assert_eq!(
        rotated["previousSecretValidUntil"],
        "2026-03-03T15:00:00.000Z"
    );
    assert!(!rotated.to_string().contains(FIRST_SECRET));

    // Both work during the grace period; the new one only after it.
    assert_eq!(kannel_get(&app, &mo(&new_mo, "new")).await, 200);
    assert_eq!(kannel_get(&app, &mo(&old_mo, "old, in time")).await, 200);
    clock.advance(Duration::hours(24));
    assert_eq!(kannel_get(&app, &mo(&old_mo, "old, too late")).await, 401);
    assert_eq!(kannel_get(&app, &mo(&new_mo, "new, still")).await, 200);
    // Without credentials (the URL as a log shows it): refused.
    let logged = mo(&new_mo, "x").replacen(
        &format!(
            "{}@",
            new_mo
                .split('@')
                .next()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
        ),
        "",
        1,
    );
    assert!(!logged.contains("kannel:"), "{logged}");
    assert_eq!(kannel_get(&app, &logged).await, 401);

    // Only Kannel channels rotate; an answer that holds credentials is never replayed.
    let sandbox = app.sandbox_channel().await;
    assert_eq!(app.rotate(&sandbox).await.0, 409);
    assert_eq!(
        app.rotate(&leadline_core::ChannelId::new().to_string())
            .await
            .0,
        404
    );
    let (status, replayable) = common::read(
        app.request(
            reqwest::Method::POST,
            &format!("/api/v1/channels/{channel}/rotate-webhook-secret"),
        )
        .header("Idempotency-Key", "rotate-1")
        .send()
        .await
        .unwrap(),
    )
    .await;
    common::assert_invalid(status, &replayable, "Idempotency-Key");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_and_grace_on_sqlite() {
    rotation_and_grace(leadline_store::BackendKind::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_and_grace_on_postgres() {
    rotation_and_grace(leadline_store::BackendKind::Postgres).await;
}

both_stores!(
    reports_need_the_credentials_and_their_own_id,
    stepped(),
    |app| {
        let kannel = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/cgi-bin/sendsms"))
            .respond_with(ResponseTemplate::new(202).set_body_string("0: Accepted for delivery"))
            .mount(&kannel)
            .await;
        let channel = app
            .kannel_channel(&kannel.uri(), json!(["127.0.0.0/8", "::1"]))
            .await;
        app.create_template(json!({"name": "welcome", "language": "en", "body": "Hi {{1}}, this is {{2}}.", "channelType": "SMS"}))
        .await;
        let cellphone = "+14155558102";
        app.upsert_contact(json!({"cellphone": cellphone})).await;
        let (status, opened) = app
            .post(
                &app.leadscout_path(),
                TestApp::leadscout_body(cellphone, &channel, &["Ana", "Leo"]),
            )
            .await;
        assert_eq!(status, 200, "{opened}");
        let conversation = opened["conversation"]["id"].as_str().unwrap();
        let message = opened["templateSent"]["messageId"].as_str().unwrap();
        app.wait_for_status(conversation, message, "sent").await;

        let sent = &kannel.received_requests().await.unwrap()[0];
        let dlr_url = sent
            .url
            .query_pairs()
            .find(|(k, _)| k == "dlr-url")
            .map(|(_, v)| v.into_owned())
            .unwrap();
        let report = |dlr_type: &str| {
            fill(
                &dlr_url,
                &[
                    ("%d", dlr_type),
                    ("%i", "fake1"),
                    ("%T", "1700000000"),
                    ("%A", ""),
                ],
            )
        };
        let userinfo = format!(
            "{}@",
            dlr_url
                .split('@')
                .next()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
        );

        // A report as a log or proxy shows it, its status changed to "failed": refused.
        let tampered = report("2").replacen(&userinfo, "", 1);
        assert_eq!(kannel_get(app, &tampered).await, 401);
        // With the credentials but another message's id: refused.
        let other_id = report("2").replace(message, &leadline_core::MessageId::new().to_string());
        assert_eq!(kannel_get(app, &other_id).await, 401);
        app.wait_for_status(conversation, message, "sent").await;

        assert_eq!(kannel_get(app, &report("1")).await, 200);
        app.wait_for_status(conversation, message, "delivered")
            .await;
    }
);

both_stores!(callers_outside_the_allowed_sources_are_refused, |app| {
    let channel = app
        .kannel_channel("http://127.0.0.1:9", json!(["10.9.9.9"]))
        .await;
    let (status, _, rotated) = app.rotate(&channel).await;
    assert_eq!(status, 200);
    let url = mo(rotated["moUrl"].as_str().unwrap(), "hello");
    // Right credentials, wrong place: the test client calls from 127.0.0.1.
    assert_eq!(kannel_get(app, &url).await, 403);

    let (status, problem) = app
        .post(
            "/api/v1/channels",
            json!({"name": "K", "messageProviderType": "SMS", "provider": "kannel", "sender": "1",
                   "settings": {"sendsmsUrl": "http://127.0.0.1:9/cgi-bin/sendsms", "username": "u",
                                "allowedSources": ["10.0.0.0/8", "somewhere"]},
                   "secrets": {"password": "p", "webhookSecret": "w"}}),
        )
        .await;
    common::assert_invalid(status, &problem, "settings.allowedSources[1]");
});
