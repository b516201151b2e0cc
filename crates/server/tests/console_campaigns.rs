//! The console's campaign pages on both stores: only admins open them; the form shows
//! each bad field's error; a CSV upload adds leads and hands back the rejected rows;
//! activate and pause switch the campaign as the API does.

mod common;

use base64::Engine;
use common::TestApp;
use common::console::{ConsoleSession, Page, attribute};
use leadline_core::user::Role;
use reqwest::header::{CONTENT_TYPE, COOKIE};
use serde_json::{Value, json};

impl TestApp {
    /// An SMS campaign opening with `welcome` ({{firstName}}), made through the API.
    async fn welcome_campaign(&self) -> (String, String) {
        let channel = self.sandbox_channel().await;
        self.create_template(
            json!({"name": "welcome", "language": "en", "body": "Hi {{1}}!", "channelType": "SMS"}),
        )
        .await;
        let (status, campaign) = self
            .post(
                "/api/v1/campaigns",
                json!({"name": "Spring", "channelId": channel, "defaultTimeZone": "America/New_York",
                       "openingTemplate": "welcome", "openingTemplateParams": ["{{firstName}}"]}),
            )
            .await;
        assert_eq!(status, 201, "{campaign}");
        (campaign["id"].as_str().unwrap().to_owned(), channel)
    }

    async fn campaign_json(&self, id: &str) -> Value {
        let (status, campaign) = self.get(&format!("/api/v1/campaigns/{id}")).await;
        assert_eq!(status, 200, "{campaign}");
        campaign
    }
}

/// Posts `csv` as the upload form does, with `token` in its `csrf` part.
async fn upload(session: &ConsoleSession, campaign: &str, csv: &str, token: &str) -> Page {
    let boundary = "leadline-test-boundary";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{token}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"leads.csv\"\r\n\
         Content-Type: text/csv\r\n\r\n{csv}\r\n--{boundary}--\r\n"
    );
    let response = session
        .client
        .post(format!(
            "{}/console/campaigns/{campaign}/leads",
            session.base
        ))
        .header(COOKIE, &session.cookie)
        .header(
            CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .expect("the console answers");
    Page {
        status: response.status().as_u16(),
        location: None,
        body: response.text().await.expect("a body"),
    }
}

/// The text of the element carrying `data-lead-status="STATUS"`.
fn lead_count(body: &str, status: &str) -> String {
    let at = body
        .find(&format!("data-lead-status=\"{status}\">"))
        .unwrap_or_else(|| panic!("no count of {status} in {body}"));
    let rest = &body[at..];
    let start = rest.find('>').unwrap() + 1;
    let end = rest.find('<').unwrap();
    rest[start..end].trim().to_owned()
}

both_stores!(only_admins_open_the_campaign_pages, |app| {
    let (campaign, _) = app.welcome_campaign().await;
    let admin = app.console_user(Role::Admin).await;
    let list = admin.get("/console/campaigns").await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert!(list.body.contains("Spring"), "{}", list.body);
    let page = admin.get(&format!("/console/campaigns/{campaign}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body
            .contains("id=\"progress\" data-live-region=\"progress\"")
    );
    assert!(page.body.contains("data-live-types=\"lead.status_changed,"));
    assert_eq!(lead_count(&page.body, "New"), "0");
    for path in [
        "/console/campaigns/new",
        &format!("/console/campaigns/{campaign}/edit"),
    ] {
        let form = admin.get(path).await;
        assert_eq!(form.status, 200, "{path}: {}", form.body);
    }
    let missing = admin
        .get("/console/campaigns/0190a5a0-0000-7000-8000-000000000000")
        .await;
    assert_eq!(missing.status, 404);

    let advisor = app.console_user(Role::Advisor).await;
    for path in [
        "/console/campaigns".to_owned(),
        format!("/console/campaigns/{campaign}"),
        "/console/campaigns/new".to_owned(),
    ] {
        assert_eq!(advisor.get(&path).await.status, 403, "{path}");
    }
    let refused = advisor
        .post(&format!("/console/campaigns/{campaign}/activate"), &[])
        .await;
    assert_eq!(refused.status, 403);
    assert_eq!(app.campaign_json(&campaign).await["status"], "DRAFT");
});

both_stores!(
    the_form_names_each_bad_field_and_creates_a_good_campaign,
    |app| {
        let channel = app.sandbox_channel().await;
        app.create_template(
            json!({"name": "welcome", "language": "en", "body": "Hi {{1}}!", "channelType": "SMS"}),
        )
        .await;
        let admin = app.console_user(Role::Admin).await;
        let bad = admin
            .post(
                "/console/campaigns",
                &[
                    ("name", "Autumn"),
                    ("channelId", &channel),
                    ("defaultTimeZone", "Mars/Olympus"),
                    (
                        "callingHours",
                        "MONDAY 09:00-17:00\nFUNDAY 09:00-10:00\nnonsense",
                    ),
                    ("maxAttempts", "eleven"),
                    ("retryInterval", "Daily"),
                    ("openingTemplate", "welcome"),
                    ("openingTemplateParams", "{{firstName}}"),
                ],
            )
            .await;
        assert_eq!(bad.status, 422, "{}", bad.body);
        for shown in [
            "id=\"defaultTimeZone-error\"",
            "Time zone: ",
            "id=\"maxAttempts-error\"",
            "Attempts per lead: must be a whole number",
            "id=\"callingHours-error\"",
            "line 2 (day)",
            "line 3: write a window as MONDAY 09:00-17:00",
            "value=\"Autumn\"",
        ] {
            assert!(bad.body.contains(shown), "{shown} in {}", bad.body);
        }
        let wrong_params = admin
            .post(
                "/console/campaigns",
                &[
                    ("name", "Autumn"),
                    ("channelId", &channel),
                    ("defaultTimeZone", "Eastern Standard Time"),
                    ("openingTemplate", "welcome"),
                ],
            )
            .await;
        assert_eq!(wrong_params.status, 422, "{}", wrong_params.body);
        assert!(
            wrong_params
                .body
                .contains("Template parameters: template &#x27;welcome&#x27; has 1")
        );

        let created = admin
            .post(
                "/console/campaigns",
                &[
                    ("name", "Autumn"),
                    ("channelId", &channel),
                    ("defaultTimeZone", "Eastern Standard Time"),
                    ("defaultCountry", "us"),
                    ("callingHours", "MONDAY 09:00-12:00\r\nmonday 13:00-17:00"),
                    ("maxAttempts", "4"),
                    ("retryInterval", "Every6h"),
                    ("openingTemplate", "welcome"),
                    ("openingTemplateParams", "{{firstName}}"),
                ],
            )
            .await;
        assert_eq!(created.status, 303, "{}", created.body);
        let id = created
            .location
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
            .to_owned();
        let campaign = app.campaign_json(&id).await;
        assert_eq!(campaign["name"], "Autumn");
        assert_eq!(campaign["defaultTimeZone"], "America/New_York");
        assert_eq!(campaign["maxAttempts"], 4);
        assert_eq!(campaign["retryInterval"], "Every6h");
        assert_eq!(campaign["callingHours"].as_array().unwrap().len(), 2);
        assert_eq!(campaign["requiredVariables"], json!(["firstName"]));

        let renamed = admin
            .post(
                &format!("/console/campaigns/{id}/edit"),
                &[
                    ("name", "Autumn leads"),
                    ("channelId", &channel),
                    ("defaultTimeZone", "America/Chicago"),
                    ("openingTemplate", "welcome"),
                    ("openingTemplateParams", "{{firstName}}"),
                ],
            )
            .await;
        assert_eq!(renamed.status, 303, "{}", renamed.body);
        let campaign = app.campaign_json(&id).await;
        assert_eq!(campaign["name"], "Autumn leads");
        assert_eq!(
            campaign["callingHours"],
            json!([]),
            "an empty box: any lawful time"
        );
    }
);

both_stores!(
    a_csv_upload_adds_leads_and_returns_the_rejected_rows,
    |app| {
        let (campaign, _) = app.welcome_campaign().await;
        let admin = app.console_user(Role::Admin).await;
        let csv = "phoneNumber,externalId,firstName\n+14155550123,crm-1,Ana\n555,crm-2,Bob\n\
               (415) 555-0124,crm-3,Cy\n+14155550125,crm-4,\n";
        let forged = upload(&admin, &campaign, csv, "not-the-token").await;
        assert_eq!(forged.status, 403, "{}", forged.body);

        let page = upload(&admin, &campaign, csv, &admin.csrf).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.body.contains("<progress id=\"upload-progress\""));
        assert!(page.body.contains("id=\"upload-result\""));
        assert_eq!(attribute(&page.body, "data-accepted").as_deref(), Some("2"));
        assert_eq!(attribute(&page.body, "data-rejected").as_deref(), Some("2"));
        assert_eq!(lead_count(&page.body, "New"), "2");
        let at = page.body.find("id=\"rejected-rows\"").expect("a download");
        // The page escapes the URL's slashes as HTML does; a browser reads them back.
        let href = attribute(&page.body[at..], "href")
            .unwrap()
            .replace("&#x2f;", "/");
        let encoded = href
            .strip_prefix("data:text/csv;charset=utf-8;base64,")
            .expect("a CSV data URL");
        let rejected = String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .unwrap(),
        )
        .unwrap();
        let lines: Vec<&str> = rejected.lines().collect();
        assert_eq!(lines[0], "line,reason,phoneNumber,externalId,firstName");
        assert!(
            lines[1].starts_with("3,")
                && lines[1].contains("phoneNumber")
                && lines[1].ends_with(",555,crm-2,Bob"),
            "{rejected}"
        );
        assert!(
            lines[2].starts_with("5,") && lines[2].contains("callData.firstName"),
            "{rejected}"
        );
        assert_eq!(lines.len(), 3, "{rejected}");

        let (_, leads) = app
            .get(&format!("/api/v1/campaigns/{campaign}/leads"))
            .await;
        let phones: Vec<&str> = leads["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["phoneNumber"].as_str().unwrap())
            .collect();
        assert_eq!(phones, ["+14155550123", "+14155550124"]);

        let no_column = upload(
            &admin,
            &campaign,
            "phone,firstName\n+14155550126,Di\n",
            &admin.csrf,
        )
        .await;
        assert_eq!(no_column.status, 422, "{}", no_column.body);
        assert!(
            no_column
                .body
                .contains("file: the CSV has no phoneNumber column")
        );
        let advisor = app.console_user(Role::Advisor).await;
        let refused = upload(&advisor, &campaign, csv, &advisor.csrf).await;
        assert_eq!(refused.status, 403);
    }
);

both_stores!(activate_and_pause_switch_the_campaign, |app| {
    let (campaign, _) = app.welcome_campaign().await;
    let admin = app.console_user(Role::Admin).await;
    let page = admin.get(&format!("/console/campaigns/{campaign}")).await;
    assert!(page.body.contains("id=\"activate\""), "{}", page.body);
    assert!(!page.body.contains("id=\"pause\""));

    let activated = admin
        .post(&format!("/console/campaigns/{campaign}/activate"), &[])
        .await;
    assert_eq!(activated.status, 303, "{}", activated.body);
    assert_eq!(
        activated.location.as_deref(),
        Some(format!("/console/campaigns/{campaign}").as_str())
    );
    assert_eq!(app.campaign_json(&campaign).await["status"], "ACTIVE");
    let page = admin.get(&format!("/console/campaigns/{campaign}")).await;
    assert!(page.body.contains("id=\"pause\""), "{}", page.body);

    let paused = admin
        .post(&format!("/console/campaigns/{campaign}/pause"), &[])
        .await;
    assert_eq!(paused.status, 303, "{}", paused.body);
    assert_eq!(app.campaign_json(&campaign).await["status"], "PAUSED");
    let tokenless = admin
        .post_exactly(&format!("/console/campaigns/{campaign}/activate"), &[])
        .await;
    assert_eq!(tokenless.status, 403);
    assert_eq!(app.campaign_json(&campaign).await["status"], "PAUSED");

    let (status, _) = app
        .post(&format!("/api/v1/campaigns/{campaign}/complete"), json!({}))
        .await;
    assert_eq!(status, 200);
    let refused = admin
        .post(&format!("/console/campaigns/{campaign}/activate"), &[])
        .await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(refused.body.contains("COMPLETED"));
});
