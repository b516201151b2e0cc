//! How sends from pool numbers are stored and counted, on SQLite and PostgreSQL: a
//! message queued with a reserved number keeps it, waits for its slot and makes the
//! conversation stick to it; delivery reports, dispatch outcomes, replies and opt-outs
//! count for that number exactly once.

mod inbound_filing;
mod number_pool;

use std::time::Duration;

use chrono::{TimeDelta, Utc};
use inbound_filing::file_reply;
use leadline_core::channel::MessageProviderType;
use leadline_core::message::{MessageStatus, MessageType};
use leadline_core::numbers::{Capability, NumberMetrics};
use leadline_core::{ConversationId, PhoneNumberId};
use leadline_store::conversations::OutboundSender;
use leadline_store::messages::MessageKey;
use leadline_store::number_usage::ReserveSend;
use leadline_store::outbox::JobOutcome;
use number_pool::{e164, on_both, outbound};

fn sender(number: PhoneNumberId, e164_number: &str) -> OutboundSender {
    OutboundSender {
        phone_number_id: number,
        number: e164(e164_number),
        // A slot that has come: the job can be leased at once.
        not_before: Utc::now() - TimeDelta::seconds(5),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_from_a_pool_number_keeps_it_waits_for_its_slot_and_sticks() {
    on_both(|f| async move {
        let number = f.raw.add_number(f.workspace, "+14155550201").await;
        let other = f.raw.add_number(f.workspace, "+14155550202").await;
        let channel = f.channel(MessageProviderType::Sms).await;
        let contact = f.contact("+14155558001").await;
        let slot = Utc::now() + TimeDelta::minutes(5);
        let reserved = OutboundSender {
            not_before: slot,
            ..sender(number, "+14155550201")
        };
        let (conversation, message) = f
            .open(&channel, &contact, MessageType::Sms, Some(reserved))
            .await;
        assert_eq!(conversation.sticky_number_id, Some(number));
        assert_eq!(conversation.override_number_id, None);
        assert_eq!(message.from_number_id, Some(number));
        assert_eq!(message.from_number, Some(e164("+14155550201")));
        let stored = f
            .store
            .message(f.workspace, message.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored, message);
        let read = f
            .store
            .conversation(f.workspace, conversation.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(read.sticky_number_id, Some(number));
        assert_eq!(
            f.job_run_at(&message).await.map(|t| t.timestamp_micros()),
            Some(slot.timestamp_micros()),
            "the job waits for the reserved slot"
        );
        let leased = f.store.lease_jobs(&lease_request(&caps())).await.unwrap();
        assert!(leased.is_empty(), "not due before its slot");

        // The next message moves the conversation to the number it goes out from.
        let next = f
            .store
            .queue_message(
                &read,
                outbound(MessageType::Sms, Some(sender(other, "+14155550202"))),
            )
            .await
            .unwrap();
        assert_eq!(next.from_number_id, Some(other));
        let read = f
            .store
            .conversation(f.workspace, conversation.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(read.sticky_number_id, Some(other));
        // A message from the channel's sender leaves the sticky number alone.
        let plain = f
            .store
            .queue_message(&read, outbound(MessageType::Sms, None))
            .await
            .unwrap();
        assert_eq!((plain.from_number_id, plain.from_number), (None, None));
        let read = f
            .store
            .conversation(f.workspace, conversation.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(read.sticky_number_id, Some(other));
        let leased = f.store.lease_jobs(&lease_request(&caps())).await.unwrap();
        let mut from: Vec<_> = leased
            .iter()
            .map(|j| j.message.as_ref().unwrap().0.from_number_id)
            .collect();
        from.sort();
        assert_eq!(
            from,
            [None, Some(other)],
            "leased messages carry their number"
        );

        // A batch sets each conversation's sticky number.
        let voice = f.channel(MessageProviderType::Voice).await;
        let callee = f.contact("+14155558002").await;
        let (call_conversation, _) = f.open(&voice, &callee, MessageType::Call, None).await;
        assert_eq!(call_conversation.sticky_number_id, None);
        let calls = f
            .store
            .queue_messages(vec![(
                call_conversation.clone(),
                outbound(MessageType::Call, Some(sender(number, "+14155550201"))),
            )])
            .await
            .unwrap();
        let call = f
            .store
            .message(f.workspace, calls[0].id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(call.from_number_id, Some(number));
        assert_eq!(
            call.call.and_then(|c| c.from).as_deref(),
            Some("+14155550201"),
            "a call shows its caller id"
        );
        let read = f
            .store
            .conversation(f.workspace, call_conversation.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(read.sticky_number_id, Some(number));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conversations_override_is_set_and_cleared() {
    on_both(|f| async move {
        let number = f.raw.add_number(f.workspace, "+14155550203").await;
        let channel = f.channel(MessageProviderType::Sms).await;
        let contact = f.contact("+14155558003").await;
        let (conversation, _) = f.open(&channel, &contact, MessageType::Sms, None).await;
        let set = f
            .store
            .set_conversation_override(f.workspace, conversation.id, Some(number))
            .await
            .unwrap()
            .expect("the conversation");
        assert_eq!(set.override_number_id, Some(number));
        let read = f
            .store
            .conversation(f.workspace, conversation.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(read, set);
        let cleared = f
            .store
            .set_conversation_override(f.workspace, conversation.id, None)
            .await
            .unwrap()
            .expect("the conversation");
        assert_eq!(cleared.override_number_id, None);
        let (elsewhere, _) = f.store.create_workspace("Elsewhere").await.unwrap();
        for (workspace, id) in [
            (elsewhere.id, conversation.id),
            (f.workspace, ConversationId::new()),
        ] {
            let missing = f
                .store
                .set_conversation_override(workspace, id, Some(number))
                .await;
            assert_eq!(missing.unwrap(), None);
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivery_reports_count_once_for_the_from_number() {
    on_both(|f| async move {
        let number = f.raw.add_number(f.workspace, "+14155550204").await;
        let channel = f.channel(MessageProviderType::Sms).await;
        let contact = f.contact("+14155558004").await;
        let from = || Some(sender(number, "+14155550204"));
        let (conversation, delivered) = f.open(&channel, &contact, MessageType::Sms, from()).await;
        let report = |message: &leadline_store::messages::Message, status, code| {
            let key = MessageKey::Id(message.id);
            let store = f.store.clone();
            async move {
                store
                    .apply_message_status(channel.id, &key, status, code)
                    .await
                    .unwrap()
                    .unwrap()
            }
        };
        report(&delivered, MessageStatus::Sent, None).await;
        assert_eq!(f.raw.outcomes(number).await, NumberMetrics::default());
        report(&delivered, MessageStatus::Delivered, None).await;
        report(&delivered, MessageStatus::Delivered, None).await;
        report(&delivered, MessageStatus::Read, None).await;
        report(&delivered, MessageStatus::Failed, Some("30007")).await;
        assert_eq!(f.raw.outcomes(number).await.delivered, 1, "{:?}", f.kind);

        let filtered = f
            .store
            .queue_message(&conversation, outbound(MessageType::Sms, from()))
            .await
            .unwrap();
        let blocked = f
            .store
            .queue_message(&conversation, outbound(MessageType::Sms, from()))
            .await
            .unwrap();
        let plain = f
            .store
            .queue_message(&conversation, outbound(MessageType::Sms, None))
            .await
            .unwrap();
        report(&filtered, MessageStatus::Failed, Some("30007")).await;
        report(&filtered, MessageStatus::Failed, Some("30007")).await;
        report(&blocked, MessageStatus::Sent, None).await;
        report(&blocked, MessageStatus::Failed, Some("40003")).await;
        report(&plain, MessageStatus::Failed, Some("30007")).await;
        report(&plain, MessageStatus::Delivered, None).await;
        assert_eq!(
            f.raw.outcomes(number).await,
            NumberMetrics {
                delivered: 1,
                failed: 2,
                filtered: 1,
                carrier_blocks: 1,
                ..NumberMetrics::default()
            }
        );
        // A late delivery after a failure is the truth, and counts as a delivery.
        report(&filtered, MessageStatus::Delivered, None).await;
        assert_eq!(f.raw.outcomes(number).await.delivered, 2);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dispatch_outcomes_count_for_the_from_number() {
    on_both(|f| async move {
        let number = f.raw.add_number(f.workspace, "+14155550205").await;
        let channel = f.channel(MessageProviderType::Sms).await;
        let contact = f.contact("+14155558005").await;
        let from = || Some(sender(number, "+14155550205"));
        let (conversation, first) = f.open(&channel, &contact, MessageType::Sms, from()).await;
        let second = f
            .store
            .queue_message(&conversation, outbound(MessageType::Sms, from()))
            .await
            .unwrap();
        let third = f
            .store
            .queue_message(&conversation, outbound(MessageType::Sms, from()))
            .await
            .unwrap();
        let plain = f
            .store
            .queue_message(&conversation, outbound(MessageType::Sms, None))
            .await
            .unwrap();
        let leased = f.store.lease_jobs(&lease_request(&caps())).await.unwrap();
        assert_eq!(leased.len(), 4);
        let job = |message: &leadline_store::messages::Message| {
            leased
                .iter()
                .find(|j| j.message.as_ref().unwrap().0.id == message.id)
                .expect("leased")
                .lease
                .clone()
        };
        let outcomes = [
            JobOutcome::Delivered {
                lease: job(&first),
                message: first.id,
                from_number: first.from_number_id,
            },
            JobOutcome::Delivered {
                lease: job(&plain),
                message: plain.id,
                from_number: None,
            },
            JobOutcome::Failed {
                lease: job(&second),
                message: second.id,
                code: Some("30007".into()),
                reason: "filtered".into(),
                from_number: second.from_number_id,
            },
            JobOutcome::Failed {
                lease: job(&third),
                message: third.id,
                code: Some("40003".into()),
                reason: "blocked".into(),
                from_number: third.from_number_id,
            },
        ];
        f.store.finish_jobs(&outcomes).await.unwrap();
        let expected = NumberMetrics {
            delivered: 1,
            failed: 2,
            filtered: 1,
            carrier_blocks: 1,
            ..NumberMetrics::default()
        };
        assert_eq!(f.raw.outcomes(number).await, expected, "{:?}", f.kind);
        // Recording the same outcomes again (a batch retried after its commit) changes
        // no message and counts nothing.
        f.store.finish_jobs(&outcomes).await.unwrap();
        assert_eq!(f.raw.outcomes(number).await, expected);
        let status = f
            .store
            .message(f.workspace, second.id)
            .await
            .unwrap()
            .unwrap()
            .status;
        assert_eq!(status, MessageStatus::Failed);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_and_opt_outs_count_for_the_number_that_reached_the_contact() {
    on_both(|f| async move {
        let number = f.raw.add_number(f.workspace, "+14155550206").await;
        let channel = f.channel(MessageProviderType::Sms).await;
        let contact = f.contact("+14155558006").await;
        f.open(
            &channel,
            &contact,
            MessageType::Sms,
            Some(sender(number, "+14155550206")),
        )
        .await;
        let inbound = |id: &'static str| {
            file_reply(
                &f.store,
                &channel,
                &contact.cellphone,
                "Who is this?",
                Some(id),
            )
        };
        let recorded = inbound("in-1").await.unwrap();
        assert!(!recorded.duplicate);
        let repeat = inbound("in-1").await.unwrap();
        assert!(repeat.duplicate);
        inbound("in-2").await.unwrap();
        assert_eq!(f.raw.outcomes(number).await.replies, 2, "{:?}", f.kind);

        // No send reached the contact from a pool number yet: nothing to count.
        f.store
            .add_opt_out(
                f.workspace,
                contact.id,
                MessageProviderType::Voice,
                "api",
                None,
                None,
            )
            .await
            .unwrap();
        assert_eq!(f.raw.outcomes(number).await.opt_outs, 0);
        f.store
            .reserve_send(&ReserveSend {
                workspace_id: f.workspace,
                phone_number_id: number,
                capability: Capability::Sms,
                usage_day: Utc::now().date_naive(),
                cap: 10,
                interval: TimeDelta::zero(),
                max_wait: TimeDelta::seconds(1),
                recipient: Some(contact.cellphone.clone()),
                now: Utc::now(),
            })
            .await
            .unwrap();
        for _ in 0..2 {
            f.store
                .add_opt_out(
                    f.workspace,
                    contact.id,
                    MessageProviderType::Sms,
                    "message",
                    Some("STOP"),
                    None,
                )
                .await
                .unwrap();
        }
        f.store
            .add_opt_out(
                f.workspace,
                contact.id,
                MessageProviderType::Whatsapp,
                "api",
                None,
                None,
            )
            .await
            .unwrap();
        assert_eq!(
            f.raw.outcomes(number).await,
            NumberMetrics {
                sent: 1,
                opt_outs: 1,
                replies: 2,
                ..NumberMetrics::default()
            },
            "counted once, and never for WhatsApp"
        );
    })
    .await;
}

fn caps() -> leadline_store::outbox::LaneCaps {
    leadline_store::outbox::LaneCaps {
        default: 100,
        lanes: Default::default(),
    }
}

fn lease_request(
    caps: &leadline_store::outbox::LaneCaps,
) -> leadline_store::outbox::LeaseRequest<'_> {
    leadline_store::outbox::LeaseRequest {
        owner: "test",
        limit: 10,
        lease_for: Duration::from_secs(30),
        takeover_grace: Duration::from_secs(30),
        caps,
    }
}
