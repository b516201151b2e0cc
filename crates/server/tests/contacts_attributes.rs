//! Custom attribute values in the Bridge upsert, the PARTIAL/NORMAL classification, and
//! the guarantee that a refused upsert changes nothing.

mod common;

use common::assert_invalid;
use serde_json::{Value, json};

const PHONE: &str = "+14155552671";

/// An OPEN attribute `notes` and a CLOSED attribute `size` (Small, Large).
async fn attributes(app: &common::TestApp) -> (Value, Value) {
    let notes = app
        .create_attribute(json!({"key": "notes", "label": "Notes", "kind": "OPEN"}))
        .await;
    let size = app
        .create_attribute(json!({"key": "size", "label": "Size", "kind": "CLOSED",
            "options": [{"label": "Small"}, {"label": "Large"}]}))
        .await;
    (notes, size)
}

/// The values shown for `key`, or None when the contact has none.
fn values<'a>(contact: &'a Value, key: &str) -> Option<&'a Value> {
    contact["customAttributes"]
        .as_array()
        .expect("customAttributes is an array")
        .iter()
        .find(|a| a["key"] == key)
        .map(|a| &a["values"])
}

both_stores!(open_and_closed_values_are_shown_by_key, |app| {
    let (notes, size) = attributes(app).await;
    let large = &size["options"][1]["id"];
    let (status, contact) = app
        .upsert_contact(json!({"cellphone": PHONE, "customAttributes": {
            "openAttributes": [{"customAttributeId": notes["id"], "content": "Call after 5pm"}],
            "closedAttributes": [{"customAttributeId": size["id"], "closedCustomAttributeIds": [large]}]
        }}))
        .await;
    assert_eq!(status, 200, "{contact}");
    assert_eq!(values(&contact, "notes"), Some(&json!(["Call after 5pm"])));
    assert_eq!(values(&contact, "size"), Some(&json!(["Large"])));
    for item in contact["customAttributes"].as_array().unwrap() {
        let mut keys: Vec<&String> = item.as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(keys, vec!["key", "values"], "{item}");
    }
    assert_eq!(app.fetch_contact(&contact["id"]).await, contact);

    // Listing one attribute leaves the other alone; both options can be chosen.
    let small = &size["options"][0]["id"];
    let (_, contact) = app
        .upsert_contact(json!({"cellphone": PHONE, "customAttributes": {
            "closedAttributes": [{"customAttributeId": size["id"], "closedCustomAttributeIds": [small, large]}]
        }}))
        .await;
    assert_eq!(values(&contact, "notes"), Some(&json!(["Call after 5pm"])));
    assert_eq!(values(&contact, "size"), Some(&json!(["Small", "Large"])));

    // customAttributes absent keeps all; null clears all.
    let (_, kept) = app.upsert_contact(json!({"cellphone": PHONE})).await;
    assert_eq!(kept["customAttributes"], contact["customAttributes"]);
    let (status, cleared) = app
        .upsert_contact(json!({"cellphone": PHONE, "customAttributes": null}))
        .await;
    assert_eq!(status, 200, "{cleared}");
    assert_eq!(cleared["customAttributes"], json!([]));
    assert_eq!(
        app.fetch_contact(&contact["id"]).await["customAttributes"],
        json!([])
    );
});

both_stores!(wrong_kind_or_unknown_attribute_is_422, |app| {
    let (notes, size) = attributes(app).await;
    let small = &size["options"][0]["id"];
    let unknown = uuid::Uuid::now_v7().to_string();
    let cases = [
        (
            json!({"openAttributes": [{"customAttributeId": size["id"], "content": "big"}]}),
            "customAttributes.openAttributes[0].customAttributeId",
        ),
        (
            json!({"closedAttributes": [{"customAttributeId": notes["id"], "closedCustomAttributeIds": [small]}]}),
            "customAttributes.closedAttributes[0].customAttributeId",
        ),
        (
            json!({"openAttributes": [{"customAttributeId": unknown, "content": "x"}]}),
            "customAttributes.openAttributes[0].customAttributeId",
        ),
        (
            json!({"closedAttributes": [{"customAttributeId": "nope", "closedCustomAttributeIds": []}]}),
            "customAttributes.closedAttributes[0].customAttributeId",
        ),
        (
            json!({"openAttributes": [
                {"customAttributeId": notes["id"], "content": "fine"},
                {"customAttributeId": unknown, "content": "x"}
            ]}),
            "customAttributes.openAttributes[1].customAttributeId",
        ),
    ];
    for (attributes, field) in cases {
        let (status, problem) = app
            .upsert_contact(json!({"cellphone": PHONE, "customAttributes": attributes}))
            .await;
        assert_invalid(status, &problem, field);
    }
    let (_, page) = app.get("/api/v1/contacts").await;
    assert_eq!(page["data"], json!([]), "nothing was created");
});

both_stores!(option_of_another_attribute_is_422, |app| {
    let (_, size) = attributes(app).await;
    let stage = app
        .create_attribute(json!({"key": "stage", "label": "Stage", "kind": "CLOSED",
            "options": [{"label": "Lead"}, {"label": "Won"}]}))
        .await;
    let (status, problem) = app
        .upsert_contact(json!({"cellphone": PHONE, "customAttributes": {"closedAttributes": [
            {"customAttributeId": size["id"], "closedCustomAttributeIds": [stage["options"][0]["id"]]}
        ]}}))
        .await;
    assert_invalid(
        status,
        &problem,
        "customAttributes.closedAttributes[0].closedCustomAttributeIds[0]",
    );
    let (status, problem) = app
        .upsert_contact(
            json!({"cellphone": PHONE, "customAttributes": {"closedAttributes": [
                {"customAttributeId": size["id"],
                 "closedCustomAttributeIds": [size["options"][0]["id"], "not-an-option"]}
            ]}}),
        )
        .await;
    assert_invalid(
        status,
        &problem,
        "customAttributes.closedAttributes[0].closedCustomAttributeIds[1]",
    );
    // An option chosen twice counts once.
    let small = &size["options"][0]["id"];
    let (status, contact) = app
        .upsert_contact(
            json!({"cellphone": PHONE, "customAttributes": {"closedAttributes": [
                {"customAttributeId": size["id"], "closedCustomAttributeIds": [small, small]}
            ]}}),
        )
        .await;
    assert_eq!(status, 200, "{contact}");
    assert_eq!(values(&contact, "size"), Some(&json!(["Small"])));
});

both_stores!(normal_needs_names_language_and_required_attributes, |app| {
    let budget = app
        .create_attribute(
            json!({"key": "budget", "label": "Budget", "kind": "OPEN", "required": true}),
        )
        .await;
    let (_, contact) = app
        .upsert_contact(json!({"cellphone": PHONE, "firstName": "Maria", "lastName": "Lopez", "languageCode": "ES"}))
        .await;
    assert_eq!(contact["type"], "PARTIAL", "the required budget is missing");
    let (_, contact) = app
        .upsert_contact(json!({"cellphone": PHONE, "customAttributes": {
            "openAttributes": [{"customAttributeId": budget["id"], "content": "10k"}]}}))
        .await;
    assert_eq!(contact["type"], "NORMAL", "{contact}");
    assert_eq!(app.fetch_contact(&contact["id"]).await["type"], "NORMAL");
    // Each identity field is needed.
    for field in ["firstName", "lastName", "languageCode"] {
        let mut body = json!({"cellphone": PHONE, "firstName": "Maria", "lastName": "Lopez", "languageCode": "ES"});
        body[field] = Value::Null;
        let (_, contact) = app.upsert_contact(body).await;
        assert_eq!(contact["type"], "PARTIAL", "without {field}");
        assert_eq!(app.fetch_contact(&contact["id"]).await["type"], "PARTIAL");
    }
    let (_, contact) = app
        .upsert_contact(json!({"cellphone": PHONE, "firstName": "Maria", "lastName": "Lopez", "languageCode": "ES"}))
        .await;
    assert_eq!(contact["type"], "NORMAL");
    // Clearing the required value (empty content) makes it PARTIAL again.
    let (_, contact) = app
        .upsert_contact(json!({"cellphone": PHONE, "customAttributes": {
            "openAttributes": [{"customAttributeId": "budget", "content": ""}]}}))
        .await;
    assert_eq!(values(&contact, "budget"), None, "{contact}");
    assert_eq!(contact["type"], "PARTIAL");
    // Optional attributes do not matter.
    app.create_attribute(json!({"key": "notes", "label": "Notes", "kind": "OPEN"}))
        .await;
    let (_, contact) = app
        .upsert_contact(json!({"cellphone": PHONE, "customAttributes": {
            "openAttributes": [{"customAttributeId": budget["id"], "content": "20k"}]}}))
        .await;
    assert_eq!(contact["type"], "NORMAL");
});

both_stores!(
    type_is_recomputed_when_a_required_attribute_appears,
    |app| {
        let (_, contact) = app
        .upsert_contact(json!({"cellphone": PHONE, "firstName": "Maria", "lastName": "Lopez", "languageCode": "EN"}))
        .await;
        assert_eq!(contact["type"], "NORMAL");
        let size = app
            .create_attribute(
                json!({"key": "size", "label": "Size", "kind": "CLOSED", "required": true,
            "options": [{"label": "Small"}]}),
            )
            .await;
        let (status, contact) = app.upsert_contact(json!({"cellphone": PHONE})).await;
        assert_eq!(status, 200, "{contact}");
        assert_eq!(contact["type"], "PARTIAL");
        assert_eq!(app.fetch_contact(&contact["id"]).await["type"], "PARTIAL");
        let (_, contact) = app
        .upsert_contact(json!({"cellphone": PHONE, "customAttributes": {"closedAttributes": [
            {"customAttributeId": size["id"], "closedCustomAttributeIds": [size["options"][0]["id"]]}]}}))
        .await;
        assert_eq!(contact["type"], "NORMAL");
        // customAttributes: null clears the required value too.
        let (_, contact) = app
            .upsert_contact(json!({"cellphone": PHONE, "customAttributes": null}))
            .await;
        assert_eq!(contact["type"], "PARTIAL");
    }
);

both_stores!(refused_upsert_changes_nothing, |app| {
    let (notes, size) = attributes(app).await;
    let owner = app.create_user("jane@acme.com").await;
    let (_, before) = app
        .upsert_contact(json!({"cellphone": PHONE, "firstName": "Maria", "lastName": "Lopez",
            "email": "maria@acme.com", "languageCode": "ES",
            "ownerIdentifier": {"identifier": "jane@acme.com", "identifierType": "EMAIL"},
            "customAttributes": {"openAttributes": [{"customAttributeId": notes["id"], "content": "keep me"}]}}))
        .await;
    assert_eq!(before["ownerId"], owner["id"]);
    let refused = [
        // Refused by the server before the store is asked.
        json!({"firstName": "Changed", "email": "bad"}),
        // Refused by the store: the owner does not exist.
        json!({"firstName": "Changed", "customAttributes": null,
               "ownerIdentifier": {"identifier": "nobody@acme.com", "identifierType": "EMAIL"}}),
        // Refused by the store: one good and one bad attribute value.
        json!({"lastName": null, "ownerIdentifier": null, "customAttributes": {
            "openAttributes": [{"customAttributeId": notes["id"], "content": "overwritten"}],
            "closedAttributes": [{"customAttributeId": size["id"], "closedCustomAttributeIds": ["nope"]}]}}),
    ];
    for mut body in refused {
        body["cellphone"] = json!(PHONE);
        let (status, problem) = app.upsert_contact(body.clone()).await;
        assert_eq!(status, 422, "{body}: {problem}");
        assert_eq!(
            app.fetch_contact(&before["id"]).await,
            before,
            "after {body}"
        );
    }
});
