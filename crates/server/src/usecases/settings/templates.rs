//! Message templates: creating one (name, language code, body with placeholders
//! `{{1}}`…`{{n}}`, the channel type) with the status it starts in: approved for the
//! sandbox and for SMS and VOICE, pending for WhatsApp until the provider's verdict is
//! recorded, unless a status is given.

use leadline_core::channel::{MessageProviderType, ProviderKind};
use leadline_core::template::{TemplateBody, TemplateStatus};
use leadline_core::validation::text;
use leadline_core::{ChannelId, FieldError, FieldErrors, WorkspaceId};
use leadline_store::templates::{NewTemplate, Template};
use leadline_store::{Store, StoreError};

use super::SettingsError;

/// Longest template name and language code.
pub const MAX_NAME: usize = 200;
pub const MAX_LANGUAGE: usize = 16;

/// A template to create, as given.
#[derive(Debug)]
pub struct TemplateInput {
    pub name: String,
    pub language: String,
    pub body: String,
    pub channel_type: MessageProviderType,
    /// A channel of the workspace: a sandbox channel's templates are approved at once.
    pub provider_channel_id: Option<String>,
    pub status: Option<TemplateStatus>,
}

/// A language code such as `en`, `es` or `en_US`: letters and digits in parts joined
/// by `_` or `-`, at most [`MAX_LANGUAGE`] characters.
pub fn check_language(value: &str) -> Result<String, FieldError> {
    let language = text("language", value, MAX_LANGUAGE)?;
    let valid = language
        .split(['_', '-'])
        .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric()));
    if valid {
        Ok(language)
    } else {
        Err(FieldError::new(
            "language",
            "must be a language code such as en, es or en_US",
        ))
    }
}

/// Creates a template; a name and language already used is a conflict naming `name`.
pub async fn create(
    store: &Store,
    workspace: WorkspaceId,
    input: TemplateInput,
) -> Result<Template, SettingsError> {
    let mut errors = FieldErrors::new();
    let name = errors.check(text("name", &input.name, MAX_NAME));
    let language = errors.check(check_language(&input.language));
    let body = errors.check(TemplateBody::parse("body", &input.body));
    let channel_id = match input.provider_channel_id.as_deref() {
        Some(raw) => match raw.trim().parse::<ChannelId>() {
            Ok(id) => Some(id),
            Err(_) => {
                errors.push("providerChannelId", "must be a channel id (a UUID)");
                None
            }
        },
        None => None,
    };
    errors.finish(())?;
    let sandbox = match channel_id {
        Some(id) => {
            let channel = store
                .channel(workspace, id)
                .await?
                .ok_or_else(|| SettingsError::missing("providerChannelId", "channel", id))?;
            channel.provider == ProviderKind::Sandbox
        }
        None => false,
    };
    let status = match (sandbox, input.status, input.channel_type) {
        (true, _, _) => TemplateStatus::Approved,
        (false, Some(status), _) => status,
        (false, None, MessageProviderType::Whatsapp) => TemplateStatus::Pending,
        (false, None, _) => TemplateStatus::Approved,
    };
    let new = NewTemplate {
        name: name.expect("checked above"),
        language: language.expect("checked above"),
        body: body.expect("checked above"),
        channel_type: input.channel_type,
        status,
    };
    match store.create_template(workspace, new).await {
        Ok(template) => Ok(template),
        Err(StoreError::Duplicate { .. }) => Err(SettingsError::Conflict {
            field: Some("name".to_owned()),
            detail: "a template with this name and language already exists".to_owned(),
        }),
        Err(error) => Err(error.into()),
    }
}
