//! `leadline apikey create | list | revoke`: API keys from the command line, for the
//! operator who has the database but no key. As everywhere in the CLI, stdout carries
//! only JSON (one object, or one line per key for `list`) and people read stderr.

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::Subcommand;
use leadline_core::api_key::{expiry, key_name};
use leadline_core::{ApiKeyId, ApiKeyScope, WorkspaceId};
use leadline_store::Store;
use leadline_store::api_keys::{ApiKeyRecord, NewApiKey};
use serde_json::{Value, json};

use super::{DatabaseArgs, open_store};
use crate::auth::keys::TRUST_WINDOW;
use crate::extract::timestamp;

#[derive(Debug, Subcommand)]
pub(super) enum ApikeyCommand {
    /// Create another API key for a workspace; prints it once.
    Create {
        #[arg(long)]
        workspace: String,
        /// A label to tell keys apart.
        #[arg(long)]
        name: Option<String>,
        /// full (default) or read_only (GET and HEAD only).
        #[arg(long)]
        scope: Option<String>,
        /// When the key stops working (RFC 3339, e.g. 2027-01-31T00:00:00Z).
        #[arg(long)]
        expires_at: Option<String>,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// List a workspace's keys that are not revoked: one JSON object a line on stdout
    /// (never the key itself), a count on stderr.
    List {
        #[arg(long)]
        workspace: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Revoke a key by its id. Running servers refuse it once this command returns.
    Revoke {
        /// The key's id, as `list` shows it.
        id: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

fn workspace_id(raw: &str) -> anyhow::Result<WorkspaceId> {
    raw.parse()
        .with_context(|| format!("--workspace '{raw}' is not a workspace id (a UUID)"))
}

/// A key as `list` prints it: the API's fields, never the key.
fn key_json(key: &ApiKeyRecord) -> Value {
    json!({
        "id": key.id.to_string(),
        "workspaceId": key.workspace_id.to_string(),
        "name": key.name,
        "prefix": key.prefix,
        "scope": key.scope,
        "createdAt": timestamp(key.created_at),
        "lastUsedAt": key.last_used_at.map(timestamp),
        "expiresAt": key.expires_at.map(timestamp),
    })
}

fn new_key(
    name: Option<String>,
    scope: Option<String>,
    expires_at: Option<String>,
    now: DateTime<Utc>,
) -> anyhow::Result<NewApiKey> {
    let name = name
        .map(|n| key_name("--name", &n).map_err(|e| anyhow::anyhow!("{}: {}", e.field, e.message)))
        .transpose()?;
    let scope = scope
        .map(|s| {
            ApiKeyScope::parse(&s)
                .with_context(|| format!("--scope must be {}", ApiKeyScope::expected()))
        })
        .transpose()?;
    let expires_at = expires_at
        .map(|raw| -> anyhow::Result<DateTime<Utc>> {
            let at = DateTime::parse_from_rfc3339(raw.trim())
                .with_context(|| format!("--expires-at '{raw}' is not an RFC 3339 date-time"))?
                .with_timezone(&Utc);
            expiry("--expires-at", at, now)
                .map_err(|e| anyhow::anyhow!("{}: {}", e.field, e.message))
        })
        .transpose()?;
    Ok(NewApiKey {
        name,
        scope,
        expires_at,
    })
}

pub(super) async fn run(command: ApikeyCommand) -> anyhow::Result<()> {
    match command {
        ApikeyCommand::Create {
            workspace,
            name,
            scope,
            expires_at,
            database,
        } => {
            let workspace_id = workspace_id(&workspace)?;
            let new = new_key(name, scope, expires_at, Utc::now())?;
            let store = open_store(&database).await?;
            let issued = store.issue_api_key(workspace_id, new).await;
            store.close().await;
            let (record, key) = issued?.with_context(|| {
                format!("no workspace {workspace_id}; create one with `leadline workspace create`")
            })?;
            println!(
                "{}",
                json!({"workspaceId": workspace_id.to_string(), "apiKey": key.expose(), "id": record.id.to_string()})
            );
            Ok(())
        }
        ApikeyCommand::List {
            workspace,
            database,
        } => {
            let workspace_id = workspace_id(&workspace)?;
            let store = open_store(&database).await?;
            let listed = all_keys(&store, workspace_id).await;
            store.close().await;
            let keys = listed?;
            for key in &keys {
                println!("{}", key_json(key));
            }
            eprintln!(
                "{} API key(s) in force or expired in workspace {workspace_id}",
                keys.len()
            );
            Ok(())
        }
        ApikeyCommand::Revoke { id, database } => {
            let key_id: ApiKeyId = id
                .parse()
                .with_context(|| format!("'{id}' is not an API key id (a UUID)"))?;
            let store = open_store(&database).await?;
            let revoked = store.revoke_api_key(None, key_id).await;
            store.close().await;
            let revoked = revoked?.with_context(|| {
                format!("no API key {key_id} in force (unknown, or revoked already)")
            })?;
            // Servers trust their cached keys only as long as their last look at the key
            // generation is this recent: once this passed, none lets the key through.
            tokio::time::sleep(TRUST_WINDOW).await;
            eprintln!(
                "revoked API key {key_id} of workspace {}",
                revoked.workspace_id
            );
            println!(
                "{}",
                json!({
                    "id": key_id.to_string(),
                    "workspaceId": revoked.workspace_id.to_string(),
                    "revokedAt": revoked.revoked_at.map(timestamp),
                })
            );
            Ok(())
        }
    }
}

/// Every page of the workspace's keys.
async fn all_keys(store: &Store, workspace_id: WorkspaceId) -> anyhow::Result<Vec<ApiKeyRecord>> {
    const PAGE: u32 = 500;
    let mut keys: Vec<ApiKeyRecord> = Vec::new();
    loop {
        let after = keys.last().map(|k| k.id);
        let page = store.api_keys(workspace_id, after, PAGE).await?;
        let full = page.len() == PAGE as usize;
        keys.extend(page);
        if !full {
            return Ok(keys);
        }
    }
}
