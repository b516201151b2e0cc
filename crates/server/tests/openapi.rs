//! The self-description of the server: the OpenAPI document (every error documented as
//! it is served, the shared statuses on every operation, enums by their wire names, the
//! page parameters' limits), the `/docs` page and the Prometheus metrics.

mod common;

use reqwest::Method;
use serde_json::{Value, json};

both_stores!(openapi_lists_every_path, |app| {
    let (status, content_type, document) =
        app.send(app.anonymous(Method::GET, "/openapi.json")).await;
    assert_eq!(status, 200);
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    assert!(
        document["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with('3')),
        "{}",
        document["openapi"]
    );
    let paths = document["paths"].as_object().expect("paths");
    let expected = [
        ("/api/v1/users", &["get", "post"][..]),
        ("/api/v1/users/{id}", &["get"]),
        ("/api/v1/custom-attributes", &["get", "post"]),
        ("/api/v1/contacts", &["get"]),
        ("/api/v1/contacts/{id}", &["get"]),
        (
            "/bridge/api/v1/workspaces/{workspaceId}/contacts/partial",
            &["post"],
        ),
        ("/healthz", &["get"]),
        ("/readyz", &["get"]),
        ("/metrics", &["get"]),
        ("/openapi.json", &["get"]),
    ];
    for (path, methods) in expected {
        let item = paths
            .get(path)
            .unwrap_or_else(|| panic!("{path} missing; have {:?}", paths.keys()));
        for method in methods {
            assert!(item.get(*method).is_some(), "{method} {path}: {item}");
        }
    }
    let schemes = &document["components"]["securitySchemes"];
    assert!(schemes["apiKey"].is_object(), "{schemes}");
    assert!(schemes["bearer"].is_object(), "{schemes}");
});

both_stores!(docs_page_is_html, |app| {
    let response = app
        .anonymous(Method::GET, "/docs")
        .send()
        .await
        .expect("the request is sent");
    assert_eq!(response.status().as_u16(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let page = response.text().await.unwrap();
    assert!(page.to_lowercase().contains("<html"), "{page}");
});

both_stores!(metrics_count_requests, |app| {
    let (status, _) = app.get("/api/v1/custom-attributes").await;
    assert_eq!(status, 200);
    let response = app
        .anonymous(Method::GET, "/metrics")
        .send()
        .await
        .expect("the request is sent");
    assert_eq!(response.status().as_u16(), 200);
    let text = response.text().await.unwrap();
    let counted = text.lines().any(|line| {
        line.starts_with("leadline_http_requests_total")
            && line.contains("route=\"/api/v1/custom-attributes\"")
            && line.contains("method=\"GET\"")
            && line.contains("status=\"200\"")
    });
    assert!(counted, "{text}");
    // Series are by route template, never by raw id.
    let (_, _) = app
        .get("/api/v1/users/0190a6e4-7e5a-7000-8000-000000000000")
        .await;
    let text = app
        .anonymous(Method::GET, "/metrics")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("route=\"/api/v1/users/{id}\""), "{text}");
    assert!(
        !text.contains("0190a6e4-7e5a-7000-8000-000000000000"),
        "{text}"
    );
});

/// The document as `/openapi.json` serves it, built without a server.
fn document() -> Value {
    let (_, mut openapi) = leadline_server::routes::api();
    leadline_server::routes::openapi::complete_document(&mut openapi);
    serde_json::to_value(&openapi).expect("the document serializes")
}

/// Every operation: (method, path, operation).
fn operations(document: &Value) -> Vec<(String, String, Value)> {
    let mut all = Vec::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("a path item") {
            if ["get", "put", "post", "delete", "patch"].contains(&method.as_str()) {
                all.push((method.clone(), path.clone(), operation.clone()));
            }
        }
    }
    all
}

const PUBLIC: [&str; 5] = [
    "/healthz",
    "/readyz",
    "/metrics",
    "/openapi.json",
    "/webhooks/providers/{channelId}",
];
const LEAD_CONNECTOR: &str = "/conversations/messages/outbound";

#[test]
fn every_error_is_documented_as_problem_details_or_leadconnectors_own() {
    let document = document();
    assert!(
        document["components"]["schemas"]["ProblemDetails"].is_object(),
        "one ProblemDetails schema"
    );
    for (method, path, operation) in operations(&document) {
        let responses = operation["responses"].as_object().unwrap();
        for (status, response) in responses {
            if !status.starts_with(['4', '5']) || (path == "/readyz" && status == "503") {
                continue;
            }
            let content = response["content"]
                .as_object()
                .unwrap_or_else(|| panic!("{method} {path} {status}: no content: {response}"));
            let (media_type, schema) = if path == LEAD_CONNECTOR {
                (
                    "application/json",
                    "#/components/schemas/LeadConnectorErrorBody",
                )
            } else {
                (
                    "application/problem+json",
                    "#/components/schemas/ProblemDetails",
                )
            };
            assert_eq!(
                content.keys().collect::<Vec<_>>(),
                [media_type],
                "{method} {path} {status}"
            );
            assert_eq!(
                content[media_type]["schema"]["$ref"], schema,
                "{method} {path} {status}"
            );
            if status == "429" || status == "503" {
                assert!(
                    response["headers"]["Retry-After"].is_object(),
                    "{method} {path} {status}: {response}"
                );
            }
        }
    }
}

#[test]
fn the_shared_error_statuses_are_on_every_operation_that_can_answer_them() {
    for (method, path, operation) in operations(&document()) {
        let responses = &operation["responses"];
        let has = |status: &str| responses.get(status).is_some();
        let public = PUBLIC.contains(&path.as_str());
        assert_eq!(
            operation["security"] == json!([{}]),
            public,
            "{method} {path}: public endpoints, and only they, need no key"
        );
        assert_eq!(
            has("401"),
            !public || path.starts_with("/webhooks"),
            "{method} {path}"
        );
        assert_eq!(has("429"), !public, "{method} {path}");
        if path.contains('{') {
            assert!(has("404"), "{method} {path}");
        }
        if path.contains("{workspaceId}") {
            assert!(has("403"), "{method} {path}");
        }
        if method == "post" && !public {
            for status in ["400", "409", "422"] {
                assert!(has(status), "{method} {path} {status}");
            }
        }
        if operation.get("requestBody").is_some() {
            assert!(has("413"), "{method} {path}");
        }
        let without_database = ["/healthz", "/metrics", "/openapi.json"];
        assert_eq!(
            has("503"),
            !without_database.contains(&path.as_str()),
            "{method} {path}"
        );
        assert!(
            !has("415"),
            "{method} {path}: bodies are read whatever their type"
        );
    }
}

#[test]
fn enums_are_documented_by_their_wire_names() {
    let schemas = &document()["components"]["schemas"];
    assert_eq!(
        schemas["MessageProviderType"]["enum"],
        json!(["SMS", "WHATSAPP", "VOICE"])
    );
    assert_eq!(
        schemas["ProviderKind"]["enum"],
        json!(["sandbox", "twilio", "whatsapp_cloud", "http", "kannel"])
    );
    assert_eq!(
        schemas["TemplateStatus"]["enum"],
        json!(["APPROVED", "PENDING", "REJECTED"])
    );
    let zones = schemas["TimeZoneName"]["enum"].as_array().unwrap();
    for zone in ["America/New_York", "Eastern Standard Time", "UTC"] {
        assert!(zones.contains(&json!(zone)), "{zone}");
    }
}

/// The pages' `cursor` pattern, read by a regex engine, accepts exactly what the
/// handlers read as a cursor; `limit` is documented with the range they enforce.
#[test]
fn the_page_parameters_say_what_the_handlers_accept() {
    let document = document();
    let parameters = document["paths"]["/api/v1/users"]["get"]["parameters"]
        .as_array()
        .unwrap();
    let named = |name: &str| {
        parameters
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{name}"))["schema"]
            .clone()
    };
    let limit = named("limit");
    assert_eq!(
        (&limit["minimum"], &limit["maximum"]),
        (&json!(1), &json!(500))
    );
    let cursor = regex::Regex::new(named("cursor")["pattern"].as_str().unwrap()).unwrap();
    for value in [
        "",
        "0190a6e4-7e5a-7000-8000-000000000000",
        "0190A6E47E5A70008000000000000000",
        "{0190a6e4-7e5a-7000-8000-000000000000}",
        "urn:uuid:0190a6e4-7e5a-7000-8000-000000000000",
        "0190a6e4-7e5a-7000-8000-00000000000",
        "{0190a6e4-7e5a-7000-8000-000000000000",
        "x",
        " 0190a6e4-7e5a-7000-8000-000000000000",
    ] {
        let page = leadline_server::pagination::PageParams {
            cursor: Some(value.to_owned()),
            limit: None,
        };
        assert_eq!(
            cursor.is_match(value),
            page.cursor::<leadline_core::UserId>().is_ok(),
            "{value:?}"
        );
    }
}

// What the document says of errors is what the server answers.
both_stores!(errors_are_served_as_documented, |app| {
    let (status, content_type, problem) = app
        .send(app.request(Method::GET, "/api/v1/users?limit=0"))
        .await;
    common::assert_problem(status, &content_type, &problem, 422);
    // LeadConnector's own shape: `message` is one sentence, or one line per field.
    let outbound = |body: Value| {
        app.request(Method::POST, LEAD_CONNECTOR)
            .header("version", "2021-07-28")
            .json(&body)
    };
    let (status, content_type, error) = app.send(outbound(json!({"type": "Call"}))).await;
    assert_eq!(
        (status, content_type.as_str()),
        (422, "application/json"),
        "{error}"
    );
    assert!(error["message"].is_array(), "{error}");
    let (status, _, error) = app
        .send(app.request(Method::POST, LEAD_CONNECTOR).json(&json!({})))
        .await;
    assert_eq!(status, 400, "{error}");
    assert!(error["message"].is_string(), "{error}");
    // Integers may be written as whole floats, as JSON allows.
    let (status, settings) = app
        .request(Method::PUT, "/api/v1/settings/number-pool")
        .json(&json!({"dailyCallCap": 300.0}))
        .send()
        .await
        .map(|r| (r.status().as_u16(), r))
        .unwrap();
    let settings: Value = settings.json().await.unwrap();
    assert_eq!(
        (status, &settings["dailyCallCap"]),
        (200, &json!(300)),
        "{settings}"
    );
});

/// Every `$ref` names a schema the document holds: the webhooks' payloads are built
/// from the same views as the answers, and must not point at schemas left out.
#[test]
fn every_reference_resolves() {
    fn refs(value: &Value, found: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(target)) = map.get("$ref") {
                    found.push(target.clone());
                }
                map.values().for_each(|v| refs(v, found));
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, found)),
            _ => {}
        }
    }
    let document = document();
    let mut found = Vec::new();
    refs(&document, &mut found);
    assert!(!found.is_empty());
    for target in found {
        let name = target
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("{target} is not a schema reference"));
        assert!(
            document["components"]["schemas"].get(name).is_some(),
            "{target} does not resolve"
        );
    }
    let webhooks = document["webhooks"].as_object().expect("webhooks");
    assert_eq!(webhooks.len(), leadline_core::event::EventType::ALL.len());
    let sent = &webhooks["message.sent"]["post"]["requestBody"]["content"]["application/json"]["schema"]
        ["properties"]["data"];
    assert!(sent["properties"]["conversationId"].is_object(), "{sent}");
}
