//! `/api/v1/contacts/{id}/phone-number`: the number a contact always hears from. Number
//! selection tries it right after a conversation's own sticky number, while it can
//! send; deleting the number lifts the assignment.

use axum::extract::{Path, State};
use leadline_core::{ContactId, FieldErrors, Patch, PhoneNumberId, WorkspaceId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::references::parse_id;
use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, path_id};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_contact_number, assign_contact_number))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ContactNumberRequest {
    /// The number's id, or `null` to lift the assignment. Required.
    #[serde(default)]
    #[schema(required = true, schema_with = leadline_core::schema::optional_uuid)]
    phone_number_id: Patch<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ContactNumberResponse {
    contact_id: String,
    phone_number_id: Option<String>,
}

async fn contact_id(state: &AppState, workspace: WorkspaceId, id: &str) -> ApiResult<ContactId> {
    let contact_id: ContactId = path_id("id", id, "contact")?;
    let not_found = || ApiError::NotFound {
        detail: format!("no contact '{id}' in this workspace"),
        field: Some("id".to_owned()),
    };
    state
        .store
        .contact(workspace, contact_id)
        .await?
        .ok_or_else(not_found)?;
    Ok(contact_id)
}

/// The number assigned to a contact (`phoneNumberId` null when none is).
#[utoipa::path(get, path = "/api/v1/contacts/{id}/phone-number", tag = "contacts",
    params(("id" = String, Path, description = "The contact's id")),
    responses((status = 200, body = ContactNumberResponse), (status = 404, body = Problem)))]
async fn get_contact_number(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<ContactNumberResponse>> {
    let contact = contact_id(&state, workspace, &id).await?;
    let number = state
        .store
        .contact_assigned_number(workspace, contact)
        .await?;
    Ok(axum::Json(ContactNumberResponse {
        contact_id: contact.to_string(),
        phone_number_id: number.map(|n| n.to_string()),
    }))
}

/// Assign a contact its own number, or lift the assignment with `null`.
#[utoipa::path(put, path = "/api/v1/contacts/{id}/phone-number", tag = "contacts",
    params(("id" = String, Path, description = "The contact's id")),
    request_body = ContactNumberRequest,
    responses((status = 200, body = ContactNumberResponse), (status = 404, body = Problem),
              (status = 422, body = Problem)))]
async fn assign_contact_number(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ContactNumberRequest>,
) -> ApiResult<axum::Json<ContactNumberResponse>> {
    let mut errors = FieldErrors::new();
    let number: Option<PhoneNumberId> = match body.phone_number_id {
        Patch::Absent => {
            errors.push(
                "phoneNumberId",
                "is required; send null to lift the assignment",
            );
            None
        }
        Patch::Clear => None,
        Patch::Set(value) => parse_id(&mut errors, "phoneNumberId", &value, "phone number"),
    };
    errors.finish(())?;
    let contact = contact_id(&state, workspace, &id).await?;
    if let Some(number) = number
        && state.store.phone_number(workspace, number).await?.is_none()
    {
        return Err(ApiError::NotFound {
            detail: format!("no phone number '{number}' in this workspace"),
            field: Some("phoneNumberId".to_owned()),
        });
    }
    if !state
        .store
        .assign_contact_number(workspace, contact, number)
        .await?
    {
        return Err(ApiError::not_found("the contact was deleted meanwhile"));
    }
    tracing::info!(%contact, phone_number = ?number, "contact number assigned");
    Ok(axum::Json(ContactNumberResponse {
        contact_id: contact.to_string(),
        phone_number_id: number.map(|n| n.to_string()),
    }))
}
