//! `/api/v1/contacts/{id}/opt-outs`: a contact's opt-outs per channel type. The send
//! gate refuses every campaign attempt to an opted-out contact on that channel type.
//! A user records an opt-out the lead gave by other means (a call, an email); lifting
//! one records that the lead consented again.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use leadline_core::channel::MessageProviderType;
use leadline_core::{ContactId, WorkspaceId};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, path_id};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(add_opt_out, list_opt_outs))
        .routes(routes!(remove_opt_out))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OptOutRequest {
    message_provider_type: MessageProviderType,
    /// How the lead opted out, in a sentence ("asked on a call on 2026-11-20").
    #[serde(default)]
    #[schema(schema_with = leadline_core::schema::optional_text::<1000>)]
    evidence: Option<String>,
}

pub use leadline_core::views::OptOutView as OptOutResponse;

async fn contact_id(
    state: &AppState,
    workspace: WorkspaceId,
    id: &str,
) -> Result<ContactId, ApiError> {
    let contact_id: ContactId = path_id("id", id, "contact")?;
    state
        .store
        .contact(workspace, contact_id)
        .await?
        .ok_or_else(|| ApiError::NotFound {
            detail: format!("no contact '{id}' in this workspace"),
            field: Some("id".to_owned()),
        })?;
    Ok(contact_id)
}

/// Record that the contact opted out on a channel type.
#[utoipa::path(post, path = "/api/v1/contacts/{id}/opt-outs", tag = "contacts",
    params(("id" = String, Path, description = "The contact's id")), request_body = OptOutRequest,
    responses((status = 201, body = OptOutResponse), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn add_opt_out(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<OptOutRequest>,
) -> ApiResult<(StatusCode, axum::Json<OptOutResponse>)> {
    let contact = contact_id(&state, workspace, &id).await?;
    let evidence = match body.evidence.as_deref() {
        Some(text) => Some(leadline_core::validation::text("evidence", text, 1000)?),
        None => None,
    };
    let channel_type = body.message_provider_type;
    state
        .store
        .add_opt_out(
            workspace,
            contact,
            channel_type,
            "api",
            evidence.as_deref(),
            None,
        )
        .await?;
    let opt_out = state
        .store
        .opt_out(contact, channel_type)
        .await?
        .ok_or_else(|| {
            ApiError::Internal("an opt-out vanished right after it was written".into())
        })?;
    tracing::info!(contact = %contact, channel_type = %channel_type, "opt-out recorded");
    Ok((StatusCode::CREATED, axum::Json(opt_out.into())))
}

/// The contact's opt-outs.
#[utoipa::path(get, path = "/api/v1/contacts/{id}/opt-outs", tag = "contacts",
    params(("id" = String, Path, description = "The contact's id")),
    responses((status = 200, body = Vec<OptOutResponse>), (status = 404, body = Problem)))]
async fn list_opt_outs(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Vec<OptOutResponse>>> {
    let contact = contact_id(&state, workspace, &id).await?;
    let opt_outs = state.store.opt_outs(contact).await?;
    Ok(axum::Json(
        opt_outs.into_iter().map(OptOutResponse::from).collect(),
    ))
}

/// Lift an opt-out: the contact consented again on that channel type.
#[utoipa::path(delete, path = "/api/v1/contacts/{id}/opt-outs/{messageProviderType}", tag = "contacts",
    params(("id" = String, Path, description = "The contact's id"),
           ("messageProviderType" = MessageProviderType, Path, description = "SMS, WHATSAPP or VOICE")),
    responses((status = 204, description = "Lifted"), (status = 404, body = Problem)))]
async fn remove_opt_out(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    Path((id, channel_type)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let contact = contact_id(&state, workspace, &id).await?;
    let channel_type =
        MessageProviderType::parse(&channel_type).ok_or_else(|| ApiError::NotFound {
            detail: format!("'{channel_type}' is not SMS, WHATSAPP or VOICE"),
            field: Some("messageProviderType".to_owned()),
        })?;
    if state.store.remove_opt_out(contact, channel_type).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound {
            detail: format!("the contact has not opted out on {channel_type}"),
            field: Some("messageProviderType".to_owned()),
        })
    }
}
