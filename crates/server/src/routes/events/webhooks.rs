//! The events in the OpenAPI document, as OpenAPI 3.1 `webhooks`: one entry per event
//! type, named by the type, describing the POST leadline makes to an endpoint — the
//! Standard Webhooks headers and the payload `{"type", "timestamp", "data"}`. utoipa's
//! derive macros describe only paths, so the entries are built here and added when the
//! document is completed ([`super::super::openapi::complete_document`]).
//!
//! What `data` holds for each type comes from [`data_schema`], the one place that maps
//! an event type to the schema of its resource.

use leadline_core::event::EventType;
use utoipa::openapi::path::{OperationBuilder, ParameterBuilder, ParameterIn, PathItem};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::{
    ContentBuilder, HttpMethod, KnownFormat, Paths, RefOr, Required, ResponseBuilder, SchemaFormat,
};

/// The schema of `data` in events of `kind`: the resource as the API returns it, plus
/// the ids that tie it to others — the same view types the handlers answer with.
pub fn data_schema(kind: EventType) -> RefOr<Schema> {
    use leadline_core::views::{
        CampaignView, ContactView, ConversationView, DecisionEventData, LeadView, MessageView,
        OptOutView, PhoneNumberView, WebhookEndpointView,
    };
    use utoipa::PartialSchema;
    match kind {
        EventType::ContactCreated | EventType::ContactUpdated => ContactView::schema(),
        EventType::ConversationOpened
        | EventType::ConversationHandedOff
        | EventType::ConversationReleased
        | EventType::ConversationClosed
        | EventType::ConversationOptedOut => ConversationView::schema(),
        EventType::MessageReceived
        | EventType::MessageSent
        | EventType::MessageDelivered
        | EventType::MessageFailed
        | EventType::CallLogged
        | EventType::CallCompleted => MessageView::schema(),
        EventType::LeadAdded | EventType::LeadStatusChanged | EventType::LeadCompleted => {
            LeadView::schema()
        }
        EventType::OptOutRecorded | EventType::OptOutRevoked => OptOutView::schema(),
        EventType::AgentDecision => DecisionEventData::schema(),
        EventType::NumberHealthChanged | EventType::NumberPaused | EventType::NumberResumed => {
            PhoneNumberView::schema()
        }
        EventType::CampaignActivated | EventType::CampaignPaused | EventType::CampaignCompleted => {
            CampaignView::schema()
        }
        EventType::WebhookEndpointDisabled => WebhookEndpointView::schema(),
    }
}

/// What an event of `kind` says, for its entry's summary.
fn summary(kind: EventType) -> &'static str {
    match kind {
        EventType::ContactCreated => "A contact was created",
        EventType::ContactUpdated => "A contact's fields changed",
        EventType::ConversationOpened => "A conversation began",
        EventType::ConversationHandedOff => "A person took a conversation over from the agent",
        EventType::ConversationReleased => "A person gave a conversation back to the agent",
        EventType::ConversationClosed => "A conversation was closed",
        EventType::ConversationOptedOut => "A lead opted out on a conversation's channel",
        EventType::MessageReceived => "A lead wrote",
        EventType::MessageSent => "The provider accepted an outbound message",
        EventType::MessageDelivered => "An outbound message was delivered",
        EventType::MessageFailed => "An outbound message failed for good",
        EventType::CallLogged => "A call placed outside leadline was logged",
        EventType::CallCompleted => "A call leadline placed ended",
        EventType::LeadAdded => "A lead joined a campaign",
        EventType::LeadStatusChanged => "A lead's status in its campaign changed",
        EventType::LeadCompleted => "A lead's campaign is over for it",
        EventType::OptOutRecorded => "An opt-out was recorded",
        EventType::OptOutRevoked => "An opt-out was revoked",
        EventType::AgentDecision => "The agent decided on a conversation",
        EventType::NumberHealthChanged => "A pool number's health changed",
        EventType::NumberPaused => "A pool number was paused",
        EventType::NumberResumed => "A pool number was resumed",
        EventType::CampaignActivated => "A campaign was activated",
        EventType::CampaignPaused => "A campaign was paused",
        EventType::CampaignCompleted => "A campaign completed",
        EventType::WebhookEndpointDisabled => {
            "A webhook endpoint was disabled (410 Gone, or failing for 5 days)"
        }
    }
}

const DELIVERY: &str = "Delivered as a POST of the payload as JSON, signed per the Standard \
    Webhooks specification: `webhook-signature` holds `v1,` + base64 of HMAC-SHA256 over \
    `{webhook-id}.{webhook-timestamp}.{body}` with the endpoint's secret (the bytes after \
    `whsec_`, base64-decoded); during a secret rotation it holds two signatures, space \
    separated. Failed deliveries are retried with the same `webhook-id`.";

/// Every event type's entry.
pub fn webhooks() -> Paths {
    let mut paths = Paths::new();
    for kind in EventType::ALL {
        paths.paths.insert(kind.as_str().to_owned(), entry(*kind));
    }
    paths
}

/// The POST of one event type.
fn entry(kind: EventType) -> PathItem {
    let payload = ObjectBuilder::new()
        .schema_type(Type::Object)
        .property(
            "type",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some([kind.as_str()])),
        )
        .required("type")
        .property(
            "timestamp",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
                .description(Some("When it happened: RFC 3339, UTC, milliseconds.")),
        )
        .required("timestamp")
        .property("data", data_schema(kind))
        .required("data");
    let header = |name: &str, description: &str| {
        ParameterBuilder::new()
            .name(name)
            .parameter_in(ParameterIn::Header)
            .required(Required::True)
            .description(Some(description))
            .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
            .build()
    };
    let operation = OperationBuilder::new()
        .summary(Some(summary(kind)))
        .description(Some(DELIVERY))
        .operation_id(Some(format!("event_{}", kind.as_str().replace('.', "_"))))
        .tag("events")
        .parameter(header(
            "webhook-id",
            "The event's id: the same on every retry and replay of this event.",
        ))
        .parameter(header(
            "webhook-timestamp",
            "When this attempt was made, in seconds since the Unix epoch.",
        ))
        .parameter(header(
            "webhook-signature",
            "`v1,` + base64 signature; two, space separated, during a secret rotation.",
        ))
        .request_body(Some(
            RequestBodyBuilder::new()
                .required(Some(Required::True))
                .content(
                    "application/json",
                    ContentBuilder::new().schema(Some(payload)).build(),
                )
                .build(),
        ))
        .response(
            "2XX",
            ResponseBuilder::new().description("Received: the delivery is done"),
        )
        .response(
            "410",
            ResponseBuilder::new().description("Gone: the endpoint is disabled at once"),
        )
        .response(
            "default",
            ResponseBuilder::new().description(
                "Any other answer, a timeout or no connection: retried (a `Retry-After` is honoured)",
            ),
        );
    PathItem::new(HttpMethod::Post, operation)
}
