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

/// Longest URL accepted, in characters.
const URL_MAX: usize = 2000;
/// Longest description accepted, in characters once trimmed.
const DESCRIPTION_MAX: usize = 1000;
/// Deliveries per second an endpoint may be limited to, at most.
pub const RATE_LIMIT_MAX: u32 = 10_000;

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
/// characters: the shape [`url_shape_is_right`] checks.
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

/// `http://` or `https://` (in any case), then a host, and no whitespace anywhere. The
/// URL parser alone would accept more (`http:///host`, spaces it encodes or drops), so
/// the shape is checked first, as the schema states it.
fn url_shape_is_right(url: &str) -> bool {
    let rest = ["https://", "http://"].iter().find_map(|scheme| {
        url.get(..scheme.len())
            .filter(|head| head.eq_ignore_ascii_case(scheme))
            .map(|_| &url[scheme.len()..])
    });
    rest.is_some_and(|rest| !rest.is_empty() && !rest.starts_with(['/', '?', '#']))
        && !url.chars().any(char::is_whitespace)
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
        let mut errors = FieldErrors::new();
        let url = checked_url(&mut errors, guard, &self.url).await;
        let description = checked_description(&mut errors, self.description.as_deref());
        let event_types = match self.event_types {
            None => EventFilter::All,
            Some(names) => checked_event_types(&mut errors, &names),
        };
        let rate_limit = self
            .rate_limit
            .and_then(|limit| checked_rate_limit(&mut errors, limit));
        errors.finish(())?;
        Ok(NewWebhookEndpoint {
            url: url.expect("checked above"),
            description,
            event_types,
            enabled: self.enabled.unwrap_or(true),
            rate_limit,
        })
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

/// An http(s) URL the outbound guard allows, as given.
async fn checked_url(
    errors: &mut FieldErrors,
    guard: &OutboundClient,
    raw: &str,
) -> Option<String> {
    let url = raw;
    if url.chars().count() > URL_MAX {
        errors.push("url", format!("must be at most {URL_MAX} characters"));
        return None;
    }
    match reqwest::Url::parse(url) {
        Ok(parsed) if url_shape_is_right(url) && parsed.has_host() => {}
        _ => {
            errors.push(
                "url",
                "must be an http or https URL with a host, e.g. https://example.com/leadline",
            );
            return None;
        }
    }
    match guard.check_url(url).await {
        Ok(()) => Some(url.to_owned()),
        Err(refusal) => {
            errors.push("url", refusal.to_string());
            None
        }
    }
}

/// The description trimmed, at most [`DESCRIPTION_MAX`] characters; empty when none.
fn checked_description(errors: &mut FieldErrors, raw: Option<&str>) -> String {
    let text = raw.unwrap_or_default().trim();
    if text.chars().count() > DESCRIPTION_MAX {
        errors.push(
            "description",
            format!("must be at most {DESCRIPTION_MAX} characters"),
        );
    }
    text.to_owned()
}

/// Known event types, at least one, each once (a repeat is dropped).
fn checked_event_types(errors: &mut FieldErrors, names: &[String]) -> EventFilter {
    if names.is_empty() {
        errors.push(
            "eventTypes",
            "must list at least one event type; leave it out or send null for every type",
        );
    }
    let mut types = Vec::with_capacity(names.len());
    for (n, name) in names.iter().enumerate() {
        match EventType::parse(name) {
            Some(kind) if !types.contains(&kind) => types.push(kind),
            Some(_) => {}
            None => errors.push(
                format!("eventTypes[{n}]"),
                format!("is not an event type; one of {}", EventType::expected()),
            ),
        }
    }
    EventFilter::Only(types)
}

fn checked_rate_limit(errors: &mut FieldErrors, limit: u32) -> Option<u32> {
    if (1..=RATE_LIMIT_MAX).contains(&limit) {
        Some(limit)
    } else {
        errors.push(
            "rateLimit",
            format!("must be a whole number of deliveries per second from 1 to {RATE_LIMIT_MAX}, or null for no limit"),
        );
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(errors: FieldErrors) -> Vec<String> {
        errors.into_vec().into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn event_types_name_each_unknown_entry() {
        let mut errors = FieldErrors::new();
        let names = ["lead.added", "nope", "lead.added", "x"].map(String::from);
        let filter = checked_event_types(&mut errors, &names);
        assert_eq!(filter, EventFilter::Only(vec![EventType::LeadAdded]));
        assert_eq!(fields(errors), ["eventTypes[1]", "eventTypes[3]"]);
    }

    #[test]
    fn urls_need_a_scheme_a_host_and_no_spaces() {
        for good in [
            "https://example.com/hook",
            "HTTP://example.com",
            "http://a:8080?x=1",
        ] {
            assert!(url_shape_is_right(good), "{good}");
        }
        for bad in [
            "ftp://example.com",
            "http:///example.com",
            "https://",
            "https://a b",
            " https://a",
            "example.com",
        ] {
            assert!(!url_shape_is_right(bad), "{bad}");
        }
    }

    #[test]
    fn an_empty_list_is_refused() {
        let mut errors = FieldErrors::new();
        checked_event_types(&mut errors, &[]);
        assert_eq!(fields(errors), ["eventTypes"]);
    }

    #[test]
    fn rate_limits_run_from_one_to_ten_thousand() {
        let mut errors = FieldErrors::new();
        assert_eq!(checked_rate_limit(&mut errors, 1), Some(1));
        assert_eq!(checked_rate_limit(&mut errors, 10_000), Some(10_000));
        assert!(errors.is_empty());
        assert_eq!(checked_rate_limit(&mut errors, 0), None);
        assert_eq!(checked_rate_limit(&mut errors, 10_001), None);
        assert_eq!(fields(errors), ["rateLimit", "rateLimit"]);
    }

    #[test]
    fn descriptions_are_trimmed_and_bounded() {
        let mut errors = FieldErrors::new();
        assert_eq!(checked_description(&mut errors, Some("  CRM  ")), "CRM");
        assert_eq!(checked_description(&mut errors, None), "");
        assert!(errors.is_empty());
        checked_description(&mut errors, Some(&"x".repeat(1001)));
        assert_eq!(fields(errors), ["description"]);
    }
}
