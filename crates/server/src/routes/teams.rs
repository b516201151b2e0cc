//! `/api/v1/teams`: teams of advisors, which phone numbers can be reserved for. A team
//! lists its members (users of the workspace) in the order given; names are unique per
//! workspace. Deleting a team keeps its numbers in the pool, reserved for no team.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use leadline_core::{Patch, TeamId, WorkspaceId};
use leadline_store::teams::Team;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, path_id, timestamp};
use crate::pagination::{Page, PageParams};
use crate::state::AppState;
use crate::usecases::settings::teams;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_team, list_teams))
        .routes(routes!(get_team, update_team, delete_team))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateTeamRequest {
    /// Unique in the workspace; 1 to 100 characters.
    #[schema(schema_with = leadline_core::schema::text::<100>)]
    name: String,
    #[serde(default)]
    #[schema(schema_with = leadline_core::schema::optional_text::<1000>)]
    description: Option<String>,
    /// Users of the workspace, in the order to show them.
    #[serde(default)]
    #[schema(schema_with = leadline_core::schema::uuid_list::<200>)]
    member_user_ids: Vec<String>,
}

/// Absent fields stay as they are; `null` clears the description or the members.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateTeamRequest {
    /// A new name (not `null`).
    #[serde(default)]
    #[schema(schema_with = leadline_core::schema::text::<100>)]
    name: Patch<String>,
    #[serde(default)]
    #[schema(schema_with = leadline_core::schema::optional_text::<1000>)]
    description: Patch<String>,
    /// Replaces the members as a whole.
    #[serde(default)]
    #[schema(schema_with = leadline_core::schema::optional_uuid_list::<200>)]
    member_user_ids: Patch<Vec<String>>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TeamResponse {
    id: String,
    workspace_id: String,
    name: String,
    description: Option<String>,
    member_user_ids: Vec<String>,
    created_at: String,
    updated_at: String,
}

impl From<Team> for TeamResponse {
    fn from(team: Team) -> Self {
        Self {
            id: team.id.to_string(),
            workspace_id: team.workspace_id.to_string(),
            name: team.name,
            description: team.description,
            member_user_ids: team.member_user_ids.iter().map(|u| u.to_string()).collect(),
            created_at: timestamp(team.created_at),
            updated_at: timestamp(team.updated_at),
        }
    }
}

/// Create a team.
#[utoipa::path(post, path = "/api/v1/teams", tag = "teams", request_body = CreateTeamRequest,
    responses((status = 201, body = TeamResponse), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_team(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    ApiJson(body): ApiJson<CreateTeamRequest>,
) -> ApiResult<(StatusCode, axum::Json<TeamResponse>)> {
    let team = teams::create(
        &state,
        workspace,
        &body.name,
        body.description,
        &body.member_user_ids,
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(team.into())))
}

/// List the workspace's teams, oldest first.
#[utoipa::path(get, path = "/api/v1/teams", tag = "teams", params(PageParams),
    responses((status = 200, body = Page<TeamResponse>)))]
async fn list_teams(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<axum::Json<Page<TeamResponse>>> {
    let limit = page.limit()?;
    let after: Option<TeamId> = page.cursor()?;
    let teams = state.store.list_teams(workspace, after, limit).await?;
    Ok(axum::Json(Page::new(
        teams.into_iter().map(TeamResponse::from).collect(),
        limit,
        |t| t.id.clone(),
    )))
}

async fn load(state: &AppState, workspace: WorkspaceId, id: &str) -> ApiResult<Team> {
    let team_id: TeamId = path_id("id", id, "team")?;
    state
        .store
        .team(workspace, team_id)
        .await?
        .ok_or_else(|| ApiError::NotFound {
            detail: format!("no team '{id}' in this workspace"),
            field: Some("id".to_owned()),
        })
}

/// Fetch a team.
#[utoipa::path(get, path = "/api/v1/teams/{id}", tag = "teams",
    params(("id" = String, Path, description = "The team's id")),
    responses((status = 200, body = TeamResponse), (status = 404, body = Problem)))]
async fn get_team(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<TeamResponse>> {
    Ok(axum::Json(load(&state, workspace, &id).await?.into()))
}

/// Change a team's name, description or members.
#[utoipa::path(patch, path = "/api/v1/teams/{id}", tag = "teams",
    params(("id" = String, Path, description = "The team's id")), request_body = UpdateTeamRequest,
    responses((status = 200, body = TeamResponse), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn update_team(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateTeamRequest>,
) -> ApiResult<axum::Json<TeamResponse>> {
    let current = load(&state, workspace, &id).await?;
    let team = teams::update(
        &state,
        workspace,
        current,
        body.name,
        body.description,
        body.member_user_ids,
    )
    .await?;
    Ok(axum::Json(team.into()))
}

/// Delete a team; its numbers stay in the pool, reserved for no team.
#[utoipa::path(delete, path = "/api/v1/teams/{id}", tag = "teams",
    params(("id" = String, Path, description = "The team's id")),
    responses((status = 204, description = "Deleted"), (status = 404, body = Problem)))]
async fn delete_team(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let team = load(&state, workspace, &id).await?;
    if !state.store.delete_team(workspace, team.id).await? {
        return Err(ApiError::not_found("the team was deleted meanwhile"));
    }
    tracing::info!(team = %team.id, "team deleted");
    state.numbers.invalidate(workspace);
    Ok(StatusCode::NO_CONTENT)
}
