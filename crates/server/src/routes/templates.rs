//! `/api/v1/templates`: message templates with ordered placeholders `{{1}}`…`{{n}}`.
//! A template is unique per workspace by name and language. Its status says whether it
//! may be sent: templates for the sandbox are approved at once; WhatsApp templates
//! wait (PENDING) until the provider's verdict is recorded with PATCH.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use leadline_core::TemplateId;
use leadline_core::channel::MessageProviderType;
use leadline_core::template::TemplateStatus;
use leadline_store::templates::Template;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, path_id, timestamp};
use crate::pagination::{Page, PageParams};
use crate::state::AppState;
use crate::usecases::settings::templates::{self, TemplateInput};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_template, list_templates))
        .routes(routes!(get_template, update_template))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateTemplateRequest {
    #[schema(schema_with = leadline_core::schema::text::<200>)]
    name: String,
    /// The language code the provider knows the template by, e.g. `en`, `es` or
    /// `en_US`: letters and digits in parts joined by `_` or `-`, at most 16 characters.
    #[schema(schema_with = language_schema)]
    language: String,
    /// Text with placeholders `{{1}}`…`{{n}}`, numbered without gaps (at most 100;
    /// 422 otherwise).
    #[schema(schema_with = leadline_core::schema::not_blank)]
    body: String,
    channel_type: MessageProviderType,
    /// When given and it is a sandbox channel, the template is approved at once.
    #[serde(default)]
    #[schema(schema_with = leadline_core::schema::optional_uuid)]
    provider_channel_id: Option<String>,
    /// The provider's verdict, when already known. Default: APPROVED for SMS and VOICE
    /// (carriers do not pre-approve texts) and for sandbox channels, PENDING for
    /// WhatsApp.
    #[serde(default)]
    status: Option<TemplateStatus>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateTemplateRequest {
    status: TemplateStatus,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TemplateResponse {
    id: String,
    workspace_id: String,
    name: String,
    language: String,
    body: String,
    /// How many orderedParams a send must give.
    placeholders: usize,
    channel_type: MessageProviderType,
    status: TemplateStatus,
    created_at: String,
    updated_at: String,
}

impl From<Template> for TemplateResponse {
    fn from(template: Template) -> Self {
        Self {
            id: template.id.to_string(),
            workspace_id: template.workspace_id.to_string(),
            name: template.name,
            language: template.language,
            placeholders: template.body.placeholders(),
            body: template.body.as_str().to_owned(),
            channel_type: template.channel_type,
            status: template.status,
            created_at: timestamp(template.created_at),
            updated_at: timestamp(template.updated_at),
        }
    }
}

/// What [`templates::check_language`] accepts, but for spaces around the code, which it trims
/// and the schema leaves out (a length limit after trimming needs a lookahead that
/// generators of examples cannot use).
fn language_schema() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .pattern(Some("^[A-Za-z0-9]+(?:[-_][A-Za-z0-9]+)*$"))
        .max_length(Some(16))
        .examples(["en", "es", "en_US"])
        .build()
}

/// Create a template.
#[utoipa::path(post, path = "/api/v1/templates", tag = "templates", request_body = CreateTemplateRequest,
    responses((status = 201, body = TemplateResponse),
              (status = 404, description = "`providerChannelId` names no channel of the workspace", body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_template(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    ApiJson(body): ApiJson<CreateTemplateRequest>,
) -> ApiResult<(StatusCode, axum::Json<TemplateResponse>)> {
    let input = TemplateInput {
        name: body.name,
        language: body.language,
        body: body.body,
        channel_type: body.channel_type,
        provider_channel_id: body.provider_channel_id,
        status: body.status,
    };
    let template = templates::create(&state.store, workspace, input).await?;
    Ok((StatusCode::CREATED, axum::Json(template.into())))
}

/// List the workspace's templates, oldest first.
#[utoipa::path(get, path = "/api/v1/templates", tag = "templates", params(PageParams),
    responses((status = 200, body = Page<TemplateResponse>)))]
async fn list_templates(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<axum::Json<Page<TemplateResponse>>> {
    let limit = page.limit()?;
    let after: Option<TemplateId> = page.cursor()?;
    let templates = state.store.list_templates(workspace, after, limit).await?;
    Ok(axum::Json(Page::new(
        templates.into_iter().map(TemplateResponse::from).collect(),
        limit,
        |t| t.id.clone(),
    )))
}

fn template_not_found(id: &str) -> ApiError {
    ApiError::NotFound {
        detail: format!("no template '{id}' in this workspace"),
        field: Some("id".to_owned()),
    }
}

/// Fetch a template.
#[utoipa::path(get, path = "/api/v1/templates/{id}", tag = "templates",
    params(("id" = String, Path, description = "The template's id")),
    responses((status = 200, body = TemplateResponse), (status = 404, body = Problem)))]
async fn get_template(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<TemplateResponse>> {
    let template_id: TemplateId = path_id("id", &id, "template")?;
    let template = state
        .store
        .template(workspace, template_id)
        .await?
        .ok_or_else(|| template_not_found(&id))?;
    Ok(axum::Json(template.into()))
}

/// Record the provider's verdict on a template.
#[utoipa::path(patch, path = "/api/v1/templates/{id}", tag = "templates",
    params(("id" = String, Path, description = "The template's id")),
    request_body = UpdateTemplateRequest,
    responses((status = 200, body = TemplateResponse), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn update_template(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateTemplateRequest>,
) -> ApiResult<axum::Json<TemplateResponse>> {
    let template_id: TemplateId = path_id("id", &id, "template")?;
    let template = state
        .store
        .set_template_status(workspace, template_id, body.status)
        .await?
        .ok_or_else(|| template_not_found(&id))?;
    tracing::info!(template = %template.id, status = %template.status, "template status recorded");
    Ok(axum::Json(template.into()))
}
