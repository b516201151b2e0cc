//! A campaign batch's write, on SQLite and PostgreSQL, where it can break: a pool
//! number used by another sender after the batch read it (nothing is written, so no
//! number passes its rate or cap), a contact who opts out while the batch is planned
//! (not attempted: refused), and a conversation opened meanwhile for a lead's contact
//! (the opening goes into it; no second active conversation).

mod number_pool;

use chrono::{TimeDelta, Utc};
use leadline_core::campaign::{LeadDecision, LeadStatus, RetryInterval};
use leadline_core::channel::MessageProviderType;
use leadline_core::conversation::{Controller, ConversationStatus};
use leadline_core::message::MessageType;
use leadline_core::numbers::Capability;
use leadline_core::{ConversationId, PhoneNumberId};
use leadline_store::campaign_batch::{
    BatchReservations, BatchWritten, CampaignBatch, NumberBooking, PlannedAttempt,
};
use leadline_store::campaigns::{Campaign, CampaignFields};
use leadline_store::channels::Channel;
use leadline_store::conversations::{
    AgentMemory, Conversation, OutboundSender, Participants, PlannedConversation, PlannedOpening,
    outbound_message,
};
use leadline_store::leads::{Lead, LeadUpdate, NewLead};
use leadline_store::number_usage::{Reservation, ReserveSend};
use number_pool::{Fixture, e164, on_both, outbound};

async fn campaign(f: &Fixture, channel: &Channel) -> Campaign {
    let fields = CampaignFields {
        name: "Spring".into(),
        channel_id: channel.id,
        default_time_zone: "UTC".into(),
        default_country: "US".into(),
        calling_hours: Vec::new(),
        max_attempts: 3,
        retry_interval: RetryInterval::Daily,
        opening_template: None,
        opening: Default::default(),
        concurrency: 10,
    };
    f.store
        .create_campaign(f.workspace, fields)
        .await
        .expect("a campaign")
}

async fn lead(f: &Fixture, campaign: &Campaign, phone: &str) -> Lead {
    let new = NewLead {
        phone_number: e164(phone),
        external_id: None,
        time_zone: None,
        call_data: Default::default(),
    };
    f.store.add_lead(campaign, new).await.expect("a lead").0
}

fn refused() -> LeadUpdate {
    LeadUpdate {
        status: LeadStatus::Refused,
        attempted_at: None,
        next_attempt_at: None,
        decision: LeadDecision::Refused,
        reason: "the contact opted out".into(),
        conversation_id: None,
    }
}

/// The attempt of `lead` in a new conversation, from `sender` when given.
fn attempt(lead: &Lead, channel: &Channel, sender: Option<OutboundSender>) -> PlannedAttempt {
    let now = Utc::now();
    let conversation = Conversation {
        id: ConversationId::new(),
        workspace_id: lead.workspace_id,
        contact_id: lead.contact_id,
        channel_id: channel.id,
        status: ConversationStatus::Active,
        controller: Controller::Ai,
        name: "Spring".into(),
        assigned_user_id: None,
        team_id: None,
        participants: Participants::default(),
        agent_context: None,
        additional_messages: Vec::new(),
        campaign_id: Some(lead.campaign_id.to_string()),
        consent_captured_at: None,
        created_at: now,
        updated_at: now,
        sticky_number_id: sender.as_ref().map(|s| s.phone_number_id),
        override_number_id: None,
        agent: AgentMemory::default(),
    };
    let (message, run_at) =
        outbound_message(&conversation, outbound(MessageType::Sms, sender), now);
    PlannedAttempt {
        lead: lead.clone(),
        opening: PlannedOpening {
            conversation: PlannedConversation::Open(conversation),
            message,
            run_at,
        },
        update: LeadUpdate {
            status: LeadStatus::Complete,
            attempted_at: Some(now),
            next_attempt_at: None,
            decision: LeadDecision::Allowed,
            reason: "inside every calling window".into(),
            conversation_id: None,
        },
        if_opted_out: refused(),
    }
}

fn batch(f: &Fixture, attempts: Vec<PlannedAttempt>) -> CampaignBatch {
    CampaignBatch {
        workspace_id: f.workspace,
        channel_type: MessageProviderType::Sms,
        reservations: None,
        attempts,
        decisions: Vec::new(),
    }
}

async fn count(f: &Fixture, sql: &str) -> i64 {
    f.raw.int(sql.to_owned()).await.unwrap_or(0)
}

#[tokio::test]
async fn a_number_used_by_another_sender_meanwhile_voids_the_whole_batch() {
    on_both(|f| async move {
        let channel = f.channel(MessageProviderType::Sms).await;
        let campaign = campaign(&f, &channel).await;
        let lead = lead(&f, &campaign, "+14155550123").await;
        let number: PhoneNumberId = f.raw.add_number(f.workspace, "+14155550101").await;
        let now = Utc::now();
        let today = now.date_naive();
        let seen = f.store.number_states(f.workspace, today).await.unwrap()[&number];

        // Another sender takes the number's slot after the batch read it.
        let reserve = ReserveSend {
            workspace_id: f.workspace,
            phone_number_id: number,
            capability: Capability::Sms,
            usage_day: today,
            cap: 100,
            interval: TimeDelta::seconds(1),
            max_wait: TimeDelta::seconds(2),
            recipient: None,
            now,
        };
        let taken = f.store.reserve_send(&reserve).await.unwrap();
        assert!(matches!(taken, Reservation::Reserved { .. }), "{taken:?}");

        let sender = OutboundSender {
            phone_number_id: number,
            number: e164("+14155550101"),
            not_before: now,
        };
        let mut planned = batch(&f, vec![attempt(&lead, &channel, Some(sender))]);
        planned.reservations = Some(BatchReservations {
            usage_day: today,
            now,
            numbers: vec![NumberBooking {
                phone_number_id: number,
                capability: Capability::Sms,
                seen_next_slot_at: seen.next_slot_at,
                next_slot_at: seen.next_slot_at.max(now) + TimeDelta::seconds(1),
                sends: 1,
            }],
            recipients: vec![(lead.phone_number.clone(), number)],
        });
        let written = f.store.write_campaign_batch(planned).await.unwrap();
        assert_eq!(written, BatchWritten::NumbersMoved, "{:?}", f.kind);
        assert_eq!(count(&f, "SELECT COUNT(*) FROM messages").await, 0);
        assert_eq!(count(&f, "SELECT COUNT(*) FROM jobs").await, 0);
        assert_eq!(count(&f, "SELECT COUNT(*) FROM conversations").await, 0);
        assert_eq!(
            f.raw.usage(number, today).await,
            (1, 0),
            "only the other sender's send is counted"
        );
        let unchanged = f.store.lead(f.workspace, lead.id).await.unwrap().unwrap();
        assert_eq!(unchanged.last_decision, None);
    })
    .await;
}

#[tokio::test]
async fn a_contact_who_opts_out_while_the_batch_is_planned_is_refused_not_attempted() {
    on_both(|f| async move {
        let channel = f.channel(MessageProviderType::Sms).await;
        let campaign = campaign(&f, &channel).await;
        let stays = lead(&f, &campaign, "+14155550123").await;
        let leaves = lead(&f, &campaign, "+14155550124").await;
        let attempts = vec![
            attempt(&stays, &channel, None),
            attempt(&leaves, &channel, None),
        ];
        f.store
            .add_opt_out(
                f.workspace,
                leaves.contact_id,
                MessageProviderType::Sms,
                "api",
                None,
                None,
            )
            .await
            .unwrap();
        let written = f.store.write_campaign_batch(batch(&f, attempts)).await;
        assert_eq!(
            written.unwrap(),
            BatchWritten::Written {
                attempted: 1,
                opted_out: 1
            }
        );
        let left = f.store.lead(f.workspace, leaves.id).await.unwrap().unwrap();
        assert_eq!(left.status, LeadStatus::Refused);
        assert_eq!(left.attempts, 0);
        assert_eq!(left.conversation_id, None);
        let stayed = f.store.lead(f.workspace, stays.id).await.unwrap().unwrap();
        assert_eq!(stayed.status, LeadStatus::Complete);
        assert_eq!(stayed.attempts, 1);
        assert_eq!(count(&f, "SELECT COUNT(*) FROM jobs").await, 1);
        assert_eq!(count(&f, "SELECT COUNT(*) FROM messages").await, 1);
    })
    .await;
}

#[tokio::test]
async fn a_conversation_opened_meanwhile_takes_the_opening() {
    on_both(|f| async move {
        let channel = f.channel(MessageProviderType::Sms).await;
        let campaign = campaign(&f, &channel).await;
        let lead = lead(&f, &campaign, "+14155550123").await;
        let contact = f.contact("+14155550123").await;
        // Two leads of one contact in the batch, and a LeadScout request before both.
        let (active, _) = f.open(&channel, &contact, MessageType::Sms, None).await;
        let attempts = vec![
            attempt(&lead, &channel, None),
            attempt(&lead, &channel, None),
        ];
        let written = f.store.write_campaign_batch(batch(&f, attempts)).await;
        assert_eq!(
            written.unwrap(),
            BatchWritten::Written {
                attempted: 2,
                opted_out: 0
            }
        );
        assert_eq!(
            count(&f, "SELECT COUNT(*) FROM conversations").await,
            1,
            "no second active conversation"
        );
        let in_it = format!(
            "SELECT COUNT(*) FROM messages WHERE conversation_id = '{}'",
            active.id
        );
        assert_eq!(count(&f, &in_it).await, 3, "the opening and both attempts");
        let attempted = f.store.lead(f.workspace, lead.id).await.unwrap().unwrap();
        assert_eq!(attempted.conversation_id, Some(active.id));
    })
    .await;
}
