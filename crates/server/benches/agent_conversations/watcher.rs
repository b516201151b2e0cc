//! How a lead sees its reply without polling the server: one watcher counts every
//! conversation's messages in the database every 10 ms and publishes each count to its
//! lead.

use super::*;

/// How a lead learns that its reply was queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WatchMode {
    /// The bench counts the messages of every conversation straight from the database,
    /// one query every [`WATCH_TICK`], and wakes the lead whose reply came.
    Store,
    /// Each lead polls `GET /api/v1/conversations/{id}/messages` (first after 20 ms,
    /// then every AGENT_POLL_MS): the most literal client, and the heaviest load.
    Http,
}

/// How often the store watcher counts messages.
pub(crate) const WATCH_TICK: Duration = Duration::from_millis(10);

/// The store watcher: the message count of each conversation, published to its lead.
pub(crate) struct Watcher {
    counts: HashMap<String, watch::Receiver<usize>>,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<(u64, Duration)>,
}

impl Watcher {
    pub(crate) async fn start(kind: BackendKind, url: &str, leads: &[Lead]) -> Self {
        let mut senders = HashMap::new();
        let mut counts = HashMap::new();
        for lead in leads {
            let (sender, receiver) = watch::channel(0usize);
            senders.insert(lead.conversation_id.clone(), sender);
            counts.insert(lead.conversation_id.clone(), receiver);
        }
        let database = match kind {
            BackendKind::Sqlite => WatchedDatabase::Sqlite(
                sqlx::SqlitePool::connect(url)
                    .await
                    .expect("the watcher connects"),
            ),
            BackendKind::Postgres => WatchedDatabase::Postgres(
                sqlx::PgPool::connect(url)
                    .await
                    .expect("the watcher connects"),
            ),
        };
        let stop = CancellationToken::new();
        let stopped = stop.clone();
        let task = tokio::spawn(async move {
            let (mut queries, mut spent) = (0u64, Duration::ZERO);
            let mut tick = tokio::time::interval(WATCH_TICK);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            while !stopped.is_cancelled() {
                tick.tick().await;
                let started = Instant::now();
                let rows = database.message_counts().await;
                spent += started.elapsed();
                queries += 1;
                for (conversation, count) in rows {
                    if let Some(sender) = senders.get(&conversation) {
                        let count = usize::try_from(count).unwrap_or_default();
                        sender.send_if_modified(|seen| {
                            let changed = *seen != count;
                            *seen = count;
                            changed
                        });
                    }
                }
            }
            database.close().await;
            (queries, spent)
        });
        Self { counts, stop, task }
    }

    pub(crate) fn wait_for(&self, lead: &Lead) -> Wait {
        Wait::Watch(self.counts[&lead.conversation_id].clone())
    }

    /// Stops the watcher: (queries run, time spent in them).
    pub(crate) async fn stop(self) -> (u64, Duration) {
        self.stop.cancel();
        self.task.await.expect("the watcher ends")
    }
}

pub(crate) enum WatchedDatabase {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl WatchedDatabase {
    pub(crate) async fn message_counts(&self) -> Vec<(String, i64)> {
        // All messages, inbound too: the count comes from the (conversation_id, id)
        // index alone, where counting outbound ones would read every row.
        const COUNTS: &str =
            "SELECT conversation_id, COUNT(*) FROM messages GROUP BY conversation_id";
        match self {
            WatchedDatabase::Sqlite(pool) => sqlx::query_as(COUNTS).fetch_all(pool).await,
            WatchedDatabase::Postgres(pool) => sqlx::query_as(COUNTS).fetch_all(pool).await,
        }
        .expect("the watcher's query")
    }

    pub(crate) async fn close(&self) {
        match self {
            WatchedDatabase::Sqlite(pool) => pool.close().await,
            WatchedDatabase::Postgres(pool) => pool.close().await,
        }
    }
}
