//! Contacts: reads, and the batched upsert that the [`ContactWriter`](crate::ContactWriter)
//! runs. One batch is one transaction of four statements whatever its size: load the
//! definitions and owners it needs, make sure every row exists, lock and read the rows,
//! then write every merged row back in one multi-row upsert. Merging happens in Rust
//! with the pure rules of `leadline_core::contact`, in the order requests were accepted,
//! so two upserts of one cellphone in one batch behave exactly as if run one by one.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use leadline_core::contact::{ContactFields, ContactType, LanguageCode};
use leadline_core::custom_attribute::{AttributeDefinition, AttributeValues};
use leadline_core::{ContactId, E164, Email, WorkspaceId};
use sqlx::Row;

use crate::backend::on_read;
use crate::rows::{from_micros, id};
use crate::{Store, StoreError};

pub use crate::contact_upsert::{AttributesInput, ContactUpsert, UpsertOutcome, UpsertedContact};

/// A stored contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactRecord {
    pub id: ContactId,
    pub workspace_id: WorkspaceId,
    pub cellphone: E164,
    pub fields: ContactFields,
    pub contact_type: ContactType,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

macro_rules! contact_columns {
    () => {
        "id, workspace_id, cellphone, first_name, last_name, email, language_code, owner_id, \
         custom_attributes, contact_type, created_at, updated_at"
    };
}
pub(crate) use contact_columns;

/// Reads a row holding the columns of `contact_columns!`.
pub(crate) fn read_contact<R: Row>(row: &R) -> Result<ContactRecord, StoreError>
where
    for<'r> &'r str: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let language: Option<String> = row.try_get("language_code")?;
    let owner: Option<String> = row.try_get("owner_id")?;
    let attributes: String = row.try_get("custom_attributes")?;
    let contact_type: String = row.try_get("contact_type")?;
    Ok(ContactRecord {
        id: id("contacts.id", &row.try_get::<String, _>("id")?)?,
        workspace_id: id(
            "contacts.workspace_id",
            &row.try_get::<String, _>("workspace_id")?,
        )?,
        cellphone: E164::from_trusted(row.try_get("cellphone")?),
        fields: ContactFields {
            first_name: row.try_get("first_name")?,
            last_name: row.try_get("last_name")?,
            email: row
                .try_get::<Option<String>, _>("email")?
                .map(Email::from_trusted),
            language_code: language
                .map(|code| {
                    LanguageCode::parse(&code)
                        .ok_or_else(|| StoreError::Corrupt(format!("language_code '{code}'")))
                })
                .transpose()?,
            owner_id: owner
                .map(|owner| id("contacts.owner_id", &owner))
                .transpose()?,
            attributes: serde_json::from_str::<AttributeValues>(&attributes)
                .map_err(|e| StoreError::Corrupt(format!("contacts.custom_attributes: {e}")))?,
        },
        contact_type: match contact_type.as_str() {
            "NORMAL" => ContactType::Normal,
            "PARTIAL" => ContactType::Partial,
            other => return Err(StoreError::Corrupt(format!("contact_type '{other}'"))),
        },
        created_at: from_micros(row.try_get("created_at")?)?,
        updated_at: from_micros(row.try_get("updated_at")?)?,
    })
}

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct ContactFilter {
    pub cellphone: Option<E164>,
    /// Return contacts created after this one (the previous page's last id).
    pub after: Option<ContactId>,
    pub limit: u32,
}

impl Store {
    /// Upserts one contact. Concurrent calls are batched into shared transactions by the
    /// contact writer; this returns once the caller's write is committed.
    pub async fn upsert_contact(&self, upsert: ContactUpsert) -> Result<UpsertOutcome, StoreError> {
        self.contact_writer.submit(upsert).await
    }

    pub async fn contact(
        &self,
        workspace_id: WorkspaceId,
        contact_id: ContactId,
    ) -> Result<Option<ContactRecord>, StoreError> {
        on_read!(&self.backend, pool => {
            sqlx::query(concat!("SELECT ", contact_columns!(), " FROM contacts WHERE workspace_id = $1 AND id = $2"))
                .bind(workspace_id.to_string())
                .bind(contact_id.to_string())
                .fetch_optional(pool)
                .await?
                .as_ref()
                .map(read_contact)
                .transpose()
        })
    }

    pub async fn contact_by_cellphone(
        &self,
        workspace_id: WorkspaceId,
        cellphone: &E164,
    ) -> Result<Option<ContactRecord>, StoreError> {
        let page = self
            .list_contacts(
                workspace_id,
                &ContactFilter {
                    cellphone: Some(cellphone.clone()),
                    after: None,
                    limit: 1,
                },
            )
            .await?;
        Ok(page.into_iter().next())
    }

    /// The contacts with this email (email is not unique), oldest first, at most two:
    /// enough to tell "one" from "several".
    pub async fn contacts_by_email(
        &self,
        workspace_id: WorkspaceId,
        email: &Email,
    ) -> Result<Vec<ContactRecord>, StoreError> {
        on_read!(&self.backend, pool => {
            sqlx::query(concat!(
                "SELECT ", contact_columns!(), " FROM contacts WHERE workspace_id = $1 AND email = $2 ORDER BY id LIMIT 2"
            ))
            .bind(workspace_id.to_string())
            .bind(email.as_str())
            .fetch_all(pool)
            .await?
            .iter()
            .map(read_contact)
            .collect()
        })
    }

    /// One page of contacts in creation order.
    pub async fn list_contacts(
        &self,
        workspace_id: WorkspaceId,
        filter: &ContactFilter,
    ) -> Result<Vec<ContactRecord>, StoreError> {
        let after = filter.after.map(|a| a.to_string()).unwrap_or_default();
        on_read!(&self.backend, pool => {
            let rows = match &filter.cellphone {
                Some(cellphone) => {
                    sqlx::query(concat!(
                        "SELECT ", contact_columns!(),
                        " FROM contacts WHERE workspace_id = $1 AND cellphone = $2 AND id > $3 ORDER BY id LIMIT $4"
                    ))
                    .bind(workspace_id.to_string())
                    .bind(cellphone.as_str())
                    .bind(after)
                    .bind(i64::from(filter.limit))
                    .fetch_all(pool)
                    .await?
                }
                None => {
                    sqlx::query(concat!(
                        "SELECT ", contact_columns!(),
                        " FROM contacts WHERE workspace_id = $1 AND id > $2 ORDER BY id LIMIT $3"
                    ))
                    .bind(workspace_id.to_string())
                    .bind(after)
                    .bind(i64::from(filter.limit))
                    .fetch_all(pool)
                    .await?
                }
            };
            rows.iter().map(read_contact).collect()
        })
    }
}

/// Definitions of each workspace in a batch, shared with the answers.
pub(crate) type DefinitionsByWorkspace = HashMap<WorkspaceId, Arc<[AttributeDefinition]>>;
