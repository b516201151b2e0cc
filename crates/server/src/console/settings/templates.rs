//! Message templates: the list, creating one, and recording the provider's verdict
//! (the status) on one. Templates cannot be deleted, in the API or here: messages
//! refer to them.
//!
//! - `GET /console/settings/templates`, `POST` (create)
//! - `POST /console/settings/templates/{id}/status`

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{Html, Response};
use axum::routing::{get, post};
use leadline_core::channel::MessageProviderType;
use leadline_core::template::TemplateStatus;
use leadline_core::{FieldError, FieldErrors, TemplateId};
use leadline_store::templates::Template;
use minijinja::context;
use minijinja::value::Serde;
use serde::Serialize;

use super::form::{self, NoticeQuery};
use super::path;
use crate::console::csrf::CsrfForm;
use crate::console::pages::{self, Section};
use crate::console::{ConsoleError, ConsoleUser};
use crate::state::AppState;
use crate::usecases::settings::templates::{self, TemplateInput};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(&path("/templates"), get(list).post(create))
        .route(&path("/templates/{id}/status"), post(set_status))
}

type Fields = BTreeMap<String, String>;

fn value<'a>(fields: &'a Fields, name: &str) -> &'a str {
    fields.get(name).map_or("", String::as_str)
}

#[derive(Serialize)]
struct TemplateRow {
    id: String,
    name: String,
    language: String,
    body: String,
    placeholders: usize,
    channel_type: &'static str,
    status: &'static str,
}

async fn list_page(
    state: &AppState,
    user: &ConsoleUser,
    values: &Fields,
    errors: Vec<FieldError>,
    notice: Option<&str>,
) -> Result<Html<String>, ConsoleError> {
    let workspace = user.workspace();
    let all = form::all_pages(
        2_000,
        |t: &Template| t.id,
        |after, limit| state.store.list_templates(workspace, after, limit),
    )
    .await?;
    let rows: Vec<TemplateRow> = all
        .into_iter()
        .map(|t| TemplateRow {
            id: t.id.to_string(),
            placeholders: t.body.placeholders(),
            body: t.body.as_str().to_owned(),
            name: t.name,
            language: t.language,
            channel_type: t.channel_type.as_str(),
            status: t.status.as_str(),
        })
        .collect();
    pages::render(
        user,
        Section::Settings,
        "settings/templates.html",
        context! {
            templates => Serde(rows),
            values => Serde(values),
            errors => Serde(errors),
            notice,
            kinds => MessageProviderType::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
            statuses => TemplateStatus::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        },
    )
}

async fn list(
    State(state): State<AppState>,
    user: ConsoleUser,
    Query(query): Query<NoticeQuery>,
) -> Result<Html<String>, ConsoleError> {
    user.require_admin()?;
    list_page(&state, &user, &Fields::new(), Vec::new(), query.text()).await
}

/// Reads the creation form; an empty status takes the default for the channel type.
fn input_of(fields: &Fields) -> Result<TemplateInput, FieldErrors> {
    let mut errors = FieldErrors::new();
    let channel_type = MessageProviderType::parse(value(fields, "channelType"));
    if channel_type.is_none() {
        errors.push(
            "channelType",
            format!("choose {}", MessageProviderType::expected()),
        );
    }
    let status = match value(fields, "status") {
        "" => None,
        raw => {
            let status = TemplateStatus::parse(raw);
            if status.is_none() {
                errors.push("status", format!("choose {}", TemplateStatus::expected()));
            }
            status
        }
    };
    errors.finish(())?;
    Ok(TemplateInput {
        name: value(fields, "name").to_owned(),
        language: value(fields, "language").to_owned(),
        body: value(fields, "body").to_owned(),
        channel_type: channel_type.expect("checked above"),
        provider_channel_id: form::given(value(fields, "providerChannelId")),
        status,
    })
}

async fn create(
    State(state): State<AppState>,
    CsrfForm(user, fields): CsrfForm<Fields>,
) -> Result<Response, ConsoleError> {
    user.require_admin()?;
    let created = match input_of(&fields) {
        Ok(input) => templates::create(&state.store, user.workspace(), input).await,
        Err(errors) => Err(errors.into()),
    };
    match created {
        Ok(_) => Ok(form::done(&path("/templates"), "template-created")),
        Err(error) => {
            let page = list_page(&state, &user, &fields, form::faults(error)?, None).await?;
            Ok(form::refused(page))
        }
    }
}

async fn set_status(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(user, fields): CsrfForm<Fields>,
) -> Result<Response, ConsoleError> {
    user.require_admin()?;
    let template_id: TemplateId = form::path_id(&id, "template")?;
    let Some(status) = TemplateStatus::parse(value(&fields, "status")) else {
        let errors = vec![FieldError::new(
            "status",
            format!("choose {}", TemplateStatus::expected()),
        )];
        let page = list_page(&state, &user, &Fields::new(), errors, None).await?;
        return Ok(form::refused(page));
    };
    let template = state
        .store
        .set_template_status(user.workspace(), template_id, status)
        .await?
        .ok_or_else(|| ConsoleError::NotFound(format!("no template '{id}' in this workspace")))?;
    tracing::info!(template = %template.id, status = %template.status, "template status recorded");
    Ok(form::done(&path("/templates"), "template-saved"))
}
