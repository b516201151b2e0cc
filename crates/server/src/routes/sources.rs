//! `/api/v1/sources`: where leads come from (a web form, a list vendor, an ad
//! campaign). Phone numbers can be reserved for sources. Names are unique per
//! workspace; deleting a source lifts the numbers' reservations for it.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use leadline_core::{FieldErrors, Patch, SourceId, WorkspaceId};
use leadline_store::sources::{Source, SourceFields};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::phone_numbers::references::{
    checked_description, checked_name, duplicate_name, patch_description, patch_name,
};
use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, path_id, timestamp};
use crate::pagination::{Page, PageParams};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_source, list_sources))
        .routes(routes!(get_source, update_source, delete_source))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateSourceRequest {
    /// Unique in the workspace; 1 to 100 characters.
    #[schema(schema_with = leadline_core::schema::text::<100>)]
    name: String,
    #[serde(default)]
    #[schema(schema_with = leadline_core::schema::optional_text::<1000>)]
    description: Option<String>,
}

/// Absent fields stay as they are; `null` clears the description.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateSourceRequest {
    /// A new name (not `null`).
    #[serde(default)]
    #[schema(schema_with = leadline_core::schema::text::<100>)]
    name: Patch<String>,
    #[serde(default)]
    #[schema(schema_with = leadline_core::schema::optional_text::<1000>)]
    description: Patch<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SourceResponse {
    id: String,
    workspace_id: String,
    name: String,
    description: Option<String>,
    created_at: String,
    updated_at: String,
}

impl From<Source> for SourceResponse {
    fn from(source: Source) -> Self {
        Self {
            id: source.id.to_string(),
            workspace_id: source.workspace_id.to_string(),
            name: source.name,
            description: source.description,
            created_at: timestamp(source.created_at),
            updated_at: timestamp(source.updated_at),
        }
    }
}

/// Create a lead source.
#[utoipa::path(post, path = "/api/v1/sources", tag = "sources", request_body = CreateSourceRequest,
    responses((status = 201, body = SourceResponse), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_source(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    ApiJson(body): ApiJson<CreateSourceRequest>,
) -> ApiResult<(StatusCode, axum::Json<SourceResponse>)> {
    let mut errors = FieldErrors::new();
    let name = checked_name(&mut errors, &body.name);
    let description = checked_description(&mut errors, body.description);
    errors.finish(())?;
    let fields = SourceFields {
        name: name.expect("checked above"),
        description,
    };
    let source = state
        .store
        .create_source(workspace, fields)
        .await
        .map_err(duplicate_name("source"))?;
    tracing::info!(source = %source.id, "source created");
    Ok((StatusCode::CREATED, axum::Json(source.into())))
}

/// List the workspace's sources, oldest first.
#[utoipa::path(get, path = "/api/v1/sources", tag = "sources", params(PageParams),
    responses((status = 200, body = Page<SourceResponse>)))]
async fn list_sources(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<axum::Json<Page<SourceResponse>>> {
    let limit = page.limit()?;
    let after: Option<SourceId> = page.cursor()?;
    let sources = state.store.list_sources(workspace, after, limit).await?;
    Ok(axum::Json(Page::new(
        sources.into_iter().map(SourceResponse::from).collect(),
        limit,
        |s| s.id.clone(),
    )))
}

async fn load(state: &AppState, workspace: WorkspaceId, id: &str) -> ApiResult<Source> {
    let source_id: SourceId = path_id("id", id, "source")?;
    state
        .store
        .source(workspace, source_id)
        .await?
        .ok_or_else(|| ApiError::NotFound {
            detail: format!("no source '{id}' in this workspace"),
            field: Some("id".to_owned()),
        })
}

/// Fetch a source.
#[utoipa::path(get, path = "/api/v1/sources/{id}", tag = "sources",
    params(("id" = String, Path, description = "The source's id")),
    responses((status = 200, body = SourceResponse), (status = 404, body = Problem)))]
async fn get_source(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<SourceResponse>> {
    Ok(axum::Json(load(&state, workspace, &id).await?.into()))
}

/// Change a source's name or description.
#[utoipa::path(patch, path = "/api/v1/sources/{id}", tag = "sources",
    params(("id" = String, Path, description = "The source's id")), request_body = UpdateSourceRequest,
    responses((status = 200, body = SourceResponse), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn update_source(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateSourceRequest>,
) -> ApiResult<axum::Json<SourceResponse>> {
    let current = load(&state, workspace, &id).await?;
    let mut errors = FieldErrors::new();
    let name = patch_name(&mut errors, current.name, body.name);
    let description = patch_description(&mut errors, current.description, body.description);
    errors.finish(())?;
    let fields = SourceFields {
        name: name.expect("checked above"),
        description,
    };
    let source = state
        .store
        .update_source(workspace, current.id, fields)
        .await
        .map_err(duplicate_name("source"))?
        .ok_or_else(|| ApiError::not_found("the source was deleted meanwhile"))?;
    Ok(axum::Json(source.into()))
}

/// Delete a source; numbers reserved for it lose that reservation.
#[utoipa::path(delete, path = "/api/v1/sources/{id}", tag = "sources",
    params(("id" = String, Path, description = "The source's id")),
    responses((status = 204, description = "Deleted"), (status = 404, body = Problem)))]
async fn delete_source(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let source = load(&state, workspace, &id).await?;
    if !state.store.delete_source(workspace, source.id).await? {
        return Err(ApiError::not_found("the source was deleted meanwhile"));
    }
    tracing::info!(source = %source.id, "source deleted");
    state.numbers.invalidate(workspace);
    Ok(StatusCode::NO_CONTENT)
}
