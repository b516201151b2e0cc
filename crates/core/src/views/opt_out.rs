//! A contact's opt-out on one channel type, as the API returns it.

use serde::Serialize;
use utoipa::ToSchema;

use crate::channel::MessageProviderType;

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = OptOutResponse)]
pub struct OptOutView {
    pub contact_id: String,
    pub message_provider_type: MessageProviderType,
    /// `api` or `message`.
    pub source: String,
    pub evidence: Option<String>,
    pub message_id: Option<String>,
    pub opted_out_at: String,
}
