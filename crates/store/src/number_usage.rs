//! What the number pool needs from the database at send time: reserving a send on a
//! number (a slot under its rate and a unit of its daily cap), the outcome counters its
//! health is judged from, which number last reached each recipient, and the number a
//! person chose for a conversation.
//!
//! Selection is pure and works on a cached snapshot of the pool, so it may pick a number
//! that has just filled up or whose next slot is taken. The reservation is where that is
//! settled, atomically in the database, so two workers (or two nodes) never share a slot
//! or push a number past its cap: a stale snapshot costs a retry, never an extra send.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use leadline_core::numbers::health::{is_carrier_block_code, is_filtering_code};
use leadline_core::numbers::{Capability, NumberMetrics};
use leadline_core::{ConversationId, E164, PhoneNumberId, WorkspaceId};

use crate::backend::{on_read, on_write};
use crate::conversations::{Conversation, conversation_columns};
use crate::rows::{FromStoreRow, StoreRow, to_micros};
use crate::{Store, StoreError};

/// A send to reserve on one number.
#[derive(Debug, Clone)]
pub struct ReserveSend {
    pub workspace_id: WorkspaceId,
    pub phone_number_id: PhoneNumberId,
    pub capability: Capability,
    /// Today in the workspace's zone: the day the cap counts against.
    pub usage_day: NaiveDate,
    /// Sends allowed on `usage_day` for this capability (the warm-up's cap for SMS).
    pub cap: u32,
    /// The least time between two sends from the number.
    pub interval: TimeDelta,
    /// How far ahead a slot may be before the number counts as busy.
    pub max_wait: TimeDelta,
    /// Remembered as the number that last reached this recipient (sticky senders).
    pub recipient: Option<E164>,
    pub now: DateTime<Utc>,
}

/// How a reservation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservation {
    /// The send is reserved; it may go out at `slot_at` (now, or a little later).
    Reserved { slot_at: DateTime<Utc> },
    /// The number reached its cap for the day (`used` sends); nothing was written.
    Full { used: u32 },
    /// The number's next free slot is further away than `max_wait`; nothing was written.
    Busy { next_slot_at: DateTime<Utc> },
}

/// Something that happened to a send from a pool number, counted for its health.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberEvent {
    pub phone_number_id: PhoneNumberId,
    /// When it happened: counted on this UTC day.
    pub at: DateTime<Utc>,
    pub kind: NumberEventKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NumberEventKind {
    Delivered,
    /// Also counted as filtered or as a carrier block when the provider's code says so.
    Failed {
        code: Option<String>,
    },
    OptOut,
    Reply,
}

/// Outcome counts per number and UTC day, in key order: writers that take the rows in
/// this order can never deadlock each other on PostgreSQL.
pub(crate) type OutcomeTally = BTreeMap<(PhoneNumberId, NaiveDate), NumberMetrics>;

/// Adds the events up per number and UTC day, so a batch costs one statement per
/// (number, day) rather than one per event.
pub(crate) fn tally(events: &[NumberEvent]) -> OutcomeTally {
    let mut tally = OutcomeTally::new();
    for event in events {
        let counts = tally
            .entry((event.phone_number_id, event.at.date_naive()))
            .or_default();
        match &event.kind {
            NumberEventKind::Delivered => counts.delivered += 1,
            NumberEventKind::Failed { code } => {
                counts.failed += 1;
                let code = code.as_deref().unwrap_or_default();
                if is_filtering_code(code) {
                    counts.filtered += 1;
                }
                if is_carrier_block_code(code) {
                    counts.carrier_blocks += 1;
                }
            }
            NumberEventKind::OptOut => counts.opt_outs += 1,
            NumberEventKind::Reply => counts.replies += 1,
        }
    }
    tally
}

/// Adds one (number, day)'s counts to `number_outcomes`. A number deleted meanwhile is
/// skipped (`WHERE EXISTS`) rather than failing the transaction it rides in: a late
/// delivery report must not stop a dispatch batch from being recorded.
pub(crate) const ADD_OUTCOMES: &str = "INSERT INTO number_outcomes \
    (phone_number_id, day, sent, delivered, failed, filtered, carrier_blocks, opt_outs, replies) \
    SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9 WHERE EXISTS (SELECT 1 FROM phone_numbers WHERE id = $1) \
    ON CONFLICT (phone_number_id, day) DO UPDATE SET \
    sent = number_outcomes.sent + excluded.sent, \
    delivered = number_outcomes.delivered + excluded.delivered, \
    failed = number_outcomes.failed + excluded.failed, \
    filtered = number_outcomes.filtered + excluded.filtered, \
    carrier_blocks = number_outcomes.carrier_blocks + excluded.carrier_blocks, \
    opt_outs = number_outcomes.opt_outs + excluded.opt_outs, \
    replies = number_outcomes.replies + excluded.replies";

/// A count as a column value.
pub(crate) fn count(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// Writes an [`OutcomeTally`] with `$executor` (a transaction of either database), one
/// upsert per (number, day). A macro, like `queue_send_job!`, so the caller's
/// transaction serves both databases. An empty tally writes nothing.
macro_rules! add_outcomes {
    ($executor:expr, $tally:expr) => {{
        let tally: &$crate::number_usage::OutcomeTally = $tally;
        for ((number, day), counts) in tally {
            use $crate::number_usage::count;
            sqlx::query($crate::number_usage::ADD_OUTCOMES)
                .bind(number.to_string())
                .bind(day.to_string())
                .bind(count(counts.sent))
                .bind(count(counts.delivered))
                .bind(count(counts.failed))
                .bind(count(counts.filtered))
                .bind(count(counts.carrier_blocks))
                .bind(count(counts.opt_outs))
                .bind(count(counts.replies))
                .execute($executor)
                .await?;
        }
    }};
}
pub(crate) use add_outcomes;

/// Takes the number's next slot: `max(next_slot_at, now)`, moving `next_slot_at` one
/// interval past it, unless that slot is more than `max_wait` away. One guarded UPDATE:
/// on PostgreSQL a concurrent reservation waits on the row and re-checks the guard
/// against the committed value, so two reservations never get the same slot. It also
/// stamps the number's last use and starts its warm-up on its first send.
const TAKE_SLOT: &str = "UPDATE phone_numbers SET \
    next_slot_at = (CASE WHEN next_slot_at > $1 THEN next_slot_at ELSE $1 END) + $2, \
    last_used_at = $1, \
    warmup_started_on = COALESCE(warmup_started_on, $3) \
    WHERE id = $4 AND workspace_id = $5 AND next_slot_at <= $6 \
    RETURNING next_slot_at - $2 AS slot_at";

const NEXT_SLOT: &str =
    "SELECT next_slot_at FROM phone_numbers WHERE id = $1 AND workspace_id = $2";

/// The cap statements of one capability's column.
struct CapSql {
    /// Counts one more send unless the day is full; returns no row when it is. The
    /// database decides, under the row's lock, so concurrent callers cannot overshoot.
    take: &'static str,
    used: &'static str,
}

const SMS_CAP: CapSql = CapSql {
    take: "INSERT INTO number_usage (phone_number_id, day, sms, calls) VALUES ($1, $2, 1, 0) \
        ON CONFLICT (phone_number_id, day) DO UPDATE SET sms = number_usage.sms + 1 \
        WHERE number_usage.sms < $3 RETURNING sms AS used",
    used: "SELECT sms AS used FROM number_usage WHERE phone_number_id = $1 AND day = $2",
};

const CALL_CAP: CapSql = CapSql {
    take: "INSERT INTO number_usage (phone_number_id, day, sms, calls) VALUES ($1, $2, 0, 1) \
        ON CONFLICT (phone_number_id, day) DO UPDATE SET calls = number_usage.calls + 1 \
        WHERE number_usage.calls < $3 RETURNING calls AS used",
    used: "SELECT calls AS used FROM number_usage WHERE phone_number_id = $1 AND day = $2",
};

const REMEMBER_RECIPIENT: &str = "INSERT INTO recipient_numbers \
    (workspace_id, recipient, phone_number_id, last_used_at) VALUES ($1, $2, $3, $4) \
    ON CONFLICT (workspace_id, recipient) DO UPDATE SET \
    phone_number_id = excluded.phone_number_id, last_used_at = excluded.last_used_at";

fn micros_of(delta: TimeDelta) -> i64 {
    delta.num_microseconds().unwrap_or(i64::MAX).max(0)
}

fn used_count(used: Option<i64>) -> u32 {
    u32::try_from(used.unwrap_or(0).max(0)).unwrap_or(u32::MAX)
}

impl Store {
    /// Reserves one send on a number, in one transaction: the rate slot, a unit of the
    /// day's cap, `sent` in today's (UTC) outcomes, the number's last use and warm-up
    /// start, and the recipient's sticky number. A busy or full number leaves nothing
    /// written. The steps take the number's row first, so every reservation locks in
    /// the same order. A number missing from the workspace (deleted since the pool was
    /// loaded) is an error.
    pub async fn reserve_send(&self, reserve: &ReserveSend) -> Result<Reservation, StoreError> {
        let now = to_micros(reserve.now);
        let number = reserve.phone_number_id.to_string();
        let workspace = reserve.workspace_id.to_string();
        let usage_day = reserve.usage_day.to_string();
        let cap_sql = match reserve.capability {
            Capability::Sms => &SMS_CAP,
            Capability::Call => &CALL_CAP,
        };
        let sent = tally_sent(reserve.phone_number_id, reserve.now);
        on_write!(&self.backend, pool => {
            let mut tx = pool.begin().await?;
            let slot = sqlx::query(TAKE_SLOT)
                .bind(now)
                .bind(micros_of(reserve.interval))
                .bind(&usage_day)
                .bind(&number)
                .bind(&workspace)
                .bind(now.saturating_add(micros_of(reserve.max_wait)))
                .fetch_optional(&mut *tx)
                .await?;
            let Some(slot) = slot else {
                let next = sqlx::query(NEXT_SLOT)
                    .bind(&number)
                    .bind(&workspace)
                    .fetch_optional(&mut *tx)
                    .await?;
                tx.rollback().await?;
                return match next {
                    Some(row) => Ok(Reservation::Busy { next_slot_at: row.time("next_slot_at")? }),
                    None => Err(StoreError::WriteFailed(format!(
                        "phone number {number} is not in workspace {workspace}"
                    ))),
                };
            };
            let slot_at = slot.time("slot_at")?;
            // A cap of 0 takes nothing: the insert would count a first send.
            let taken = if reserve.cap == 0 {
                None
            } else {
                sqlx::query(cap_sql.take)
                    .bind(&number)
                    .bind(&usage_day)
                    .bind(i64::from(reserve.cap))
                    .fetch_optional(&mut *tx)
                    .await?
            };
            if taken.is_none() {
                let used = sqlx::query(cap_sql.used)
                    .bind(&number)
                    .bind(&usage_day)
                    .fetch_optional(&mut *tx)
                    .await?
                    .map(|row| row.int("used"))
                    .transpose()?;
                tx.rollback().await?;
                return Ok(Reservation::Full { used: used_count(used) });
            }
            add_outcomes!(&mut *tx, &sent);
            if let Some(recipient) = &reserve.recipient {
                sqlx::query(REMEMBER_RECIPIENT)
                    .bind(&workspace)
                    .bind(recipient.as_str())
                    .bind(&number)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(Reservation::Reserved { slot_at })
        })
    }

    /// The number that last reached `recipient` in the workspace, if that was at or
    /// after `since` (the sticky window).
    pub async fn recipient_number(
        &self,
        workspace_id: WorkspaceId,
        recipient: &E164,
        since: DateTime<Utc>,
    ) -> Result<Option<PhoneNumberId>, StoreError> {
        on_read!(&self.backend, pool => {
            sqlx::query(
                "SELECT phone_number_id FROM recipient_numbers \
                 WHERE workspace_id = $1 AND recipient = $2 AND last_used_at >= $3",
            )
            .bind(workspace_id.to_string())
            .bind(recipient.as_str())
            .bind(to_micros(since))
            .fetch_optional(pool)
            .await?
            .map(|row| row.id("phone_number_id"))
            .transpose()
        })
    }

    /// Sets (or, with `None`, clears) the number a person chose for the conversation;
    /// the conversation as it is now, `None` when the workspace has no such one. The
    /// number is not checked here (the caller checks it against the pool): selection
    /// treats one that is gone as unset.
    pub async fn set_conversation_override(
        &self,
        workspace_id: WorkspaceId,
        conversation_id: ConversationId,
        number: Option<PhoneNumberId>,
    ) -> Result<Option<Conversation>, StoreError> {
        let sql = concat!(
            "UPDATE conversations SET override_number_id = $1, updated_at = $2 \
             WHERE workspace_id = $3 AND id = $4 RETURNING ",
            conversation_columns!()
        );
        on_write!(&self.backend, pool => {
            sqlx::query(sql)
                .bind(number.map(|n| n.to_string()))
                .bind(to_micros(self.clock.now()))
                .bind(workspace_id.to_string())
                .bind(conversation_id.to_string())
                .fetch_optional(pool)
                .await?
                .as_ref()
                .map(Conversation::from_row)
                .transpose()
        })
    }

    /// Counts outcomes of sends from pool numbers (delivery, failure, opt-out, reply),
    /// per number and UTC day, in one transaction. Events of numbers that no longer
    /// exist are dropped.
    pub async fn record_number_outcomes(&self, events: &[NumberEvent]) -> Result<(), StoreError> {
        if events.is_empty() {
            return Ok(());
        }
        let tally = tally(events);
        on_write!(&self.backend, pool => {
            let mut tx = pool.begin().await?;
            add_outcomes!(&mut *tx, &tally);
            tx.commit().await?;
        });
        Ok(())
    }
}

fn tally_sent(number: PhoneNumberId, now: DateTime<Utc>) -> OutcomeTally {
    let sent = NumberMetrics {
        sent: 1,
        ..NumberMetrics::default()
    };
    OutcomeTally::from([((number, now.date_naive()), sent)])
}

/// The event of a message's status change, for its from number: `Delivered` the first
/// time it reaches delivered or read, `Failed` (with the provider's code) when it fails.
pub(crate) fn status_event(
    from_number: Option<PhoneNumberId>,
    before: leadline_core::message::MessageStatus,
    after: leadline_core::message::MessageStatus,
    code: Option<&str>,
    at: DateTime<Utc>,
) -> Option<NumberEvent> {
    use leadline_core::message::MessageStatus::{Delivered, Failed, Read};
    let kind = match after {
        Delivered | Read if !matches!(before, Delivered | Read) => NumberEventKind::Delivered,
        Failed if before != Failed => NumberEventKind::Failed {
            code: code.map(str::to_owned),
        },
        _ => return None,
    };
    Some(NumberEvent {
        phone_number_id: from_number?,
        at,
        kind,
    })
}
