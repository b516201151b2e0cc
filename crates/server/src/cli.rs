//! The `leadline` command line: `serve`, `migrate`, `workspace create`, `apikey create |
//! list | revoke`, `user create | set-password`, `import leads`, `secrets rotate`.
//! Commands that create something print exactly one JSON object on stdout, so scripts
//! can read it; everything meant for people goes to stderr.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use leadline_core::SystemClock;
use leadline_core::rate_limit::Bucket;
use leadline_providers::outbound::Allowed;
use leadline_store::{Store, StoreOptions};
use serde_json::json;

use crate::serve;

mod apikey;
mod user;
use crate::rate_limit;
use crate::telemetry::{LogFormat, init_logs};
use apikey::ApikeyCommand;
use user::UserCommand;

#[derive(Debug, Parser)]
#[command(
    name = "leadline",
    version,
    about = "Self-hosted outbound lead engagement server"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the API and the workers in one process.
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate(DatabaseArgs),
    /// Manage workspaces.
    #[command(subcommand)]
    Workspace(WorkspaceCommand),
    /// Manage API keys.
    #[command(subcommand)]
    Apikey(ApikeyCommand),
    /// Manage console logins.
    #[command(subcommand)]
    User(UserCommand),
    /// Import data from files.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Manage the keys that seal stored secrets.
    #[command(subcommand)]
    Secrets(crate::secrets_cli::SecretsCommand),
}

#[derive(Debug, Subcommand)]
enum ImportCommand {
    /// Add the leads of a CSV file to a campaign (columns phoneNumber, externalId,
    /// timeZoneId; every other column becomes a callData variable).
    Leads {
        #[arg(long)]
        campaign: String,
        /// The CSV file; rejected rows go to FILE.rejected.csv beside it.
        file: std::path::PathBuf,
        /// No progress bar.
        #[arg(long)]
        quiet: bool,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

#[derive(Debug, Args)]
pub struct DatabaseArgs {
    /// sqlite://PATH (created when missing) or postgres://USER@HOST/DB.
    #[arg(
        long,
        env = "LEADLINE_DATABASE_URL",
        default_value = "sqlite://leadline.db"
    )]
    pub database_url: String,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Address to listen on.
    #[arg(long, env = "LEADLINE_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// The URL providers use to reach this server's webhooks
    /// (default: http://LISTEN-ADDRESS).
    #[arg(long, env = "LEADLINE_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// How long a leased job is held between renewals (renewed every third of it while
    /// its call runs). After a crash its job is taken over this long after the lease
    /// ended, plus the same again (at least 10 s) of grace.
    #[arg(long, env = "LEADLINE_JOB_LEASE_SECONDS", default_value_t = 30)]
    pub job_lease_seconds: u64,
    /// The longest a provider call may take. A call cut off after its request was
    /// written may have been accepted: it is sent again only through providers that
    /// honour idempotency keys, and held as `uncertain` elsewhere.
    #[arg(long, env = "LEADLINE_SEND_TIMEOUT_SECONDS", default_value_t = 20,
          value_parser = clap::value_parser!(u64).range(1..=600))]
    pub send_timeout_seconds: u64,
    /// Concurrent contact-upsert transactions on PostgreSQL (SQLite always uses one).
    #[arg(long, env = "LEADLINE_POSTGRES_WRITERS", default_value_t = StoreOptions::default().postgres_writers)]
    pub postgres_writers: usize,
    /// Seconds a stop (SIGINT or SIGTERM) waits for in-flight requests and the workers'
    /// current work before abandoning it; abandoned sends and agent passes are taken up
    /// again when their leases run out, by this node after a restart or another one.
    #[arg(long, env = "LEADLINE_SHUTDOWN_TIMEOUT", value_name = "SECONDS",
          default_value_t = serve::DEFAULT_SHUTDOWN_TIMEOUT.as_secs())]
    pub shutdown_timeout: u64,
    /// The longest a POST with an `Idempotency-Key` runs before it is stopped (503). A
    /// key whose request died (its node crashed) can be used again this long plus 30 s
    /// after it was claimed.
    #[arg(long, env = "LEADLINE_IDEMPOTENCY_TIMEOUT_SECONDS", value_name = "SECONDS",
          default_value_t = crate::idempotency::DEFAULT_REQUEST_TIMEOUT.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub idempotency_timeout_seconds: u64,
    /// Days events are kept in the event log (`GET /api/v1/events`, the stream, replays)
    /// before they are deleted; at least 2, since a delivery's retries need its event
    /// for about 28 hours.
    #[arg(long, env = "LEADLINE_EVENT_RETENTION_DAYS", value_name = "DAYS",
          default_value_t = crate::event_retention::DEFAULT_RETENTION_DAYS,
          value_parser = clap::value_parser!(u32).range(i64::from(crate::event_retention::MIN_RETENTION_DAYS)..=36_500))]
    pub event_retention_days: u32,
    /// The email of the admin created, with a one-time password, on the first start
    /// against an empty database.
    #[arg(long, env = "LEADLINE_ADMIN_EMAIL", value_name = "EMAIL",
          default_value = "admin@leadline.local", value_parser = parse_email)]
    pub admin_email: leadline_core::Email,
    /// Log lines as text or JSON.
    #[arg(long, env = "LEADLINE_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// Addresses provider and LLM calls may reach besides the public internet: IP
    /// addresses, CIDR networks or host names (e.g. 127.0.0.1, 10.0.0.0/8,
    /// kannel.internal), for a self-hosted Kannel or LLM. Loopback, private,
    /// link-local, metadata and other special-purpose addresses are refused otherwise.
    /// Opens them to every workspace's channels and agent settings.
    #[arg(long, env = "LEADLINE_ALLOW_OUTBOUND", value_name = "NET_OR_HOST",
          value_delimiter = ',', num_args = 1..)]
    pub allow_outbound: Vec<Allowed>,
    /// Requests a second (and burst, RATE/BURST) each client address may send without
    /// a valid API key. Keys are limited per workspace (PUT /api/v1/settings/rate-limits).
    #[arg(long, env = "LEADLINE_ANONYMOUS_RATE_LIMIT", value_name = "RATE/BURST",
          value_parser = Bucket::parse, default_value_t = rate_limit::DEFAULT_PER_ADDRESS)]
    pub anonymous_rate_limit: Bucket,
    /// Provider webhook calls a second (and burst, RATE/BURST) per channel.
    #[arg(long, env = "LEADLINE_WEBHOOK_RATE_LIMIT", value_name = "RATE/BURST",
          value_parser = Bucket::parse, default_value_t = rate_limit::DEFAULT_PER_CHANNEL)]
    pub webhook_rate_limit: Bucket,
    /// Behind a proxy: the request header that names the client's address (its last
    /// entry is taken, e.g. X-Forwarded-For). Set it only when the proxy always sets
    /// it; a client could otherwise pick its own address.
    #[arg(long, env = "LEADLINE_CLIENT_ADDRESS_HEADER", value_name = "HEADER")]
    pub client_address_header: Option<axum::http::HeaderName>,
    #[command(flatten)]
    pub keys: crate::secrets_cli::SecretKeyArgs,
}

#[derive(Debug, Subcommand)]
enum WorkspaceCommand {
    /// Create a workspace and its first API key.
    Create {
        #[arg(long)]
        name: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let log_format = match &cli.command {
        Command::Serve(args) => args.log_format,
        _ => LogFormat::Text,
    };
    init_logs(log_format);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn parse_email(raw: &str) -> Result<leadline_core::Email, String> {
    leadline_core::Email::parse(raw)
}

pub(crate) async fn open_store(database: &DatabaseArgs) -> anyhow::Result<Store> {
    Store::open(
        &database.database_url,
        StoreOptions::default(),
        Arc::new(SystemClock),
    )
    .await
    .with_context(|| format!("cannot open the database at {}", database.database_url))
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve(args) => serve::run(args).await,
        Command::Migrate(database) => {
            let store = open_store(&database).await?;
            store.close().await;
            eprintln!("migrations applied to {}", database.database_url);
            Ok(())
        }
        Command::Workspace(WorkspaceCommand::Create { name, database }) => {
            let name = name.trim();
            anyhow::ensure!(!name.is_empty(), "--name must not be empty");
            let store = open_store(&database).await?;
            let (workspace, key) = store.create_workspace(name).await?;
            store.close().await;
            println!(
                "{}",
                json!({"workspaceId": workspace.id.to_string(), "apiKey": key.expose()})
            );
            Ok(())
        }
        Command::Import(ImportCommand::Leads {
            campaign,
            file,
            quiet,
            database,
        }) => {
            let store = open_store(&database).await?;
            let summary = crate::import::import_leads(&store, &campaign, &file, !quiet).await;
            store.close().await;
            let summary = summary?;
            println!("{}", summary.to_json());
            Ok(())
        }
        Command::Secrets(crate::secrets_cli::SecretsCommand::Rotate(args)) => {
            let keys = args.keys.load(&args.database.database_url)?;
            let options = StoreOptions {
                secret_keys: Some(keys),
                ..StoreOptions::default()
            };
            let store = Store::open(&args.database.database_url, options, Arc::new(SystemClock))
                .await
                .with_context(|| {
                    format!("cannot open the database at {}", args.database.database_url)
                })?;
            let rotated = crate::secrets_cli::rotate(args, store.clone()).await;
            store.close().await;
            rotated
        }
        Command::Apikey(command) => apikey::run(command).await,
        Command::User(command) => user::run(command).await,
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::{Cli, Command};

    fn serve_args(args: &[&str]) -> super::ServeArgs {
        let line = ["leadline", "serve"].iter().chain(args).copied();
        match Cli::try_parse_from(line)
            .expect("the arguments parse")
            .command
        {
            Command::Serve(args) => args,
            other => panic!("not serve: {other:?}"),
        }
    }

    #[test]
    fn outbound_allowances_are_listed_or_comma_separated_and_checked() {
        assert!(serve_args(&[]).allow_outbound.is_empty());
        let args = serve_args(&[
            "--allow-outbound",
            "127.0.0.1,10.0.0.0/8",
            "--allow-outbound",
            "kannel.internal",
        ]);
        let shown: Vec<String> = args
            .allow_outbound
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(shown, ["127.0.0.1/32", "10.0.0.0/8", "kannel.internal"]);
        let refused = Cli::try_parse_from(["leadline", "serve", "--allow-outbound", "10.0.0.0/33"]);
        assert!(refused.is_err());
    }

    #[test]
    fn the_shutdown_timeout_defaults_to_30_seconds_and_can_be_set() {
        assert_eq!(serve_args(&[]).shutdown_timeout, 30);
        assert_eq!(serve_args(&["--shutdown-timeout", "5"]).shutdown_timeout, 5);
        let refused = Cli::try_parse_from(["leadline", "serve", "--shutdown-timeout", "soon"]);
        assert!(refused.is_err());
    }
}
