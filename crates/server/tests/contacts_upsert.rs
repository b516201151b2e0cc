//! The Bridge upsert `POST /bridge/api/v1/workspaces/{ws}/contacts/partial`: the response
//! shape of the vendor spec, the merge rule (absent keeps, null clears), field
//! validation and owners.

mod common;

use common::assert_invalid;
use serde_json::{Value, json};

const PHONE: &str = "+14155552671";

fn assert_timestamp(value: &Value) {
    let text = value.as_str().unwrap_or_default();
    assert!(text.ends_with('Z'), "{value}");
    let parsed = chrono::DateTime::parse_from_rfc3339(text).expect("RFC 3339");
    assert_eq!(parsed.offset().local_minus_utc(), 0, "{value}");
}

both_stores!(response_has_every_documented_field, |app| {
    let owner = app.create_user("jane@acme.com").await;
    let (status, contact) = app
        .upsert_contact(json!({
            "cellphone": PHONE, "firstName": "Maria", "lastName": "Lopez",
            "email": "Maria@Acme.com", "languageCode": "EN",
            "ownerIdentifier": {"identifier": "jane@acme.com", "identifierType": "EMAIL"},
            "customAttributes": {"openAttributes": [], "closedAttributes": []}
        }))
        .await;
    assert_eq!(status, 200, "{contact}");
    let mut keys: Vec<&str> = contact
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    let mut documented = vec![
        "id",
        "workspaceId",
        "type",
        "createdAt",
        "updatedAt",
        "firstName",
        "lastName",
        "email",
        "cellphone",
        "customAttributes",
        "languageCode",
        "ownerId",
    ];
    documented.sort_unstable();
    assert_eq!(keys, documented, "{contact}");
    assert!(uuid::Uuid::parse_str(contact["id"].as_str().unwrap()).is_ok());
    assert_eq!(contact["workspaceId"], app.workspace_id.as_str());
    assert_eq!(contact["type"], "NORMAL");
    assert_timestamp(&contact["createdAt"]);
    assert_timestamp(&contact["updatedAt"]);
    assert_eq!(contact["firstName"], "Maria");
    assert_eq!(contact["lastName"], "Lopez");
    assert_eq!(contact["email"], "maria@acme.com");
    assert_eq!(contact["cellphone"], PHONE);
    assert_eq!(contact["customAttributes"], json!([]));
    assert_eq!(contact["languageCode"], "EN");
    assert_eq!(contact["ownerId"], owner["id"]);
    assert_eq!(app.fetch_contact(&contact["id"]).await, contact);

    // A bare contact shows every field too, as null.
    let (status, bare) = app
        .upsert_contact(json!({"cellphone": "+14155552672"}))
        .await;
    assert_eq!(status, 200, "{bare}");
    assert_eq!(bare.as_object().unwrap().len(), documented.len(), "{bare}");
    for field in ["firstName", "lastName", "email", "languageCode", "ownerId"] {
        assert_eq!(bare[field], Value::Null, "{field}: {bare}");
    }
    assert_eq!(bare["type"], "PARTIAL");
});

both_stores!(same_cellphone_is_the_same_contact, |app| {
    let (_, first) = app
        .upsert_contact(json!({"cellphone": PHONE, "firstName": "Maria"}))
        .await;
    let (status, second) = app
        .upsert_contact(json!({"cellphone": PHONE, "lastName": "Lopez"}))
        .await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(second["id"], first["id"]);
    assert_eq!(second["createdAt"], first["createdAt"]);
    assert!(second["updatedAt"].as_str() >= first["updatedAt"].as_str());
    assert_eq!(
        (&second["firstName"], &second["lastName"]),
        (&json!("Maria"), &json!("Lopez"))
    );
    let (_, page) = app.get("/api/v1/contacts").await;
    assert_eq!(page["data"].as_array().map(Vec::len), Some(1), "{page}");
    // Another number is another contact.
    let (_, other) = app
        .upsert_contact(json!({"cellphone": "+14155552672"}))
        .await;
    assert_ne!(other["id"], first["id"]);
});

both_stores!(absent_keeps_and_null_clears, |app| {
    let owner = app.create_user("jane@acme.com").await;
    let full = json!({
        "cellphone": PHONE, "firstName": "Maria", "lastName": "Lopez",
        "email": "maria@acme.com", "languageCode": "ES",
        "ownerIdentifier": {"identifier": owner["id"], "identifierType": "ID"}
    });
    let (_, before) = app.upsert_contact(full).await;
    let (status, kept) = app.upsert_contact(json!({"cellphone": PHONE})).await;
    assert_eq!(status, 200, "{kept}");
    for field in [
        "firstName",
        "lastName",
        "email",
        "languageCode",
        "ownerId",
        "type",
    ] {
        assert_eq!(kept[field], before[field], "{field} was kept");
    }
    let fields = [
        "firstName",
        "lastName",
        "email",
        "languageCode",
        "ownerIdentifier",
    ];
    for (cleared, field) in fields.iter().enumerate() {
        let mut body = json!({"cellphone": PHONE});
        body[*field] = Value::Null;
        let (status, contact) = app.upsert_contact(body).await;
        assert_eq!(status, 200, "{contact}");
        let shown = if *field == "ownerIdentifier" {
            "ownerId"
        } else {
            field
        };
        assert_eq!(contact[shown], Value::Null, "{field} was cleared");
        for later in &fields[cleared + 1..] {
            let shown = if *later == "ownerIdentifier" {
                "ownerId"
            } else {
                later
            };
            assert_eq!(contact[shown], before[shown], "{later} kept");
        }
        assert_eq!(contact["type"], "PARTIAL");
    }
    assert_eq!(
        app.fetch_contact(&before["id"]).await["ownerId"],
        Value::Null
    );
});

both_stores!(invalid_cellphones_are_422, |app| {
    for cellphone in [
        "4155552671",
        "+1 415 555 2671",
        "+1415555267",
        "abc",
        "",
        "+",
        "+1-415-555-2671",
        "0014155552671",
        "+999999999999",
    ] {
        let (status, problem) = app
            .upsert_contact(json!({"cellphone": cellphone, "firstName": "Maria"}))
            .await;
        assert_invalid(status, &problem, "cellphone");
    }
    let (_, page) = app.get("/api/v1/contacts").await;
    assert_eq!(page["data"], json!([]), "nothing was created");
});

both_stores!(invalid_fields_are_422, |app| {
    let cases = [
        (json!({"email": "maria"}), "email"),
        (json!({"email": "maria@acme"}), "email"),
        (json!({"languageCode": "FR"}), "languageCode"),
        (json!({"languageCode": "english"}), "languageCode"),
        (json!({"firstName": "x".repeat(101)}), "firstName"),
        (json!({"firstName": "  "}), "firstName"),
        (json!({"lastName": "x".repeat(101)}), "lastName"),
        (
            json!({"ownerIdentifier": {"identifier": "x", "identifierType": "PHONE"}}),
            "ownerIdentifier.identifierType",
        ),
        (
            json!({"ownerIdentifier": {"identifier": "not-a-uuid", "identifierType": "ID"}}),
            "ownerIdentifier.identifier",
        ),
        (
            json!({"ownerIdentifier": {"identifier": "jane", "identifierType": "EMAIL"}}),
            "ownerIdentifier.identifier",
        ),
    ];
    for (mut body, field) in cases {
        body["cellphone"] = json!(PHONE);
        let (status, problem) = app.upsert_contact(body).await;
        assert_invalid(status, &problem, field);
    }
    // Several bad fields are all reported at once.
    let (status, problem) = app
        .upsert_contact(json!({"cellphone": "abc", "email": "nope"}))
        .await;
    assert_invalid(status, &problem, "cellphone");
    assert_invalid(status, &problem, "email");
    let (_, page) = app.get("/api/v1/contacts").await;
    assert_eq!(page["data"], json!([]), "nothing was created");
});

both_stores!(owner_by_email_and_by_id, |app| {
    let jane = app.create_user("jane@acme.com").await;
    let john = app.create_user("john@acme.com").await;
    let (status, contact) = app
        .upsert_contact(json!({"cellphone": PHONE,
            "ownerIdentifier": {"identifier": "Jane@ACME.com", "identifierType": "EMAIL"}}))
        .await;
    assert_eq!(status, 200, "{contact}");
    assert_eq!(contact["ownerId"], jane["id"]);
    let (status, contact) = app
        .upsert_contact(json!({"cellphone": PHONE,
            "ownerIdentifier": {"identifier": john["id"], "identifierType": "ID"}}))
        .await;
    assert_eq!(status, 200, "{contact}");
    assert_eq!(contact["ownerId"], john["id"]);
    assert_eq!(
        app.fetch_contact(&contact["id"]).await["ownerId"],
        john["id"]
    );
    let (status, contact) = app
        .upsert_contact(json!({"cellphone": PHONE, "ownerIdentifier": null}))
        .await;
    assert_eq!((status, &contact["ownerId"]), (200, &Value::Null));
});

both_stores!(unknown_or_foreign_owner_is_422, |app| {
    let (_, other_key) = app.other_workspace().await;
    let (status, foreign) = app
        .post_as(
            &other_key,
            "/api/v1/users",
            json!({"email": "spy@acme.com"}),
        )
        .await;
    assert_eq!(status, 201, "{foreign}");
    let jane = app.create_user("jane@acme.com").await;
    let (_, contact) = app
        .upsert_contact(json!({"cellphone": PHONE, "firstName": "Maria",
            "ownerIdentifier": {"identifier": jane["id"], "identifierType": "ID"}}))
        .await;
    let unknown_id = uuid::Uuid::now_v7().to_string();
    for owner in [
        json!({"identifier": "nobody@acme.com", "identifierType": "EMAIL"}),
        json!({"identifier": unknown_id, "identifierType": "ID"}),
        json!({"identifier": "spy@acme.com", "identifierType": "EMAIL"}),
        json!({"identifier": foreign["id"], "identifierType": "ID"}),
        // An id given as EMAIL or an email as ID does not resolve either.
        json!({"identifier": jane["id"], "identifierType": "EMAIL"}),
        json!({"identifier": "jane@acme.com", "identifierType": "ID"}),
    ] {
        let (status, problem) = app
            .upsert_contact(json!({"cellphone": PHONE, "firstName": "Changed",
                "ownerIdentifier": owner.clone()}))
            .await;
        assert_invalid(status, &problem, "ownerIdentifier.identifier");
        let (status, problem) = app
            .upsert_contact(json!({"cellphone": "+14155552672", "ownerIdentifier": owner}))
            .await;
        assert_invalid(status, &problem, "ownerIdentifier.identifier");
    }
    assert_eq!(
        app.fetch_contact(&contact["id"]).await,
        contact,
        "nothing changed"
    );
    let (_, page) = app.get("/api/v1/contacts").await;
    assert_eq!(
        page["data"].as_array().map(Vec::len),
        Some(1),
        "no contact created"
    );
});
