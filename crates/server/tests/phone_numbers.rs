//! The number pool's numbers over HTTP: adding, reading, changing and removing them,
//! every refusal naming its field, the one default per workspace, holds, and a
//! contact's own number.

mod common;

use common::{TestApp, assert_invalid, problem_fields};
use reqwest::Method;
use serde_json::{Value, json};

impl TestApp {
    async fn send_json(&self, method: Method, path: &str, body: Value) -> (u16, Value) {
        common::read(self.request(method, path).json(&body).send().await.unwrap()).await
    }

    async fn patch(&self, path: &str, body: Value) -> (u16, Value) {
        self.send_json(Method::PATCH, path, body).await
    }

    async fn delete(&self, path: &str) -> u16 {
        let response = self.request(Method::DELETE, path).send().await.unwrap();
        response.status().as_u16()
    }

    /// Adds a number; panics unless the answer is 201.
    async fn add_number(&self, body: Value) -> Value {
        let (status, number) = self.post("/api/v1/phone-numbers", body.clone()).await;
        assert_eq!(status, 201, "adding {body}: {number}");
        number
    }

    async fn created_id(&self, path: &str, body: Value) -> String {
        let (status, created) = self.post(path, body.clone()).await;
        assert_eq!(status, 201, "POST {path} {body}: {created}");
        created["id"].as_str().unwrap().to_owned()
    }

    /// A DRAFT SMS campaign on a fresh sandbox channel.
    async fn campaign(&self, name: &str) -> String {
        let channel = self.sandbox_channel().await;
        self.create_template(
            json!({"name": name, "language": "en", "body": "Hi!", "channelType": "SMS"}),
        )
        .await;
        let body = json!({"name": name, "channelId": channel, "defaultTimeZone": "UTC",
                          "openingTemplate": name});
        self.created_id("/api/v1/campaigns", body).await
    }
}

const UNKNOWN: &str = "0190a5a0-0000-7000-8000-000000000000";

both_stores!(a_number_round_trips_with_its_assignments, |app| {
    let channel = app.sandbox_channel().await;
    let team = app
        .created_id("/api/v1/teams", json!({"name": "Closers"}))
        .await;
    let source = app
        .created_id("/api/v1/sources", json!({"name": "Web form"}))
        .await;
    let campaign = app.campaign("spring").await;
    let number = app
        .add_number(json!({
            "number": "+14155552671", "channelId": channel, "label": "Main line",
            "teamId": team, "campaignIds": [campaign], "sourceIds": [source],
            "preferred": true, "warmupStartedOn": "2026-11-02"
        }))
        .await;
    let id = number["id"].as_str().unwrap().to_owned();
    assert_eq!(number["displayNumber"], "(415) 555-2671");
    assert_eq!(number["capabilities"], json!({"sms": true, "call": true}));
    assert_eq!(number["channelId"], channel.as_str());
    assert_eq!(number["teamId"], team.as_str());
    assert_eq!(number["campaignIds"], json!([campaign]));
    assert_eq!(number["sourceIds"], json!([source]));
    assert_eq!(
        (&number["preferred"], &number["isDefault"]),
        (&json!(true), &json!(false))
    );
    assert_eq!(
        (&number["paused"], &number["blocked"], &number["heldAt"]),
        (&json!(false), &json!(false), &Value::Null)
    );
    assert_eq!(number["warmupStartedOn"], "2026-11-02");
    assert_eq!(number["lastUsedAt"], Value::Null);

    let path = format!("/api/v1/phone-numbers/{id}");
    let (status, fetched) = app.get(&path).await;
    assert_eq!((status, &fetched), (200, &number));
    let (_, page) = app.get("/api/v1/phone-numbers").await;
    assert_eq!(page["data"], json!([number]));
    let (_, page) = app
        .get(&format!(
            "/api/v1/phone-numbers?teamId={team}&channelId={channel}"
        ))
        .await;
    assert_eq!(page["data"].as_array().unwrap().len(), 1, "{page}");
    let (_, page) = app
        .get(&format!("/api/v1/phone-numbers?teamId={UNKNOWN}"))
        .await;
    assert_eq!(page["data"], json!([]));
    let (status, problem) = app.get("/api/v1/phone-numbers?channelId=nope").await;
    assert_invalid(status, &problem, "channelId");

    let (status, changed) = app
        .patch(
            &path,
            json!({"number": "+14155552672", "label": null, "campaignIds": [],
                   "capabilities": {"call": false}, "warmupStartedOn": null}),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(
        changed["displayNumber"], "(415) 555-2672",
        "a new number without a display form gets one derived again"
    );
    assert_eq!(changed["label"], Value::Null);
    assert_eq!(changed["campaignIds"], json!([]));
    assert_eq!(
        changed["sourceIds"],
        json!([source]),
        "absent fields stay as they are"
    );
    assert_eq!(changed["capabilities"], json!({"sms": true, "call": false}));
    assert_eq!(changed["warmupStartedOn"], Value::Null);
    assert_eq!(changed["teamId"], team.as_str());
    let (_, changed) = app
        .patch(&path, json!({"displayNumber": "415-555-2672 (main)"}))
        .await;
    assert_eq!(changed["displayNumber"], "415-555-2672 (main)");
    let (_, changed) = app.patch(&path, json!({"sourceIds": null})).await;
    assert_eq!(changed["sourceIds"], json!([]), "null clears a list");

    let (_, other_key) = app.other_workspace().await;
    let (status, _) = app.get_as(&other_key, &path).await;
    assert_eq!(status, 404, "another workspace cannot see the number");

    assert_eq!(app.delete(&path).await, 204);
    let (status, problem) = app.get(&path).await;
    assert_eq!(status, 404, "{problem}");
    assert_eq!(app.delete(&path).await, 404);
});

both_stores!(refusals_name_their_fields, |app| {
    let (status, problem) = app
        .post(
            "/api/v1/phone-numbers",
            json!({"number": "4155552671", "capabilities": {"sms": false, "call": false},
                   "channelId": "x", "label": " ", "teamId": "y",
                   "campaignIds": [UNKNOWN, "z", UNKNOWN], "warmupStartedOn": "2026-2-30"}),
        )
        .await;
    assert_eq!(status, 422, "{problem}");
    let mut fields = problem_fields(&problem);
    fields.sort();
    assert_eq!(
        fields,
        [
            "campaignIds[1]",
            "campaignIds[2]",
            "capabilities",
            "channelId",
            "label",
            "number",
            "teamId",
            "warmupStartedOn"
        ]
    );
    let (status, problem) = app
        .post(
            "/api/v1/phone-numbers",
            json!({"number": "+14155552671", "colour": "red"}),
        )
        .await;
    assert_invalid(status, &problem, "colour");

    let whatsapp = app
        .create_channel(
            json!({"name": "WA", "messageProviderType": "WHATSAPP", "sender": "+14155550100"}),
        )
        .await;
    let (status, problem) = app
        .post(
            "/api/v1/phone-numbers",
            json!({"number": "+14155552671", "channelId": whatsapp["id"]}),
        )
        .await;
    assert_invalid(status, &problem, "channelId");

    let team = app.created_id("/api/v1/teams", json!({"name": "A"})).await;
    let campaign = app.campaign("autumn").await;
    for (body, field) in [
        (json!({"channelId": UNKNOWN}), "channelId"),
        (json!({"teamId": UNKNOWN}), "teamId"),
        (
            json!({"teamId": team, "campaignIds": [campaign, UNKNOWN]}),
            "campaignIds[1]",
        ),
        (json!({"sourceIds": [UNKNOWN]}), "sourceIds[0]"),
    ] {
        let mut body = body;
        body["number"] = json!("+14155552671");
        let (status, problem) = app.post("/api/v1/phone-numbers", body.clone()).await;
        assert_eq!(status, 404, "{body}: {problem}");
        assert_eq!(problem_fields(&problem), [field], "{problem}");
    }

    let number = app.add_number(json!({"number": "+14155552671"})).await;
    let path = format!("/api/v1/phone-numbers/{}", number["id"].as_str().unwrap());
    for (body, field) in [
        (json!({"number": null}), "number"),
        (json!({"preferred": null}), "preferred"),
        (json!({"capabilities": null}), "capabilities"),
        (
            json!({"capabilities": {"sms": false, "call": false}}),
            "capabilities",
        ),
        (json!({"capabilities": [true, true]}), "capabilities"),
        (json!({"sourceIds": ["nope"]}), "sourceIds[0]"),
        (json!({"isDefault": "yes"}), "isDefault"),
    ] {
        let (status, problem) = app.patch(&path, body.clone()).await;
        assert_invalid(status, &problem, field);
    }
    let (status, problem) = app.patch(&path, json!({"teamId": UNKNOWN})).await;
    assert_eq!(
        (status, problem_fields(&problem)),
        (404, vec!["teamId".to_owned()])
    );
    for missing in [
        format!("/api/v1/phone-numbers/{UNKNOWN}"),
        "/api/v1/phone-numbers/not-a-uuid".to_owned(),
    ] {
        let (status, _) = app.patch(&missing, json!({"label": "x"})).await;
        assert_eq!(status, 404, "{missing}");
    }
});

both_stores!(a_number_is_unique_in_its_workspace, |app| {
    app.add_number(json!({"number": "+14155552671"})).await;
    let (status, problem) = app
        .post("/api/v1/phone-numbers", json!({"number": "+14155552671"}))
        .await;
    assert_eq!(status, 409, "{problem}");
    assert_eq!(problem_fields(&problem), ["number"]);
    let second = app.add_number(json!({"number": "+14155552672"})).await;
    let (status, problem) = app
        .patch(
            &format!("/api/v1/phone-numbers/{}", second["id"].as_str().unwrap()),
            json!({"number": "+14155552671"}),
        )
        .await;
    assert_eq!(status, 409, "{problem}");

    let (_, other_key) = app.other_workspace().await;
    let (status, other) = app
        .post_as(
            &other_key,
            "/api/v1/phone-numbers",
            json!({"number": "+14155552671"}),
        )
        .await;
    assert_eq!(status, 201, "another workspace may have it too: {other}");
});

both_stores!(the_default_flag_moves_to_the_last_number_given_it, |app| {
    let first = app
        .add_number(json!({"number": "+14155552671", "isDefault": true}))
        .await;
    assert_eq!(first["isDefault"], true);
    let second = app
        .add_number(json!({"number": "+14155552672", "isDefault": true}))
        .await;
    assert_eq!(second["isDefault"], true);
    let defaults = |page: &Value| -> Vec<String> {
        page["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["isDefault"] == true)
            .map(|n| n["number"].as_str().unwrap().to_owned())
            .collect()
    };
    let (_, page) = app.get("/api/v1/phone-numbers").await;
    assert_eq!(defaults(&page), ["+14155552672"]);
    let path = format!("/api/v1/phone-numbers/{}", first["id"].as_str().unwrap());
    let (status, back) = app.patch(&path, json!({"isDefault": true})).await;
    assert_eq!((status, &back["isDefault"]), (200, &json!(true)), "{back}");
    let (_, page) = app.get("/api/v1/phone-numbers").await;
    assert_eq!(defaults(&page), ["+14155552671"]);
    let (_, off) = app.patch(&path, json!({"isDefault": false})).await;
    assert_eq!(off["isDefault"], false);
    let (_, page) = app.get("/api/v1/phone-numbers").await;
    assert!(defaults(&page).is_empty(), "{page}");
});

both_stores!(a_number_is_paused_blocked_and_resumed, |app| {
    let number = app.add_number(json!({"number": "+14155552671"})).await;
    let path = format!("/api/v1/phone-numbers/{}", number["id"].as_str().unwrap());
    for body in [json!({}), json!({"reason": "  "})] {
        let (status, problem) = app.post(&format!("{path}/pause"), body).await;
        assert_invalid(status, &problem, "reason");
    }
    let (status, paused) = app
        .post(
            &format!("{path}/pause"),
            json!({"reason": "Too many opt-outs"}),
        )
        .await;
    assert_eq!(status, 200, "{paused}");
    assert_eq!(
        (
            &paused["paused"],
            &paused["blocked"],
            &paused["holdAutomatic"]
        ),
        (&json!(true), &json!(false), &json!(false))
    );
    assert_eq!(paused["holdReason"], "Too many opt-outs");
    assert!(paused["heldAt"].is_string(), "{paused}");

    let (status, blocked) = app
        .post(
            &format!("{path}/block"),
            json!({"reason": "Carrier block 40003"}),
        )
        .await;
    assert_eq!(status, 200, "{blocked}");
    assert_eq!(
        (&blocked["paused"], &blocked["blocked"]),
        (&json!(false), &json!(true))
    );
    assert_eq!(blocked["holdReason"], "Carrier block 40003");
    let (status, problem) = app
        .post(&format!("{path}/pause"), json!({"reason": "later"}))
        .await;
    assert_eq!(
        status, 409,
        "a block is not downgraded to a pause: {problem}"
    );

    let (status, resumed) = app.post(&format!("{path}/resume"), json!({})).await;
    assert_eq!(status, 200, "{resumed}");
    assert_eq!(
        (
            &resumed["paused"],
            &resumed["blocked"],
            &resumed["holdReason"],
            &resumed["heldAt"]
        ),
        (&json!(false), &json!(false), &Value::Null, &Value::Null)
    );
    let (status, _) = app
        .post(
            &format!("/api/v1/phone-numbers/{UNKNOWN}/pause"),
            json!({"reason": "x"}),
        )
        .await;
    assert_eq!(status, 404);
});

both_stores!(a_contact_is_assigned_its_own_number, |app| {
    let (_, contact) = app
        .upsert_contact(json!({"cellphone": "+14155550199"}))
        .await;
    let contact_id = contact["id"].as_str().unwrap().to_owned();
    let number = app.add_number(json!({"number": "+14155552671"})).await;
    let number_id = number["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/contacts/{contact_id}/phone-number");

    let (status, assigned) = app
        .send_json(Method::PUT, &path, json!({"phoneNumberId": number_id}))
        .await;
    assert_eq!(status, 200, "{assigned}");
    assert_eq!(
        assigned,
        json!({"contactId": contact_id, "phoneNumberId": number_id})
    );
    let (_, read) = app.get(&path).await;
    assert_eq!(read, assigned);

    let (status, problem) = app
        .send_json(Method::PUT, &path, json!({"phoneNumberId": UNKNOWN}))
        .await;
    assert_eq!(
        (status, problem_fields(&problem)),
        (404, vec!["phoneNumberId".to_owned()])
    );
    for body in [json!({}), json!({"phoneNumberId": "x"})] {
        let (status, problem) = app.send_json(Method::PUT, &path, body).await;
        assert_invalid(status, &problem, "phoneNumberId");
    }
    let (status, _) = app
        .send_json(
            Method::PUT,
            &format!("/api/v1/contacts/{UNKNOWN}/phone-number"),
            json!({"phoneNumberId": number_id}),
        )
        .await;
    assert_eq!(status, 404);

    assert_eq!(
        app.delete(&format!("/api/v1/phone-numbers/{number_id}"))
            .await,
        204
    );
    let (_, read) = app.get(&path).await;
    assert_eq!(
        read["phoneNumberId"],
        Value::Null,
        "deleting the number lifts the assignment"
    );
    let second = app.add_number(json!({"number": "+14155552672"})).await;
    app.send_json(Method::PUT, &path, json!({"phoneNumberId": second["id"]}))
        .await;
    let (status, lifted) = app
        .send_json(Method::PUT, &path, json!({"phoneNumberId": null}))
        .await;
    assert_eq!((status, &lifted["phoneNumberId"]), (200, &Value::Null));
});

both_stores!(pool_settings_round_trip_and_refuse_bad_values, |app| {
    let path = "/api/v1/settings/number-pool";
    let (status, defaults) = app.get(path).await;
    assert_eq!(status, 200, "{defaults}");
    assert_eq!(defaults["steadyDailyCap"], 3000);
    assert_eq!(
        defaults["warmupRamp"],
        json!([100, 250, 500, 750, 1500, 2250, 3000])
    );

    let (status, stored) = app
        .send_json(
            Method::PUT,
            path,
            json!({"timeZone": "Eastern Standard Time", "warmupRamp": [50, 100],
                   "steadyDailyCap": 2000, "health": {"minSample": 50}}),
        )
        .await;
    assert_eq!(status, 200, "{stored}");
    assert_eq!(stored["timeZone"], "America/New_York");
    assert_eq!(stored["health"]["minSample"], 50);
    assert_eq!(
        stored["health"]["windowDays"], 7,
        "absent fields take defaults"
    );
    assert_eq!(stored["dailyCallCap"], 250);
    let (_, read) = app.get(path).await;
    assert_eq!(read, stored);

    for (body, field) in [
        (json!({"warmupRamp": [100, 50]}), "warmupRamp"),
        (json!({"timeZone": "Mars/Olympus"}), "timeZone"),
        (
            json!({"health": {"minDeliveryRate": 2}}),
            "health.minDeliveryRate",
        ),
        (json!({"steadyCap": 10}), "steadyCap"),
        (json!({"health": {"minSampel": 10}}), "health.minSampel"),
        (json!({"dailyCallCap": -1}), "dailyCallCap"),
    ] {
        let (status, problem) = app.send_json(Method::PUT, path, body.clone()).await;
        assert_invalid(status, &problem, field);
    }
    let (_, read) = app.get(path).await;
    assert_eq!(read, stored, "refused settings change nothing");
});
