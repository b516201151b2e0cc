//! Webhook endpoints and events for the suites of their API: creating an endpoint,
//! making the store write an event (an endpoint answering 410 Gone is disabled, with a
//! `webhook_endpoint.disabled` event), and reading a Server-Sent Events stream.

use std::time::Duration;

use leadline_core::EventId;
use leadline_store::webhook_endpoints::{AttemptStatus, NewWebhookAttempt};
use reqwest::Response;
use serde_json::{Value, json};

use super::TestApp;
use super::waits::within;

/// A URL the test servers' outbound guard allows (`loopback_gateways`) without a DNS
/// lookup; nothing listens there, and nothing is delivered in these suites.
pub const ENDPOINT_URL: &str = "http://127.0.0.1:9/leadline";

impl TestApp {
    /// Creates an endpoint from `body` and returns the answer; panics unless it is 201.
    pub async fn create_endpoint(&self, body: Value) -> Value {
        let (status, endpoint) = self.post("/api/v1/webhook-endpoints", body.clone()).await;
        assert_eq!(status, 201, "creating endpoint {body}: {endpoint}");
        endpoint
    }

    /// Creates an endpoint receiving every event; returns its id.
    pub async fn endpoint(&self, description: &str) -> String {
        let endpoint = self
            .create_endpoint(json!({"url": ENDPOINT_URL, "description": description}))
            .await;
        endpoint["id"].as_str().unwrap().to_owned()
    }

    /// Records an attempt to `endpoint` that got 410 Gone, which disables it and writes
    /// a `webhook_endpoint.disabled` event about it.
    pub async fn endpoint_gone(&self, endpoint: &str) {
        let disabled = self
            .store
            .record_webhook_attempts(&[gone_attempt(self, endpoint)])
            .await
            .expect("the attempt is recorded");
        assert_eq!(disabled.len(), 1, "{endpoint} is disabled");
    }

    /// Records a delivery attempt to `endpoint`.
    pub async fn endpoint_attempt(&self, endpoint: &str, status: AttemptStatus) {
        self.store
            .record_webhook_attempts(&[attempt(self, endpoint, status, false)])
            .await
            .expect("the attempt is recorded");
    }

    /// The workspace's events of `query` (a query string), as the list returns them.
    pub async fn events(&self, query: &str) -> Vec<Value> {
        let (status, page) = self.get(&format!("/api/v1/events?{query}")).await;
        assert_eq!(status, 200, "{page}");
        page["data"].as_array().unwrap().clone()
    }
}

/// An attempt to `endpoint` that got 410 Gone, to record through any store.
pub fn gone_attempt(app: &TestApp, endpoint: &str) -> NewWebhookAttempt {
    attempt(app, endpoint, AttemptStatus::Failed, true)
}

fn attempt(app: &TestApp, endpoint: &str, status: AttemptStatus, gone: bool) -> NewWebhookAttempt {
    NewWebhookAttempt {
        workspace_id: app.workspace_id.parse().unwrap(),
        endpoint_id: endpoint.parse().unwrap(),
        event_id: EventId::new(),
        status,
        response_code: Some(if gone { 410 } else { 200 }),
        duration: Duration::from_millis(12),
        response_excerpt: Some(if gone { "gone" } else { "ok" }.to_owned()),
        gone,
    }
}

/// One event of a Server-Sent Events stream.
#[derive(Debug, Clone, PartialEq)]
pub struct SseEvent {
    pub id: String,
    pub event: String,
    pub data: Value,
}

/// Reads a Server-Sent Events answer as it arrives.
pub struct SseReader {
    response: Response,
    buffer: String,
    /// Comment lines seen (keep-alives).
    pub comments: usize,
}

impl SseReader {
    pub fn new(response: Response) -> Self {
        assert_eq!(response.status(), 200);
        let content_type = response.headers()["content-type"].to_str().unwrap();
        assert!(
            content_type.starts_with("text/event-stream"),
            "{content_type}"
        );
        Self {
            response,
            buffer: String::new(),
            comments: 0,
        }
    }

    /// The next event, within `limit`; panics naming `what` when none came.
    pub async fn next_within(&mut self, limit: Duration, what: &str) -> SseEvent {
        within(limit, what, self.next()).await
    }

    async fn next(&mut self) -> SseEvent {
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                if let Some(event) = self.parse(&block) {
                    return event;
                }
            }
            let chunk = self
                .response
                .chunk()
                .await
                .expect("the stream reads")
                .expect("the stream does not end");
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// Whether the stream ends (rather than failing) once what was sent is read.
    pub async fn ended(&mut self) -> bool {
        loop {
            match self.response.chunk().await {
                Ok(Some(chunk)) => self.buffer.push_str(&String::from_utf8_lossy(&chunk)),
                Ok(None) => return true,
                Err(_) => return false,
            }
        }
    }

    fn parse(&mut self, block: &str) -> Option<SseEvent> {
        let (mut id, mut event, mut data) = (None, None, String::new());
        for line in block.lines() {
            if line.starts_with(':') {
                self.comments += 1;
            } else if let Some(value) = line.strip_prefix("id:") {
                id = Some(value.trim_start().to_owned());
            } else if let Some(value) = line.strip_prefix("event:") {
                event = Some(value.trim_start().to_owned());
            } else if let Some(value) = line.strip_prefix("data:") {
                data.push_str(value.trim_start());
            }
        }
        Some(SseEvent {
            id: id?,
            event: event?,
            data: serde_json::from_str(&data).expect("data is JSON"),
        })
    }
}
