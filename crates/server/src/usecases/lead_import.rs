//! Reading a CSV of leads into a campaign, for the command line's
//! `leadline import leads` and the console's upload. Columns `phoneNumber` (required),
//! `externalId` and `timeZoneId` are the lead's; every other column becomes a callData
//! variable of the same name. Each row is checked exactly as the add-lead endpoint
//! checks a lead ([`check_lead`]); valid rows are written in set-based batches of
//! 5,000; a bad row never stops the rest: it is handed back with its line number and
//! reason.

use std::io::Read;

use leadline_store::campaigns::Campaign;
use leadline_store::leads::NewLead;
use leadline_store::{Store, StoreError};
use serde_json::{Map, Value};

use crate::lead_intake::{AddLeadRequest, check_lead};

/// Valid rows written at once.
const BATCH: usize = 5_000;

/// A row that was not taken.
#[derive(Debug, Clone)]
pub struct RejectedRow {
    /// The row's line in the file (the header is line 1).
    pub line: u64,
    /// Every problem of the row, `field: message` joined by `; `.
    pub reason: String,
    /// The row's cells as read, when it could be read.
    pub record: Option<csv::StringRecord>,
}

/// How many rows were taken and refused so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportCounts {
    pub accepted: usize,
    pub rejected: usize,
}

/// Why an import stopped.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The first line does not name the columns as needed.
    #[error("{0}")]
    Header(String),
    /// The caller could not keep a rejected row.
    #[error("cannot keep a rejected row: {0}")]
    Rejected(#[from] std::io::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Which column holds what.
struct Columns {
    phone: usize,
    external_id: Option<usize>,
    time_zone: Option<usize>,
    call_data: Vec<(usize, String)>,
}

impl Columns {
    fn of(headers: &csv::StringRecord) -> Result<Self, ImportError> {
        let find = |name: &str| {
            headers
                .iter()
                .position(|h| h.trim().eq_ignore_ascii_case(name))
        };
        let phone = find("phoneNumber").ok_or_else(|| {
            ImportError::Header(
                "the CSV has no phoneNumber column; the first line must name the columns, e.g. phoneNumber,externalId,timeZoneId,firstName"
                    .to_owned(),
            )
        })?;
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

/// A CSV of leads whose header line has been read.
pub struct LeadCsv<R> {
    reader: csv::Reader<R>,
    headers: csv::StringRecord,
    columns: Columns,
}

impl<R: Read> LeadCsv<R> {
    /// Reads the header line of `input`.
    pub fn open(input: R) -> Result<Self, ImportError> {
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(input);
        let headers = reader
            .headers()
            .map_err(|error| {
                ImportError::Header(format!("cannot read the CSV's header line: {error}"))
            })?
            .clone();
        let columns = Columns::of(&headers)?;
        Ok(Self {
            reader,
            headers,
            columns,
        })
    }

    /// The header line as read.
    pub fn headers(&self) -> &csv::StringRecord {
        &self.headers
    }

    /// Adds every valid row to `campaign`; hands each refused row to `on_rejected`,
    /// and the bytes read so far to `on_batch` after each batch written.
    pub async fn import(
        mut self,
        store: &Store,
        campaign: &Campaign,
        mut on_rejected: impl FnMut(RejectedRow) -> std::io::Result<()>,
        mut on_batch: impl FnMut(u64, ImportCounts),
    ) -> Result<ImportCounts, ImportError> {
        let mut counts = ImportCounts::default();
        let mut batch: Vec<NewLead> = Vec::with_capacity(BATCH);
        let mut record = csv::StringRecord::new();
        loop {
            let more = match self.reader.read_record(&mut record) {
                Ok(more) => more,
                Err(error) => {
                    let line = error.position().map_or(0, |p| p.line());
                    counts.rejected += 1;
                    on_rejected(RejectedRow {
                        line,
                        reason: format!("unreadable CSV row: {error}"),
                        record: None,
                    })?;
                    continue;
                }
            };
            if !more {
                break;
            }
            let line = record.position().map_or(0, |p| p.line());
            match check_lead(campaign, self.columns.request(&record), "") {
                Ok(lead) => batch.push(lead),
                Err(errors) => {
                    let reason: Vec<String> = errors
                        .into_vec()
                        .into_iter()
                        .map(|e| format!("{}: {}", e.field, e.message))
                        .collect();
                    counts.rejected += 1;
                    on_rejected(RejectedRow {
                        line,
                        reason: reason.join("; "),
                        record: Some(record.clone()),
                    })?;
                }
            }
            if batch.len() == BATCH {
                flush(store, campaign, &mut batch, &mut counts).await?;
                on_batch(self.reader.position().byte(), counts);
            }
        }
        flush(store, campaign, &mut batch, &mut counts).await?;
        on_batch(self.reader.position().byte(), counts);
        Ok(counts)
    }
}

async fn flush(
    store: &Store,
    campaign: &Campaign,
    batch: &mut Vec<NewLead>,
    counts: &mut ImportCounts,
) -> Result<(), StoreError> {
    if !batch.is_empty() {
        store.add_leads(campaign, batch).await?;
        counts.accepted += batch.len();
        batch.clear();
    }
    Ok(())
}
