//! An outbound campaign as the API returns it.

use serde::Serialize;
use utoipa::ToSchema;

use crate::calling_hours::CallingWindowInput;
use crate::campaign::{CampaignStatus, RetryInterval};

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = CampaignResponse)]
pub struct CampaignView {
    pub id: String,
    pub workspace_id: String,
    pub name: String,
    pub channel_id: String,
    pub default_time_zone: String,
    pub default_country: String,
    pub calling_hours: Vec<CallingWindowInput>,
    pub max_attempts: u32,
    pub retry_interval: RetryInterval,
    pub opening_template: Option<String>,
    pub opening_template_params: Vec<String>,
    pub opening_script: Option<String>,
    /// The callData variables every lead must carry.
    pub required_variables: Vec<String>,
    pub concurrency: u32,
    pub status: CampaignStatus,
    pub created_at: String,
    pub updated_at: String,
}
