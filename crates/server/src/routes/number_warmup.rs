//! A number's warm-up and health: where it is on the ramp, what it may still send
//! today, and the recent outcomes its health is judged from. Served at
//! `/api/v1/phone-numbers/{id}/warmup` and at Leadping's `/phone-numbers/{id}/warmup`.

use axum::extract::{Path, State};
use leadline_core::PhoneNumberId;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult, Problem};
use crate::state::AppState;
pub use crate::usecases::number_status::WarmupResponse;
use crate::usecases::number_status::number_status;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(warmup_status))
        .routes(routes!(leadping_warmup_status))
}

/// A number's warm-up stage, today's cap and usage, and its health.
#[utoipa::path(get, path = "/api/v1/phone-numbers/{id}/warmup", tag = "phone numbers",
    params(("id" = String, Path, description = "The phone number's id")),
    responses((status = 200, body = WarmupResponse), (status = 404, body = Problem)))]
async fn warmup_status(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<WarmupResponse>> {
    status(&state, workspace, &id).await.map(axum::Json)
}

/// The same, at Leadping's path.
#[utoipa::path(get, path = "/phone-numbers/{phoneNumberId}/warmup", tag = "phone numbers",
    params(("phoneNumberId" = String, Path, description = "The phone number's id")),
    responses((status = 200, body = WarmupResponse), (status = 404, body = Problem)))]
async fn leadping_warmup_status(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<WarmupResponse>> {
    status(&state, workspace, &id).await.map(axum::Json)
}

async fn status(
    state: &AppState,
    workspace: leadline_core::WorkspaceId,
    id: &str,
) -> ApiResult<WarmupResponse> {
    let not_found = || ApiError::NotFound {
        detail: format!("no phone number '{id}' in the workspace"),
        field: Some("id".to_owned()),
    };
    let id: PhoneNumberId = id.trim().parse().map_err(|_| not_found())?;
    let store = &state.store;
    let number = store
        .phone_number(workspace, id)
        .await?
        .ok_or_else(not_found)?;
    let settings = store.number_pool_settings(workspace).await?;
    Ok(number_status(store, &number, &settings).await?)
}
