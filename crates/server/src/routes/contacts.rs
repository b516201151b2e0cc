//! `/api/v1/contacts`: reading contacts. They are written through the Bridge seed
//! endpoint (`bridge_contacts`), which this module's [`ContactResponse`] also answers.

use axum::extract::{Path, State};
use leadline_core::{ContactId, E164};
use leadline_store::contacts::ContactFilter;
use leadline_store::views::contact_view;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiQuery, path_id};
use crate::pagination::{Page, PageParams};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_contacts))
        .routes(routes!(get_contact))
}

pub use leadline_core::views::ContactView as ContactResponse;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContactListParams {
    /// Only the contact with this E.164 cellphone.
    #[param(pattern = r"^\+[0-9]{8,15}$")]
    cellphone: Option<String>,
}

/// List contacts, oldest first, optionally by cellphone.
#[utoipa::path(get, path = "/api/v1/contacts", tag = "contacts", params(ContactListParams, PageParams),
    responses((status = 200, body = Page<ContactResponse>), (status = 422, body = Problem)))]
async fn list_contacts(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    ApiQuery(params): ApiQuery<ContactListParams>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<axum::Json<Page<ContactResponse>>> {
    let filter = ContactFilter {
        cellphone: params
            .cellphone
            .as_deref()
            .map(|c| E164::parse_field("cellphone", c))
            .transpose()?,
        after: page.cursor()?,
        limit: page.limit()?,
    };
    let contacts = state.store.list_contacts(workspace, &filter).await?;
    let definitions = state.store.custom_attributes(workspace).await?;
    let data = contacts
        .into_iter()
        .map(|c| contact_view(&c, &definitions))
        .collect();
    Ok(axum::Json(Page::new(
        data,
        filter.limit,
        |c: &ContactResponse| c.id.clone(),
    )))
}

/// Fetch a contact by id.
#[utoipa::path(get, path = "/api/v1/contacts/{id}", tag = "contacts",
    params(("id" = String, Path, description = "The contact's id")),
    responses((status = 200, body = ContactResponse), (status = 404, body = Problem)))]
async fn get_contact(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<ContactResponse>> {
    let contact_id: ContactId = path_id("id", &id, "contact")?;
    let contact = state
        .store
        .contact(workspace, contact_id)
        .await?
        .ok_or_else(|| ApiError::NotFound {
            detail: format!("no contact '{id}' in this workspace"),
            field: Some("id".to_owned()),
        })?;
    let definitions = state.store.custom_attributes(workspace).await?;
    Ok(axum::Json(contact_view(&contact, &definitions)))
}
