//! `/api/v1/campaigns`: outbound campaigns (NLPearl's "Outbound"). A campaign names its
//! channel, default time zone and country, calling hours per weekday in each lead's
//! local time, attempt limits and retry interval, and its opening: a template with
//! parameters (SMS, WhatsApp) or a script (voice), both filled from each lead's
//! callData. Campaigns start in DRAFT; `activate` and `pause` switch the scheduler on
//! and off for them at once.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use leadline_core::campaign::CampaignStatus;
use leadline_core::{CampaignId, WorkspaceId};
use leadline_store::campaigns::{Campaign, CampaignFields};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, path_id};
use crate::pagination::{Page, PageParams};
use crate::state::AppState;
use crate::usecases::campaigns;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_campaign, list_campaigns))
        .routes(routes!(get_campaign, update_campaign, delete_campaign))
        .routes(routes!(activate_campaign))
        .routes(routes!(pause_campaign))
        .routes(routes!(complete_campaign))
        .routes(routes!(campaign_stats))
}

pub use crate::usecases::campaigns::{CampaignRequest, CampaignStats};
pub use leadline_core::views::CampaignView as CampaignResponse;

/// Checks a campaign request against the rules and the workspace's channels and
/// templates.
async fn check(
    state: &AppState,
    workspace: WorkspaceId,
    body: CampaignRequest,
) -> Result<CampaignFields, ApiError> {
    Ok(campaigns::check(&state.store, workspace, body).await?)
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
    let updated = campaigns::switch(&state.store, &campaign, to).await?;
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
    Ok(axum::Json(campaigns::stats(&state.store, &campaign).await?))
}
