//! Adding leads in bulk (the bulk endpoint and `leadline import leads`): set-based, in
//! one transaction per call, with the `contact.created` and `lead.added` events of the
//! rows it creates.

use leadline_core::event::EventType;
use leadline_core::{ContactId, LeadId};

use super::{Lead, NewLead};
use crate::backend::on_write;
use crate::campaigns::Campaign;
use crate::events::{record_events, resources};
use crate::rows::{FromStoreRow, StoreRow, to_micros};
use crate::{Store, StoreError};

/// The set-based statements of a bulk add, per database: each takes its rows as one
/// JSON parameter (see `contact_upsert` for why).
struct BulkSql {
    /// `$1` = `[[id, workspace_id, cellphone], …]`, `$2` = now.
    ensure_contacts: &'static str,
    /// `$1` = `[workspace_id]`… reads `cellphone → id` for `$2` = `[cellphone, …]`.
    contact_ids: &'static str,
    /// `$1` = `[[id, workspace_id, campaign_id, contact_id, phone, external_id, zone, call_data], …]`, `$2` = now.
    insert_leads: &'static str,
}

const SQLITE_BULK: BulkSql = BulkSql {
    ensure_contacts: "INSERT INTO contacts (id, workspace_id, cellphone, custom_attributes, contact_type, created_at, updated_at) \
        SELECT value ->> 0, value ->> 1, value ->> 2, '{}', 'PARTIAL', $2, $2 FROM json_each($1) WHERE true \
        ON CONFLICT (workspace_id, cellphone) DO NOTHING RETURNING *",
    // CROSS JOIN keeps json_each as the outer loop (SQLite does not reorder it), so
    // each key is one probe of the unique index; a plain JOIN let the planner scan the
    // contacts and re-read the JSON for each of them.
    contact_ids: "SELECT contacts.id AS id, contacts.cellphone AS cellphone FROM json_each($2) AS k \
        CROSS JOIN contacts WHERE contacts.workspace_id = $1 AND contacts.cellphone = k.value",
    insert_leads: "INSERT INTO leads (id, workspace_id, campaign_id, contact_id, phone_number, external_id, time_zone, \
        call_data, status, attempts, attempt_times, next_attempt_at, created_at, updated_at) \
        SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6, value ->> 7, \
               'New', 0, '[]', $2, $2, $2 FROM json_each($1) WHERE true \
        ON CONFLICT (campaign_id, external_id) WHERE external_id IS NOT NULL DO UPDATE SET \
        contact_id = excluded.contact_id, phone_number = excluded.phone_number, time_zone = excluded.time_zone, \
        call_data = excluded.call_data, updated_at = excluded.updated_at \
        RETURNING *",
};

const POSTGRES_BULK: BulkSql = BulkSql {
    ensure_contacts: "INSERT INTO contacts (id, workspace_id, cellphone, custom_attributes, contact_type, created_at, updated_at) \
        SELECT r ->> 0, r ->> 1, r ->> 2, '{}', 'PARTIAL', $2, $2 FROM jsonb_array_elements($1::jsonb) AS r \
        ON CONFLICT (workspace_id, cellphone) DO NOTHING RETURNING *",
    contact_ids: "SELECT c.id AS id, c.cellphone AS cellphone FROM json_array_elements_text($2::json) AS k(phone), \
        LATERAL (SELECT id, cellphone FROM contacts WHERE workspace_id = $1 AND cellphone = k.phone) AS c",
    insert_leads: "INSERT INTO leads (id, workspace_id, campaign_id, contact_id, phone_number, external_id, time_zone, \
        call_data, status, attempts, attempt_times, next_attempt_at, created_at, updated_at) \
        SELECT r ->> 0, r ->> 1, r ->> 2, r ->> 3, r ->> 4, r ->> 5, r ->> 6, r ->> 7, \
               'New', 0, '[]', $2, $2, $2 FROM jsonb_array_elements($1::jsonb) AS r \
        ON CONFLICT (campaign_id, external_id) WHERE external_id IS NOT NULL DO UPDATE SET \
        contact_id = excluded.contact_id, phone_number = excluded.phone_number, time_zone = excluded.time_zone, \
        call_data = excluded.call_data, updated_at = excluded.updated_at \
        RETURNING *",
};

impl Store {
    /// Adds many leads to `campaign` in one transaction, set-based: the missing
    /// contacts are created in one statement and the leads written in another. Leads
    /// repeating an `external_id` update the earlier lead, as [`Store::add_lead`] does
    /// (within one call, the last row with an external id wins). Returns how many
    /// rows were written.
    pub async fn add_leads(
        &self,
        campaign: &Campaign,
        leads: &[NewLead],
    ) -> Result<usize, StoreError> {
        if leads.is_empty() {
            return Ok(0);
        }
        let now = to_micros(self.clock.now());
        let workspace = campaign.workspace_id.to_string();
        let mut seen_external = std::collections::HashSet::new();
        let mut keep: Vec<&NewLead> = Vec::with_capacity(leads.len());
        for lead in leads.iter().rev() {
            if lead
                .external_id
                .as_ref()
                .is_none_or(|id| seen_external.insert(id.as_str()))
            {
                keep.push(lead);
            }
        }
        keep.reverse();
        let mut cellphones: Vec<&str> = keep.iter().map(|l| l.phone_number.as_str()).collect();
        cellphones.sort_unstable();
        cellphones.dedup();
        let new_contacts: Vec<(String, &str, &str)> = cellphones
            .iter()
            .map(|c| (ContactId::new().to_string(), workspace.as_str(), *c))
            .collect();
        let sql = match &self.backend {
            crate::Backend::Sqlite { .. } => &SQLITE_BULK,
            crate::Backend::Postgres(_) => &POSTGRES_BULK,
        };
        let at = self.clock.now();
        let written = on_write!(&self.backend, pool => {
            let mut tx = pool.begin().await?;
            let mut events = Vec::new();
            for row in sqlx::query(sql.ensure_contacts)
                .bind(serde_json::to_string(&new_contacts).expect("rows serialize"))
                .bind(now)
                .fetch_all(&mut *tx)
                .await?
            {
                // A new contact has no custom attribute to show yet.
                let contact = crate::contacts::read_contact(&row)?;
                events.push(resources::contact(EventType::ContactCreated, &contact, &[], at));
            }
            let mut contact_ids = std::collections::HashMap::with_capacity(cellphones.len());
            for row in sqlx::query(sql.contact_ids)
                .bind(&workspace)
                .bind(serde_json::to_string(&cellphones).expect("rows serialize"))
                .fetch_all(&mut *tx)
                .await?
            {
                contact_ids.insert(row.text("cellphone")?, row.text("id")?);
            }
            let ids: Vec<LeadId> = keep.iter().map(|_| LeadId::new()).collect();
            let rows: Vec<serde_json::Value> = keep
                .iter()
                .zip(&ids)
                .map(|(lead, id)| {
                    serde_json::json!([
                        id.to_string(),
                        workspace,
                        campaign.id.to_string(),
                        contact_ids.get(lead.phone_number.as_str()),
                        lead.phone_number.as_str(),
                        lead.external_id,
                        lead.time_zone,
                        serde_json::to_string(&lead.call_data).expect("strings serialize"),
                    ])
                })
                .collect();
            let written = sqlx::query(sql.insert_leads)
                .bind(serde_json::to_string(&rows).expect("rows serialize"))
                .bind(now)
                .fetch_all(&mut *tx)
                .await?;
            // Only new leads are added; a row naming an earlier lead's externalId
            // updates that lead (its id is not one of this call's).
            let new_ids: std::collections::HashSet<&LeadId> = ids.iter().collect();
            for row in &written {
                let lead = Lead::from_row(row)?;
                if new_ids.contains(&lead.id) {
                    events.push(resources::lead(EventType::LeadAdded, &lead, at));
                }
            }
            let written = written.len();
            record_events!(tx, &events, at);
            tx.commit().await?;
            written
        });
        Ok(written)
    }
}
