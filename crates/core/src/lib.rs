//! leadline's domain: types that can only be built valid, and the pure decisions made
//! on them. Nothing here does IO or reads a clock; callers pass in what is needed, so
//! every rule can be tested exhaustively without a database or a server.
#![forbid(unsafe_code)]

#[macro_use]
mod wire_enum;

pub mod agent;
pub mod api_key;
pub mod calling_hours;
pub mod campaign;
pub mod channel;
pub mod clock;
pub mod contact;
pub mod conversation;
pub mod custom_attribute;
pub mod delivery;
pub mod email;
pub mod event;
pub mod fields;
pub mod gate;
pub mod holidays;
pub mod ids;
pub mod inbox;
pub mod integral;
pub mod job;
pub mod message;
pub mod nanp;
pub mod numbers;
pub mod opt_out;
pub mod patch;
pub mod phone;
pub mod rate_limit;
pub mod retry;
pub mod schema;
pub mod script;
pub mod secret;
pub mod template;
pub mod time_zone;
pub mod user;
pub mod validation;
pub mod views;

pub use api_key::{ApiKey, ApiKeyHash, ApiKeyScope};
pub use calling_hours::{CallingHours, CallingWindowInput, DayWindow};
pub use chrono_tz::Tz;
pub use clock::{Clock, ManualClock, SystemClock};
pub use email::Email;
pub use gate::{GateDecision, GateInput, GateReason, decide};
pub use ids::{
    AgentScriptId, ApiKeyId, CampaignId, ChannelId, ContactId, ConversationId, CustomAttributeId,
    DecisionId, EventId, JobId, LeadId, MessageId, OptionId, PhoneNumberId, SourceId, TeamId,
    TemplateId, UserId, WebhookEndpointId, WorkspaceId,
};
pub use nanp::{AreaCodeInfo, area_code_info};
pub use patch::Patch;
pub use phone::E164;
pub use secret::{Secret, SecretMap};
pub use time_zone::parse_zone;
pub use validation::{FieldError, FieldErrors};
