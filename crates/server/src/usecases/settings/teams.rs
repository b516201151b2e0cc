//! Teams: creating one and changing its name, description or members. Names are
//! unique per workspace; members are users of the workspace, in the order given.

use leadline_core::fields::{
    checked_description, checked_name, id_list, patch_description, patch_list, patch_name,
};
use leadline_core::{FieldErrors, Patch, UserId, WorkspaceId};
use leadline_store::StoreError;
use leadline_store::teams::{Team, TeamFields};

use super::SettingsError;
use super::users::user_of;
use crate::state::AppState;

/// Refuses the first member that is no user of the workspace, naming
/// `memberUserIds[i]`.
async fn check_members(
    state: &AppState,
    workspace: WorkspaceId,
    members: &[UserId],
) -> Result<(), SettingsError> {
    for (n, user_id) in members.iter().enumerate() {
        user_of(
            &state.store,
            workspace,
            &format!("memberUserIds[{n}]"),
            *user_id,
        )
        .await?;
    }
    Ok(())
}

/// A taken name is a conflict naming `name`.
fn duplicate_name(error: StoreError) -> SettingsError {
    match error {
        StoreError::Duplicate { .. } => SettingsError::Conflict {
            field: Some("name".to_owned()),
            detail: "a team with this name already exists in the workspace".to_owned(),
        },
        other => other.into(),
    }
}

/// Creates a team.
pub async fn create(
    state: &AppState,
    workspace: WorkspaceId,
    name: &str,
    description: Option<String>,
    member_user_ids: &[String],
) -> Result<Team, SettingsError> {
    let mut errors = FieldErrors::new();
    let name = checked_name(&mut errors, name);
    let description = checked_description(&mut errors, description);
    let members = id_list(&mut errors, "memberUserIds", member_user_ids, "user");
    errors.finish(())?;
    check_members(state, workspace, &members).await?;
    let fields = TeamFields {
        name: name.expect("checked above"),
        description,
        member_user_ids: members,
    };
    let team = state
        .store
        .create_team(workspace, fields)
        .await
        .map_err(duplicate_name)?;
    tracing::info!(team = %team.id, "team created");
    Ok(team)
}

/// Changes a team: absent fields stay as they are; a cleared description or member
/// list empties it.
pub async fn update(
    state: &AppState,
    workspace: WorkspaceId,
    current: Team,
    name: Patch<String>,
    description: Patch<String>,
    member_user_ids: Patch<Vec<String>>,
) -> Result<Team, SettingsError> {
    let mut errors = FieldErrors::new();
    let name = patch_name(&mut errors, current.name, name);
    let description = patch_description(&mut errors, current.description, description);
    let members = patch_list(&mut errors, "memberUserIds", member_user_ids, "user");
    errors.finish(())?;
    if let Some(members) = &members {
        check_members(state, workspace, members).await?;
    }
    let fields = TeamFields {
        name: name.expect("checked above"),
        description,
        member_user_ids: members.unwrap_or(current.member_user_ids),
    };
    let team = state
        .store
        .update_team(workspace, current.id, fields)
        .await
        .map_err(duplicate_name)?
        .ok_or_else(|| SettingsError::NotFound {
            field: None,
            detail: "the team was deleted meanwhile".to_owned(),
        })?;
    state.numbers.invalidate(workspace);
    tracing::info!(team = %team.id, "team changed");
    Ok(team)
}
