//! What a console request can fail with, and the page or redirect each becomes. A
//! person never sees a problem document: a missing session sends them to the login
//! page (and back after), anything else renders the error page with what to do.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use leadline_store::StoreError;
use minijinja::context;

use super::BASE;

#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    /// No session in force: log in, then come back to `next`.
    #[error("log in to continue")]
    LoggedOut { next: String },
    /// A one-time password: choose a new one first.
    #[error("choose a new password to continue")]
    PasswordMustChange,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// The form's CSRF token is missing or not the session's: an old page or a forged
    /// request.
    #[error(
        "this form has expired or did not come from the console; reload the page and try again"
    )]
    Csrf,
    #[error("{0}")]
    BadRequest(String),
    #[error("too many attempts; try again in {retry_after} seconds")]
    TooManyAttempts { retry_after: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Internal(String),
}

impl From<crate::auth::password::HashError> for ConsoleError {
    fn from(error: crate::auth::password::HashError) -> Self {
        ConsoleError::Internal(error.to_string())
    }
}

impl ConsoleError {
    fn status(&self) -> StatusCode {
        match self {
            ConsoleError::LoggedOut { .. } | ConsoleError::PasswordMustChange => {
                StatusCode::SEE_OTHER
            }
            ConsoleError::Forbidden(_) | ConsoleError::Csrf => StatusCode::FORBIDDEN,
            ConsoleError::NotFound(_) => StatusCode::NOT_FOUND,
            ConsoleError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ConsoleError::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
            ConsoleError::Store(error) if error.is_unavailable() => StatusCode::SERVICE_UNAVAILABLE,
            ConsoleError::Store(_) | ConsoleError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        match &self {
            ConsoleError::LoggedOut { next } => {
                let query: String = form_urlencoded::Serializer::new(String::new())
                    .append_pair("next", next)
                    .finish();
                return Redirect::to(&format!("{BASE}/login?{query}")).into_response();
            }
            ConsoleError::PasswordMustChange => {
                return Redirect::to(&format!("{BASE}/password")).into_response();
            }
            ConsoleError::Store(error) => {
                tracing::error!(%error, "a console page failed on the database");
            }
            ConsoleError::Internal(error) => tracing::error!(%error, "a console page failed"),
            _ => {}
        }
        let status = self.status();
        let message = match &self {
            ConsoleError::Store(error) if error.is_unavailable() => {
                "The database cannot be reached right now; try again in a moment.".to_owned()
            }
            ConsoleError::Store(_) | ConsoleError::Internal(_) => {
                "Something went wrong on the server; it has been logged. Try again, and tell \
                 your administrator if it keeps happening."
                    .to_owned()
            }
            other => other.to_string(),
        };
        let page = super::pages::render_bare(
            "error.html",
            context! {
                status => status.as_u16(),
                title => status.canonical_reason().unwrap_or("Error"),
                message,
            },
        );
        let mut response = (status, page).into_response();
        if let ConsoleError::TooManyAttempts { retry_after } = self
            && let Ok(value) = HeaderValue::from_str(&retry_after.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}
