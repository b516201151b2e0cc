//! Console sessions: a row per login, found by the SHA-256 of the token its cookie
//! holds. A session is in force until its `expires_at`, which use moves forward (see
//! [`Store::touch_console_session`]), and until it is revoked: at logout, by an admin,
//! or by a change of its user's password. Expired and revoked rows are deleted by the
//! retention sweep after a day, so a list of a user's sessions shows recent ends.

use chrono::{DateTime, Utc};
use leadline_core::user::Role;
use leadline_core::{Email, UserId, WorkspaceId};

use crate::backend::on_write;
use crate::rows::{Arg, FromStoreRow, StoreRow, fetch_all, fetch_optional, to_micros};
use crate::{Store, StoreError};

/// A session to open, with its token already hashed by the caller.
#[derive(Debug, Clone)]
pub struct NewConsoleSession {
    pub token_hash: String,
    pub user_id: UserId,
    pub csrf_token: String,
    pub user_agent: Option<String>,
    pub expires_at: DateTime<Utc>,
}

/// A session in force, with the user it is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleSession {
    pub token_hash: String,
    pub user_id: UserId,
    pub workspace_id: WorkspaceId,
    pub email: Email,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub role: Role,
    /// The user must choose a new password before using the console.
    pub password_must_change: bool,
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl FromStoreRow for ConsoleSession {
    fn from_row(row: &impl StoreRow) -> Result<Self, StoreError> {
        let role = row.text("role")?;
        Ok(Self {
            token_hash: row.text("token_hash")?,
            user_id: row.id("user_id")?,
            workspace_id: row.id("workspace_id")?,
            email: Email::from_trusted(row.text("email")?),
            first_name: row.optional_text("first_name")?,
            last_name: row.optional_text("last_name")?,
            role: Role::parse(&role)
                .ok_or_else(|| StoreError::Corrupt(format!("users.role '{role}'")))?,
            password_must_change: row.flag("password_must_change")?,
            csrf_token: row.text("csrf_token")?,
            created_at: row.time("created_at")?,
            last_seen_at: row.time("last_seen_at")?,
            expires_at: row.time("expires_at")?,
        })
    }
}

/// A session as a list of a user's sessions shows it (never its token or hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub user_agent: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl FromStoreRow for SessionRecord {
    fn from_row(row: &impl StoreRow) -> Result<Self, StoreError> {
        Ok(Self {
            user_agent: row.optional_text("user_agent")?,
            created_at: row.time("created_at")?,
            last_seen_at: row.time("last_seen_at")?,
            expires_at: row.time("expires_at")?,
            revoked_at: row.optional_time("revoked_at")?,
        })
    }
}

impl Store {
    /// Opens a session.
    pub async fn create_console_session(&self, new: &NewConsoleSession) -> Result<(), StoreError> {
        let now = to_micros(self.clock.now());
        on_write!(&self.backend, pool => {
            sqlx::query(
                "INSERT INTO console_sessions (token_hash, user_id, csrf_token, user_agent, created_at, last_seen_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $5, $6)",
            )
            .bind(&new.token_hash)
            .bind(new.user_id.to_string())
            .bind(&new.csrf_token)
            .bind(new.user_agent.as_deref())
            .bind(now)
            .bind(to_micros(new.expires_at))
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// The session of a token's hash, if it is in force now: not revoked, not expired,
    /// and its user still able to log in.
    pub async fn console_session(
        &self,
        token_hash: &str,
    ) -> Result<Option<ConsoleSession>, StoreError> {
        let now = to_micros(self.clock.now());
        fetch_optional(
            &self.backend,
            "SELECT s.token_hash, s.user_id, u.workspace_id, u.email, u.first_name, u.last_name, u.role, \
             u.password_must_change, s.csrf_token, s.created_at, s.last_seen_at, s.expires_at \
             FROM console_sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > $2 \
             AND u.password_hash IS NOT NULL",
            vec![Arg::Text(token_hash.to_owned()), Arg::Int(now)],
        )
        .await
    }

    /// Records a use of the session and moves its end to `expires_at`.
    pub async fn touch_console_session(
        &self,
        token_hash: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let now = to_micros(self.clock.now());
        on_write!(&self.backend, pool => {
            sqlx::query(
                "UPDATE console_sessions SET last_seen_at = $1, expires_at = $2 \
                 WHERE token_hash = $3 AND revoked_at IS NULL",
            )
            .bind(now)
            .bind(to_micros(expires_at))
            .bind(token_hash)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Ends one session (logout). Ending an ended one changes nothing.
    pub async fn revoke_console_session(&self, token_hash: &str) -> Result<(), StoreError> {
        let now = to_micros(self.clock.now());
        on_write!(&self.backend, pool => {
            sqlx::query("UPDATE console_sessions SET revoked_at = $1 WHERE token_hash = $2 AND revoked_at IS NULL")
                .bind(now)
                .bind(token_hash)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Ends every session of a user but `keep` (the one changing its own password), and
    /// says how many ended.
    pub async fn revoke_user_sessions(
        &self,
        user_id: UserId,
        keep: Option<&str>,
    ) -> Result<u64, StoreError> {
        let now = to_micros(self.clock.now());
        let ended = on_write!(&self.backend, pool => {
            sqlx::query(
                "UPDATE console_sessions SET revoked_at = $1 \
                 WHERE user_id = $2 AND revoked_at IS NULL AND token_hash <> $3",
            )
            .bind(now)
            .bind(user_id.to_string())
            .bind(keep.unwrap_or(""))
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(ended)
    }

    /// A user's sessions, newest first, including those that ended in the last day.
    pub async fn user_sessions(&self, user_id: UserId) -> Result<Vec<SessionRecord>, StoreError> {
        fetch_all(
            &self.backend,
            "SELECT user_agent, created_at, last_seen_at, expires_at, revoked_at \
             FROM console_sessions WHERE user_id = $1 ORDER BY created_at DESC",
            vec![Arg::Text(user_id.to_string())],
        )
        .await
    }

    /// Deletes sessions that ended before `before`; says how many.
    pub async fn delete_ended_console_sessions(
        &self,
        before: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let before = to_micros(before);
        let deleted = on_write!(&self.backend, pool => {
            sqlx::query(
                "DELETE FROM console_sessions WHERE expires_at < $1 OR (revoked_at IS NOT NULL AND revoked_at < $1)",
            )
            .bind(before)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(deleted)
    }
}
