//! What the number pool's store tests share: a fresh store of each backend with a
//! workspace, and a plain connection to the same database to set up phone numbers (their
//! CRUD lives elsewhere) and read the counters the store keeps.

#![allow(dead_code)]

use std::future::Future;
use std::str::FromStr;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use leadline_core::channel::{MessageProviderType, ProviderKind};
use leadline_core::conversation::Controller;
use leadline_core::message::MessageType;
use leadline_core::numbers::NumberMetrics;
use leadline_core::{Clock, E164, PhoneNumberId, SystemClock, WorkspaceId};
use leadline_store::channels::{Channel, NewChannel};
use leadline_store::contacts::{ContactRecord as Contact, ContactUpsert};
use leadline_store::conversations::{
    Conversation, NewConversation, NewOutbound, OpenConversation, OpenOutcome, OutboundSender,
};
use leadline_store::messages::Message;
use leadline_store::testing::TestDatabase;
use leadline_store::{BackendKind, Store, StoreOptions};
use sqlx::AssertSqlSafe;
use sqlx::postgres::PgPool;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};

/// A plain connection to a test database, beside the store.
#[derive(Clone)]
pub enum Raw {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl Raw {
    pub async fn connect(kind: BackendKind, url: &str) -> Self {
        match kind {
            BackendKind::Sqlite => {
                let options = SqliteConnectOptions::from_str(url)
                    .expect("a SQLite URL")
                    .busy_timeout(std::time::Duration::from_secs(10));
                Raw::Sqlite(SqlitePool::connect_with(options).await.expect("SQLite"))
            }
            BackendKind::Postgres => Raw::Postgres(PgPool::connect(url).await.expect("PostgreSQL")),
        }
    }

    pub async fn execute(&self, sql: String) {
        match self {
            Raw::Sqlite(pool) => sqlx::query(AssertSqlSafe(sql))
                .execute(pool)
                .await
                .map(|_| ()),
            Raw::Postgres(pool) => sqlx::query(AssertSqlSafe(sql))
                .execute(pool)
                .await
                .map(|_| ()),
        }
        .expect("the statement runs");
    }

    /// The first column of the first row, `None` when there is no row or it is NULL.
    pub async fn int(&self, sql: String) -> Option<i64> {
        let value: Option<Option<i64>> = match self {
            Raw::Sqlite(pool) => {
                sqlx::query_scalar(AssertSqlSafe(sql))
                    .fetch_optional(pool)
                    .await
            }
            Raw::Postgres(pool) => {
                sqlx::query_scalar(AssertSqlSafe(sql))
                    .fetch_optional(pool)
                    .await
            }
        }
        .expect("the query runs");
        value.flatten()
    }

    pub async fn text(&self, sql: String) -> Option<String> {
        let value: Option<Option<String>> = match self {
            Raw::Sqlite(pool) => {
                sqlx::query_scalar(AssertSqlSafe(sql))
                    .fetch_optional(pool)
                    .await
            }
            Raw::Postgres(pool) => {
                sqlx::query_scalar(AssertSqlSafe(sql))
                    .fetch_optional(pool)
                    .await
            }
        }
        .expect("the query runs");
        value.flatten()
    }

    /// The number's outcome counters, added up over every day.
    pub async fn outcomes(&self, number: PhoneNumberId) -> NumberMetrics {
        type Counts = (i64, i64, i64, i64, i64, i64, i64);
        let sql = format!(
            "SELECT sent, delivered, failed, filtered, carrier_blocks, opt_outs, replies \
             FROM number_outcomes WHERE phone_number_id = '{number}'"
        );
        let rows: Vec<Counts> = match self {
            Raw::Sqlite(pool) => sqlx::query_as(AssertSqlSafe(sql)).fetch_all(pool).await,
            Raw::Postgres(pool) => sqlx::query_as(AssertSqlSafe(sql)).fetch_all(pool).await,
        }
        .expect("the outcomes read");
        let n = |v: i64| u64::try_from(v).expect("a count");
        rows.into_iter()
            .fold(NumberMetrics::default(), |m, r| NumberMetrics {
                sent: m.sent + n(r.0),
                delivered: m.delivered + n(r.1),
                failed: m.failed + n(r.2),
                filtered: m.filtered + n(r.3),
                carrier_blocks: m.carrier_blocks + n(r.4),
                opt_outs: m.opt_outs + n(r.5),
                replies: m.replies + n(r.6),
            })
    }

    /// `(sms, calls)` reserved on the number on `day`.
    pub async fn usage(&self, number: PhoneNumberId, day: chrono::NaiveDate) -> (i64, i64) {
        let read = |column: &str| {
            format!(
                "SELECT {column} FROM number_usage WHERE phone_number_id = '{number}' AND day = '{day}'"
            )
        };
        (
            self.int(read("sms")).await.unwrap_or(0),
            self.int(read("calls")).await.unwrap_or(0),
        )
    }

    /// A pool number of the workspace that can text and call.
    pub async fn add_number(&self, workspace: WorkspaceId, number: &str) -> PhoneNumberId {
        let id = PhoneNumberId::new();
        self.execute(format!(
            "INSERT INTO phone_numbers (id, workspace_id, number, display_number, can_sms, can_call, \
             preferred, is_default, created_at, updated_at) \
             VALUES ('{id}', '{workspace}', '{number}', '{number}', TRUE, TRUE, FALSE, FALSE, 0, 0)"
        ))
        .await;
        id
    }
}

/// A store of one backend with a workspace, and a plain connection to its database.
pub struct Fixture {
    pub kind: BackendKind,
    pub store: Store,
    pub raw: Raw,
    pub workspace: WorkspaceId,
}

/// Runs `body` against a fresh fixture of each backend.
pub async fn on_both<F, Fut>(body: F)
where
    F: Fn(Fixture) -> Fut,
    Fut: Future<Output = ()>,
{
    on_both_with_clock(Arc::new(SystemClock), body).await;
}

/// Like [`on_both`], with the stores reading `clock` (a `ManualClock` a test moves).
pub async fn on_both_with_clock<F, Fut>(clock: Arc<dyn Clock>, body: F)
where
    F: Fn(Fixture) -> Fut,
    Fut: Future<Output = ()>,
{
    for kind in [BackendKind::Sqlite, BackendKind::Postgres] {
        let Some(database) = TestDatabase::create(kind).await else {
            continue;
        };
        let store = Store::open(&database.url, StoreOptions::default(), clock.clone())
            .await
            .unwrap_or_else(|e| panic!("{kind:?} store opens: {e}"));
        let (workspace, _) = store.create_workspace("Numbers").await.unwrap();
        let raw = Raw::connect(kind, &database.url).await;
        body(Fixture {
            kind,
            store: store.clone(),
            raw,
            workspace: workspace.id,
        })
        .await;
        store.close().await;
    }
}

pub fn e164(number: &str) -> E164 {
    E164::parse(number).expect("a valid number")
}

impl Fixture {
    pub async fn channel(&self, carries: MessageProviderType) -> Channel {
        self.store
            .create_channel(
                self.workspace,
                NewChannel {
                    name: format!("{carries:?}"),
                    carries,
                    provider: ProviderKind::Sandbox,
                    sender: "+14155550000".into(),
                    settings: Default::default(),
                    secrets: Default::default(),
                    delivery: Default::default(),
                },
            )
            .await
            .expect("a channel")
    }

    pub async fn contact(&self, cellphone: &str) -> Contact {
        self.store
            .upsert_contact(ContactUpsert::cellphone_only(
                self.workspace,
                e164(cellphone),
            ))
            .await
            .expect("stored")
            .expect("valid")
            .contact
    }

    /// Opens a conversation with the contact whose first message goes out from
    /// `sender` (or the channel's sender).
    pub async fn open(
        &self,
        channel: &Channel,
        contact: &Contact,
        message_type: MessageType,
        sender: Option<OutboundSender>,
    ) -> (Conversation, Message) {
        let opened = self
            .store
            .open_conversation(OpenConversation {
                conversation: NewConversation {
                    workspace_id: self.workspace,
                    contact_id: contact.id,
                    channel_id: channel.id,
                    name: "numbers".into(),
                    controller: Controller::Ai,
                    assigned_user_id: None,
                    agent_context: None,
                    additional_messages: Vec::new(),
                    campaign_id: None,
                    consent_captured_at: None,
                },
                opening: Some(outbound(message_type, sender)),
            })
            .await
            .expect("stored");
        match opened {
            OpenOutcome::Opened {
                conversation,
                message: Some(message),
            } => (conversation, *message),
            other => panic!("not opened: {other:?}"),
        }
    }

    /// When the message's send job is due.
    pub async fn job_run_at(&self, message: &Message) -> Option<DateTime<Utc>> {
        let micros = self
            .raw
            .int(format!(
                "SELECT run_at FROM jobs WHERE message_id = '{}'",
                message.id
            ))
            .await?;
        DateTime::from_timestamp_micros(micros)
    }
}

pub fn outbound(message_type: MessageType, sender: Option<OutboundSender>) -> NewOutbound {
    NewOutbound {
        message_type,
        body: "Hello".into(),
        template: None,
        author_user_id: None,
        sender,
    }
}
