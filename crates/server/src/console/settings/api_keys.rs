//! API keys: the keys in force (their display prefix, never the key), creating one
//! (shown once, on the answer) and revoking one (no server accepts it once the page
//! answers).
//!
//! - `GET /console/settings/api-keys`, `POST` (create)
//! - `POST /console/settings/api-keys/{id}/revoke`

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{Html, Response};
use axum::routing::{get, post};
use leadline_core::{ApiKeyId, ApiKeyScope, FieldError};
use leadline_store::api_keys::ApiKeyRecord;
use minijinja::context;
use minijinja::value::Serde;
use serde::Serialize;

use super::form::{self, NoticeQuery};
use super::path;
use crate::console::csrf::CsrfForm;
use crate::console::pages::{self, Section};
use crate::console::{ConsoleError, ConsoleUser};
use crate::extract::timestamp;
use crate::state::AppState;
use crate::usecases::settings::api_keys;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(&path("/api-keys"), get(list).post(create))
        .route(&path("/api-keys/{id}/revoke"), post(revoke))
}

type Fields = BTreeMap<String, String>;

fn value<'a>(fields: &'a Fields, name: &str) -> &'a str {
    fields.get(name).map_or("", String::as_str)
}

#[derive(Serialize)]
struct KeyRow {
    id: String,
    name: Option<String>,
    prefix: Option<String>,
    scope: &'static str,
    created_at: String,
    last_used_at: Option<String>,
    expires_at: Option<String>,
}

impl From<ApiKeyRecord> for KeyRow {
    fn from(key: ApiKeyRecord) -> Self {
        Self {
            id: key.id.to_string(),
            name: key.name,
            prefix: key.prefix,
            scope: key.scope.as_str(),
            created_at: timestamp(key.created_at),
            last_used_at: key.last_used_at.map(timestamp),
            expires_at: key.expires_at.map(timestamp),
        }
    }
}

async fn list_page(
    state: &AppState,
    user: &ConsoleUser,
    values: &Fields,
    errors: Vec<FieldError>,
    notice: Option<&str>,
) -> Result<Html<String>, ConsoleError> {
    let workspace = user.workspace();
    let all = form::all_pages(
        1_000,
        |k: &ApiKeyRecord| k.id,
        |after, limit| state.store.api_keys(workspace, after, limit),
    )
    .await?;
    let rows: Vec<KeyRow> = all.into_iter().map(KeyRow::from).collect();
    pages::render(
        user,
        Section::Settings,
        "settings/api_keys.html",
        context! {
            keys => Serde(rows),
            scopes => ApiKeyScope::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            values => Serde(values),
            errors => Serde(errors),
            notice,
        },
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

async fn create(
    State(state): State<AppState>,
    CsrfForm(user, fields): CsrfForm<Fields>,
) -> Result<Response, ConsoleError> {
    user.require_admin()?;
    let scope = match value(&fields, "scope") {
        "" => Ok(None),
        raw => ApiKeyScope::parse(raw)
            .map(Some)
            .ok_or_else(|| FieldError::new("scope", format!("choose {}", ApiKeyScope::expected()))),
    };
    let checked = api_keys::checked(
        form::given(value(&fields, "name")),
        form::given(value(&fields, "expiresAt")),
        scope.clone().ok().flatten(),
        state.store.clock().now(),
    );
    let new = match (checked, scope) {
        (Ok(new), Ok(_)) => new,
        (checked, scope) => {
            let mut errors = checked.err().map(|e| e.into_vec()).unwrap_or_default();
            errors.extend(scope.err());
            let page = list_page(&state, &user, &fields, errors, None).await?;
            return Ok(form::refused(page));
        }
    };
    let workspace = user.workspace();
    let (record, key) = state
        .store
        .issue_api_key(workspace, new)
        .await?
        .ok_or_else(|| ConsoleError::NotFound("the workspace was deleted".into()))?;
    tracing::info!(%workspace, key_id = %record.id, scope = %record.scope, "API key created from the console");
    let page = pages::render(
        &user,
        Section::Settings,
        "settings/api_key_created.html",
        context! { key => Serde(KeyRow::from(record)), api_key => key.expose() },
    )?;
    Ok(form::no_store(page))
}

#[derive(Debug, serde::Deserialize)]
struct NoFields {}

async fn revoke(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(user, NoFields {}): CsrfForm<NoFields>,
) -> Result<Response, ConsoleError> {
    user.require_admin()?;
    let key_id: ApiKeyId = form::path_id(&id, "API key")?;
    api_keys::revoke(&state, user.workspace(), key_id)
        .await?
        .ok_or_else(|| {
            ConsoleError::NotFound(format!("no API key '{key_id}' in force in this workspace"))
        })?;
    Ok(form::done(&path("/api-keys"), "key-revoked"))
}
