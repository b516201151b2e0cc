//! Settings, for admins only: the workspace's users and teams, channels, message
//! templates, the agent, webhook endpoints and API keys. `/console/settings` links the
//! sections; each section is a module with its own pages.
//!
//! Every change is a form posted with the session's CSRF token, read by the same use
//! cases as the API ([`crate::usecases::settings`]). A refusal draws the form again
//! with what was entered and a message naming each faulty field (status 422); a change
//! made redirects back with a notice. Credentials (a one-time password, a webhook
//! signing secret, an API key) are shown once, on the page answering the form that
//! made them, and never stored where a page could show them again; channel secrets and
//! the LLM key are write-only: pages say whether one is set and offer to replace it.

mod agent;
mod agent_scripts;
mod api_keys;
mod channel_delivery;
mod channels;
mod form;
mod teams;
mod templates;
mod users;
mod webhooks;

use axum::Router;
use axum::extract::Query;
use axum::response::Html;
use axum::routing::get;
use minijinja::context;

use super::pages::{self, Section};
use super::{BASE, ConsoleError, ConsoleUser};
use crate::state::AppState;
use form::NoticeQuery;

/// The path of a settings page: `rest` after `/console/settings`.
fn path(rest: &str) -> String {
    format!("{BASE}/settings{rest}")
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route(&path(""), get(index))
        .merge(users::router())
        .merge(teams::router())
        .merge(channels::router())
        .merge(templates::router())
        .merge(agent::router())
        .merge(agent_scripts::router())
        .merge(webhooks::router())
        .merge(api_keys::router())
}

async fn index(
    user: ConsoleUser,
    Query(query): Query<NoticeQuery>,
) -> Result<Html<String>, ConsoleError> {
    user.require_admin()?;
    pages::render(
        &user,
        Section::Settings,
        "settings/index.html",
        context! { notice => query.text() },
    )
}
