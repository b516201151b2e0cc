//! `/api/v1/campaigns`: outbound campaigns (NLPearl's "Outbound"). A campaign names its
//! channel, default time zone and country, calling hours per weekday in each lead's
//! local time, attempt limits and retry interval, and its opening: a template with
//! parameters (SMS, WhatsApp) or a script (voice), both filled from each lead's
//! callData. Campaigns start in DRAFT; `activate` and `pause` switch the scheduler on
//! and off for them at once.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use leadline_core::calling_hours::{CallingHours, CallingWindowInput};
use leadline_core::campaign::{CampaignStatus, Opening, RetryInterval};
use leadline_core::channel::MessageProviderType;
use leadline_core::script::Script;
use leadline_core::validation::text;
use leadline_core::{CampaignId, ChannelId, E164, FieldErrors, WorkspaceId};
use leadline_store::campaigns::{Campaign, CampaignFields};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, path_id, timestamp};
use crate::pagination::{Page, PageParams};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_campaign, list_campaigns))
        .routes(routes!(get_campaign, update_campaign, delete_campaign))
        .routes(routes!(activate_campaign))
        .routes(routes!(pause_campaign))
        .routes(routes!(complete_campaign))
        .routes(routes!(campaign_stats))
}

const MAX_ATTEMPTS: u32 = 10;
const MAX_CONCURRENCY: u32 = 1000;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CampaignRequest {
    #[schema(schema_with = leadline_core::schema::text::<200>)]
    name: String,
    /// A channel of the workspace (404 otherwise).
    #[schema(schema_with = leadline_core::schema::uuid)]
    channel_id: String,
    /// IANA ("America/New_York") or Windows ("Eastern Standard Time") zone name.
    #[schema(schema_with = leadline_core::schema::time_zone)]
    default_time_zone: String,
    /// ISO 3166 region for national phone numbers (default US).
    #[serde(default)]
    #[schema(schema_with = leadline_core::schema::optional_region)]
    default_country: Option<String>,
    /// When leads may be contacted, in their local time; empty: any lawful time. At
    /// most 56 windows, each ending after it starts.
    #[serde(default)]
    #[schema(max_items = 56)]
    calling_hours: Vec<CallingWindowInput>,
    /// 1 to 10 (default 3).
    #[serde(default, deserialize_with = "leadline_core::integral::option_u32")]
    #[schema(minimum = 1, maximum = 10)]
    max_attempts: Option<u32>,
    /// Every3h, Every6h, Daily (default), Every3Days, Weekly or Monthly.
    #[serde(default)]
    retry_interval: Option<RetryInterval>,
    /// The opening template's name (required for SMS and WhatsApp channels).
    #[serde(default)]
    opening_template: Option<String>,
    /// The template's ordered parameters, each with `{{variable}}`s from callData.
    #[serde(default)]
    opening_template_params: Vec<String>,
    /// The opening sentence with `{{variable}}`s (required for voice channels).
    #[serde(default)]
    opening_script: Option<String>,
    /// A voice campaign's calls started at once (leads attempted per scheduler step),
    /// 1 to 1000 (default 10). Messaging campaigns are paced by their numbers' rates
    /// and caps instead.
    #[serde(default, deserialize_with = "leadline_core::integral::option_u32")]
    #[schema(minimum = 1, maximum = 1000)]
    concurrency: Option<u32>,
}

pub use leadline_core::views::CampaignView as CampaignResponse;

/// Checks a campaign request against the rules and the workspace's channels and
/// templates.
async fn check(
    state: &AppState,
    workspace: WorkspaceId,
    body: CampaignRequest,
) -> Result<CampaignFields, ApiError> {
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
    errors.finish(())?;
    let channel_id = channel_id.expect("checked above");
    let channel = state
        .store
        .channel(workspace, channel_id)
        .await?
        .ok_or_else(|| ApiError::NotFound {
            detail: format!("no channel '{channel_id}' in this workspace"),
            field: Some("channelId".to_owned()),
        })?;
    match channel.carries {
        MessageProviderType::Voice if script.is_none() => {
            return Err(ApiError::field(
                "openingScript",
                "a voice campaign needs the sentence its calls open with",
            ));
        }
        MessageProviderType::Sms | MessageProviderType::Whatsapp => {
            let Some(template_name) = body.opening_template.as_deref() else {
                return Err(ApiError::field(
                    "openingTemplate",
                    "an SMS or WhatsApp campaign opens with a template",
                ));
            };
            let versions = state
                .store
                .templates_named(workspace, template_name)
                .await?;
            let Some(template) = versions.first() else {
                return Err(ApiError::field(
                    "openingTemplate",
                    format!("no template named '{template_name}'"),
                ));
            };
            if template.body.placeholders() != body.opening_template_params.len() {
                return Err(ApiError::field(
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

/// Create a campaign (in DRAFT).
#[utoipa::path(post, path = "/api/v1/campaigns", tag = "campaigns", request_body = CampaignRequest,
    responses((status = 201, body = CampaignResponse), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn create_campaign(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    ApiJson(body): ApiJson<CampaignRequest>,
) -> ApiResult<(StatusCode, axum::Json<CampaignResponse>)> {
    let fields = check(&state, workspace, body).await?;
    let campaign = state.store.create_campaign(workspace, fields).await?;
    tracing::info!(campaign = %campaign.id, "campaign created");
    Ok((
        StatusCode::CREATED,
        axum::Json(CampaignResponse::from(campaign)),
    ))
}

/// List the workspace's campaigns, oldest first.
#[utoipa::path(get, path = "/api/v1/campaigns", tag = "campaigns", params(PageParams),
    responses((status = 200, body = Page<CampaignResponse>)))]
async fn list_campaigns(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<axum::Json<Page<CampaignResponse>>> {
    let limit = page.limit()?;
    let after: Option<CampaignId> = page.cursor()?;
    let campaigns = state.store.list_campaigns(workspace, after, limit).await?;
    Ok(axum::Json(Page::new(
        campaigns.into_iter().map(CampaignResponse::from).collect(),
        limit,
        |c| c.id.clone(),
    )))
}

/// Loads a campaign of the workspace named in a path, or answers 404.
pub async fn load_campaign(
    state: &AppState,
    workspace: WorkspaceId,
    id: &str,
) -> Result<Campaign, ApiError> {
    let campaign_id: CampaignId = path_id("id", id, "campaign")?;
    state
        .store
        .campaign(workspace, campaign_id)
        .await?
        .ok_or_else(|| ApiError::NotFound {
            detail: format!("no campaign '{id}' in this workspace"),
            field: Some("id".to_owned()),
        })
}

/// Fetch a campaign.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}", tag = "campaigns",
    params(("id" = String, Path, description = "The campaign's id")),
    responses((status = 200, body = CampaignResponse), (status = 404, body = Problem)))]
async fn get_campaign(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<CampaignResponse>> {
    Ok(axum::Json(CampaignResponse::from(
        load_campaign(&state, workspace, &id).await?,
    )))
}

/// Replace a campaign's settings (its status and leads stay).
#[utoipa::path(put, path = "/api/v1/campaigns/{id}", tag = "campaigns",
    params(("id" = String, Path, description = "The campaign's id")), request_body = CampaignRequest,
    responses((status = 200, body = CampaignResponse), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn update_campaign(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CampaignRequest>,
) -> ApiResult<axum::Json<CampaignResponse>> {
    let campaign = load_campaign(&state, workspace, &id).await?;
    let fields = check(&state, workspace, body).await?;
    let updated = state
        .store
        .update_campaign(workspace, campaign.id, fields)
        .await?
        .ok_or_else(|| ApiError::not_found("the campaign was deleted meanwhile"))?;
    Ok(axum::Json(CampaignResponse::from(updated)))
}

/// Delete a campaign that has no leads yet (a campaign with leads keeps their history:
/// pause it instead).
#[utoipa::path(delete, path = "/api/v1/campaigns/{id}", tag = "campaigns",
    params(("id" = String, Path, description = "The campaign's id")),
    responses((status = 204, description = "Deleted"), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn delete_campaign(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let campaign = load_campaign(&state, workspace, &id).await?;
    if state.store.delete_campaign(workspace, campaign.id).await? {
        tracing::info!(campaign = %campaign.id, "campaign deleted");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::Conflict {
            detail: "the campaign has leads; pause it instead so their history stays".into(),
            field: None,
        })
    }
}

async fn switch(
    state: &AppState,
    workspace: WorkspaceId,
    id: &str,
    to: CampaignStatus,
) -> ApiResult<axum::Json<CampaignResponse>> {
    let campaign = load_campaign(state, workspace, id).await?;
    if campaign.status == CampaignStatus::Completed {
        return Err(ApiError::Conflict {
            detail: "the campaign is COMPLETED".into(),
            field: None,
        });
    }
    let updated = state
        .store
        .set_campaign_status(workspace, campaign.id, to)
        .await?
        .ok_or_else(|| ApiError::not_found("the campaign was deleted meanwhile"))?;
    tracing::info!(campaign = %updated.id, status = %updated.status, "campaign status changed");
    Ok(axum::Json(CampaignResponse::from(updated)))
}

/// Start (or resume) working the campaign's leads.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/activate", tag = "campaigns",
    params(("id" = String, Path, description = "The campaign's id")),
    responses((status = 200, body = CampaignResponse), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn activate_campaign(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<CampaignResponse>> {
    let answer = switch(&state, workspace, &id, CampaignStatus::Active).await?;
    state.wake_scheduler();
    Ok(answer)
}

/// Stop new attempts at once; activate resumes where it stopped.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/pause", tag = "campaigns",
    params(("id" = String, Path, description = "The campaign's id")),
    responses((status = 200, body = CampaignResponse), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn pause_campaign(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<CampaignResponse>> {
    switch(&state, workspace, &id, CampaignStatus::Paused).await
}

/// End the campaign for good: no lead of it is attempted again, and it can no longer
/// be activated. Its leads, conversations and statistics stay.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/complete", tag = "campaigns",
    params(("id" = String, Path, description = "The campaign's id")),
    responses((status = 200, body = CampaignResponse), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn complete_campaign(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<CampaignResponse>> {
    switch(&state, workspace, &id, CampaignStatus::Completed).await
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CampaignStats {
    leads: u64,
    /// Leads by status.
    by_status: BTreeMap<String, u64>,
    attempts: u64,
    /// Outbound messages and calls of the campaign, by status.
    sends_by_status: BTreeMap<String, u64>,
    /// Leads still waiting for an attempt.
    remaining: u64,
    /// Attempts in the last hour: the current pace.
    attempts_last_hour: u64,
    /// The earliest next attempt among unfinished leads.
    next_opening: Option<String>,
    /// When the remaining leads will have had their next attempt at the current pace
    /// (`null` before the first hour of work or when nothing remains).
    estimated_finish: Option<String>,
}

/// Leads by status, attempts made, and the next opening.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/stats", tag = "campaigns",
    params(("id" = String, Path, description = "The campaign's id")),
    responses((status = 200, body = CampaignStats), (status = 404, body = Problem)))]
async fn campaign_stats(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<CampaignStats>> {
    let campaign = load_campaign(&state, workspace, &id).await?;
    let (by_status, attempts) = state.store.lead_counts(campaign.id).await?;
    let next = state.store.next_lead_due(campaign.id).await?;
    let now = state.store.clock().now();
    let activity = state.store.campaign_activity(campaign.id, now).await?;
    let estimated_finish = (activity.remaining > 0 && activity.attempts_last_hour > 0).then(|| {
        let hours = activity.remaining as f64 / activity.attempts_last_hour as f64;
        timestamp(now + chrono::Duration::seconds((hours * 3600.0) as i64))
    });
    Ok(axum::Json(CampaignStats {
        leads: by_status.values().sum(),
        by_status,
        attempts,
        sends_by_status: activity.sends_by_status,
        remaining: activity.remaining,
        attempts_last_hour: activity.attempts_last_hour,
        next_opening: next.map(timestamp),
        estimated_finish,
    }))
}
