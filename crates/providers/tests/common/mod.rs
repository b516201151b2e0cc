//! Helpers shared by the adapter tests: building an adapter the way the server does
//! (through `build` with a channel's settings and secrets), a message to send, and an
//! owned webhook call.
#![allow(dead_code)] // each test binary uses a different subset

use std::sync::Arc;

use leadline_core::channel::{MessageProviderType, ProviderKind};
use leadline_core::{E164, MessageId};
use leadline_providers::outbound::{ClientOptions, OutboundClient, OutboundPolicy};
use leadline_providers::{
    ChannelConfig, OutboundContent, OutboundMessage, Provider, ProviderContext, WebhookError,
    WebhookOutcome, WebhookRequest,
};
use serde_json::{Map, Value};

pub const WEBHOOK_URL: &str =
    "https://leadline.example.com/webhooks/providers/0190c6b8-3c2e-7d4a-9f00-1234567890ab";

/// Builds the adapter of `kind` from JSON settings and secrets.
pub fn provider(
    kind: ProviderKind,
    carries: MessageProviderType,
    settings: Value,
    secrets: Value,
) -> Arc<dyn Provider> {
    try_provider(kind, carries, settings, secrets)
        .unwrap_or_else(|errors| panic!("settings refused: {errors:?}"))
}

/// The field errors of a configuration, or the adapter.
pub fn try_provider(
    kind: ProviderKind,
    carries: MessageProviderType,
    settings: Value,
    secrets: Value,
) -> Result<Arc<dyn Provider>, leadline_core::FieldErrors> {
    let settings: Map<String, Value> = serde_json::from_value(settings).unwrap();
    let secrets: Map<String, Value> = serde_json::from_value(secrets).unwrap();
    let secrets = leadline_core::SecretMap::new(secrets);
    let config = ChannelConfig {
        kind,
        carries,
        settings: &settings,
        secrets: &secrets,
    };
    leadline_providers::build(&config, context(WEBHOOK_URL))
}

/// The mock servers listen on 127.0.0.1, which the operator allows here as one allows
/// a self-hosted gateway.
pub fn context(webhook_url: &str) -> ProviderContext {
    ProviderContext {
        http: guarded_client(&["127.0.0.0/8"]),
        webhook_url: webhook_url.to_owned(),
    }
}

/// A guarded client allowing `allow` besides the public internet.
pub fn guarded_client(allow: &[&str]) -> OutboundClient {
    OutboundClient::new(
        OutboundPolicy::parse(allow).unwrap(),
        ClientOptions::default(),
    )
    .unwrap()
}

/// The fields named in a configuration's errors.
pub fn failed_fields(errors: &leadline_core::FieldErrors) -> Vec<String> {
    let mut fields: Vec<String> = errors
        .as_slice()
        .iter()
        .map(|error| error.field.clone())
        .collect();
    fields.sort();
    fields
}

pub const LEAD: &str = "+14155552671";

pub fn message(from: &str, content: OutboundContent) -> OutboundMessage {
    OutboundMessage {
        message_id: MessageId::new(),
        to: E164::parse(LEAD).unwrap(),
        from: from.to_owned(),
        content,
    }
}

pub fn text(body: &str) -> OutboundContent {
    OutboundContent::Text {
        body: body.to_owned(),
    }
}

pub fn template() -> OutboundContent {
    OutboundContent::Template {
        name: "appointment_reminder".into(),
        language: "en".into(),
        params: vec!["Ana".into(), "Tuesday 5 pm".into()],
        rendered: "Hi Ana, see you Tuesday 5 pm.".into(),
    }
}

/// A URL on which nothing listens: the port was free a moment ago.
pub fn closed_port_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

/// A webhook call owned by the test.
pub struct Call {
    pub method: http::Method,
    pub url: String,
    pub headers: http::HeaderMap,
    pub body: Vec<u8>,
    /// The caller's address (none by default, as a test double has no socket).
    pub peer: Option<std::net::IpAddr>,
    /// When the call arrives: now, unless a test moves it.
    pub received_at: chrono::DateTime<chrono::Utc>,
}

impl Call {
    pub fn new(method: http::Method, url: &str, headers: &[(&str, &str)], body: &[u8]) -> Self {
        let mut map = http::HeaderMap::new();
        for (name, value) in headers {
            map.append(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                http::HeaderValue::from_str(value).unwrap(),
            );
        }
        Self {
            method,
            url: url.to_owned(),
            headers: map,
            body: body.to_vec(),
            peer: None,
            received_at: chrono::Utc::now(),
        }
    }

    /// A GET of `url` as an HTTP client such as Kannel's makes it: credentials in the
    /// URL's userinfo leave the URL and travel as an `Authorization: Basic` header.
    pub fn get_with_userinfo(url: &str) -> Self {
        use base64::Engine;
        let mut parsed = url::Url::parse(url).unwrap();
        let mut call = Self::new(http::Method::GET, url, &[], b"");
        if !parsed.username().is_empty() {
            let pair = format!("{}:{}", parsed.username(), parsed.password().unwrap_or(""));
            let value = format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(pair)
            );
            call.headers.insert(
                http::header::AUTHORIZATION,
                http::HeaderValue::from_str(&value).unwrap(),
            );
            parsed.set_username("").unwrap();
            parsed.set_password(None).unwrap();
            call.url = parsed.to_string();
        }
        call
    }

    pub fn sent_from(mut self, peer: &str) -> Self {
        self.peer = Some(peer.parse().unwrap());
        self
    }

    pub fn at(mut self, received_at: chrono::DateTime<chrono::Utc>) -> Self {
        self.received_at = received_at;
        self
    }

    pub fn handle(&self, provider: &dyn Provider) -> Result<WebhookOutcome, WebhookError> {
        provider.handle_webhook(&WebhookRequest {
            method: &self.method,
            url: &self.url,
            headers: &self.headers,
            body: &self.body,
            peer: self.peer,
            received_at: self.received_at,
        })
    }
}

/// An `application/x-www-form-urlencoded` body.
pub fn form(pairs: &[(&str, &str)]) -> Vec<u8> {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
        .into_bytes()
}

/// The decoded pairs of a form body or query, in order.
pub fn pairs(encoded: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(encoded).into_owned().collect()
}

pub fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}
