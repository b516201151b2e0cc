//! A campaign's lead as the API returns it, with NLPearl's status and status code.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

use crate::campaign::{LeadDecision, LeadStatus};

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = LeadResponse)]
pub struct LeadView {
    pub id: String,
    pub campaign_id: String,
    pub contact_id: String,
    pub phone_number: String,
    pub external_id: Option<String>,
    pub time_zone: Option<String>,
    #[schema(value_type = Object)]
    pub call_data: BTreeMap<String, String>,
    pub status: LeadStatus,
    /// NLPearl's numeric status code.
    pub status_code: u16,
    pub attempts: u32,
    pub next_attempt_at: Option<String>,
    pub last_decision: Option<GateDecisionView>,
    pub conversation_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// The gate's last decision on the lead, with its reason.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = GateDecisionResponse)]
pub struct GateDecisionView {
    pub decision: LeadDecision,
    pub reason: Option<String>,
    pub at: Option<String>,
}
