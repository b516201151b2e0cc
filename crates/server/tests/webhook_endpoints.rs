//! `/api/v1/webhook-endpoints` on both stores: the round trip of an endpoint, its secret
//! shown only when made, every field checked and named, URLs refused by the outbound
//! guard, other workspaces kept out, secret rotation with its 24-hour overlap, the
//! attempts newest first, and `leadline secrets rotate` re-sealing both secrets
//! ([`key_rotation`]).

mod common;

use chrono::{DateTime, Utc};
use common::events::ENDPOINT_URL;
use common::{TestApp, assert_invalid, problem_fields, read};
use leadline_core::event::signature::WebhookSecret;
use leadline_store::webhook_endpoints::AttemptStatus;
use reqwest::Method;
use serde_json::{Value, json};

impl TestApp {
    async fn patch(&self, path: &str, body: Value) -> (u16, Value) {
        read(
            self.request(Method::PATCH, path)
                .json(&body)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    async fn delete(&self, path: &str) -> u16 {
        let response = self.request(Method::DELETE, path).send().await.unwrap();
        response.status().as_u16()
    }
}

fn path(id: &str) -> String {
    format!("/api/v1/webhook-endpoints/{id}")
}

fn at(text: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text.as_str().unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

both_stores!(an_endpoint_goes_round_and_its_secret_shows_once, |app| {
    let created = app
        .create_endpoint(json!({
            "url": ENDPOINT_URL, "description": "  CRM  ",
            "eventTypes": ["lead.added", "conversation.opted_out", "lead.added"], "rateLimit": 50
        }))
        .await;
    let id = created["id"].as_str().unwrap();
    let secret = created["secret"].as_str().unwrap();
    WebhookSecret::parse(secret).expect("a whsec_ secret");
    assert_eq!(created["workspaceId"], app.workspace_id.as_str());
    assert_eq!(created["url"], ENDPOINT_URL);
    assert_eq!(created["description"], "CRM");
    assert_eq!(
        created["eventTypes"],
        json!(["lead.added", "conversation.opted_out"])
    );
    assert_eq!(created["enabled"], true);
    assert_eq!(created["rateLimit"], 50);
    assert_eq!(created["previousSecretExpiresAt"], Value::Null);

    let (status, fetched) = app.get(&path(id)).await;
    assert_eq!(status, 200, "{fetched}");
    let mut without_secret = created.clone();
    without_secret.as_object_mut().unwrap().remove("secret");
    assert_eq!(fetched, without_secret);
    let (status, listed) = app.get("/api/v1/webhook-endpoints").await;
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed["data"], json!([without_secret]));
    for shown in [fetched.to_string(), listed.to_string()] {
        assert!(
            !shown.contains(secret) && !shown.contains("\"secret\""),
            "{shown}"
        );
    }

    // Absent fields stay; null means every type, no limit, no description.
    let (status, changed) = app
        .patch(
            &path(id),
            json!({"description": null, "eventTypes": null, "rateLimit": null, "enabled": false}),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["description"], "");
    assert_eq!(changed["eventTypes"], Value::Null);
    assert_eq!(changed["rateLimit"], Value::Null);
    assert_eq!(changed["enabled"], false);
    assert_eq!(changed["url"], ENDPOINT_URL);
    assert!(changed.get("secret").is_none(), "{changed}");
    let (status, changed) = app
        .patch(
            &path(id),
            json!({"url": "http://127.0.0.1:9/other", "eventTypes": ["message.sent"]}),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["url"], "http://127.0.0.1:9/other");
    assert_eq!(changed["eventTypes"], json!(["message.sent"]));
    assert_eq!(changed["enabled"], false);

    // Defaults: enabled, every type, no limit; lists page by id.
    let second = app.create_endpoint(json!({"url": ENDPOINT_URL})).await;
    assert_eq!(second["enabled"], true);
    assert_eq!(second["eventTypes"], Value::Null);
    assert_eq!(second["rateLimit"], Value::Null);
    assert_eq!(second["description"], "");
    let (_, first_page) = app.get("/api/v1/webhook-endpoints?limit=1").await;
    assert_eq!(first_page["data"][0]["id"], id);
    let cursor = first_page["nextCursor"].as_str().unwrap();
    let (_, next_page) = app
        .get(&format!(
            "/api/v1/webhook-endpoints?limit=1&cursor={cursor}"
        ))
        .await;
    assert_eq!(next_page["data"][0]["id"], second["id"]);

    assert_eq!(app.delete(&path(id)).await, 204);
    let (status, gone) = app.get(&path(id)).await;
    assert_eq!(status, 404, "{gone}");
    assert_eq!(problem_fields(&gone), ["id"]);
    assert_eq!(app.delete(&path(id)).await, 404);
});

both_stores!(every_field_is_checked_and_named, |app| {
    let (status, refused) = app
        .post(
            "/api/v1/webhook-endpoints",
            json!({
                "url": "ftp://example.com/x", "description": "x".repeat(1001),
                "eventTypes": ["lead.added", "lead.nope", "message.sent", ""], "rateLimit": 0
            }),
        )
        .await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(
        problem_fields(&refused),
        [
            "url",
            "description",
            "eventTypes[1]",
            "eventTypes[3]",
            "rateLimit"
        ]
    );
    let cases = [
        (json!({}), "url"),
        (json!({"url": 5}), "url"),
        (json!({"url": "http:///host"}), "url"),
        (json!({"url": "https://exa mple.com"}), "url"),
        (json!({"url": "not a url"}), "url"),
        (
            json!({"url": format!("https://example.com/{}", "a".repeat(2000))}),
            "url",
        ),
        (json!({"url": ENDPOINT_URL, "eventTypes": []}), "eventTypes"),
        (
            json!({"url": ENDPOINT_URL, "eventTypes": "lead.added"}),
            "eventTypes",
        ),
        (
            json!({"url": ENDPOINT_URL, "eventTypes": [5]}),
            "eventTypes[0]",
        ),
        (
            json!({"url": ENDPOINT_URL, "rateLimit": 10001}),
            "rateLimit",
        ),
        (json!({"url": ENDPOINT_URL, "rateLimit": -1}), "rateLimit"),
        (json!({"url": ENDPOINT_URL, "rateLimit": 1.5}), "rateLimit"),
        (json!({"url": ENDPOINT_URL, "enabled": "yes"}), "enabled"),
        (
            json!({"url": ENDPOINT_URL, "description": 7}),
            "description",
        ),
        (json!({"url": ENDPOINT_URL, "secret": "whsec_x"}), "secret"),
    ];
    for (body, field) in cases {
        let (status, refused) = app.post("/api/v1/webhook-endpoints", body.clone()).await;
        assert_invalid(status, &refused, field);
    }
    let id = app.endpoint("checked").await;
    let patches = [
        (json!({"url": null}), "url"),
        (json!({"enabled": null}), "enabled"),
        (json!({"url": "mailto:a@b.co"}), "url"),
        (json!({"eventTypes": []}), "eventTypes"),
        (
            json!({"eventTypes": ["contact.created", "contact.nope"]}),
            "eventTypes[1]",
        ),
        (json!({"rateLimit": 0}), "rateLimit"),
        (json!({"description": "d".repeat(1001)}), "description"),
    ];
    for (body, field) in patches {
        let (status, refused) = app.patch(&path(&id), body).await;
        assert_invalid(status, &refused, field);
    }
    // Nothing was changed by a refused request; 1 and 10000 are the limit's bounds.
    let (_, endpoint) = app.get(&path(&id)).await;
    assert_eq!(endpoint["url"], ENDPOINT_URL);
    for limit in [1, 10_000] {
        let (status, changed) = app.patch(&path(&id), json!({"rateLimit": limit})).await;
        assert_eq!(
            (status, &changed["rateLimit"]),
            (200, &json!(limit)),
            "{changed}"
        );
    }
    // Not JSON at all: 400, never a 500.
    let (status, _, body) = app
        .send(
            app.request(Method::POST, "/api/v1/webhook-endpoints")
                .body("{"),
        )
        .await;
    assert_eq!(status, 400, "{body}");
});

both_stores!(urls_the_outbound_guard_refuses_are_named, |app| {
    for url in [
        "http://10.0.0.7/hooks",
        "http://169.254.169.254/latest/meta-data",
        "http://[::ffff:192.168.1.1]/x",
        "https://[fd00::1]/x",
    ] {
        let (status, refused) = app
            .post("/api/v1/webhook-endpoints", json!({"url": url}))
            .await;
        assert_invalid(status, &refused, "url");
        let message = refused["errors"][0]["message"].as_str().unwrap();
        assert!(
            message.contains("refused by the outbound guard"),
            "{url}: {message}"
        );
    }
    let id = app.endpoint("guarded").await;
    let (status, refused) = app
        .patch(&path(&id), json!({"url": "http://192.168.0.10:8080/"}))
        .await;
    assert_invalid(status, &refused, "url");
});

both_stores!(another_workspace_sees_nothing, |app| {
    let id = app.endpoint("ours").await;
    let (_, other_key) = app.other_workspace().await;
    for (method, route) in [
        (Method::GET, path(&id)),
        (Method::PATCH, path(&id)),
        (Method::DELETE, path(&id)),
        (Method::POST, format!("{}/rotate-secret", path(&id))),
        (Method::GET, format!("{}/attempts", path(&id))),
    ] {
        let request = app
            .anonymous(method.clone(), &route)
            .header("x-api-key", &other_key);
        let request = if method == Method::PATCH {
            request.json(&json!({"enabled": false}))
        } else {
            request
        };
        let (status, body) = read(request.send().await.unwrap()).await;
        assert_eq!(status, 404, "{method} {route}: {body}");
    }
    let (status, listed) = app.get_as(&other_key, "/api/v1/webhook-endpoints").await;
    assert_eq!((status, listed["data"].clone()), (200, json!([])));
    let (status, ours) = app.get(&path(&id)).await;
    assert_eq!((status, ours["enabled"].clone()), (200, json!(true)));
});

both_stores!(
    a_rotation_shows_a_new_secret_and_keeps_the_old_one_a_day,
    |app| {
        let created = app.create_endpoint(json!({"url": ENDPOINT_URL})).await;
        let id = created["id"].as_str().unwrap();
        let (status, rotated) = app
            .post(&format!("{}/rotate-secret", path(id)), json!({}))
            .await;
        assert_eq!(status, 200, "{rotated}");
        let (old, new) = (
            created["secret"].as_str().unwrap(),
            rotated["secret"].as_str().unwrap(),
        );
        assert_ne!(old, new);
        let expires = at(&rotated["previousSecretExpiresAt"]);
        let expected = Utc::now() + chrono::Duration::hours(24);
        assert!(
            (expires - expected).num_seconds().abs() < 60,
            "{expires} vs {expected}"
        );
        let (_, fetched) = app.get(&path(id)).await;
        assert_eq!(
            fetched["previousSecretExpiresAt"],
            rotated["previousSecretExpiresAt"]
        );
        assert!(fetched.get("secret").is_none(), "{fetched}");

        // Deliveries are signed with both until the overlap ends.
        let (_, secrets) = app
            .store
            .webhook_delivery_target(id.parse().unwrap())
            .await
            .unwrap()
            .expect("the endpoint");
        assert_eq!(secrets.current, WebhookSecret::parse(new).unwrap());
        assert_eq!(secrets.previous, Some(WebhookSecret::parse(old).unwrap()));
        let (status, missing) = app
            .post(&format!("{}/rotate-secret", path(UNKNOWN_ID)), json!({}))
            .await;
        assert_eq!(status, 404, "{missing}");
    }
);

/// An id no row has.
const UNKNOWN_ID: &str = "0190a6e4-7e5a-7000-8000-000000000000";

both_stores!(attempts_list_newest_first_and_page, |app| {
    let id = app.endpoint("attempted").await;
    let (status, none) = app.get(&format!("{}/attempts", path(&id))).await;
    assert_eq!((status, none["data"].clone()), (200, json!([])), "{none}");
    app.endpoint_attempt(&id, AttemptStatus::Failed).await;
    app.endpoint_attempt(&id, AttemptStatus::Succeeded).await;
    app.endpoint_gone(&id).await;
    let (status, all) = app.get(&format!("{}/attempts", path(&id))).await;
    assert_eq!(status, 200, "{all}");
    let statuses: Vec<&str> = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        ["failed", "succeeded", "failed"],
        "newest first: {all}"
    );
    let newest = &all["data"][0];
    assert_eq!(newest["responseCode"], 410);
    assert_eq!(newest["durationMs"], 12);
    assert_eq!(newest["responseExcerpt"], "gone");
    assert!(
        newest["eventId"].is_string() && newest["attemptedAt"].is_string(),
        "{newest}"
    );
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let (status, page) = app
            .get(&format!("{}/attempts?limit=2&cursor={cursor}", path(&id)))
            .await;
        assert_eq!(status, 200, "{page}");
        seen.extend(
            page["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["id"].clone()),
        );
        match page["nextCursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => break,
        }
    }
    let expected: Vec<Value> = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].clone())
        .collect();
    assert_eq!(seen, expected);
    let (status, refused) = app
        .get(&format!("{}/attempts?cursor=nope", path(&id)))
        .await;
    assert_invalid(status, &refused, "cursor");

    // Gone disabled it and said why; enabling it again clears that.
    let (_, endpoint) = app.get(&path(&id)).await;
    assert_eq!(endpoint["enabled"], false);
    assert!(
        endpoint["disabledReason"].as_str().unwrap().contains("410"),
        "{endpoint}"
    );
    let (status, enabled) = app.patch(&path(&id), json!({"enabled": true})).await;
    assert_eq!(status, 200, "{enabled}");
    assert_eq!(enabled["disabledReason"], Value::Null);
});

#[path = "webhook_endpoints/key_rotation.rs"]
mod key_rotation;
