//! `/api/v1/dnc`: the workspace's do-not-contact list. The gate refuses every attempt
//! to a listed number, on every channel.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use leadline_core::E164;
use leadline_store::dnc::DoNotContact;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, timestamp};
use crate::pagination::{Page, PageParams};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(add_number, list_numbers))
        .routes(routes!(remove_number))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DoNotContactRequest {
    #[schema(schema_with = leadline_core::schema::e164)]
    phone_number: String,
    #[serde(default)]
    #[schema(schema_with = leadline_core::schema::optional_text::<500>)]
    reason: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DoNotContactResponse {
    phone_number: String,
    reason: Option<String>,
    created_at: String,
}

impl From<DoNotContact> for DoNotContactResponse {
    fn from(entry: DoNotContact) -> Self {
        Self {
            phone_number: entry.phone_number.as_str().to_owned(),
            reason: entry.reason,
            created_at: timestamp(entry.created_at),
        }
    }
}

/// Put a number on the do-not-contact list.
#[utoipa::path(post, path = "/api/v1/dnc", tag = "dnc", request_body = DoNotContactRequest,
    responses((status = 201, body = DoNotContactResponse), (status = 422, body = Problem)))]
async fn add_number(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    ApiJson(body): ApiJson<DoNotContactRequest>,
) -> ApiResult<(StatusCode, axum::Json<DoNotContactResponse>)> {
    let phone = E164::parse_field("phoneNumber", &body.phone_number)?;
    let reason = match body.reason.as_deref() {
        Some(reason) => Some(leadline_core::validation::text("reason", reason, 500)?),
        None => None,
    };
    let entry = state
        .store
        .add_do_not_contact(workspace, &phone, reason.as_deref())
        .await?;
    tracing::info!(phone = %phone, "number put on the do-not-contact list");
    Ok((StatusCode::CREATED, axum::Json(entry.into())))
}

/// List the do-not-contact numbers, in number order.
#[utoipa::path(get, path = "/api/v1/dnc", tag = "dnc", params(crate::pagination::TextCursorPageParams),
    responses((status = 200, body = Page<DoNotContactResponse>)))]
async fn list_numbers(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<axum::Json<Page<DoNotContactResponse>>> {
    let limit = page.limit()?;
    let entries = state
        .store
        .list_do_not_contact(workspace, page.cursor.as_deref(), limit)
        .await?;
    Ok(axum::Json(Page::new(
        entries
            .into_iter()
            .map(DoNotContactResponse::from)
            .collect(),
        limit,
        |e| e.phone_number.clone(),
    )))
}

/// Take a number off the do-not-contact list.
#[utoipa::path(delete, path = "/api/v1/dnc/{phoneNumber}", tag = "dnc",
    params(("phoneNumber" = String, Path, description = "The E.164 number")),
    responses((status = 204, description = "Removed"), (status = 404, body = Problem)))]
async fn remove_number(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    Path(phone_number): Path<String>,
) -> ApiResult<StatusCode> {
    let phone = E164::parse(&phone_number).map_err(|_| ApiError::NotFound {
        detail: format!("'{phone_number}' is not on the list"),
        field: Some("phoneNumber".to_owned()),
    })?;
    if state.store.remove_do_not_contact(workspace, &phone).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound {
            detail: format!("{phone} is not on the list"),
            field: Some("phoneNumber".to_owned()),
        })
    }
}
