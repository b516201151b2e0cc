//! The self-description of the server: the OpenAPI document, the `/docs` page and the
//! Prometheus metrics.

mod common;

use reqwest::Method;

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
