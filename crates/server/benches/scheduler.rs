//! Scheduler tick cost: how long finding (and claiming) the due leads of a campaign takes among
//! 1,000,000 leads, and one full scheduler step (gate decisions and updates for a batch), on
//! SQLite and PostgreSQL.
//!
//!     cargo bench -p leadline-server --bench scheduler
//!     SCHEDULER_LEADS=100000 cargo bench -p leadline-server --bench scheduler
//!
//! Half the leads are due now and half next week, so the due query must find the due
//! half through the `leads_due` index rather than scanning the campaign.

use std::sync::Arc;
use std::time::{Duration, Instant};

use leadline_core::campaign::{CampaignStatus, RetryInterval};
use leadline_core::channel::{MessageProviderType, ProviderKind};
use leadline_core::template::{TemplateBody, TemplateStatus};
use leadline_core::{E164, SystemClock};
use leadline_server::scheduler::Scheduler;
use leadline_store::campaigns::CampaignFields;
use leadline_store::channels::NewChannel;
use leadline_store::leads::NewLead;
use leadline_store::templates::NewTemplate;
use leadline_store::testing::TestDatabase;
use leadline_store::{BackendKind, Store, StoreOptions};

#[tokio::main]
async fn main() {
    let leads: usize = std::env::var("SCHEDULER_LEADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    println!("scheduler benchmark: {leads} leads in one campaign, half of them due");
    for kind in [BackendKind::Sqlite, BackendKind::Postgres] {
        let Some(database) = TestDatabase::create(kind).await else {
            println!("{kind:?}: skipped (database not reachable)");
            continue;
        };
        run(kind, &database.url, leads).await;
    }
}

async fn run(kind: BackendKind, url: &str, count: usize) {
    let store = Store::open(url, StoreOptions::default(), Arc::new(SystemClock))
        .await
        .expect("the store opens");
    let (workspace, _) = store
        .create_workspace("Scheduler load")
        .await
        .expect("a workspace");
    let channel = store
        .create_channel(
            workspace.id,
            NewChannel {
                name: "SMS".into(),
                carries: MessageProviderType::Sms,
                provider: ProviderKind::Sandbox,
                sender: "+14155550100".into(),
                settings: Default::default(),
                secrets: Default::default(),
                delivery: Default::default(),
            },
        )
        .await
        .expect("a channel");
    store
        .create_template(
            workspace.id,
            NewTemplate {
                name: "welcome".into(),
                language: "en".into(),
                body: TemplateBody::parse("body", "Hi").expect("a body"),
                channel_type: MessageProviderType::Sms,
                status: TemplateStatus::Approved,
            },
        )
        .await
        .expect("a template");
    let campaign = store
        .create_campaign(
            workspace.id,
            CampaignFields {
                name: "Load".into(),
                channel_id: channel.id,
                default_time_zone: "America/New_York".into(),
                default_country: "US".into(),
                calling_hours: Vec::new(),
                max_attempts: 3,
                retry_interval: RetryInterval::Daily,
                opening_template: Some("welcome".into()),
                opening: Default::default(),
                concurrency: 500,
            },
        )
        .await
        .expect("a campaign");
    let seeding = Instant::now();
    let codes = [212, 305, 312, 415, 512, 617, 702, 801, 919, 206];
    let mut batch = Vec::with_capacity(5_000);
    for n in 0..count {
        let phone = format!(
            "+1{}{}{:04}",
            codes[n % codes.len()],
            200 + (n / 10_000) % 800,
            n % 10_000
        );
        batch.push(NewLead {
            phone_number: E164::from_trusted(phone),
            external_id: None,
            time_zone: None,
            call_data: Default::default(),
        });
        if batch.len() == 5_000 {
            store
                .add_leads(&campaign, &batch)
                .await
                .expect("leads added");
            batch.clear();
        }
    }
    store
        .add_leads(&campaign, &batch)
        .await
        .expect("leads added");
    defer_every_other_lead(kind, url, store.clock().now() + chrono::Duration::days(7)).await;
    println!(
        "{kind:?}: seeded {count} leads in {:.1} s",
        seeding.elapsed().as_secs_f64()
    );

    let now = store.clock().now();
    let mut timings = Vec::new();
    for _ in 0..20 {
        let started = Instant::now();
        let due = store
            .claim_due_leads(campaign.id, now, 500, chrono::Duration::zero())
            .await
            .expect("due leads");
        timings.push(started.elapsed());
        assert_eq!(due.len(), 500);
    }
    timings.sort();
    println!(
        "{kind:?}: due-lead query (500 of {} due): median {:.2} ms, max {:.2} ms",
        count / 2,
        ms(timings[timings.len() / 2]),
        ms(*timings.last().expect("timed"))
    );

    store
        .set_campaign_status(workspace.id, campaign.id, CampaignStatus::Active)
        .await
        .expect("activated");
    let scheduler = Scheduler::new(
        store.clone(),
        leadline_server::numbers::NumberPools::new(
            store.clone(),
            std::time::Duration::from_secs(1),
        ),
        Arc::new(tokio::sync::Notify::new()),
    );
    let started = Instant::now();
    let step = scheduler.run_once().await.expect("a step");
    let decided = match step {
        leadline_server::worker_step::Step::Worked(n) => n,
        leadline_server::worker_step::Step::Idle => 0,
    };
    println!(
        "{kind:?}: one step deciding {decided} leads (gate, attempt, update): {:.0} ms",
        ms(started.elapsed())
    );
    store.close().await;
}

/// Moves every other lead a week ahead, straight in the database.
async fn defer_every_other_lead(
    kind: BackendKind,
    url: &str,
    until: chrono::DateTime<chrono::Utc>,
) {
    let micros = until.timestamp_micros();
    let sql = "UPDATE leads SET next_attempt_at = $1 WHERE id IN \
               (SELECT id FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY id) AS n FROM leads) AS numbered WHERE n % 2 = 0)";
    match kind {
        BackendKind::Sqlite => {
            let pool = sqlx::SqlitePool::connect(url).await.expect("connects");
            sqlx::query(sql)
                .bind(micros)
                .execute(&pool)
                .await
                .expect("deferred");
            pool.close().await;
        }
        BackendKind::Postgres => {
            let pool = sqlx::PgPool::connect(url).await.expect("connects");
            sqlx::query(sql)
                .bind(micros)
                .execute(&pool)
                .await
                .expect("deferred");
            sqlx::query("ANALYZE leads")
                .execute(&pool)
                .await
                .expect("analyzed");
            pool.close().await;
        }
    }
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
