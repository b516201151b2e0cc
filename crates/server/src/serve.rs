//! `leadline serve`: open the store, make sure a workspace exists, serve HTTP until
//! SIGINT or SIGTERM, then stop accepting, let in-flight requests and the workers
//! finish within the shutdown timeout, abort what is still running at the deadline,
//! and close.
//!
//! The background workers (the dispatcher, the agent runner, the scheduler, the sweepers
//! of expired idempotency keys and of events past their retention) run under the [`supervisor`], which starts a worker
//! again after it panics.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use leadline_core::{E164, SystemClock};
use leadline_providers::outbound::{ClientOptions, OutboundClient, OutboundPolicy};
use leadline_store::{Store, StoreOptions};
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::agent_worker::{AgentRunner, RunnerDeps, RunnerOptions};
use crate::auth::{KeyCache, key_cache};
use crate::channel_providers::ChannelProviders;
use crate::cli::ServeArgs;
use crate::dispatcher::{self, DispatcherOptions};
use crate::event_retention::{self, EventRetention};
use crate::idempotency::{self, IdempotencyOptions};
use crate::numbers::{NumberPools, SenderAssigner};
use crate::rate_limit::{RateLimitOptions, RateLimits};
use crate::routes;
use crate::scheduler;
use crate::state::{AppState, Services};
use crate::supervisor;
use crate::telemetry::metrics_handle;

/// A server running in this process.
pub struct RunningServer {
    pub address: SocketAddr,
    pub shutdown: CancellationToken,
    pub task: JoinHandle<std::io::Result<()>>,
    /// The node's API key cache (its counters show what it saved the store).
    pub keys: KeyCache,
    agent: AgentRunner,
    workers: Vec<Worker>,
    shutdown_timeout: Duration,
    /// Without background workers, the dispatcher that runs when stepped.
    stepped_dispatcher: Option<dispatcher::Dispatcher>,
}

/// A background worker of the server, by the name logs give it.
struct Worker {
    name: &'static str,
    task: JoinHandle<()>,
}

/// What a stop had to leave unfinished.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Stopped {
    /// The parts still busy at the deadline, whose tasks were aborted: `http` (requests
    /// in flight), `dispatcher`, `agent`, `scheduler`, `idempotency_sweeper`,
    /// `event_retention`.
    pub abandoned: Vec<&'static str>,
}

impl RunningServer {
    /// The server's agent runner. Started with [`ServerOptions::background_agent`]
    /// off, it runs only when stepped with [`AgentRunner::run_once`].
    pub fn agent_runner(&self) -> &AgentRunner {
        &self.agent
    }

    /// The dispatcher to step ([`dispatcher::Dispatcher::run_once`]) when the server
    /// runs without background workers ([`ServerOptions::without_dispatcher`]).
    pub fn dispatcher(&self) -> Option<&dispatcher::Dispatcher> {
        self.stepped_dispatcher.as_ref()
    }

    /// Stops within the server's shutdown timeout ([`ServerOptions::shutdown_timeout`]).
    pub async fn stop(self) -> std::io::Result<()> {
        let timeout = self.shutdown_timeout;
        self.stop_within(timeout).await.map(|_| ())
    }

    /// Stops accepting, and waits up to `timeout` for in-flight requests and the
    /// workers' current work (a batch of sends, an agent pass, a tick). What is still
    /// running then is aborted and logged. Aborting records nothing half way: every
    /// worker writes an outcome in one transaction, which an abort rolls back, and the
    /// work's lease runs out so it is taken up again. Connections of requests still in
    /// flight are closed when the process exits.
    pub async fn stop_within(self, timeout: Duration) -> std::io::Result<Stopped> {
        self.shutdown.cancel();
        let deadline = Instant::now() + timeout;
        let mut abandoned = Vec::new();
        let mut http = self.task;
        let served = match tokio::time::timeout_at(deadline, &mut http).await {
            Ok(joined) => joined.unwrap_or_else(|join| Err(std::io::Error::other(join))),
            Err(_) => {
                http.abort();
                abandoned.push("http");
                Ok(())
            }
        };
        for mut worker in self.workers {
            if tokio::time::timeout_at(deadline, &mut worker.task)
                .await
                .is_err()
            {
                worker.task.abort();
                abandoned.push(worker.name);
            }
        }
        if !abandoned.is_empty() {
            tracing::warn!(
                ?abandoned,
                timeout_seconds = timeout.as_secs_f64(),
                "shutdown deadline passed: abandoned what these parts were doing; nothing was recorded half way, and leased work is taken up again when its lease runs out"
            );
        }
        served.map(|()| Stopped { abandoned })
    }
}

/// How the server runs besides its store and address.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Where providers reach this server for webhooks; defaults to `http://{address}`.
    pub public_url: Option<String>,
    pub dispatcher: DispatcherOptions,
    /// Leave the outbox and the campaigns alone (for tests and API-only nodes).
    pub without_dispatcher: bool,
    /// How long a workspace's number pool is reused before it is reloaded.
    pub number_pool_ttl: Duration,
    pub agent: RunnerOptions,
    /// Whether the agent runner works on its own in the background (with the other
    /// workers); off, it runs only when stepped through
    /// [`RunningServer::agent_runner`], as tests that drain it do.
    pub background_agent: bool,
    /// How long [`RunningServer::stop`] waits for in-flight work before aborting it.
    pub shutdown_timeout: Duration,
    /// What provider and LLM calls may reach besides the public internet
    /// (`--allow-outbound`); by default nothing: no loopback, private, link-local or
    /// metadata address.
    pub outbound: OutboundPolicy,
    /// The server's own rate limits (per client address, per webhook channel).
    pub rate_limits: RateLimitOptions,
    /// How long a request holding an `Idempotency-Key` may run.
    pub idempotency: IdempotencyOptions,
    /// How long events are kept (`--event-retention-days`).
    pub event_retention: EventRetention,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            public_url: None,
            dispatcher: DispatcherOptions::default(),
            without_dispatcher: false,
            number_pool_ttl: DEFAULT_POOL_TTL,
            agent: RunnerOptions::default(),
            background_agent: true,
            shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
            outbound: OutboundPolicy::default(),
            rate_limits: RateLimitOptions::default(),
            idempotency: IdempotencyOptions::default(),
            event_retention: EventRetention::default(),
        }
    }
}

/// Enough for a batch of sends at the provider timeout (10 s) and its recording. An
/// orchestrator kills the process when its grace period ends (Kubernetes: 30 s after
/// SIGTERM by default), so set `--shutdown-timeout` a little below the one you give.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);

/// Reloading a pool at most once a second keeps selection cheap; reservations in the
/// store keep caps exact whatever the snapshot's age.
pub const DEFAULT_POOL_TTL: Duration = Duration::from_secs(1);

/// Serves `store` on `listen` (port 0 picks a free port) with default options.
pub async fn start(store: Store, listen: &str) -> anyhow::Result<RunningServer> {
    start_with(store, listen, ServerOptions::default()).await
}

/// Serves `store` on `listen` and runs the dispatcher until `shutdown` fires.
pub async fn start_with(
    store: Store,
    listen: &str,
    options: ServerOptions,
) -> anyhow::Result<RunningServer> {
    E164::warm_up();
    // Before serving: refuse to start without the keys of what is stored, and seal
    // secrets an older version stored in clear.
    store
        .prepare_secrets()
        .await
        .context("the stored secrets cannot be prepared")?;
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let address = listener.local_addr()?;
    let public_url = options
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{address}"));
    let providers = ChannelProviders::with_policy(&public_url, options.outbound.clone());
    let outbox_wake = Arc::new(Notify::new());
    let scheduler_wake = Arc::new(Notify::new());
    let numbers = NumberPools::new(store.clone(), options.number_pool_ttl);
    let agent_wake = Arc::new(Notify::new());
    let keys = key_cache();
    let shutdown = CancellationToken::new();
    let state = AppState::new(Services {
        store: store.clone(),
        keys: keys.clone(),
        limits: RateLimits::new(options.rate_limits.clone()),
        metrics: metrics_handle(),
        providers: providers.clone(),
        outbox_wake: outbox_wake.clone(),
        scheduler_wake: scheduler_wake.clone(),
        numbers: numbers.clone(),
        agent_wake: agent_wake.clone(),
        idempotency: options.idempotency,
        shutdown: shutdown.clone(),
        console: crate::console::ConsoleSettings::for_public_url(options.public_url.as_deref()),
    });
    // Keys are trusted from memory only while this poller keeps up (see auth::keys).
    tokio::spawn(keys.clone().run_poller(store.clone(), shutdown.clone()));
    let stepped_dispatcher = options.without_dispatcher.then(|| {
        dispatcher::Dispatcher::new(store.clone(), providers.clone(), options.dispatcher.clone())
    });
    let agent = AgentRunner::new(
        RunnerDeps {
            store: store.clone(),
            senders: SenderAssigner {
                store: store.clone(),
                pools: numbers.clone(),
            },
            // Its own client: the LLM's timeout comes from each workspace's settings.
            http: OutboundClient::new(options.outbound.clone(), ClientOptions::default())
                .context("cannot build the LLM's HTTP client")?,
            outbox_wake: outbox_wake.clone(),
        },
        options.agent.clone(),
        shutdown.clone(),
    );
    let workers = if options.without_dispatcher {
        Vec::new()
    } else {
        let wakes = Wakes {
            outbox: outbox_wake,
            scheduler: scheduler_wake,
            agent: agent_wake,
        };
        let background_agent = options.background_agent.then(|| agent.clone());
        start_workers(
            store,
            providers,
            numbers,
            background_agent,
            wakes,
            &options,
            &shutdown,
        )
    };
    let app = routes::app(state);
    let stop = shutdown.clone();
    // Connect info gives handlers the TCP peer: anonymous requests are limited by it,
    // and webhooks check it against a channel's `allowedSources`.
    let app = app.into_make_service_with_connect_info::<SocketAddr>();
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move { stop.cancelled().await })
            .await
    });
    Ok(RunningServer {
        address,
        shutdown,
        task,
        keys,
        agent,
        workers,
        shutdown_timeout: options.shutdown_timeout,
        stepped_dispatcher,
    })
}

/// What wakes each worker early.
struct Wakes {
    outbox: Arc<Notify>,
    scheduler: Arc<Notify>,
    agent: Arc<Notify>,
}

/// Starts the dispatcher, the agent runner (when given), the scheduler, the sweeper of
/// expired idempotency keys and that of old events, each under the supervisor.
fn start_workers(
    store: Store,
    providers: ChannelProviders,
    numbers: NumberPools,
    agent: Option<AgentRunner>,
    wakes: Wakes,
    options: &ServerOptions,
    shutdown: &CancellationToken,
) -> Vec<Worker> {
    let dispatcher = {
        let (store, options, wake) = (
            store.clone(),
            options.dispatcher.clone(),
            wakes.outbox.clone(),
        );
        let parent = shutdown.clone();
        // The dispatcher's workers are one supervised group: when one panics the others
        // finish their batch and stop, and the group starts again with a fresh token.
        supervisor::supervise("dispatcher", shutdown.clone(), move || {
            let group = parent.child_token();
            let workers = dispatcher::spawn(
                store.clone(),
                providers.clone(),
                options.clone(),
                wake.clone(),
                group.clone(),
            );
            supervisor::join_group(workers, group)
        })
    };
    let runner = agent.map(|runner| {
        let wake = wakes.agent;
        supervisor::supervise("agent", shutdown.clone(), move || {
            runner.clone().run(wake.clone())
        })
    });
    let sweeper = {
        let (store, token) = (store.clone(), shutdown.clone());
        supervisor::supervise("idempotency_sweeper", shutdown.clone(), move || {
            idempotency::sweeper::run(
                store.clone(),
                idempotency::sweeper::SWEEP_INTERVAL,
                token.clone(),
            )
        })
    };
    let retention = {
        let (store, token, keep) = (store.clone(), shutdown.clone(), options.event_retention);
        supervisor::supervise("event_retention", shutdown.clone(), move || {
            event_retention::run(
                store.clone(),
                keep,
                event_retention::SWEEP_INTERVAL,
                token.clone(),
            )
        })
    };
    let scheduler = {
        let token = shutdown.clone();
        supervisor::supervise("scheduler", shutdown.clone(), move || {
            scheduler::run(
                store.clone(),
                numbers.clone(),
                wakes.outbox.clone(),
                wakes.scheduler.clone(),
                token.clone(),
            )
        })
    };
    let mut workers = vec![Worker {
        name: "dispatcher",
        task: dispatcher,
    }];
    workers.extend(runner.map(|task| Worker {
        name: "agent",
        task,
    }));
    workers.extend([
        Worker {
            name: "scheduler",
            task: scheduler,
        },
        Worker {
            name: "idempotency_sweeper",
            task: sweeper,
        },
        Worker {
            name: "event_retention",
            task: retention,
        },
    ]);
    workers
}

pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let url = &args.database.database_url;
    let store_options = StoreOptions {
        postgres_writers: args.postgres_writers.max(1),
        secret_keys: Some(args.keys.load(url)?),
        ..StoreOptions::default()
    };
    let store = Store::open(url, store_options, Arc::new(SystemClock))
        .await
        .with_context(|| format!("cannot open the database at {}", redact(url)))?;
    let first_start = create_first_workspace(&store, &args).await?;
    let options = ServerOptions {
        public_url: args.public_url.clone(),
        dispatcher: DispatcherOptions {
            lease: Duration::from_secs(args.job_lease_seconds.max(1)),
            send_timeout: Duration::from_secs(args.send_timeout_seconds),
            ..DispatcherOptions::default()
        },
        shutdown_timeout: Duration::from_secs(args.shutdown_timeout),
        outbound: OutboundPolicy::new(args.allow_outbound.clone()),
        rate_limits: RateLimitOptions {
            per_address: args.anonymous_rate_limit,
            per_channel: args.webhook_rate_limit,
            client_address_header: args.client_address_header.clone(),
            ..RateLimitOptions::default()
        },
        idempotency: IdempotencyOptions {
            request_timeout: Duration::from_secs(args.idempotency_timeout_seconds),
        },
        event_retention: EventRetention {
            days: args.event_retention_days,
        },
        ..ServerOptions::default()
    };
    if !options.outbound.allow.is_empty() {
        let allowed: Vec<String> = options
            .outbound
            .allow
            .iter()
            .map(ToString::to_string)
            .collect();
        tracing::info!(
            ?allowed,
            "provider and LLM calls may reach these addresses besides the public internet"
        );
    }
    let server = start_with(store.clone(), &args.listen, options).await?;
    if let Some(first) = first_start {
        let console_url = format!(
            "{}{}",
            args.public_url
                .clone()
                .unwrap_or_else(|| format!("http://{}", server.address))
                .trim_end_matches('/'),
            crate::console::BASE
        );
        tracing::info!(console = %console_url, "open the console and log in as the admin with the one-time password printed on stdout");
        println!("{}", first.to_json(&console_url));
    }
    tracing::info!(address = %server.address, database = %redact(url), "leadline is serving; API reference at /docs");
    wait_for_signal().await;
    tracing::info!(
        timeout_seconds = args.shutdown_timeout,
        "shutting down: finishing in-flight requests and sends"
    );
    server.stop().await?;
    // Connections still held by abandoned requests would keep `close` waiting; they end
    // with the process anyway.
    if tokio::time::timeout(CLOSE_LIMIT, store.close())
        .await
        .is_err()
    {
        tracing::warn!("database connections still in use at exit; they close with the process");
    }
    tracing::info!("stopped");
    Ok(())
}

/// What the first start against an empty database created: printed once, on stdout.
struct FirstStart {
    workspace: leadline_core::WorkspaceId,
    key: leadline_core::ApiKey,
    admin: crate::usecases::logins::Invited,
}

impl FirstStart {
    fn to_json(&self, console_url: &str) -> serde_json::Value {
        json!({
            "workspaceId": self.workspace.to_string(),
            "apiKey": self.key.expose(),
            "console": {
                "url": console_url,
                "email": self.admin.user.email.as_str(),
                "oneTimePassword": self.admin.one_time_password,
            },
        })
    }
}

/// On an empty database: the first workspace, its API key and its admin login.
async fn create_first_workspace(
    store: &Store,
    args: &ServeArgs,
) -> anyhow::Result<Option<FirstStart>> {
    let Some((workspace, key)) = store.create_first_workspace("Default workspace").await? else {
        return Ok(None);
    };
    let admin = crate::usecases::logins::invite(
        store,
        workspace.id,
        args.admin_email.clone(),
        leadline_core::user::Role::Admin,
        None,
        None,
    )
    .await?;
    tracing::info!(workspace = %workspace.id, admin = admin.user.email.as_str(),
        "empty database: created the first workspace and its admin; the API key and the admin's one-time password are printed once on stdout");
    Ok(Some(FirstStart {
        workspace: workspace.id,
        key,
        admin,
    }))
}

/// How long closing the database's connections may take once the server stopped.
const CLOSE_LIMIT: Duration = Duration::from_secs(5);

/// Hides a password in a database URL before it is logged.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => match url[scheme + 3..at].split_once(':') {
            Some((user, _)) => format!("{}{}:***{}", &url[..scheme + 3], user, &url[at..]),
            None => url.to_owned(),
        },
        _ => url.to_owned(),
    }
}

async fn wait_for_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .expect("installing a SIGTERM handler cannot fail on unix");
        tokio::select! {
            _ = interrupt => {},
            _ = terminate.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            super::redact("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(super::redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(super::redact("sqlite://x.db"), "sqlite://x.db");
    }
}
