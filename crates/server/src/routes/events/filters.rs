//! The filters of the event log and its stream, read from the query string: `type`
//! (repeated, `type=a&type=b`, or comma-separated, `type=a,b`), `resourceId` and
//! `since` (RFC 3339). A query string deserializer keeps one value per name, so the
//! types are read from the raw query; the other parameters come through
//! [`crate::extract::ApiQuery`], which also refuses U+0000 anywhere in the query.

use chrono::{DateTime, Utc};
use leadline_core::FieldErrors;
use leadline_core::event::EventType;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, SchemaType, Type};

/// Longest `resourceId` accepted.
const RESOURCE_ID_MAX: usize = 200;

/// What the list reads from its query besides the types.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventListQuery {
    pub cursor: Option<String>,
    pub limit: Option<String>,
    resource_id: Option<String>,
    since: Option<String>,
}

/// How the filters are documented.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct EventFilterParams {
    /// Only events of these types: repeat the parameter (`type=lead.added&type=lead.completed`)
    /// or separate types with commas (`type=lead.added,lead.completed`).
    #[param(rename = "type", schema_with = types_schema, style = Form, explode)]
    types: Option<Vec<String>>,
    /// Only events about this resource (a contact's, a conversation's, a lead's … id).
    #[param(rename = "resourceId", min_length = 1, max_length = 200)]
    resource_id: Option<String>,
    /// Only events that happened at or after this instant (RFC 3339, e.g.
    /// `2026-03-01T12:00:00Z`).
    #[param(value_type = Option<String>, format = DateTime)]
    since: Option<String>,
}

/// Stream filters, documented likewise.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct StreamFilterParams {
    /// Only events of these types: repeat the parameter or separate types with commas.
    #[param(rename = "type", schema_with = types_schema, style = Form, explode)]
    types: Option<Vec<String>>,
}

/// A list of `type` values, each one or more known types joined by commas.
fn types_schema() -> utoipa::openapi::schema::Array {
    let one = EventType::ALL
        .iter()
        .map(|kind| kind.as_str().replace('.', r"\."))
        .collect::<Vec<_>>()
        .join("|");
    ArrayBuilder::new()
        .schema_type(SchemaType::new(Type::Array))
        .description(Some(
            "Event types: the parameter repeated (`type=lead.added&type=lead.completed`) or \
             types separated by commas (`type=lead.added,lead.completed`).",
        ))
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(format!("^(?:{one})(?:,(?:{one}))*$"))),
        )
        .build()
}

/// The filters of a list request, checked.
#[derive(Debug, Default)]
pub struct Filters {
    pub types: Vec<EventType>,
    pub resource_id: Option<String>,
    pub since: Option<DateTime<Utc>>,
}

impl EventListQuery {
    /// The filters, every invalid one named in `errors`.
    pub fn checked(&self, raw_query: Option<&str>, errors: &mut FieldErrors) -> Filters {
        let types = types_in(raw_query).unwrap_or_else(|refused| {
            for error in refused.into_vec() {
                errors.push(error.field, error.message);
            }
            Vec::new()
        });
        let resource_id = self.resource_id.as_deref().and_then(|id| {
            let length = id.chars().count();
            if (1..=RESOURCE_ID_MAX).contains(&length) {
                Some(id.to_owned())
            } else {
                errors.push(
                    "resourceId",
                    format!("must be the id of a resource, 1 to {RESOURCE_ID_MAX} characters"),
                );
                None
            }
        });
        let since = self
            .since
            .as_deref()
            .and_then(|raw| match DateTime::parse_from_rfc3339(raw) {
                Ok(at) => Some(at.with_timezone(&Utc)),
                Err(_) => {
                    errors.push(
                        "since",
                        "must be an RFC 3339 date-time, e.g. 2026-03-01T12:00:00Z",
                    );
                    None
                }
            });
        Filters {
            types,
            resource_id,
            since,
        }
    }
}

/// The event types the query's `type` parameters name, in first-named order; a name
/// that is no type is refused, naming `type`.
pub fn types_in(raw_query: Option<&str>) -> Result<Vec<EventType>, FieldErrors> {
    let mut types = Vec::new();
    let mut errors = FieldErrors::new();
    let pairs = form_urlencoded::parse(raw_query.unwrap_or_default().as_bytes());
    for (_, value) in pairs.filter(|(name, _)| name == "type") {
        for name in value.split(',') {
            match EventType::parse(name) {
                Some(kind) if !types.contains(&kind) => types.push(kind),
                Some(_) => {}
                None => errors.push(
                    "type",
                    format!(
                        "'{name}' is not an event type; one of {}",
                        EventType::expected()
                    ),
                ),
            }
        }
    }
    errors.finish(types)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_repeated_or_comma_separated() {
        assert_eq!(
            types_in(Some(
                "type=lead.added,lead.completed&limit=5&type=message.sent"
            ))
            .unwrap(),
            vec![
                EventType::LeadAdded,
                EventType::LeadCompleted,
                EventType::MessageSent
            ]
        );
        assert_eq!(types_in(None).unwrap(), vec![]);
        assert_eq!(
            types_in(Some("type=lead.added&type=lead.added")).unwrap(),
            vec![EventType::LeadAdded]
        );
    }

    #[test]
    fn an_unknown_or_empty_type_is_refused() {
        for query in [
            "type=lead.nope",
            "type=",
            "type=lead.added,",
            "type=lead.added%20",
        ] {
            let refused = types_in(Some(query)).unwrap_err().into_vec();
            assert_eq!(refused[0].field, "type", "{query}");
        }
    }

    #[test]
    fn since_and_resource_id_are_checked() {
        let query = EventListQuery {
            resource_id: Some(String::new()),
            since: Some("yesterday".to_owned()),
            ..EventListQuery::default()
        };
        let mut errors = FieldErrors::new();
        query.checked(Some("type=x"), &mut errors);
        let fields: Vec<String> = errors.into_vec().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["type", "resourceId", "since"]);
    }
}
