//! Logging in and out, and choosing a new password.
//!
//! - `GET/POST /console/login`: email and password. A refusal never says which of the
//!   two was wrong, takes as long for an unknown email as for a wrong password, and is
//!   limited per email and per address ([`super::throttle`]).
//! - `POST /console/logout`: ends this session.
//! - `GET/POST /console/password`: the current password and a new one, twice. A
//!   person who logged in with a one-time password comes here first. The change ends
//!   every other session of the user.

use std::net::SocketAddr;

use axum::Router;
use axum::extract::{ConnectInfo, Form, Query, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use leadline_core::Email;
use leadline_store::console_sessions::NewConsoleSession;
use minijinja::context;
use serde::Deserialize;

use super::csrf::{self, CsrfForm};
use super::pages::{self, Section};
use super::session::{self, ConsoleUser};
use super::{BASE, ConsoleError};
use crate::auth::password;
use crate::state::AppState;

/// The login form's own CSRF cookie (there is no session yet to hold its token).
const LOGIN_CSRF_COOKIE: &str = "leadline_login_csrf";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(&format!("{BASE}/login"), get(login_page).post(log_in))
        .route(&format!("{BASE}/logout"), post(log_out))
        .route(
            &format!("{BASE}/password"),
            get(password_page).post(change_password),
        )
}

#[derive(Debug, Deserialize)]
struct Next {
    next: Option<String>,
}

/// Where to go after logging in: only a console path of this server, never elsewhere.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with(BASE)
                && !path.starts_with("//")
                && !path.contains('\\')
                && !path.starts_with(&format!("{BASE}/login")) =>
        {
            path.to_owned()
        }
        _ => BASE.to_owned(),
    }
}

async fn login_page(
    State(state): State<AppState>,
    Query(query): Query<Next>,
    jar: CookieJar,
    headers: HeaderMap,
) -> Result<Response, ConsoleError> {
    if session::session_of(&headers, &state).await?.is_some() {
        return Ok(Redirect::to(&safe_next(query.next.as_deref())).into_response());
    }
    Ok(login_form(&state, jar, query.next.as_deref(), "", None))
}

/// The login page with a fresh form token, an email to keep and an error to show.
fn login_form(
    state: &AppState,
    jar: CookieJar,
    next: Option<&str>,
    email: &str,
    error: Option<String>,
) -> Response {
    let (token, _) = session::new_token();
    let cookie = Cookie::build((LOGIN_CSRF_COOKIE, token.clone()))
        .path(format!("{BASE}/login"))
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.console.secure_cookies)
        .build();
    let page = pages::render_bare(
        "login.html",
        context! { csrf => token, next => safe_next(next), email, error },
    );
    (jar.add(cookie), page).into_response()
}

#[derive(Debug, Deserialize)]
struct LoginFields {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
    next: Option<String>,
}

async fn log_in(
    State(state): State<AppState>,
    extensions: axum::http::Extensions,
    headers: HeaderMap,
    jar: CookieJar,
    Form(fields): Form<LoginFields>,
) -> Result<Response, ConsoleError> {
    csrf::check_origin(&headers)?;
    let expected = jar
        .get(LOGIN_CSRF_COOKIE)
        .map(|c| c.value().to_owned())
        .unwrap_or_default();
    if !csrf::matches(&expected, &fields.csrf) {
        return Err(ConsoleError::Csrf);
    }
    let next = fields.next.as_deref();
    let refuse = |jar, message: &str| {
        Ok::<_, ConsoleError>(login_form(
            &state,
            jar,
            next,
            &fields.email,
            Some(message.to_owned()),
        ))
    };
    let Ok(email) = Email::parse(&fields.email) else {
        return refuse(jar, "email: enter the address you were invited with");
    };
    let address = state.limits.client_address(
        &headers,
        extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0),
    );
    if let Err(retry_after) = state
        .console
        .throttle
        .attempt(email.as_str(), Some(address))
    {
        tracing::warn!(email = %email, %address, "console login refused: too many attempts");
        return Err(ConsoleError::TooManyAttempts { retry_after });
    }
    let login = state.store.login(&email).await?;
    let stored = login.as_ref().map(|l| l.password_hash.clone());
    if !password::verify(fields.password.clone(), stored).await {
        tracing::info!(email = %email, known = login.is_some(), "console login refused: wrong email or password");
        return refuse(
            jar,
            "That email and password do not match an account. Check both and try again.",
        );
    }
    let login = login.expect("a verified password has a login");
    let (token, token_hash) = session::new_token();
    let (csrf_token, _) = session::new_token();
    let now = state.store.clock().now();
    state
        .store
        .create_console_session(&NewConsoleSession {
            token_hash,
            user_id: login.user.id,
            csrf_token,
            user_agent: headers
                .get(axum::http::header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(|agent| agent.chars().take(200).collect()),
            expires_at: session::expiry(now, now),
        })
        .await?;
    tracing::info!(user = %login.user.id, workspace = %login.user.workspace_id, "console login");
    let jar = jar
        .remove(Cookie::build(LOGIN_CSRF_COOKIE).path(format!("{BASE}/login")))
        .add(state.console.session_cookie(token));
    let to = if login.password_must_change {
        format!("{BASE}/password")
    } else {
        safe_next(next)
    };
    Ok((jar, Redirect::to(&to)).into_response())
}

#[derive(Debug, Deserialize)]
struct NoFields {}

async fn log_out(
    State(state): State<AppState>,
    jar: CookieJar,
    CsrfForm(user, NoFields {}): CsrfForm<NoFields>,
) -> Result<Response, ConsoleError> {
    state
        .store
        .revoke_console_session(&user.session.token_hash)
        .await?;
    tracing::info!(user = %user.user_id(), "console logout");
    let jar = jar.add(state.console.removal_cookie());
    Ok((jar, Redirect::to(&format!("{BASE}/login"))).into_response())
}

async fn password_page(user: ConsoleUser) -> Result<Html<String>, ConsoleError> {
    password_form(&user, None)
}

fn password_form(user: &ConsoleUser, error: Option<String>) -> Result<Html<String>, ConsoleError> {
    pages::render(
        user,
        Section::Account,
        "password.html",
        context! {
            must_change => user.session.password_must_change,
            min_length => password::MIN_LENGTH,
            error,
        },
    )
}

#[derive(Debug, Deserialize)]
struct PasswordFields {
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    repeat: String,
}

async fn change_password(
    State(state): State<AppState>,
    CsrfForm(user, fields): CsrfForm<PasswordFields>,
) -> Result<Response, ConsoleError> {
    let login = state
        .store
        .login(&user.session.email)
        .await?
        .ok_or_else(|| ConsoleError::LoggedOut { next: BASE.into() })?;
    if !password::verify(fields.current, Some(login.password_hash)).await {
        return Ok(password_form(
            &user,
            Some("current: that is not your current password".into()),
        )?
        .into_response());
    }
    if let Err(message) = password::check_new(&fields.new) {
        return Ok(
            password_form(&user, Some(message.replacen("password", "new", 1)))?.into_response(),
        );
    }
    if fields.new != fields.repeat {
        return Ok(
            password_form(&user, Some("repeat: the two new passwords differ".into()))?
                .into_response(),
        );
    }
    let hash = password::hash(fields.new).await?;
    state
        .store
        .set_user_password(user.workspace(), user.user_id(), &hash, false)
        .await?;
    let ended = state
        .store
        .revoke_user_sessions(user.user_id(), Some(&user.session.token_hash))
        .await?;
    tracing::info!(user = %user.user_id(), other_sessions_ended = ended, "console password changed");
    Ok(Redirect::to(BASE).into_response())
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_console_paths_are_followed_after_login() {
        assert_eq!(
            safe_next(Some("/console/inbox?tab=queue")),
            "/console/inbox?tab=queue"
        );
        assert_eq!(safe_next(Some("https://evil.example/")), "/console");
        assert_eq!(safe_next(Some("//evil.example")), "/console");
        assert_eq!(safe_next(Some("/console/login")), "/console");
        assert_eq!(safe_next(None), "/console");
    }
}
