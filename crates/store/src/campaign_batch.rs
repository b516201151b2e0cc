//! One campaign batch written in one transaction: the sends reserved on pool numbers,
//! the conversations opened, their opening messages and send jobs, and every lead's
//! decision — a handful of multi-row statements whatever the batch's size, where
//! writing lead by lead took several statements (and, on SQLite, a commit) each.
//!
//! Two things are settled inside the transaction, because they may have changed since
//! the batch was planned:
//! - **The numbers' state.** Reservations were planned from [`Store::number_states`];
//!   each number's `next_slot_at` is compared and set in one statement, and every
//!   reservation moves it forward, so a number some other writer used since the batch
//!   read it fails the comparison. Then nothing is written and the caller plans again
//!   ([`BatchWritten::NumbersMoved`]): a number never passes its rate or its cap.
//! - **Opt-outs.** A lead whose contact opted out after the batch read its opt-outs is
//!   not attempted: its lead gets the refusal the gate would have given.
//!
//! A conversation the batch opens for a contact that meanwhile got an active one on the
//! channel (a LeadScout request, or two leads of one contact in the batch) is not
//! opened: its message goes into the active conversation, as [`Store::open_conversation`]
//! does for one lead.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use leadline_core::channel::MessageProviderType;
use leadline_core::event::{EventType, NewEvent};
use leadline_core::numbers::Capability;
use leadline_core::{ContactId, ConversationId, E164, JobId, PhoneNumberId, WorkspaceId};

use crate::backend::on_write;
use crate::bulk_reads::{in_list, list};
use crate::conversations::{
    Conversation, PlannedConversation, PlannedOpening, conversation_columns, record_activity,
};
use crate::events::{record_events, resources};
use crate::leads::{Lead, LeadUpdate, lead_columns, lead_row};
use crate::messages::{bind_message, message_columns};
use crate::outbox::{SEND_ATTEMPTS, Task};
use crate::rows::{FromStoreRow, StoreRow, to_micros};
use crate::{Store, StoreError};

/// Rows per multi-row statement: a message binds 28 values, and SQLite takes at most
/// 32,766 per statement.
const ROWS_PER_STATEMENT: usize = 500;

/// The sends of a batch reserved on one number.
#[derive(Debug, Clone)]
pub struct NumberBooking {
    pub phone_number_id: PhoneNumberId,
    pub capability: Capability,
    /// `next_slot_at` as the batch read it: the booking holds only if it is unchanged.
    /// Every reservation moves it forward (a number's send interval is never zero), so
    /// an unchanged value means no send was reserved on the number since.
    pub seen_next_slot_at: DateTime<Utc>,
    /// `next_slot_at` after the batch's sends.
    pub next_slot_at: DateTime<Utc>,
    pub sends: u32,
}

/// The reservations of a batch on the workspace's pool numbers.
#[derive(Debug, Clone)]
pub struct BatchReservations {
    /// Today in the workspace's zone: the day the caps count against.
    pub usage_day: NaiveDate,
    pub now: DateTime<Utc>,
    pub numbers: Vec<NumberBooking>,
    /// Each recipient and the number that reached it (sticky senders).
    pub recipients: Vec<(E164, PhoneNumberId)>,
}

/// An attempt the batch makes: the message, where it goes, and the lead's decision.
#[derive(Debug, Clone)]
pub struct PlannedAttempt {
    pub lead: Lead,
    pub opening: PlannedOpening,
    /// The lead's update once the attempt is written (its conversation is filled in).
    pub update: LeadUpdate,
    /// The lead's update instead, when its contact opted out meanwhile.
    pub if_opted_out: LeadUpdate,
}

/// Everything one campaign batch writes.
#[derive(Debug, Clone)]
pub struct CampaignBatch {
    pub workspace_id: WorkspaceId,
    /// The type of the campaign's channel: the opt-outs that stop an attempt.
    pub channel_type: MessageProviderType,
    pub reservations: Option<BatchReservations>,
    pub attempts: Vec<PlannedAttempt>,
    /// Leads decided without an attempt (refused, deferred, ended).
    pub decisions: Vec<(Lead, LeadUpdate)>,
}

/// How a batch ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchWritten {
    /// Written: the attempts made, and the leads found opted out at the last moment.
    Written { attempted: usize, opted_out: usize },
    /// A number was used by someone else since the batch read it; nothing was written.
    NumbersMoved,
}

/// Runs `$sql_head VALUES (…), (…) $sql_tail` over `$rows` in chunks, with `$push`
/// binding one row.
macro_rules! insert_rows {
    ($tx:expr, $head:expr, $rows:expr, $tail:expr, |$b:ident, $row:ident| $push:expr) => {
        for chunk in $rows.chunks(ROWS_PER_STATEMENT) {
            let mut query = sqlx::QueryBuilder::new($head);
            query.push_values(chunk, |mut $b, $row| {
                $push;
            });
            query.push($tail);
            query.build().execute(&mut *$tx).await?;
        }
    };
}

impl Store {
    /// Writes `batch` in one transaction (see the module's documentation).
    pub async fn write_campaign_batch(
        &self,
        mut batch: CampaignBatch,
    ) -> Result<BatchWritten, StoreError> {
        let now = self.clock.now();
        let backend = &self.backend;
        on_write!(backend, pool => {
            let mut tx = pool.begin().await?;
            if let Some(reservations) = &batch.reservations
                && !reservations.numbers.is_empty()
            {
                let mut query = sqlx::QueryBuilder::new(
                    "UPDATE phone_numbers SET next_slot_at = v.column3, last_used_at = ",
                );
                query.push_bind(to_micros(reservations.now));
                query.push(", warmup_started_on = COALESCE(warmup_started_on, ");
                query.push_bind(reservations.usage_day.to_string());
                query.push(") FROM (");
                query.push_values(&reservations.numbers, |mut b, booking| {
                    b.push_bind(booking.phone_number_id.to_string())
                        .push_bind(to_micros(booking.seen_next_slot_at))
                        .push_bind(to_micros(booking.next_slot_at));
                });
                query.push(
                    ") AS v WHERE phone_numbers.id = v.column1 \
                     AND phone_numbers.next_slot_at = v.column2 RETURNING phone_numbers.id",
                );
                let booked = query.build().fetch_all(&mut *tx).await?.len();
                if booked != reservations.numbers.len() {
                    tx.rollback().await?;
                    return Ok(BatchWritten::NumbersMoved);
                }
                let day = reservations.usage_day.to_string();
                insert_rows!(tx, "INSERT INTO number_usage (phone_number_id, day, sms, calls) ",
                    &reservations.numbers,
                    " ON CONFLICT (phone_number_id, day) DO UPDATE SET \
                      sms = number_usage.sms + excluded.sms, calls = number_usage.calls + excluded.calls",
                    |b, booking| {
                        let (sms, calls) = match booking.capability {
                            Capability::Sms => (booking.sends, 0),
                            Capability::Call => (0, booking.sends),
                        };
                        b.push_bind(booking.phone_number_id.to_string())
                            .push_bind(day.clone())
                            .push_bind(i64::from(sms))
                            .push_bind(i64::from(calls))
                    });
                let outcome_day = reservations.now.date_naive().to_string();
                insert_rows!(tx, "INSERT INTO number_outcomes (phone_number_id, day, sent, delivered, \
                      failed, filtered, carrier_blocks, opt_outs, replies) ",
                    &reservations.numbers,
                    " ON CONFLICT (phone_number_id, day) DO UPDATE SET sent = number_outcomes.sent + excluded.sent",
                    |b, booking| {
                        b.push_bind(booking.phone_number_id.to_string())
                            .push_bind(outcome_day.clone())
                            .push_bind(i64::from(booking.sends));
                        for _ in 0..6 {
                            b.push("0");
                        }
                    });
                // The last number to reach a recipient is the one it keeps.
                let mut recipients: HashMap<&E164, PhoneNumberId> = HashMap::new();
                for (recipient, number) in &reservations.recipients {
                    recipients.insert(recipient, *number);
                }
                let recipients: Vec<_> = recipients.into_iter().collect();
                let workspace = batch.workspace_id.to_string();
                insert_rows!(tx, "INSERT INTO recipient_numbers (workspace_id, recipient, phone_number_id, last_used_at) ",
                    &recipients,
                    " ON CONFLICT (workspace_id, recipient) DO UPDATE SET \
                      phone_number_id = excluded.phone_number_id, last_used_at = excluded.last_used_at",
                    |b, row| b.push_bind(workspace.clone())
                        .push_bind(row.0.as_str().to_owned())
                        .push_bind(row.1.to_string())
                        .push_bind(to_micros(reservations.now)));
            }

            // Opt-outs recorded since the batch read them stop their attempts.
            let mut opted_out = 0;
            if !batch.attempts.is_empty() {
                let sql = format!(
                    "SELECT contact_id FROM contact_opt_outs WHERE channel_type = $1 AND contact_id {}",
                    in_list(backend, 2)
                );
                let contacts = list(backend, batch.attempts.iter().map(|a| a.lead.contact_id));
                let stopped: HashSet<ContactId> = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(batch.channel_type.as_str())
                    .bind(contacts)
                    .fetch_all(&mut *tx)
                    .await?
                    .iter()
                    .map(|row| row.id("contact_id"))
                    .collect::<Result<_, StoreError>>()?;
                if !stopped.is_empty() {
                    let (stop, keep): (Vec<_>, Vec<_>) = std::mem::take(&mut batch.attempts)
                        .into_iter()
                        .partition(|a| stopped.contains(&a.lead.contact_id));
                    opted_out = stop.len();
                    batch.attempts = keep;
                    batch.decisions.extend(stop.into_iter().map(|a| (a.lead, a.if_opted_out)));
                }
            }

            // Open the new conversations; those that lost to an active one join it.
            let opening: Vec<&Conversation> = batch
                .attempts
                .iter()
                .filter_map(|a| match &a.opening.conversation {
                    PlannedConversation::Open(c) => Some(c),
                    PlannedConversation::Existing(_) => None,
                })
                .collect();
            let mut opened: HashSet<ConversationId> = HashSet::new();
            for chunk in opening.chunks(ROWS_PER_STATEMENT) {
                let mut query = sqlx::QueryBuilder::new(
                    "INSERT INTO conversations (id, workspace_id, contact_id, channel_id, status, controller, name, \
                     assigned_user_id, participants, agent_context, additional_messages, campaign_id, \
                     consent_captured_at, created_at, updated_at, sticky_number_id, override_number_id, \
                     last_activity_at) ",
                );
                query.push_values(chunk, |mut b, c| {
                    b.push_bind(c.id.to_string())
                        .push_bind(c.workspace_id.to_string())
                        .push_bind(c.contact_id.to_string())
                        .push_bind(c.channel_id.to_string())
                        .push_bind(c.status.as_str())
                        .push_bind(c.controller.as_str())
                        .push_bind(c.name.clone())
                        .push_bind(c.assigned_user_id.map(|u| u.to_string()))
                        .push_bind(serde_json::to_string(&c.participants).expect("participants serialize"))
                        .push_bind(c.agent_context.clone())
                        .push_bind(serde_json::to_string(&c.additional_messages).expect("strings serialize"))
                        .push_bind(c.campaign_id.clone())
                        .push_bind(c.consent_captured_at.map(to_micros))
                        .push_bind(to_micros(c.created_at))
                        .push_bind(to_micros(c.updated_at))
                        .push_bind(c.sticky_number_id.map(|n| n.to_string()))
                        .push_bind(c.override_number_id.map(|n| n.to_string()))
                        .push_bind(to_micros(c.created_at));
                });
                query.push(" ON CONFLICT DO NOTHING RETURNING id");
                for row in query.build().fetch_all(&mut *tx).await? {
                    opened.insert(row.id("id")?);
                }
            }
            let mut events: Vec<NewEvent> = opening
                .iter()
                .filter(|c| opened.contains(&c.id))
                .map(|c| resources::conversation(EventType::ConversationOpened, c, now))
                .collect();
            let lost: Vec<ContactId> = batch
                .attempts
                .iter()
                .filter_map(|a| match &a.opening.conversation {
                    PlannedConversation::Open(c) if !opened.contains(&c.id) => Some(c.contact_id),
                    _ => None,
                })
                .collect();
            if !lost.is_empty() {
                let channel_id = batch.attempts[0].opening.message.channel_id;
                let sql = format!(
                    concat!("SELECT ", conversation_columns!(),
                        " FROM conversations WHERE workspace_id = $1 AND channel_id = $2 \
                         AND status = 'ACTIVE' AND contact_id {}"),
                    in_list(backend, 3)
                );
                let active: HashMap<ContactId, Conversation> = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(batch.workspace_id.to_string())
                    .bind(channel_id.to_string())
                    .bind(list(backend, &lost))
                    .fetch_all(&mut *tx)
                    .await?
                    .iter()
                    .map(|row| Conversation::from_row(row).map(|c| (c.contact_id, c)))
                    .collect::<Result<_, StoreError>>()?;
                for attempt in &mut batch.attempts {
                    if let PlannedConversation::Open(c) = &attempt.opening.conversation
                        && !opened.contains(&c.id)
                    {
                        let Some(existing) = active.get(&c.contact_id) else {
                            return Err(StoreError::WriteFailed(
                                "the active conversation that blocked a campaign's attempt was closed meanwhile; \
                                 the batch is retried".into(),
                            ));
                        };
                        attempt.opening.message.conversation_id = existing.id;
                        attempt.opening.conversation = PlannedConversation::Existing(existing.clone());
                    }
                }
            }

            insert_rows!(tx, concat!("INSERT INTO messages (", message_columns!(), ") "),
                &batch.attempts, "", |b, a| bind_message!(@with push_bind, b, &a.opening.message));
            insert_rows!(tx, "INSERT INTO jobs (id, workspace_id, lane, task, message_id, run_at, attempts, \
                  max_attempts, lease_owner, lease_token, lease_until, lease_lapsed, last_error, created_at) ",
                &batch.attempts, "", |b, a| {
                    let task = Task::SendV1 { message_id: a.opening.message.id };
                    b.push_bind(JobId::new().to_string())
                        .push_bind(a.opening.message.workspace_id.to_string())
                        .push_bind(a.opening.message.channel_id.to_string())
                        .push_bind(task.to_json())
                        .push_bind(a.opening.message.id.to_string())
                        .push_bind(to_micros(a.opening.run_at))
                        .push("0")
                        .push_bind(i64::from(SEND_ATTEMPTS))
                        .push("NULL")
                        .push("NULL")
                        .push("0")
                        .push("0")
                        .push("NULL")
                        .push_bind(to_micros(now));
                });
            // The inbox's order: an existing conversation moves up with its message (a
            // new one was inserted with it).
            record_activity!(&mut *tx, batch.attempts.iter().filter_map(|a| match &a.opening.conversation {
                PlannedConversation::Existing(c) => Some((c.id, a.opening.message.created_at)),
                PlannedConversation::Open(_) => None,
            }));
            // A message from a pool number makes an existing conversation stick to it.
            for attempt in &batch.attempts {
                if let PlannedConversation::Existing(c) = &attempt.opening.conversation {
                    sqlx::query(
                        "UPDATE conversations SET sticky_number_id = COALESCE($1, sticky_number_id), \
                         updated_at = $2 WHERE id = $3",
                    )
                    .bind(attempt.opening.message.from_number_id.map(|n| n.to_string()))
                    .bind(to_micros(now))
                    .bind(c.id.to_string())
                    .execute(&mut *tx)
                    .await?;
                }
            }

            let attempted = batch.attempts.len();
            let updates: Vec<(Lead, LeadUpdate)> = batch
                .attempts
                .into_iter()
                .map(|a| {
                    let mut update = a.update;
                    update.conversation_id = Some(a.opening.message.conversation_id);
                    (a.lead, update)
                })
                .chain(batch.decisions)
                .collect();
            for chunk in updates.chunks(ROWS_PER_STATEMENT) {
                let mut query = sqlx::QueryBuilder::new(
                    "UPDATE leads SET status = v.column2, attempts = v.column3, attempt_times = v.column4, \
                     next_attempt_at = v.column5, last_decision = v.column6, last_decision_reason = v.column7, \
                     last_decision_at = ",
                );
                query.push_bind(to_micros(now));
                query.push(", conversation_id = COALESCE(v.column8, leads.conversation_id), updated_at = ");
                query.push_bind(to_micros(now));
                query.push(" FROM (");
                query.push_values(chunk, |mut b, (lead, update)| {
                    let (attempts, times) = lead_row(lead, update);
                    b.push_bind(lead.id.to_string())
                        .push_bind(update.status.as_str())
                        .push_bind(attempts)
                        .push_bind(times)
                        .push_bind(update.next_attempt_at.map(to_micros))
                        .push_bind(update.decision.as_str())
                        .push_bind(update.reason.clone())
                        .push_bind(update.conversation_id.map(|c| c.to_string()));
                });
                query.push(concat!(") AS v WHERE leads.id = v.column1 RETURNING ", lead_columns!()));
                let before: HashMap<_, &Lead> = chunk.iter().map(|(lead, _)| (lead.id, lead)).collect();
                for row in query.build().fetch_all(&mut *tx).await? {
                    let after = Lead::from_row(&row)?;
                    if let Some(before) = before.get(&after.id) {
                        events.extend(resources::lead_changes(before, &after, now));
                    }
                }
            }
            record_events!(tx, &events, now);
            tx.commit().await?;
            Ok(BatchWritten::Written { attempted, opted_out })
        })
    }
}
