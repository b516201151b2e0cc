//! The secret keys on the command line: where `serve` and `secrets rotate` find them,
//! and `leadline secrets rotate`, which re-seals every stored secret under a new key
//! while servers keep running.
//!
//! Keys come from `LEADLINE_SECRET_KEY` (with `LEADLINE_PREVIOUS_SECRET_KEYS`), read
//! from the environment only so a key never shows in a process list, else from the key
//! file (`--secret-key-file`; by default `leadline.key` beside a SQLite database,
//! created on first start, or `./leadline.key` for PostgreSQL, never created). See
//! `leadline_store::secret_keys`.
//!
//! Rotating, with a key file (one machine, SQLite): `leadline secrets rotate --generate`
//! writes a new key at the top of the file (the old one stays below it), then re-seals
//! everything under it in batches. A running server needs nothing: it reads the file
//! again when it meets a value sealed under a key it lacks, and seals under the new
//! key once it sees the file changed. Later, `leadline secrets rotate --drop-previous`
//! removes the old key from the file once nothing is sealed under it.
//!
//! Rotating with `LEADLINE_SECRET_KEY` (a PostgreSQL cluster), where running processes
//! cannot learn a new key: (1) give every node the new key as a previous key
//! (`LEADLINE_PREVIOUS_SECRET_KEYS=NEW`) and restart them, so all can read it; (2) make
//! it primary (`LEADLINE_SECRET_KEY=NEW`, `LEADLINE_PREVIOUS_SECRET_KEYS=OLD`) and
//! restart; (3) run `leadline secrets rotate` with that same environment; (4) once it
//! reports `"remaining": 0`, drop the old key from every node. Skipping (1) works too,
//! but during the restart a node still on the old key cannot read what the new ones
//! sealed.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use leadline_core::Secret;
use leadline_store::secrets_rotation::{ResealCursor, ResealScope};
use leadline_store::{KeyConfig, SecretKey, SecretKeys, Store};
use serde_json::json;

/// Where the secret keys are found (besides the environment).
#[derive(Debug, Clone, Args)]
pub struct SecretKeyArgs {
    /// The key file: one key (base64 or hex of 32 bytes) per line, newest first.
    /// Read only when LEADLINE_SECRET_KEY is not set. Default: leadline.key beside a
    /// SQLite database (created on first start; back it up), ./leadline.key for
    /// PostgreSQL (never created: every node must share one key).
    #[arg(long, env = "LEADLINE_SECRET_KEY_FILE", value_name = "PATH")]
    pub secret_key_file: Option<PathBuf>,
}

impl SecretKeyArgs {
    /// Loads the keys for the database at `database_url`.
    pub fn load(&self, database_url: &str) -> anyhow::Result<SecretKeys> {
        let config = KeyConfig {
            key: std::env::var("LEADLINE_SECRET_KEY")
                .ok()
                .filter(|key| !key.trim().is_empty()),
            previous: std::env::var("LEADLINE_PREVIOUS_SECRET_KEYS").ok(),
            file: self.secret_key_file.clone(),
        };
        let keys = config
            .load(database_url)
            .context("cannot load the secret key that seals stored secrets")?;
        tracing::info!(keys = ?keys.ring().key_ids(), file = ?keys.file(), "secret keys loaded");
        Ok(keys)
    }
}

#[derive(Debug, Subcommand)]
pub enum SecretsCommand {
    /// Re-seal every stored secret (channel credentials, LLM keys) under the primary
    /// key, or under a new key first made primary. Safe while servers run. Prints
    /// {"reencrypted": N, "keyId": "…", "remaining": N} on stdout.
    Rotate(RotateArgs),
}

#[derive(Debug, Args)]
pub struct RotateArgs {
    /// The new key (base64 or hex of 32 bytes), made primary before re-sealing; the
    /// current keys stay as previous keys. Prefer the environment variable, which does
    /// not show in a process list. With a key file, the key is written into it.
    #[arg(
        long,
        env = "LEADLINE_NEW_SECRET_KEY",
        hide_env_values = true,
        conflicts_with = "generate",
        value_name = "KEY",
        value_parser = secret_value
    )]
    pub new_key: Option<Secret>,
    /// Generate the new key and write it at the top of the key file.
    #[arg(long)]
    pub generate: bool,
    /// After re-sealing, remove every previous key from the key file, if nothing is
    /// sealed under one any more.
    #[arg(long)]
    pub drop_previous: bool,
    /// Secrets re-sealed per batch.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub batch_size: u32,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
    #[command(flatten)]
    pub keys: SecretKeyArgs,
    #[command(flatten)]
    pub database: crate::cli::DatabaseArgs,
}

/// Reads a key given on the command line into a [`Secret`], so `Debug` of the parsed
/// arguments never shows it.
fn secret_value(text: &str) -> Result<Secret, String> {
    Ok(Secret::new(text))
}

/// Passes over the stored secrets before giving up on values that servers keep
/// sealing under an older key (servers that do not have the new key as primary yet).
const MAX_PASSES: usize = 3;

pub async fn rotate(args: RotateArgs, store: Store) -> anyhow::Result<()> {
    let keys = store
        .secret_keys()
        .cloned()
        .context("the store was opened without secret keys")?;
    let new_key = match (&args.new_key, args.generate) {
        (Some(text), _) => Some(SecretKey::parse(
            text.expose(),
            "--new-key (LEADLINE_NEW_SECRET_KEY)",
        )?),
        (None, true) => {
            anyhow::ensure!(
                keys.file().is_some(),
                "--generate writes the new key into the key file, but the keys come from LEADLINE_SECRET_KEY: \
                 pass the new key with LEADLINE_NEW_SECRET_KEY, and give every server LEADLINE_SECRET_KEY=NEW \
                 and LEADLINE_PREVIOUS_SECRET_KEYS=OLD first"
            );
            Some(SecretKey::generate())
        }
        (None, false) => None,
    };
    if let Some(key) = new_key {
        keys.promote(key)?;
        match keys.file() {
            Some(file) => eprintln!(
                "new primary key written to {}: back this file up",
                file.display()
            ),
            None => eprintln!(
                "re-sealing under the new key; servers must already have it (LEADLINE_SECRET_KEY or LEADLINE_PREVIOUS_SECRET_KEYS) to read what this writes"
            ),
        }
    }
    let key_id = keys.ring().primary().id().to_owned();
    let total = store.secrets_to_reseal().await?;
    let bar = if args.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(total)
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} secrets re-sealed",
        )
        .expect("a valid template"),
    );
    let mut reencrypted = 0;
    let mut remaining = total;
    for _ in 0..MAX_PASSES {
        let mut cursor = ResealCursor::default();
        loop {
            let pass = store
                .reseal_batch(ResealScope::NotPrimary, &mut cursor, args.batch_size)
                .await?;
            reencrypted += pass.resealed;
            bar.inc(pass.resealed);
            if pass.seen == 0 {
                break;
            }
        }
        remaining = store.secrets_to_reseal().await?;
        if remaining == 0 {
            break;
        }
        bar.inc_length(remaining);
    }
    bar.finish_and_clear();
    store.checkpoint_after_reseal().await?;
    if args.drop_previous {
        anyhow::ensure!(
            remaining == 0,
            "{remaining} stored secrets are still sealed under an older key (a server without the new key as primary keeps writing them); the previous keys were kept"
        );
        keys.drop_previous()?;
        if keys.file().is_none() {
            eprintln!(
                "nothing is sealed under a previous key any more: remove LEADLINE_PREVIOUS_SECRET_KEYS from every node"
            );
        }
    }
    println!(
        "{}",
        json!({"reencrypted": reencrypted, "keyId": key_id, "remaining": remaining})
    );
    Ok(())
}
