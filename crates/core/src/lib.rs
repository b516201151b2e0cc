//! leadline's domain: types that can only be built valid, and the pure decisions made
//! on them. Nothing here does IO or reads a clock; callers pass in what is needed, so
//! every rule can be tested exhaustively without a database or a server.
#![forbid(unsafe_code)]

pub mod api_key;
pub mod clock;
pub mod contact;
pub mod custom_attribute;
pub mod email;
pub mod ids;
pub mod patch;
pub mod phone;
pub mod user;
pub mod validation;

pub use api_key::{ApiKey, ApiKeyHash};
pub use clock::{Clock, ManualClock, SystemClock};
pub use email::Email;
pub use ids::{ApiKeyId, ContactId, CustomAttributeId, OptionId, UserId, WorkspaceId};
pub use patch::Patch;
pub use phone::E164;
pub use validation::{FieldError, FieldErrors};
