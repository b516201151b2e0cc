//! leadline's domain: types that can only be built valid, and the pure decisions made
//! on them. Nothing here does IO or reads a clock; callers pass in what is needed, so
//! every rule can be tested exhaustively without a database or a server.
#![forbid(unsafe_code)]

#[macro_use]
mod wire_enum;

pub mod api_key;
pub mod channel;
pub mod clock;
pub mod contact;
pub mod conversation;
pub mod custom_attribute;
pub mod email;
pub mod ids;
pub mod message;
pub mod patch;
pub mod phone;
pub mod retry;
pub mod template;
pub mod user;
pub mod validation;

pub use api_key::{ApiKey, ApiKeyHash};
pub use clock::{Clock, ManualClock, SystemClock};
pub use email::Email;
pub use ids::{
    ApiKeyId, ChannelId, ContactId, ConversationId, CustomAttributeId, JobId, MessageId, OptionId,
    TemplateId, UserId, WorkspaceId,
};
pub use patch::Patch;
pub use phone::E164;
pub use validation::{FieldError, FieldErrors};
