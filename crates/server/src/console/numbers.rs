//! The manager's number pool (admins only): each number with its health, warm-up
//! stage, today's cap and usage and, when it is held, why; pause, block and resume
//! with a reason; and "why this number" ([`why`]), the selection for a test recipient
//! explained candidate by candidate. The status, holds and selection are the API's own
//! use cases ([`number_status`], [`number_holds`], [`crate::usecases::outgoing_number`]).

mod why;

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use leadline_core::PhoneNumberId;
use leadline_core::numbers::Hold;
use leadline_store::phone_numbers::{PhoneNumber, PhoneNumberFilter};
use minijinja::context;
use minijinja::value::Serde;
use serde::Serialize;

use super::csrf::CsrfForm;
use super::pages::{self, Section};
use super::{BASE, ConsoleError, ConsoleUser};
use crate::state::AppState;
use crate::usecases::number_holds::{self, HoldError};
use crate::usecases::number_status::{WarmupResponse, number_status};

/// Numbers read per page of the store.
const PAGE: u32 = 500;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(&format!("{BASE}/numbers"), get(show))
        .route(&format!("{BASE}/numbers/{{id}}/pause"), post(pause))
        .route(&format!("{BASE}/numbers/{{id}}/block"), post(block))
        .route(&format!("{BASE}/numbers/{{id}}/resume"), post(resume))
}

/// One row of the pool.
#[derive(Debug, Serialize)]
struct Row {
    id: String,
    number: String,
    display_number: String,
    label: Option<String>,
    sms: bool,
    call: bool,
    /// `active`, `paused` or `blocked`.
    status: &'static str,
    /// Why it is held; empty when it is not.
    reason: String,
    /// A pause the pool's health rules put on, not a person.
    automatic: bool,
    held_at: Option<String>,
    warmup: WarmupResponse,
}

impl Row {
    fn of(number: &PhoneNumber, warmup: WarmupResponse) -> Self {
        let (status, reason, automatic) = match &number.hold {
            Hold::None => ("active", String::new(), false),
            Hold::Paused { reason, automatic } => ("paused", reason.clone(), *automatic),
            Hold::Blocked { reason } => ("blocked", reason.clone(), false),
        };
        Self {
            id: number.id.to_string(),
            number: number.number.as_str().to_owned(),
            display_number: number.display_number.clone(),
            label: number.label.clone(),
            sms: number.capabilities.sms,
            call: number.capabilities.call,
            status,
            reason,
            automatic,
            held_at: number.held_at.map(crate::extract::timestamp),
            warmup,
        }
    }
}

/// A refused hold, shown in its number's row and at the top of the page.
#[derive(Debug, Serialize)]
struct Problem {
    number_id: String,
    message: String,
}

async fn pool(state: &AppState, user: &ConsoleUser) -> Result<Vec<PhoneNumber>, ConsoleError> {
    let mut numbers = Vec::new();
    let mut after: Option<PhoneNumberId> = None;
    loop {
        let page = state
            .store
            .list_phone_numbers(user.workspace(), PhoneNumberFilter::default(), after, PAGE)
            .await?;
        let full = page.len() == PAGE as usize;
        after = page.last().map(|n| n.id);
        numbers.extend(page);
        if !full {
            return Ok(numbers);
        }
    }
}

async fn render(
    state: &AppState,
    user: &ConsoleUser,
    query: BTreeMap<String, String>,
    problem: Option<Problem>,
) -> Result<Html<String>, ConsoleError> {
    let numbers = pool(state, user).await?;
    let settings = state.store.number_pool_settings(user.workspace()).await?;
    let mut rows = Vec::with_capacity(numbers.len());
    for number in &numbers {
        let warmup = number_status(&state.store, number, &settings).await?;
        rows.push(Row::of(number, warmup));
    }
    let why = why::explain(state, user, &query).await?;
    let choices = why::choices(state, user).await?;
    pages::render(
        user,
        Section::Numbers,
        "numbers.html",
        context! {
            numbers => Serde(rows),
            problem => problem.map(Serde),
            why => Serde(why),
            choices => Serde(choices),
        },
    )
}

/// `/console/numbers`, with the selection explained when the "why this number" form
/// was sent.
async fn show(
    State(state): State<AppState>,
    user: ConsoleUser,
    Query(query): Query<BTreeMap<String, String>>,
) -> Result<Html<String>, ConsoleError> {
    user.require_admin()?;
    render(&state, &user, query, None).await
}

async fn load(state: &AppState, user: &ConsoleUser, id: &str) -> Result<PhoneNumber, ConsoleError> {
    let missing = || ConsoleError::NotFound(format!("no phone number '{id}' in this workspace"));
    let id: PhoneNumberId = id.trim().parse().map_err(|_| missing())?;
    state
        .store
        .phone_number(user.workspace(), id)
        .await?
        .ok_or_else(missing)
}

/// Sets the hold `make` builds from the form's reason (`None` for resume, which takes
/// none), then shows the pool; a refused hold is shown in its row.
async fn hold(
    state: &AppState,
    user: &ConsoleUser,
    id: &str,
    reason: Option<&str>,
    make: impl FnOnce(String) -> Hold,
) -> Result<Response, ConsoleError> {
    user.require_admin()?;
    let number = load(state, user, id).await?;
    let refuse = |message: String| Problem {
        number_id: number.id.to_string(),
        message,
    };
    let hold = match reason.map(number_holds::reason) {
        None => make(String::new()),
        Some(Ok(reason)) => make(reason),
        Some(Err(error)) => {
            let problem = refuse(format!("Reason: {}", error.message));
            return refused(state, user, problem).await;
        }
    };
    match number_holds::set_hold(&state.store, &state.numbers, &number, hold).await {
        Ok(_) => Ok(Redirect::to(&format!("{BASE}/numbers")).into_response()),
        Err(HoldError::Blocked) => {
            let problem = refuse(HoldError::Blocked.to_string());
            refused(state, user, problem).await
        }
        Err(HoldError::Deleted) => Err(ConsoleError::NotFound(HoldError::Deleted.to_string())),
        Err(HoldError::Store(error)) => Err(ConsoleError::Store(error)),
    }
}

async fn refused(
    state: &AppState,
    user: &ConsoleUser,
    problem: Problem,
) -> Result<Response, ConsoleError> {
    let page = render(state, user, BTreeMap::new(), Some(problem)).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

fn reason_of(fields: &BTreeMap<String, String>) -> &str {
    fields.get("reason").map_or("", String::as_str)
}

/// Takes the number out of rotation for now.
async fn pause(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(user, fields): CsrfForm<BTreeMap<String, String>>,
) -> Result<Response, ConsoleError> {
    hold(
        &state,
        &user,
        &id,
        Some(reason_of(&fields)),
        number_holds::paused,
    )
    .await
}

/// Records that a carrier blocked the number.
async fn block(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(user, fields): CsrfForm<BTreeMap<String, String>>,
) -> Result<Response, ConsoleError> {
    hold(&state, &user, &id, Some(reason_of(&fields)), |reason| {
        Hold::Blocked { reason }
    })
    .await
}

/// Puts the number back into rotation.
async fn resume(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(user, _): CsrfForm<BTreeMap<String, String>>,
) -> Result<Response, ConsoleError> {
    hold(&state, &user, &id, None, |_| Hold::None).await
}
