//! Holds: a person pauses a number (it keeps its place and resumes later) or records
//! that a carrier blocked it; resume lifts either ([`number_holds`]).

use axum::extract::{Path, State};
use leadline_core::WorkspaceId;
use leadline_core::numbers::Hold;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{PhoneNumberResponse, load};
use crate::auth::Authenticated;
use crate::error::{ApiResult, Problem};
use crate::extract::ApiJson;
use crate::state::AppState;
use crate::usecases::number_holds;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(pause_phone_number))
        .routes(routes!(block_phone_number))
        .routes(routes!(resume_phone_number))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HoldRequest {
    /// Why, in a sentence; shown with the number.
    #[schema(schema_with = leadline_core::schema::text::<500>)]
    reason: String,
}

async fn hold(
    state: &AppState,
    workspace: WorkspaceId,
    id: &str,
    hold: Hold,
) -> ApiResult<axum::Json<PhoneNumberResponse>> {
    let number = load(state, workspace, id).await?;
    let held = number_holds::set_hold(&state.store, &state.numbers, &number, hold).await?;
    Ok(axum::Json(held.into()))
}

/// Take a number out of rotation for now.
#[utoipa::path(post, path = "/api/v1/phone-numbers/{id}/pause", tag = "phone numbers",
    params(("id" = String, Path, description = "The phone number's id")), request_body = HoldRequest,
    responses((status = 200, body = PhoneNumberResponse), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn pause_phone_number(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<HoldRequest>,
) -> ApiResult<axum::Json<PhoneNumberResponse>> {
    let reason = number_holds::reason(&body.reason)?;
    hold(&state, workspace, &id, number_holds::paused(reason)).await
}

/// Record that a carrier blocked a number: out of rotation until resumed.
#[utoipa::path(post, path = "/api/v1/phone-numbers/{id}/block", tag = "phone numbers",
    params(("id" = String, Path, description = "The phone number's id")), request_body = HoldRequest,
    responses((status = 200, body = PhoneNumberResponse), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn block_phone_number(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<HoldRequest>,
) -> ApiResult<axum::Json<PhoneNumberResponse>> {
    let reason = number_holds::reason(&body.reason)?;
    hold(&state, workspace, &id, Hold::Blocked { reason }).await
}

/// Put a paused or blocked number back into rotation.
#[utoipa::path(post, path = "/api/v1/phone-numbers/{id}/resume", tag = "phone numbers",
    params(("id" = String, Path, description = "The phone number's id")),
    responses((status = 200, body = PhoneNumberResponse), (status = 404, body = Problem)))]
async fn resume_phone_number(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<PhoneNumberResponse>> {
    hold(&state, workspace, &id, Hold::None).await
}
