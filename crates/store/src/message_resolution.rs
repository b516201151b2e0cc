//! A person settling a send whose outcome is in doubt: a message the dispatcher held as
//! `uncertain` (its provider takes no idempotency key and may or may not have taken it)
//! or `quarantined` (its outcome could not be recorded). Nothing else ever moves such
//! a message on, so this is the only way out of those states.
//!
//! The change is one guarded `UPDATE … RETURNING` (only an outbound message of the
//! workspace that is still in doubt), and for a resend the new send job, in one
//! transaction: two people settling the same message at once cannot both win, and a
//! resend is never recorded without the job that sends it.

use leadline_core::channel::MessageProviderType;
use leadline_core::message::{MessageStatus, SendResolution};
use leadline_core::{MessageId, WorkspaceId};

use crate::backend::on_write;
use crate::events::{record_events, resources};
use crate::messages::{Message, message_columns};
use crate::outbox::queue_send_job;
use crate::rows::{FromStoreRow, StoreRow, to_micros};
use crate::{Store, StoreError};

/// What became of a request to settle a message.
#[derive(Debug, Clone, PartialEq)]
pub enum ResolveOutcome {
    /// Settled; the message as it now is.
    Resolved(Box<Message>),
    /// The message is not in doubt (or no longer: someone settled it first); nothing
    /// changed.
    WrongStatus(MessageStatus),
    /// A resend refused: the contact opted out of this channel type since the message
    /// was queued. It can still be marked sent or failed.
    OptedOut(MessageProviderType),
    /// No message with that id in the workspace.
    NotFound,
}

/// Why a message marked failed without a note failed.
pub const MARKED_FAILED: &str = "marked failed by a person";

/// The guarded settlement, with an extra condition for some actions. `$1` status,
/// `$2` error code, `$3` error message, `$4` sent-at (NULL keeps it), `$5` now, `$6`
/// message, `$7` workspace.
macro_rules! settle_sql {
    ($extra:literal) => {
        concat!(
            "UPDATE messages SET status = $1, error_code = $2, error_message = $3, \
             sent_at = COALESCE($4, sent_at), updated_at = $5 \
             WHERE id = $6 AND workspace_id = $7 AND direction = 'outbound' \
             AND status IN ('uncertain', 'quarantined')",
            $extra,
            " RETURNING ",
            message_columns!()
        )
    };
}

/// Marking sent or failed settles what already happened; nothing is sent.
const SETTLE: &str = settle_sql!("");

/// A resend goes to the lead again, so it is refused (in the same statement, so no
/// opt-out can slip in between a check and the write) once the contact opted out of
/// the message's channel type.
const RESEND: &str = settle_sql!(
    " AND NOT EXISTS (SELECT 1 FROM contact_opt_outs AS o JOIN channels AS c \
     ON c.message_provider_type = o.channel_type \
     WHERE o.contact_id = messages.contact_id AND c.id = messages.channel_id)"
);

/// Why a settlement changed nothing: the message's status, and the channel type its
/// contact opted out of, if any.
const WHY_NOT: &str = "SELECT m.status, \
    (SELECT o.channel_type FROM contact_opt_outs AS o JOIN channels AS c \
     ON c.message_provider_type = o.channel_type \
     WHERE o.contact_id = m.contact_id AND c.id = m.channel_id) AS opted_out_of \
    FROM messages AS m WHERE m.id = $1 AND m.workspace_id = $2";

impl Store {
    /// Settles a message held as `uncertain` or `quarantined` the way a person decided:
    ///
    /// - `Resend`: back to `queued`, error cleared, with a new send job due now written
    ///   in the same transaction. The job is not held to the pool number's rate slot or
    ///   daily cap again: this is the same message, whose send was reserved when it was
    ///   first queued.
    /// - `MarkSent`: `sent`, sent now, error cleared.
    /// - `MarkFailed`: `failed` with error code `resolved_failed` and `note` (or
    ///   [`MARKED_FAILED`]) as its message. Not counted against the pool number's
    ///   health: no carrier refused it; we only never learned what happened.
    ///
    /// A message of another status (or direction) is refused with its status.
    pub async fn resolve_message(
        &self,
        workspace_id: WorkspaceId,
        message_id: MessageId,
        resolution: SendResolution,
        note: Option<&str>,
    ) -> Result<ResolveOutcome, StoreError> {
        let now = self.clock.now();
        let micros = to_micros(now);
        let (sql, status, error_code, error_message, sent_at) = match resolution {
            SendResolution::Resend => (RESEND, MessageStatus::Queued, None, None, None),
            SendResolution::MarkSent => (SETTLE, MessageStatus::Sent, None, None, Some(micros)),
            SendResolution::MarkFailed => (
                SETTLE,
                MessageStatus::Failed,
                Some("resolved_failed"),
                Some(note.unwrap_or(MARKED_FAILED)),
                None,
            ),
        };
        on_write!(&self.backend, pool => {
            let mut tx = pool.begin().await?;
            let settled = sqlx::query(sql)
                .bind(status.as_str())
                .bind(error_code)
                .bind(error_message)
                .bind(sent_at)
                .bind(micros)
                .bind(message_id.to_string())
                .bind(workspace_id.to_string())
                .fetch_optional(&mut *tx)
                .await?;
            let outcome = match settled {
                Some(row) => {
                    let message = Message::from_row(&row)?;
                    if resolution == SendResolution::Resend {
                        queue_send_job!(&mut *tx, &message, now, now);
                    }
                    // Marked sent or failed by a person: told as the dispatcher's
                    // outcome would have been. A resend is told when it goes out.
                    let events: Vec<_> = resources::message_status(MessageStatus::Uncertain, &message, now)
                        .into_iter()
                        .collect();
                    record_events!(tx, &events, now);
                    ResolveOutcome::Resolved(Box::new(message))
                }
                None => {
                    let found = sqlx::query(WHY_NOT)
                        .bind(message_id.to_string())
                        .bind(workspace_id.to_string())
                        .fetch_optional(&mut *tx)
                        .await?;
                    match found {
                        None => ResolveOutcome::NotFound,
                        Some(row) => {
                            let status = row.parsed("status", MessageStatus::parse)?;
                            let opted_out_of = row.optional_parsed("opted_out_of", MessageProviderType::parse)?;
                            match opted_out_of {
                                Some(kind) if status.awaits_resolution() && resolution == SendResolution::Resend => {
                                    ResolveOutcome::OptedOut(kind)
                                }
                                _ => ResolveOutcome::WrongStatus(status),
                            }
                        }
                    }
                }
            };
            tx.commit().await?;
            Ok(outcome)
        })
    }
}
