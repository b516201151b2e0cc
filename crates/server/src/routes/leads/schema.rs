//! The schemas of the leads' request fields that derive cannot state: `callData`'s
//! values and the bulk request's items.

use super::MAX_BULK_LEADS;

/// The leads of a bulk request: the shape of [`crate::lead_intake::AddLeadRequest`], whose values are
/// checked lead by lead and reported in the answer.
pub(super) fn bulk_items() -> utoipa::openapi::schema::Array {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, SchemaType, Type};
    let text = |nullable: bool| {
        ObjectBuilder::new().schema_type(if nullable {
            SchemaType::from_iter([Type::String, Type::Null])
        } else {
            SchemaType::new(Type::String)
        })
    };
    let lead = ObjectBuilder::new()
        .schema_type(Type::Object)
        .property("phoneNumber", text(false))
        .property("externalId", text(true))
        .property("timeZoneId", text(true))
        .property(
            "callData",
            ObjectBuilder::new().schema_type(SchemaType::from_iter([Type::Object, Type::Null])),
        )
        .required("phoneNumber");
    ArrayBuilder::new()
        .items(lead)
        .max_items(Some(MAX_BULK_LEADS))
        .build()
}
