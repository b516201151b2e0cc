//! `/api/v1/settings/agent`: which agent answers the workspace's conversations, its
//! fixed replies, guardrails, hand-off team and LLM endpoint. Every field has a
//! default, so a PUT of `{}` restores them all; unknown fields are refused by name.
//!
//! The LLM key is write-only: answers leave `apiKey` out and say `apiKeySet`. A PUT
//! without `llm.apiKey` keeps the stored key, so a client that changes the model need
//! not know the key, but only while `llm.baseUrl` stays the same: a key is never sent
//! to an endpoint other than the one it was given for. `"apiKey": ""` removes it.
//!
//! `llm.baseUrl` must not be, or resolve to, an address the outbound guard refuses
//! (loopback, private, link-local, metadata…) unless the operator allowed it with
//! `--allow-outbound`: a 422 naming the field. A name that does not resolve yet is
//! accepted; every call is checked again when it connects.

use axum::extract::State;
use leadline_core::WorkspaceId;
use leadline_core::agent::settings::AgentSettings;
use leadline_core::channel::MessageProviderType;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::ApiJson;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_agent_settings, put_agent_settings))
}

/// The workspace's agent settings (the defaults until they are set), without the LLM
/// key.
#[utoipa::path(get, path = "/api/v1/settings/agent", tag = "agent",
    responses((status = 200, body = AgentSettings)))]
async fn get_agent_settings(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
) -> ApiResult<axum::Json<AgentSettings>> {
    let settings = state.store.agent_settings(workspace).await?;
    Ok(axum::Json(without_key(settings)))
}

/// Replace the workspace's agent settings; absent fields take their defaults, an
/// absent `llm.apiKey` keeps the stored key while `llm.baseUrl` is unchanged.
#[utoipa::path(put, path = "/api/v1/settings/agent", tag = "agent",
    request_body = AgentSettings,
    responses((status = 200, body = AgentSettings), (status = 404, body = Problem),
              (status = 422, body = Problem)))]
async fn put_agent_settings(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    ApiJson(mut settings): ApiJson<AgentSettings>,
) -> ApiResult<axum::Json<AgentSettings>> {
    settings.validate()?;
    if let Some(llm) = &settings.llm
        && let Err(refusal) = state.providers.outbound().check_url(&llm.base_url).await
    {
        return Err(ApiError::field("llm.baseUrl", refusal.to_string()));
    }
    settings.whatsapp_reopen_template = settings
        .whatsapp_reopen_template
        .map(|name| name.trim().to_owned());
    check_references(&state, workspace, &settings).await?;
    let current = state.store.agent_settings(workspace).await?;
    if let Some(llm) = &mut settings.llm {
        llm.api_key = match llm.api_key.take() {
            Some(key) if key.is_empty() => None,
            Some(key) => Some(key),
            None => current
                .llm
                .filter(|stored| stored.base_url == llm.base_url)
                .and_then(|stored| stored.api_key),
        };
        llm.api_key_set = llm.api_key.is_some();
    }
    if !state.store.set_agent_settings(workspace, &settings).await? {
        return Err(ApiError::not_found("the workspace was deleted"));
    }
    tracing::info!(%workspace, agent = %settings.agent, "agent settings replaced");
    Ok(axum::Json(without_key(settings)))
}

/// 422 naming `handoffTeamId` or `whatsappReopenTemplate` when it names nothing usable
/// in the workspace. A 422 rather than the 404 other endpoints answer for a missing
/// reference: the settings are one document, and every fault in it is answered alike.
async fn check_references(
    state: &AppState,
    workspace: WorkspaceId,
    settings: &AgentSettings,
) -> Result<(), ApiError> {
    if let Some(team_id) = settings.handoff_team_id
        && state.store.team(workspace, team_id).await?.is_none()
    {
        return Err(ApiError::field(
            "handoffTeamId",
            format!("no team '{team_id}' in this workspace"),
        ));
    }
    if let Some(name) = &settings.whatsapp_reopen_template {
        let templates = state.store.templates_named(workspace, name).await?;
        if templates.is_empty() {
            return Err(ApiError::field(
                "whatsappReopenTemplate",
                format!("no template named '{name}' in this workspace"),
            ));
        }
        // The agent sends it on WhatsApp only; another kind would fail at every send.
        if !templates
            .iter()
            .any(|t| t.channel_type == MessageProviderType::Whatsapp)
        {
            return Err(ApiError::field(
                "whatsappReopenTemplate",
                format!("the template '{name}' is not a WHATSAPP template"),
            ));
        }
    }
    Ok(())
}

/// The settings as answers show them: the key left out, `apiKeySet` saying whether
/// one is stored.
fn without_key(mut settings: AgentSettings) -> AgentSettings {
    if let Some(llm) = &mut settings.llm {
        llm.api_key_set = llm.api_key.take().is_some();
    }
    settings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::parse_json;

    fn fields_of(body: &str) -> Vec<String> {
        match parse_json::<AgentSettings>(body.as_bytes()) {
            Err(ApiError::Validation(errors)) => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn unknown_fields_are_named_by_their_own_path() {
        assert_eq!(fields_of(r#"{"maxTurn": 5}"#), ["maxTurn"]);
        assert_eq!(
            fields_of(r#"{"llm": {"baseUrl": "https://x.com", "model": "m", "key": "k"}}"#),
            ["llm.key"]
        );
        assert_eq!(fields_of(r#"{"agent": "GPT"}"#), ["agent"]);
    }

    #[test]
    fn answers_never_hold_the_key() {
        let settings: AgentSettings =
            parse_json(br#"{"llm": {"baseUrl": "https://x.com", "model": "m", "apiKey": "sk-1"}}"#)
                .unwrap();
        let shown = serde_json::to_value(without_key(settings)).unwrap();
        assert!(shown["llm"].get("apiKey").is_none(), "{shown}");
        assert_eq!(shown["llm"]["apiKeySet"], true);
    }
}
