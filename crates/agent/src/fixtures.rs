//! Loaded conversations for the pass rules' tests: an active, AI-controlled SMS
//! conversation with a lead in San Francisco on a Monday morning there, the opening
//! sent, and whatever the lead wrote since.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use leadline_core::agent::settings::AgentSettings;
use leadline_core::channel::MessageProviderType;
use leadline_core::contact::ContactFields;
use leadline_core::conversation::{Controller, ConversationStatus};
use leadline_core::custom_attribute::{AttributeDefinition, AttributeKind};
use leadline_core::message::Direction;
use leadline_core::{ConversationId, E164, MessageId};

use crate::loaded::{ConversationState, LoadedConversation, LoadedMessage};

/// Monday 2026-11-23, 18:00 UTC: 10:00 in San Francisco, outside quiet hours.
pub fn monday_daytime() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 18, 0, 0).unwrap()
}

/// `count` message ids in ascending order (the store orders messages by id).
pub fn ascending_ids(count: usize) -> Vec<MessageId> {
    let mut ids: Vec<MessageId> = (0..count).map(|_| MessageId::new()).collect();
    ids.sort();
    ids
}

/// The conversation after the opening, with the lead's `inbound` messages, one a
/// minute up to a minute before [`monday_daytime`], none of them read yet.
pub fn conversation(inbound: &[&str]) -> LoadedConversation {
    let now = monday_daytime();
    let ids = ascending_ids(inbound.len() + 1);
    let opened = now - TimeDelta::hours(1);
    let mut messages = vec![LoadedMessage {
        id: ids[0],
        direction: Direction::Outbound,
        by_advisor: false,
        body: Some("Hi Ana, this is Leo.".into()),
        created_at: opened,
    }];
    let count = inbound.len() as i64;
    for (index, text) in inbound.iter().enumerate() {
        messages.push(LoadedMessage {
            id: ids[index + 1],
            direction: Direction::Inbound,
            by_advisor: false,
            body: Some((*text).to_owned()),
            created_at: now - TimeDelta::minutes(count - index as i64),
        });
    }
    let last_inbound_at = messages
        .iter()
        .rev()
        .find(|m| m.direction == Direction::Inbound)
        .map(|m| m.created_at);
    LoadedConversation {
        conversation: ConversationState {
            id: ConversationId::new(),
            status: ConversationStatus::Active,
            controller: Controller::Ai,
            agent_context: None,
            additional_messages: Vec::new(),
            additional_sent: false,
            flow_state: None,
            turns: 0,
            replied_at: None,
            handled_through: None,
            read_through: None,
            last_inbound_at,
        },
        messages,
        cellphone: E164::parse("+14155550100").expect("a valid number"),
        contact: ContactFields {
            first_name: Some("Ana".into()),
            ..ContactFields::default()
        },
        channel_type: MessageProviderType::Sms,
        settings: AgentSettings {
            min_reply_delay_seconds: 0,
            ..AgentSettings::default()
        },
        opt_out: None,
        definitions: vec![
            AttributeDefinition::create(
                "timeline",
                "Timeline",
                AttributeKind::Closed,
                &["Now".into(), "Later".into()],
                false,
            )
            .expect("a valid definition"),
            AttributeDefinition::create("budget", "Budget", AttributeKind::Open, &[], false)
                .expect("a valid definition"),
        ],
        reopen_templates: Vec::new(),
    }
}
