//! What the test asks of the nodes, all through HTTP: the setup (pool settings, two
//! `http` channels to the sink, numbers, the agent's script, a campaign and its leads,
//! the LeadScout contacts), the burst of openings while the campaign starts, and the
//! leads' replies.

use chrono::{Timelike, Utc};
use futures::StreamExt;
use leadline_server::testing::CountingSink;
use serde_json::{Value, json};

use super::cluster::Cluster;
use super::{AGENT_LEADS, CAMPAIGN_LEADS, DAY_ONE_CAP, NUMBERS, QUESTION, SCOUT_LEADS, SECRET};

/// What the setup created.
pub struct Setup {
    /// The channel the pool serves: the campaign and the first LeadScout openings.
    pub pool_channel: String,
    /// A channel no pool number serves: the openings the agent then answers.
    pub agent_channel: String,
    pub campaign: String,
    pub numbers: Vec<String>,
}

fn campaign_phone(n: usize) -> String {
    format!("+1415555{n:04}")
}

fn scout_phone(n: usize) -> String {
    format!("+1415555{:04}", 1000 + n)
}

fn agent_phone(n: usize) -> String {
    format!("+1415555{:04}", 2000 + n)
}

/// A fixed-offset zone where it is now between 12:00 and 13:00: inside the federal
/// 8:00–21:00 window with hours to spare, and far from its midnight (when the pool's
/// daily counters reset).
pub fn zone_at_midday() -> String {
    let offset = 12 - i32::try_from(Utc::now().hour()).unwrap();
    match offset {
        0 => "Etc/GMT".to_owned(),
        // POSIX signs: Etc/GMT-3 is three hours ahead of UTC.
        east if east > 0 => format!("Etc/GMT-{east}"),
        west => format!("Etc/GMT+{}", -west),
    }
}

async fn created(cluster: &Cluster, path: &str, body: Value) -> String {
    let (status, answer) = cluster.post(0, path, &body).await;
    assert_eq!(status, 201, "POST {path} {body}: {answer}");
    answer["id"].as_str().unwrap().to_owned()
}

pub async fn setup(cluster: &Cluster, sink: &CountingSink, zone: &str) -> Setup {
    let (status, settings) = cluster
        .put(
            0,
            "/api/v1/settings/number-pool",
            &json!({"warmupRamp": [DAY_ONE_CAP, 2 * DAY_ONE_CAP], "steadyDailyCap": 2 * DAY_ONE_CAP,
                    "sendsPerSecond": 1000, "timeZone": zone}),
        )
        .await;
    assert_eq!(status, 200, "{settings}");
    let channel = |name: &str| {
        json!({"name": name, "messageProviderType": "SMS", "provider": "http", "sender": "+16285550199",
               "settings": {"url": sink.url}, "secrets": {"signingSecret": SECRET}})
    };
    let pool_channel = created(cluster, "/api/v1/channels", channel("Pool")).await;
    let agent_channel = created(cluster, "/api/v1/channels", channel("Agent")).await;
    created(
        cluster,
        "/api/v1/templates",
        json!({"name": "welcome", "language": "en", "body": "Hi {{1}}!", "channelType": "SMS"}),
    )
    .await;
    let mut numbers = Vec::new();
    for n in 0..NUMBERS {
        let body = json!({"number": format!("+1628555010{n}"), "label": format!("Pool {n}"),
                          "channelId": pool_channel, "capabilities": {"sms": true, "call": false}});
        numbers.push(created(cluster, "/api/v1/phone-numbers", body).await);
    }
    created(
        cluster,
        "/api/v1/custom-attributes",
        json!({"key": "budget", "label": "Budget", "kind": "OPEN"}),
    )
    .await;
    let script = json!({"questions": [{"attribute": "budget", "text": QUESTION}]});
    created(
        cluster,
        "/api/v1/agent-scripts",
        json!({"name": "Budget", "script": script}),
    )
    .await;
    let (status, agent) = cluster
        .put(
            0,
            "/api/v1/settings/agent",
            &json!({"minReplyDelaySeconds": 0, "respectQuietHours": false}),
        )
        .await;
    assert_eq!(status, 200, "{agent}");
    let campaign = created(
        cluster,
        "/api/v1/campaigns",
        json!({"name": "Two nodes", "channelId": pool_channel, "defaultTimeZone": "UTC",
               "maxAttempts": 1, "openingTemplate": "welcome", "openingTemplateParams": ["{{firstName}}"],
               "concurrency": 100}),
    )
    .await;
    let leads: Vec<Value> = (0..CAMPAIGN_LEADS)
        .map(|n| {
            json!({"phoneNumber": campaign_phone(n), "externalId": format!("lead-{n}"),
                        "timeZoneId": zone, "callData": {"firstName": "Lee"}})
        })
        .collect();
    let (status, added) = cluster
        .post(
            0,
            &format!("/api/v1/campaigns/{campaign}/leads:bulk"),
            &json!({ "leads": leads }),
        )
        .await;
    assert_eq!(status, 200, "{added}");
    assert_eq!(added["accepted"], CAMPAIGN_LEADS, "{added}");
    // The LeadScout contacts, half through each node.
    let phones: Vec<String> = (0..SCOUT_LEADS)
        .map(scout_phone)
        .chain((0..AGENT_LEADS).map(agent_phone))
        .collect();
    let path = format!(
        "/bridge/api/v1/workspaces/{}/contacts/partial",
        cluster.workspace_id
    );
    futures::stream::iter(phones.iter().enumerate())
        .for_each_concurrent(16, |(n, phone)| {
            let path = &path;
            async move {
                let body = json!({"cellphone": phone, "firstName": "Ana"});
                let (status, contact) = cluster.post(n, path, &body).await;
                assert_eq!(status, 200, "{contact}");
            }
        })
        .await;
    Setup {
        pool_channel,
        agent_channel,
        campaign,
        numbers,
    }
}

/// A LeadScout opening of `phone` on `channel`.
fn opening(phone: &str, channel: &str) -> Value {
    json!({"contact": {"identifier": phone, "identifierType": "CELLPHONE",
                       "messageProviderType": "SMS", "providerChannelId": channel},
           "template": {"name": "welcome", "orderedParams": ["Ana"]}})
}

/// Activates the campaign and, at the same time, sends the LeadScout openings: those of
/// the pool channel alternately to each node, those of the agent channel to both nodes
/// at once. Returns the answers of the pool channel's openings (status and body) and,
/// per agent lead, the statuses both nodes gave.
pub async fn burst(cluster: &Cluster, setup: &Setup) -> (Vec<(u16, Value)>, Vec<Vec<u16>>) {
    let path = format!(
        "/bridge/api/v1/workspaces/{}/leadscout/outbound",
        cluster.workspace_id
    );
    let activate = async {
        let activate = format!("/api/v1/campaigns/{}/activate", setup.campaign);
        let (status, campaign) = cluster.post(1, &activate, &json!({})).await;
        assert_eq!(status, 200, "{campaign}");
    };
    let scouts = futures::stream::iter(0..SCOUT_LEADS)
        .map(|n| {
            let body = opening(&scout_phone(n), &setup.pool_channel);
            let path = &path;
            async move { cluster.post(n, path, &body).await }
        })
        .buffered(16)
        .collect::<Vec<_>>();
    let agents = futures::stream::iter(0..AGENT_LEADS)
        .map(|n| {
            let body = opening(&agent_phone(n), &setup.agent_channel);
            let path = &path;
            async move {
                let (first, second) =
                    tokio::join!(cluster.post(0, path, &body), cluster.post(1, path, &body));
                vec![first.0, second.0]
            }
        })
        .buffered(8)
        .collect::<Vec<_>>();
    let ((), scouts, agents) = tokio::join!(activate, scouts, agents);
    (scouts, agents)
}

/// Each agent lead's reply, delivered to both nodes at once with the same provider id.
pub async fn replies(cluster: &Cluster, setup: &Setup) {
    futures::stream::iter(0..AGENT_LEADS)
        .for_each_concurrent(8, |n| async move {
            let body = json!({"type": "inbound", "from": agent_phone(n), "text": "Hi there",
                              "id": format!("inbound-{n}")});
            let channel = &setup.agent_channel;
            let (first, second) = tokio::join!(
                cluster.webhook(0, channel, SECRET, &body),
                cluster.webhook(1, channel, SECRET, &body)
            );
            assert_eq!((first, second), (200, 200), "the reply of lead {n}");
        })
        .await;
}
