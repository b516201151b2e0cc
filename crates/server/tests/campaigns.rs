//! Outbound campaigns: creation rules, the NLPearl add-lead endpoint, bulk adds, the
//! do-not-contact list, and the scheduler working a campaign of leads spread over US
//! zones on a simulated clock — no lead is contacted outside its lawful window.

mod common;

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use common::{TestApp, assert_invalid, problem_fields};
use leadline_core::ManualClock;
use leadline_server::numbers::NumberPools;
use leadline_server::scheduler::Scheduler;
use leadline_server::serve::ServerOptions;
use reqwest::Method;
use serde_json::{Value, json};

impl TestApp {
    /// An SMS campaign on a sandbox channel opening with `welcome` ({{firstName}}).
    async fn sms_campaign(&self, calling_hours: Value) -> String {
        let channel = self.sandbox_channel().await;
        self.create_template(
            json!({"name": "welcome", "language": "en", "body": "Hi {{1}}!", "channelType": "SMS"}),
        )
        .await;
        let (status, campaign) = self
            .post(
                "/api/v1/campaigns",
                json!({
                    "name": "Spring", "channelId": channel, "defaultTimeZone": "Eastern Standard Time",
                    "callingHours": calling_hours, "maxAttempts": 3, "retryInterval": "Daily",
                    "openingTemplate": "welcome", "openingTemplateParams": ["{{firstName}}"]
                }),
            )
            .await;
        assert_eq!(status, 201, "{campaign}");
        assert_eq!(campaign["status"], "DRAFT");
        assert_eq!(
            campaign["defaultTimeZone"], "America/New_York",
            "Windows names are stored as IANA"
        );
        assert_eq!(campaign["requiredVariables"], json!(["firstName"]));
        campaign["id"].as_str().unwrap().to_owned()
    }

    async fn put_lead(&self, campaign: &str, body: Value) -> (u16, Value) {
        common::read(
            self.request(Method::PUT, &format!("/v1/Outbound/{campaign}/Lead"))
                .json(&body)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    async fn lead(&self, id: &str) -> Value {
        let (status, lead) = self.get(&format!("/api/v1/leads/{id}")).await;
        assert_eq!(status, 200, "{lead}");
        lead
    }
}

both_stores!(add_lead_validates_and_updates_by_external_id, |app| {
    let campaign = app.sms_campaign(json!([])).await;
    let (status, added) = app
        .put_lead(&campaign, json!({"phoneNumber": "+14155550123", "externalId": "crm-1",
                                    "timeZoneId": "Pacific Standard Time", "callData": {"firstName": "Ana"}}))
        .await;
    assert_eq!(status, 200, "{added}");
    let lead_id = added["leadId"].as_str().unwrap().to_owned();
    let lead = app.lead(&lead_id).await;
    assert_eq!(lead["status"], "New");
    assert_eq!(lead["statusCode"], 1);
    assert_eq!(lead["timeZone"], "America/Los_Angeles");
    assert_eq!(lead["callData"]["firstName"], "Ana");

    let (status, again) = app
        .put_lead(&campaign, json!({"phoneNumber": "(415) 555-0124", "externalId": "crm-1",
                                    "timeZoneId": "America/Chicago", "callData": {"firstName": "Ann"}}))
        .await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(
        again["leadId"],
        lead_id.as_str(),
        "the same externalId updates the same lead"
    );
    let lead = app.lead(&lead_id).await;
    assert_eq!(
        lead["phoneNumber"], "+14155550124",
        "national digits are read in the campaign's country"
    );
    assert_eq!(lead["callData"]["firstName"], "Ann");
    let (_, contacts) = app.get("/api/v1/contacts?cellphone=%2B14155550124").await;
    assert_eq!(
        contacts["data"][0]["id"], lead["contactId"],
        "the lead is linked to its contact"
    );

    let (status, problem) = app
        .put_lead(
            &campaign,
            json!({"phoneNumber": "555", "callData": {"firstName": "A"}}),
        )
        .await;
    assert_invalid(status, &problem, "phoneNumber");
    let (status, problem) = app
        .put_lead(&campaign, json!({"phoneNumber": "+14155550125", "timeZoneId": "Mars Standard Time", "callData": {"firstName": "A"}}))
        .await;
    assert_invalid(status, &problem, "timeZoneId");
    let (status, problem) = app
        .put_lead(&campaign, json!({"phoneNumber": "+14155550125"}))
        .await;
    assert_invalid(status, &problem, "callData.firstName");
    let (status, _) = app
        .put_lead(
            "0190a5a0-0000-7000-8000-000000000000",
            json!({"phoneNumber": "+14155550125"}),
        )
        .await;
    assert_eq!(status, 404);
    let (status, problem) = app.put_lead(&campaign, json!({"externalId": "x"})).await;
    assert_invalid(status, &problem, "phoneNumber");
});

both_stores!(campaigns_are_validated, |app| {
    let channel = app.sandbox_channel().await;
    let (status, problem) = app
        .post("/api/v1/campaigns", json!({"name": "", "channelId": "x", "defaultTimeZone": "Nowhere/Land",
                                          "callingHours": [{"day": "FUNDAY", "start": "9:00", "end": "08:00"}],
                                          "maxAttempts": 11, "retryInterval": "Hourly"}))
        .await;
    assert_eq!(status, 422, "{problem}");
    let (status, problem) = app
        .post("/api/v1/campaigns", json!({"name": "x", "channelId": channel, "defaultTimeZone": "Nowhere/Land",
                                          "callingHours": [{"day": "FUNDAY", "start": "9:00", "end": "08:00"}],
                                          "maxAttempts": 11}))
        .await;
    assert_eq!(status, 422, "{problem}");
    let fields = problem_fields(&problem);
    for field in ["defaultTimeZone", "maxAttempts"] {
        assert!(
            fields.iter().any(|f| f == field),
            "{field} missing from {fields:?}"
        );
    }
    assert!(
        fields.iter().any(|f| f.starts_with("callingHours[0]")),
        "{fields:?}"
    );
    let (status, problem) = app
        .post(
            "/api/v1/campaigns",
            json!({"name": "x", "channelId": channel, "defaultTimeZone": "UTC"}),
        )
        .await;
    assert_invalid(status, &problem, "openingTemplate");
});

both_stores!(bulk_adds_keep_going_past_bad_rows, |app| {
    let campaign = app.sms_campaign(json!([])).await;
    let mut leads: Vec<Value> = (0..300)
        .map(|n| json!({"phoneNumber": format!("+1415555{n:04}"), "externalId": format!("b-{n}"), "callData": {"firstName": "L"}}))
        .collect();
    leads[7] = json!({"phoneNumber": "nope", "callData": {"firstName": "L"}});
    leads[9] = json!({"phoneNumber": "+14155559999"});
    let (status, answer) = app
        .post(
            &format!("/api/v1/campaigns/{campaign}/leads:bulk"),
            json!({"leads": leads}),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["accepted"], 298);
    assert_eq!(answer["rejected"][0]["index"], 7);
    assert_eq!(answer["rejected"][0]["errors"][0]["field"], "phoneNumber");
    assert_eq!(answer["rejected"][1]["index"], 9);
    assert_eq!(
        answer["rejected"][1]["errors"][0]["field"],
        "callData.firstName"
    );
    let (_, stats) = app
        .get(&format!("/api/v1/campaigns/{campaign}/stats"))
        .await;
    assert_eq!(stats["leads"], 298, "{stats}");
    assert_eq!(stats["byStatus"]["New"], 298);
    let (_, page) = app
        .get(&format!(
            "/api/v1/campaigns/{campaign}/leads?status=New&limit=500"
        ))
        .await;
    assert_eq!(page["data"].as_array().unwrap().len(), 298);
    let (status, problem) = app
        .get(&format!("/api/v1/campaigns/{campaign}/leads?status=Happy"))
        .await;
    assert_invalid(status, &problem, "status");
});

both_stores!(do_not_contact_list, |app| {
    let (status, entry) = app
        .post(
            "/api/v1/dnc",
            json!({"phoneNumber": "+14155550199", "reason": "asked by phone"}),
        )
        .await;
    assert_eq!(status, 201, "{entry}");
    let (_, list) = app.get("/api/v1/dnc").await;
    assert_eq!(list["data"][0]["phoneNumber"], "+14155550199");
    let (status, problem) = app
        .post("/api/v1/dnc", json!({"phoneNumber": "4155550199"}))
        .await;
    assert_invalid(status, &problem, "phoneNumber");
    let removed = app
        .request(Method::DELETE, "/api/v1/dnc/+14155550199")
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), 204);
    let again = app
        .request(Method::DELETE, "/api/v1/dnc/+14155550199")
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 404);
});

/// Defines `NAME::sqlite` and `NAME::postgres`, each running `run(kind)` (for tests
/// that build their own app, on a simulated clock).
/// A scheduler over the app's store, ticked by hand.
fn scheduler(app: &TestApp) -> Scheduler {
    Scheduler::new(
        app.store.clone(),
        NumberPools::new(app.store.clone(), std::time::Duration::ZERO),
        Arc::new(tokio::sync::Notify::new()),
    )
}

/// Tuesday 2026-11-17 at 12:00 UTC: 7:00 in New York, 4:00 in Los Angeles.
fn tuesday_noon_utc() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 17, 12, 0, 0).unwrap()
}

async fn simulated(kind: leadline_store::BackendKind) -> Option<(TestApp, Arc<ManualClock>)> {
    let clock = Arc::new(ManualClock::new(tuesday_noon_utc()));
    let options = ServerOptions {
        without_dispatcher: true,
        ..ServerOptions::default()
    };
    let app = TestApp::spawn_with(kind, clock.clone(), options).await?;
    Some((app, clock))
}

async fn campaign_over_us_zones_is_worked_lawfully(kind: leadline_store::BackendKind) {
    let Some((app, clock)) = simulated(kind).await else {
        return;
    };
    let weekdays: Vec<Value> = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"]
        .iter()
        .map(|day| json!({"day": day, "start": "09:00", "end": "17:00"}))
        .collect();
    let campaign = app.sms_campaign(json!(weekdays)).await;
    // New York by Windows name, Los Angeles by IANA name, Chicago by area code (312),
    // Florida by area code (305), and one on the do-not-contact list.
    let leads = [
        ("+12125550101", Some("Eastern Standard Time")),
        ("+14155550102", Some("America/Los_Angeles")),
        ("+13125550103", None),
        ("+13055550104", None),
        ("+16175550105", None),
    ];
    let mut ids = Vec::new();
    for (phone, zone) in leads {
        let mut body = json!({"phoneNumber": phone, "callData": {"firstName": "Lee"}});
        if let Some(zone) = zone {
            body["timeZoneId"] = json!(zone);
        }
        let (status, added) = app.put_lead(&campaign, body).await;
        assert_eq!(status, 200, "{added}");
        ids.push(added["leadId"].as_str().unwrap().to_owned());
    }
    app.post("/api/v1/dnc", json!({"phoneNumber": "+16175550105"}))
        .await;
    let (status, _) = app
        .post(&format!("/api/v1/campaigns/{campaign}/activate"), json!({}))
        .await;
    assert_eq!(status, 200);
    let scheduler = scheduler(&app);

    // 7:00 in New York: nobody may be contacted yet; each lead waits for its own 9:00.
    scheduler.run_once().await.unwrap();
    let expected_opening = [
        ("+12125550101", 14), // 9:00 EST = 14:00 UTC
        ("+14155550102", 17), // 9:00 PST
        ("+13125550103", 15), // 9:00 CST
        ("+13055550104", 14), // 9:00 EST (Florida)
    ];
    for (n, (phone, hour)) in expected_opening.iter().enumerate() {
        let lead = app.lead(&ids[n]).await;
        assert_eq!(lead["phoneNumber"], *phone);
        assert_eq!(lead["lastDecision"]["decision"], "deferred", "{lead}");
        let next = lead["nextAttemptAt"].as_str().unwrap();
        assert_eq!(next, format!("2026-11-17T{hour}:00:00.000Z"), "{lead}");
        assert_eq!(lead["attempts"], 0);
    }
    let refused = app.lead(&ids[4]).await;
    assert_eq!(refused["status"], "Refused", "{refused}");
    assert_eq!(refused["lastDecision"]["decision"], "refused");
    assert!(refused["nextAttemptAt"].is_null());

    // Walk the day in 30-minute steps: every lead is attempted once, inside its window.
    for _ in 0..24 {
        clock.advance(Duration::minutes(30));
        scheduler.run_once().await.unwrap();
    }
    for (n, (_, hour)) in expected_opening.iter().enumerate() {
        let lead = app.lead(&ids[n]).await;
        assert_eq!(lead["attempts"], 1, "{lead}");
        assert_eq!(lead["status"], "Complete", "{lead}");
        assert!(lead["conversationId"].is_string());
        let at: DateTime<Utc> = lead["lastDecision"]["at"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        let opening = Utc.with_ymd_and_hms(2026, 11, 17, *hour, 0, 0).unwrap();
        assert!(
            at >= opening && at < opening + Duration::hours(8),
            "attempted at {at}: {lead}"
        );
    }
    let (_, stats) = app
        .get(&format!("/api/v1/campaigns/{campaign}/stats"))
        .await;
    assert_eq!(stats["byStatus"]["Complete"], 4, "{stats}");
    assert_eq!(stats["attempts"], 4);
    app.stop().await;
}

on_both_stores!(
    campaign_over_us_zones,
    campaign_over_us_zones_is_worked_lawfully
);

async fn pausing_stops_new_attempts(kind: leadline_store::BackendKind) {
    let Some((app, clock)) = simulated(kind).await else {
        return;
    };
    let campaign = app.sms_campaign(json!([])).await;
    clock.set(Utc.with_ymd_and_hms(2026, 11, 17, 16, 0, 0).unwrap()); // 11:00 in New York
    let (_, added) = app
        .put_lead(
            &campaign,
            json!({"phoneNumber": "+12125550111", "callData": {"firstName": "P"}}),
        )
        .await;
    let lead_id = added["leadId"].as_str().unwrap().to_owned();
    let scheduler = scheduler(&app);
    scheduler.run_once().await.unwrap();
    assert_eq!(
        app.lead(&lead_id).await["attempts"],
        0,
        "a DRAFT campaign is not worked"
    );
    app.post(&format!("/api/v1/campaigns/{campaign}/activate"), json!({}))
        .await;
    app.post(&format!("/api/v1/campaigns/{campaign}/pause"), json!({}))
        .await;
    scheduler.run_once().await.unwrap();
    assert_eq!(
        app.lead(&lead_id).await["attempts"],
        0,
        "a paused campaign is not worked"
    );
    app.post(&format!("/api/v1/campaigns/{campaign}/activate"), json!({}))
        .await;
    scheduler.run_once().await.unwrap();
    let lead = app.lead(&lead_id).await;
    assert_eq!(lead["attempts"], 1, "{lead}");
    assert_eq!(lead["status"], "Complete");
    app.stop().await;
}

on_both_stores!(pausing_stops_new_attempts, pausing_stops_new_attempts);

/// The lead once everything due has been sent (the sandbox's calls end at once), which
/// must have brought it to `wanted`.
async fn lead_after_sends(app: &TestApp, id: &str, wanted: &str) -> Value {
    app.drain_dispatcher().await;
    let lead = app.lead(id).await;
    assert_eq!(lead["status"], wanted, "{lead}");
    lead
}

async fn voice_outcomes_set_statuses_and_retries(kind: leadline_store::BackendKind) {
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 11, 17, 16, 0, 0).unwrap(),
    ));
    let Some(app) =
        TestApp::spawn_with(kind, clock.clone(), common::dispatch_steps::stepped()).await
    else {
        return;
    };
    let channel = app
        .create_channel(
            json!({"name": "Calls", "messageProviderType": "VOICE", "sender": "+12125550100",
                               "settings": {"deliveryDelaySeconds": 0}}),
        )
        .await;
    let (status, campaign) = app
        .post("/api/v1/campaigns", json!({"name": "Calls", "channelId": channel["id"], "defaultTimeZone": "America/New_York",
                                          "maxAttempts": 2, "retryInterval": "Daily",
                                          "openingScript": "Hello {{firstName}}, this is Acme."}))
        .await;
    assert_eq!(status, 201, "{campaign}");
    let campaign = campaign["id"].as_str().unwrap().to_owned();
    // The sandbox answers by the number's last digit: 1 answered, 6 voicemail, 8 busy.
    let mut ids = Vec::new();
    for phone in ["+12125550121", "+12125550126", "+12125550128"] {
        let (_, added) = app
            .put_lead(
                &campaign,
                json!({"phoneNumber": phone, "callData": {"firstName": "Kim"}}),
            )
            .await;
        ids.push(added["leadId"].as_str().unwrap().to_owned());
    }
    // callData can choose the outcome instead of the number.
    let (_, chosen) = app
        .put_lead(
            &campaign,
            json!({"phoneNumber": "+12125550131",
                   "callData": {"firstName": "Kim", "sandboxCallOutcome": "failed"}}),
        )
        .await;
    let chosen = chosen["leadId"].as_str().unwrap().to_owned();
    app.post(&format!("/api/v1/campaigns/{campaign}/activate"), json!({}))
        .await;
    let scheduler = scheduler(&app);
    scheduler.run_once().await.unwrap();

    let answered = lead_after_sends(&app, &ids[0], "Success").await;
    let unreachable = lead_after_sends(&app, &chosen, "Unreachable").await;
    assert!(unreachable["nextAttemptAt"].is_null());
    assert!(answered["nextAttemptAt"].is_null());
    let voicemail = lead_after_sends(&app, &ids[1], "VoiceMailLeft").await;
    assert_eq!(
        voicemail["nextAttemptAt"], "2026-11-18T16:00:00.000Z",
        "retried a day later"
    );
    let busy = lead_after_sends(&app, &ids[2], "NeedRetry").await;
    assert_eq!(busy["nextAttemptAt"], "2026-11-18T16:00:00.000Z");
    let conversation = busy["conversationId"].as_str().unwrap();
    let calls = app.messages(conversation).await;
    assert_eq!(calls[0]["type"], "CALL");
    assert_eq!(calls[0]["body"], "Hello Kim, this is Acme.");
    assert_eq!(calls[0]["call"]["status"], "busy");

    // Not yet due: nothing happens.
    clock.advance(Duration::hours(12));
    scheduler.run_once().await.unwrap();
    assert_eq!(app.lead(&ids[2]).await["attempts"], 1);
    // Due: the second and last attempt ends the leads.
    clock.advance(Duration::hours(12));
    scheduler.run_once().await.unwrap();
    let busy = lead_after_sends(&app, &ids[2], "NotSuccessfull").await;
    assert_eq!(busy["attempts"], 2);
    assert!(busy["nextAttemptAt"].is_null());
    let voicemail = app.lead(&ids[1]).await;
    assert_eq!(voicemail["attempts"], 2, "{voicemail}");
    assert_eq!(
        app.lead(&ids[0]).await["attempts"],
        1,
        "a reached lead is not called again"
    );
    let calls = app.messages(conversation).await;
    assert_eq!(
        calls.len(),
        2,
        "the retry is a second call in the same conversation: {calls:#?}"
    );
    app.stop().await;
}

on_both_stores!(voice_outcomes, voice_outcomes_set_statuses_and_retries);

async fn opted_out_contacts_are_refused(kind: leadline_store::BackendKind) {
    let Some((app, clock)) = simulated(kind).await else {
        return;
    };
    let campaign = app.sms_campaign(json!([])).await;
    clock.set(Utc.with_ymd_and_hms(2026, 11, 17, 16, 0, 0).unwrap()); // 11:00 in New York
    let (_, added) = app
        .put_lead(
            &campaign,
            json!({"phoneNumber": "+12125550141", "callData": {"firstName": "O"}}),
        )
        .await;
    let lead_id = added["leadId"].as_str().unwrap().to_owned();
    let contact = app.lead(&lead_id).await["contactId"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/v1/contacts/{contact}/opt-outs");
    let (status, opt_out) = app
        .post(
            &path,
            json!({"messageProviderType": "SMS", "evidence": "asked on a call"}),
        )
        .await;
    assert_eq!(status, 201, "{opt_out}");
    assert_eq!(opt_out["source"], "api");
    let (status, problem) = app.post(&path, json!({"messageProviderType": "FAX"})).await;
    assert_invalid(status, &problem, "messageProviderType");
    app.post(&format!("/api/v1/campaigns/{campaign}/activate"), json!({}))
        .await;
    let scheduler = scheduler(&app);
    scheduler.run_once().await.unwrap();
    let lead = app.lead(&lead_id).await;
    assert_eq!(lead["status"], "Refused", "{lead}");
    assert_eq!(lead["attempts"], 0);
    let (_, listed) = app.get(&path).await;
    assert_eq!(listed[0]["messageProviderType"], "SMS");
    let lifted = app
        .request(Method::DELETE, &format!("{path}/SMS"))
        .send()
        .await
        .unwrap();
    assert_eq!(lifted.status(), 204);
    app.stop().await;
}

on_both_stores!(
    opted_out_contacts_are_refused,
    opted_out_contacts_are_refused
);
