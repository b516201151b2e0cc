//! Resources as the API returns them: the response bodies of the HTTP handlers and the
//! `data` of the events about them, one type for both so they never drift apart. The
//! store builds them from its rows; handlers serialize them.

pub mod campaign;
pub mod contact;
pub mod conversation;
pub mod decision;
pub mod lead;
pub mod message;
pub mod opt_out;
pub mod phone_number;
pub mod webhook_endpoint;

pub use campaign::CampaignView;
pub use contact::{ContactView, CustomAttributeValue};
pub use conversation::{AgentMemoryView, ConversationView, ParticipantView, ParticipantsView};
pub use decision::{DecisionEventData, DecisionView};
pub use lead::{GateDecisionView, LeadView};
pub use message::{CallView, MessageTemplateView, MessageView};
pub use opt_out::OptOutView;
pub use phone_number::{NumberCapabilitiesView, PhoneNumberView};
pub use webhook_endpoint::WebhookEndpointView;

use chrono::{DateTime, SecondsFormat, Utc};

/// A time as the API writes it: RFC 3339 in UTC with milliseconds.
pub fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}
