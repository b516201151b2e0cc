//! `/api/v1/users`: the advisors and admins of a workspace. Email is unique per
//! workspace; a user is fetched by id or by email.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use leadline_core::UserId;
use leadline_core::user::{Role, UserRef};
use leadline_store::StoreError;
use leadline_store::users::{NewUser, User};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, timestamp};
use crate::pagination::{Page, PageParams};
use crate::state::AppState;
use crate::usecases::settings::users;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_user, list_users))
        .routes(routes!(get_user))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateUserRequest {
    #[schema(schema_with = leadline_core::schema::email)]
    email: String,
    #[serde(default)]
    #[schema(schema_with = leadline_core::schema::optional_text::<100>)]
    first_name: Option<String>,
    #[serde(default)]
    #[schema(schema_with = leadline_core::schema::optional_text::<100>)]
    last_name: Option<String>,
    /// ADVISOR (default) or ADMIN.
    #[serde(default)]
    role: Option<Role>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserResponse {
    id: String,
    workspace_id: String,
    email: String,
    first_name: Option<String>,
    last_name: Option<String>,
    role: Role,
    created_at: String,
    updated_at: String,
}

impl From<User> for UserResponse {
    fn from(user: User) -> Self {
        Self {
            id: user.id.to_string(),
            workspace_id: user.workspace_id.to_string(),
            email: user.email.to_string(),
            first_name: user.first_name,
            last_name: user.last_name,
            role: user.role,
            created_at: timestamp(user.created_at),
            updated_at: timestamp(user.updated_at),
        }
    }
}

/// Create a user (an advisor or an admin).
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = CreateUserRequest,
    responses((status = 201, body = UserResponse), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_user(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    ApiJson(body): ApiJson<CreateUserRequest>,
) -> ApiResult<(StatusCode, axum::Json<UserResponse>)> {
    let fields = users::checked(&body.email, body.first_name, body.last_name)?;
    let new = NewUser {
        email: fields.email,
        first_name: fields.first_name,
        last_name: fields.last_name,
        role: body.role.unwrap_or_default(),
    };
    match state.store.create_user(workspace, new).await {
        Ok(user) => Ok((StatusCode::CREATED, axum::Json(user.into()))),
        Err(StoreError::Duplicate { .. }) => Err(ApiError::Conflict {
            detail: "a user with this email already exists in the workspace".to_owned(),
            field: Some("email".to_owned()),
        }),
        Err(error) => Err(error.into()),
    }
}

/// List the workspace's users, oldest first.
#[utoipa::path(get, path = "/api/v1/users", tag = "users", params(PageParams),
    responses((status = 200, body = Page<UserResponse>)))]
async fn list_users(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<axum::Json<Page<UserResponse>>> {
    let limit = page.limit()?;
    let after: Option<UserId> = page.cursor()?;
    let users = state.store.list_users(workspace, after, limit).await?;
    Ok(axum::Json(Page::new(
        users.into_iter().map(UserResponse::from).collect(),
        limit,
        |u| u.id.clone(),
    )))
}

/// Fetch a user by id or by email.
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users",
    params(("id" = String, Path, description = "The user's id or email")),
    responses((status = 200, body = UserResponse), (status = 404, body = Problem)))]
async fn get_user(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<UserResponse>> {
    let not_found = || ApiError::NotFound {
        detail: format!("no user '{id}' in this workspace"),
        field: Some("id".to_owned()),
    };
    let reference = UserRef::from_id_or_email(&id).ok_or_else(not_found)?;
    let user = state
        .store
        .user(workspace, &reference)
        .await?
        .ok_or_else(not_found)?;
    Ok(axum::Json(user.into()))
}
