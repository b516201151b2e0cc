//! The inbox, `/console/inbox?tab=…`: the conversations the person may see under one
//! tab (mine, my teams' queue, AI-handled, handed off, opted out, closed), newest
//! activity first, fifty a page, each with its contact, last message and how many of
//! the lead's messages the person has not read. The rule of who sees what and the
//! tabs' meaning live in `leadline_core::inbox`; the list is the store's
//! ([`leadline_store::inbox`]). The page declares the event types that change it, so
//! the console's script re-reads its list when one arrives.

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::response::Html;
use axum::routing::get;
use leadline_core::inbox::InboxFilter;
use leadline_store::inbox::{InboxCursor, InboxRow};
use minijinja::context;
use serde::Serialize;

use super::pages::{self, Section};
use super::{BASE, ConsoleError, ConsoleUser};
use crate::state::AppState;

/// The events that change an inbox or a conversation page.
pub const LIVE_TYPES: &str = "message.received,message.sent,message.delivered,message.failed,\
conversation.opened,conversation.handed_off,conversation.released,conversation.closed,\
conversation.opted_out";

pub fn router() -> Router<AppState> {
    Router::new().route(&format!("{BASE}/inbox"), get(inbox))
}

/// A tab as the page links it.
#[derive(Serialize)]
struct Tab {
    name: &'static str,
    label: &'static str,
    current: bool,
}

/// A conversation as the page lists it.
#[derive(Serialize)]
struct Listed {
    id: String,
    name: String,
    phone: String,
    channel: String,
    channel_name: String,
    status: String,
    controller: String,
    assigned: Option<String>,
    team: Option<String>,
    excerpt: String,
    unread: i64,
    last_activity: String,
}

impl From<&InboxRow> for Listed {
    fn from(row: &InboxRow) -> Self {
        let name = [&row.first_name, &row.last_name]
            .into_iter()
            .flatten()
            .map(|part| part.trim())
            .filter(|part| !part.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        Listed {
            id: row.id.to_string(),
            name: if name.is_empty() {
                row.cellphone.clone()
            } else {
                name
            },
            phone: row.cellphone.clone(),
            channel: row.channel_type.as_str().to_owned(),
            channel_name: row.channel_name.clone(),
            status: row.status.as_str().to_owned(),
            controller: row.controller.as_str().to_owned(),
            assigned: row.assigned_email.clone(),
            team: row.team_name.clone(),
            excerpt: row.excerpt.clone().unwrap_or_default(),
            unread: row.unread,
            last_activity: row
                .last_activity_at
                .format("%Y-%m-%d %H:%M UTC")
                .to_string(),
        }
    }
}

/// The query's `tab` and `after`, each checked.
fn parse_query(raw: Option<&str>) -> Result<(InboxFilter, Option<InboxCursor>), ConsoleError> {
    let mut tab = InboxFilter::DEFAULT;
    let mut after = None;
    for (name, value) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        match name.as_ref() {
            "tab" => {
                tab = InboxFilter::parse(&value).ok_or_else(|| {
                    ConsoleError::BadRequest(format!(
                        "tab: '{value}' is not a tab of the inbox; one of {}",
                        InboxFilter::ALL
                            .iter()
                            .map(|t| t.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                })?;
            }
            "after" if !value.is_empty() => {
                after = Some(InboxCursor::decode(&value).ok_or_else(|| {
                    ConsoleError::BadRequest(
                        "after: not a position in the inbox; open the inbox from its first page"
                            .into(),
                    )
                })?);
            }
            _ => {}
        }
    }
    Ok((tab, after))
}

async fn inbox(
    State(state): State<AppState>,
    user: ConsoleUser,
    RawQuery(raw): RawQuery,
) -> Result<Html<String>, ConsoleError> {
    let (tab, after) = parse_query(raw.as_deref())?;
    let page = state
        .store
        .inbox(user.workspace(), &user.viewer, tab, after)
        .await?;
    let tabs: Vec<Tab> = InboxFilter::ALL
        .iter()
        .map(|t| Tab {
            name: t.as_str(),
            label: t.label(),
            current: *t == tab,
        })
        .collect();
    let conversations: Vec<Listed> = page.rows.iter().map(Listed::from).collect();
    let next = page.next.map(|cursor| {
        format!(
            "{BASE}/inbox?tab={}&after={}",
            tab.as_str(),
            cursor.encode()
        )
    });
    pages::render(
        &user,
        Section::Inbox,
        "inbox.html",
        context! {
            tab => tab.as_str(),
            tab_label => tab.label(),
            tabs => minijinja::value::Serde(tabs),
            conversations => minijinja::value::Serde(conversations),
            next,
            first_page => after.is_none(),
            live_types => LIVE_TYPES,
        },
    )
}
