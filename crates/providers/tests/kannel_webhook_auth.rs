//! Who may call a Kannel channel's webhook, through the adapter: a rotated secret works
//! at once and the replaced one until its grace period ends (judged by the call's
//! arrival time), and callers outside `settings.allowedSources` are refused.

mod common;

use common::{Call, WEBHOOK_URL};
use leadline_core::channel::{MessageProviderType, ProviderKind};
use leadline_providers::kannel::mo_get_url;
use leadline_providers::{Provider, WebhookError};
use serde_json::json;

const USERNAME: &str = "leadline";
const PASSWORD: &str = "kannel-pass";
const WEBHOOK_SECRET: &str = "kannel-webhook-secret";

fn kannel(extra: serde_json::Value) -> std::sync::Arc<dyn Provider> {
    let mut settings =
        json!({"sendsmsUrl": "http://127.0.0.1:13013/cgi-bin/sendsms", "username": USERNAME});
    settings
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    common::provider(
        ProviderKind::Kannel,
        MessageProviderType::Sms,
        settings,
        json!({"password": PASSWORD, "webhookSecret": WEBHOOK_SECRET}),
    )
}

/// What smsbox does with a URL template: replace the escapes with URL-encoded values.
fn fill(template: &str, values: &[(&str, &str)]) -> String {
    values
        .iter()
        .fold(template.to_owned(), |url, (escape, value)| {
            let encoded: String = form_urlencoded::byte_serialize(value.as_bytes()).collect();
            url.replace(escape, &encoded)
        })
}

/// A GET as Kannel makes it: the URL's userinfo becomes a Basic `Authorization`.
fn get(url: &str) -> Call {
    Call::get_with_userinfo(url)
}

#[test]
fn a_rotated_secret_works_at_once_and_the_old_one_until_its_grace_ends() {
    let rotated_at = chrono::DateTime::parse_from_rfc3339("2026-03-01T12:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let mut secrets = leadline_core::SecretMap::new(
        serde_json::from_value(json!({"password": PASSWORD, "webhookSecret": WEBHOOK_SECRET}))
            .unwrap(),
    );
    let valid_until = leadline_providers::kannel::rotate_webhook_secret(
        &mut secrets,
        "the-new-secret",
        rotated_at,
    );
    assert_eq!(valid_until, rotated_at + chrono::Duration::hours(24));
    assert_eq!(secrets.expose()["webhookSecret"], "the-new-secret");
    let provider = common::provider(
        ProviderKind::Kannel,
        MessageProviderType::Sms,
        json!({"sendsmsUrl": "http://127.0.0.1:13013/cgi-bin/sendsms", "username": USERNAME}),
        serde_json::Value::Object(secrets.expose().clone()),
    );
    let mo = |secret: &str| {
        fill(
            &mo_get_url(WEBHOOK_URL, secret),
            &[("%p", "14155552671"), ("%a", "hi")],
        )
    };
    let just_before = valid_until - chrono::Duration::seconds(1);
    assert!(
        get(&mo("the-new-secret"))
            .at(rotated_at)
            .handle(provider.as_ref())
            .is_ok()
    );
    assert!(
        get(&mo(WEBHOOK_SECRET))
            .at(just_before)
            .handle(provider.as_ref())
            .is_ok()
    );
    assert!(matches!(
        get(&mo(WEBHOOK_SECRET))
            .at(valid_until)
            .handle(provider.as_ref()),
        Err(WebhookError::BadSignature(_))
    ));
    assert!(
        get(&mo("the-new-secret"))
            .at(valid_until + chrono::Duration::days(30))
            .handle(provider.as_ref())
            .is_ok()
    );
}

#[test]
fn calls_from_outside_the_allowed_sources_are_refused() {
    let provider = kannel(json!({"allowedSources": ["10.1.2.3", "192.168.0.0/24"]}));
    let mo = fill(
        &mo_get_url(WEBHOOK_URL, WEBHOOK_SECRET),
        &[("%p", "14155552671"), ("%a", "hi")],
    );
    assert!(
        get(&mo)
            .sent_from("10.1.2.3")
            .handle(provider.as_ref())
            .is_ok()
    );
    assert!(
        get(&mo)
            .sent_from("192.168.0.77")
            .handle(provider.as_ref())
            .is_ok()
    );
    for refused in [get(&mo).sent_from("10.1.2.4"), get(&mo)] {
        assert!(matches!(
            refused.handle(provider.as_ref()),
            Err(WebhookError::SourceRefused(_))
        ));
    }
    let errors = common::try_provider(
        ProviderKind::Kannel,
        MessageProviderType::Sms,
        json!({"sendsmsUrl": "http://127.0.0.1:13013/cgi-bin/sendsms", "username": USERNAME,
               "allowedSources": ["10.0.0.1", "not-an-address"]}),
        json!({"password": PASSWORD, "webhookSecret": WEBHOOK_SECRET,
               "previousWebhookSecret": "no grace period"}),
    )
    .unwrap_err();
    assert_eq!(
        common::failed_fields(&errors),
        [
            "secrets.previousWebhookSecret",
            "settings.allowedSources[1]"
        ]
    );
}
