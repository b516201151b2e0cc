//! `/api/v1/custom-attributes`: the workspace's contact fields. OPEN attributes take
//! free text; CLOSED ones take option ids, and each option gets its own id here.

use axum::extract::State;
use axum::http::StatusCode;
use leadline_core::custom_attribute::{AttributeDefinition, AttributeKind};
use leadline_store::StoreError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::ApiJson;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_custom_attribute, list_custom_attributes))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateCustomAttributeRequest {
    /// Identifier-like key, unique in the workspace (e.g. `budget`): a letter, then
    /// letters, digits, `_`, `-` or `.`, at most 64 characters.
    #[schema(pattern = r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")]
    key: String,
    #[schema(schema_with = leadline_core::schema::text::<200>)]
    label: String,
    kind: AttributeKind,
    /// The options of a CLOSED attribute: 1 to 200, with labels distinct regardless of
    /// case; an OPEN attribute has none (422 otherwise).
    #[serde(default)]
    #[schema(max_items = 200)]
    options: Vec<OptionRequest>,
    /// Whether a contact needs a value to be NORMAL.
    #[serde(default)]
    required: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct OptionRequest {
    #[schema(schema_with = leadline_core::schema::text::<200>)]
    label: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomAttributeResponse {
    id: String,
    key: String,
    label: String,
    kind: AttributeKind,
    options: Vec<OptionResponse>,
    required: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OptionResponse {
    /// Send this id in `closedCustomAttributeIds`.
    id: String,
    label: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CustomAttributeList {
    data: Vec<CustomAttributeResponse>,
}

impl From<AttributeDefinition> for CustomAttributeResponse {
    fn from(definition: AttributeDefinition) -> Self {
        Self {
            id: definition.id.to_string(),
            key: definition.key,
            label: definition.label,
            kind: definition.kind,
            options: definition
                .options
                .into_iter()
                .map(|o| OptionResponse {
                    id: o.id.to_string(),
                    label: o.label,
                })
                .collect(),
            required: definition.required,
        }
    }
}

/// Define a custom attribute.
#[utoipa::path(post, path = "/api/v1/custom-attributes", tag = "custom attributes",
    request_body = CreateCustomAttributeRequest,
    responses((status = 201, body = CustomAttributeResponse), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_custom_attribute(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    ApiJson(body): ApiJson<CreateCustomAttributeRequest>,
) -> ApiResult<(StatusCode, axum::Json<CustomAttributeResponse>)> {
    let labels: Vec<String> = body.options.into_iter().map(|o| o.label).collect();
    let definition =
        AttributeDefinition::create(&body.key, &body.label, body.kind, &labels, body.required)?;
    match state
        .store
        .create_custom_attribute(workspace, &definition)
        .await
    {
        Ok(()) => Ok((StatusCode::CREATED, axum::Json(definition.into()))),
        Err(StoreError::Duplicate { .. }) => Err(ApiError::Conflict {
            detail: format!(
                "a custom attribute with key '{}' already exists",
                definition.key
            ),
            field: Some("key".to_owned()),
        }),
        Err(error) => Err(error.into()),
    }
}

/// List the workspace's custom attributes in creation order.
#[utoipa::path(get, path = "/api/v1/custom-attributes", tag = "custom attributes",
    responses((status = 200, body = CustomAttributeList)))]
async fn list_custom_attributes(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
) -> ApiResult<axum::Json<CustomAttributeList>> {
    let definitions = state.store.custom_attributes(workspace).await?;
    Ok(axum::Json(CustomAttributeList {
        data: definitions.into_iter().map(Into::into).collect(),
    }))
}
