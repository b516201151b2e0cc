//! Channels: the list, creating one, and one channel's page: what it is, where its
//! provider sends webhooks, its secrets (write-only: each is shown as set or not set,
//! with a field to replace it; a value entered is never drawn back, not even on a
//! refused form) and its delivery settings.
//!
//! - `GET /console/settings/channels`, `POST` (create), `GET …/channels/new`
//! - `GET /console/settings/channels/{id}`
//! - `POST …/channels/{id}/secrets`, and `POST …/channels/{id}/delivery`
//!   ([`super::channel_delivery`])

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{Html, Response};
use axum::routing::{get, post};
use leadline_core::channel::{MessageProviderType, ProviderKind};
use leadline_core::delivery::UncertainSends;
use leadline_core::{ChannelId, FieldError, FieldErrors, SecretMap};
use leadline_store::channels::Channel;
use minijinja::context;
use minijinja::value::Serde;
use serde::Serialize;
use serde_json::{Map, Value};

use super::form::{self, NoticeQuery};
use super::path;
use crate::console::csrf::CsrfForm;
use crate::console::pages::{self, Section};
use crate::console::{ConsoleError, ConsoleUser};
use crate::state::AppState;
use crate::usecases::settings::channels::{self, ChannelInput};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(&path("/channels"), get(list).post(create))
        .route(&path("/channels/new"), get(new))
        .route(&path("/channels/{id}"), get(show))
        .route(&path("/channels/{id}/secrets"), post(replace_secrets))
        .route(
            &path("/channels/{id}/delivery"),
            post(super::channel_delivery::set_delivery),
        )
}

pub(super) type Fields = BTreeMap<String, String>;

/// The secrets each provider's adapter reads, which the forms offer to set.
fn secret_names(provider: ProviderKind) -> &'static [&'static str] {
    match provider {
        ProviderKind::Sandbox => &[],
        ProviderKind::Twilio => &["authToken"],
        ProviderKind::WhatsappCloud => &["accessToken", "appSecret", "verifyToken"],
        ProviderKind::Http => &["signingSecret"],
        ProviderKind::Kannel => &["password"],
    }
}

/// Every secret any provider reads, for the creation form.
fn all_secret_names() -> Vec<&'static str> {
    let mut names: Vec<&str> = ProviderKind::ALL
        .iter()
        .flat_map(|p| secret_names(*p).iter().copied())
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

pub(super) fn value<'a>(fields: &'a Fields, name: &str) -> &'a str {
    fields.get(name).map_or("", String::as_str)
}

/// The `secrets.NAME` fields given a value, as the secrets to set.
fn entered_secrets(fields: &Fields) -> Map<String, Value> {
    fields
        .iter()
        .filter_map(|(key, value)| {
            let name = key.strip_prefix("secrets.")?;
            (!value.is_empty()).then(|| (name.to_owned(), Value::String(value.clone())))
        })
        .collect()
}

/// The form's fields without any secret: what a refused form may draw back.
fn without_secrets(fields: &Fields) -> Fields {
    fields
        .iter()
        .filter(|(key, _)| !key.starts_with("secrets."))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

#[derive(Serialize)]
struct ChannelRow {
    id: String,
    name: String,
    carries: &'static str,
    provider: &'static str,
    sender: String,
}

async fn list(
    State(state): State<AppState>,
    user: ConsoleUser,
    Query(query): Query<NoticeQuery>,
) -> Result<Html<String>, ConsoleError> {
    user.require_admin()?;
    let workspace = user.workspace();
    let all = form::all_pages(
        1_000,
        |c: &Channel| c.id,
        |after, limit| state.store.list_channels(workspace, after, limit),
    )
    .await?;
    let rows: Vec<ChannelRow> = all
        .into_iter()
        .map(|c| ChannelRow {
            id: c.id.to_string(),
            name: c.name,
            carries: c.carries.as_str(),
            provider: c.provider.as_str(),
            sender: c.sender,
        })
        .collect();
    pages::render(
        &user,
        Section::Settings,
        "settings/channels.html",
        context! { channels => Serde(rows), notice => query.text() },
    )
}

fn new_page(
    user: &ConsoleUser,
    values: &Fields,
    errors: Vec<FieldError>,
) -> Result<Html<String>, ConsoleError> {
    pages::render(
        user,
        Section::Settings,
        "settings/channel_new.html",
        context! {
            values => Serde(without_secrets(values)),
            errors => Serde(errors),
            notice => None::<&str>,
            kinds => MessageProviderType::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
            providers => ProviderKind::ALL.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
            secret_names => all_secret_names(),
        },
    )
}

async fn new(user: ConsoleUser) -> Result<Html<String>, ConsoleError> {
    user.require_admin()?;
    let mut values = Fields::new();
    values.insert("settings".into(), "{}".into());
    new_page(&user, &values, Vec::new())
}

/// Reads the creation form into a channel to create, or the faults of its fields.
fn input_of(fields: &Fields) -> Result<ChannelInput, FieldErrors> {
    let mut errors = FieldErrors::new();
    let carries = MessageProviderType::parse(value(fields, "messageProviderType"));
    if carries.is_none() {
        errors.push(
            "messageProviderType",
            format!("choose {}", MessageProviderType::expected()),
        );
    }
    let provider = ProviderKind::parse(value(fields, "provider"));
    if provider.is_none() {
        errors.push("provider", format!("choose {}", ProviderKind::expected()));
    }
    let settings = match value(fields, "settings").trim() {
        "" => Some(Map::new()),
        text => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) => Some(map),
            _ => {
                errors.push(
                    "settings",
                    "must be a JSON object, e.g. {\"accountSid\": \"AC…\"}",
                );
                None
            }
        },
    };
    errors.finish(())?;
    Ok(ChannelInput {
        name: value(fields, "name").to_owned(),
        carries: carries.expect("checked above"),
        provider,
        sender: value(fields, "sender").to_owned(),
        settings: settings.expect("checked above"),
        secrets: SecretMap::new(entered_secrets(fields)),
        delivery: None,
    })
}

async fn create(
    State(state): State<AppState>,
    CsrfForm(user, fields): CsrfForm<Fields>,
) -> Result<Response, ConsoleError> {
    user.require_admin()?;
    let created = match input_of(&fields) {
        Ok(input) => channels::create(&state, user.workspace(), input).await,
        Err(errors) => Err(errors.into()),
    };
    match created {
        Ok(channel) => Ok(form::done(
            &path(&format!("/channels/{}", channel.id)),
            "channel-created",
        )),
        Err(error) => Ok(form::refused(new_page(
            &user,
            &fields,
            form::faults(error)?,
        )?)),
    }
}

#[derive(Serialize)]
struct SecretRow {
    name: String,
    set: bool,
    replaceable: bool,
}

pub(super) async fn channel_page(
    state: &AppState,
    user: &ConsoleUser,
    channel: &Channel,
    errors: Vec<FieldError>,
    delivery_values: Option<&Fields>,
    notice: Option<&str>,
) -> Result<Html<String>, ConsoleError> {
    let set = channel.secrets.names();
    let mut names: Vec<String> = secret_names(channel.provider)
        .iter()
        .map(|n| (*n).to_owned())
        .collect();
    let others: Vec<String> = set.iter().filter(|n| !names.contains(n)).cloned().collect();
    names.extend(others);
    let secrets: Vec<SecretRow> = names
        .into_iter()
        .map(|name| SecretRow {
            set: set.contains(&name),
            replaceable: secret_names(channel.provider).contains(&name.as_str()),
            name,
        })
        .collect();
    let delivery = channel.delivery;
    let delivery_values = match delivery_values {
        Some(values) => context! {
            maxConcurrentSends => value(values, "maxConcurrentSends"),
            sendsPerSecond => value(values, "sendsPerSecond"),
            uncertainSends => value(values, "uncertainSends"),
        },
        None => context! {
            maxConcurrentSends => delivery.max_concurrent_sends.map(|n| n.to_string()).unwrap_or_default(),
            sendsPerSecond => delivery.sends_per_second.map(|n| n.to_string()).unwrap_or_default(),
            uncertainSends => delivery.uncertain_sends.as_str(),
        },
    };
    pages::render(
        user,
        Section::Settings,
        "settings/channel.html",
        context! {
            channel => context! {
                id => channel.id.to_string(),
                name => &channel.name,
                carries => channel.carries.as_str(),
                provider => channel.provider.as_str(),
                sender => &channel.sender,
                settings => serde_json::to_string_pretty(&channel.settings).unwrap_or_default(),
                webhook_url => state.providers.webhook_url(channel.id),
            },
            secrets => Serde(secrets),
            delivery => delivery_values,
            uncertain_choices => UncertainSends::ALL.iter().map(|u| u.as_str()).collect::<Vec<_>>(),
            errors => Serde(errors),
            notice,
        },
    )
}

pub(super) async fn load(
    state: &AppState,
    user: &ConsoleUser,
    id: &str,
) -> Result<Channel, ConsoleError> {
    let channel_id: ChannelId = form::path_id(id, "channel")?;
    state
        .store
        .channel(user.workspace(), channel_id)
        .await?
        .ok_or_else(|| ConsoleError::NotFound(format!("no channel '{id}' in this workspace")))
}

async fn show(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
    Query(query): Query<NoticeQuery>,
) -> Result<Html<String>, ConsoleError> {
    user.require_admin()?;
    let channel = load(&state, &user, &id).await?;
    channel_page(&state, &user, &channel, Vec::new(), None, query.text()).await
}

pub(super) fn gone(id: &str) -> ConsoleError {
    ConsoleError::NotFound(format!("no channel '{id}' in this workspace"))
}

async fn replace_secrets(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(user, fields): CsrfForm<Fields>,
) -> Result<Response, ConsoleError> {
    user.require_admin()?;
    let channel = load(&state, &user, &id).await?;
    let entered: Map<String, Value> = entered_secrets(&fields)
        .into_iter()
        .filter(|(name, _)| secret_names(channel.provider).contains(&name.as_str()))
        .collect();
    if entered.is_empty() {
        let errors = vec![FieldError::new(
            "secrets",
            "enter at least one secret to replace",
        )];
        let page = channel_page(&state, &user, &channel, errors, None, None).await?;
        return Ok(form::refused(page));
    }
    match channels::replace_secrets(&state, user.workspace(), channel.id, entered).await {
        Ok(Some(_)) => Ok(form::done(
            &path(&format!("/channels/{}", channel.id)),
            "secrets-replaced",
        )),
        Ok(None) => Err(gone(&id)),
        Err(error) => {
            let page =
                channel_page(&state, &user, &channel, form::faults(error)?, None, None).await?;
            Ok(form::refused(page))
        }
    }
}
