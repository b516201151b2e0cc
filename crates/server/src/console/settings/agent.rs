//! The agent's settings: which agent answers (flow scripts or an LLM), its fixed
//! replies, guardrails, hand-off team, WhatsApp reopen template and LLM endpoint. The
//! LLM key is write-only: the page says whether one is set; leaving the field empty
//! keeps it (while the base URL stays the same), and a checkbox removes it. The
//! reply-hours windows are kept as they are (the API sets them).
//!
//! - `GET /console/settings/agent`, `POST` (save)

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{Query, State};
use axum::response::{Html, Response};
use axum::routing::get;
use leadline_core::agent::settings::{AgentKind, AgentSettings, LlmSettings};
use leadline_core::{FieldError, FieldErrors, Secret, TeamId};
use leadline_store::teams::Team;
use minijinja::context;
use minijinja::value::Serde;

use super::form::{self, NoticeQuery};
use super::path;
use crate::console::csrf::CsrfForm;
use crate::console::pages::{self, Section};
use crate::console::{ConsoleError, ConsoleUser};
use crate::state::AppState;
use crate::usecases::settings::agent;

pub fn router() -> Router<AppState> {
    Router::new().route(&path("/agent"), get(show).post(save))
}

type Fields = BTreeMap<String, String>;

fn value<'a>(fields: &'a Fields, name: &str) -> &'a str {
    fields.get(name).map_or("", String::as_str)
}

/// The form's fields for stored settings (never the key).
fn fields_of(settings: &AgentSettings) -> Fields {
    let llm = settings.llm.as_ref();
    [
        ("agent", settings.agent.as_str().to_owned()),
        ("helpReply", settings.help_reply.clone()),
        ("optOutConfirmation", settings.opt_out_confirmation.clone()),
        ("optInConfirmation", settings.opt_in_confirmation.clone()),
        ("handoffMessage", settings.handoff_message.clone()),
        ("maxTurns", settings.max_turns.to_string()),
        (
            "minReplyDelaySeconds",
            settings.min_reply_delay_seconds.to_string(),
        ),
        (
            "respectQuietHours",
            if settings.respect_quiet_hours {
                "on"
            } else {
                ""
            }
            .to_owned(),
        ),
        (
            "handoffTeamId",
            settings
                .handoff_team_id
                .map(|t| t.to_string())
                .unwrap_or_default(),
        ),
        (
            "whatsappReopenTemplate",
            settings
                .whatsapp_reopen_template
                .clone()
                .unwrap_or_default(),
        ),
        (
            "llm.baseUrl",
            llm.map(|l| l.base_url.clone()).unwrap_or_default(),
        ),
        (
            "llm.model",
            llm.map(|l| l.model.clone()).unwrap_or_default(),
        ),
        (
            "llm.timeoutSeconds",
            llm.map_or(20, |l| l.timeout_seconds).to_string(),
        ),
        (
            "llm.systemPrompt",
            llm.and_then(|l| l.system_prompt.clone())
                .unwrap_or_default(),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

fn number(errors: &mut FieldErrors, fields: &Fields, name: &str) -> u32 {
    value(fields, name).trim().parse().unwrap_or_else(|_| {
        errors.push(name, "must be a whole number");
        0
    })
}

/// The settings the form asks for, on top of the stored ones (whose reply hours stay).
fn settings_of(fields: &Fields, stored: AgentSettings) -> Result<AgentSettings, FieldErrors> {
    let mut errors = FieldErrors::new();
    let agent = AgentKind::parse(value(fields, "agent")).unwrap_or_else(|| {
        errors.push("agent", format!("choose {}", AgentKind::expected()));
        AgentKind::Flow
    });
    let handoff_team_id = match value(fields, "handoffTeamId").trim() {
        "" => None,
        raw => raw.parse::<TeamId>().map(Some).unwrap_or_else(|_| {
            errors.push("handoffTeamId", "must be a team id (a UUID)");
            None
        }),
    };
    let base_url = value(fields, "llm.baseUrl").trim();
    let model = value(fields, "llm.model").trim();
    let llm = if base_url.is_empty() && model.is_empty() {
        None
    } else {
        let api_key = if fields.contains_key("llm.removeKey") {
            Some(Secret::new(""))
        } else {
            form::given(value(fields, "llm.apiKey")).map(Secret::new)
        };
        Some(LlmSettings {
            base_url: base_url.to_owned(),
            model: model.to_owned(),
            api_key,
            api_key_set: false,
            timeout_seconds: number(&mut errors, fields, "llm.timeoutSeconds"),
            system_prompt: form::given(value(fields, "llm.systemPrompt")),
        })
    };
    let settings = AgentSettings {
        agent,
        help_reply: value(fields, "helpReply").to_owned(),
        opt_out_confirmation: value(fields, "optOutConfirmation").to_owned(),
        opt_in_confirmation: value(fields, "optInConfirmation").to_owned(),
        handoff_message: value(fields, "handoffMessage").to_owned(),
        max_turns: number(&mut errors, fields, "maxTurns"),
        min_reply_delay_seconds: number(&mut errors, fields, "minReplyDelaySeconds"),
        respect_quiet_hours: fields.contains_key("respectQuietHours"),
        reply_hours: stored.reply_hours,
        handoff_team_id,
        whatsapp_reopen_template: form::given(value(fields, "whatsappReopenTemplate")),
        llm,
    };
    errors.finish(settings)
}

async fn page(
    state: &AppState,
    user: &ConsoleUser,
    values: &Fields,
    key_set: bool,
    errors: Vec<FieldError>,
    notice: Option<&str>,
) -> Result<Html<String>, ConsoleError> {
    let workspace = user.workspace();
    let teams = form::all_pages(
        1_000,
        |t: &Team| t.id,
        |after, limit| state.store.list_teams(workspace, after, limit),
    )
    .await?;
    let teams: Vec<_> = teams
        .into_iter()
        .map(|t| context! { id => t.id.to_string(), name => t.name })
        .collect();
    pages::render(
        user,
        Section::Settings,
        "settings/agent.html",
        context! {
            values => Serde(values),
            key_set,
            teams,
            kinds => AgentKind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
            errors => Serde(errors),
            notice,
        },
    )
}

fn key_set(settings: &AgentSettings) -> bool {
    settings.llm.as_ref().is_some_and(|l| l.api_key_set)
}

async fn show(
    State(state): State<AppState>,
    user: ConsoleUser,
    Query(query): Query<NoticeQuery>,
) -> Result<Html<String>, ConsoleError> {
    user.require_admin()?;
    let settings = agent::current(&state, user.workspace()).await?;
    page(
        &state,
        &user,
        &fields_of(&settings),
        key_set(&settings),
        Vec::new(),
        query.text(),
    )
    .await
}

async fn save(
    State(state): State<AppState>,
    CsrfForm(user, fields): CsrfForm<Fields>,
) -> Result<Response, ConsoleError> {
    user.require_admin()?;
    let workspace = user.workspace();
    let stored = state.store.agent_settings(workspace).await?;
    let stored_key = stored.llm.as_ref().is_some_and(|l| l.api_key.is_some());
    let saved = match settings_of(&fields, stored) {
        Ok(settings) => agent::save(&state, workspace, settings).await,
        Err(errors) => Err(errors.into()),
    };
    match saved {
        Ok(_) => Ok(form::done(&path("/agent"), "agent-saved")),
        Err(error) => {
            let errors = form::faults(error)?;
            let mut values = fields.clone();
            values.remove("llm.apiKey");
            let page = page(&state, &user, &values, stored_key, errors, None).await?;
            Ok(form::refused(page))
        }
    }
}
