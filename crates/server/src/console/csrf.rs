//! Cross-site request forgery. Every change the console makes is a POST that carries
//! the session's CSRF token: a hidden `csrf` field in forms, an `x-csrf-token` header
//! from the console's script. Another site can make a browser post, but cannot read a
//! console page to learn the token. As a second wall, a request whose `Origin` (or
//! `Sec-Fetch-Site`) says it came from another site is refused before its token is read.
//! The login form has no session yet: its token is a cookie of its own that the form
//! repeats (double submit).

use axum::extract::{Form, FromRequest, Request};
use axum::http::HeaderMap;
use axum::http::header::{HOST, ORIGIN};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use subtle::ConstantTimeEq;

use super::{ConsoleError, ConsoleUser};
use crate::state::AppState;

/// The header the console's script sends its token in.
pub const HEADER: &str = "x-csrf-token";

/// Whether `presented` is `expected`, compared in constant time.
pub fn matches(expected: &str, presented: &str) -> bool {
    !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(presented.as_bytes()))
}

/// Refuses a request a browser says came from another site.
pub fn check_origin(headers: &HeaderMap) -> Result<(), ConsoleError> {
    if headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|site| site == "cross-site")
    {
        return Err(ConsoleError::Csrf);
    }
    let (Some(origin), Some(host)) = (
        headers.get(ORIGIN).and_then(|v| v.to_str().ok()),
        headers.get(HOST).and_then(|v| v.to_str().ok()),
    ) else {
        return Ok(());
    };
    let origin_host = origin.split_once("://").map_or(origin, |(_, rest)| rest);
    if origin == "null" || origin_host != host {
        return Err(ConsoleError::Csrf);
    }
    Ok(())
}

/// A form posted from a console page by a logged-in person, its token checked.
pub struct CsrfForm<T>(pub ConsoleUser, pub T);

#[derive(Deserialize)]
struct Tagged<T> {
    #[serde(default)]
    csrf: String,
    #[serde(flatten)]
    fields: T,
}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for CsrfForm<T> {
    type Rejection = ConsoleError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, ConsoleError> {
        let (mut parts, body) = request.into_parts();
        check_origin(&parts.headers)?;
        let user = <ConsoleUser as axum::extract::FromRequestParts<AppState>>::from_request_parts(
            &mut parts, state,
        )
        .await?;
        let header_token = parts
            .headers
            .get(HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let request = Request::from_parts(parts, body);
        let Form(tagged) = Form::<Tagged<T>>::from_request(request, state)
            .await
            .map_err(|rejection| ConsoleError::BadRequest(rejection.body_text()))?;
        let presented = header_token.unwrap_or(tagged.csrf);
        if !matches(&user.session.csrf_token, &presented) {
            return Err(ConsoleError::Csrf);
        }
        Ok(CsrfForm(user, tagged.fields))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn tokens_match_only_exactly() {
        assert!(matches("abc", "abc"));
        assert!(!matches("abc", "abd"));
        assert!(!matches("abc", ""));
        assert!(!matches("", ""), "an empty token never matches");
    }

    #[test]
    fn another_sites_origin_is_refused() {
        let same = headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "http://127.0.0.1:8080"),
        ]);
        assert!(check_origin(&same).is_ok());
        let other = headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "https://evil.example"),
        ]);
        assert!(check_origin(&other).is_err());
        let opaque = headers(&[("host", "127.0.0.1:8080"), ("origin", "null")]);
        assert!(check_origin(&opaque).is_err());
        let fetch = headers(&[("sec-fetch-site", "cross-site")]);
        assert!(check_origin(&fetch).is_err());
        assert!(
            check_origin(&headers(&[])).is_ok(),
            "no origin: the token decides"
        );
    }
}
