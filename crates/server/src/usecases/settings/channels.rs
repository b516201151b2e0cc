//! Channels: creating one (its sender checked against the provider, its adapter built
//! once so a bad configuration is refused now rather than at every send), replacing
//! its delivery settings, and replacing some of its secrets. Secrets are write-only:
//! nothing here returns them to a caller but inside the stored [`Channel`].

use leadline_core::channel::{MessageProviderType, ProviderKind};
use leadline_core::delivery::DeliverySettings;
use leadline_core::validation::text;
use leadline_core::{ChannelId, E164, FieldError, FieldErrors, SecretMap, WorkspaceId};
use leadline_providers::ChannelConfig;
use leadline_store::channels::{Channel, NewChannel};
use serde_json::{Map, Value};

use super::SettingsError;
use crate::state::AppState;

/// Longest channel name and sender.
pub const MAX_NAME: usize = 100;
pub const MAX_SENDER: usize = 64;

/// A channel to create, as given.
#[derive(Debug)]
pub struct ChannelInput {
    pub name: String,
    pub carries: MessageProviderType,
    /// Sandbox when none.
    pub provider: Option<ProviderKind>,
    pub sender: String,
    pub settings: Map<String, Value>,
    pub secrets: SecretMap,
    pub delivery: Option<DeliverySettings>,
}

/// Checks the sender against what the provider expects.
pub fn check_sender(provider: ProviderKind, sender: &str) -> Result<String, FieldError> {
    let sender = text("sender", sender, MAX_SENDER)?;
    match provider {
        ProviderKind::WhatsappCloud => {
            if sender.bytes().all(|b| b.is_ascii_digit()) {
                Ok(sender)
            } else {
                Err(FieldError::new(
                    "sender",
                    "whatsapp_cloud needs the WhatsApp phone-number id (digits), not the phone number",
                ))
            }
        }
        ProviderKind::Kannel => Ok(sender),
        _ => E164::parse_field("sender", &sender).map(|number| number.as_str().to_owned()),
    }
}

/// Refuses a configuration the provider's adapter cannot be built from, or whose URLs
/// the outbound guard refuses, naming each field (`settings.accountSid`,
/// `secrets.authToken`, …).
async fn check_config(
    state: &AppState,
    channel_id: ChannelId,
    config: &ChannelConfig<'_>,
) -> Result<(), FieldErrors> {
    state.providers.build_config(channel_id, config)?;
    state.providers.check_outbound_urls(config).await
}

/// Creates a channel.
pub async fn create(
    state: &AppState,
    workspace: WorkspaceId,
    input: ChannelInput,
) -> Result<Channel, SettingsError> {
    let mut errors = FieldErrors::new();
    let provider = input.provider.unwrap_or(ProviderKind::Sandbox);
    let name = errors.check(text("name", &input.name, MAX_NAME));
    if !provider.supports(input.carries) {
        errors.push(
            "provider",
            format!("{provider} cannot carry {} messages", input.carries),
        );
    }
    let sender = errors.check(check_sender(provider, &input.sender));
    let delivery = input.delivery.unwrap_or_default();
    delivery.validate("delivery", &mut errors);
    errors.finish(())?;
    let new = NewChannel {
        name: name.expect("checked above"),
        carries: input.carries,
        provider,
        sender: sender.expect("checked above"),
        settings: input.settings,
        secrets: input.secrets,
        delivery,
    };
    let config = ChannelConfig {
        kind: new.provider,
        carries: new.carries,
        settings: &new.settings,
        secrets: &new.secrets,
    };
    check_config(state, ChannelId::new(), &config).await?;
    let channel = state.store.create_channel(workspace, new).await?;
    tracing::info!(channel = %channel.id, provider = %channel.provider, carries = %channel.carries, "channel created");
    Ok(channel)
}

/// Replaces a channel's delivery settings; `None` when it is not the workspace's.
/// Faults are named under `prefix` (`delivery.` in a whole channel, none alone).
pub async fn set_delivery(
    state: &AppState,
    workspace: WorkspaceId,
    channel_id: ChannelId,
    delivery: DeliverySettings,
    prefix: &str,
) -> Result<Option<Channel>, SettingsError> {
    let mut errors = FieldErrors::new();
    delivery.validate(prefix, &mut errors);
    errors.finish(())?;
    let channel = state
        .store
        .set_channel_delivery(workspace, channel_id, delivery)
        .await?;
    if let Some(channel) = &channel {
        tracing::info!(channel = %channel.id, ?delivery, "channel delivery settings changed");
    }
    Ok(channel)
}

/// Sets the secrets named in `replacements` (the others stay), once the adapter builds
/// with them; `None` when the channel is not the workspace's. Senders pick the new
/// secrets up within the adapter cache's 30 seconds.
pub async fn replace_secrets(
    state: &AppState,
    workspace: WorkspaceId,
    channel_id: ChannelId,
    replacements: Map<String, Value>,
) -> Result<Option<Channel>, SettingsError> {
    let Some(channel) = state.store.channel(workspace, channel_id).await? else {
        return Ok(None);
    };
    let mut secrets = channel.secrets.clone();
    secrets.expose_mut().extend(replacements.clone());
    let config = ChannelConfig {
        kind: channel.provider,
        carries: channel.carries,
        settings: &channel.settings,
        secrets: &secrets,
    };
    check_config(state, channel.id, &config).await?;
    let changed = state
        .store
        .change_channel_secrets(workspace, channel_id, |stored| {
            stored.expose_mut().extend(replacements.clone());
        })
        .await?
        .map(|(channel, ())| channel);
    if let Some(channel) = &changed {
        tracing::info!(channel = %channel.id, "channel secrets replaced");
    }
    Ok(changed)
}
