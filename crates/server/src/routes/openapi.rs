//! The OpenAPI document: assembled from the handlers' annotations, then completed by
//! [`CommonResponses`] with what every operation shares, so the document says what the
//! server really answers (checked by `scripts/schemathesis.sh` against a live server).
//!
//! Every operation gets, besides its own answers, the error answers the shared layers
//! and extractors can give it: 400 (a body that is not JSON, an unreadable query, an
//! invalid `Idempotency-Key`), 401 (no or a bad API key), 403 (a path naming another
//! workspace), 404 (a path id naming nothing), 409 (a POST whose `Idempotency-Key` is
//! still in use), 413 (a body over the limit), 422 (invalid field values, or an
//! `Idempotency-Key` reused for another request), 429 (rate limited, with
//! `Retry-After`) and 503 (the database unreachable or the server shutting down, with
//! `Retry-After`). They are served as `application/problem+json` and described by one
//! schema, `ProblemDetails`; the LeadConnector seed path answers in its own shape,
//! `LeadConnectorErrorBody`, as `application/json`. Operations that need no key
//! (`security(())` in their annotation) get no 401 or 429.
//!
//! The server never answers 415: a JSON body is read whatever its `Content-Type` (the
//! README's `curl -d` examples send none), so 415 is not documented.

use utoipa::OpenApi;
use utoipa::openapi::path::{Operation, ParameterIn, PathItem};
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{ContentBuilder, HeaderBuilder, Ref, RefOr, Response, ResponseBuilder, Type};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "leadline",
        description = "Self-hosted outbound lead engagement server.\n\n\
            Authenticate with `x-api-key: KEY` or `Authorization: Bearer KEY`. Errors are \
            RFC 9457 problem details (`application/problem+json`) naming every invalid field; \
            the LeadConnector path answers in its own error shape. Any POST takes an \
            optional `Idempotency-Key` header (1 to 255 printable ASCII characters): a retry \
            with the same key and request replays the first answer (`Idempotent-Replayed: \
            true`), the same key on another request is a 422, and a repeat while the first \
            still runs is a 409. No text in a request (body or query) may hold the NUL \
            character U+0000 (422 naming the field)."
    ),
    modifiers(&SecuritySchemes),
    security(("apiKey" = []), ("bearer" = []))
)]
pub struct ApiDoc;

/// The two ways to present an API key.
struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "apiKey",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("x-api-key"))),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The one path answering errors in LeadConnector's shape (DESIGN §8).
const LEAD_CONNECTOR_PATH: &str = "/conversations/messages/outbound";

/// Paths answered without the database: no 503 for them.
const WITHOUT_DATABASE: [&str; 3] = ["/healthz", "/metrics", "/openapi.json"];

/// Adds the error answers every operation shares, and serves problem answers as
/// `application/problem+json`. Applied by [`complete_document`] after every router is
/// merged, so it covers routes added later without their authors listing them.
pub struct CommonResponses;

impl utoipa::Modify for CommonResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            for (method, operation) in operations_mut(item) {
                complete(path, method, operation);
            }
        }
    }
}

/// Completes the document of the whole application: [`ApiDoc`] with the routes merged
/// in, and `/openapi.json` itself.
pub fn complete_document(openapi: &mut utoipa::openapi::OpenApi) {
    openapi.paths.paths.insert(
        "/openapi.json".to_owned(),
        PathItem::new(
            utoipa::openapi::HttpMethod::Get,
            utoipa::openapi::path::OperationBuilder::new()
                .summary(Some("This OpenAPI document"))
                .operation_id(Some("openapi_document"))
                .tag("operations")
                .security(SecurityRequirement::default())
                .response(
                    "200",
                    ResponseBuilder::new()
                        .description("The OpenAPI 3.1 document")
                        .content(
                            "application/json",
                            ContentBuilder::new()
                                .schema(Some(ObjectBuilder::new().schema_type(Type::Object)))
                                .build(),
                        ),
                ),
        ),
    );
    let components = openapi.components.get_or_insert_with(Default::default);
    components.schemas.insert(
        leadline_core::schema::TIME_ZONE_COMPONENT.to_owned(),
        leadline_core::schema::time_zone_names().into(),
    );
    // Not one of `ApiDoc`'s modifiers: those run before the routes are merged in.
    utoipa::Modify::modify(&CommonResponses, openapi);
    // After the shared answers: a webhook is answered by its receiver, not by leadline.
    openapi.webhooks = Some(super::events::webhooks::webhooks());
}

fn operations_mut(item: &mut PathItem) -> Vec<(&'static str, &mut Operation)> {
    [
        ("get", item.get.as_mut()),
        ("put", item.put.as_mut()),
        ("post", item.post.as_mut()),
        ("delete", item.delete.as_mut()),
        ("patch", item.patch.as_mut()),
    ]
    .into_iter()
    .filter_map(|(method, operation)| operation.map(|operation| (method, operation)))
    .collect()
}

/// What an operation is, as far as the shared error answers go.
struct Shape {
    public: bool,
    body: bool,
    query: bool,
    post: bool,
    path_ids: bool,
    names_workspace: bool,
    needs_database: bool,
}

fn complete(path: &str, method: &str, operation: &mut Operation) {
    let in_query = |operation: &Operation| {
        operation.parameters.iter().flatten().any(|parameter| {
            matches!(parameter, RefOr::T(p) if matches!(p.parameter_in, ParameterIn::Query))
        })
    };
    let shape = Shape {
        public: operation
            .security
            .as_ref()
            .is_some_and(|requirements| requirements.contains(&SecurityRequirement::default())),
        body: operation.request_body.is_some(),
        query: in_query(operation),
        post: method == "post",
        path_ids: path.contains('{'),
        names_workspace: path.contains("{workspaceId}"),
        needs_database: !WITHOUT_DATABASE.contains(&path),
    };
    optional_body_is_absent_not_null(operation);
    let lead_connector = path == LEAD_CONNECTOR_PATH;
    let responses = &mut operation.responses.responses;
    for (status, response) in responses.iter_mut() {
        if let RefOr::T(response) = response {
            if !lead_connector && status.starts_with(['4', '5']) {
                serve_problems_as_problem_json(response);
            }
            if response.description.is_empty() {
                response.description = describe(status).to_owned();
            }
            add_retry_after(status, response);
        }
    }
    for status in shared_statuses(&shape) {
        responses.entry(status.to_owned()).or_insert_with(|| {
            RefOr::T(if lead_connector {
                error_response(status, "application/json", "LeadConnectorErrorBody")
            } else {
                error_response(status, "application/problem+json", "ProblemDetails")
            })
        });
    }
}

/// A body annotated `Option<T>` may be left out (an empty body), but a JSON `null` is
/// refused like any body that is not an object: document it as `T`, not required.
fn optional_body_is_absent_not_null(operation: &mut Operation) {
    let Some(RefOr::T(body)) = operation.request_body.as_mut() else {
        return;
    };
    let mut optional = false;
    for content in body.content.values_mut() {
        let RefOr::T(content) = content else { continue };
        if let Some(RefOr::T(Schema::OneOf(one_of))) = &content.schema
            && let [item, RefOr::T(Schema::Object(null))] = one_of.items.as_slice()
            && null.schema_type == SchemaType::new(Type::Null)
        {
            content.schema = Some(item.clone());
            optional = true;
        }
    }
    if optional {
        body.required = Some(utoipa::openapi::Required::False);
    }
}

/// The shared error statuses an operation of this shape can answer.
fn shared_statuses(shape: &Shape) -> Vec<&'static str> {
    let mut statuses = Vec::new();
    if shape.body || shape.query || shape.post {
        statuses.push("400");
    }
    if !shape.public {
        statuses.push("401");
    }
    if shape.names_workspace {
        statuses.push("403");
    }
    if shape.path_ids {
        statuses.push("404");
    }
    // The `Idempotency-Key` layer answers only requests whose API key authenticates.
    if shape.post && !shape.public {
        statuses.push("409");
    }
    if shape.body {
        statuses.push("413");
    }
    if (shape.body || shape.query || shape.post) && !shape.public {
        statuses.push("422");
    }
    if !shape.public {
        statuses.push("429");
    }
    if shape.needs_database {
        statuses.push("503");
    }
    statuses
}

/// Moves a `ProblemDetails` body documented as `application/json` to the media type
/// it is served as.
fn serve_problems_as_problem_json(response: &mut Response) {
    let is_problem = |content: &RefOr<utoipa::openapi::Content>| matches!(content, RefOr::T(c) if matches!(&c.schema, Some(RefOr::Ref(r)) if r.ref_location.ends_with("/ProblemDetails")));
    if let Some(index) = response.content.get_index_of("application/json")
        && is_problem(&response.content[index])
        && let Some(content) = response.content.shift_remove("application/json")
    {
        response
            .content
            .insert("application/problem+json".to_owned(), content);
    }
}

fn error_response(status: &str, media_type: &str, schema: &str) -> Response {
    let mut response = ResponseBuilder::new()
        .description(describe(status))
        .content(
            media_type,
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name(schema)))
                .build(),
        )
        .build();
    add_retry_after(status, &mut response);
    response
}

/// 429 and 503 answers say when to try again.
fn add_retry_after(status: &str, response: &mut Response) {
    if matches!(status, "429" | "503") && !response.headers.contains_key("Retry-After") {
        response.headers.insert(
            "Retry-After".to_owned(),
            RefOr::T(
                HeaderBuilder::new()
                    .schema(Some(
                        ObjectBuilder::new()
                            .schema_type(Type::Integer)
                            .minimum(Some(0)),
                    ))
                    .description(Some("Seconds to wait before sending the request again"))
                    .build(),
            ),
        );
    }
}

fn describe(status: &str) -> &'static str {
    match status {
        "200" | "201" | "202" | "204" => "Done",
        "400" => {
            "The body is not JSON, the query string cannot be read, or a header (such as \
             `Idempotency-Key`) is invalid"
        }
        "401" => "No API key, or one that matches nothing",
        "403" => "The path names a workspace the API key does not belong to",
        "404" => "The path, or a resource the request refers to, names nothing",
        "409" => {
            "A conflict with the current state, or a request with this `Idempotency-Key` is \
             still running"
        }
        "413" => "The body is larger than this route accepts",
        "422" => {
            "Invalid field values, each named in `errors`, or an `Idempotency-Key` already \
             used for a different request"
        }
        "429" => "Too many requests; wait as `Retry-After` says",
        "503" => {
            "The database is unreachable or the server is shutting down; retry after \
             `Retry-After` seconds"
        }
        _ => "Error",
    }
}
