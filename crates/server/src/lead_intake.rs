//! Taking a lead into a campaign: the fields a lead arrives with (NLPearl's Add Lead
//! body, a bulk request's items, a CSV row) and the check against its campaign that
//! turns them into a [`NewLead`]. The HTTP endpoints and the CSV importer both use it.

use std::collections::BTreeMap;

use leadline_core::validation::text;
use leadline_core::{E164, FieldErrors};
use leadline_store::campaigns::Campaign;
use leadline_store::leads::NewLead;
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

/// Most callData variables a lead may carry.
pub const MAX_CALL_DATA: usize = 100;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AddLeadRequest {
    /// E.164, or national digits of the campaign's default country.
    #[schema(schema_with = leadline_core::schema::lead_phone)]
    pub phone_number: String,
    /// Your id of the lead: adding it again updates the same lead.
    #[serde(default)]
    #[schema(schema_with = leadline_core::schema::optional_text::<200>)]
    pub external_id: Option<String>,
    /// Windows ("Pacific Standard Time") or IANA ("America/Los_Angeles") zone name;
    /// default: the area code's zone, else the campaign's.
    #[serde(default)]
    #[schema(schema_with = leadline_core::schema::optional_time_zone)]
    pub time_zone_id: Option<String>,
    /// Variables for the opening (strings; numbers and booleans are taken as text;
    /// null is left out), at most 100. Every variable the campaign's opening uses
    /// must be given (422 naming `callData.<name>` otherwise).
    #[serde(default)]
    #[schema(schema_with = call_data_schema)]
    pub call_data: Option<serde_json::Map<String, Value>>,
}

/// Checks one lead against its campaign: the number, the zone, and the variables the
/// campaign's opening needs. `prefix` is put before field names (`""` for the seed
/// endpoint, `leads[3].` in bulk).
pub fn check_lead(
    campaign: &Campaign,
    request: AddLeadRequest,
    prefix: &str,
) -> Result<NewLead, FieldErrors> {
    let mut errors = FieldErrors::new();
    let field = |name: &str| format!("{prefix}{name}");
    let phone = errors.check(E164::parse_in_region(
        &field("phoneNumber"),
        &request.phone_number,
        &campaign.fields.default_country,
    ));
    let external_id = request
        .external_id
        .and_then(|id| errors.check(text(&field("externalId"), &id, 200)));
    let time_zone = request.time_zone_id.and_then(|zone| {
        errors
            .check(leadline_core::time_zone::parse_zone(
                &field("timeZoneId"),
                &zone,
            ))
            .map(|tz| tz.name().to_owned())
    });
    let mut call_data = BTreeMap::new();
    let given = request.call_data.unwrap_or_default();
    if given.len() > MAX_CALL_DATA {
        errors.push(
            field("callData"),
            format!("at most {MAX_CALL_DATA} variables"),
        );
    }
    for (key, value) in given {
        let value = match value {
            Value::String(s) => s,
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Null => continue,
            _ => {
                errors.push(
                    field(&format!("callData.{key}")),
                    "must be a string, number or boolean",
                );
                continue;
            }
        };
        call_data.insert(key, value);
    }
    for script in campaign.fields.opening.scripts() {
        for missing in script.missing(&call_data) {
            errors.push(
                field(&format!("callData.{missing}")),
                "the campaign's opening uses this variable; give it a value",
            );
        }
    }
    errors.finish(())?;
    Ok(NewLead {
        phone_number: phone.expect("checked above"),
        external_id,
        time_zone,
        call_data,
    })
}

/// What `callData` may hold.
fn call_data_schema() -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
    let value = ObjectBuilder::new().schema_type(SchemaType::from_iter([
        Type::String,
        Type::Number,
        Type::Boolean,
        Type::Null,
    ]));
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Object, Type::Null]))
        .additional_properties(Some(value))
        .max_properties(Some(MAX_CALL_DATA))
        .build()
}
