//! Users of a workspace. Email is unique per workspace.

use chrono::{DateTime, Utc};
use leadline_core::user::{Role, UserRef};
use leadline_core::{Email, UserId, WorkspaceId};
use sqlx::Row;

use crate::backend::{on_read, on_write};
use crate::rows::{from_micros, id, to_micros};
use crate::{Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub workspace_id: WorkspaceId,
    pub email: Email,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub role: Role,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: Email,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub role: Role,
}

/// The selected columns, as a macro so `concat!` can build `&'static str` statements.
macro_rules! user_columns {
    () => {
        "id, workspace_id, email, first_name, last_name, role, created_at, updated_at"
    };
}

fn read_user<R: Row>(row: &R) -> Result<User, StoreError>
where
    for<'r> &'r str: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let role: String = row.try_get("role")?;
    Ok(User {
        id: id("users.id", &row.try_get::<String, _>("id")?)?,
        workspace_id: id(
            "users.workspace_id",
            &row.try_get::<String, _>("workspace_id")?,
        )?,
        email: Email::from_trusted(row.try_get("email")?),
        first_name: row.try_get("first_name")?,
        last_name: row.try_get("last_name")?,
        role: Role::parse(&role)
            .ok_or_else(|| StoreError::Corrupt(format!("users.role '{role}'")))?,
        created_at: from_micros(row.try_get("created_at")?)?,
        updated_at: from_micros(row.try_get("updated_at")?)?,
    })
}

impl Store {
    /// Creates a user; a second user with the same email in the workspace is
    /// [`StoreError::Duplicate`].
    pub async fn create_user(
        &self,
        workspace_id: WorkspaceId,
        new: NewUser,
    ) -> Result<User, StoreError> {
        let now = self.clock.now();
        let user = User {
            id: UserId::new(),
            workspace_id,
            email: new.email,
            first_name: new.first_name,
            last_name: new.last_name,
            role: new.role,
            created_at: now,
            updated_at: now,
        };
        on_write!(&self.backend, pool => {
            sqlx::query(
                "INSERT INTO users (id, workspace_id, email, first_name, last_name, role, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(user.id.to_string())
            .bind(workspace_id.to_string())
            .bind(user.email.as_str())
            .bind(user.first_name.as_deref())
            .bind(user.last_name.as_deref())
            .bind(user.role.as_str())
            .bind(to_micros(now))
            .bind(to_micros(now))
            .execute(pool)
            .await?;
        });
        Ok(user)
    }

    /// A user of the workspace by id or email.
    pub async fn user(
        &self,
        workspace_id: WorkspaceId,
        reference: &UserRef,
    ) -> Result<Option<User>, StoreError> {
        let (sql, value) = match reference {
            UserRef::Id(user_id) => (
                concat!(
                    "SELECT ",
                    user_columns!(),
                    " FROM users WHERE workspace_id = $1 AND id = $2"
                ),
                user_id.to_string(),
            ),
            UserRef::Email(email) => (
                concat!(
                    "SELECT ",
                    user_columns!(),
                    " FROM users WHERE workspace_id = $1 AND email = $2"
                ),
                email.as_str().to_owned(),
            ),
        };
        on_read!(&self.backend, pool => {
            sqlx::query(sql)
                .bind(workspace_id.to_string())
                .bind(value)
                .fetch_optional(pool)
                .await?
                .as_ref()
                .map(read_user)
                .transpose()
        })
    }

    /// One page of the workspace's users in creation order, after the `after` cursor.
    pub async fn list_users(
        &self,
        workspace_id: WorkspaceId,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<Vec<User>, StoreError> {
        let after = after.map(|a| a.to_string()).unwrap_or_default();
        on_read!(&self.backend, pool => {
            sqlx::query(
                concat!("SELECT ", user_columns!(), " FROM users WHERE workspace_id = $1 AND id > $2 ORDER BY id LIMIT $3"),
            )
            .bind(workspace_id.to_string())
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await?
            .iter()
            .map(read_user)
            .collect()
        })
    }
}
