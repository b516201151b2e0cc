//! Adding leads to a campaign from a CSV file: a multipart upload read by the same
//! importer as `leadline import leads` ([`crate::usecases::lead_import`]), so every
//! row is checked as the add-lead endpoint checks a lead. The answer is the campaign's
//! page with `#upload-result`; the page's script sends the file with XMLHttpRequest to
//! fill `<progress id="upload-progress">`, and without script the form posts as any.
//!
//! The rejected rows come back inside the page as a `data:` URL of CSV (line, reason,
//! then the row's own cells), so the download needs nothing kept on the server: no
//! upload id to expire or to share between nodes. The download holds at most
//! [`MAX_REJECTED_SHOWN`] rows; the page says how many were left out past that.
//!
//! `CsrfForm` reads urlencoded forms only: here the token comes from the
//! `x-csrf-token` header (the script) or the form's `csrf` field, and is checked
//! before a row is read.

use axum::Router;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::post;
use base64::Engine;

use super::super::csrf::{HEADER, check_origin, matches};
use super::super::{BASE, ConsoleError, ConsoleUser};
use super::{UploadResult, load, page};
use crate::state::AppState;
use crate::usecases::lead_import::{ImportError, LeadCsv, RejectedRow};

/// The largest file taken (the API's bulk limit).
pub const MAX_UPLOAD: usize = crate::extract::BULK_BODY_LIMIT;
/// Rejected rows the download holds at most.
pub const MAX_REJECTED_SHOWN: usize = 10_000;

pub fn router() -> Router<AppState> {
    Router::new().route(
        &format!("{BASE}/campaigns/{{id}}/leads"),
        post(upload).layer(DefaultBodyLimit::max(MAX_UPLOAD + 64 * 1024)),
    )
}

/// The parts of the upload form.
#[derive(Default)]
struct Parts {
    csrf: Option<String>,
    file: Option<Vec<u8>>,
}

async fn read_parts(mut multipart: Multipart) -> Result<Parts, ConsoleError> {
    let bad = |error: axum::extract::multipart::MultipartError| {
        ConsoleError::BadRequest(format!("file: the upload could not be read ({error})"))
    };
    let mut parts = Parts::default();
    while let Some(field) = multipart.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "csrf" => parts.csrf = Some(field.text().await.map_err(bad)?),
            "file" => parts.file = Some(field.bytes().await.map_err(bad)?.to_vec()),
            _ => {}
        }
    }
    Ok(parts)
}

/// Takes the CSV's leads into the campaign and shows its page with the result.
async fn upload(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, ConsoleError> {
    check_origin(&headers)?;
    let multipart = multipart.map_err(|rejection| {
        ConsoleError::BadRequest(format!("file: {}", rejection.body_text()))
    })?;
    let header_token = headers
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let parts = read_parts(multipart).await?;
    let presented = header_token.or(parts.csrf).unwrap_or_default();
    if !matches(&user.session.csrf_token, &presented) {
        return Err(ConsoleError::Csrf);
    }
    user.require_admin()?;
    let campaign = load(&state, &user, &id).await?;
    let file = parts.file.unwrap_or_default();
    let result = if file.is_empty() {
        UploadResult {
            error: Some("file: choose a CSV file of leads".to_owned()),
            ..UploadResult::default()
        }
    } else {
        import(&state, &campaign, &file).await?
    };
    let status = if result.error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let html: Html<String> = page(&state, &user, campaign, Some(result)).await?;
    Ok((status, html).into_response())
}

async fn import(
    state: &AppState,
    campaign: &leadline_store::campaigns::Campaign,
    file: &[u8],
) -> Result<UploadResult, ConsoleError> {
    let csv = match LeadCsv::open(file) {
        Ok(csv) => csv,
        Err(error) => {
            return Ok(UploadResult {
                error: Some(format!("file: {error}")),
                ..UploadResult::default()
            });
        }
    };
    let headers = csv.headers().clone();
    let mut rejected: Vec<RejectedRow> = Vec::new();
    let counts = csv
        .import(
            &state.store,
            campaign,
            |row| {
                if rejected.len() < MAX_REJECTED_SHOWN {
                    rejected.push(row);
                }
                Ok(())
            },
            |_, _| {},
        )
        .await
        .map_err(|error| match error {
            ImportError::Store(error) => ConsoleError::Store(error),
            other => ConsoleError::Internal(other.to_string()),
        })?;
    tracing::info!(campaign = %campaign.id, accepted = counts.accepted, rejected = counts.rejected, "leads uploaded in the console");
    if counts.accepted > 0 {
        state.wake_scheduler();
    }
    Ok(UploadResult {
        accepted: counts.accepted,
        rejected: counts.rejected,
        rejected_href: (!rejected.is_empty()).then(|| rejected_csv(&headers, &rejected)),
        rejected_left_out: counts.rejected.saturating_sub(rejected.len()),
        error: None,
    })
}

/// The rejected rows as a CSV `data:` URL: `line,reason` and the file's own columns.
fn rejected_csv(headers: &csv::StringRecord, rows: &[RejectedRow]) -> String {
    let mut writer = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(Vec::new());
    let mut header = vec!["line", "reason"];
    header.extend(headers.iter());
    // Writing to a Vec cannot fail.
    let _ = writer.write_record(&header);
    for row in rows {
        let mut record = vec![row.line.to_string(), row.reason.clone()];
        if let Some(cells) = &row.record {
            record.extend(cells.iter().map(str::to_owned));
        }
        let _ = writer.write_record(&record);
    }
    let bytes = writer.into_inner().unwrap_or_default();
    format!(
        "data:text/csv;charset=utf-8;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}
