//! The batched contact upsert: validation that needs the database (owners, attribute
//! definitions), then one transaction for the whole batch. See the `contacts` module
//! docs for the statement plan.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use leadline_core::contact::{AttributesChange, ContactChanges, LanguageCode};
use leadline_core::custom_attribute::{
    self, AttributeDefinition, ClosedAttributeInput, OpenAttributeInput,
};
use leadline_core::user::UserRef;
use leadline_core::{Clock, ContactId, E164, Email, FieldErrors, Patch, UserId, WorkspaceId};
use sqlx::{AssertSqlSafe, Row};

use crate::StoreError;
use crate::backend::{Backend, on_write};
use crate::contacts::{ContactRecord, DefinitionsByWorkspace, contact_columns, read_contact};
use crate::custom_attributes::read_definition;
use crate::events::{record_events, resources};
use crate::rows::{id, placeholders, to_micros};

/// What the client sent for `customAttributes`.
#[derive(Debug, Clone, Default)]
pub enum AttributesInput {
    /// Absent: keep every value.
    #[default]
    Keep,
    /// `null`: clear every value.
    ClearAll,
    /// Set or clear the listed attributes.
    Assign {
        open: Vec<OpenAttributeInput>,
        closed: Vec<ClosedAttributeInput>,
    },
}

/// One upsert, validated as far as possible without the database.
#[derive(Debug, Clone)]
pub struct ContactUpsert {
    pub workspace_id: WorkspaceId,
    pub cellphone: E164,
    pub first_name: Patch<String>,
    pub last_name: Patch<String>,
    pub email: Patch<Email>,
    pub language_code: Patch<LanguageCode>,
    pub owner: Patch<UserRef>,
    pub attributes: AttributesInput,
}

impl ContactUpsert {
    /// An upsert that only makes sure the contact exists (every field left as it is).
    pub fn cellphone_only(workspace_id: WorkspaceId, cellphone: E164) -> Self {
        Self {
            workspace_id,
            cellphone,
            first_name: Patch::Absent,
            last_name: Patch::Absent,
            email: Patch::Absent,
            language_code: Patch::Absent,
            owner: Patch::Absent,
            attributes: AttributesInput::Keep,
        }
    }
}

/// A committed upsert, with the definitions needed to show its custom attributes.
#[derive(Debug, Clone)]
pub struct UpsertedContact {
    pub contact: ContactRecord,
    /// Whether this upsert created the contact.
    pub created: bool,
    pub definitions: Arc<[AttributeDefinition]>,
}

/// Either the committed contact, or why this one upsert was refused (the rest of its
/// batch is unaffected).
pub type UpsertOutcome = Result<UpsertedContact, FieldErrors>;

/// The three statements whose size grows with the batch. Each takes its rows as one
/// JSON parameter, so its text never changes: it is prepared once per connection, and
/// binding costs one string instead of thousands of placeholders (which dominated the
/// profile when rows were bound one value at a time). The JSON functions differ between
/// the databases, so these are the per-backend texts.
struct BatchSql {
    /// `$1` = `[[id, workspace_id, cellphone], …]`, `$2` = now: creates missing rows,
    /// marked `updated_at = -1` until step 7 overwrites them. Returns nothing, or, where
    /// `lock_rows` is `None`, every row of the batch, locked.
    ensure_rows: &'static str,
    /// `$1` = `[[workspace_id, cellphone], …]`: reads (and on PostgreSQL locks) the rows,
    /// one unique-index probe per key whatever the size of the table.
    lock_rows: Option<&'static str>,
    /// `$1` = `[[every contact column in order], …]`: writes the merged rows back.
    write_rows: &'static str,
}

const SQLITE: BatchSql = BatchSql {
    ensure_rows: "INSERT INTO contacts (id, workspace_id, cellphone, custom_attributes, contact_type, created_at, updated_at) \
        SELECT value ->> 0, value ->> 1, value ->> 2, '{}', 'PARTIAL', $2, -1 FROM json_each($1) WHERE true \
        ON CONFLICT (workspace_id, cellphone) DO NOTHING",
    // `contacts.*`: json_each has an `id` column of its own. CROSS JOIN keeps the keys
    // as the outer loop (one unique-index probe each); SQLite does not reorder it.
    lock_rows: Some(
        "SELECT contacts.* FROM json_each($1) AS k \
         CROSS JOIN contacts WHERE contacts.workspace_id = k.value ->> 0 AND contacts.cellphone = k.value ->> 1",
    ),
    write_rows: concat!(
        "INSERT INTO contacts (",
        contact_columns!(),
        ") \
         SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6, \
                value ->> 7, value ->> 8, value ->> 9, value ->> 10, value ->> 11 \
         FROM json_each($1) WHERE true ",
        "ON CONFLICT (workspace_id, cellphone) DO UPDATE SET \
         first_name = excluded.first_name, last_name = excluded.last_name, email = excluded.email, \
         language_code = excluded.language_code, owner_id = excluded.owner_id, \
         custom_attributes = excluded.custom_attributes, contact_type = excluded.contact_type, \
         updated_at = excluded.updated_at"
    ),
};

const POSTGRES: BatchSql = BatchSql {
    // One statement creates the missing rows and locks and returns every row of the
    // batch: the no-op DO UPDATE takes the row lock that keeps a writer on another node
    // from merging the same contact at once, and the conflict check always goes through
    // the unique index. (A separate SELECT … FOR UPDATE was at the planner's mercy: on
    // a young table without statistics it scanned every contact of the workspace
    // through another index, and batches took tens of milliseconds.)
    ensure_rows: concat!(
        "INSERT INTO contacts (id, workspace_id, cellphone, custom_attributes, contact_type, created_at, updated_at) \
         SELECT r ->> 0, r ->> 1, r ->> 2, '{}', 'PARTIAL', $2, -1 FROM jsonb_array_elements($1::jsonb) AS r \
         ON CONFLICT (workspace_id, cellphone) DO UPDATE SET updated_at = contacts.updated_at \
         RETURNING ",
        contact_columns!()
    ),
    lock_rows: None,
    write_rows: concat!(
        "INSERT INTO contacts (",
        contact_columns!(),
        ") \
         SELECT r ->> 0, r ->> 1, r ->> 2, r ->> 3, r ->> 4, r ->> 5, r ->> 6, r ->> 7, r ->> 8, r ->> 9, \
                (r ->> 10)::bigint, (r ->> 11)::bigint \
         FROM jsonb_array_elements($1::jsonb) AS r ",
        "ON CONFLICT (workspace_id, cellphone) DO UPDATE SET \
         first_name = excluded.first_name, last_name = excluded.last_name, email = excluded.email, \
         language_code = excluded.language_code, owner_id = excluded.owner_id, \
         custom_attributes = excluded.custom_attributes, contact_type = excluded.contact_type, \
         updated_at = excluded.updated_at"
    ),
};

/// Runs one batch in one transaction and returns an outcome per upsert, in order.
pub(crate) async fn upsert_batch(
    backend: &Backend,
    clock: &dyn Clock,
    batch: &[ContactUpsert],
) -> Result<Vec<UpsertOutcome>, StoreError> {
    let workspaces: Vec<WorkspaceId> = batch
        .iter()
        .map(|u| u.workspace_id)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let statements = match backend {
        Backend::Sqlite { .. } => &SQLITE,
        Backend::Postgres(_) => &POSTGRES,
    };

    on_write!(backend, pool => {
        let mut tx = pool.begin().await?;

        // 1. Definitions of every workspace in the batch.
        let sql = format!(
            "SELECT workspace_id, id, key, label, kind, options, required FROM custom_attributes \
             WHERE workspace_id IN ({}) ORDER BY id",
            placeholders(1, workspaces.len())
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for workspace in &workspaces {
            query = query.bind(workspace.to_string());
        }
        let mut grouped: HashMap<WorkspaceId, Vec<AttributeDefinition>> = HashMap::new();
        for row in query.fetch_all(&mut *tx).await? {
            let workspace: WorkspaceId = id("custom_attributes.workspace_id", &row.try_get::<String, _>("workspace_id")?)?;
            grouped.entry(workspace).or_default().push(read_definition(&row)?);
        }
        let definitions: DefinitionsByWorkspace = workspaces
            .iter()
            .map(|w| (*w, Arc::from(grouped.remove(w).unwrap_or_default())))
            .collect();

        // 2. Owners named by the batch.
        let owner_refs: BTreeSet<String> = batch
            .iter()
            .filter_map(|u| match &u.owner {
                Patch::Set(UserRef::Id(user)) => Some(user.to_string()),
                Patch::Set(UserRef::Email(email)) => Some(email.as_str().to_owned()),
                _ => None,
            })
            .collect();
        let mut owners: HashMap<(WorkspaceId, String), UserId> = HashMap::new();
        if !owner_refs.is_empty() {
            let sql = format!(
                "SELECT id, workspace_id, email FROM users WHERE workspace_id IN ({}) AND (id IN ({refs}) OR email IN ({refs}))",
                placeholders(1, workspaces.len()),
                refs = placeholders(1 + workspaces.len(), owner_refs.len()),
            );
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for workspace in &workspaces {
                query = query.bind(workspace.to_string());
            }
            for reference in &owner_refs {
                query = query.bind(reference.clone());
            }
            for row in query.fetch_all(&mut *tx).await? {
                let user_id: String = row.try_get("id")?;
                let workspace: WorkspaceId = id("users.workspace_id", &row.try_get::<String, _>("workspace_id")?)?;
                let user: UserId = id("users.id", &user_id)?;
                owners.insert((workspace, row.try_get("email")?), user);
                owners.insert((workspace, user_id), user);
            }
        }

        // 3. Validate each upsert against what was loaded.
        let checked: Vec<Result<ContactChanges, FieldErrors>> = batch
            .iter()
            .map(|upsert| resolve_changes(upsert, &definitions[&upsert.workspace_id], &owners))
            .collect();

        // 4. Make sure a row exists for every accepted cellphone, in a fixed order so two
        //    concurrent batches always lock rows in the same order.
        let now = clock.now();
        let keys: BTreeSet<(WorkspaceId, &str)> = batch
            .iter()
            .zip(&checked)
            .filter(|(_, c)| c.is_ok())
            .map(|(u, _)| (u.workspace_id, u.cellphone.as_str()))
            .collect();
        let mut outcomes = Vec::with_capacity(batch.len());
        if keys.is_empty() {
            tx.commit().await?;
            return Ok(checked.into_iter().map(|c| Err(c.expect_err("no accepted upsert"))).collect());
        }
        let new_rows: Vec<(String, String, &str)> = keys
            .iter()
            .map(|(workspace, cellphone)| (ContactId::new().to_string(), workspace.to_string(), *cellphone))
            .collect();
        let ensured = sqlx::query(statements.ensure_rows)
            .bind(serde_json::to_string(&new_rows).expect("rows serialize"))
            .bind(to_micros(now))
            .fetch_all(&mut *tx)
            .await?;

        // 5. Lock and read them (on PostgreSQL step 4 already returned them, locked).
        let rows = match statements.lock_rows {
            Some(lock_rows) => {
                let key_pairs: Vec<(String, &str)> = keys.iter().map(|(w, c)| (w.to_string(), *c)).collect();
                sqlx::query(lock_rows)
                    .bind(serde_json::to_string(&key_pairs).expect("keys serialize"))
                    .fetch_all(&mut *tx)
                    .await?
            }
            None => ensured,
        };
        let mut current: HashMap<(WorkspaceId, String), (ContactRecord, bool)> = HashMap::with_capacity(keys.len());
        let mut before: HashMap<(WorkspaceId, String), Option<ContactRecord>> = HashMap::with_capacity(keys.len());
        for row in rows {
            let record = read_contact(&row)?;
            let created = row.try_get::<i64, _>("updated_at")? == -1;
            let key = (record.workspace_id, record.cellphone.as_str().to_owned());
            before.insert(key.clone(), (!created).then(|| record.clone()));
            current.insert(key, (record, created));
        }

        // 6. Merge in order; each caller sees the state right after its own upsert.
        for (upsert, changes) in batch.iter().zip(checked) {
            let changes = match changes {
                Ok(changes) => changes,
                Err(errors) => {
                    outcomes.push(Err(errors));
                    continue;
                }
            };
            let key = (upsert.workspace_id, upsert.cellphone.as_str().to_owned());
            let (record, created) = current
                .get_mut(&key)
                .ok_or_else(|| StoreError::Corrupt(format!("contact {} vanished inside its transaction", upsert.cellphone)))?;
            let workspace_definitions = &definitions[&upsert.workspace_id];
            record.fields = std::mem::take(&mut record.fields).apply(changes);
            record.contact_type = record.fields.classify(workspace_definitions);
            record.updated_at = now;
            outcomes.push(Ok(UpsertedContact {
                contact: record.clone(),
                created: std::mem::take(created),
                definitions: workspace_definitions.clone(),
            }));
        }

        // 7. Write every touched row back at once.
        let touched: Vec<&ContactRecord> = current.values().map(|(record, _)| record).collect();
        let rows: Vec<serde_json::Value> = touched
            .into_iter()
            .map(|record| {
                serde_json::json!([
                    record.id.to_string(),
                    record.workspace_id.to_string(),
                    record.cellphone.as_str(),
                    record.fields.first_name,
                    record.fields.last_name,
                    record.fields.email.as_ref().map(Email::as_str),
                    record.fields.language_code.map(LanguageCode::as_str),
                    record.fields.owner_id.map(|o| o.to_string()),
                    serde_json::to_string(&record.fields.attributes).expect("attribute values serialize"),
                    record.contact_type.as_str(),
                    to_micros(record.created_at),
                    to_micros(record.updated_at),
                ])
            })
            .collect();
        let query = sqlx::query(statements.write_rows).bind(serde_json::to_string(&rows).expect("rows serialize"));
        query.execute(&mut *tx).await?;
        let events = resources::upserted_contacts(batch, &before, &current, &definitions, now);
        record_events!(tx, &events, now);
        tx.commit().await?;
        Ok(outcomes)
    })
}

/// Turns one upsert into domain changes, resolving its owner and custom attributes.
fn resolve_changes(
    upsert: &ContactUpsert,
    definitions: &[AttributeDefinition],
    owners: &HashMap<(WorkspaceId, String), UserId>,
) -> Result<ContactChanges, FieldErrors> {
    let mut errors = FieldErrors::new();
    let owner_id = match &upsert.owner {
        Patch::Absent => Patch::Absent,
        Patch::Clear => Patch::Clear,
        Patch::Set(reference) => {
            let (field, value) = match reference {
                UserRef::Id(user) => ("ownerIdentifier.identifier", user.to_string()),
                UserRef::Email(email) => ("ownerIdentifier.identifier", email.as_str().to_owned()),
            };
            match owners.get(&(upsert.workspace_id, value.clone())) {
                Some(user) => Patch::Set(*user),
                None => {
                    errors.push(
                        field,
                        format!(
                            "no user '{value}' in this workspace; create it with POST /api/v1/users"
                        ),
                    );
                    Patch::Absent
                }
            }
        }
    };
    let attributes = match &upsert.attributes {
        AttributesInput::Keep => AttributesChange::Keep,
        AttributesInput::ClearAll => AttributesChange::ClearAll,
        AttributesInput::Assign { open, closed } => {
            match custom_attribute::resolve_assignments(open, closed, definitions) {
                Ok(assignments) => AttributesChange::Assign(assignments),
                Err(attribute_errors) => {
                    for error in attribute_errors.into_vec() {
                        errors.push(error.field, error.message);
                    }
                    AttributesChange::Keep
                }
            }
        }
    };
    errors.finish(ContactChanges {
        first_name: upsert.first_name.clone(),
        last_name: upsert.last_name.clone(),
        email: upsert.email.clone(),
        language_code: upsert.language_code.clone(),
        owner_id,
        attributes,
    })
}
