//! Campaigns: checking a campaign's settings against the rules and the workspace's
//! channels and templates, switching its status, and reporting its progress. The API
//! (`/api/v1/campaigns`) and the console's campaign pages both call these.

use std::collections::BTreeMap;

use leadline_core::calling_hours::{CallingHours, CallingWindowInput};
use leadline_core::campaign::{CampaignStatus, Opening, RetryInterval};
use leadline_core::channel::MessageProviderType;
use leadline_core::script::Script;
use leadline_core::validation::text;
use leadline_core::{ChannelId, E164, FieldErrors, WorkspaceId};
use leadline_store::campaigns::{Campaign, CampaignFields};
use leadline_store::{Store, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::extract::timestamp;

/// Most attempts per lead.
pub const MAX_ATTEMPTS: u32 = 10;
/// Most calls a voice campaign starts at once.
pub const MAX_CONCURRENCY: u32 = 1000;

/// A campaign's settings as a client gives them.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CampaignRequest {
    #[schema(schema_with = leadline_core::schema::text::<200>)]
    pub name: String,
    /// A channel of the workspace (404 otherwise).
    #[schema(schema_with = leadline_core::schema::uuid)]
    pub channel_id: String,
    /// IANA ("America/New_York") or Windows ("Eastern Standard Time") zone name.
    #[schema(schema_with = leadline_core::schema::time_zone)]
    pub default_time_zone: String,
    /// ISO 3166 region for national phone numbers (default US).
    #[serde(default)]
    #[schema(schema_with = leadline_core::schema::optional_region)]
    pub default_country: Option<String>,
    /// When leads may be contacted, in their local time; empty: any lawful time. At
    /// most 56 windows, each ending after it starts.
    #[serde(default)]
    #[schema(max_items = 56)]
    pub calling_hours: Vec<CallingWindowInput>,
    /// 1 to 10 (default 3).
    #[serde(default, deserialize_with = "leadline_core::integral::option_u32")]
    #[schema(minimum = 1, maximum = 10)]
    pub max_attempts: Option<u32>,
    /// Every3h, Every6h, Daily (default), Every3Days, Weekly or Monthly.
    #[serde(default)]
    pub retry_interval: Option<RetryInterval>,
    /// The opening template's name (required for SMS and WhatsApp channels).
    #[serde(default)]
    pub opening_template: Option<String>,
    /// The template's ordered parameters, each with `{{variable}}`s from callData.
    #[serde(default)]
    pub opening_template_params: Vec<String>,
    /// The opening sentence with `{{variable}}`s (required for voice channels).
    #[serde(default)]
    pub opening_script: Option<String>,
    /// A voice campaign's calls started at once (leads attempted per scheduler step),
    /// 1 to 1000 (default 10). Messaging campaigns are paced by their numbers' rates
    /// and caps instead.
    #[serde(default, deserialize_with = "leadline_core::integral::option_u32")]
    #[schema(minimum = 1, maximum = 1000)]
    pub concurrency: Option<u32>,
}

/// Why a campaign's settings or status cannot be taken.
#[derive(Debug, thiserror::Error)]
pub enum CampaignError {
    /// Fields with invalid values, each named.
    #[error("invalid fields")]
    Invalid(FieldErrors),
    /// `channelId` names no channel of the workspace.
    #[error("no channel '{0}' in this workspace")]
    UnknownChannel(ChannelId),
    /// A completed campaign stays completed.
    #[error("the campaign is COMPLETED")]
    Completed,
    /// The campaign was deleted while the request ran.
    #[error("the campaign was deleted meanwhile")]
    Deleted,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl CampaignError {
    fn field(field: &str, message: impl Into<String>) -> Self {
        let mut errors = FieldErrors::new();
        errors.push(field, message);
        CampaignError::Invalid(errors)
    }
}

/// Checks a campaign's settings against the rules and the workspace's channels and
/// templates.
pub async fn check(
    store: &Store,
    workspace: WorkspaceId,
    body: CampaignRequest,
) -> Result<CampaignFields, CampaignError> {
    let mut errors = FieldErrors::new();
    let name = errors.check(text("name", &body.name, 200));
    let channel_id: Option<ChannelId> = body.channel_id.parse().ok();
    if channel_id.is_none() {
        errors.push("channelId", "must be a channel id (a UUID)");
    }
    let zone = errors.check(leadline_core::time_zone::parse_zone(
        "defaultTimeZone",
        &body.default_time_zone,
    ));
    let country = body
        .default_country
        .unwrap_or_else(|| "US".to_owned())
        .to_ascii_uppercase();
    if !E164::is_known_region(&country) {
        errors.push(
            "defaultCountry",
            "must be an ISO 3166 region code such as US, CA or MX",
        );
    }
    if let Err(window_errors) = CallingHours::parse("callingHours", &body.calling_hours) {
        for error in window_errors.into_vec() {
            errors.push(error.field, error.message);
        }
    }
    let max_attempts = body.max_attempts.unwrap_or(3);
    if !(1..=MAX_ATTEMPTS).contains(&max_attempts) {
        errors.push("maxAttempts", format!("must be 1 to {MAX_ATTEMPTS}"));
    }
    let concurrency = body.concurrency.unwrap_or(10);
    if !(1..=MAX_CONCURRENCY).contains(&concurrency) {
        errors.push("concurrency", format!("must be 1 to {MAX_CONCURRENCY}"));
    }
    let script = body.opening_script.as_deref().and_then(|s| {
        errors
            .check(Script::parse("openingScript", s))
            .map(|_| s.to_owned())
    });
    for (n, param) in body.opening_template_params.iter().enumerate() {
        errors.check(Script::parse(&format!("openingTemplateParams[{n}]"), param));
    }
    if !errors.is_empty() {
        return Err(CampaignError::Invalid(errors));
    }
    let channel_id = channel_id.expect("checked above");
    let channel = store
        .channel(workspace, channel_id)
        .await?
        .ok_or(CampaignError::UnknownChannel(channel_id))?;
    match channel.carries {
        MessageProviderType::Voice if script.is_none() => {
            return Err(CampaignError::field(
                "openingScript",
                "a voice campaign needs the sentence its calls open with",
            ));
        }
        MessageProviderType::Sms | MessageProviderType::Whatsapp => {
            let Some(template_name) = body.opening_template.as_deref() else {
                return Err(CampaignError::field(
                    "openingTemplate",
                    "an SMS or WhatsApp campaign opens with a template",
                ));
            };
            let versions = store.templates_named(workspace, template_name).await?;
            let Some(template) = versions.first() else {
                return Err(CampaignError::field(
                    "openingTemplate",
                    format!("no template named '{template_name}'"),
                ));
            };
            if template.body.placeholders() != body.opening_template_params.len() {
                return Err(CampaignError::field(
                    "openingTemplateParams",
                    format!(
                        "template '{template_name}' has {} placeholder(s); give as many parameters",
                        template.body.placeholders()
                    ),
                ));
            }
        }
        MessageProviderType::Voice => {}
    }
    let opening = Opening {
        script,
        template_params: body.opening_template_params,
    };
    Ok(CampaignFields {
        name: name.expect("checked above"),
        channel_id,
        default_time_zone: zone.expect("checked above").name().to_owned(),
        default_country: country,
        calling_hours: body.calling_hours,
        max_attempts,
        retry_interval: body.retry_interval.unwrap_or(RetryInterval::Daily),
        opening_template: body.opening_template,
        opening,
        concurrency,
    })
}

/// Moves a campaign to `to` (ACTIVE, PAUSED or COMPLETED); a completed campaign stays
/// so. The caller wakes the scheduler after an activation.
pub async fn switch(
    store: &Store,
    campaign: &Campaign,
    to: CampaignStatus,
) -> Result<Campaign, CampaignError> {
    if campaign.status == CampaignStatus::Completed {
        return Err(CampaignError::Completed);
    }
    let updated = store
        .set_campaign_status(campaign.workspace_id, campaign.id, to)
        .await?
        .ok_or(CampaignError::Deleted)?;
    tracing::info!(campaign = %updated.id, status = %updated.status, "campaign status changed");
    Ok(updated)
}

/// A campaign's progress: leads by status, attempts, sends and pace.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CampaignStats {
    pub leads: u64,
    /// Leads by status.
    pub by_status: BTreeMap<String, u64>,
    pub attempts: u64,
    /// Outbound messages and calls of the campaign, by status.
    pub sends_by_status: BTreeMap<String, u64>,
    /// Leads still waiting for an attempt.
    pub remaining: u64,
    /// Attempts in the last hour: the current pace.
    pub attempts_last_hour: u64,
    /// The earliest next attempt among unfinished leads.
    pub next_opening: Option<String>,
    /// When the remaining leads will have had their next attempt at the current pace
    /// (`null` before the first hour of work or when nothing remains).
    pub estimated_finish: Option<String>,
}

/// The campaign's progress now.
pub async fn stats(store: &Store, campaign: &Campaign) -> Result<CampaignStats, StoreError> {
    let (by_status, attempts) = store.lead_counts(campaign.id).await?;
    let next = store.next_lead_due(campaign.id).await?;
    let now = store.clock().now();
    let activity = store.campaign_activity(campaign.id, now).await?;
    let estimated_finish = (activity.remaining > 0 && activity.attempts_last_hour > 0).then(|| {
        let hours = activity.remaining as f64 / activity.attempts_last_hour as f64;
        timestamp(now + chrono::Duration::seconds((hours * 3600.0) as i64))
    });
    Ok(CampaignStats {
        leads: by_status.values().sum(),
        by_status,
        attempts,
        sends_by_status: activity.sends_by_status,
        remaining: activity.remaining,
        attempts_last_hour: activity.attempts_last_hour,
        next_opening: next.map(timestamp),
        estimated_finish,
    })
}
