//! Sessions: a login gives the browser a random token in a cookie; the store keeps its
//! SHA-256 ([`leadline_store::console_sessions`]). A session lasts while it is used: it
//! ends after [`IDLE`] without a request, and in any case [`LONGEST`] after the login.
//! The cookie is HttpOnly (scripts cannot read it), SameSite=Lax (other sites cannot
//! post with it) and Secure when the console is reached over https.
//!
//! [`ConsoleUser`] is the extractor of every page behind the login: it finds the
//! session, moves its end forward (at most once a minute, to spare the writer), sends a
//! person with a one-time password to choose a new one, and loads the teams whose
//! queues they work.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use leadline_core::inbox::Viewer;
use leadline_core::{UserId, WorkspaceId};
use leadline_store::console_sessions::ConsoleSession;
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::{BASE, ConsoleError};
use crate::state::AppState;

/// The cookie holding the session's token.
pub const SESSION_COOKIE: &str = "leadline_session";
/// A session not used for this long has ended.
pub const IDLE: Duration = Duration::hours(12);
/// A session ends this long after its login, used or not.
pub const LONGEST: Duration = Duration::days(7);
/// A session's use is recorded at most this often.
const TOUCH_EVERY: Duration = Duration::minutes(1);

/// How the console's cookies are set.
#[derive(Debug, Clone, Default)]
pub struct ConsoleSettings {
    /// Mark cookies Secure: the server's public URL is https.
    pub secure_cookies: bool,
    /// Logins refused per email and per address.
    pub throttle: super::throttle::LoginThrottle,
}

impl ConsoleSettings {
    /// Settings for a server reached at `public_url`.
    pub fn for_public_url(public_url: Option<&str>) -> Self {
        Self {
            secure_cookies: public_url.is_some_and(|url| url.starts_with("https://")),
            ..Self::default()
        }
    }

    /// The session cookie for `token`.
    pub fn session_cookie(&self, token: String) -> Cookie<'static> {
        let mut cookie = Cookie::build((SESSION_COOKIE, token))
            .path(BASE)
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(self.secure_cookies)
            .build();
        cookie.set_max_age(time_of(LONGEST));
        cookie
    }

    /// The cookie that makes the browser forget its session.
    pub fn removal_cookie(&self) -> Cookie<'static> {
        let mut cookie = Cookie::build((SESSION_COOKIE, "")).path(BASE).build();
        cookie.make_removal();
        cookie
    }
}

fn time_of(duration: Duration) -> cookie::time::Duration {
    cookie::time::Duration::seconds(duration.num_seconds())
}

/// A fresh session token (32 random bytes) and the hash the store keeps of it.
pub fn new_token() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let hash = token_hash(&token);
    (token, hash)
}

/// The hash under which the store keeps a token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// When a session used at `now` ends: [`IDLE`] later, but never past [`LONGEST`]
/// after its login.
pub fn expiry(created_at: DateTime<Utc>, now: DateTime<Utc>) -> DateTime<Utc> {
    (now + IDLE).min(created_at + LONGEST)
}

/// The person behind a console request.
#[derive(Debug, Clone)]
pub struct ConsoleUser {
    pub session: Arc<ConsoleSession>,
    pub viewer: Viewer,
}

impl ConsoleUser {
    pub fn workspace(&self) -> WorkspaceId {
        self.session.workspace_id
    }

    pub fn user_id(&self) -> UserId {
        self.session.user_id
    }

    /// Their name if they gave one, else their email.
    pub fn display_name(&self) -> String {
        let names: Vec<&str> = [&self.session.first_name, &self.session.last_name]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .filter(|name| !name.trim().is_empty())
            .collect();
        if names.is_empty() {
            self.session.email.as_str().to_owned()
        } else {
            names.join(" ")
        }
    }

    /// Refuses anyone but an admin.
    pub fn require_admin(&self) -> Result<(), ConsoleError> {
        if self.viewer.is_admin() {
            Ok(())
        } else {
            Err(ConsoleError::Forbidden(
                "only an admin of this workspace may open this page".into(),
            ))
        }
    }
}

impl FromRequestParts<AppState> for ConsoleUser {
    type Rejection = ConsoleError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ConsoleError> {
        let next = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| BASE.to_owned());
        let Some(user) = session_of(&parts.headers, state).await? else {
            return Err(ConsoleError::LoggedOut { next });
        };
        let choosing = parts.uri.path() == format!("{BASE}/password")
            || parts.uri.path() == format!("{BASE}/logout");
        if user.session.password_must_change && !choosing {
            return Err(ConsoleError::PasswordMustChange);
        }
        Ok(user)
    }
}

/// The session the request's cookie names, if it is in force; records its use.
pub async fn session_of(
    headers: &axum::http::HeaderMap,
    state: &AppState,
) -> Result<Option<ConsoleUser>, ConsoleError> {
    let jar = CookieJar::from_headers(headers);
    let Some(token) = jar.get(SESSION_COOKIE).map(|c| c.value().to_owned()) else {
        return Ok(None);
    };
    let hash = token_hash(&token);
    let Some(session) = state.store.console_session(&hash).await? else {
        return Ok(None);
    };
    let now = state.store.clock().now();
    if now - session.last_seen_at >= TOUCH_EVERY {
        state
            .store
            .touch_console_session(&hash, expiry(session.created_at, now))
            .await?;
    }
    let teams = state.store.teams_of_user(session.user_id).await?;
    Ok(Some(ConsoleUser {
        viewer: Viewer {
            user_id: session.user_id,
            role: session.role,
            teams,
        },
        session: Arc::new(session),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_ends_when_idle_or_at_its_longest() {
        let login = Utc::now();
        assert_eq!(expiry(login, login), login + IDLE);
        let late = login + LONGEST - Duration::hours(1);
        assert_eq!(expiry(login, late), login + LONGEST);
    }

    #[test]
    fn tokens_are_random_and_only_their_hash_is_kept() {
        let (a, hash_a) = new_token();
        let (b, _) = new_token();
        assert_ne!(a, b);
        assert_eq!(token_hash(&a), hash_a);
        assert!(!hash_a.contains(&a));
        assert_eq!(a.len(), 43);
    }

    #[test]
    fn cookies_are_http_only_lax_and_secure_behind_https() {
        let plain = ConsoleSettings::for_public_url(Some("http://127.0.0.1:8080"));
        let cookie = plain.session_cookie("t".into());
        assert_eq!(cookie.http_only(), Some(true));
        assert_eq!(cookie.same_site(), Some(SameSite::Lax));
        assert_ne!(cookie.secure(), Some(true));
        let https = ConsoleSettings::for_public_url(Some("https://leads.example.com"));
        assert_eq!(https.session_cookie("t".into()).secure(), Some(true));
    }
}
