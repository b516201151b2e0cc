//! The agent's flow scripts: each answers one scope (a campaign's conversations, a
//! channel's, or the rest of the workspace), one script per scope. A script is checked
//! against the workspace's custom attributes when written, and faults name the field
//! inside it (`script.questions[0].attribute`).

use leadline_core::agent::flow::FlowScript;
use leadline_core::fields::{checked_name, optional_id, optional_text};
use leadline_core::{AgentScriptId, ChannelId, FieldErrors, WorkspaceId};
use leadline_store::StoreError;
use leadline_store::agent_settings::{AgentScript, AgentScriptFields, AgentScriptScope};

use super::SettingsError;
use crate::state::AppState;

/// Longest campaign id: conversations take theirs from the lead's source as free text.
pub const MAX_CAMPAIGN_ID: usize = 200;

/// A script and its scope, as given.
#[derive(Debug)]
pub struct ScriptInput {
    pub name: String,
    pub campaign_id: Option<String>,
    pub channel_id: Option<String>,
    pub script: FlowScript,
}

/// Checks a script: its shape (every fault at once), then the script against the
/// workspace's attributes, then the rows it names.
pub async fn checked_fields(
    state: &AppState,
    workspace: WorkspaceId,
    input: ScriptInput,
) -> Result<AgentScriptFields, SettingsError> {
    let mut errors = FieldErrors::new();
    let name = checked_name(&mut errors, &input.name);
    let campaign_id = optional_text(
        &mut errors,
        "campaignId",
        input.campaign_id,
        MAX_CAMPAIGN_ID,
    );
    let channel_id: Option<ChannelId> =
        optional_id(&mut errors, "channelId", input.channel_id, "channel");
    if campaign_id.is_some() && channel_id.is_some() {
        let message = "a script answers a campaign or a channel, not both; give one of them";
        errors.push("campaignId", message);
        errors.push("channelId", message);
    }
    let definitions = state.store.custom_attributes(workspace).await?;
    if let Err(script_errors) = input.script.validate(&definitions) {
        for error in script_errors.into_vec() {
            errors.push(format!("script.{}", error.field), error.message);
        }
    }
    errors.finish(())?;
    if let Some(channel_id) = channel_id
        && state.store.channel(workspace, channel_id).await?.is_none()
    {
        return Err(SettingsError::field(
            "channelId",
            format!("no channel '{channel_id}' in this workspace"),
        ));
    }
    if let Some(team_id) = input.script.handoff_team_id
        && state.store.team(workspace, team_id).await?.is_none()
    {
        return Err(SettingsError::field(
            "script.handoffTeamId",
            format!("no team '{team_id}' in this workspace"),
        ));
    }
    let scope = match (campaign_id, channel_id) {
        (Some(campaign_id), _) => AgentScriptScope::Campaign(campaign_id),
        (None, Some(channel_id)) => AgentScriptScope::Channel(channel_id),
        (None, None) => AgentScriptScope::Workspace,
    };
    Ok(AgentScriptFields {
        name: name.expect("checked above"),
        scope,
        script: input.script,
    })
}

/// A second script for a scope is a conflict naming the field that chose the scope.
fn duplicate_scope(scope: &AgentScriptScope) -> impl Fn(StoreError) -> SettingsError + '_ {
    move |error| {
        if !error.is_duplicate_scope() {
            return error.into();
        }
        let (detail, field) = match scope {
            AgentScriptScope::Campaign(id) => (
                format!("campaign '{id}' already has a script; replace that one instead"),
                Some("campaignId"),
            ),
            AgentScriptScope::Channel(id) => (
                format!("channel '{id}' already has a script; replace that one instead"),
                Some("channelId"),
            ),
            AgentScriptScope::Workspace => (
                "the workspace already has a workspace-wide script; replace that one instead"
                    .to_owned(),
                None,
            ),
        };
        SettingsError::Conflict {
            detail,
            field: field.map(str::to_owned),
        }
    }
}

/// Creates a script.
pub async fn create(
    state: &AppState,
    workspace: WorkspaceId,
    input: ScriptInput,
) -> Result<AgentScript, SettingsError> {
    let fields = checked_fields(state, workspace, input).await?;
    let scope = fields.scope.clone();
    let script = state
        .store
        .create_agent_script(workspace, fields)
        .await
        .map_err(duplicate_scope(&scope))?;
    tracing::info!(script = %script.id, "agent script created");
    Ok(script)
}

/// Replaces a script: its name, its scope and the script itself.
pub async fn replace(
    state: &AppState,
    workspace: WorkspaceId,
    script_id: AgentScriptId,
    input: ScriptInput,
) -> Result<AgentScript, SettingsError> {
    let fields = checked_fields(state, workspace, input).await?;
    let scope = fields.scope.clone();
    let script = state
        .store
        .replace_agent_script(workspace, script_id, fields)
        .await
        .map_err(duplicate_scope(&scope))?
        .ok_or_else(|| SettingsError::NotFound {
            field: None,
            detail: "the agent script was deleted meanwhile".to_owned(),
        })?;
    tracing::info!(script = %script.id, "agent script replaced");
    Ok(script)
}
