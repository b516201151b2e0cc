//! The manager's campaigns (admins only): the list with each campaign's progress, a
//! campaign's page with its live progress and the gate's reasons for the leads still
//! waiting, and the activate and pause buttons. Creating and editing live in
//! [`form`], adding leads from a CSV in [`upload`]. Every change goes through the same
//! use cases as `/api/v1/campaigns` ([`crate::usecases::campaigns`]).

mod form;
mod upload;

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{Path, State};
use axum::response::{Html, Redirect};
use axum::routing::{get, post};
use leadline_core::CampaignId;
use leadline_core::campaign::{CampaignStatus, LeadStatus};
use leadline_core::views::CampaignView;
use leadline_store::campaigns::Campaign;
use minijinja::context;
use minijinja::value::Serde;
use serde::Serialize;

use super::csrf::CsrfForm;
use super::pages::{self, Section};
use super::{BASE, ConsoleError, ConsoleUser};
use crate::extract::timestamp;
use crate::state::AppState;
use crate::usecases::campaigns::{self, CampaignError, CampaignStats};

/// The lead statuses whose leads still wait for an attempt.
const WAITING: [LeadStatus; 2] = [LeadStatus::New, LeadStatus::NeedRetry];
/// Waiting leads read per status to explain the wait.
const WAITING_SHOWN: u32 = 50;
/// Campaigns listed at most.
const LISTED: u32 = 500;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(&format!("{BASE}/campaigns"), get(list).post(form::create))
        .route(&format!("{BASE}/campaigns/{{id}}"), get(show))
        .route(&format!("{BASE}/campaigns/{{id}}/activate"), post(activate))
        .route(&format!("{BASE}/campaigns/{{id}}/pause"), post(pause))
        .merge(form::router())
        .merge(upload::router())
}

/// A campaign of the person's workspace named in a path.
pub(crate) async fn load(
    state: &AppState,
    user: &ConsoleUser,
    id: &str,
) -> Result<Campaign, ConsoleError> {
    let missing = || ConsoleError::NotFound(format!("no campaign '{id}' in this workspace"));
    let id: CampaignId = id.trim().parse().map_err(|_| missing())?;
    state
        .store
        .campaign(user.workspace(), id)
        .await?
        .ok_or_else(missing)
}

/// A campaign's progress as the pages show it.
#[derive(Debug, Serialize)]
struct Progress {
    stats: CampaignStats,
    /// Every lead status with its count, in the taxonomy's order.
    statuses: Vec<(String, u64)>,
    /// Leads finished, of all.
    done: u64,
    /// 0 to 100.
    percent: u64,
}

impl Progress {
    fn of(stats: CampaignStats) -> Self {
        let statuses = LeadStatus::ALL
            .iter()
            .map(|s| {
                let count = stats.by_status.get(s.as_str()).copied().unwrap_or(0);
                (s.as_str().to_owned(), count)
            })
            .collect();
        let done = stats.leads.saturating_sub(stats.remaining);
        let percent = (done * 100).checked_div(stats.leads).unwrap_or(0);
        Self {
            stats,
            statuses,
            done,
            percent,
        }
    }
}

/// A waiting lead and what the gate last said of it.
#[derive(Debug, Serialize)]
struct WaitingLead {
    id: String,
    phone: String,
    status: String,
    attempts: u32,
    next_attempt_at: Option<String>,
    decision: Option<String>,
    reason: Option<String>,
}

/// The gate's reasons for the leads still waiting (the first [`WAITING_SHOWN`] of each
/// waiting status), most frequent first, with the leads read.
async fn waiting(
    state: &AppState,
    campaign: &Campaign,
) -> Result<(Vec<(String, usize)>, Vec<WaitingLead>), ConsoleError> {
    let mut leads = Vec::new();
    for status in WAITING {
        let page = state
            .store
            .list_leads(
                campaign.workspace_id,
                campaign.id,
                Some(status),
                None,
                WAITING_SHOWN,
            )
            .await?;
        leads.extend(page.into_iter().map(|lead| WaitingLead {
            id: lead.id.to_string(),
            phone: lead.phone_number.as_str().to_owned(),
            status: lead.status.as_str().to_owned(),
            attempts: lead.attempts,
            next_attempt_at: lead.next_attempt_at.map(timestamp),
            decision: lead.last_decision.map(|d| d.as_str().to_owned()),
            reason: lead.last_decision_reason,
        }));
    }
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    for lead in &leads {
        let reason = lead
            .reason
            .clone()
            .unwrap_or_else(|| "not looked at by the scheduler yet".to_owned());
        *reasons.entry(reason).or_default() += 1;
    }
    let mut reasons: Vec<(String, usize)> = reasons.into_iter().collect();
    reasons.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Ok((reasons, leads))
}

/// `/console/campaigns`: every campaign with its progress.
async fn list(
    State(state): State<AppState>,
    user: ConsoleUser,
) -> Result<Html<String>, ConsoleError> {
    user.require_admin()?;
    let all = state
        .store
        .list_campaigns(user.workspace(), None, LISTED)
        .await?;
    let mut rows = Vec::with_capacity(all.len());
    for campaign in all {
        let progress = Progress::of(campaigns::stats(&state.store, &campaign).await?);
        rows.push(context! {
            campaign => Serde(CampaignView::from(campaign)),
            progress => Serde(progress),
        });
    }
    pages::render(
        &user,
        Section::Campaigns,
        "campaigns.html",
        context! { campaigns => rows, listed => LISTED },
    )
}

/// What a campaign's page shows after an upload.
#[derive(Debug, Default, Serialize)]
pub(crate) struct UploadResult {
    pub accepted: usize,
    pub rejected: usize,
    /// The rejected rows as a `data:` URL of CSV, when some were rejected.
    pub rejected_href: Option<String>,
    /// Rows left out of the download (past its limit).
    pub rejected_left_out: usize,
    /// Why nothing was imported (a bad file), naming the field.
    pub error: Option<String>,
}

/// Renders a campaign's page, with the result of an upload when there was one.
pub(crate) async fn page(
    state: &AppState,
    user: &ConsoleUser,
    campaign: Campaign,
    upload: Option<UploadResult>,
) -> Result<Html<String>, ConsoleError> {
    let progress = Progress::of(campaigns::stats(&state.store, &campaign).await?);
    let (reasons, waiting_leads) = waiting(state, &campaign).await?;
    let channel = state
        .store
        .channel(campaign.workspace_id, campaign.fields.channel_id)
        .await?
        .map(|c| c.name);
    pages::render(
        user,
        Section::Campaigns,
        "campaign.html",
        context! {
            campaign => Serde(CampaignView::from(campaign)),
            channel,
            progress => Serde(progress),
            reasons => Serde(reasons),
            waiting => Serde(waiting_leads),
            waiting_shown => WAITING_SHOWN,
            upload => upload.map(Serde),
        },
    )
}

/// `/console/campaigns/ID`.
async fn show(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
) -> Result<Html<String>, ConsoleError> {
    user.require_admin()?;
    let campaign = load(&state, &user, &id).await?;
    page(&state, &user, campaign, None).await
}

async fn switch(
    state: &AppState,
    user: &ConsoleUser,
    id: &str,
    to: CampaignStatus,
) -> Result<Redirect, ConsoleError> {
    user.require_admin()?;
    let campaign = load(state, user, id).await?;
    campaigns::switch(&state.store, &campaign, to)
        .await
        .map_err(console_error)?;
    if to == CampaignStatus::Active {
        state.wake_scheduler();
    }
    Ok(Redirect::to(&format!("{BASE}/campaigns/{}", campaign.id)))
}

/// Starts (or resumes) the campaign.
async fn activate(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(user, _): CsrfForm<BTreeMap<String, String>>,
) -> Result<Redirect, ConsoleError> {
    switch(&state, &user, &id, CampaignStatus::Active).await
}

/// Stops new attempts; activate resumes.
async fn pause(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(user, _): CsrfForm<BTreeMap<String, String>>,
) -> Result<Redirect, ConsoleError> {
    switch(&state, &user, &id, CampaignStatus::Paused).await
}

/// A campaign use case's refusal as the console shows it (field errors are shown on
/// the form by [`form`], not here).
pub(crate) fn console_error(error: CampaignError) -> ConsoleError {
    match error {
        CampaignError::Store(error) => ConsoleError::Store(error),
        CampaignError::Deleted => ConsoleError::NotFound(error.to_string()),
        CampaignError::Invalid(errors) => ConsoleError::BadRequest(
            errors
                .into_vec()
                .into_iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; "),
        ),
        other => ConsoleError::BadRequest(other.to_string()),
    }
}
