//! `/api/v1/agent-scripts`: the flow scripts of the workspace's agent. A script
//! answers one scope: a campaign's conversations (`campaignId`, matched against the
//! conversations' own campaign id, free text from the lead's source), a channel's
//! (`channelId`), or, with neither, every other conversation of the workspace. One
//! script per scope (409 for a second); a conversation gets the most specific one.
//!
//! A script is checked against the workspace's custom attributes when it is written,
//! so a question never stores into an attribute that does not exist, and errors name
//! the field inside the script (`script.questions[0].attribute`). References that name
//! nothing (a channel, a hand-off team) are 422s naming their field, like the agent
//! settings' own.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use leadline_core::agent::flow::FlowScript;
use leadline_core::{AgentScriptId, WorkspaceId};
use leadline_store::agent_settings::{AgentScript, AgentScriptScope};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, path_id, timestamp};
use crate::pagination::{Page, PageParams};
use crate::state::AppState;
use crate::usecases::settings::agent_scripts::{self, ScriptInput};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_agent_script, list_agent_scripts))
        .routes(routes!(
            get_agent_script,
            replace_agent_script,
            delete_agent_script
        ))
}

/// A script and its scope, for POST and for PUT (which replaces everything).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AgentScriptRequest {
    #[schema(schema_with = leadline_core::schema::text::<100>)]
    name: String,
    /// The conversations' campaign id this script answers (free text, at most 200
    /// characters); not together with `channelId`.
    #[serde(default)]
    #[schema(schema_with = leadline_core::schema::optional_text::<200>)]
    campaign_id: Option<String>,
    /// A channel of the workspace whose conversations this script answers (422 when
    /// none has this id).
    #[serde(default)]
    #[schema(schema_with = leadline_core::schema::optional_uuid)]
    channel_id: Option<String>,
    script: FlowScript,
}

impl From<AgentScriptRequest> for ScriptInput {
    fn from(body: AgentScriptRequest) -> Self {
        ScriptInput {
            name: body.name,
            campaign_id: body.campaign_id,
            channel_id: body.channel_id,
            script: body.script,
        }
    }
}

/// Which conversations a script answers.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum ScopeKind {
    Campaign,
    Channel,
    Workspace,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AgentScriptResponse {
    id: String,
    name: String,
    campaign_id: Option<String>,
    channel_id: Option<String>,
    scope: ScopeKind,
    script: FlowScript,
    created_at: String,
    updated_at: String,
}

impl From<AgentScript> for AgentScriptResponse {
    fn from(script: AgentScript) -> Self {
        let scope = match script.scope() {
            AgentScriptScope::Campaign(_) => ScopeKind::Campaign,
            AgentScriptScope::Channel(_) => ScopeKind::Channel,
            AgentScriptScope::Workspace => ScopeKind::Workspace,
        };
        Self {
            id: script.id.to_string(),
            name: script.name,
            campaign_id: script.campaign_id,
            channel_id: script.channel_id.map(|id| id.to_string()),
            scope,
            script: script.script,
            created_at: timestamp(script.created_at),
            updated_at: timestamp(script.updated_at),
        }
    }
}

/// Create a flow script for a campaign, a channel or the whole workspace.
#[utoipa::path(post, path = "/api/v1/agent-scripts", tag = "agent",
    request_body = AgentScriptRequest,
    responses((status = 201, body = AgentScriptResponse), (status = 409, body = Problem),
              (status = 422, body = Problem)))]
async fn create_agent_script(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    ApiJson(body): ApiJson<AgentScriptRequest>,
) -> ApiResult<(StatusCode, axum::Json<AgentScriptResponse>)> {
    let script = agent_scripts::create(&state, workspace, body.into()).await?;
    Ok((StatusCode::CREATED, axum::Json(script.into())))
}

/// List the workspace's flow scripts, oldest first.
#[utoipa::path(get, path = "/api/v1/agent-scripts", tag = "agent", params(PageParams),
    responses((status = 200, body = Page<AgentScriptResponse>)))]
async fn list_agent_scripts(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<axum::Json<Page<AgentScriptResponse>>> {
    let limit = page.limit()?;
    let after: Option<AgentScriptId> = page.cursor()?;
    let scripts = state
        .store
        .list_agent_scripts(workspace, after, limit)
        .await?;
    Ok(axum::Json(Page::new(
        scripts.into_iter().map(AgentScriptResponse::from).collect(),
        limit,
        |s| s.id.clone(),
    )))
}

async fn load(state: &AppState, workspace: WorkspaceId, id: &str) -> ApiResult<AgentScript> {
    let script_id: AgentScriptId = path_id("id", id, "agent script")?;
    state
        .store
        .agent_script(workspace, script_id)
        .await?
        .ok_or_else(|| ApiError::NotFound {
            detail: format!("no agent script '{id}' in this workspace"),
            field: Some("id".to_owned()),
        })
}

/// Fetch a flow script.
#[utoipa::path(get, path = "/api/v1/agent-scripts/{id}", tag = "agent",
    params(("id" = String, Path, description = "The script's id")),
    responses((status = 200, body = AgentScriptResponse), (status = 404, body = Problem)))]
async fn get_agent_script(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<AgentScriptResponse>> {
    Ok(axum::Json(load(&state, workspace, &id).await?.into()))
}

/// Replace a flow script: its name, its scope and the script itself.
#[utoipa::path(put, path = "/api/v1/agent-scripts/{id}", tag = "agent",
    params(("id" = String, Path, description = "The script's id")),
    request_body = AgentScriptRequest,
    responses((status = 200, body = AgentScriptResponse), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn replace_agent_script(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AgentScriptRequest>,
) -> ApiResult<axum::Json<AgentScriptResponse>> {
    let current = load(&state, workspace, &id).await?;
    let script = agent_scripts::replace(&state, workspace, current.id, body.into()).await?;
    Ok(axum::Json(script.into()))
}

/// Delete a flow script; its conversations fall back to the next broader script.
#[utoipa::path(delete, path = "/api/v1/agent-scripts/{id}", tag = "agent",
    params(("id" = String, Path, description = "The script's id")),
    responses((status = 204, description = "Deleted"), (status = 404, body = Problem)))]
async fn delete_agent_script(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let script = load(&state, workspace, &id).await?;
    if !state
        .store
        .delete_agent_script(workspace, script.id)
        .await?
    {
        return Err(ApiError::not_found(
            "the agent script was deleted meanwhile",
        ));
    }
    tracing::info!(script = %script.id, "agent script deleted");
    Ok(StatusCode::NO_CONTENT)
}
