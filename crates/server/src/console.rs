//! The web console: pages for the people in the loop, served by the same binary under
//! `/console`. Advisors work their inbox; admins also manage campaigns, numbers and
//! settings. Pages are rendered on the server ([`pages`], minijinja templates embedded
//! in the binary) and work without JavaScript where a form can do the job; a small
//! script of the project's own keeps open pages live over the event stream.
//!
//! People log in with an email and a password ([`login`], [`crate::auth::password`]); a session is
//! a random token in an HttpOnly, SameSite=Lax cookie, Secure when the server is
//! reached over https ([`session`]). Every form carries the session's CSRF token and
//! every change checks it ([`csrf`]). Handlers read and change data through the same
//! use cases and store as the API: the console holds no rule of its own.

pub mod assets;
pub mod campaigns;
pub mod conversation;
pub mod conversation_actions;
pub mod csrf;
pub mod error;
pub mod events;
pub mod inbox;
pub mod login;
pub mod numbers;
pub mod pages;
pub mod session;
pub mod settings;
pub mod throttle;

use axum::Router;
use axum::response::Redirect;
use axum::routing::get;

use crate::state::AppState;

pub use error::ConsoleError;
pub use session::{ConsoleSettings, ConsoleUser};

/// The console's own path prefix.
pub const BASE: &str = "/console";

/// Every console route, and `/` sending a browser to the console.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to(BASE) }))
        .route(BASE, get(home))
        .merge(login::router())
        .merge(assets::router())
        .merge(inbox::router())
        .merge(conversation::router())
        .merge(conversation_actions::router())
        .merge(events::router())
        .merge(campaigns::router())
        .merge(numbers::router())
        .merge(settings::router())
}

/// The page a person lands on after logging in.
async fn home(_user: ConsoleUser) -> Redirect {
    Redirect::to(&format!("{BASE}/inbox"))
}
