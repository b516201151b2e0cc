//! The AI agent under load: many leads at once, each holding a whole conversation with
//! the flow-script agent through the sandbox channel, over HTTP against an in-process
//! server, on SQLite and on PostgreSQL. Also the agent pass's own time per turn (the
//! `leadline_agent_pass_seconds` histogram, captured sample by sample), and the pure
//! flow decision alone.
//!
//!     cargo bench -p leadline-server --bench agent_conversations
//!     AGENT_CONVERSATIONS=500 AGENT_MESSAGES=10 cargo bench -p leadline-server --bench agent_conversations
//!     AGENT_WATCH=http AGENT_POLL_MS=50 cargo bench -p leadline-server --bench agent_conversations
//!
//! Each conversation is opened through LeadScout (setup, not timed). Then every lead, a
//! tokio task of its own, sends message k through `POST /api/v1/sandbox/inbound` and
//! waits until the agent's reply to it is queued (opening + k outbound messages),
//! AGENT_MESSAGES times. The flow script has AGENT_MESSAGES - 1 questions and no
//! qualification rules: message 1 gets question 1, each next message answers one and
//! gets the next, and the last answers the last question and gets the qualified message
//! and the hand-off. So every conversation must end HANDED_OFF with 1 + AGENT_MESSAGES
//! outbound and AGENT_MESSAGES inbound messages; the bench checks it over the API.
//!
//! How a lead sees its reply: by default one watcher counts every conversation's
//! messages in the database every 10 ms and wakes the leads whose reply came, which
//! costs the server nothing. With AGENT_WATCH=http each lead polls `GET
//! /api/v1/conversations/{id}/messages` instead (first after 20 ms, then every
//! AGENT_POLL_MS, default 50): 500 leads polling make thousands of requests a second,
//! which on a small machine costs far more than the agent and becomes what is measured.
//!
//! Settings that shape the figures: `minReplyDelaySeconds: 0` (the default 2 s pause
//! between two replies would otherwise be most of every exchange) and quiet hours on,
//! with the store's clock pinned to a weekday morning in the leads' time zone (a fixed
//! instant plus the real time elapsed), so the guardrail never holds a reply whenever
//! the bench runs.
//!
//! The pass time is what the runner records: the pass's wall time minus time spent
//! waiting for an LLM (none: the flow agent makes no call). The bench installs its own
//! metrics recorder to keep every sample (the server's `/metrics` summary is a rolling
//! 60 s window shared by both stores' runs), so the server's `/metrics` is empty here.
//! It is shown under load (the conversations above: the runner has up to 32 passes in
//! flight, so under saturation a pass's wall time is mostly waiting for the CPU and the
//! database, about 32 / throughput) and quiet (AGENT_QUIET conversations, default 20,
//! one message at a time after the load), which is the pass's own cost.
//!
//! PostgreSQL is taken from LEADLINE_TEST_POSTGRES_URL (default
//! postgres://postgres@127.0.0.1:5432/test) and skipped when unreachable.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use leadline_core::E164;
use leadline_core::agent::AgentAction;
use leadline_core::agent::flow::{FlowInput, FlowScript, FlowState, flow_turn};
use leadline_core::custom_attribute::{
    AttributeDefinition, AttributeKind, AttributeValue, AttributeValues,
};
use leadline_server::serve::{ServerOptions, start_with};
use leadline_store::testing::TestDatabase;
use leadline_store::{BackendKind, Store, StoreOptions};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

mod decision;
mod measure;
mod setup;
mod watcher;

use decision::*;
use measure::*;
use setup::*;
use watcher::*;

/// The histogram the agent's runner records each pass's own time in.
pub(crate) const PASS_METRIC: &str = "leadline_agent_pass_seconds";

/// The longest a lead waits for one reply before it reports the conversation stuck.
const STUCK_AFTER: Duration = Duration::from_secs(60);

/// Setup requests in flight at once.
const SETUP_CONCURRENCY: usize = 50;

#[derive(Debug, Clone, Copy)]
struct Sizes {
    conversations: usize,
    messages: usize,
    quiet: usize,
    poll: Duration,
    watch: WatchMode,
}

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() {
    metrics::set_global_recorder(PassRecorder)
        .expect("the bench's recorder is the first one installed");
    let sizes = Sizes {
        conversations: env_number("AGENT_CONVERSATIONS", 500).max(1),
        messages: env_number("AGENT_MESSAGES", 10).max(2),
        quiet: env_number("AGENT_QUIET", 20),
        poll: Duration::from_millis(env_number("AGENT_POLL_MS", 50).max(1) as u64),
        watch: match std::env::var("AGENT_WATCH").as_deref() {
            Ok("http") => WatchMode::Http,
            _ => WatchMode::Store,
        },
    };
    println!(
        "agent conversations benchmark: {} concurrent conversations x {} lead messages, flow agent \
         ({} questions, no qualification rules), sandbox SMS channel",
        sizes.conversations,
        sizes.messages,
        sizes.messages - 1
    );
    println!(
        "settings: minReplyDelaySeconds 0 (the default 2 s pause between replies would dominate), \
         maxTurns 200, quiet hours on with the clock pinned to a US weekday morning"
    );
    match sizes.watch {
        WatchMode::Store => println!(
            "replies seen by counting each conversation's messages in the database every {} ms \
             (AGENT_WATCH=http polls the messages API instead)",
            WATCH_TICK.as_millis()
        ),
        WatchMode::Http => println!(
            "replies seen by each lead polling GET /api/v1/conversations/{{id}}/messages: \
             first after 20 ms, then every {} ms (AGENT_POLL_MS)",
            sizes.poll.as_millis()
        ),
    }
    flow_decision_alone(sizes.messages);
    for kind in [BackendKind::Sqlite, BackendKind::Postgres] {
        let Some(database) = TestDatabase::create(kind).await else {
            println!("{kind:?}: skipped (database not reachable)");
            continue;
        };
        run(kind, &database.url, sizes).await;
    }
}

// ---------------------------------------------------------------------------------------
// One store's run.

/// One lead's conversation.
#[derive(Debug, Clone)]
struct Lead {
    index: usize,
    phone: String,
    conversation_id: String,
}

/// What one lead's run measured.
#[derive(Debug, Default)]
struct LeadRun {
    /// Inbound POST until the reply was visible.
    exchanges: Vec<Duration>,
    /// The inbound POST alone.
    posts: Vec<Duration>,
    polls: usize,
    failure: Option<String>,
}

fn phone_of(index: usize) -> String {
    // 415-2xx-xxxx: San Francisco numbers (Pacific time) that libphonenumber accepts.
    format!("+1415{}{:04}", 230 + index / 10_000, index % 10_000)
}

async fn run(kind: BackendKind, url: &str, sizes: Sizes) {
    let store = Store::open(url, StoreOptions::default(), Arc::new(DaytimeClock::new()))
        .await
        .expect("the store opens");
    let (workspace, key) = store
        .create_workspace("Agent load")
        .await
        .expect("a workspace");
    let server = start_with(
        store.clone(),
        "127.0.0.1:0",
        ServerOptions {
            outbound: leadline_server::testing::loopback_gateways(),
            ..ServerOptions::default()
        },
    )
    .await
    .expect("the server starts");
    let api = Api {
        client: reqwest::Client::builder()
            .pool_max_idle_per_host(sizes.conversations + 16)
            .timeout(Duration::from_secs(60))
            .build()
            .expect("a client"),
        base: format!("http://{}", server.address),
        key: key.expose().to_owned(),
    };

    let seeding = Instant::now();
    let total = sizes.conversations + sizes.quiet;
    let (channel_id, leads) = set_up(&api, &workspace.id.to_string(), sizes.messages, total).await;
    while store.outbox_depth().await.expect("the outbox depth") > 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!(
        "{kind:?}: setup (attributes, script, {total} contacts, {total} LeadScout openings sent) in {:.1} s",
        seeding.elapsed().as_secs_f64()
    );
    let (loaded, quiet) = leads.split_at(sizes.conversations);

    // The timed part: every lead at once.
    let watcher = match sizes.watch {
        WatchMode::Store => Some(Watcher::start(kind, url, &leads).await),
        WatchMode::Http => None,
    };
    let wait_for = |lead: &Lead, poll: Duration| match &watcher {
        Some(watcher) => watcher.wait_for(lead),
        None => Wait::Poll(poll),
    };
    take_pass_samples();
    let cpu_before = process_cpu();
    let started = Instant::now();
    let tasks: Vec<_> = loaded
        .iter()
        .cloned()
        .map(|lead| {
            let api = api.clone();
            let channel_id = channel_id.clone();
            let wait = wait_for(&lead, sizes.poll);
            tokio::spawn(
                async move { converse(&api, &channel_id, &lead, sizes.messages, wait).await },
            )
        })
        .collect();
    let mut runs = Vec::with_capacity(tasks.len());
    for task in tasks {
        runs.push(task.await.expect("a lead's task"));
    }
    let elapsed = started.elapsed();
    let cpu = process_cpu()
        .zip(cpu_before)
        .map(|(after, before)| after - before);
    let load_samples = take_pass_samples();

    let exchanges: usize = runs.iter().map(|r| r.exchanges.len()).sum();
    let polls: usize = runs.iter().map(|r| r.polls).sum();
    let verdict = if elapsed < Duration::from_secs(30) {
        "under"
    } else {
        "OVER"
    };
    println!(
        "{kind:?}: {} conversations x {} messages: {exchanges} exchanges in {:.2} s ({verdict} the 30 s bar) = {:.0} replies/s",
        sizes.conversations,
        sizes.messages,
        elapsed.as_secs_f64(),
        exchanges as f64 / elapsed.as_secs_f64()
    );
    let mut latencies: Vec<Duration> = runs
        .iter()
        .flat_map(|r| r.exchanges.iter().copied())
        .collect();
    let mut posts: Vec<Duration> = runs.iter().flat_map(|r| r.posts.iter().copied()).collect();
    if !latencies.is_empty() {
        println!(
            "{kind:?}: exchange latency (inbound POST to reply seen queued): {}",
            spread(&mut latencies)
        );
        println!("{kind:?}: inbound POST alone: {}", spread(&mut posts));
    }
    if let Some(cpu) = cpu {
        println!(
            "{kind:?}: process CPU in the timed part: {:.1} s on {} core(s) = {:.2} ms per exchange \
             (server, agent, dispatcher and the bench's own client together)",
            cpu.as_secs_f64(),
            std::thread::available_parallelism().map_or(0, |n| n.get()),
            ms(cpu) / exchanges.max(1) as f64
        );
    }
    if sizes.watch == WatchMode::Http {
        println!(
            "{kind:?}: {polls} message polls ({:.0}/s, {:.1} per exchange)",
            polls as f64 / elapsed.as_secs_f64(),
            polls as f64 / exchanges.max(1) as f64
        );
    }
    print_pass_times(kind, "under load", &load_samples);
    let mut failures: Vec<String> = runs.iter().filter_map(|r| r.failure.clone()).collect();
    failures.extend(verify(&api, loaded, sizes.messages).await);

    // The quiet part: one conversation, one message at a time.
    if !quiet.is_empty() {
        take_pass_samples();
        let started = Instant::now();
        let mut quiet_runs = Vec::new();
        for lead in quiet {
            quiet_runs.push(
                converse(
                    &api,
                    &channel_id,
                    lead,
                    sizes.messages,
                    wait_for(lead, Duration::from_millis(5)),
                )
                .await,
            );
        }
        let elapsed = started.elapsed();
        let quiet_samples = take_pass_samples();
        let mut latencies: Vec<Duration> = quiet_runs
            .iter()
            .flat_map(|r| r.exchanges.iter().copied())
            .collect();
        if !latencies.is_empty() {
            println!(
                "{kind:?}: quiet: {} conversations one at a time in {:.2} s; exchange latency: {}",
                quiet.len(),
                elapsed.as_secs_f64(),
                spread(&mut latencies)
            );
        }
        print_pass_times(kind, "quiet, one at a time", &quiet_samples);
        print_verdict(kind, "quiet", &quiet_samples);
        failures.extend(quiet_runs.iter().filter_map(|r| r.failure.clone()));
        failures.extend(verify(&api, quiet, sizes.messages).await);
    }

    if let Some(watcher) = watcher {
        let (queries, spent) = watcher.stop().await;
        println!(
            "{kind:?}: store watcher: {queries} message-count queries, {:.2} ms each on average",
            ms(spent) / queries.max(1) as f64
        );
    }
    print_verdict(
        kind,
        "under load (wall time, mostly queueing behind the other passes in flight)",
        &load_samples,
    );
    if failures.is_empty() {
        println!(
            "{kind:?}: verified: every conversation HANDED_OFF with {} outbound (opening + {} replies) and {} inbound",
            sizes.messages + 1,
            sizes.messages,
            sizes.messages
        );
    } else {
        println!("{kind:?}: FAILED: {} problem(s)", failures.len());
        for failure in failures.iter().take(20) {
            println!("{kind:?}:   {failure}");
        }
        if failures.len() > 20 {
            println!("{kind:?}:   ... and {} more", failures.len() - 20);
        }
    }
    server.stop().await.expect("the server stops");
    store.close().await;
}

/// What a lead waits on for its replies.
enum Wait {
    Poll(Duration),
    Watch(watch::Receiver<usize>),
}

/// One lead's conversation: `messages` inbound messages, each waiting for its reply.
async fn converse(
    api: &Api,
    channel_id: &str,
    lead: &Lead,
    messages: usize,
    mut wait: Wait,
) -> LeadRun {
    let mut run = LeadRun::default();
    for k in 1..=messages {
        let sent = Instant::now();
        let (status, answer) = api
            .post(
                "/api/v1/sandbox/inbound",
                json!({"channelId": channel_id, "from": lead.phone, "text": lead_text(lead.index, k)}),
            )
            .await;
        run.posts.push(sent.elapsed());
        if status != StatusCode::CREATED {
            run.failure = Some(format!(
                "conversation {} (lead {}): inbound message {k} answered {status}: {answer}",
                lead.conversation_id, lead.index
            ));
            return run;
        }
        if answer["conversationId"].as_str() != Some(&lead.conversation_id) {
            run.failure = Some(format!(
                "conversation {} (lead {}): inbound message {k} was filed in conversation {}",
                lead.conversation_id, lead.index, answer["conversationId"]
            ));
            return run;
        }
        let outbound = match &mut wait {
            Wait::Poll(poll) => poll_for_reply(api, lead, k, *poll, &mut run).await,
            Wait::Watch(counts) => {
                // The lead's k inbound messages are in (each POST answered 201), so
                // the reply has been queued once the conversation holds more than 2k.
                let seen = tokio::time::timeout(STUCK_AFTER, counts.wait_for(|n| *n > 2 * k))
                    .await
                    .map(|seen| seen.map(|count| *count - k));
                match seen {
                    Ok(Ok(count)) => Ok(count),
                    Ok(Err(_)) => Err("the store watcher stopped".to_owned()),
                    Err(_) => Err(format!("{} outbound", counts.borrow().saturating_sub(k))),
                }
            }
        };
        match outbound {
            Ok(outbound) if outbound > k + 1 => {
                run.failure = Some(format!(
                    "conversation {} (lead {}): {outbound} outbound messages after inbound message {k}, expected {}",
                    lead.conversation_id,
                    lead.index,
                    k + 1
                ));
                return run;
            }
            Ok(_) => run.exchanges.push(sent.elapsed()),
            Err(seen) => {
                let (_, conversation) = api
                    .get(&format!("/api/v1/conversations/{}", lead.conversation_id))
                    .await;
                run.failure = Some(format!(
                    "conversation {} (lead {}): no reply to inbound message {k} after {} s \
                     ({seen}; status {}, controller {}, agent turns {})",
                    lead.conversation_id,
                    lead.index,
                    sent.elapsed().as_secs(),
                    conversation["status"],
                    conversation["controller"],
                    conversation["agent"]["turns"]
                ));
                return run;
            }
        }
    }
    run
}

/// Polls the conversation's messages until more than `k` are outbound; the outbound
/// count, or what was last seen when it gives up.
async fn poll_for_reply(
    api: &Api,
    lead: &Lead,
    k: usize,
    poll: Duration,
    run: &mut LeadRun,
) -> Result<usize, String> {
    let path = format!(
        "/api/v1/conversations/{}/messages?limit=100",
        lead.conversation_id
    );
    let started = Instant::now();
    tokio::time::sleep(Duration::from_millis(20)).await;
    loop {
        run.polls += 1;
        let (status, page) = api.get(&path).await;
        if status != StatusCode::OK {
            return Err(format!("listing messages answered {status}: {page}"));
        }
        let (outbound, inbound) = count_directions(&page);
        if outbound > k {
            return Ok(outbound);
        }
        if started.elapsed() > STUCK_AFTER {
            return Err(format!("{outbound} outbound, {inbound} inbound"));
        }
        tokio::time::sleep(poll).await;
    }
}

/// (outbound, inbound) messages on a page.
fn count_directions(page: &Value) -> (usize, usize) {
    let messages = page["data"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let outbound = messages
        .iter()
        .filter(|m| m["direction"] == "outbound")
        .count();
    let inbound = messages
        .iter()
        .filter(|m| m["direction"] == "inbound")
        .count();
    (outbound, inbound)
}

/// Every conversation HANDED_OFF with 1 + `messages` outbound and `messages` inbound.
async fn verify(api: &Api, leads: &[Lead], messages: usize) -> Vec<String> {
    futures::stream::iter(leads.iter().cloned())
        .map(|lead| {
            let api = api.clone();
            async move {
                let (_, conversation) = api.get(&format!("/api/v1/conversations/{}", lead.conversation_id)).await;
                let (_, page) = api
                    .get(&format!("/api/v1/conversations/{}/messages?limit=100", lead.conversation_id))
                    .await;
                let (outbound, inbound) = count_directions(&page);
                let ok = conversation["status"] == "HANDED_OFF"
                    && outbound == messages + 1
                    && inbound == messages;
                (!ok).then(|| {
                    format!(
                        "conversation {} (lead {}): status {}, controller {}, agent turns {}, {outbound} outbound \
                         (expected {}), {inbound} inbound (expected {messages})",
                        lead.conversation_id,
                        lead.index,
                        conversation["status"],
                        conversation["controller"],
                        conversation["agent"]["turns"],
                        messages + 1
                    )
                })
            }
        })
        .buffer_unordered(SETUP_CONCURRENCY)
        .filter_map(|failure| async move { failure })
        .collect()
        .await
}
