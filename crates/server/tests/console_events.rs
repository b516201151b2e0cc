//! The console's live stream on both stores: `/console/events` delivers a lead's new
//! message in a conversation the person may see, promptly, and nothing about one they
//! may not; it needs a session, and names a wrong event type.

mod common;

use std::time::{Duration, Instant};

use common::console::ConsoleSession;
use common::dispatch_steps::stepped;
use leadline_core::user::Role;
use reqwest::header::COOKIE;
use serde_json::Value;

/// An open `/console/events` stream, read event by event.
struct Stream {
    response: reqwest::Response,
    buffer: String,
}

impl Stream {
    async fn open(session: &ConsoleSession, types: &str) -> Self {
        let response = session
            .client
            .get(format!("{}/console/events?types={types}", session.base))
            .header(COOKIE, &session.cookie)
            .send()
            .await
            .expect("the stream opens");
        assert_eq!(response.status(), 200);
        let kind = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(kind.starts_with("text/event-stream"), "{kind}");
        Self {
            response,
            buffer: String::new(),
        }
    }

    /// The next event `(type, payload)`, or `None` if none comes within `limit`.
    async fn next(&mut self, limit: Duration) -> Option<(String, Value)> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut kind = None;
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(value) = line.strip_prefix("event:") {
                        kind = Some(value.trim().to_owned());
                    } else if let Some(value) = line.strip_prefix("data:") {
                        data.push_str(value.trim_start());
                    }
                }
                match kind {
                    Some(kind) => {
                        return Some((kind, serde_json::from_str(&data).expect("JSON data")));
                    }
                    None => continue, // a keep-alive comment
                }
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk())
                .await
                .ok()?;
            let chunk = chunk
                .expect("the stream reads")
                .expect("the stream stays open");
            self.buffer
                .push_str(std::str::from_utf8(&chunk).expect("UTF-8"));
        }
    }
}

both_stores!(
    a_visible_conversations_new_message_arrives_and_an_invisible_ones_does_not,
    stepped(),
    |app| {
        let channel = app.sandbox_channel().await;
        let advisor = app.console_user(Role::Advisor).await;
        let admin = app.console_user(Role::Admin).await;
        let team = app.team_of("North", &[&advisor.user_id]).await;
        let other_team = app.team_of("South", &[]).await;
        let visible = app.lead_writes(&channel, "+14155550111", "hello").await;
        let invisible = app.lead_writes(&channel, "+14155550112", "hello").await;
        app.hand_off(&visible, None, Some(team)).await;
        app.hand_off(&invisible, None, Some(other_team)).await;

        let mut advisors = Stream::open(&advisor, "message.received,conversation.handed_off").await;
        let mut admins = Stream::open(&admin, "message.received").await;
        // The invisible conversation's message is written first: were it not filtered out,
        // it would reach the advisor before the visible one's.
        app.lead_writes(&channel, "+14155550112", "not for you")
            .await;
        let written = Instant::now();
        app.lead_writes(&channel, "+14155550111", "for you").await;
        // The stream starts a moment before it was opened, so the conversations' first
        // messages may come first; never anything of the invisible one.
        let (kind, event) = loop {
            let (kind, event) = advisors
                .next(Duration::from_secs(10))
                .await
                .expect("an event arrives");
            assert_ne!(
                event["data"]["conversationId"],
                invisible.as_str(),
                "{event}"
            );
            if event["data"]["body"] == "for you" {
                break (kind, event);
            }
        };
        let took = written.elapsed();
        assert_eq!(kind, "message.received");
        assert_eq!(event["data"]["conversationId"], visible.as_str(), "{event}");
        // Well under the settle window of the API's stream on an idle machine; generous
        // here for a busy one.
        assert!(took < Duration::from_secs(5), "took {took:?}");

        // The admin sees both.
        let mut seen = Vec::new();
        while seen.len() < 2 {
            let (_, event) = admins
                .next(Duration::from_secs(10))
                .await
                .expect("an event arrives");
            if event["data"]["body"] != "hello" {
                seen.push(event["data"]["conversationId"].as_str().unwrap().to_owned());
            }
        }
        seen.sort();
        let mut both = vec![visible.clone(), invisible.clone()];
        both.sort();
        assert_eq!(seen, both);

        // A hand-off of a conversation in the advisor's queue reaches them too.
        let third = app.lead_writes(&channel, "+14155550113", "hi").await;
        app.give_to_ai(&third).await;
        app.hand_off(&third, None, Some(team)).await;
        loop {
            let (kind, event) = advisors
                .next(Duration::from_secs(10))
                .await
                .expect("the hand-off arrives");
            assert_ne!(event["data"]["conversationId"], invisible.as_str());
            if kind == "conversation.handed_off" {
                assert_eq!(event["data"]["id"], third.as_str());
                break;
            }
        }
    }
);

both_stores!(
    the_stream_needs_a_session_and_known_types,
    stepped(),
    |app| {
        let advisor = app.console_user(Role::Advisor).await;
        let anonymous = common::console::client()
            .get(format!("{}/console/events", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(anonymous.status(), 303, "sent to the login page");
        let wrong = advisor.get("/console/events?types=message.recieved").await;
        assert_eq!(wrong.status, 400);
        assert!(wrong.body.contains("types"), "{}", wrong.body);
    }
);
