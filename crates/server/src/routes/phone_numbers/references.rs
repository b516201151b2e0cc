//! Reading the ids and small values of the number pool's requests: every shape error
//! goes into the request's [`FieldErrors`] (422, all at once), then the ids that parsed
//! are looked up, and the first one that names nothing is a 404 naming its field. The
//! field readers themselves live in [`leadline_core::fields`], shared with the console.

use leadline_core::channel::MessageProviderType;
use leadline_core::{CampaignId, ChannelId, SourceId, TeamId, WorkspaceId};

use leadline_store::StoreError;

use crate::error::ApiError;
use crate::state::AppState;

pub use leadline_core::fields::{
    checked_description, checked_name, id_list, optional_day, optional_id, optional_text, parse_id,
    patch_description, patch_id, patch_list, patch_name, required,
};

/// A taken name of a `what` (team, source) is a 409 naming `name`.
pub fn duplicate_name(what: &'static str) -> impl Fn(StoreError) -> ApiError {
    move |error| match error {
        StoreError::Duplicate { .. } => ApiError::Conflict {
            detail: format!("a {what} with this name already exists in the workspace"),
            field: Some("name".to_owned()),
        },
        other => other.into(),
    }
}

/// The rows a number's request points at.
pub struct References<'a> {
    pub channel_id: Option<ChannelId>,
    pub team_id: Option<TeamId>,
    pub campaign_ids: &'a [CampaignId],
    pub source_ids: &'a [SourceId],
}

fn missing(field: String, what: &str, id: impl std::fmt::Display) -> ApiError {
    ApiError::NotFound {
        detail: format!("no {what} '{id}' in this workspace"),
        field: Some(field),
    }
}

impl References<'_> {
    /// 404 naming the first reference that names nothing in the workspace; 422 for a
    /// channel that carries neither SMS nor calls.
    pub async fn check(&self, state: &AppState, workspace: WorkspaceId) -> Result<(), ApiError> {
        let store = &state.store;
        if let Some(channel_id) = self.channel_id {
            let channel = store
                .channel(workspace, channel_id)
                .await?
                .ok_or_else(|| missing("channelId".into(), "channel", channel_id))?;
            if !matches!(
                channel.carries,
                MessageProviderType::Sms | MessageProviderType::Voice
            ) {
                return Err(ApiError::field(
                    "channelId",
                    format!(
                        "numbers send through SMS or VOICE channels; this one is {}",
                        channel.carries
                    ),
                ));
            }
        }
        if let Some(team_id) = self.team_id
            && store.team(workspace, team_id).await?.is_none()
        {
            return Err(missing("teamId".into(), "team", team_id));
        }
        for (n, campaign_id) in self.campaign_ids.iter().enumerate() {
            if store.campaign(workspace, *campaign_id).await?.is_none() {
                return Err(missing(
                    format!("campaignIds[{n}]"),
                    "campaign",
                    campaign_id,
                ));
            }
        }
        for (n, source_id) in self.source_ids.iter().enumerate() {
            if store.source(workspace, *source_id).await?.is_none() {
                return Err(missing(format!("sourceIds[{n}]"), "source", source_id));
            }
        }
        Ok(())
    }
}
