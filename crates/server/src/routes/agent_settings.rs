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
use leadline_core::agent::settings::AgentSettings;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Authenticated;
use crate::error::{ApiResult, Problem};
use crate::extract::ApiJson;
use crate::state::AppState;
use crate::usecases::settings::agent;

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
    Ok(axum::Json(agent::current(&state, workspace).await?))
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
    ApiJson(settings): ApiJson<AgentSettings>,
) -> ApiResult<axum::Json<AgentSettings>> {
    Ok(axum::Json(agent::save(&state, workspace, settings).await?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ApiError;
    use crate::extract::parse_json;
    use crate::usecases::settings::agent::without_key;

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
