//! `/api/v1/phone-numbers`: the numbers a workspace sends from. A number says what it
//! can do (SMS, calls), what it is reserved for (a channel, a team, campaigns, sources),
//! whether it is preferred or the workspace's default, and where its warm-up started
//! when it was warmed up elsewhere. Pausing and blocking live in [`holds`]; the number
//! a contact always hears from in [`contact_number`].

use axum::extract::{Path, State};
use axum::http::StatusCode;
use leadline_core::numbers::{Capabilities, display_number};
use leadline_core::validation::text;
use leadline_core::{E164, FieldErrors, Patch, PhoneNumberId, WorkspaceId};
use leadline_store::StoreError;
use leadline_store::phone_numbers::{PhoneNumber, PhoneNumberFields, PhoneNumberFilter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, path_id};
use crate::pagination::{Page, PageParams};
use crate::state::AppState;

mod contact_number;
mod holds;
pub(crate) mod references;

use references::{
    References, id_list, optional_day, optional_id, optional_text, patch_id, patch_list, required,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_phone_number, list_phone_numbers))
        .routes(routes!(
            get_phone_number,
            update_phone_number,
            delete_phone_number
        ))
        .merge(holds::router())
        .merge(contact_number::router())
}

/// What a number can do.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CapabilitiesBody {
    /// Sends SMS (default true).
    #[serde(default = "yes")]
    sms: bool,
    /// Places calls (default true).
    #[serde(default = "yes")]
    call: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreatePhoneNumberRequest {
    /// E.164, e.g. `+14155552671`.
    #[schema(schema_with = leadline_core::schema::e164)]
    number: String,
    /// How people read it; derived from the number when absent ("(415) 555-2671").
    #[serde(default)]
    #[schema(schema_with = leadline_core::schema::optional_text::<40>)]
    display_number: Option<String>,
    /// Default `{"sms": true, "call": true}`; at least one must be true (422
    /// otherwise).
    #[serde(default)]
    capabilities: Option<CapabilitiesBody>,
    /// The SMS or VOICE channel it sends through; absent: any channel of its type.
    /// Ids name rows of the workspace (404 otherwise).
    #[serde(default)]
    #[schema(schema_with = leadline_core::schema::optional_uuid)]
    channel_id: Option<String>,
    #[serde(default)]
    #[schema(schema_with = leadline_core::schema::optional_text::<100>)]
    label: Option<String>,
    /// The team it is reserved for.
    #[serde(default)]
    #[schema(schema_with = leadline_core::schema::optional_uuid)]
    team_id: Option<String>,
    #[serde(default)]
    #[schema(schema_with = leadline_core::schema::uuid_list::<200>)]
    campaign_ids: Vec<String>,
    #[serde(default)]
    #[schema(schema_with = leadline_core::schema::uuid_list::<200>)]
    source_ids: Vec<String>,
    /// Tried before the general pool.
    #[serde(default)]
    preferred: bool,
    /// The workspace's last resort; setting it moves the flag off the other numbers.
    #[serde(default)]
    is_default: bool,
    /// YYYY-MM-DD, for a number warmed up elsewhere; absent: it starts on its first send.
    #[serde(default)]
    #[schema(schema_with = leadline_core::schema::optional_date)]
    warmup_started_on: Option<String>,
}

/// Absent fields stay as they are; `null` clears the optional ones.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdatePhoneNumberRequest {
    /// A new number (not `null`).
    #[serde(default)]
    #[schema(schema_with = leadline_core::schema::e164)]
    number: Patch<String>,
    /// `null` derives it from the number again (as does a new number without one).
    #[serde(default)]
    #[schema(schema_with = leadline_core::schema::optional_text::<40>)]
    display_number: Patch<String>,
    /// Either flag may be left out to keep it (not `null`); at least one must stay
    /// true (422 otherwise).
    #[serde(default, deserialize_with = "crate::extract::patch_object")]
    #[schema(value_type = CapabilitiesPatch)]
    capabilities: Patch<CapabilitiesPatch>,
    #[serde(default)]
    #[schema(schema_with = leadline_core::schema::optional_uuid)]
    channel_id: Patch<String>,
    #[serde(default)]
    #[schema(schema_with = leadline_core::schema::optional_text::<100>)]
    label: Patch<String>,
    #[serde(default)]
    #[schema(schema_with = leadline_core::schema::optional_uuid)]
    team_id: Patch<String>,
    /// Replaces the list; `null` empties it.
    #[serde(default)]
    #[schema(schema_with = leadline_core::schema::optional_uuid_list::<200>)]
    campaign_ids: Patch<Vec<String>>,
    /// Replaces the list; `null` empties it.
    #[serde(default)]
    #[schema(schema_with = leadline_core::schema::optional_uuid_list::<200>)]
    source_ids: Patch<Vec<String>>,
    /// Not `null`.
    #[serde(default)]
    #[schema(value_type = bool)]
    preferred: Patch<bool>,
    /// Not `null`.
    #[serde(default)]
    #[schema(value_type = bool)]
    is_default: Patch<bool>,
    #[serde(default)]
    #[schema(schema_with = leadline_core::schema::optional_date)]
    warmup_started_on: Patch<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CapabilitiesPatch {
    #[serde(default)]
    sms: Option<bool>,
    #[serde(default)]
    call: Option<bool>,
}

pub use leadline_core::views::PhoneNumberView as PhoneNumberResponse;

const MAX_DISPLAY: usize = 40;
const MAX_LABEL: usize = 100;

fn capabilities_error(errors: &mut FieldErrors, capabilities: Capabilities) {
    if !capabilities.sms && !capabilities.call {
        errors.push("capabilities", "at least one of sms and call must be true");
    }
}

/// A taken number is a 409 naming `number`; other store errors pass on.
fn duplicate_number(error: StoreError) -> ApiError {
    match error {
        StoreError::Duplicate { .. } => ApiError::Conflict {
            detail: "the workspace already has this number".to_owned(),
            field: Some("number".to_owned()),
        },
        other => other.into(),
    }
}

/// Add a number to the pool.
#[utoipa::path(post, path = "/api/v1/phone-numbers", tag = "phone numbers",
    request_body = CreatePhoneNumberRequest,
    responses((status = 201, body = PhoneNumberResponse), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_phone_number(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    ApiJson(body): ApiJson<CreatePhoneNumberRequest>,
) -> ApiResult<(StatusCode, axum::Json<PhoneNumberResponse>)> {
    let mut errors = FieldErrors::new();
    let number = errors.check(E164::parse_field("number", &body.number));
    let display = optional_text(
        &mut errors,
        "displayNumber",
        body.display_number,
        MAX_DISPLAY,
    );
    let capabilities = body.capabilities.unwrap_or(CapabilitiesBody {
        sms: true,
        call: true,
    });
    let capabilities = Capabilities {
        sms: capabilities.sms,
        call: capabilities.call,
    };
    capabilities_error(&mut errors, capabilities);
    let channel_id = optional_id(&mut errors, "channelId", body.channel_id, "channel");
    let label = optional_text(&mut errors, "label", body.label, MAX_LABEL);
    let team_id = optional_id(&mut errors, "teamId", body.team_id, "team");
    let campaign_ids = id_list(&mut errors, "campaignIds", &body.campaign_ids, "campaign");
    let source_ids = id_list(&mut errors, "sourceIds", &body.source_ids, "source");
    let warmup_started_on = optional_day(&mut errors, "warmupStartedOn", body.warmup_started_on);
    errors.finish(())?;
    let number = number.expect("checked above");
    References {
        channel_id,
        team_id,
        campaign_ids: &campaign_ids,
        source_ids: &source_ids,
    }
    .check(&state, workspace)
    .await?;
    let fields = PhoneNumberFields {
        display_number: display.unwrap_or_else(|| display_number(&number)),
        number,
        capabilities,
        channel_id,
        label,
        team_id,
        campaign_ids,
        source_ids,
        preferred: body.preferred,
        is_default: body.is_default,
        warmup_started_on,
    };
    let created = state
        .store
        .create_phone_number(workspace, fields)
        .await
        .map_err(duplicate_number)?;
    tracing::info!(phone_number = %created.id, number = %created.number, "phone number added");
    state.numbers.invalidate(workspace);
    Ok((StatusCode::CREATED, axum::Json(created.into())))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct PhoneNumberListParams {
    /// Only the numbers of this team.
    #[param(value_type = Option<uuid::Uuid>)]
    team_id: Option<String>,
    /// Only the numbers bound to this channel.
    #[param(value_type = Option<uuid::Uuid>)]
    channel_id: Option<String>,
}

/// List the workspace's numbers, oldest first.
#[utoipa::path(get, path = "/api/v1/phone-numbers", tag = "phone numbers",
    params(PhoneNumberListParams, PageParams),
    responses((status = 200, body = Page<PhoneNumberResponse>), (status = 422, body = Problem)))]
async fn list_phone_numbers(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    ApiQuery(filter): ApiQuery<PhoneNumberListParams>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<axum::Json<Page<PhoneNumberResponse>>> {
    let limit = page.limit()?;
    let after: Option<PhoneNumberId> = page.cursor()?;
    let mut errors = FieldErrors::new();
    let filter = PhoneNumberFilter {
        team_id: optional_id(&mut errors, "teamId", filter.team_id, "team"),
        channel_id: optional_id(&mut errors, "channelId", filter.channel_id, "channel"),
    };
    errors.finish(())?;
    let numbers = state
        .store
        .list_phone_numbers(workspace, filter, after, limit)
        .await?;
    Ok(axum::Json(Page::new(
        numbers.into_iter().map(PhoneNumberResponse::from).collect(),
        limit,
        |n| n.id.clone(),
    )))
}

/// Loads a number of the workspace named in a path, or answers 404.
async fn load(state: &AppState, workspace: WorkspaceId, id: &str) -> ApiResult<PhoneNumber> {
    let id_value: PhoneNumberId = path_id("id", id, "phone number")?;
    state
        .store
        .phone_number(workspace, id_value)
        .await?
        .ok_or_else(|| ApiError::NotFound {
            detail: format!("no phone number '{id}' in this workspace"),
            field: Some("id".to_owned()),
        })
}

/// Fetch a number.
#[utoipa::path(get, path = "/api/v1/phone-numbers/{id}", tag = "phone numbers",
    params(("id" = String, Path, description = "The phone number's id")),
    responses((status = 200, body = PhoneNumberResponse), (status = 404, body = Problem)))]
async fn get_phone_number(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<PhoneNumberResponse>> {
    Ok(axum::Json(load(&state, workspace, &id).await?.into()))
}

/// Change some of a number's fields; assignments given are replaced as a whole.
#[utoipa::path(patch, path = "/api/v1/phone-numbers/{id}", tag = "phone numbers",
    params(("id" = String, Path, description = "The phone number's id")),
    request_body = UpdatePhoneNumberRequest,
    responses((status = 200, body = PhoneNumberResponse), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn update_phone_number(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdatePhoneNumberRequest>,
) -> ApiResult<axum::Json<PhoneNumberResponse>> {
    let current = load(&state, workspace, &id).await?;
    let mut errors = FieldErrors::new();
    let number = required(&mut errors, "number", body.number)
        .and_then(|n| errors.check(E164::parse_field("number", &n)));
    let display = body
        .display_number
        .try_map(|d| text("displayNumber", &d, MAX_DISPLAY))
        .unwrap_or_else(|error| {
            errors.push(error.field, error.message);
            Patch::Absent
        });
    let mut capabilities = current.capabilities;
    if let Some(patch) = required(&mut errors, "capabilities", body.capabilities) {
        capabilities.sms = patch.sms.unwrap_or(capabilities.sms);
        capabilities.call = patch.call.unwrap_or(capabilities.call);
    }
    capabilities_error(&mut errors, capabilities);
    let channel_id = patch_id(&mut errors, "channelId", body.channel_id, "channel");
    let label = body
        .label
        .try_map(|l| text("label", &l, MAX_LABEL))
        .unwrap_or_else(|error| {
            errors.push(error.field, error.message);
            Patch::Absent
        });
    let team_id = patch_id(&mut errors, "teamId", body.team_id, "team");
    let campaign_ids = patch_list(&mut errors, "campaignIds", body.campaign_ids, "campaign");
    let source_ids = patch_list(&mut errors, "sourceIds", body.source_ids, "source");
    let preferred = required(&mut errors, "preferred", body.preferred);
    let is_default = required(&mut errors, "isDefault", body.is_default);
    let warmup = match body.warmup_started_on {
        Patch::Absent => Patch::Absent,
        Patch::Clear => Patch::Clear,
        Patch::Set(day) => match optional_day(&mut errors, "warmupStartedOn", Some(day)) {
            Some(day) => Patch::Set(day),
            None => Patch::Absent,
        },
    };
    errors.finish(())?;
    // Only what the request names is checked: unchanged references were checked when
    // they were set.
    let (changed_campaigns, changed_sources) = (
        campaign_ids.clone().unwrap_or_default(),
        source_ids.clone().unwrap_or_default(),
    );
    References {
        channel_id: channel_id.clone().apply(None),
        team_id: team_id.clone().apply(None),
        campaign_ids: &changed_campaigns,
        source_ids: &changed_sources,
    }
    .check(&state, workspace)
    .await?;
    let renumbered = number.as_ref().is_some_and(|n| *n != current.number);
    let number = number.unwrap_or(current.number);
    let display_number = match display {
        Patch::Set(display) => display,
        Patch::Clear => display_number(&number),
        Patch::Absent if renumbered => display_number(&number),
        Patch::Absent => current.display_number,
    };
    let fields = PhoneNumberFields {
        number,
        display_number,
        capabilities,
        channel_id: channel_id.apply(current.channel_id),
        label: label.apply(current.label),
        team_id: team_id.apply(current.team_id),
        campaign_ids: campaign_ids.unwrap_or(current.campaign_ids),
        source_ids: source_ids.unwrap_or(current.source_ids),
        preferred: preferred.unwrap_or(current.preferred),
        is_default: is_default.unwrap_or(current.is_default),
        warmup_started_on: warmup.apply(current.warmup_started_on),
    };
    let updated = state
        .store
        .update_phone_number(workspace, current.id, fields)
        .await
        .map_err(duplicate_number)?
        .ok_or_else(|| ApiError::not_found("the phone number was deleted meanwhile"))?;
    state.numbers.invalidate(workspace);
    Ok(axum::Json(updated.into()))
}

/// Remove a number from the pool; contacts assigned to it lose the assignment.
#[utoipa::path(delete, path = "/api/v1/phone-numbers/{id}", tag = "phone numbers",
    params(("id" = String, Path, description = "The phone number's id")),
    responses((status = 204, description = "Deleted"), (status = 404, body = Problem)))]
async fn delete_phone_number(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let number = load(&state, workspace, &id).await?;
    if !state
        .store
        .delete_phone_number(workspace, number.id)
        .await?
    {
        return Err(ApiError::not_found(
            "the phone number was deleted meanwhile",
        ));
    }
    tracing::info!(phone_number = %number.id, "phone number removed");
    state.numbers.invalidate(workspace);
    Ok(StatusCode::NO_CONTENT)
}
