//! `leadline user create | set-password`: console logins from the command line. As
//! everywhere in the CLI, stdout carries only JSON and people read stderr.

use std::io::BufRead;

use anyhow::Context;
use clap::Subcommand;
use leadline_core::user::Role;
use leadline_core::{Email, WorkspaceId};
use serde_json::json;

use super::{DatabaseArgs, open_store};
use crate::usecases::logins;

#[derive(Debug, Subcommand)]
pub(super) enum UserCommand {
    /// Create a user who can log in to the console; prints a one-time password once,
    /// which they replace at their first login.
    Create {
        #[arg(long)]
        workspace: String,
        #[arg(long)]
        email: String,
        /// admin (everything in the workspace) or advisor (their conversations and
        /// their teams' queues).
        #[arg(long, value_parser = ["admin", "advisor"])]
        role: String,
        #[arg(long)]
        first_name: Option<String>,
        #[arg(long)]
        last_name: Option<String>,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Set a user's password, read from the first line of stdin; ends their sessions.
    SetPassword {
        #[arg(long)]
        email: String,
        /// The workspace, when the email is a user of several.
        #[arg(long)]
        workspace: Option<String>,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

fn email(raw: &str) -> anyhow::Result<Email> {
    Email::parse(raw).map_err(|reason| anyhow::anyhow!("--email '{raw}': {reason}"))
}

fn workspace_id(raw: &str) -> anyhow::Result<WorkspaceId> {
    raw.parse()
        .with_context(|| format!("--workspace '{raw}' is not a workspace id (a UUID)"))
}

pub(super) async fn run(command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Create {
            workspace,
            email: raw_email,
            role,
            first_name,
            last_name,
            database,
        } => {
            let workspace = workspace_id(&workspace)?;
            let email = email(&raw_email)?;
            let role = if role == "admin" {
                Role::Admin
            } else {
                Role::Advisor
            };
            let store = open_store(&database).await?;
            anyhow::ensure!(
                store.workspace(workspace).await?.is_some(),
                "--workspace {workspace}: no such workspace in this database"
            );
            let invited =
                logins::invite(&store, workspace, email, role, first_name, last_name).await;
            store.close().await;
            let invited = invited?;
            eprintln!(
                "created {} ({}); they log in with this one-time password and then choose their own",
                invited.user.email.as_str(),
                role.as_str().to_lowercase()
            );
            println!(
                "{}",
                json!({
                    "userId": invited.user.id.to_string(),
                    "workspaceId": workspace.to_string(),
                    "email": invited.user.email.as_str(),
                    "role": role.as_str(),
                    "oneTimePassword": invited.one_time_password,
                })
            );
            Ok(())
        }
        UserCommand::SetPassword {
            email: raw_email,
            workspace,
            database,
        } => {
            let email = email(&raw_email)?;
            let workspace = workspace.as_deref().map(workspace_id).transpose()?;
            let mut password = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut password)
                .context("cannot read the password from stdin")?;
            let password = password.trim_end_matches(['\r', '\n']).to_owned();
            let store = open_store(&database).await?;
            let result = set_password(&store, &email, workspace, password).await;
            store.close().await;
            let (user, ended) = result?;
            eprintln!(
                "password set for {}; {ended} session(s) ended",
                user.email.as_str()
            );
            println!(
                "{}",
                json!({"userId": user.id.to_string(), "workspaceId": user.workspace_id.to_string(), "sessionsEnded": ended})
            );
            Ok(())
        }
    }
}

async fn set_password(
    store: &leadline_store::Store,
    email: &Email,
    workspace: Option<WorkspaceId>,
    password: String,
) -> anyhow::Result<(leadline_store::users::User, u64)> {
    let users: Vec<_> = store
        .users_with_email(email)
        .await?
        .into_iter()
        .filter(|user| workspace.is_none_or(|w| user.workspace_id == w))
        .collect();
    let user = match users.as_slice() {
        [user] => user.clone(),
        [] => anyhow::bail!(
            "--email {}: no such user{}; create one with `leadline user create`",
            email.as_str(),
            workspace
                .map(|w| format!(" in workspace {w}"))
                .unwrap_or_default()
        ),
        _ => anyhow::bail!(
            "--email {} is a user of {} workspaces; name one with --workspace",
            email.as_str(),
            users.len()
        ),
    };
    let ended = logins::set_password(store, &user, password).await?;
    Ok((user, ended))
}
