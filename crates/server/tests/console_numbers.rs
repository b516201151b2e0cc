//! The console's numbers page on both stores: only admins open it; pause, block and
//! resume with a reason as the API does, the reason shown in the number's row; and
//! "why this number" explains the same selection as Leadping's outgoing-number
//! endpoint.

mod common;

use common::TestApp;
use leadline_core::user::Role;
use serde_json::{Value, json};

impl TestApp {
    async fn add_number(&self, body: Value) -> String {
        let (status, number) = self.post("/api/v1/phone-numbers", body.clone()).await;
        assert_eq!(status, 201, "adding {body}: {number}");
        number["id"].as_str().unwrap().to_owned()
    }
}

/// The `<tr>` of the numbers table for `id`.
fn row<'a>(body: &'a str, id: &str) -> &'a str {
    let start = body
        .find(&format!("<tr data-number-id=\"{id}\""))
        .unwrap_or_else(|| panic!("no row for {id} in {body}"));
    let end = body[start..].find("</tr>").unwrap() + start;
    &body[start..end]
}

/// The text of the cell with `class` in a row.
fn cell(row: &str, class: &str) -> String {
    let start = row
        .find(&format!("class=\"{class}\""))
        .unwrap_or_else(|| panic!("no .{class} in {row}"));
    let rest = &row[start..];
    let open = rest.find('>').unwrap() + 1;
    let close = rest.find("</td>").unwrap();
    let text = &rest[open..close];
    let mut plain = String::new();
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => plain.push(c),
            _ => {}
        }
    }
    let plain = plain
        .replace("&#x2f;", "/")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    plain.split_whitespace().collect::<Vec<_>>().join(" ")
}

both_stores!(only_admins_open_the_numbers_page, |app| {
    let id = app
        .add_number(json!({"number": "+14155552671", "label": "West"}))
        .await;
    let admin = app.console_user(Role::Admin).await;
    let page = admin.get("/console/numbers").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let tr = row(&page.body, &id);
    assert!(tr.contains("data-phone=\"+14155552671\""), "{tr}");
    assert!(cell(tr, "health").contains("Not Started"), "{tr}");
    assert_eq!(cell(tr, "status"), "active");
    assert_eq!(cell(tr, "reason"), "");
    assert!(tr.contains(&format!("action=\"/console/numbers/{id}/pause\"")));
    assert!(tr.contains("aria-label=\"Reason\""));

    let advisor = app.console_user(Role::Advisor).await;
    assert_eq!(advisor.get("/console/numbers").await.status, 403);
    let refused = advisor
        .post(
            &format!("/console/numbers/{id}/pause"),
            &[("reason", "mine")],
        )
        .await;
    assert_eq!(refused.status, 403);
    let (_, warmup) = app.get(&format!("/api/v1/phone-numbers/{id}/warmup")).await;
    assert_ne!(warmup["state"], "Paused", "{warmup}");
});

both_stores!(a_paused_number_shows_why_and_resumes, |app| {
    let id = app.add_number(json!({"number": "+14155552671"})).await;
    let admin = app.console_user(Role::Admin).await;
    let path = format!("/console/numbers/{id}/pause");

    let empty = admin.post(&path, &[("reason", "  ")]).await;
    assert_eq!(empty.status, 422, "{}", empty.body);
    assert!(empty.body.contains("Reason: "), "{}", empty.body);
    assert_eq!(cell(row(&empty.body, &id), "status"), "active");

    let paused = admin
        .post(&path, &[("reason", "Carrier complaints on 5/2")])
        .await;
    assert_eq!(paused.status, 303, "{}", paused.body);
    assert_eq!(paused.location.as_deref(), Some("/console/numbers"));
    let page = admin.get("/console/numbers").await;
    let tr = row(&page.body, &id);
    assert_eq!(cell(tr, "status"), "paused");
    assert_eq!(cell(tr, "reason"), "Carrier complaints on 5/2");
    assert!(tr.contains("class=\"resume\""), "{tr}");
    let (_, warmup) = app.get(&format!("/api/v1/phone-numbers/{id}/warmup")).await;
    assert_eq!(warmup["state"], "Paused", "the API sees the same hold");

    let blocked = admin
        .post(
            &format!("/console/numbers/{id}/block"),
            &[("reason", "T-Mobile block")],
        )
        .await;
    assert_eq!(blocked.status, 303, "{}", blocked.body);
    let again = admin.post(&path, &[("reason", "later")]).await;
    assert_eq!(again.status, 422, "{}", again.body);
    assert!(
        again
            .body
            .contains("the number is blocked; resume it before pausing it")
    );
    let tr = row(&again.body, &id);
    assert_eq!(cell(tr, "status"), "blocked");
    assert_eq!(cell(tr, "reason"), "T-Mobile block");

    let resumed = admin
        .post(&format!("/console/numbers/{id}/resume"), &[])
        .await;
    assert_eq!(resumed.status, 303, "{}", resumed.body);
    let page = admin.get("/console/numbers").await;
    let tr = row(&page.body, &id);
    assert_eq!(cell(tr, "status"), "active");
    assert_eq!(cell(tr, "reason"), "");
});

both_stores!(why_this_number_explains_the_selection, |app| {
    let west = app
        .add_number(json!({"number": "+14155552671", "label": "West"}))
        .await;
    let east = app
        .add_number(json!({"number": "+12125550100", "label": "East"}))
        .await;
    let admin = app.console_user(Role::Admin).await;
    let page = admin.get("/console/numbers").await;
    assert!(page.body.contains("id=\"why-form\""));
    assert!(
        !page.body.contains("id=\"selection-table\""),
        "nothing asked yet"
    );

    let (status, expected) = app
        .post(
            "/phone-numbers/outgoing/new",
            json!({"recipientPhoneNumber": "+14155550123", "channel": "sms"}),
        )
        .await;
    assert_eq!(status, 200, "{expected}");
    let page = admin
        .get("/console/numbers?recipientPhoneNumber=%2B14155550123&channel=sms&campaignId=&sourceId=&teamId=&leadId=&conversationId=")
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("id=\"selection-table\""),
        "{}",
        page.body
    );
    let table = &page.body[page.body.find("id=\"selection-table\"").unwrap()..];
    for id in [&west, &east] {
        assert!(
            table.contains(&format!("data-candidate-id=\"{id}\"")),
            "{table}"
        );
    }
    let selected = expected["phoneNumberId"].as_str().unwrap();
    assert!(
        table.contains(&format!(
            "data-candidate-id=\"{selected}\" data-phone=\"{}\" data-selected=\"true\"",
            expected["number"].as_str().unwrap()
        )),
        "the API chose {selected}: {table}"
    );
    assert!(
        table.contains(expected["reasonLabel"].as_str().unwrap()),
        "{table}"
    );
    for candidate in expected["eligibleNumbers"].as_array().unwrap() {
        assert!(table.contains(candidate["reasonLabel"].as_str().unwrap()));
    }

    let bad = admin
        .get("/console/numbers?recipientPhoneNumber=call+me&channel=sms")
        .await;
    assert_eq!(bad.status, 200, "{}", bad.body);
    assert!(bad.body.contains("Test recipient: "), "{}", bad.body);
    let unknown = admin
        .get("/console/numbers?recipientPhoneNumber=%2B14155550123&teamId=0190a5a0-0000-7000-8000-000000000000")
        .await;
    assert!(
        unknown.body.contains("Team: no team with this id"),
        "{}",
        unknown.body
    );
});
