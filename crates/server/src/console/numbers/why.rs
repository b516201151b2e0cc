//! "Why this number": a form taking what Leadping's `/phone-numbers/outgoing/new`
//! takes (a test recipient, the channel, and optionally a campaign, source, team, lead
//! or conversation) and the answer of the same selection, shown as a table of the
//! candidates with why each qualifies and whether it can send. A GET form: it changes
//! nothing and reserves nothing.

use std::collections::BTreeMap;

use leadline_core::numbers::Capability;
use serde::Serialize;

use super::super::{ConsoleError, ConsoleUser};
use crate::state::AppState;
use crate::usecases::outgoing_number::{
    OutgoingNumberRequest, OutgoingNumberResponse, SelectionError, resolve,
};

/// The form's fields with their labels, in the order shown.
const FIELDS: [(&str, &str); 7] = [
    ("recipientPhoneNumber", "Test recipient"),
    ("channel", "Channel"),
    ("campaignId", "Campaign"),
    ("sourceId", "Source"),
    ("teamId", "Team"),
    ("leadId", "Lead or contact id"),
    ("conversationId", "Conversation id"),
];

/// The form, its errors, and the selection when it was asked for.
#[derive(Debug, Default, Serialize)]
pub struct Why {
    asked: bool,
    values: BTreeMap<String, String>,
    /// Field → message.
    errors: BTreeMap<String, String>,
    /// "Label: message", for the summary.
    summary: Vec<String>,
    answer: Option<OutgoingNumberResponse>,
}

impl Why {
    fn refuse(&mut self, field: &str, message: &str) {
        let label = FIELDS
            .iter()
            .find(|(name, _)| *name == field)
            .map_or(field, |(_, label)| *label);
        self.summary.push(format!("{label}: {message}"));
        self.errors.insert(field.to_owned(), message.to_owned());
    }
}

/// What the form's selects offer.
#[derive(Debug, Serialize)]
pub struct Choices {
    campaigns: Vec<(String, String)>,
    sources: Vec<(String, String)>,
    teams: Vec<(String, String)>,
}

pub async fn choices(state: &AppState, user: &ConsoleUser) -> Result<Choices, ConsoleError> {
    let workspace = user.workspace();
    let store = &state.store;
    Ok(Choices {
        campaigns: store
            .list_campaigns(workspace, None, 500)
            .await?
            .into_iter()
            .map(|c| (c.id.to_string(), c.fields.name))
            .collect(),
        sources: store
            .list_sources(workspace, None, 500)
            .await?
            .into_iter()
            .map(|s| (s.id.to_string(), s.name))
            .collect(),
        teams: store
            .list_teams(workspace, None, 500)
            .await?
            .into_iter()
            .map(|t| (t.id.to_string(), t.name))
            .collect(),
    })
}

/// The selection for the form's `query`, when the form was sent (it always carries
/// `recipientPhoneNumber`, empty or not).
pub async fn explain(
    state: &AppState,
    user: &ConsoleUser,
    query: &BTreeMap<String, String>,
) -> Result<Why, ConsoleError> {
    let mut why = Why {
        asked: query.contains_key("recipientPhoneNumber"),
        values: FIELDS
            .iter()
            .map(|(name, _)| {
                let value = query.get(*name).map(|v| v.trim().to_owned());
                ((*name).to_owned(), value.unwrap_or_default())
            })
            .collect(),
        ..Why::default()
    };
    if !why.asked {
        return Ok(why);
    }
    let values = why.values.clone();
    let given = |name: &str| values.get(name).filter(|v| !v.is_empty()).cloned();
    let channel = match given("channel").as_deref() {
        None => None,
        Some(raw) => match Capability::parse(raw) {
            Some(channel) => Some(channel),
            None => {
                why.refuse("channel", &format!("must be {}", Capability::expected()));
                return Ok(why);
            }
        },
    };
    let request = OutgoingNumberRequest {
        conversation_id: given("conversationId"),
        lead_id: given("leadId"),
        recipient_phone_number: given("recipientPhoneNumber"),
        channel,
        campaign_id: given("campaignId"),
        source_id: given("sourceId"),
        team_id: given("teamId"),
    };
    if request.recipient_phone_number.is_none()
        && request.lead_id.is_none()
        && request.conversation_id.is_none()
    {
        why.refuse(
            "recipientPhoneNumber",
            "give a phone number (E.164, e.g. +14155550123), a lead or a conversation",
        );
        return Ok(why);
    }
    match resolve(
        &state.store,
        &state.numbers,
        user.workspace(),
        request,
        None,
    )
    .await
    {
        Ok(resolved) => why.answer = Some(resolved.answer()),
        Err(SelectionError::Invalid(error)) => why.refuse(&error.field, &error.message),
        Err(SelectionError::Unknown { field, what }) => {
            why.refuse(&field, &format!("no {what} with this id in the workspace"))
        }
        Err(SelectionError::Store(error)) => return Err(ConsoleError::Store(error)),
    }
    Ok(why)
}
