//! The console's stylesheet and script, compiled into the binary and served with a
//! content hash in their URL, so browsers may keep them for a year.

use std::sync::LazyLock;

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use sha2::{Digest, Sha256};

use crate::state::AppState;

const STYLESHEET: &str = include_str!("../../console/static/console.css");
const SCRIPT: &str = include_str!("../../console/static/console.js");

/// The URLs pages link to: each names its content's hash.
pub struct AssetUrls {
    pub stylesheet: String,
    pub script: String,
}

pub static URLS: LazyLock<AssetUrls> = LazyLock::new(|| AssetUrls {
    stylesheet: format!(
        "{}/assets/console.{}.css",
        super::BASE,
        short_hash(STYLESHEET)
    ),
    script: format!("{}/assets/console.{}.js", super::BASE, short_hash(SCRIPT)),
});

fn short_hash(content: &str) -> String {
    hex::encode(&Sha256::digest(content.as_bytes())[..6])
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            &URLS.stylesheet,
            get(|| async { asset("text/css; charset=utf-8", STYLESHEET) }),
        )
        .route(
            &URLS.script,
            get(|| async { asset("text/javascript; charset=utf-8", SCRIPT) }),
        )
}

fn asset(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        body,
    )
}
