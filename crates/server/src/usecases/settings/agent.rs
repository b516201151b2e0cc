//! The workspace's agent settings: which agent answers, its fixed replies and
//! guardrails, where hand-offs go, and the LLM endpoint.
//!
//! The LLM key is write-only: what this returns leaves it out and says `api_key_set`.
//! Saving without a key keeps the stored one, but only while the base URL stays the
//! same: a key is never sent to an endpoint other than the one it was given for. An
//! empty key removes it. The base URL must not be, or resolve to, an address the
//! outbound guard refuses (a fault naming `llm.baseUrl`).

use leadline_core::WorkspaceId;
use leadline_core::agent::settings::AgentSettings;
use leadline_core::channel::MessageProviderType;

use super::SettingsError;
use crate::state::AppState;

/// The settings as they may be shown: the key left out, `api_key_set` saying whether
/// one is stored.
pub fn without_key(mut settings: AgentSettings) -> AgentSettings {
    if let Some(llm) = &mut settings.llm {
        llm.api_key_set = llm.api_key.take().is_some();
    }
    settings
}

/// The workspace's settings (the defaults until they are set), without the key.
pub async fn current(
    state: &AppState,
    workspace: WorkspaceId,
) -> Result<AgentSettings, SettingsError> {
    Ok(without_key(state.store.agent_settings(workspace).await?))
}

/// Replaces the workspace's settings and answers them without the key.
pub async fn save(
    state: &AppState,
    workspace: WorkspaceId,
    mut settings: AgentSettings,
) -> Result<AgentSettings, SettingsError> {
    settings.validate()?;
    if let Some(llm) = &settings.llm
        && let Err(refusal) = state.providers.outbound().check_url(&llm.base_url).await
    {
        return Err(SettingsError::field("llm.baseUrl", refusal.to_string()));
    }
    settings.whatsapp_reopen_template = settings
        .whatsapp_reopen_template
        .map(|name| name.trim().to_owned());
    check_references(state, workspace, &settings).await?;
    let stored = state.store.agent_settings(workspace).await?;
    if let Some(llm) = &mut settings.llm {
        llm.api_key = match llm.api_key.take() {
            Some(key) if key.is_empty() => None,
            Some(key) => Some(key),
            None => stored
                .llm
                .filter(|stored| stored.base_url == llm.base_url)
                .and_then(|stored| stored.api_key),
        };
        llm.api_key_set = llm.api_key.is_some();
    }
    if !state.store.set_agent_settings(workspace, &settings).await? {
        return Err(SettingsError::NotFound {
            field: None,
            detail: "the workspace was deleted".to_owned(),
        });
    }
    tracing::info!(%workspace, agent = %settings.agent, "agent settings replaced");
    Ok(without_key(settings))
}

/// Refuses `handoffTeamId` or `whatsappReopenTemplate` when it names nothing usable in
/// the workspace: an invalid field, like every other fault of the settings, since they
/// are one document.
async fn check_references(
    state: &AppState,
    workspace: WorkspaceId,
    settings: &AgentSettings,
) -> Result<(), SettingsError> {
    if let Some(team_id) = settings.handoff_team_id
        && state.store.team(workspace, team_id).await?.is_none()
    {
        return Err(SettingsError::field(
            "handoffTeamId",
            format!("no team '{team_id}' in this workspace"),
        ));
    }
    if let Some(name) = &settings.whatsapp_reopen_template {
        let templates = state.store.templates_named(workspace, name).await?;
        if templates.is_empty() {
            return Err(SettingsError::field(
                "whatsappReopenTemplate",
                format!("no template named '{name}' in this workspace"),
            ));
        }
        // The agent sends it on WhatsApp only; another kind would fail at every send.
        if !templates
            .iter()
            .any(|t| t.channel_type == MessageProviderType::Whatsapp)
        {
            return Err(SettingsError::field(
                "whatsappReopenTemplate",
                format!("the template '{name}' is not a WHATSAPP template"),
            ));
        }
    }
    Ok(())
}
