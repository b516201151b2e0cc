//! `leadline serve`: open the store, make sure a workspace exists, serve HTTP until
//! SIGINT or SIGTERM, then stop accepting, finish in-flight requests and close.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use leadline_core::{E164, SystemClock};
use leadline_store::{Store, StoreOptions};
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::agent::{self, runner::RunnerDeps, runner::RunnerOptions};
use crate::auth::key_cache;
use crate::channel_providers::ChannelProviders;
use crate::cli::ServeArgs;
use crate::dispatcher::{self, DispatcherOptions};
use crate::numbers::{NumberPools, SenderAssigner};
use crate::routes;
use crate::scheduler;
use crate::state::AppState;
use crate::telemetry::metrics_handle;

/// A server running in this process.
pub struct RunningServer {
    pub address: SocketAddr,
    pub shutdown: CancellationToken,
    pub task: JoinHandle<std::io::Result<()>>,
    dispatchers: Vec<JoinHandle<()>>,
}

impl RunningServer {
    /// Stops accepting, waits for in-flight requests and the dispatcher's current
    /// batches, and returns.
    pub async fn stop(self) -> std::io::Result<()> {
        self.shutdown.cancel();
        let served = self
            .task
            .await
            .unwrap_or_else(|join| Err(std::io::Error::other(join)));
        for worker in self.dispatchers {
            let _ = worker.await;
        }
        served
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
    pub number_pool_ttl: std::time::Duration,
    pub agent: RunnerOptions,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            public_url: None,
            dispatcher: DispatcherOptions::default(),
            without_dispatcher: false,
            number_pool_ttl: DEFAULT_POOL_TTL,
            agent: RunnerOptions::default(),
        }
    }
}

/// Reloading a pool at most once a second keeps selection cheap; reservations in the
/// store keep caps exact whatever the snapshot's age.
pub const DEFAULT_POOL_TTL: std::time::Duration = std::time::Duration::from_secs(1);

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
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let address = listener.local_addr()?;
    let public_url = options
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{address}"));
    let providers = ChannelProviders::new(&public_url);
    let outbox_wake = Arc::new(Notify::new());
    let scheduler_wake = Arc::new(Notify::new());
    let numbers = NumberPools::new(store.clone(), options.number_pool_ttl);
    let agent_wake = Arc::new(Notify::new());
    let state = AppState {
        store: store.clone(),
        keys: key_cache(),
        metrics: metrics_handle(),
        providers: providers.clone(),
        outbox_wake: outbox_wake.clone(),
        scheduler_wake: scheduler_wake.clone(),
        numbers: numbers.clone(),
        agent_wake: agent_wake.clone(),
    };
    let shutdown = CancellationToken::new();
    let dispatchers = if options.without_dispatcher {
        Vec::new()
    } else {
        let mut workers = dispatcher::spawn(
            store.clone(),
            providers,
            options.dispatcher.clone(),
            outbox_wake.clone(),
            shutdown.clone(),
        );
        workers.push(agent::runner::spawn(
            RunnerDeps {
                store: store.clone(),
                senders: SenderAssigner {
                    store: store.clone(),
                    pools: numbers.clone(),
                },
                http: reqwest::Client::new(),
                outbox_wake: outbox_wake.clone(),
            },
            options.agent.clone(),
            agent_wake,
            shutdown.clone(),
        ));
        workers.push(scheduler::spawn(
            store,
            numbers,
            outbox_wake,
            scheduler_wake,
            shutdown.clone(),
        ));
        workers
    };
    let app = routes::app(state);
    let stop = shutdown.clone();
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move { stop.cancelled().await })
            .await
    });
    Ok(RunningServer {
        address,
        shutdown,
        task,
        dispatchers,
    })
}

pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let url = &args.database.database_url;
    let store_options = StoreOptions {
        postgres_writers: args.postgres_writers.max(1),
        ..StoreOptions::default()
    };
    let store = Store::open(url, store_options, Arc::new(SystemClock))
        .await
        .with_context(|| format!("cannot open the database at {url}"))?;
    if let Some((workspace, key)) = store.create_first_workspace("Default workspace").await? {
        tracing::info!(workspace = %workspace.id, "empty database: created the first workspace; its API key is printed once on stdout");
        println!(
            "{}",
            json!({"workspaceId": workspace.id.to_string(), "apiKey": key.expose()})
        );
    }
    let options = ServerOptions {
        public_url: args.public_url.clone(),
        dispatcher: DispatcherOptions {
            lease: std::time::Duration::from_secs(args.job_lease_seconds.max(1)),
            ..DispatcherOptions::default()
        },
        ..ServerOptions::default()
    };
    let server = start_with(store.clone(), &args.listen, options).await?;
    tracing::info!(address = %server.address, database = %redact(url), "leadline is serving; API reference at /docs");
    wait_for_signal().await;
    tracing::info!("shutting down: finishing in-flight requests and sends");
    server.stop().await?;
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

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
