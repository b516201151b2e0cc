//! Users: who works in the workspace, with their role and whether they can log in;
//! inviting a user (the one-time password is shown once, on the answer, to hand over);
//! a user's sessions, and ending them all.
//!
//! - `GET /console/settings/users`, `POST` (invite)
//! - `GET /console/settings/users/{id}` (sessions)
//! - `POST /console/settings/users/{id}/revoke-sessions`

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use leadline_core::user::Role;
use leadline_core::{FieldError, UserId};
use leadline_store::users::User;
use minijinja::context;
use minijinja::value::Serde;
use serde::{Deserialize, Serialize};

use super::form::{self, NoticeQuery};
use super::path;
use crate::console::csrf::CsrfForm;
use crate::console::pages::{self, Section};
use crate::console::{ConsoleError, ConsoleUser};
use crate::extract::timestamp;
use crate::state::AppState;
use crate::usecases::logins::{self, LoginError};
use crate::usecases::settings::users::{self, user_of};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(&path("/users"), get(list).post(invite))
        .route(&path("/users/{id}"), get(sessions))
        .route(&path("/users/{id}/revoke-sessions"), post(revoke_sessions))
}

/// The invitation form's fields, as entered.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InviteFields {
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
}

#[derive(Serialize)]
struct UserRow {
    id: String,
    email: String,
    name: String,
    role: &'static str,
    can_log_in: bool,
}

fn name_of(user: &User) -> String {
    [&user.first_name, &user.last_name]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The workspace's users, oldest first, each with whether they can log in.
pub async fn all_users(state: &AppState, user: &ConsoleUser) -> Result<Vec<User>, ConsoleError> {
    let workspace = user.workspace();
    form::all_pages(
        2_000,
        |u: &User| u.id,
        |after, limit| state.store.list_users(workspace, after, limit),
    )
    .await
}

async fn list_page(
    state: &AppState,
    user: &ConsoleUser,
    values: &InviteFields,
    errors: Vec<FieldError>,
    notice: Option<&str>,
) -> Result<Html<String>, ConsoleError> {
    let mut rows = Vec::new();
    for person in all_users(state, user).await? {
        let can_log_in = state
            .store
            .login(&person.email)
            .await?
            .is_some_and(|login| login.user.id == person.id);
        rows.push(UserRow {
            id: person.id.to_string(),
            name: name_of(&person),
            email: person.email.to_string(),
            role: person.role.as_str(),
            can_log_in,
        });
    }
    pages::render(
        user,
        Section::Settings,
        "settings/users.html",
        context! { users => Serde(rows), values => Serde(values), errors => Serde(errors), notice },
    )
}

async fn list(
    State(state): State<AppState>,
    user: ConsoleUser,
    Query(query): Query<NoticeQuery>,
) -> Result<Html<String>, ConsoleError> {
    user.require_admin()?;
    let values = InviteFields {
        role: Role::Advisor.as_str().to_owned(),
        ..InviteFields::default()
    };
    list_page(&state, &user, &values, Vec::new(), query.text()).await
}

async fn invite(
    State(state): State<AppState>,
    CsrfForm(user, fields): CsrfForm<InviteFields>,
) -> Result<Response, ConsoleError> {
    user.require_admin()?;
    let role = Role::parse(&fields.role);
    let checked = users::checked(
        &fields.email,
        form::given(&fields.first_name),
        form::given(&fields.last_name),
    );
    let (checked, role) = match (checked, role) {
        (Ok(checked), Some(role)) => (checked, role),
        (checked, role) => {
            let mut errors = checked.err().map(|e| e.into_vec()).unwrap_or_default();
            if role.is_none() {
                errors.push(FieldError::new("role", "choose ADVISOR or ADMIN"));
            }
            let page = list_page(&state, &user, &fields, errors, None).await?;
            return Ok(form::refused(page));
        }
    };
    let invited = logins::invite(
        &state.store,
        user.workspace(),
        checked.email,
        role,
        checked.first_name,
        checked.last_name,
    )
    .await;
    let invited = match invited {
        Ok(invited) => invited,
        Err(error @ (LoginError::EmailTaken(_) | LoginError::LoginTaken(_))) => {
            let message = error.to_string();
            let message = message.strip_prefix("email: ").unwrap_or(&message);
            let errors = vec![FieldError::new("email", message)];
            let page = list_page(&state, &user, &fields, errors, None).await?;
            return Ok(form::refused(page));
        }
        Err(LoginError::Store(error)) => return Err(error.into()),
        Err(other) => return Err(ConsoleError::Internal(other.to_string())),
    };
    tracing::info!(by = %user.user_id(), invited = %invited.user.id, role = invited.user.role.as_str(), "user invited from the console");
    let page = pages::render(
        &user,
        Section::Settings,
        "settings/invited.html",
        context! {
            invited => context! {
                id => invited.user.id.to_string(),
                email => invited.user.email.as_str(),
                role => invited.user.role.as_str(),
            },
            one_time_password => invited.one_time_password,
        },
    )?;
    Ok(form::no_store(page))
}

#[derive(Serialize)]
struct SessionRow {
    user_agent: Option<String>,
    created_at: String,
    last_seen_at: String,
    ends: String,
    in_force: bool,
}

async fn sessions(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
    Query(query): Query<NoticeQuery>,
) -> Result<Html<String>, ConsoleError> {
    user.require_admin()?;
    let person = load(&state, &user, &id).await?;
    let now = state.store.clock().now();
    let rows: Vec<SessionRow> = state
        .store
        .user_sessions(person.id)
        .await?
        .into_iter()
        .map(|s| SessionRow {
            in_force: s.revoked_at.is_none() && s.expires_at > now,
            ends: timestamp(s.revoked_at.unwrap_or(s.expires_at)),
            user_agent: s.user_agent,
            created_at: timestamp(s.created_at),
            last_seen_at: timestamp(s.last_seen_at),
        })
        .collect();
    pages::render(
        &user,
        Section::Settings,
        "settings/user.html",
        context! {
            person => context! {
                id => person.id.to_string(),
                email => person.email.as_str(),
                name => name_of(&person),
                role => person.role.as_str(),
            },
            sessions => Serde(rows),
            notice => query.text(),
        },
    )
}

async fn load(state: &AppState, user: &ConsoleUser, id: &str) -> Result<User, ConsoleError> {
    let user_id: UserId = form::path_id(id, "user")?;
    Ok(user_of(&state.store, user.workspace(), "id", user_id).await?)
}

#[derive(Debug, Deserialize)]
struct NoFields {}

async fn revoke_sessions(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(user, NoFields {}): CsrfForm<NoFields>,
) -> Result<Response, ConsoleError> {
    user.require_admin()?;
    let person = load(&state, &user, &id).await?;
    let ended = state.store.revoke_user_sessions(person.id, None).await?;
    tracing::info!(by = %user.user_id(), user = %person.id, ended, "console sessions revoked by an admin");
    Ok(form::done(&path(&format!("/users/{}", person.id)), "sessions-revoked").into_response())
}
