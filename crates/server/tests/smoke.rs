//! The first path a newcomer takes: health, a user, an attribute, a contact.

mod common;

use serde_json::json;

both_stores!(health_and_first_contact, |app| {
    let (status, body) = app.get("/healthz").await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ok")));
    let (status, contact) = app
        .upsert_contact(json!({"cellphone": "+14155552671", "firstName": "Maria"}))
        .await;
    assert_eq!(status, 200, "{contact}");
    assert_eq!(contact["type"], "PARTIAL");
    assert_eq!(contact["workspaceId"], app.workspace_id.as_str());
});
