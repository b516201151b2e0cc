//! What every settings page shares: the answer to a form (a redirect with a notice, or
//! the form again with its faults), notices named in the query, path ids, and answers
//! that hold a credential.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use leadline_core::FieldError;
use serde::Deserialize;

use crate::console::ConsoleError;
use crate::usecases::settings::SettingsError;

/// A setting that failed where no form can show why: its message on the error page.
impl From<SettingsError> for ConsoleError {
    fn from(error: SettingsError) -> Self {
        match error {
            SettingsError::Store(error) => ConsoleError::Store(error),
            SettingsError::NotFound { detail, .. } => ConsoleError::NotFound(detail),
            other => ConsoleError::BadRequest(other.to_string()),
        }
    }
}

/// `?notice=KEY` after a change: only the notices below are shown, so a link cannot
/// make a page say something else.
#[derive(Debug, Default, Deserialize)]
pub struct NoticeQuery {
    #[serde(default)]
    notice: Option<String>,
}

const NOTICES: &[(&str, &str)] = &[
    (
        "sessions-revoked",
        "The user's sessions were ended; they must log in again.",
    ),
    ("team-created", "The team was created."),
    ("team-saved", "The team was saved."),
    ("channel-created", "The channel was created."),
    (
        "secrets-replaced",
        "The secrets were replaced; sends use them within 30 seconds.",
    ),
    (
        "delivery-saved",
        "The delivery settings were saved; they apply within 30 seconds.",
    ),
    ("template-created", "The template was created."),
    ("template-saved", "The template's status was recorded."),
    ("agent-saved", "The agent settings were saved."),
    ("script-created", "The script was created."),
    ("script-saved", "The script was saved."),
    ("script-deleted", "The script was deleted."),
    ("endpoint-enabled", "The endpoint is enabled."),
    ("endpoint-disabled", "The endpoint is disabled."),
    (
        "key-revoked",
        "The API key was revoked; no server accepts it any more.",
    ),
];

impl NoticeQuery {
    /// The notice's text, if the query names a known one.
    pub fn text(&self) -> Option<&'static str> {
        let key = self.notice.as_deref()?;
        NOTICES
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, text)| *text)
    }
}

/// After a change: back to `to`, with the notice `key`.
pub fn done(to: &str, key: &str) -> Response {
    Redirect::to(&format!("{to}?notice={key}")).into_response()
}

/// A form drawn again with its faults: 422, so scripts and tests see the refusal.
pub fn refused(page: Html<String>) -> Response {
    (StatusCode::UNPROCESSABLE_ENTITY, page).into_response()
}

/// The faults to show beside a form; a failure of the store stays an error.
pub fn faults(error: SettingsError) -> Result<Vec<FieldError>, ConsoleError> {
    Ok(error.into_field_errors()?)
}

/// A page holding a credential shown once: never kept by a cache.
pub fn no_store(page: Html<String>) -> Response {
    let mut response = page.into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The id in a page's path, or "not found" (a malformed id names nothing).
pub fn path_id<T: std::str::FromStr>(raw: &str, what: &str) -> Result<T, ConsoleError> {
    raw.parse()
        .map_err(|_| ConsoleError::NotFound(format!("no {what} '{raw}' in this workspace")))
}

/// A form's optional text: `None` when left empty.
pub fn given(value: &str) -> Option<String> {
    let trimmed = value.trim();
    (!trimmed.is_empty()).then(|| value.to_owned())
}

/// Every page of a listing the store answers a page at a time, up to `cap` rows.
pub async fn all_pages<T, Id, F, Fut>(
    cap: usize,
    id_of: impl Fn(&T) -> Id,
    mut page: F,
) -> Result<Vec<T>, ConsoleError>
where
    Id: Copy,
    F: FnMut(Option<Id>, u32) -> Fut,
    Fut: Future<Output = Result<Vec<T>, leadline_store::StoreError>>,
{
    const LIMIT: u32 = 200;
    let mut rows = Vec::new();
    let mut after = None;
    loop {
        let batch = page(after, LIMIT).await?;
        let full = batch.len() == LIMIT as usize;
        after = batch.last().map(&id_of);
        rows.extend(batch);
        if !full || rows.len() >= cap {
            return Ok(rows);
        }
    }
}
