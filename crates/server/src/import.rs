//! `leadline import leads --campaign ID FILE.csv`: streams a CSV of leads into a
//! campaign through [`crate::usecases::lead_import`], which checks each row exactly as
//! the add-lead endpoint does and writes valid rows in set-based batches; a bad row
//! never stops the rest: it is written with its line number and reason to
//! `FILE.rejected.csv`. A progress bar on stderr follows the bytes read; the summary is
//! one JSON object on stdout.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use leadline_core::CampaignId;
use leadline_store::Store;
use serde_json::{Value, json};

use crate::usecases::lead_import::{ImportCounts, LeadCsv, RejectedRow};

/// What an import did.
#[derive(Debug, Default)]
pub struct ImportSummary {
    pub accepted: usize,
    pub rejected: usize,
    pub rejected_file: Option<PathBuf>,
}

/// Imports `file` into the campaign `campaign_id`.
pub async fn import_leads(
    store: &Store,
    campaign_id: &str,
    file: &Path,
    progress: bool,
) -> anyhow::Result<ImportSummary> {
    let campaign_id: CampaignId = campaign_id
        .parse()
        .with_context(|| format!("--campaign '{campaign_id}' is not a campaign id (a UUID)"))?;
    let campaign = store
        .campaign_by_id(campaign_id)
        .await?
        .with_context(|| format!("no campaign {campaign_id} in this database"))?;
    let size = std::fs::metadata(file)
        .with_context(|| format!("cannot read {}", file.display()))?
        .len();
    let bar = if progress {
        ProgressBar::new(size)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {msg}",
        )
        .expect("a valid template"),
    );
    let csv = LeadCsv::open(BufReader::new(
        File::open(file).with_context(|| format!("cannot open {}", file.display()))?,
    ))?;
    let rejected_path = rejected_path(file);
    let mut rejected_writer: Option<csv::Writer<File>> = None;
    let counts = csv
        .import(
            store,
            &campaign,
            |row| reject(&mut rejected_writer, &rejected_path, &row),
            |bytes, counts| {
                bar.set_position(bytes);
                bar.set_message(message(counts));
            },
        )
        .await?;
    let mut summary = ImportSummary {
        accepted: counts.accepted,
        rejected: counts.rejected,
        rejected_file: None,
    };
    if let Some(mut writer) = rejected_writer {
        writer.flush()?;
        summary.rejected_file = Some(rejected_path);
    }
    bar.finish_with_message(message(counts));
    Ok(summary)
}

fn message(counts: ImportCounts) -> String {
    format!("{} accepted, {} rejected", counts.accepted, counts.rejected)
}

/// Writes a refused row to the rejected file, created at the first one.
fn reject(
    writer: &mut Option<csv::Writer<File>>,
    path: &Path,
    row: &RejectedRow,
) -> std::io::Result<()> {
    if writer.is_none() {
        let mut created = csv::Writer::from_path(path)?;
        created.write_record(["line", "reason"])?;
        *writer = Some(created);
    }
    writer
        .as_mut()
        .expect("created above")
        .write_record([row.line.to_string(), row.reason.clone()])?;
    Ok(())
}

/// `leads.csv` → `leads.rejected.csv`, beside it.
fn rejected_path(file: &Path) -> PathBuf {
    let stem = file.file_stem().and_then(|s| s.to_str()).unwrap_or("leads");
    file.with_file_name(format!("{stem}.rejected.csv"))
}

impl ImportSummary {
    pub fn to_json(&self) -> Value {
        json!({
            "accepted": self.accepted,
            "rejected": self.rejected,
            "rejectedFile": self.rejected_file.as_ref().map(|p| p.display().to_string()),
        })
    }
}
