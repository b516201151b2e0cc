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

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, SubsecRound, TimeZone, Utc};
use futures::StreamExt;
use leadline_core::agent::AgentAction;
use leadline_core::agent::flow::{FlowInput, FlowScript, FlowState, flow_turn};
use leadline_core::custom_attribute::{
    AttributeDefinition, AttributeKind, AttributeValue, AttributeValues,
};
use leadline_core::{Clock, E164};
use leadline_server::serve::{ServerOptions, start_with};
use leadline_store::testing::TestDatabase;
use leadline_store::{BackendKind, Store, StoreOptions};
use metrics::{
    Counter, Gauge, Histogram, HistogramFn, Key, KeyName, Metadata, Recorder, SharedString, Unit,
};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// The histogram the agent's runner records each pass's own time in.
const PASS_METRIC: &str = "leadline_agent_pass_seconds";

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
// The clock: a Monday, 10:00 in California (the leads' 415 numbers), plus real time.

#[derive(Debug)]
struct DaytimeClock {
    base: DateTime<Utc>,
    started: Instant,
}

impl DaytimeClock {
    fn new() -> Self {
        Self {
            // Monday 2026-11-23, 10:00 PST / 13:00 EST.
            base: Utc
                .with_ymd_and_hms(2026, 11, 23, 18, 0, 0)
                .single()
                .expect("a valid instant"),
            started: Instant::now(),
        }
    }
}

impl Clock for DaytimeClock {
    fn now(&self) -> DateTime<Utc> {
        let elapsed = chrono::Duration::from_std(self.started.elapsed()).unwrap_or_default();
        (self.base + elapsed).trunc_subsecs(6)
    }
}

// ---------------------------------------------------------------------------------------
// A metrics recorder that keeps every pass-time sample with its `end` label.

static PASS_SAMPLES: Mutex<Vec<(String, f64)>> = Mutex::new(Vec::new());

struct PassRecorder;

struct PassHistogram {
    end: String,
}

impl HistogramFn for PassHistogram {
    fn record(&self, value: f64) {
        PASS_SAMPLES
            .lock()
            .expect("samples lock")
            .push((self.end.clone(), value));
    }
}

impl Recorder for PassRecorder {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn register_counter(&self, _: &Key, _: &Metadata<'_>) -> Counter {
        Counter::noop()
    }
    fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::noop()
    }
    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        if key.name() != PASS_METRIC {
            return Histogram::noop();
        }
        let end = key
            .labels()
            .find(|label| label.key() == "end")
            .map_or_else(|| "?".to_owned(), |label| label.value().to_owned());
        Histogram::from_arc(Arc::new(PassHistogram { end }))
    }
}

/// Takes the samples recorded so far.
fn take_pass_samples() -> Vec<(String, f64)> {
    std::mem::take(&mut *PASS_SAMPLES.lock().expect("samples lock"))
}

fn print_pass_times(kind: BackendKind, phase: &str, samples: &[(String, f64)]) {
    if samples.is_empty() {
        println!("{kind:?}: agent pass own time ({phase}): no pass recorded");
        return;
    }
    let mut by_end: BTreeMap<&str, Vec<Duration>> = BTreeMap::new();
    let mut all = Vec::with_capacity(samples.len());
    for (end, seconds) in samples {
        let duration = Duration::from_secs_f64(*seconds);
        all.push(duration);
        by_end.entry(end.as_str()).or_default().push(duration);
    }
    println!(
        "{kind:?}: agent pass own time ({phase}), {} passes: {}",
        all.len(),
        spread(&mut all)
    );
    for (end, mut durations) in by_end {
        println!(
            "{kind:?}:   end={end}: {} passes: {}",
            durations.len(),
            spread(&mut durations)
        );
    }
}

/// The median pass against the 5 ms bar.
fn print_verdict(kind: BackendKind, phase: &str, samples: &[(String, f64)]) {
    let mut passes: Vec<Duration> = samples
        .iter()
        .map(|(_, seconds)| Duration::from_secs_f64(*seconds))
        .collect();
    if passes.is_empty() {
        return;
    }
    passes.sort();
    let median = percentile(&passes, 0.5);
    let verdict = if median < Duration::from_millis(5) {
        "under"
    } else {
        "OVER"
    };
    println!(
        "{kind:?}: pass median {phase}: {:.2} ms ({verdict} the 5 ms bar)",
        ms(median)
    );
}

/// "median x ms, p90 y ms, p99 z ms, max w ms".
fn spread(durations: &mut [Duration]) -> String {
    durations.sort();
    format!(
        "median {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        ms(percentile(durations, 0.50)),
        ms(percentile(durations, 0.90)),
        ms(percentile(durations, 0.99)),
        ms(*durations.last().expect("not empty"))
    )
}

/// The nearest-rank percentile of sorted durations.
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// CPU time (user + system) of this process so far, from /proc (Linux only).
fn process_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // USER_HZ is 100 on every Linux this runs on.
    Some(Duration::from_millis(ticks * 10))
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

// ---------------------------------------------------------------------------------------
// The flow decision alone: `flow_turn`, no store, no HTTP.

fn script_json(questions: usize) -> Value {
    let questions: Vec<Value> = (1..=questions)
        .map(|q| json!({"attribute": format!("q{q}"), "text": format!("Question {q}: what is your answer?")}))
        .collect();
    json!({ "questions": questions })
}

fn lead_text(lead: usize, k: usize) -> String {
    if k == 1 {
        format!("Hello, this is lead {lead}, I got your message")
    } else {
        format!("My answer number {} is blue {lead}", k - 1)
    }
}

fn flow_decision_alone(messages: usize) {
    let script: FlowScript =
        serde_json::from_value(script_json(messages - 1)).expect("the script parses");
    let definitions: Vec<AttributeDefinition> = (1..=messages)
        .map(|q| {
            AttributeDefinition::create(
                &format!("q{q}"),
                &format!("Q{q}"),
                AttributeKind::Open,
                &[],
                false,
            )
            .expect("a definition")
        })
        .collect();
    let conversations = 2_000;
    let mut turns = 0usize;
    let started = Instant::now();
    for lead in 0..conversations {
        let mut values = AttributeValues::new();
        let mut state = FlowState::default();
        for k in 1..=messages {
            let said = [lead_text(lead, k)];
            let turn = flow_turn(
                &script,
                &FlowInput {
                    lead_messages: &said,
                    definitions: &definitions,
                    values: &values,
                    state: &state,
                },
            );
            turns += 1;
            for action in &turn.turn.actions {
                if let AgentAction::SetAttribute { key, value } = action {
                    let id = definitions
                        .iter()
                        .find(|d| &d.key == key)
                        .expect("a question's attribute")
                        .id;
                    values.insert(id, value.clone());
                }
            }
            assert!(
                (k == messages)
                    == turn
                        .turn
                        .actions
                        .iter()
                        .any(|a| matches!(a, AgentAction::HandOff { .. })),
                "the flow hands off exactly at the last message: {:?}",
                turn.turn
            );
            state = std::hint::black_box(turn.state);
        }
        let _: &AttributeValue = values.values().next().expect("answers stored");
    }
    let elapsed = started.elapsed();
    println!(
        "flow decision alone (flow_turn, no store): {turns} turns in {:.1} ms = {:.2} us per turn",
        ms(elapsed),
        elapsed.as_secs_f64() * 1e6 / turns as f64
    );
}

// ---------------------------------------------------------------------------------------
// One store's run.

/// The bench's HTTP side: one pooled client and the workspace's key.
#[derive(Clone)]
struct Api {
    client: reqwest::Client,
    base: String,
    key: String,
}

impl Api {
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .header("x-api-key", &self.key);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::POST, path, Some(&body)).await
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(reqwest::Method::GET, path, None).await
    }

    /// POSTs and panics unless the answer is `expected`.
    async fn setup(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Value,
        expected: u16,
    ) -> Value {
        let (status, answer) = self.send(method, path, Some(&body)).await;
        assert_eq!(status.as_u16(), expected, "{path} {body}: {answer}");
        answer
    }
}

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
    let server = start_with(store.clone(), "127.0.0.1:0", ServerOptions::default())
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

/// Agent settings, attributes, the workspace's script, a sandbox channel, the opening
/// template, the contacts and their LeadScout conversations.
async fn set_up(
    api: &Api,
    workspace_id: &str,
    messages: usize,
    total: usize,
) -> (String, Vec<Lead>) {
    use reqwest::Method;
    api.setup(
        Method::PUT,
        "/api/v1/settings/agent",
        json!({"agent": "FLOW", "maxTurns": 200, "minReplyDelaySeconds": 0, "respectQuietHours": true}),
        200,
    )
    .await;
    for q in 1..=messages {
        api.setup(
            Method::POST,
            "/api/v1/custom-attributes",
            json!({"key": format!("q{q}"), "label": format!("Question {q}"), "kind": "OPEN"}),
            201,
        )
        .await;
    }
    api.setup(
        Method::POST,
        "/api/v1/agent-scripts",
        json!({"name": "Benchmark qualification", "script": script_json(messages - 1)}),
        201,
    )
    .await;
    let channel = api
        .setup(
            Method::POST,
            "/api/v1/channels",
            json!({"name": "Sandbox SMS", "messageProviderType": "SMS", "sender": "+14155550100",
                   "settings": {"deliveryDelaySeconds": 0}}),
            201,
        )
        .await;
    let channel_id = channel["id"].as_str().expect("a channel id").to_owned();
    api.setup(
        Method::POST,
        "/api/v1/templates",
        json!({"name": "welcome", "language": "en", "body": "Hi {{1}}, this is {{2}}. Can I ask you a few questions?",
               "channelType": "SMS"}),
        201,
    )
    .await;

    let leadscout = format!("/bridge/api/v1/workspaces/{workspace_id}/leadscout/outbound");
    let contacts = format!("/bridge/api/v1/workspaces/{workspace_id}/contacts/partial");
    for index in 0..total {
        E164::parse(&phone_of(index)).unwrap_or_else(|e| panic!("{}: {e}", phone_of(index)));
    }
    let mut leads: Vec<Lead> = futures::stream::iter(0..total)
        .map(|index| {
            let (api, leadscout, contacts, channel_id) =
                (api.clone(), leadscout.clone(), contacts.clone(), channel_id.clone());
            async move {
                let phone = phone_of(index);
                api.setup(
                    Method::POST,
                    &contacts,
                    json!({"cellphone": phone, "firstName": format!("Lead{index}")}),
                    200,
                )
                .await;
                let opened = api
                    .setup(
                        Method::POST,
                        &leadscout,
                        json!({
                            "contact": {"identifier": phone, "identifierType": "CELLPHONE",
                                        "messageProviderType": "SMS", "providerChannelId": channel_id},
                            "template": {"name": "welcome", "orderedParams": [format!("Lead{index}"), "Leo"]}
                        }),
                        200,
                    )
                    .await;
                Lead {
                    index,
                    phone,
                    conversation_id: opened["conversation"]["id"]
                        .as_str()
                        .expect("a conversation id")
                        .to_owned(),
                }
            }
        })
        .buffer_unordered(SETUP_CONCURRENCY)
        .collect()
        .await;
    leads.sort_by_key(|lead| lead.index);
    (channel_id, leads)
}

/// How a lead learns that its reply was queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WatchMode {
    /// The bench counts the messages of every conversation straight from the database,
    /// one query every [`WATCH_TICK`], and wakes the lead whose reply came.
    Store,
    /// Each lead polls `GET /api/v1/conversations/{id}/messages` (first after 20 ms,
    /// then every AGENT_POLL_MS): the most literal client, and the heaviest load.
    Http,
}

/// How often the store watcher counts messages.
const WATCH_TICK: Duration = Duration::from_millis(10);

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

/// The store watcher: the message count of each conversation, published to its lead.
struct Watcher {
    counts: HashMap<String, watch::Receiver<usize>>,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<(u64, Duration)>,
}

impl Watcher {
    async fn start(kind: BackendKind, url: &str, leads: &[Lead]) -> Self {
        let mut senders = HashMap::new();
        let mut counts = HashMap::new();
        for lead in leads {
            let (sender, receiver) = watch::channel(0usize);
            senders.insert(lead.conversation_id.clone(), sender);
            counts.insert(lead.conversation_id.clone(), receiver);
        }
        let database = match kind {
            BackendKind::Sqlite => WatchedDatabase::Sqlite(
                sqlx::SqlitePool::connect(url)
                    .await
                    .expect("the watcher connects"),
            ),
            BackendKind::Postgres => WatchedDatabase::Postgres(
                sqlx::PgPool::connect(url)
                    .await
                    .expect("the watcher connects"),
            ),
        };
        let stop = CancellationToken::new();
        let stopped = stop.clone();
        let task = tokio::spawn(async move {
            let (mut queries, mut spent) = (0u64, Duration::ZERO);
            let mut tick = tokio::time::interval(WATCH_TICK);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            while !stopped.is_cancelled() {
                tick.tick().await;
                let started = Instant::now();
                let rows = database.message_counts().await;
                spent += started.elapsed();
                queries += 1;
                for (conversation, count) in rows {
                    if let Some(sender) = senders.get(&conversation) {
                        let count = usize::try_from(count).unwrap_or_default();
                        sender.send_if_modified(|seen| {
                            let changed = *seen != count;
                            *seen = count;
                            changed
                        });
                    }
                }
            }
            database.close().await;
            (queries, spent)
        });
        Self { counts, stop, task }
    }

    fn wait_for(&self, lead: &Lead) -> Wait {
        Wait::Watch(self.counts[&lead.conversation_id].clone())
    }

    /// Stops the watcher: (queries run, time spent in them).
    async fn stop(self) -> (u64, Duration) {
        self.stop.cancel();
        self.task.await.expect("the watcher ends")
    }
}

enum WatchedDatabase {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl WatchedDatabase {
    async fn message_counts(&self) -> Vec<(String, i64)> {
        // All messages, inbound too: the count comes from the (conversation_id, id)
        // index alone, where counting outbound ones would read every row.
        const COUNTS: &str =
            "SELECT conversation_id, COUNT(*) FROM messages GROUP BY conversation_id";
        match self {
            WatchedDatabase::Sqlite(pool) => sqlx::query_as(COUNTS).fetch_all(pool).await,
            WatchedDatabase::Postgres(pool) => sqlx::query_as(COUNTS).fetch_all(pool).await,
        }
        .expect("the watcher's query")
    }

    async fn close(&self) {
        match self {
            WatchedDatabase::Sqlite(pool) => pool.close().await,
            WatchedDatabase::Postgres(pool) => pool.close().await,
        }
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
