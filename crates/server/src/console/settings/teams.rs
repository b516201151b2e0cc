//! Teams: the list, creating one, and one team's page to rename it, describe it and
//! choose its members (checkboxes over the workspace's users, kept in the users'
//! order).
//!
//! - `GET /console/settings/teams`, `POST` (create)
//! - `GET /console/settings/teams/{id}`, `POST` (save name, description, members)

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{Html, Response};
use axum::routing::get;
use leadline_core::{FieldError, Patch, TeamId};
use leadline_store::teams::Team;
use minijinja::context;
use minijinja::value::Serde;
use serde::Serialize;

use super::form::{self, NoticeQuery};
use super::path;
use super::users::all_users;
use crate::console::csrf::CsrfForm;
use crate::console::pages::{self, Section};
use crate::console::{ConsoleError, ConsoleUser};
use crate::state::AppState;
use crate::usecases::settings::teams;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(&path("/teams"), get(list).post(create))
        .route(&path("/teams/{id}"), get(edit).post(save))
}

type Fields = BTreeMap<String, String>;

#[derive(Serialize)]
struct TeamRow {
    id: String,
    name: String,
    description: String,
    members: Vec<String>,
}

async fn list_page(
    state: &AppState,
    user: &ConsoleUser,
    values: &Fields,
    errors: Vec<FieldError>,
    notice: Option<&str>,
) -> Result<Html<String>, ConsoleError> {
    let workspace = user.workspace();
    let people = all_users(state, user).await?;
    let all = form::all_pages(
        1_000,
        |t: &Team| t.id,
        |after, limit| state.store.list_teams(workspace, after, limit),
    )
    .await?;
    let rows: Vec<TeamRow> = all
        .into_iter()
        .map(|team| TeamRow {
            id: team.id.to_string(),
            members: team
                .member_user_ids
                .iter()
                .map(|id| {
                    people
                        .iter()
                        .find(|p| p.id == *id)
                        .map_or_else(|| id.to_string(), |p| p.email.to_string())
                })
                .collect(),
            name: team.name,
            description: team.description.unwrap_or_default(),
        })
        .collect();
    pages::render(
        user,
        Section::Settings,
        "settings/teams.html",
        context! { teams => Serde(rows), values => Serde(values), errors => Serde(errors), notice },
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

fn value<'a>(fields: &'a Fields, name: &str) -> &'a str {
    fields.get(name).map_or("", String::as_str)
}

async fn create(
    State(state): State<AppState>,
    CsrfForm(user, fields): CsrfForm<Fields>,
) -> Result<Response, ConsoleError> {
    user.require_admin()?;
    let created = teams::create(
        &state,
        user.workspace(),
        value(&fields, "name"),
        form::given(value(&fields, "description")),
        &[],
    )
    .await;
    match created {
        Ok(team) => Ok(form::done(
            &path(&format!("/teams/{}", team.id)),
            "team-created",
        )),
        Err(error) => {
            let errors = form::faults(error)?;
            let page = list_page(&state, &user, &fields, errors, None).await?;
            Ok(form::refused(page))
        }
    }
}

#[derive(Serialize)]
struct MemberChoice {
    id: String,
    email: String,
    member: bool,
}

async fn team_page(
    state: &AppState,
    user: &ConsoleUser,
    team: &Team,
    values: Option<&Fields>,
    errors: Vec<FieldError>,
    notice: Option<&str>,
) -> Result<Html<String>, ConsoleError> {
    let people = all_users(state, user).await?;
    let choices: Vec<MemberChoice> = people
        .iter()
        .map(|p| MemberChoice {
            id: p.id.to_string(),
            email: p.email.to_string(),
            member: match values {
                Some(values) => values.contains_key(&format!("member-{}", p.id)),
                None => team.member_user_ids.contains(&p.id),
            },
        })
        .collect();
    let (name, description) = match values {
        Some(values) => (
            value(values, "name").to_owned(),
            value(values, "description").to_owned(),
        ),
        None => (
            team.name.clone(),
            team.description.clone().unwrap_or_default(),
        ),
    };
    pages::render(
        user,
        Section::Settings,
        "settings/team.html",
        context! {
            team => context! { id => team.id.to_string(), name => &team.name },
            values => context! { name, description },
            people => Serde(choices),
            errors => Serde(errors),
            notice,
        },
    )
}

async fn load(state: &AppState, user: &ConsoleUser, id: &str) -> Result<Team, ConsoleError> {
    let team_id: TeamId = form::path_id(id, "team")?;
    state
        .store
        .team(user.workspace(), team_id)
        .await?
        .ok_or_else(|| ConsoleError::NotFound(format!("no team '{id}' in this workspace")))
}

async fn edit(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
    Query(query): Query<NoticeQuery>,
) -> Result<Html<String>, ConsoleError> {
    user.require_admin()?;
    let team = load(&state, &user, &id).await?;
    team_page(&state, &user, &team, None, Vec::new(), query.text()).await
}

async fn save(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(user, fields): CsrfForm<Fields>,
) -> Result<Response, ConsoleError> {
    user.require_admin()?;
    let team = load(&state, &user, &id).await?;
    let members: Vec<String> = all_users(&state, &user)
        .await?
        .iter()
        .map(|p| p.id.to_string())
        .filter(|p| fields.contains_key(&format!("member-{p}")))
        .collect();
    let description = match form::given(value(&fields, "description")) {
        Some(text) => Patch::Set(text),
        None => Patch::Clear,
    };
    let saved = teams::update(
        &state,
        user.workspace(),
        team.clone(),
        Patch::Set(value(&fields, "name").to_owned()),
        description,
        Patch::Set(members),
    )
    .await;
    match saved {
        Ok(team) => Ok(form::done(
            &path(&format!("/teams/{}", team.id)),
            "team-saved",
        )),
        Err(error) => {
            let errors = form::faults(error)?;
            let page = team_page(&state, &user, &team, Some(&fields), errors, None).await?;
            Ok(form::refused(page))
        }
    }
}
