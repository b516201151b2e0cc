//! Console logins: a user with a password hash can log in by email. Emails are unique
//! per workspace; a unique index on the emails of users who have a password makes a
//! login's email name one user across every workspace (setting a password for a second
//! user with the same email is [`StoreError::Duplicate`] on `users_login_email`).

use leadline_core::{Email, UserId, WorkspaceId};

use crate::backend::on_write;
use crate::rows::{Arg, FromStoreRow, StoreRow, fetch_all, fetch_optional, to_micros};
use crate::users::User;
use crate::{Store, StoreError};

/// A user who may log in, with what the login checks.
#[derive(Debug, Clone)]
pub struct Login {
    pub user: User,
    /// argon2id, in PHC string form.
    pub password_hash: String,
    pub password_must_change: bool,
}

impl FromStoreRow for User {
    fn from_row(row: &impl StoreRow) -> Result<Self, StoreError> {
        let role = row.text("role")?;
        Ok(User {
            id: row.id("id")?,
            workspace_id: row.id("workspace_id")?,
            email: Email::from_trusted(row.text("email")?),
            first_name: row.optional_text("first_name")?,
            last_name: row.optional_text("last_name")?,
            role: leadline_core::user::Role::parse(&role)
                .ok_or_else(|| StoreError::Corrupt(format!("users.role '{role}'")))?,
            created_at: row.time("created_at")?,
            updated_at: row.time("updated_at")?,
        })
    }
}

impl FromStoreRow for Login {
    fn from_row(row: &impl StoreRow) -> Result<Self, StoreError> {
        Ok(Login {
            user: User::from_row(row)?,
            password_hash: row.text("password_hash")?,
            password_must_change: row.flag("password_must_change")?,
        })
    }
}

impl Store {
    /// The login of an email, if a user with that email has a password.
    pub async fn login(&self, email: &Email) -> Result<Option<Login>, StoreError> {
        fetch_optional(
            &self.backend,
            "SELECT id, workspace_id, email, first_name, last_name, role, created_at, updated_at, \
             password_hash, password_must_change FROM users WHERE email = $1 AND password_hash IS NOT NULL",
            vec![Arg::Text(email.as_str().to_owned())],
        )
        .await
    }

    /// Every user with this email, in any workspace: whom `user set-password` may mean.
    pub async fn users_with_email(&self, email: &Email) -> Result<Vec<User>, StoreError> {
        fetch_all(
            &self.backend,
            "SELECT id, workspace_id, email, first_name, last_name, role, created_at, updated_at \
             FROM users WHERE email = $1 ORDER BY id",
            vec![Arg::Text(email.as_str().to_owned())],
        )
        .await
    }

    /// Sets a user's password hash. `must_change` marks it one-time: the next login must
    /// choose another. Says whether the user exists in the workspace.
    pub async fn set_user_password(
        &self,
        workspace_id: WorkspaceId,
        user_id: UserId,
        password_hash: &str,
        must_change: bool,
    ) -> Result<bool, StoreError> {
        let now = to_micros(self.clock.now());
        let changed = on_write!(&self.backend, pool => {
            sqlx::query(
                "UPDATE users SET password_hash = $1, password_must_change = $2, updated_at = $3 \
                 WHERE workspace_id = $4 AND id = $5",
            )
            .bind(password_hash)
            .bind(must_change)
            .bind(now)
            .bind(workspace_id.to_string())
            .bind(user_id.to_string())
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(changed == 1)
    }
}
