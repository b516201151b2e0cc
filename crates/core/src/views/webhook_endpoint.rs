//! A webhook endpoint as the API returns it (never its secret).

use serde::Serialize;
use utoipa::ToSchema;

use crate::event::EventType;

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookEndpointView {
    pub id: String,
    pub workspace_id: String,
    pub url: String,
    pub description: String,
    /// The event types it receives; `null` for every type.
    pub event_types: Option<Vec<EventType>>,
    pub enabled: bool,
    /// Deliveries per second at most; `null` for no limit.
    pub rate_limit: Option<u32>,
    /// Why leadline disabled it: it answered 410 Gone, or failed every delivery for
    /// 5 days. Enabling it again clears this.
    pub disabled_reason: Option<String>,
    /// When its current run of failed deliveries began.
    pub failing_since: Option<String>,
    /// Until when the secret before the last rotation still signs beside the new one.
    pub previous_secret_expires_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}
