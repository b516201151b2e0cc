//! `leadline import leads --campaign ID FILE.csv`: streams a CSV of leads into a
//! campaign, validating each row exactly as the add-lead endpoint does. Columns
//! `phoneNumber` (required), `externalId` and `timeZoneId` are the lead's; every other
//! column becomes a callData variable of the same name. Valid rows are written in
//! set-based batches of 5,000; a bad row never stops the rest: it is written with its
//! line number and reason to `FILE.rejected.csv`. A progress bar on stderr follows the
//! bytes read; the summary is one JSON object on stdout.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use leadline_core::CampaignId;
use leadline_store::Store;
use leadline_store::campaigns::Campaign;
use leadline_store::leads::NewLead;
use serde_json::{Map, Value, json};

use crate::lead_intake::{AddLeadRequest, check_lead};

const BATCH: usize = 5_000;

/// What an import did.
#[derive(Debug, Default)]
pub struct ImportSummary {
    pub accepted: usize,
    pub rejected: usize,
    pub rejected_file: Option<PathBuf>,
}

/// Which column holds what.
struct Columns {
    phone: usize,
    external_id: Option<usize>,
    time_zone: Option<usize>,
    call_data: Vec<(usize, String)>,
}

impl Columns {
    fn of(headers: &csv::StringRecord) -> anyhow::Result<Self> {
        let find = |name: &str| {
            headers
                .iter()
                .position(|h| h.trim().eq_ignore_ascii_case(name))
        };
        let phone = find("phoneNumber").context(
            "the CSV has no phoneNumber column; the first line must name the columns, e.g. phoneNumber,externalId,timeZoneId,firstName",
        )?;
        let external_id = find("externalId");
        let time_zone = find("timeZoneId");
        let call_data = headers
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != phone && Some(*i) != external_id && Some(*i) != time_zone)
            .map(|(i, h)| (i, h.trim().to_owned()))
            .collect();
        Ok(Self {
            phone,
            external_id,
            time_zone,
            call_data,
        })
    }

    fn request(&self, record: &csv::StringRecord) -> AddLeadRequest {
        let cell = |i: usize| {
            record
                .get(i)
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let call_data: Map<String, Value> = self
            .call_data
            .iter()
            .filter_map(|(i, name)| cell(*i).map(|v| (name.clone(), Value::String(v))))
            .collect();
        AddLeadRequest {
            phone_number: cell(self.phone).unwrap_or_default(),
            external_id: self.external_id.and_then(cell),
            time_zone_id: self.time_zone.and_then(cell),
            call_data: Some(call_data),
        }
    }
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
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(BufReader::new(
            File::open(file).with_context(|| format!("cannot open {}", file.display()))?,
        ));
    let columns = Columns::of(
        reader
            .headers()
            .context("cannot read the CSV's header line")?,
    )?;
    let rejected_path = rejected_path(file);
    let mut rejected_writer: Option<csv::Writer<File>> = None;
    let mut summary = ImportSummary::default();
    let mut batch: Vec<NewLead> = Vec::with_capacity(BATCH);
    let mut record = csv::StringRecord::new();
    loop {
        let more = match reader.read_record(&mut record) {
            Ok(more) => more,
            Err(error) => {
                let line = error.position().map_or(0, |p| p.line());
                reject(
                    &mut rejected_writer,
                    &rejected_path,
                    &mut summary,
                    line,
                    &format!("unreadable CSV row: {error}"),
                )?;
                continue;
            }
        };
        if !more {
            break;
        }
        let line = record.position().map_or(0, |p| p.line());
        match check_lead(&campaign, columns.request(&record), "") {
            Ok(lead) => batch.push(lead),
            Err(errors) => {
                let reason: Vec<String> = errors
                    .into_vec()
                    .into_iter()
                    .map(|e| format!("{}: {}", e.field, e.message))
                    .collect();
                reject(
                    &mut rejected_writer,
                    &rejected_path,
                    &mut summary,
                    line,
                    &reason.join("; "),
                )?;
            }
        }
        if batch.len() == BATCH {
            flush(store, &campaign, &mut batch, &mut summary).await?;
            bar.set_position(reader.position().byte());
            bar.set_message(format!(
                "{} accepted, {} rejected",
                summary.accepted, summary.rejected
            ));
        }
    }
    flush(store, &campaign, &mut batch, &mut summary).await?;
    if let Some(mut writer) = rejected_writer {
        writer.flush()?;
        summary.rejected_file = Some(rejected_path);
    }
    bar.finish_with_message(format!(
        "{} accepted, {} rejected",
        summary.accepted, summary.rejected
    ));
    Ok(summary)
}

async fn flush(
    store: &Store,
    campaign: &Campaign,
    batch: &mut Vec<NewLead>,
    summary: &mut ImportSummary,
) -> anyhow::Result<()> {
    if !batch.is_empty() {
        store.add_leads(campaign, batch).await?;
        summary.accepted += batch.len();
        batch.clear();
    }
    Ok(())
}

fn reject(
    writer: &mut Option<csv::Writer<File>>,
    path: &Path,
    summary: &mut ImportSummary,
    line: u64,
    reason: &str,
) -> anyhow::Result<()> {
    if writer.is_none() {
        let mut created = csv::Writer::from_path(path)
            .with_context(|| format!("cannot write {}", path.display()))?;
        created.write_record(["line", "reason"])?;
        *writer = Some(created);
    }
    writer
        .as_mut()
        .expect("created above")
        .write_record([line.to_string(), reason.to_owned()])?;
    summary.rejected += 1;
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
