//! Two `leadline serve` processes on one PostgreSQL database share the outbox, the
//! campaign scheduler, the number pool's daily caps and the agent's queue, and do
//! nothing twice.
//!
//! The nodes are real processes (the built `leadline` binary), started together on an
//! empty database: exactly one creates the first workspace. Every send goes through
//! the `http` provider to a [`CountingSink`], which counts each `Idempotency-Key` (the
//! message id). Through HTTP, to both nodes:
//! - a campaign of [`CAMPAIGN_LEADS`] leads, every one inside its calling window now,
//!   sends from a pool of [`NUMBERS`] numbers on their first warm-up day, whose caps
//!   are far below the demand, while [`SCOUT_LEADS`] LeadScout openings on the same
//!   channel arrive at both nodes at once;
//! - [`AGENT_LEADS`] LeadScout openings on a channel outside the pool, each sent to
//!   both nodes at once (exactly one may open the conversation), then each lead's reply
//!   delivered to both nodes (a provider retrying its webhook), which the flow agent
//!   answers with its one question.
//!
//! Then: every message the database holds reached the gateway exactly once and is
//! recorded as sent; no lead was attempted twice; every number sent exactly its cap and
//! no more; each reply was filed once and answered once.
//!
//! The waits look at the database each time a node logs a line or a send reaches the
//! gateway (the events of the nodes' work), and the nodes are stopped before the
//! gateway's counts are read, so no late send can come after them.

mod common;

#[path = "two_nodes/cluster.rs"]
mod cluster;
#[path = "two_nodes/ledger.rs"]
mod ledger;
#[path = "two_nodes/workload.rs"]
mod workload;

use std::collections::HashMap;
use std::time::Duration;

use cluster::Cluster;
use leadline_server::testing::CountingSink;
use leadline_store::BackendKind;
use leadline_store::testing::TestDatabase;
use ledger::Ledger;
use serde_json::Value;
use workload::{burst, replies, setup, zone_at_midday};

const CAMPAIGN_LEADS: usize = 300;
const SCOUT_LEADS: usize = 200;
const AGENT_LEADS: usize = 60;
const NUMBERS: usize = 8;
/// Each number's SMS cap on its first day: NUMBERS × DAY_ONE_CAP is well below the
/// campaign's and LeadScout's demand together.
const DAY_ONE_CAP: u32 = 30;
const SECRET: &str = "two-nodes-signing-secret";
const QUESTION: &str = "What budget do you have in mind?";
/// The longest each phase may take to settle.
const SETTLE: Duration = Duration::from_secs(40);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_share_the_work_and_do_nothing_twice() {
    // `None` when PostgreSQL cannot be reached here; with LEADLINE_REQUIRE_POSTGRES=1
    // (as CI sets) `create` panics instead, so the test cannot pass by skipping.
    let Some(database) = TestDatabase::create(BackendKind::Postgres).await else {
        return;
    };
    // The gateway answers each send after 1.5 s, longer than the nodes' 1 s leases.
    let sink = CountingSink::start(Duration::from_millis(1500)).await;
    let cluster = Cluster::start(&database.url, &database.key_file, 2).await;
    let ledger = Ledger::open(&database.url, database.store_options()).await;
    let zone = zone_at_midday();
    let setup = setup(&cluster, &sink, &zone).await;

    // Campaign, pool and LeadScout openings at once, on both nodes.
    let (scouts, agent_openings) = burst(&cluster, &setup).await;
    let opened: Vec<&Value> = scouts
        .iter()
        .filter(|(status, _)| *status == 200)
        .map(|(_, body)| body)
        .collect();
    for (status, body) in &scouts {
        assert!(
            *status == 200
                || (*status == 409
                    && body["detail"]
                        .as_str()
                        .unwrap_or_default()
                        .contains("no phone number")),
            "a LeadScout opening on the pool channel is sent, or refused because every number is at its cap: {status} {body}"
        );
    }
    for (n, statuses) in agent_openings.iter().enumerate() {
        let mut sorted = statuses.clone();
        sorted.sort_unstable();
        assert_eq!(
            sorted,
            [200, 409],
            "lead {n}: the same opening sent to both nodes opens one conversation"
        );
    }
    let mut wakes = cluster.wakes().on(sink.arrivals());
    wakes
        .until("the campaign and the outbox settle", SETTLE, async || {
            ledger.settled(&setup.campaign, &sink).await
        })
        .await;

    // The agent's replies, each delivered to both nodes.
    replies(&cluster, &setup).await;
    wakes
        .until("every reply is answered and sent", SETTLE, async || {
            ledger
                .answered(&setup.agent_channel, AGENT_LEADS, &sink)
                .await
        })
        .await;

    // What the nodes say about the pool's numbers and their shares of the work, asked
    // before they stop.
    let mut warmups = Vec::new();
    for (n, id) in setup.numbers.iter().enumerate() {
        let (status, warmup) = cluster
            .get(n, &format!("/api/v1/phone-numbers/{id}/warmup"))
            .await;
        assert_eq!(status, 200, "{warmup}");
        warmups.push((id, warmup));
    }
    let mut shares = Vec::new();
    for node in 0..cluster.nodes.len() {
        let mut counters = Vec::new();
        for counter in [
            "leadline_number_reservations_total",
            "leadline_dispatch_outcomes_total",
            "leadline_agent_passes_total",
        ] {
            counters.push(format!(
                "{counter} {}",
                cluster.counter(node, counter).await
            ));
        }
        shares.push(format!("node {node}: {}", counters.join(", ")));
    }
    // A send leased twice would reach the gateway a moment after the first: the nodes
    // finish what they have in flight and exit before the gateway's counts are read.
    drop(wakes);
    cluster.stop().await;

    // Exactly once at the gateway.
    let outbound = ledger.outbound().await;
    let counts = sink.counts();
    let mut repeated: Vec<(&String, &u32)> = counts.iter().filter(|(_, n)| **n > 1).collect();
    repeated.sort();
    let unknown: Vec<&String> = counts
        .keys()
        .filter(|key| !outbound.iter().any(|m| &m.id == *key))
        .collect();
    assert!(
        repeated.is_empty() && unknown.is_empty(),
        "{} messages, {} sends at the gateway ({} keys); {} messages sent twice or more, e.g. {:?}; {} keys are no message, e.g. {:?}",
        outbound.len(),
        sink.total(),
        sink.unique(),
        repeated.len(),
        &repeated[..repeated.len().min(10)],
        unknown.len(),
        &unknown[..unknown.len().min(10)]
    );
    for message in &outbound {
        assert_eq!(
            (sink.count(&message.id), message.status.as_str()),
            (1, "sent"),
            "message {message:?} reaches the gateway once and is recorded as sent"
        );
    }
    assert_eq!(sink.total(), outbound.len());

    // No lead attempted twice, and the pool's caps decided who was attempted.
    let leads = ledger.leads(&setup.campaign).await;
    assert_eq!(leads.len(), CAMPAIGN_LEADS);
    let mut sends_to: HashMap<&str, usize> = HashMap::new();
    for message in outbound
        .iter()
        .filter(|m| m.channel_id == setup.pool_channel)
    {
        *sends_to.entry(message.contact_id.as_str()).or_default() += 1;
    }
    for lead in &leads {
        let sends = sends_to.get(lead.contact_id.as_str()).copied().unwrap_or(0);
        let decided = (lead.attempts, sends, lead.last_decision.as_deref());
        if lead.attempts == 0 {
            assert_eq!(decided, (0, 0, Some("deferred")), "lead {}", lead.id);
            assert!(
                lead.reason().contains("no sending number"),
                "lead {} waits for a number: {}",
                lead.id,
                lead.reason()
            );
        } else {
            assert_eq!(
                decided,
                (1, 1, Some("allowed")),
                "lead {}: attempted once, with one send",
                lead.id
            );
        }
    }
    let attempted = leads.iter().filter(|l| l.attempts == 1).count();
    let capacity = NUMBERS * DAY_ONE_CAP as usize;
    assert_eq!(
        attempted + opened.len(),
        capacity,
        "{attempted} campaign attempts and {} LeadScout openings fill the pool's {capacity} sends",
        opened.len()
    );

    // Every number at its cap and no further, whichever node asks.
    let mut from_numbers: HashMap<&str, u64> = HashMap::new();
    for message in &outbound {
        if let Some(number) = &message.from_number_id {
            *from_numbers.entry(number.as_str()).or_default() += 1;
        }
    }
    for (id, warmup) in &warmups {
        let capacity = &warmup["outboundCapacity"];
        let sent = from_numbers.get(id.as_str()).copied().unwrap_or(0);
        assert_eq!(
            (
                capacity["smsCap"].as_u64(),
                capacity["smsUsed"].as_u64(),
                sent
            ),
            (
                Some(u64::from(DAY_ONE_CAP)),
                Some(u64::from(DAY_ONE_CAP)),
                u64::from(DAY_ONE_CAP)
            ),
            "number {id}: its day-one cap, used in full, one message per unit: {capacity}"
        );
    }

    // One conversation per agent lead; each reply filed once and answered once.
    let conversations = ledger.agent_conversations(&setup.agent_channel).await;
    assert_eq!(conversations.len(), AGENT_LEADS);
    for conversation in &conversations {
        let answers = conversation
            .decisions
            .iter()
            .filter(|kind| *kind == "REPLY")
            .count();
        assert_eq!(
            (
                conversation.inbound,
                conversation.replies.as_slice(),
                answers
            ),
            (1, [QUESTION.to_owned()].as_slice(), 1),
            "conversation {}: one inbound, one answer; decisions {:?}",
            conversation.id,
            conversation.decisions
        );
    }
    for share in &shares {
        eprintln!("{share}");
    }
    eprintln!(
        "{} messages sent once each: {attempted} campaign attempts, {} LeadScout openings on the pool ({} refused at the caps), {AGENT_LEADS} openings and {AGENT_LEADS} agent replies off the pool",
        outbound.len(),
        opened.len(),
        SCOUT_LEADS - opened.len()
    );
    ledger.close().await;
}
