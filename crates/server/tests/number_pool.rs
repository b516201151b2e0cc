//! The number pool at work on a simulated clock, on both stores: a campaign's sends
//! spread over a pool of new numbers that ramp day by day, a recipient keeps the number
//! that first reached them, a number that starts failing with carrier filtering (30007)
//! needs attention and then leaves the rotation, and the selection endpoint explains
//! each choice. Sends go through the `http` provider to a mock gateway, so the test
//! reads the sending number of every message from what the gateway received.

mod common;

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};
use common::TestApp;
use leadline_core::ManualClock;
use leadline_providers::signing::{SIGNATURE_HEADER, sign};
use leadline_server::numbers::NumberPools;
use leadline_server::scheduler::Scheduler;
use leadline_server::serve::ServerOptions;
use leadline_server::worker_step::Step;
use reqwest::Method;
use serde_json::{Value, json};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const SECRET: &str = "pool-webhook-secret";
const CA: &str = "+14155550001";
const NY: &str = "+12125550002";
const FL: &str = "+13055550003";

struct Pool {
    app: TestApp,
    clock: Arc<ManualClock>,
    gateway: MockServer,
    channel: String,
    campaign: String,
    /// Phone number id by number.
    ids: HashMap<&'static str, String>,
    /// The scheduler, stepped by the test (the server runs no background workers).
    scheduler: Scheduler,
}

impl Pool {
    async fn start(kind: leadline_store::BackendKind) -> Option<Self> {
        // Tuesday 2026-11-17, 17:00 UTC: noon in New York and Miami, 9:00 in San Francisco.
        let clock = Arc::new(ManualClock::new(
            Utc.with_ymd_and_hms(2026, 11, 17, 17, 0, 0).unwrap(),
        ));
        let options = ServerOptions {
            number_pool_ttl: std::time::Duration::ZERO,
            without_dispatcher: true,
            ..ServerOptions::default()
        };
        let app = TestApp::spawn_with(kind, clock.clone(), options).await?;
        let gateway = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
            .mount(&gateway)
            .await;
        let (status, settings) = app
            .request(Method::PUT, "/api/v1/settings/number-pool")
            .json(&json!({
                "warmupRamp": [3, 5], "steadyDailyCap": 10, "sendsPerSecond": 1000,
                "health": {"minSample": 4, "minDeliveryRate": 0.5, "pauseBelowDeliveryRate": 0.2,
                           "maxFilteredRate": 0.1, "pauseAboveFilteredRate": 0.4}
            }))
            .send()
            .await
            .map(|r| async move { common::read(r).await })
            .unwrap()
            .await;
        assert_eq!(status, 200, "{settings}");
        let channel = app
            .create_channel(json!({
                "name": "Gateway", "messageProviderType": "SMS", "provider": "http", "sender": "+14155550100",
                "settings": {"url": gateway.uri()}, "secrets": {"signingSecret": SECRET}
            }))
            .await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        app.create_template(
            json!({"name": "welcome", "language": "en", "body": "Hi {{1}}!", "channelType": "SMS"}),
        )
        .await;
        let every_day: Vec<Value> = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"]
            .iter()
            .map(|day| json!({"day": day, "start": "08:00", "end": "21:00"}))
            .collect();
        let (status, campaign) = app
            .post(
                "/api/v1/campaigns",
                json!({
                    "name": "Pool", "channelId": channel, "defaultTimeZone": "America/New_York",
                    "callingHours": every_day, "maxAttempts": 3, "retryInterval": "Daily",
                    "openingTemplate": "welcome", "openingTemplateParams": ["{{firstName}}"]
                }),
            )
            .await;
        assert_eq!(status, 201, "{campaign}");
        let campaign = campaign["id"].as_str().unwrap().to_owned();
        let mut ids = HashMap::new();
        for (number, label) in [(CA, "San Francisco"), (NY, "New York"), (FL, "Miami")] {
            let (status, created) = app
                .post(
                    "/api/v1/phone-numbers",
                    json!({"number": number, "label": label, "channelId": channel,
                           "capabilities": {"sms": true, "call": false}}),
                )
                .await;
            assert_eq!(status, 201, "{created}");
            ids.insert(number, created["id"].as_str().unwrap().to_owned());
        }
        let (status, _) = app
            .post(&format!("/api/v1/campaigns/{campaign}/activate"), json!({}))
            .await;
        assert_eq!(status, 200);
        let scheduler = Scheduler::new(
            app.store.clone(),
            NumberPools::new(app.store.clone(), std::time::Duration::ZERO),
            Arc::new(tokio::sync::Notify::new()),
        );
        Some(Self {
            scheduler,
            app,
            clock,
            gateway,
            channel,
            campaign,
            ids,
        })
    }

    async fn add_leads(&self, phones: &[String]) {
        for phone in phones {
            let (status, added) = common::read(
                self.app
                    .request(Method::PUT, &format!("/v1/Outbound/{}/Lead", self.campaign))
                    .json(&json!({"phoneNumber": phone, "callData": {"firstName": "Lee"}}))
                    .send()
                    .await
                    .unwrap(),
            )
            .await;
            assert_eq!(status, 200, "{added}");
        }
    }

    /// What the gateway received: (message id, to, from), in arrival order.
    async fn sends(&self) -> Vec<(String, String, String)> {
        self.gateway
            .received_requests()
            .await
            .unwrap()
            .iter()
            .map(|request| {
                let body: Value = serde_json::from_slice(&request.body).unwrap();
                let text = |key: &str| body[key].as_str().unwrap_or_default().to_owned();
                (text("messageId"), text("to"), text("from"))
            })
            .collect()
    }

    /// Runs the scheduler until no lead is due and sends what is due.
    async fn step(&self) {
        while let Step::Worked(_) = self.scheduler.run_once().await.unwrap() {}
        self.app.drain_dispatcher().await;
    }

    /// Moves simulated time on in one-second steps (so reserved send slots come due),
    /// stepping the scheduler and the dispatcher, until the gateway has received
    /// `count` messages.
    async fn wait_for_sends(&self, count: usize) -> Vec<(String, String, String)> {
        for _ in 0..200 {
            self.step().await;
            let sends = self.sends().await;
            if sends.len() >= count {
                assert_eq!(sends.len(), count, "more sends than expected: {sends:?}");
                return sends;
            }
            self.clock.advance(Duration::seconds(1));
        }
        panic!(
            "the gateway got {} sends, expected {count}",
            self.sends().await.len()
        );
    }

    /// The leads not attempted yet, once the scheduler has decided on each of them.
    async fn leads_waiting(&self) -> Vec<Value> {
        self.step().await;
        {
            let (_, page) = self
                .app
                .get(&format!(
                    "/api/v1/campaigns/{}/leads?limit=100",
                    self.campaign
                ))
                .await;
            let waiting: Vec<Value> = page["data"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|lead| lead["attempts"] == 0)
                .cloned()
                .collect();
            assert!(
                waiting.iter().all(|lead| !lead["lastDecision"].is_null()),
                "the scheduler did not decide on every lead: {waiting:?}"
            );
            waiting
        }
    }

    async fn select(&self, body: Value) -> Value {
        let (status, answer) = self.app.post("/phone-numbers/outgoing/new", body).await;
        assert_eq!(status, 200, "{answer}");
        answer
    }

    async fn warmup(&self, number: &str) -> Value {
        let (status, answer) = self
            .app
            .get(&format!(
                "/api/v1/phone-numbers/{}/warmup",
                self.ids[number]
            ))
            .await;
        assert_eq!(status, 200, "{answer}");
        answer
    }

    async fn report(&self, message_id: &str, status: &str, code: Option<&str>) {
        let mut body = json!({"type": "status", "messageId": message_id, "status": status});
        if let Some(code) = code {
            body["errorCode"] = json!(code);
        }
        let raw = body.to_string();
        let signature = sign(SECRET.as_bytes(), Utc::now().timestamp(), raw.as_bytes());
        let answer = self
            .app
            .anonymous(
                Method::POST,
                &format!("/webhooks/providers/{}", self.channel),
            )
            .header(SIGNATURE_HEADER, signature)
            .header("content-type", "application/json")
            .body(raw)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status().as_u16(), 200);
    }
}

fn phones(area: &str, first: u32, count: u32) -> Vec<String> {
    (first..first + count)
        .map(|n| format!("+1{area}555{n:04}"))
        .collect()
}

fn count_from(sends: &[(String, String, String)], number: &str) -> usize {
    sends.iter().filter(|(_, _, from)| from == number).count()
}

async fn pool_ramps_sticks_and_sheds_a_filtered_number(kind: leadline_store::BackendKind) {
    let Some(pool) = Pool::start(kind).await else {
        return;
    };

    // Day 1: three new numbers may send 3 each. Eight San Francisco leads: the local
    // number takes its 3, the rest spread over the other two, none over its cap.
    pool.add_leads(&phones("415", 100, 8)).await;
    let sends = pool.wait_for_sends(8).await;
    assert_eq!(count_from(&sends, CA), 3, "{sends:?}");
    assert!(
        count_from(&sends, NY) <= 3 && count_from(&sends, FL) <= 3,
        "{sends:?}"
    );
    let first_from: HashMap<String, String> = sends
        .iter()
        .map(|(_, to, from)| (to.clone(), from.clone()))
        .collect();
    let ca = pool.warmup(CA).await;
    assert_eq!(ca["state"], "Warming", "{ca}");
    assert_eq!(ca["smsWarmup"]["day"], 1);
    assert_eq!(ca["smsWarmup"]["todayCap"], 3);
    assert_eq!(ca["smsWarmup"]["todayUsed"], 3);
    assert_eq!(ca["smsWarmup"]["nextCap"], 5);
    assert_eq!(ca["messagesPossible"], false);

    // The endpoint explains: the local number is full today, so another one is chosen.
    let choice = pool
        .select(json!({"recipientPhoneNumber": "+14155559999"}))
        .await;
    assert_eq!(choice["canSend"], true, "{choice}");
    assert_ne!(choice["number"], CA);
    assert_eq!(choice["selectionReason"], "LocalArea", "{choice}");
    let listed_ca = choice["eligibleNumbers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["number"] == CA)
        .expect("the full number is listed");
    assert_eq!(listed_ca["canSend"], false);
    assert!(
        listed_ca["healthWarning"].as_str().unwrap().contains("cap"),
        "{listed_ca}"
    );
    assert_eq!(listed_ca["isSelected"], false);

    // Four more leads: one unit of capacity is left today; the other three wait for
    // midnight, and say why.
    pool.add_leads(&phones("415", 200, 4)).await;
    pool.wait_for_sends(9).await;
    let waiting = pool.leads_waiting().await;
    assert_eq!(waiting.len(), 3, "{waiting:?}");
    for lead in waiting {
        assert_eq!(lead["lastDecision"]["decision"], "deferred", "{lead}");
        assert_eq!(lead["nextAttemptAt"], "2026-11-18T00:00:00.000Z", "{lead}");
    }

    // Day 2: the caps step up to 5; the waiting leads go out, from the local number.
    pool.clock.advance(Duration::hours(24));
    let sends = pool.wait_for_sends(12).await;
    assert!(
        sends[9..].iter().all(|(_, _, from)| from == CA),
        "{sends:?}"
    );
    assert_eq!(pool.warmup(CA).await["smsWarmup"]["todayCap"], 5);

    // A recipient reached yesterday keeps the number that reached them.
    let (recipient, their_number) = first_from
        .iter()
        .find(|(_, from)| *from != CA)
        .expect("some lead went out from another number");
    let sticky = pool
        .select(json!({"recipientPhoneNumber": recipient}))
        .await;
    assert_eq!(sticky["selectionReason"], "StickyConversation", "{sticky}");
    assert_eq!(&sticky["number"], their_number);
    assert!(sticky["reasonLabel"].is_string());

    // Five New York leads go out from the New York number.
    pool.add_leads(&phones("212", 300, 5)).await;
    let sends = pool.wait_for_sends(17).await;
    assert!(
        sends[12..].iter().all(|(_, _, from)| from == NY),
        "{sends:?}"
    );

    // The New York number's messages start coming back filtered (30007): one filtered,
    // the rest delivered, and it needs attention; a new New York recipient is now given
    // a healthy number, the New York one listed last with its warning.
    let ny_messages: Vec<String> = sends
        .iter()
        .filter(|(_, _, from)| from == NY)
        .map(|(id, _, _)| id.clone())
        .collect();
    let sent = ny_messages.len();
    let to_pause = sent * 2 / 5 + 1; // more than 40 % of its sends
    for (n, id) in ny_messages.iter().enumerate() {
        if n == 0 {
            pool.report(id, "failed", Some("30007")).await;
        } else if n >= to_pause {
            pool.report(id, "delivered", None).await;
        }
    }
    let ny = pool.warmup(NY).await;
    assert_eq!(ny["state"], "Needs Attention", "{ny}");
    assert!(ny["warning"].as_str().unwrap().contains("filter"), "{ny}");
    let choice = pool
        .select(json!({"recipientPhoneNumber": "+12125559999"}))
        .await;
    assert_ne!(choice["number"], NY, "{choice}");
    let listed_ny = choice["eligibleNumbers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["number"] == NY)
        .expect("the New York number is listed");
    assert_eq!(listed_ny["selectionReason"], "FallbackDefault", "{choice}");
    assert_eq!(listed_ny["healthStatus"], "Needs Attention");

    // More of them filtered: past the pause threshold the number is paused, by itself,
    // with the reason, and leaves the rotation.
    for id in &ny_messages[1..to_pause] {
        pool.report(id, "failed", Some("30007")).await;
    }
    let choice = pool
        .select(json!({"recipientPhoneNumber": "+12125559998"}))
        .await;
    let listed_ny = choice["eligibleNumbers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["number"] == NY)
        .expect("the paused number is still listed");
    assert_eq!(listed_ny["canSend"], false, "{choice}");
    assert_eq!(listed_ny["healthStatus"], "Paused");
    let (_, number) = pool
        .app
        .get(&format!("/api/v1/phone-numbers/{}", pool.ids[NY]))
        .await;
    assert_eq!(number["paused"], true, "{number}");
    assert_eq!(number["holdAutomatic"], true, "{number}");
    assert!(
        number["holdReason"].as_str().unwrap().contains("filter"),
        "{number}"
    );
    // The health check's pause is told: its health changed, and it is paused.
    let told: Vec<_> = common::event_log::EventLog::new(&pool.app)
        .all(&pool.app)
        .await
        .into_iter()
        .filter(|e| e.resource_id == pool.ids[NY])
        .collect();
    let kinds: Vec<&str> = told.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(kinds, ["number.health_changed", "number.paused"]);
    assert_eq!(
        told[1].data, number,
        "the event shows the number as the API does"
    );

    pool.add_leads(&phones("212", 400, 2)).await;
    let sends = pool.wait_for_sends(19).await;
    assert!(
        sends[17..].iter().all(|(_, _, from)| from != NY),
        "{sends:?}"
    );
    pool.app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pool_on_sqlite() {
    pool_ramps_sticks_and_sheds_a_filtered_number(leadline_store::BackendKind::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pool_on_postgres() {
    pool_ramps_sticks_and_sheds_a_filtered_number(leadline_store::BackendKind::Postgres).await;
}
