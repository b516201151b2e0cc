//! Reserving sends on pool numbers, on SQLite and PostgreSQL: the daily cap and the
//! per-number rate hold under concurrent reservations, a full or busy number is left
//! untouched, the recipient's sticky number is remembered, and outcome events add up
//! per number and day.

mod number_pool;

use chrono::{DateTime, NaiveDate, TimeDelta, TimeZone, Utc};
use leadline_core::numbers::{Capability, NumberMetrics};
use leadline_core::{PhoneNumberId, WorkspaceId};
use leadline_store::number_usage::{NumberEvent, NumberEventKind, Reservation, ReserveSend};
use number_pool::{e164, on_both};

fn at(hour: u32, second: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 10, hour, 0, second).unwrap()
}

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 3, 10).unwrap()
}

fn reserve(workspace: WorkspaceId, number: PhoneNumberId, cap: u32) -> ReserveSend {
    ReserveSend {
        workspace_id: workspace,
        phone_number_id: number,
        capability: Capability::Sms,
        usage_day: day(),
        cap,
        interval: TimeDelta::zero(),
        max_wait: TimeDelta::seconds(1),
        recipient: None,
        now: at(12, 0),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_reservations_never_exceed_the_cap() {
    on_both(|f| async move {
        let number = f.raw.add_number(f.workspace, "+14155550101").await;
        let tasks: Vec<_> = (0..16)
            .map(|task| {
                let store = f.store.clone();
                let mut request = reserve(f.workspace, number, 50);
                tokio::spawn(async move {
                    let mut reserved = 0;
                    for n in 0.. {
                        request.recipient = Some(e164(&format!("+1415556{task:02}{n:02}")));
                        match store.reserve_send(&request).await.expect("reserved") {
                            Reservation::Reserved { slot_at } => {
                                assert_eq!(slot_at, request.now);
                                reserved += 1;
                            }
                            Reservation::Full { used } => {
                                assert_eq!(used, 50);
                                return reserved;
                            }
                            busy => panic!("interval 0 is never busy: {busy:?}"),
                        }
                    }
                    unreachable!()
                })
            })
            .collect();
        let mut total = 0;
        for task in tasks {
            total += task.await.expect("the task ends");
        }
        assert_eq!(total, 50, "{:?}", f.kind);
        assert_eq!(f.raw.usage(number, day()).await, (50, 0));
        assert_eq!(f.raw.outcomes(number).await.sent, 50);
        let recipients = f
            .raw
            .int(format!(
                "SELECT COUNT(*) FROM recipient_numbers WHERE phone_number_id = '{number}'"
            ))
            .await;
        assert_eq!(recipients, Some(50), "only reserved sends are remembered");
        let warmup = f
            .raw
            .text(format!(
                "SELECT warmup_started_on FROM phone_numbers WHERE id = '{number}'"
            ))
            .await;
        assert_eq!(warmup.as_deref(), Some("2025-03-10"));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_reservations_take_distinct_slots_then_find_the_number_busy() {
    on_both(|f| async move {
        let number = f.raw.add_number(f.workspace, "+14155550102").await;
        let mut request = reserve(f.workspace, number, 1_000);
        request.interval = TimeDelta::seconds(1);
        request.max_wait = TimeDelta::seconds(3);
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let store = f.store.clone();
                let request = request.clone();
                tokio::spawn(async move { store.reserve_send(&request).await.expect("answered") })
            })
            .collect();
        let mut slots = Vec::new();
        let mut busy = 0;
        for task in tasks {
            match task.await.expect("the task ends") {
                Reservation::Reserved { slot_at } => slots.push(slot_at),
                Reservation::Busy { next_slot_at } => {
                    assert_eq!(next_slot_at, at(12, 4));
                    busy += 1;
                }
                full => panic!("not full: {full:?}"),
            }
        }
        slots.sort();
        assert_eq!(slots, [at(12, 0), at(12, 1), at(12, 2), at(12, 3)]);
        assert_eq!(busy, 4);
        assert_eq!(
            f.raw.usage(number, day()).await,
            (4, 0),
            "busy takes no cap"
        );
        assert_eq!(f.raw.outcomes(number).await.sent, 4);

        // Once the slots have passed, the next send goes out at once.
        request.now = at(12, 10);
        assert_eq!(
            f.store.reserve_send(&request).await.unwrap(),
            Reservation::Reserved {
                slot_at: at(12, 10)
            }
        );
        let last_used = f
            .raw
            .int(format!(
                "SELECT last_used_at FROM phone_numbers WHERE id = '{number}'"
            ))
            .await;
        assert_eq!(last_used, Some(at(12, 10).timestamp_micros()));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_number_keeps_its_slot_and_caps_count_per_capability() {
    on_both(|f| async move {
        let number = f.raw.add_number(f.workspace, "+14155550103").await;
        let mut request = reserve(f.workspace, number, 2);
        request.interval = TimeDelta::seconds(1);
        request.max_wait = TimeDelta::minutes(1);
        for second in 0..2 {
            assert_eq!(
                f.store.reserve_send(&request).await.unwrap(),
                Reservation::Reserved {
                    slot_at: at(12, second)
                }
            );
        }
        assert_eq!(
            f.store.reserve_send(&request).await.unwrap(),
            Reservation::Full { used: 2 }
        );
        // The refused send took no slot: the next call gets the one after the two sends.
        request.capability = Capability::Call;
        request.cap = 1;
        assert_eq!(
            f.store.reserve_send(&request).await.unwrap(),
            Reservation::Reserved { slot_at: at(12, 2) }
        );
        assert_eq!(
            f.store.reserve_send(&request).await.unwrap(),
            Reservation::Full { used: 1 }
        );
        request.cap = 0;
        let other = f.raw.add_number(f.workspace, "+14155550104").await;
        request.phone_number_id = other;
        assert_eq!(
            f.store.reserve_send(&request).await.unwrap(),
            Reservation::Full { used: 0 }
        );
        assert_eq!(f.raw.usage(number, day()).await, (2, 1));
        assert_eq!(f.raw.usage(other, day()).await, (0, 0));
        assert_eq!(f.raw.outcomes(number).await.sent, 3);
        assert_eq!(f.raw.outcomes(other).await, NumberMetrics::default());
        let warmup = f
            .raw
            .text(format!(
                "SELECT warmup_started_on FROM phone_numbers WHERE id = '{other}'"
            ))
            .await;
        assert_eq!(
            warmup, None,
            "a refused first send does not start the warm-up"
        );

        // A number of another workspace, or none at all, cannot be reserved.
        let (elsewhere, _) = f.store.create_workspace("Elsewhere").await.unwrap();
        request.workspace_id = elsewhere.id;
        request.phone_number_id = number;
        assert!(f.store.reserve_send(&request).await.is_err());
        request.phone_number_id = PhoneNumberId::new();
        assert!(f.store.reserve_send(&request).await.is_err());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_recipients_number_is_remembered_for_the_sticky_window() {
    on_both(|f| async move {
        let first = f.raw.add_number(f.workspace, "+14155550105").await;
        let second = f.raw.add_number(f.workspace, "+14155550106").await;
        let recipient = e164("+14155557001");
        let mut request = reserve(f.workspace, first, 10);
        request.recipient = Some(recipient.clone());
        f.store.reserve_send(&request).await.unwrap();
        let sticky = |since| f.store.recipient_number(f.workspace, &recipient, since);
        assert_eq!(sticky(at(11, 0)).await.unwrap(), Some(first));
        assert_eq!(
            sticky(at(12, 0)).await.unwrap(),
            Some(first),
            "at `since` counts"
        );
        assert_eq!(sticky(at(12, 1)).await.unwrap(), None);
        let (elsewhere, _) = f.store.create_workspace("Elsewhere").await.unwrap();
        assert_eq!(
            f.store
                .recipient_number(elsewhere.id, &recipient, at(11, 0))
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            f.store
                .recipient_number(f.workspace, &e164("+14155557002"), at(11, 0))
                .await
                .unwrap(),
            None
        );
        request.phone_number_id = second;
        request.now = at(13, 0);
        f.store.reserve_send(&request).await.unwrap();
        assert_eq!(sticky(at(12, 30)).await.unwrap(), Some(second));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outcome_events_add_up_per_number_and_day() {
    on_both(|f| async move {
        let a = f.raw.add_number(f.workspace, "+14155550107").await;
        let b = f.raw.add_number(f.workspace, "+14155550108").await;
        let event = |number, at, kind| NumberEvent {
            phone_number_id: number,
            at,
            kind,
        };
        let failed = |code: &str| NumberEventKind::Failed {
            code: Some(code.into()),
        };
        let next_day = at(12, 0) + TimeDelta::days(1);
        let events = [
            event(a, at(12, 0), NumberEventKind::Delivered),
            event(a, at(13, 0), NumberEventKind::Delivered),
            event(a, next_day, NumberEventKind::Delivered),
            event(a, at(12, 0), failed("30007")),
            event(a, at(12, 0), failed("40002")),
            event(a, at(12, 0), failed("40003")),
            event(a, at(12, 0), NumberEventKind::Failed { code: None }),
            event(b, at(12, 0), NumberEventKind::OptOut),
            event(b, at(12, 0), NumberEventKind::Reply),
            event(b, at(12, 0), NumberEventKind::Reply),
            // A number deleted meanwhile is skipped, not an error.
            event(PhoneNumberId::new(), at(12, 0), NumberEventKind::Reply),
        ];
        f.store.record_number_outcomes(&events).await.unwrap();
        f.store.record_number_outcomes(&[]).await.unwrap();
        assert_eq!(
            f.raw.outcomes(a).await,
            NumberMetrics {
                delivered: 3,
                failed: 4,
                filtered: 2,
                carrier_blocks: 1,
                ..NumberMetrics::default()
            }
        );
        assert_eq!(
            f.raw.outcomes(b).await,
            NumberMetrics {
                opt_outs: 1,
                replies: 2,
                ..NumberMetrics::default()
            }
        );
        let days = f
            .raw
            .int(format!(
                "SELECT COUNT(*) FROM number_outcomes WHERE phone_number_id = '{a}'"
            ))
            .await;
        assert_eq!(days, Some(2), "one row per UTC day");
        // A second batch adds to the first.
        f.store
            .record_number_outcomes(&[event(b, at(14, 0), NumberEventKind::Reply)])
            .await
            .unwrap();
        assert_eq!(f.raw.outcomes(b).await.replies, 3);
    })
    .await;
}
