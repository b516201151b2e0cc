//! The server through a database outage (PostgreSQL): under a steady load of advisor
//! replies, the connection to the database is cut until the server has shown it
//! noticed, and restored. While it is cut, requests are answered 503 with
//! `Retry-After` (never 500) and `/readyz` says the database is unreachable; no answer
//! shows how the database is reached. Afterwards the server is ready again, and every
//! send that was accepted reaches the provider exactly once and ends `sent`.
//!
//! Nothing here sleeps: the clients send their next request when the last is answered
//! (the readiness probe after each answered reply), and every wait is for an answer the
//! clients got or a send the provider saw, under a deadline.

mod common;
#[path = "database_outage/load.rs"]
mod load;

use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use common::TestApp;
use common::fault_proxy::FaultProxy;
use common::waits::within;
use leadline_core::{MessageId, SystemClock, WorkspaceId};
use leadline_server::dispatcher::DispatcherOptions;
use leadline_server::serve::ServerOptions;
use leadline_server::testing::CountingSink;
use leadline_store::BackendKind;
use leadline_store::testing::TestDatabase;
use load::{AFTER, Answer, BEFORE, DURING, Load};
use serde_json::json;
use sqlx::ConnectOptions;
use sqlx::postgres::PgConnectOptions;

/// How long the server may take to notice the cut, to be ready after it, to accept a
/// reply, and to send what it accepted.
const NOTICE: Duration = Duration::from_secs(15);
const SETTLE: Duration = Duration::from_secs(25);
/// Conversations the load replies in, and clients sending at once.
const CONVERSATIONS: usize = 6;
const CLIENTS: usize = 4;
/// Replies accepted before the cut and after it: the load's length, counted in what
/// the server did rather than in time.
const ACCEPTED_PER_PHASE: usize = 50;

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

    // The load: advisor replies from a few clients at once, each sending its next as
    // soon as the last is answered, and a readiness probe after each answered reply.
    let load = Arc::new(Load::default());
    let mut clients = Vec::new();
    for client in 0..CLIENTS {
        let (app, load, advisor) = (app.clone(), load.clone(), advisor.clone());
        let conversations = conversations.clone();
        clients.push(tokio::spawn(async move {
            let mut n = client;
            while !load.stop.is_cancelled() {
                let path = format!(
                    "/api/v1/conversations/{}/messages",
                    conversations[n % conversations.len()]
                );
                let body = json!({"userId": advisor, "text": format!("reply {n}")});
                load.send(app.request(reqwest::Method::POST, &path).json(&body), &path)
                    .await;
                load.sent.fetch_add(1, Ordering::SeqCst);
                n += CLIENTS;
            }
        }));
    }
    {
        let (app, load) = (app.clone(), load.clone());
        clients.push(tokio::spawn(async move {
            let mut replies = 0;
            while let Some(answered) = load.next_reply(replies).await {
                replies = answered;
                load.send(app.anonymous(reqwest::Method::GET, "/readyz"), "/readyz")
                    .await;
            }
        }));
    }

    load.until_replies_are_accepted_in(BEFORE, ACCEPTED_PER_PHASE, NOTICE)
        .await;
    load.phase.store(DURING, Ordering::SeqCst);
    proxy.cut();
    // Cut until the server shows it noticed, to every client: as many replies refused
    // as there are clients, and /readyz unreachable, all asked and answered during the
    // cut.
    load.until("the server notices the cut", NOTICE, |answers| {
        let refused = |probe: bool| {
            answers
                .iter()
                .filter(|a| a.during_the_cut() && a.status == 503 && (a.path == "/readyz") == probe)
                .count()
        };
        refused(false) >= CLIENTS && refused(true) >= 1
    })
    .await;
    proxy.restore();
    load.phase.store(AFTER, Ordering::SeqCst);
    // Ready again: the pool reconnects on its next use.
    load.until("/readyz is ready after the cut", NOTICE, |answers| {
        answers
            .iter()
            .any(|a| a.path == "/readyz" && a.phases.0 == AFTER && a.status == 200)
    })
    .await;
    load.until_replies_are_accepted_in(AFTER, ACCEPTED_PER_PHASE, NOTICE)
        .await;
    load.stop.cancel();
    for client in clients {
        client.await.expect("a client ran to the end");
    }
    let Ok(mut app) = Arc::try_unwrap(app) else {
        panic!("the clients still hold the app");
    };

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
    for ready in probes.iter().filter(|a| a.status == 200) {
        assert_eq!(
            ready.json(),
            json!({"status": "ready", "checks": {"database": "ok"}})
        );
    }

    // Every accepted send reaches the provider exactly once and ends `sent`.
    accepted.extend(replies.iter().filter(|a| a.status == 202).map(|a| {
        a.json()["id"]
            .as_str()
            .expect("an accepted reply has an id")
            .to_owned()
    }));
    within(
        SETTLE,
        "every accepted send reaches the provider",
        sink.until(|sink| {
            sink.unique() >= accepted.len() && accepted.iter().all(|id| sink.count(id) > 0)
        }),
    )
    .await;
    // Stopped, the server has recorded the outcome of every send it made.
    app.stop_server().await;
    let workspace: WorkspaceId = app.workspace_id.parse().unwrap();
    for id in &accepted {
        let message = app
            .store
            .message(workspace, MessageId::from_str(id).unwrap())
            .await
            .unwrap()
            .expect("an accepted message is stored");
        assert_eq!(message.status.as_str(), "sent", "message {id}");
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

    app.stop().await;
}
