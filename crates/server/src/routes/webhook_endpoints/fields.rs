//! The request bodies of `/api/v1/webhook-endpoints` and their checks. Every field is
//! checked at the edge and every refusal names its field: `url` (http or https, and
//! allowed by the outbound guard, whose reason is given), `description`, each
//! `eventTypes[i]`, `enabled` and `rateLimit`.

use leadline_core::event::{EventFilter, EventType};
use leadline_core::{FieldErrors, Patch};
use leadline_providers::outbound::OutboundClient;
use leadline_store::webhook_endpoints::{NewWebhookEndpoint, WebhookEndpointPatch};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa::openapi::schema::{Array, ArrayBuilder, Object, ObjectBuilder, SchemaType, Type};

use crate::usecases::settings::webhook_endpoints::{
    URL_MAX, checked_description, checked_event_types, checked_new, checked_rate_limit, checked_url,
};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateWebhookEndpointRequest {
    /// Where events are POSTed: an `http` or `https` URL of at most 2000 characters
    /// whose host the outbound guard allows (not loopback, private, link-local or
    /// metadata addresses, unless the operator allowed them with `--allow-outbound`).
    #[schema(schema_with = url_schema)]
    url: String,
    /// What the endpoint is for; at most 1000 characters.
    #[serde(default)]
    #[schema(schema_with = leadline_core::schema::optional_text_up_to::<1000>)]
    description: Option<String>,
    /// The event types it receives, at least one; absent or `null` for every type.
    #[serde(default)]
    #[schema(schema_with = event_types_schema)]
    event_types: Option<Vec<String>>,
    /// Whether events are delivered to it (default `true`).
    #[serde(default)]
    #[schema(value_type = Option<bool>)]
    enabled: Option<bool>,
    /// Deliveries per second at most, 1 to 10000; absent or `null` for no limit.
    #[serde(default)]
    #[schema(value_type = Option<u32>, minimum = 1, maximum = 10000)]
    rate_limit: Option<u32>,
}

/// Absent fields stay as they are. `null` sets `eventTypes` to every type, `rateLimit`
/// to no limit and `description` to none; `url` and `enabled` cannot be `null`.
/// Enabling an endpoint that leadline disabled clears why it was disabled.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateWebhookEndpointRequest {
    #[serde(default)]
    #[schema(schema_with = url_schema)]
    url: Patch<String>,
    #[serde(default)]
    #[schema(schema_with = leadline_core::schema::optional_text_up_to::<1000>)]
    description: Patch<String>,
    #[serde(default)]
    #[schema(schema_with = event_types_schema)]
    event_types: Patch<Vec<String>>,
    #[serde(default)]
    #[schema(value_type = bool)]
    enabled: Patch<bool>,
    #[serde(default)]
    #[schema(value_type = Option<u32>, minimum = 1, maximum = 10000)]
    rate_limit: Patch<u32>,
}

/// An `http(s)://` URL with a host, without whitespace, of at most [`URL_MAX`]
/// characters: the shape [`url_shape_is_right`](crate::usecases::settings::webhook_endpoints::url_shape_is_right) checks.
fn url_schema() -> Object {
    let space = leadline_core::schema::WHITESPACE;
    ObjectBuilder::new()
        .schema_type(SchemaType::new(Type::String))
        .format(Some(utoipa::openapi::SchemaFormat::Custom(
            "uri".to_owned(),
        )))
        .pattern(Some(format!(
            "^[Hh][Tt][Tt][Pp][Ss]?://[^{space}/?#][^{space}]*$"
        )))
        .max_length(Some(URL_MAX))
        .description(Some(
            "An http or https URL with a host (no spaces); its host must be allowed by the \
             outbound guard.",
        ))
        .build()
}

/// At least one known event type, or `null` for all.
fn event_types_schema() -> Array {
    ArrayBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Array, Type::Null]))
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(EventType::ALL.iter().map(|kind| kind.as_str()))),
        )
        .min_items(Some(1))
        .build()
}

impl CreateWebhookEndpointRequest {
    /// The endpoint to create, or every field that is wrong.
    pub async fn checked(self, guard: &OutboundClient) -> Result<NewWebhookEndpoint, FieldErrors> {
        checked_new(
            guard,
            &self.url,
            self.description.as_deref(),
            self.event_types.as_deref(),
            self.enabled,
            self.rate_limit,
        )
        .await
    }
}

impl UpdateWebhookEndpointRequest {
    /// The change to make, or every field that is wrong.
    pub async fn checked(
        self,
        guard: &OutboundClient,
    ) -> Result<WebhookEndpointPatch, FieldErrors> {
        let mut errors = FieldErrors::new();
        let url = match self.url {
            Patch::Absent => None,
            Patch::Clear => {
                errors.push("url", "must be an http or https URL, not null");
                None
            }
            Patch::Set(url) => checked_url(&mut errors, guard, &url).await,
        };
        let description = match self.description {
            Patch::Absent => None,
            Patch::Clear => Some(String::new()),
            Patch::Set(text) => Some(checked_description(&mut errors, Some(&text))),
        };
        let event_types = match self.event_types {
            Patch::Absent => None,
            Patch::Clear => Some(EventFilter::All),
            Patch::Set(names) => Some(checked_event_types(&mut errors, &names)),
        };
        let enabled = match self.enabled {
            Patch::Absent => None,
            Patch::Clear => {
                errors.push("enabled", "must be true or false, not null");
                None
            }
            Patch::Set(enabled) => Some(enabled),
        };
        let rate_limit = match self.rate_limit {
            Patch::Absent => None,
            Patch::Clear => Some(None),
            Patch::Set(limit) => Some(checked_rate_limit(&mut errors, limit)),
        };
        errors.finish(WebhookEndpointPatch {
            url,
            description,
            event_types,
            enabled,
            rate_limit,
        })
    }
}
