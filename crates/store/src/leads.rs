//! Leads of campaigns: adding (an `externalId` names the same lead again), reading,
//! the scheduler's due query, and recording gate decisions and attempts.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use leadline_core::campaign::{LeadDecision, LeadStatus};
use leadline_core::event::EventType;
use leadline_core::{CampaignId, ContactId, ConversationId, E164, LeadId, WorkspaceId};

use crate::backend::on_write;
use crate::campaigns::Campaign;
use crate::contacts::ContactUpsert;
use crate::events::{record_events, resources};
use crate::rows::{
    Arg, FromStoreRow, StoreRow, fetch_all, fetch_all_on_writer, fetch_optional, to_micros,
};
use crate::{Store, StoreError};

mod bulk;

/// How many attempt instants a lead keeps: enough for any frequency cap.
const KEPT_ATTEMPT_TIMES: usize = 10;

#[derive(Debug, Clone, PartialEq)]
pub struct Lead {
    pub id: LeadId,
    pub workspace_id: WorkspaceId,
    pub campaign_id: CampaignId,
    pub contact_id: ContactId,
    pub phone_number: E164,
    pub external_id: Option<String>,
    /// The lead's own IANA zone, when it was given one.
    pub time_zone: Option<String>,
    pub call_data: BTreeMap<String, String>,
    pub status: LeadStatus,
    pub attempts: u32,
    /// The latest attempts, newest last.
    pub attempt_times: Vec<DateTime<Utc>>,
    /// When the scheduler looks at the lead again; `None` once it is finished.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The last gate decision and its reason.
    pub last_decision: Option<LeadDecision>,
    pub last_decision_reason: Option<String>,
    pub last_decision_at: Option<DateTime<Utc>>,
    pub conversation_id: Option<ConversationId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A lead as a client adds it.
#[derive(Debug, Clone)]
pub struct NewLead {
    pub phone_number: E164,
    pub external_id: Option<String>,
    pub time_zone: Option<String>,
    pub call_data: BTreeMap<String, String>,
}

/// What the scheduler decided for a lead.
#[derive(Debug, Clone)]
pub struct LeadUpdate {
    pub status: LeadStatus,
    pub attempted_at: Option<DateTime<Utc>>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub decision: LeadDecision,
    pub reason: String,
    pub conversation_id: Option<ConversationId>,
}

macro_rules! lead_columns {
    () => {
        "id, workspace_id, campaign_id, contact_id, phone_number, external_id, time_zone, call_data, status, \
         attempts, attempt_times, next_attempt_at, last_decision, last_decision_reason, last_decision_at, \
         conversation_id, created_at, updated_at"
    };
}
pub(crate) use lead_columns;

impl FromStoreRow for Lead {
    fn from_row(row: &impl StoreRow) -> Result<Self, StoreError> {
        Ok(Lead {
            id: row.id("id")?,
            workspace_id: row.id("workspace_id")?,
            campaign_id: row.id("campaign_id")?,
            contact_id: row.id("contact_id")?,
            phone_number: E164::from_trusted(row.text("phone_number")?),
            external_id: row.optional_text("external_id")?,
            time_zone: row.optional_text("time_zone")?,
            call_data: row.json("call_data")?,
            status: row.parsed("status", LeadStatus::parse)?,
            attempts: u32::try_from(row.int("attempts")?).unwrap_or(0),
            attempt_times: row
                .json::<Vec<i64>>("attempt_times")?
                .into_iter()
                .map(crate::rows::from_micros)
                .collect::<Result<_, _>>()?,
            next_attempt_at: row.optional_time("next_attempt_at")?,
            last_decision: row.optional_parsed("last_decision", LeadDecision::parse)?,
            last_decision_reason: row.optional_text("last_decision_reason")?,
            last_decision_at: row.optional_time("last_decision_at")?,
            conversation_id: row.optional_id("conversation_id")?,
            created_at: row.time("created_at")?,
            updated_at: row.time("updated_at")?,
        })
    }
}

/// The lead's attempt count and stored attempt times (a JSON array of microseconds)
/// after `update`.
pub(crate) fn lead_row(lead: &Lead, update: &LeadUpdate) -> (i64, String) {
    let mut attempts = lead.attempts;
    let mut times: Vec<i64> = lead.attempt_times.iter().map(|t| to_micros(*t)).collect();
    if let Some(at) = update.attempted_at {
        attempts += 1;
        times.push(to_micros(at));
        let excess = times.len().saturating_sub(KEPT_ATTEMPT_TIMES);
        times.drain(..excess);
    }
    let times = serde_json::to_string(&times).expect("numbers serialize");
    (i64::from(attempts), times)
}

impl Store {
    /// Adds a lead to `campaign`, linked to the workspace contact with its cellphone
    /// (created when missing). A lead with the `external_id` of an earlier one in the
    /// same campaign updates that lead instead (same id, `false`). A new lead is due
    /// at once; the scheduler's gate decides when it is really contacted.
    pub async fn add_lead(
        &self,
        campaign: &Campaign,
        new: NewLead,
    ) -> Result<(Lead, bool), StoreError> {
        let contact = self
            .upsert_contact(ContactUpsert::cellphone_only(
                campaign.workspace_id,
                new.phone_number.clone(),
            ))
            .await?
            .map_err(|errors| StoreError::Corrupt(format!("lead contact refused: {errors:?}")))?
            .contact;
        let now = self.clock.now();
        let id = LeadId::new();
        let call_data = serde_json::to_string(&new.call_data).expect("strings serialize");
        let lead: Lead = on_write!(&self.backend, pool => {
            let mut tx = pool.begin().await?;
            let row = sqlx::query(concat!(
                "INSERT INTO leads (", lead_columns!(), ") \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'New', 0, '[]', $9, NULL, NULL, NULL, NULL, $9, $9) \
                 ON CONFLICT (campaign_id, external_id) WHERE external_id IS NOT NULL DO UPDATE SET \
                 contact_id = excluded.contact_id, phone_number = excluded.phone_number, \
                 time_zone = excluded.time_zone, call_data = excluded.call_data, updated_at = excluded.updated_at \
                 RETURNING ", lead_columns!()
            ))
            .bind(id.to_string())
            .bind(campaign.workspace_id.to_string())
            .bind(campaign.id.to_string())
            .bind(contact.id.to_string())
            .bind(new.phone_number.as_str())
            .bind(new.external_id.as_deref())
            .bind(new.time_zone.as_deref())
            .bind(&call_data)
            .bind(to_micros(now))
            .fetch_one(&mut *tx)
            .await?;
            let lead = Lead::from_row(&row)?;
            if lead.id == id {
                let added = [resources::lead(EventType::LeadAdded, &lead, now)];
                record_events!(tx, &added, now);
            }
            tx.commit().await?;
            lead
        });
        let created = lead.id == id;
        Ok((lead, created))
    }

    pub async fn lead(
        &self,
        workspace_id: WorkspaceId,
        lead_id: LeadId,
    ) -> Result<Option<Lead>, StoreError> {
        let sql = concat!(
            "SELECT ",
            lead_columns!(),
            " FROM leads WHERE workspace_id = $1 AND id = $2"
        );
        fetch_optional(
            &self.backend,
            sql,
            vec![workspace_id.to_string().into(), lead_id.to_string().into()],
        )
        .await
    }

    /// One page of a campaign's leads in creation order, optionally of one status.
    pub async fn list_leads(
        &self,
        workspace_id: WorkspaceId,
        campaign_id: CampaignId,
        status: Option<LeadStatus>,
        after: Option<LeadId>,
        limit: u32,
    ) -> Result<Vec<Lead>, StoreError> {
        let sql = concat!(
            "SELECT ",
            lead_columns!(),
            " FROM leads \
             WHERE workspace_id = $1 AND campaign_id = $2 AND id > $3 AND ($4 = '' OR status = $4) \
             ORDER BY id LIMIT $5"
        );
        let args: Vec<Arg> = vec![
            workspace_id.to_string().into(),
            campaign_id.to_string().into(),
            after.map(|a| a.to_string()).unwrap_or_default().into(),
            status.map(|s| s.as_str()).unwrap_or_default().into(),
            i64::from(limit).into(),
        ];
        fetch_all(&self.backend, sql, args).await
    }

    /// Claims up to `limit` of the campaign's leads due at `now`, soonest first (a range
    /// scan of `leads_due`): their next attempt moves `lease` ahead, so another
    /// scheduler (or this one's next tick) does not take them too, and a scheduler that
    /// dies holding them gives them back when the lease ends. The caller then records
    /// its decision with [`Store::update_lead`]. PostgreSQL skips rows another node has
    /// locked.
    pub async fn claim_due_leads(
        &self,
        campaign_id: CampaignId,
        now: DateTime<Utc>,
        limit: u32,
        lease: chrono::Duration,
    ) -> Result<Vec<Lead>, StoreError> {
        let sql = match &self.backend {
            crate::Backend::Sqlite { .. } => concat!(
                "UPDATE leads SET next_attempt_at = $1 WHERE id IN (SELECT id FROM leads \
                 WHERE campaign_id = $2 AND next_attempt_at IS NOT NULL AND next_attempt_at <= $3 \
                 ORDER BY next_attempt_at LIMIT $4) RETURNING ",
                lead_columns!()
            ),
            crate::Backend::Postgres(_) => concat!(
                "UPDATE leads SET next_attempt_at = $1 WHERE id IN (SELECT id FROM leads \
                 WHERE campaign_id = $2 AND next_attempt_at IS NOT NULL AND next_attempt_at <= $3 \
                 ORDER BY next_attempt_at LIMIT $4 FOR UPDATE SKIP LOCKED) RETURNING ",
                lead_columns!()
            ),
        };
        let args: Vec<Arg> = vec![
            to_micros(now + lease).into(),
            campaign_id.to_string().into(),
            to_micros(now).into(),
            i64::from(limit).into(),
        ];
        let mut leads: Vec<Lead> = fetch_all_on_writer(&self.backend, sql, args).await?;
        leads.sort_by_key(|l| l.id);
        Ok(leads)
    }

    /// Records what the scheduler decided for a lead (and the attempt, when one was
    /// made).
    pub async fn update_lead(&self, lead: &Lead, update: LeadUpdate) -> Result<(), StoreError> {
        let now = self.clock.now();
        let (attempts, times) = lead_row(lead, &update);
        on_write!(&self.backend, pool => {
            let mut tx = pool.begin().await?;
            let row = sqlx::query(concat!(
                "UPDATE leads SET status = $1, attempts = $2, attempt_times = $3, next_attempt_at = $4, \
                 last_decision = $5, last_decision_reason = $6, last_decision_at = $7, \
                 conversation_id = COALESCE($8, conversation_id), updated_at = $7 WHERE id = $9 RETURNING ",
                lead_columns!()
            ))
            .bind(update.status.as_str())
            .bind(attempts)
            .bind(times)
            .bind(update.next_attempt_at.map(to_micros))
            .bind(update.decision.as_str())
            .bind(&update.reason)
            .bind(to_micros(now))
            .bind(update.conversation_id.map(|c| c.to_string()))
            .bind(lead.id.to_string())
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(row) = row {
                let events = resources::lead_changes(lead, &Lead::from_row(&row)?, now);
                record_events!(tx, &events, now);
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// How many leads of the campaign are in each status, and the attempts made.
    pub async fn lead_counts(
        &self,
        campaign_id: CampaignId,
    ) -> Result<(BTreeMap<String, u64>, u64), StoreError> {
        let rows: Vec<StatusCount> = fetch_all(
            &self.backend,
            "SELECT status, COUNT(*) AS leads, CAST(SUM(attempts) AS BIGINT) AS attempts FROM leads WHERE campaign_id = $1 GROUP BY status",
            vec![campaign_id.to_string().into()],
        )
        .await?;
        let attempts = rows.iter().map(|r| r.attempts).sum();
        Ok((
            rows.into_iter().map(|r| (r.status, r.leads)).collect(),
            attempts,
        ))
    }

    /// The earliest next attempt among the campaign's leads.
    pub async fn next_lead_due(
        &self,
        campaign_id: CampaignId,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let row: Option<NextDue> = fetch_optional(
            &self.backend,
            "SELECT MIN(next_attempt_at) AS due FROM leads WHERE campaign_id = $1 AND next_attempt_at IS NOT NULL",
            vec![campaign_id.to_string().into()],
        )
        .await?;
        Ok(row.and_then(|r| r.0))
    }
}

struct StatusCount {
    status: String,
    leads: u64,
    attempts: u64,
}

impl FromStoreRow for StatusCount {
    fn from_row(row: &impl StoreRow) -> Result<Self, StoreError> {
        Ok(StatusCount {
            status: row.text("status")?,
            leads: u64::try_from(row.int("leads")?).unwrap_or(0),
            attempts: u64::try_from(row.optional_int("attempts")?.unwrap_or(0)).unwrap_or(0),
        })
    }
}

struct NextDue(Option<DateTime<Utc>>);

impl FromStoreRow for NextDue {
    fn from_row(row: &impl StoreRow) -> Result<Self, StoreError> {
        Ok(NextDue(row.optional_time("due")?))
    }
}

impl Store {
    /// The lead whose call in `conversation_id` is still waiting for its outcome.
    pub async fn lead_waiting_on(
        &self,
        conversation_id: ConversationId,
    ) -> Result<Option<Lead>, StoreError> {
        let sql = concat!(
            "SELECT ",
            lead_columns!(),
            " FROM leads WHERE conversation_id = $1 AND status IN ('InCallQueue', 'OnCall') \
             ORDER BY id LIMIT 1"
        );
        fetch_optional(&self.backend, sql, vec![conversation_id.to_string().into()]).await
    }
}

/// A campaign's sends and pace, for its statistics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CampaignActivity {
    /// Outbound messages and calls of the campaign's conversations, by status.
    pub sends_by_status: BTreeMap<String, u64>,
    /// Leads still waiting for an attempt.
    pub remaining: u64,
    /// Attempts made in the hour before `now`.
    pub attempts_last_hour: u64,
}

struct Count {
    key: String,
    count: u64,
}

impl FromStoreRow for Count {
    fn from_row(row: &impl StoreRow) -> Result<Self, StoreError> {
        Ok(Count {
            key: row.text("key")?,
            count: u64::try_from(row.int("n")?).unwrap_or(0),
        })
    }
}

impl Store {
    /// What the campaign has sent, what is left, and its pace over the last hour.
    pub async fn campaign_activity(
        &self,
        campaign_id: CampaignId,
        now: DateTime<Utc>,
    ) -> Result<CampaignActivity, StoreError> {
        let id = campaign_id.to_string();
        let sends: Vec<Count> = fetch_all(
            &self.backend,
            "SELECT m.status AS key, COUNT(*) AS n FROM conversations c JOIN messages m ON m.conversation_id = c.id \
             WHERE c.campaign_id = $1 AND m.direction = 'outbound' GROUP BY m.status",
            vec![id.clone().into()],
        )
        .await?;
        let pace: Vec<Count> = fetch_all(
            &self.backend,
            "SELECT CASE WHEN next_attempt_at IS NULL THEN 'done' ELSE 'remaining' END AS key, COUNT(*) AS n FROM leads \
             WHERE campaign_id = $1 GROUP BY CASE WHEN next_attempt_at IS NULL THEN 'done' ELSE 'remaining' END \
             UNION ALL \
             SELECT 'recent' AS key, COUNT(*) AS n FROM leads \
             WHERE campaign_id = $1 AND last_decision = 'allowed' AND last_decision_at >= $2",
            vec![id.into(), to_micros(now - chrono::Duration::hours(1)).into()],
        )
        .await?;
        let get = |key: &str| pace.iter().find(|c| c.key == key).map_or(0, |c| c.count);
        Ok(CampaignActivity {
            sends_by_status: sends.into_iter().map(|c| (c.key, c.count)).collect(),
            remaining: get("remaining"),
            attempts_last_hour: get("recent"),
        })
    }
}
