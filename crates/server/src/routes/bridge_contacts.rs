//! The Bridge seed endpoint `POST /bridge/api/v1/workspaces/{workspaceId}/contacts/partial`:
//! create or update a contact keyed by its E.164 cellphone. A field absent from the body
//! is left as it is; an explicit `null` clears it. Everything that can be checked
//! without the database is checked here; owners and custom attributes are resolved by
//! the store inside the write transaction.

use axum::extract::{Path, State};
use leadline_core::contact::LanguageCode;
use leadline_core::custom_attribute::{ClosedAttributeInput, OpenAttributeInput};
use leadline_core::user::UserRef;
use leadline_core::validation::text;
use leadline_core::{E164, Email, FieldErrors, Patch, UserId};
use leadline_store::contacts::{AttributesInput, ContactUpsert};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Authenticated;
use crate::error::{ApiResult, Problem};
use crate::extract::ApiJson;
use crate::routes::contacts::ContactResponse;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(upsert_partial_contact))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PartialContactRequest {
    /// E.164 cellphone; the upsert key.
    #[schema(schema_with = leadline_core::schema::e164)]
    cellphone: String,
    /// Absent keeps it, `null` clears it.
    #[serde(default)]
    #[schema(schema_with = leadline_core::schema::optional_text::<100>)]
    first_name: Patch<String>,
    /// Absent keeps it, `null` clears it.
    #[serde(default)]
    #[schema(schema_with = leadline_core::schema::optional_text::<100>)]
    last_name: Patch<String>,
    /// Absent keeps it, `null` clears it.
    #[serde(default)]
    #[schema(schema_with = leadline_core::schema::optional_email)]
    email: Patch<String>,
    #[serde(default)]
    #[schema(value_type = Option<LanguageCode>)]
    language_code: Patch<LanguageCode>,
    /// The owner, a user of the workspace (422 when none matches); `null` clears it.
    #[serde(default, deserialize_with = "crate::extract::patch_object")]
    #[schema(value_type = Option<UserIdentifier>)]
    owner_identifier: Patch<UserIdentifier>,
    /// Values by attribute id or key; each must name a custom attribute of the
    /// workspace, CLOSED ones with option ids of that attribute (422 otherwise).
    /// `null` clears every value.
    #[serde(default, deserialize_with = "crate::extract::patch_object")]
    #[schema(value_type = Option<CustomAttributesRequest>)]
    custom_attributes: Patch<CustomAttributesRequest>,
}

/// Identifies an internal user by email or id.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserIdentifier {
    /// An email address for `EMAIL`, a user id (a UUID) for `ID`.
    identifier: String,
    identifier_type: IdentifierType,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum IdentifierType {
    Email,
    Id,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomAttributesRequest {
    #[serde(default)]
    open_attributes: Vec<OpenAttributeInput>,
    #[serde(default)]
    closed_attributes: Vec<ClosedAttributeInput>,
}

/// Create or update a contact.
#[utoipa::path(post, path = "/bridge/api/v1/workspaces/{workspaceId}/contacts/partial", tag = "bridge",
    params(("workspaceId" = String, Path, description = "The workspace of the API key")),
    request_body = PartialContactRequest,
    responses((status = 200, body = ContactResponse), (status = 400, body = Problem), (status = 401, body = Problem),
              (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn upsert_partial_contact(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(workspace_in_path): Path<String>,
    ApiJson(body): ApiJson<PartialContactRequest>,
) -> ApiResult<axum::Json<ContactResponse>> {
    let workspace_id = auth.require_workspace(&workspace_in_path)?;
    let upsert = validate(workspace_id, body)?;
    let upserted = state.store.upsert_contact(upsert).await??;
    tracing::debug!(contact = %upserted.contact.id, created = upserted.created, "contact upserted");
    Ok(axum::Json(leadline_store::views::contact_view(
        &upserted.contact,
        &upserted.definitions,
    )))
}

fn validate(
    workspace_id: leadline_core::WorkspaceId,
    body: PartialContactRequest,
) -> Result<ContactUpsert, FieldErrors> {
    let mut errors = FieldErrors::new();
    let cellphone = errors.check(E164::parse_field("cellphone", &body.cellphone));
    let name = |field: &'static str| move |value: String| text(field, &value, 100);
    let first_name = errors
        .check(body.first_name.try_map(name("firstName")))
        .unwrap_or_default();
    let last_name = errors
        .check(body.last_name.try_map(name("lastName")))
        .unwrap_or_default();
    let email = errors
        .check(
            body.email
                .try_map(|value| Email::parse_field("email", &value)),
        )
        .unwrap_or_default();
    let owner =
        errors
            .check(body.owner_identifier.try_map(|owner| {
                match owner.identifier_type {
                    IdentifierType::Email => {
                        Email::parse_field("ownerIdentifier.identifier", &owner.identifier)
                            .map(UserRef::Email)
                    }
                    IdentifierType::Id => owner
                        .identifier
                        .parse::<UserId>()
                        .map(UserRef::Id)
                        .map_err(|_| {
                            leadline_core::FieldError::new(
                                "ownerIdentifier.identifier",
                                "identifierType ID needs a user id (a UUID)",
                            )
                        }),
                }
            }))
            .unwrap_or_default();
    let attributes = match body.custom_attributes {
        Patch::Absent => AttributesInput::Keep,
        Patch::Clear => AttributesInput::ClearAll,
        Patch::Set(request) => AttributesInput::Assign {
            open: request.open_attributes,
            closed: request.closed_attributes,
        },
    };
    errors.finish(())?;
    Ok(ContactUpsert {
        workspace_id,
        cellphone: cellphone.expect("an invalid cellphone was reported above"),
        first_name,
        last_name,
        email,
        language_code: body.language_code,
        owner,
        attributes,
    })
}
