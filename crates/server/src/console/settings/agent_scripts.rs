//! The agent's flow scripts: the list, creating one, and one script's page to replace
//! or delete it. The script itself is edited as JSON (its shape is the API's); faults
//! inside it are named by their path (`script.questions[0].attribute`).
//!
//! - `GET /console/settings/agent/scripts`, `POST` (create)
//! - `GET /console/settings/agent/scripts/{id}`, `POST` (replace)
//! - `POST /console/settings/agent/scripts/{id}/delete`

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{Html, Response};
use axum::routing::{get, post};
use leadline_core::agent::flow::FlowScript;
use leadline_core::{AgentScriptId, FieldError, FieldErrors};
use leadline_store::agent_settings::AgentScript;
use minijinja::context;
use minijinja::value::Serde;
use serde::Serialize;

use super::form::{self, NoticeQuery};
use super::path;
use crate::console::csrf::CsrfForm;
use crate::console::pages::{self, Section};
use crate::console::{ConsoleError, ConsoleUser};
use crate::state::AppState;
use crate::usecases::settings::agent_scripts::{self, ScriptInput};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(&path("/agent/scripts"), get(list).post(create))
        .route(&path("/agent/scripts/{id}"), get(edit).post(replace))
        .route(&path("/agent/scripts/{id}/delete"), post(delete))
}

type Fields = BTreeMap<String, String>;

fn value<'a>(fields: &'a Fields, name: &str) -> &'a str {
    fields.get(name).map_or("", String::as_str)
}

const EXAMPLE: &str = r#"{
  "questions": []
}"#;

#[derive(Serialize)]
struct ScriptRow {
    id: String,
    name: String,
    scope: String,
}

fn fields_of(script: &AgentScript) -> Fields {
    [
        ("name", script.name.clone()),
        ("campaignId", script.campaign_id.clone().unwrap_or_default()),
        (
            "channelId",
            script.channel_id.map(|c| c.to_string()).unwrap_or_default(),
        ),
        (
            "script",
            serde_json::to_string_pretty(&script.script).unwrap_or_default(),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
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
        1_000,
        |s: &AgentScript| s.id,
        |after, limit| state.store.list_agent_scripts(workspace, after, limit),
    )
    .await?;
    let rows: Vec<ScriptRow> = all
        .into_iter()
        .map(|s| ScriptRow {
            id: s.id.to_string(),
            scope: match (&s.campaign_id, s.channel_id) {
                (Some(campaign), _) => format!("campaign {campaign}"),
                (None, Some(channel)) => format!("channel {channel}"),
                (None, None) => "the whole workspace".to_owned(),
            },
            name: s.name,
        })
        .collect();
    pages::render(
        user,
        Section::Settings,
        "settings/agent_scripts.html",
        context! { scripts => Serde(rows), values => Serde(values), errors => Serde(errors), notice },
    )
}

async fn list(
    State(state): State<AppState>,
    user: ConsoleUser,
    Query(query): Query<NoticeQuery>,
) -> Result<Html<String>, ConsoleError> {
    user.require_admin()?;
    let mut values = Fields::new();
    values.insert("script".into(), EXAMPLE.into());
    list_page(&state, &user, &values, Vec::new(), query.text()).await
}

/// Reads the form; the script must be JSON of a flow script.
fn input_of(fields: &Fields) -> Result<ScriptInput, FieldErrors> {
    let script = serde_json::from_str::<FlowScript>(value(fields, "script")).map_err(|error| {
        FieldErrors::from(FieldError::new(
            "script",
            format!("is not a flow script in JSON: {error}"),
        ))
    })?;
    Ok(ScriptInput {
        name: value(fields, "name").to_owned(),
        campaign_id: form::given(value(fields, "campaignId")),
        channel_id: form::given(value(fields, "channelId")),
        script,
    })
}

async fn create(
    State(state): State<AppState>,
    CsrfForm(user, fields): CsrfForm<Fields>,
) -> Result<Response, ConsoleError> {
    user.require_admin()?;
    let created = match input_of(&fields) {
        Ok(input) => agent_scripts::create(&state, user.workspace(), input).await,
        Err(errors) => Err(errors.into()),
    };
    match created {
        Ok(script) => Ok(form::done(
            &path(&format!("/agent/scripts/{}", script.id)),
            "script-created",
        )),
        Err(error) => {
            let page = list_page(&state, &user, &fields, form::faults(error)?, None).await?;
            Ok(form::refused(page))
        }
    }
}

fn script_page(
    user: &ConsoleUser,
    id: AgentScriptId,
    values: &Fields,
    errors: Vec<FieldError>,
    notice: Option<&str>,
) -> Result<Html<String>, ConsoleError> {
    pages::render(
        user,
        Section::Settings,
        "settings/agent_script.html",
        context! { id => id.to_string(), values => Serde(values), errors => Serde(errors), notice },
    )
}

async fn load(state: &AppState, user: &ConsoleUser, id: &str) -> Result<AgentScript, ConsoleError> {
    let script_id: AgentScriptId = form::path_id(id, "agent script")?;
    state
        .store
        .agent_script(user.workspace(), script_id)
        .await?
        .ok_or_else(|| ConsoleError::NotFound(format!("no agent script '{id}' in this workspace")))
}

async fn edit(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
    Query(query): Query<NoticeQuery>,
) -> Result<Html<String>, ConsoleError> {
    user.require_admin()?;
    let script = load(&state, &user, &id).await?;
    script_page(
        &user,
        script.id,
        &fields_of(&script),
        Vec::new(),
        query.text(),
    )
}

async fn replace(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(user, fields): CsrfForm<Fields>,
) -> Result<Response, ConsoleError> {
    user.require_admin()?;
    let script = load(&state, &user, &id).await?;
    let replaced = match input_of(&fields) {
        Ok(input) => agent_scripts::replace(&state, user.workspace(), script.id, input).await,
        Err(errors) => Err(errors.into()),
    };
    match replaced {
        Ok(_) => Ok(form::done(
            &path(&format!("/agent/scripts/{}", script.id)),
            "script-saved",
        )),
        Err(error) => Ok(form::refused(script_page(
            &user,
            script.id,
            &fields,
            form::faults(error)?,
            None,
        )?)),
    }
}

#[derive(Debug, serde::Deserialize)]
struct NoFields {}

async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(user, NoFields {}): CsrfForm<NoFields>,
) -> Result<Response, ConsoleError> {
    user.require_admin()?;
    let script = load(&state, &user, &id).await?;
    if state
        .store
        .delete_agent_script(user.workspace(), script.id)
        .await?
    {
        tracing::info!(script = %script.id, "agent script deleted");
    }
    Ok(form::done(&path("/agent/scripts"), "script-deleted"))
}
