//! A pool number as the API returns it, with its hold (paused or blocked) spelled out.

use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = PhoneNumberResponse)]
pub struct PhoneNumberView {
    pub id: String,
    pub workspace_id: String,
    pub number: String,
    pub display_number: String,
    pub capabilities: NumberCapabilitiesView,
    pub channel_id: Option<String>,
    pub label: Option<String>,
    pub team_id: Option<String>,
    pub campaign_ids: Vec<String>,
    pub source_ids: Vec<String>,
    pub preferred: bool,
    pub is_default: bool,
    /// Paused by a person or by the health check: out of rotation until resumed.
    pub paused: bool,
    /// Blocked (a carrier block): out of rotation until resumed.
    pub blocked: bool,
    pub hold_reason: Option<String>,
    /// The pause was the health check's, not a person's.
    pub hold_automatic: bool,
    pub held_at: Option<String>,
    pub warmup_started_on: Option<String>,
    pub last_used_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// What a number can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct NumberCapabilitiesView {
    /// Sends SMS.
    pub sms: bool,
    /// Places calls.
    pub call: bool,
}
