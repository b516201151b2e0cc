//! The server through a database outage (PostgreSQL): under a steady load of advisor
//! replies, the connection to the database is cut for five seconds and restored. While
//! it is cut, requests are answered 503 with `Retry-After` (never 500) and `/readyz`
//! says the database is unreachable; no answer shows how the database is reached.
//! Afterwards the server is ready again, and every send that was accepted reaches the
//! provider exactly once and ends `sent`.

mod common;

use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::TestApp;
use common::fault_proxy::FaultProxy;
use leadline_core::{MessageId, SystemClock, WorkspaceId};
use leadline_server::dispatcher::DispatcherOptions;
use leadline_server::serve::ServerOptions;
use leadline_server::testing::CountingSink;
use leadline_store::BackendKind;
use leadline_store::testing::TestDatabase;
use serde_json::{Value, json};
use sqlx::ConnectOptions;
use sqlx::postgres::PgConnectOptions;

/// How long the database stays cut.
const CUT: Duration = Duration::from_secs(5);
/// Conversations the load replies in, and clients sending at once.
const CONVERSATIONS: usize = 6;
const CLIENTS: usize = 4;

const BEFORE: u8 = 0;
const DURING: u8 = 1;
const AFTER: u8 = 2;

/// One answer the server gave, and the phase of the outage around it.
struct Answer {
    path: String,
    /// The phase when the request was sent and when it was answered.
    phases: (u8, u8),
    status: u16,
    retry_after: Option<String>,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    fn during_the_cut(&self) -> bool {
        self.phases == (DURING, DURING)
    }
}

/// Everything the clients saw, and whether they should keep going.
#[derive(Default)]
struct Load {
    phase: AtomicU8,
    stop: AtomicBool,
    sent: AtomicUsize,
    answers: Mutex<Vec<Answer>>,
}

impl Load {
    async fn send(&self, request: reqwest::RequestBuilder, path: &str) {
        let before = self.phase.load(Ordering::SeqCst);
        let response = request
            .timeout(Duration::from_secs(15))
            .send()
            .await
            .unwrap_or_else(|error| panic!("{path} got no answer: {error}"));
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response.text().await.expect("a body");
        let answer = Answer {
            path: path.to_owned(),
            phases: (before, self.phase.load(Ordering::SeqCst)),
            status,
            retry_after,
            body,
        };
        self.answers.lock().unwrap().push(answer);
    }

    /// Waits (up to `limit`) until a reply sent in `phase` was accepted.
    async fn until_a_reply_is_accepted_in(&self, phase: u8, limit: Duration) {
        let started = Instant::now();
        loop {
            let accepted = self
                .answers
                .lock()
                .unwrap()
                .iter()
                .any(|a| a.path != "/readyz" && a.phases.0 == phase && a.status == 202);
            if accepted {
                return;
            }
            assert!(
                started.elapsed() < limit,
                "no reply sent in phase {phase} was accepted within {limit:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// The address the database's URL names, resolved.
async fn database_address(url: &str) -> SocketAddr {
    let options = PgConnectOptions::from_str(url).expect("a PostgreSQL URL");
    tokio::net::lookup_host((options.get_host(), options.get_port()))
        .await
        .expect("the database's host resolves")
        .next()
        .expect("an address")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_is_answered_503_and_loses_no_send() {
    let Some(database) = TestDatabase::create(BackendKind::Postgres).await else {
        return;
    };
    let direct_url = database.url.clone();
    let upstream = database_address(&direct_url).await;
    let proxy = FaultProxy::start(upstream).await;
    let proxied_url = PgConnectOptions::from_str(&direct_url)
        .unwrap()
        .host("127.0.0.1")
        .port(proxy.address.port())
        .to_url_lossy()
        .to_string();
    let sink = CountingSink::start(Duration::ZERO).await;
    let options = ServerOptions {
        // Sends abandoned by the cut come back soon after it.
        dispatcher: DispatcherOptions {
            lease: Duration::from_secs(3),
            ..DispatcherOptions::default()
        },
        ..ServerOptions::default()
    };
    let app =
        Arc::new(TestApp::start(database, &proxied_url, Arc::new(SystemClock), options).await);

    // A channel of the `http` provider to the sink, an advisor, and conversations opened
    // through LeadScout.
    let advisor = app.create_user("advisor@example.com").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let channel = app
        .create_channel(json!({
            "name": "Sink", "messageProviderType": "SMS", "provider": "http",
            "sender": "+14155550100", "settings": {"url": sink.url},
            "secrets": {"signingSecret": "outage-test-secret"}
        }))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.create_template(json!({
        "name": "welcome", "language": "en", "body": "Hi {{1}}, this is {{2}}.", "channelType": "SMS"
    }))
    .await;
    // The load runs near the default per-key rate; this test is about outages, not limits.
    let (status, limits) = common::read(
        app.request(reqwest::Method::PUT, "/api/v1/settings/rate-limits")
            .json(&json!({"requestsPerSecond": 10_000, "burst": 20_000}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{limits}");
    let mut accepted: Vec<String> = Vec::new();
    let mut conversations = Vec::new();
    for n in 0..CONVERSATIONS {
        let cellphone = format!("+1415555{n:04}");
        let (status, contact) = app.upsert_contact(json!({"cellphone": cellphone})).await;
        assert_eq!(status, 200, "{contact}");
        let (status, opened) = app
            .post(
                &app.leadscout_path(),
                TestApp::leadscout_body(&cellphone, &channel, &["Ana", "Leo"]),
            )
            .await;
        assert_eq!(status, 200, "{opened}");
        conversations.push(opened["conversation"]["id"].as_str().unwrap().to_owned());
        accepted.push(
            opened["templateSent"]["messageId"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }

    // The load: advisor replies from a few clients at once, and a readiness probe.
    let load = Arc::new(Load::default());
    let mut clients = Vec::new();
    for client in 0..CLIENTS {
        let (app, load, advisor) = (app.clone(), load.clone(), advisor.clone());
        let conversations = conversations.clone();
        clients.push(tokio::spawn(async move {
            let mut n = client;
            while !load.stop.load(Ordering::SeqCst) {
                let path = format!(
                    "/api/v1/conversations/{}/messages",
                    conversations[n % conversations.len()]
                );
                let body = json!({"userId": advisor, "text": format!("reply {n}")});
                load.send(app.request(reqwest::Method::POST, &path).json(&body), &path)
                    .await;
                load.sent.fetch_add(1, Ordering::SeqCst);
                n += CLIENTS;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }));
    }
    {
        let (app, load) = (app.clone(), load.clone());
        clients.push(tokio::spawn(async move {
            while !load.stop.load(Ordering::SeqCst) {
                load.send(app.anonymous(reqwest::Method::GET, "/readyz"), "/readyz")
                    .await;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }));
    }

    load.until_a_reply_is_accepted_in(BEFORE, Duration::from_secs(15))
        .await;
    load.phase.store(DURING, Ordering::SeqCst);
    proxy.cut();
    tokio::time::sleep(CUT).await;
    proxy.restore();
    load.phase.store(AFTER, Ordering::SeqCst);
    // Ready again: the pool reconnects on its next use.
    let ready_again = Instant::now();
    loop {
        let (status, ready) = common::read(
            app.anonymous(reqwest::Method::GET, "/readyz")
                .send()
                .await
                .unwrap(),
        )
        .await;
        if status == 200 {
            assert_eq!(
                ready,
                json!({"status": "ready", "checks": {"database": "ok"}})
            );
            break;
        }
        assert!(
            ready_again.elapsed() < Duration::from_secs(15),
            "/readyz still answers {status} {ready} after the database came back"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    load.until_a_reply_is_accepted_in(AFTER, Duration::from_secs(15))
        .await;
    load.stop.store(true, Ordering::SeqCst);
    for client in clients {
        client.await.expect("a client ran to the end");
    }

    let answers = std::mem::take(&mut *load.answers.lock().unwrap());
    let secrets = [
        direct_url.clone(),
        proxied_url.clone(),
        upstream.to_string(),
        proxy.address.to_string(),
        "postgres://".to_owned(),
    ];
    for answer in &answers {
        let ok = (200..300).contains(&answer.status)
            || (answer.status == 503 && answer.retry_after.is_some());
        assert!(
            ok,
            "{} answered {} (Retry-After {:?}): {}",
            answer.path, answer.status, answer.retry_after, answer.body
        );
        for secret in &secrets {
            assert!(
                !answer.body.contains(secret.as_str()),
                "{} answered with '{secret}' in its body: {}",
                answer.path,
                answer.body
            );
        }
    }
    let replies: Vec<&Answer> = answers.iter().filter(|a| a.path != "/readyz").collect();
    let probes: Vec<&Answer> = answers.iter().filter(|a| a.path == "/readyz").collect();
    assert!(
        replies
            .iter()
            .any(|a| a.phases.0 == BEFORE && a.status == 202)
            && replies
                .iter()
                .any(|a| a.phases.0 == AFTER && a.status == 202),
        "replies were accepted before and after the cut"
    );
    let refused = replies
        .iter()
        .find(|a| a.during_the_cut() && a.status == 503)
        .expect("a reply sent during the cut was refused with 503");
    assert_eq!(
        refused.json()["type"],
        "https://leadline.dev/problems/database-unreachable"
    );
    assert!(
        refused.json()["detail"]
            .as_str()
            .is_some_and(|d| d.contains("database is unreachable") && d.contains("retry")),
        "{}",
        refused.body
    );
    assert!(
        probes.iter().any(|a| a.during_the_cut()
            && a.status == 503
            && a.json() == json!({"status": "unavailable", "checks": {"database": "unreachable"}})),
        "/readyz said the database was unreachable during the cut"
    );
    assert!(
        probes
            .iter()
            .any(|a| a.phases.0 == AFTER && a.status == 200),
        "/readyz was ready again after the cut"
    );

    // Every accepted send reaches the provider exactly once and ends `sent`.
    accepted.extend(replies.iter().filter(|a| a.status == 202).map(|a| {
        a.json()["id"]
            .as_str()
            .expect("an accepted reply has an id")
            .to_owned()
    }));
    let workspace: WorkspaceId = app.workspace_id.parse().unwrap();
    let settled = Instant::now();
    let mut pending = accepted.clone();
    while !pending.is_empty() {
        let mut still = Vec::new();
        for id in pending {
            let message = app
                .store
                .message(workspace, MessageId::from_str(&id).unwrap())
                .await
                .unwrap()
                .expect("an accepted message is stored");
            if sink.count(&id) == 0 || message.status.as_str() != "sent" {
                still.push(id);
            }
        }
        pending = still;
        assert!(
            settled.elapsed() < Duration::from_secs(25),
            "{} accepted sends never ended sent at the provider, e.g. {:?}",
            pending.len(),
            pending.first()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let repeated: Vec<(&String, u32)> = accepted
        .iter()
        .map(|id| (id, sink.count(id)))
        .filter(|(_, count)| *count != 1)
        .collect();
    assert!(
        repeated.is_empty(),
        "{} of {} accepted sends reached the provider more than once: {repeated:?}",
        repeated.len(),
        accepted.len()
    );
    eprintln!(
        "{} requests ({} replies accepted, {} refused with 503), {} sends checked",
        load.sent.load(Ordering::SeqCst),
        replies.iter().filter(|a| a.status == 202).count(),
        replies.iter().filter(|a| a.status == 503).count(),
        accepted.len()
    );

    match Arc::try_unwrap(app) {
        Ok(app) => app.stop().await,
        Err(_) => panic!("the clients still hold the app"),
    }
}
