//! Leads: the NLPearl seed endpoint `PUT /v1/Outbound/{outboundId}/Lead` that adds (or,
//! by `externalId`, updates) a lead of a campaign, and the reads under `/api/v1`
//! showing each lead's status, attempts, next attempt and the gate's last decision.

use axum::extract::{Path, State};
use leadline_core::campaign::LeadStatus;
use leadline_core::{CampaignId, LeadId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, BULK_BODY_LIMIT, path_id};
use crate::lead_intake::{AddLeadRequest, check_lead};
use crate::pagination::{Page, PageParams};
use crate::routes::campaigns::load_campaign;
use crate::state::AppState;

mod schema;

pub fn router() -> OpenApiRouter<AppState> {
    let bulk = OpenApiRouter::new()
        .routes(routes!(add_leads_bulk))
        .layer(axum::extract::DefaultBodyLimit::max(BULK_BODY_LIMIT));
    OpenApiRouter::new()
        .routes(routes!(add_lead))
        .routes(routes!(list_campaign_leads))
        .routes(routes!(get_lead))
        .merge(bulk)
}

/// Most leads in one bulk request (NLPearl's own limit).
pub const MAX_BULK_LEADS: usize = 50_000;

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AddLeadResponse {
    lead_id: String,
}

/// Add a lead to an outbound campaign (NLPearl's Add Lead).
#[utoipa::path(put, path = "/v1/Outbound/{outboundId}/Lead", tag = "nlpearl",
    params(("outboundId" = String, Path, description = "The campaign's id")), request_body = AddLeadRequest,
    responses((status = 200, body = AddLeadResponse), (status = 401, body = Problem), (status = 404, body = Problem),
              (status = 422, body = Problem)))]
async fn add_lead(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    Path(outbound_id): Path<String>,
    ApiJson(body): ApiJson<AddLeadRequest>,
) -> ApiResult<axum::Json<AddLeadResponse>> {
    let campaign_id: CampaignId = path_id("outboundId", &outbound_id, "outbound")?;
    let campaign = state
        .store
        .campaign(workspace, campaign_id)
        .await?
        .ok_or_else(|| ApiError::NotFound {
            detail: format!("no outbound '{outbound_id}' in this workspace"),
            field: Some("outboundId".to_owned()),
        })?;
    let new = check_lead(&campaign, body, "")?;
    let (lead, created) = state.store.add_lead(&campaign, new).await?;
    tracing::info!(campaign = %campaign.id, lead = %lead.id, created, "lead added");
    state.wake_scheduler();
    Ok(axum::Json(AddLeadResponse {
        lead_id: lead.id.to_string(),
    }))
}

pub use leadline_core::views::LeadView as LeadResponse;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LeadQuery {
    /// Only leads in this status (New, NeedRetry, Success, …).
    #[param(value_type = Option<LeadStatus>)]
    status: Option<String>,
    /// Page size, 1 to 500 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 500)]
    limit: Option<String>,
    /// `nextCursor` of the previous page.
    #[param(
        pattern = r"^(?:|[0-9A-Fa-f]{32}|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}|\{[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}|urn:uuid:[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})$"
    )]
    cursor: Option<String>,
}

/// List a campaign's leads, oldest first.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/leads", tag = "campaigns",
    params(("id" = String, Path, description = "The campaign's id"), LeadQuery),
    responses((status = 200, body = Page<LeadResponse>), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn list_campaign_leads(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<LeadQuery>,
) -> ApiResult<axum::Json<Page<LeadResponse>>> {
    let campaign = load_campaign(&state, workspace, &id).await?;
    let status = match query.status.as_deref() {
        Some(raw) => Some(LeadStatus::parse(raw).ok_or_else(|| {
            ApiError::field("status", format!("must be {}", LeadStatus::expected()))
        })?),
        None => None,
    };
    let page = PageParams {
        limit: query.limit,
        cursor: query.cursor,
    };
    let limit = page.limit()?;
    let after: Option<LeadId> = page.cursor()?;
    let leads = state
        .store
        .list_leads(workspace, campaign.id, status, after, limit)
        .await?;
    Ok(axum::Json(Page::new(
        leads.into_iter().map(LeadResponse::from).collect(),
        limit,
        |l| l.id.clone(),
    )))
}

/// Fetch a lead with its status, attempts and the gate's last decision.
#[utoipa::path(get, path = "/api/v1/leads/{id}", tag = "campaigns",
    params(("id" = String, Path, description = "The lead's id")),
    responses((status = 200, body = LeadResponse), (status = 404, body = Problem)))]
async fn get_lead(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<LeadResponse>> {
    let lead_id: LeadId = path_id("id", &id, "lead")?;
    let lead = state
        .store
        .lead(workspace, lead_id)
        .await?
        .ok_or_else(|| ApiError::NotFound {
            detail: format!("no lead '{id}' in this workspace"),
            field: Some("id".to_owned()),
        })?;
    Ok(axum::Json(lead.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct BulkLeadsRequest {
    /// Up to 50,000 leads, each as the add-lead endpoint takes it. Each is checked on
    /// its own: one whose values are invalid (a number, a zone, a missing variable) is
    /// listed in the answer's `rejected` and never stops the rest, so the items here
    /// state only their shape.
    #[schema(schema_with = schema::bulk_items)]
    leads: Vec<AddLeadRequest>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RejectedLead {
    /// Position of the lead in the request, from 0.
    index: usize,
    errors: Vec<crate::error::ProblemField>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BulkLeadsResponse {
    accepted: usize,
    rejected: Vec<RejectedLead>,
}

/// Add up to 50,000 leads at once. A bad lead never stops the rest: it is listed with
/// its index and every invalid field.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/leads:bulk", tag = "campaigns",
    params(("id" = String, Path, description = "The campaign's id")), request_body = BulkLeadsRequest,
    responses((status = 200, body = BulkLeadsResponse), (status = 404, body = Problem), (status = 413, body = Problem),
              (status = 422, body = Problem)))]
async fn add_leads_bulk(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<BulkLeadsRequest>,
) -> ApiResult<axum::Json<BulkLeadsResponse>> {
    let campaign = load_campaign(&state, workspace, &id).await?;
    if body.leads.len() > MAX_BULK_LEADS {
        return Err(ApiError::field(
            "leads",
            format!("at most {MAX_BULK_LEADS} leads per request; split the list"),
        ));
    }
    let mut accepted = Vec::with_capacity(body.leads.len());
    let mut rejected = Vec::new();
    for (index, request) in body.leads.into_iter().enumerate() {
        match check_lead(&campaign, request, "") {
            Ok(lead) => accepted.push(lead),
            Err(errors) => rejected.push(RejectedLead {
                index,
                errors: errors
                    .into_vec()
                    .into_iter()
                    .map(|e| crate::error::ProblemField {
                        field: e.field,
                        message: e.message,
                    })
                    .collect(),
            }),
        }
    }
    for chunk in accepted.chunks(5_000) {
        state.store.add_leads(&campaign, chunk).await?;
    }
    tracing::info!(campaign = %campaign.id, accepted = accepted.len(), rejected = rejected.len(), "bulk leads added");
    state.wake_scheduler();
    Ok(axum::Json(BulkLeadsResponse {
        accepted: accepted.len(),
        rejected,
    }))
}
