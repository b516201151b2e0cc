//! Creating and editing a campaign: the form reads what a person typed into the same
//! request the API takes and hands it to the same check
//! ([`crate::usecases::campaigns::check`]); every error is shown beside its field and
//! named in a summary at the top. Calling hours are typed one window per line
//! (`MONDAY 09:00-17:00`), template parameters one per line.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use leadline_core::FieldErrors;
use leadline_core::calling_hours::CallingWindowInput;
use leadline_core::campaign::RetryInterval;
use leadline_core::views::CampaignView;
use minijinja::context;
use minijinja::value::Serde;
use serde::Serialize;

use super::super::csrf::CsrfForm;
use super::super::pages::{self, Section};
use super::super::{BASE, ConsoleError, ConsoleUser};
use super::{console_error, load};
use crate::state::AppState;
use crate::usecases::campaigns::{self, CampaignError, CampaignRequest};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(&format!("{BASE}/campaigns/new"), get(new))
        .route(
            &format!("{BASE}/campaigns/{{id}}/edit"),
            get(edit).post(update),
        )
}

/// The fields of the form, in the order they are shown, with their labels.
const LABELS: [(&str, &str); 11] = [
    ("name", "Name"),
    ("channelId", "Channel"),
    ("defaultTimeZone", "Time zone"),
    ("defaultCountry", "Country"),
    ("callingHours", "Calling hours"),
    ("maxAttempts", "Attempts per lead"),
    ("retryInterval", "Retry interval"),
    ("openingTemplate", "Opening template"),
    ("openingTemplateParams", "Template parameters"),
    ("openingScript", "Opening script"),
    ("concurrency", "Calls at once"),
];

/// What the form shows: the values typed and the errors of each field.
#[derive(Debug, Default, Serialize)]
struct FormState {
    values: BTreeMap<String, String>,
    /// Field → its messages.
    errors: BTreeMap<String, Vec<String>>,
    /// "Label: message" for the summary, in the fields' order.
    summary: Vec<String>,
}

impl FormState {
    /// Every field of the form has a value, empty when none was given.
    fn complete(mut self) -> Self {
        for (name, _) in LABELS {
            self.values.entry(name.to_owned()).or_default();
        }
        self
    }

    fn of_campaign(view: &CampaignView) -> Self {
        let mut values = BTreeMap::new();
        values.insert("name".into(), view.name.clone());
        values.insert("channelId".into(), view.channel_id.clone());
        values.insert("defaultTimeZone".into(), view.default_time_zone.clone());
        values.insert("defaultCountry".into(), view.default_country.clone());
        let hours: Vec<String> = view
            .calling_hours
            .iter()
            .map(|w| format!("{} {}-{}", w.day, w.start, w.end))
            .collect();
        values.insert("callingHours".into(), hours.join("\n"));
        values.insert("maxAttempts".into(), view.max_attempts.to_string());
        values.insert("retryInterval".into(), view.retry_interval.as_str().into());
        values.insert(
            "openingTemplate".into(),
            view.opening_template.clone().unwrap_or_default(),
        );
        values.insert(
            "openingTemplateParams".into(),
            view.opening_template_params.join("\n"),
        );
        values.insert(
            "openingScript".into(),
            view.opening_script.clone().unwrap_or_default(),
        );
        values.insert("concurrency".into(), view.concurrency.to_string());
        Self {
            values,
            ..Self::default()
        }
    }

    fn fresh() -> Self {
        let mut values = BTreeMap::new();
        values.insert("defaultTimeZone".into(), "America/New_York".into());
        values.insert("defaultCountry".into(), "US".into());
        values.insert(
            "callingHours".into(),
            ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"]
                .map(|day| format!("{day} 09:00-17:00"))
                .join("\n"),
        );
        values.insert("maxAttempts".into(), "3".into());
        values.insert("retryInterval".into(), "Daily".into());
        values.insert("concurrency".into(), "10".into());
        Self {
            values,
            ..Self::default()
        }
    }

    /// Files `field: message` under the form field it belongs to
    /// (`callingHours[2].start` under `callingHours`).
    fn add(&mut self, field: &str, message: &str, window_lines: &[usize]) {
        let base = field.split(['[', '.']).next().unwrap_or(field).to_owned();
        let message = match (base.as_str(), field_index(field)) {
            ("callingHours", Some(i)) => {
                let line = window_lines.get(i).copied().unwrap_or(i + 1);
                let part = field.rsplit('.').next().unwrap_or("");
                format!("line {line} ({part}): {message}")
            }
            ("openingTemplateParams", Some(i)) => format!("line {}: {message}", i + 1),
            _ => message.to_owned(),
        };
        let label = LABELS
            .iter()
            .find(|(name, _)| *name == base)
            .map_or(base.as_str(), |(_, label)| *label);
        self.summary.push(format!("{label}: {message}"));
        self.errors.entry(base).or_default().push(message);
    }
}

fn field_index(field: &str) -> Option<usize> {
    let start = field.find('[')? + 1;
    let end = field[start..].find(']')? + start;
    field[start..end].parse().ok()
}

/// The typed values read into the API's request; errors of values that are not even
/// numbers or days are collected, with the line of each calling-hours window.
fn read(values: &BTreeMap<String, String>) -> (CampaignRequest, FieldErrors, Vec<usize>) {
    let mut errors = FieldErrors::new();
    let get = |name: &str| values.get(name).map(|v| v.trim()).unwrap_or("");
    let optional = |name: &str| Some(get(name).to_owned()).filter(|v| !v.is_empty());
    let whole = |name: &str, errors: &mut FieldErrors| -> Option<u32> {
        let value = get(name);
        if value.is_empty() {
            return None;
        }
        value.parse().map(Some).unwrap_or_else(|_| {
            errors.push(name, "must be a whole number");
            None
        })
    };
    let max_attempts = whole("maxAttempts", &mut errors);
    let concurrency = whole("concurrency", &mut errors);
    let retry_interval = match get("retryInterval") {
        "" => None,
        raw => RetryInterval::parse(raw).or_else(|| {
            errors.push(
                "retryInterval",
                format!("must be {}", RetryInterval::expected()),
            );
            None
        }),
    };
    let mut calling_hours = Vec::new();
    let mut window_lines = Vec::new();
    for (n, line) in get("callingHours").lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let parts: Vec<&str> = line
            .split(|c: char| c.is_whitespace() || c == '-')
            .filter(|p| !p.is_empty())
            .collect();
        match parts.as_slice() {
            [day, start, end] => {
                calling_hours.push(CallingWindowInput {
                    day: (*day).to_owned(),
                    start: (*start).to_owned(),
                    end: (*end).to_owned(),
                });
                window_lines.push(n + 1);
            }
            _ => errors.push(
                "callingHours",
                format!("line {}: write a window as MONDAY 09:00-17:00", n + 1),
            ),
        }
    }
    let request = CampaignRequest {
        name: get("name").to_owned(),
        channel_id: get("channelId").to_owned(),
        default_time_zone: get("defaultTimeZone").to_owned(),
        default_country: optional("defaultCountry"),
        calling_hours,
        max_attempts,
        retry_interval,
        opening_template: optional("openingTemplate"),
        opening_template_params: get("openingTemplateParams")
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect(),
        opening_script: optional("openingScript"),
        concurrency,
    };
    (request, errors, window_lines)
}

/// Checks the typed values as the API would; the fields to store, or the form again
/// with every error.
async fn check(
    state: &AppState,
    user: &ConsoleUser,
    values: BTreeMap<String, String>,
) -> Result<Result<leadline_store::campaigns::CampaignFields, FormState>, ConsoleError> {
    let (request, read_errors, window_lines) = read(&values);
    let mut form = FormState {
        values,
        ..FormState::default()
    };
    let checked = campaigns::check(&state.store, user.workspace(), request).await;
    let mut errors = read_errors.into_vec();
    let fields = match checked {
        Ok(fields) => Some(fields),
        Err(CampaignError::Invalid(found)) => {
            for error in found.into_vec() {
                if !errors.iter().any(|e| e.field == error.field) {
                    errors.push(error);
                }
            }
            None
        }
        Err(CampaignError::UnknownChannel(_)) => {
            errors.push(leadline_core::FieldError::new(
                "channelId",
                "choose a channel of this workspace",
            ));
            None
        }
        Err(other) => return Err(console_error(other)),
    };
    let order = |field: &str| {
        let base = field.split(['[', '.']).next().unwrap_or(field);
        LABELS.iter().position(|(name, _)| *name == base)
    };
    errors.sort_by_key(|e| order(&e.field));
    for error in &errors {
        form.add(&error.field, &error.message, &window_lines);
    }
    Ok(match fields {
        Some(fields) if errors.is_empty() => Ok(fields),
        _ => Err(form),
    })
}

/// Renders the form; `campaign` is the one edited, if any.
async fn render(
    state: &AppState,
    user: &ConsoleUser,
    campaign: Option<&CampaignView>,
    form: FormState,
) -> Result<Html<String>, ConsoleError> {
    let channels: Vec<_> = state
        .store
        .list_channels(user.workspace(), None, 500)
        .await?
        .into_iter()
        .map(|c| {
            context! {
                id => c.id.to_string(),
                name => c.name,
                carries => c.carries.to_string(),
            }
        })
        .collect();
    let mut templates: Vec<String> = state
        .store
        .list_templates(user.workspace(), None, 500)
        .await?
        .into_iter()
        .map(|t| t.name)
        .collect();
    templates.sort();
    templates.dedup();
    let intervals: Vec<&str> = RetryInterval::ALL.iter().map(|r| r.as_str()).collect();
    pages::render(
        user,
        Section::Campaigns,
        "campaign_form.html",
        context! {
            campaign => campaign.map(Serde),
            form => Serde(form.complete()),
            channels,
            templates,
            intervals,
        },
    )
}

fn invalid(page: Html<String>) -> Response {
    (StatusCode::UNPROCESSABLE_ENTITY, page).into_response()
}

/// `/console/campaigns/new`.
async fn new(
    State(state): State<AppState>,
    user: ConsoleUser,
) -> Result<Html<String>, ConsoleError> {
    user.require_admin()?;
    render(&state, &user, None, FormState::fresh()).await
}

/// Creates the campaign (in DRAFT) and opens its page.
pub(super) async fn create(
    State(state): State<AppState>,
    CsrfForm(user, values): CsrfForm<BTreeMap<String, String>>,
) -> Result<Response, ConsoleError> {
    user.require_admin()?;
    match check(&state, &user, values).await? {
        Ok(fields) => {
            let campaign = state
                .store
                .create_campaign(user.workspace(), fields)
                .await?;
            tracing::info!(campaign = %campaign.id, "campaign created in the console");
            Ok(Redirect::to(&format!("{BASE}/campaigns/{}", campaign.id)).into_response())
        }
        Err(form) => Ok(invalid(render(&state, &user, None, form).await?)),
    }
}

/// `/console/campaigns/ID/edit`.
async fn edit(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
) -> Result<Html<String>, ConsoleError> {
    user.require_admin()?;
    let view = CampaignView::from(load(&state, &user, &id).await?);
    let form = FormState::of_campaign(&view);
    render(&state, &user, Some(&view), form).await
}

/// Replaces the campaign's settings (its status and leads stay).
async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(user, values): CsrfForm<BTreeMap<String, String>>,
) -> Result<Response, ConsoleError> {
    user.require_admin()?;
    let campaign = load(&state, &user, &id).await?;
    match check(&state, &user, values).await? {
        Ok(fields) => {
            state
                .store
                .update_campaign(user.workspace(), campaign.id, fields)
                .await?
                .ok_or_else(|| {
                    ConsoleError::NotFound("the campaign was deleted meanwhile".into())
                })?;
            Ok(Redirect::to(&format!("{BASE}/campaigns/{}", campaign.id)).into_response())
        }
        Err(form) => {
            let view = CampaignView::from(campaign);
            Ok(invalid(render(&state, &user, Some(&view), form).await?))
        }
    }
}
