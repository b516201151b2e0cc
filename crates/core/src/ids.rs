//! Typed identifiers. Each kind of row has its own id type so a contact id can never be
//! passed where a user id is expected. Ids are UUIDv7: still plain UUIDs to clients, but
//! ordered by creation time, which makes them stable cursors for pagination and keeps
//! index inserts append-mostly.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh, time-ordered id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl From<Uuid> for $name {
            fn from(uuid: Uuid) -> Self {
                Self(uuid)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }
    };
}

typed_id!(
    /// The tenant: every row belongs to exactly one workspace.
    WorkspaceId
);
typed_id!(
    /// An advisor or admin of a workspace.
    UserId
);
typed_id!(
    /// A lead's identity within a workspace, keyed by cellphone.
    ContactId
);
typed_id!(
    /// A custom attribute definition.
    CustomAttributeId
);
typed_id!(
    /// One option of a CLOSED custom attribute.
    OptionId
);
typed_id!(
    /// A stored API key (not the secret itself).
    ApiKeyId
);
typed_id!(
    /// A configured way to reach leads: provider type, adapter and credentials.
    ChannelId
);
typed_id!(
    /// A message template with ordered placeholders.
    TemplateId
);
typed_id!(
    /// A conversation between a contact and the workspace on one channel.
    ConversationId
);
typed_id!(
    /// One message or call of a conversation. Also the idempotency key of its send.
    MessageId
);
typed_id!(
    /// A job of the outbox.
    JobId
);
typed_id!(
    /// An outbound campaign (NLPearl's "Outbound").
    CampaignId
);
typed_id!(
    /// A lead of a campaign.
    LeadId
);
typed_id!(
    /// A phone number of the sending pool.
    PhoneNumberId
);
typed_id!(
    /// A team of advisors (and the numbers it sends from).
    TeamId
);
typed_id!(
    /// Where leads come from (a form, a list vendor, an ad campaign).
    SourceId
);
typed_id!(
    /// A flow script of the agent.
    AgentScriptId
);
typed_id!(
    /// One stored decision of the agent on a conversation.
    DecisionId
);
typed_id!(
    /// Something that happened, kept in the event log and sent to webhook endpoints.
    EventId
);
typed_id!(
    /// A URL that receives a workspace's events, signed per Standard Webhooks.
    WebhookEndpointId
);
