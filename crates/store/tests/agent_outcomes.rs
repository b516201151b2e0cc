//! The agent's storage on SQLite and PostgreSQL: an inbound message and its task are
//! written together and a message filed during a turn keeps the task alive; an opt-out
//! outcome records the evidence, cancels the queued sends on that channel type only,
//! closes the conversation and queues one confirmation; a turn written after an advisor
//! took over is dropped whole; answers merge into the contact's other attributes.

mod inbound_filing;
mod number_pool;

use std::time::Duration;

use leadline_core::agent::DecisionKind;
use leadline_core::channel::MessageProviderType;
use leadline_core::conversation::{Controller, ConversationStatus};
use leadline_core::custom_attribute::{AttributeDefinition, AttributeKind, AttributeValue};
use leadline_core::message::{MessageStatus, MessageType};
use leadline_store::agent::{
    AgentOutcome, AgentTask, Applied, ControlChange, NewDecision, OptOutChange, TurnWrites,
};
use leadline_store::conversations::Conversation;
use number_pool::{Fixture, e164, on_both, outbound};

const LEASE: Duration = Duration::from_secs(60);

async fn inbound(f: &Fixture, channel: &leadline_store::channels::Channel, text: &str) {
    inbound_filing::file_reply(&f.store, channel, &e164("+14155550123"), text, None)
        .await
        .expect("filed");
}

async fn lease_one(f: &Fixture) -> AgentTask {
    let mut tasks = f
        .store
        .lease_agent_tasks("test", 10, LEASE)
        .await
        .expect("leased");
    assert_eq!(tasks.len(), 1, "{:?}: {tasks:?}", f.kind);
    tasks.remove(0)
}

fn outcome(task: &AgentTask, conversation: Conversation) -> AgentOutcome {
    AgentOutcome {
        task: task.reference,
        conversation,
        replies: Vec::new(),
        writes: TurnWrites {
            requires_agent_control: true,
            ..TurnWrites::default()
        },
    }
}

async fn fresh(f: &Fixture, conversation: &Conversation) -> Conversation {
    f.store
        .conversation(f.workspace, conversation.id)
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_filed_during_a_turn_keeps_the_task() {
    on_both(|f| async move {
        let channel = f.channel(MessageProviderType::Sms).await;
        let contact = f.contact("+14155550123").await;
        let (conversation, _) = f.open(&channel, &contact, MessageType::Sms, None).await;
        inbound(&f, &channel, "Hi").await;
        let task = lease_one(&f).await;
        assert_eq!(task.conversation_id, conversation.id);
        assert!(
            f.store
                .lease_agent_tasks("other", 10, LEASE)
                .await
                .unwrap()
                .is_empty(),
            "leased once"
        );
        // A second message arrives while the turn runs.
        inbound(&f, &channel, "Are you there?").await;
        let written = f
            .store
            .apply_agent_outcome(outcome(&task, conversation.clone()))
            .await
            .unwrap();
        assert!(matches!(written, Applied::Written(_)));
        let again = lease_one(&f).await;
        assert_eq!(again.reference.wakes, task.reference.wakes + 1);
        f.store.finish_agent_task(again.reference).await.unwrap();
        assert!(
            f.store
                .lease_agent_tasks("test", 10, LEASE)
                .await
                .unwrap()
                .is_empty(),
            "{:?}",
            f.kind
        );
        assert_eq!(f.store.agent_task_due(conversation.id).await.unwrap(), None);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_opt_out_cancels_the_queued_sends_of_its_channel_type_only() {
    on_both(|f| async move {
        let sms = f.channel(MessageProviderType::Sms).await;
        let whatsapp = f.channel(MessageProviderType::Whatsapp).await;
        let contact = f.contact("+14155550123").await;
        let (conversation, opening) = f.open(&sms, &contact, MessageType::Sms, None).await;
        let (_, whatsapp_opening) = f
            .open(&whatsapp, &contact, MessageType::Whatsapp, None)
            .await;
        inbound(&f, &sms, "STOP").await;
        let task = lease_one(&f).await;
        let stop = f
            .store
            .recent_messages(conversation.id, 10)
            .await
            .unwrap()
            .pop()
            .unwrap();
        let mut change = outcome(&task, conversation.clone());
        change.writes.requires_agent_control = false;
        change.writes.opt_out = Some(OptOutChange {
            channel_type: MessageProviderType::Sms,
            evidence: "stop".into(),
            message_id: stop.id,
        });
        change.replies = vec![outbound(MessageType::Sms, None)];
        change.writes.change.status = Some(ConversationStatus::OptedOut);
        change.writes.decisions =
            vec![NewDecision::new(DecisionKind::OptOut, "the lead opted out").with_reply(0)];
        let Applied::Written(queued) = f.store.apply_agent_outcome(change).await.unwrap() else {
            panic!("written");
        };
        let canceled = f
            .store
            .message(f.workspace, opening.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(canceled.status, MessageStatus::Canceled, "{:?}", f.kind);
        assert_eq!(f.job_run_at(&opening).await, None, "its send job is gone");
        let kept = f
            .store
            .message(f.workspace, whatsapp_opening.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            kept.status,
            MessageStatus::Queued,
            "WhatsApp is another channel type"
        );
        assert!(
            f.job_run_at(&queued[0]).await.is_some(),
            "the confirmation is queued"
        );
        let opt_out = f
            .store
            .opt_out(contact.id, MessageProviderType::Sms)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(opt_out.evidence.as_deref(), Some("stop"));
        assert_eq!(opt_out.message_id, Some(stop.id));
        assert_eq!(
            fresh(&f, &conversation).await.status,
            ConversationStatus::OptedOut
        );
        let decisions = f
            .store
            .agent_decisions(f.workspace, conversation.id, None, 10)
            .await
            .unwrap();
        assert_eq!(decisions.len(), 1);
        assert_eq!(decisions[0].message_id, Some(queued[0].id));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_turn_after_an_advisor_took_over_writes_nothing() {
    on_both(|f| async move {
        let channel = f.channel(MessageProviderType::Sms).await;
        let contact = f.contact("+14155550123").await;
        let (conversation, _) = f.open(&channel, &contact, MessageType::Sms, None).await;
        inbound(&f, &channel, "Hi").await;
        let task = lease_one(&f).await;
        f.store
            .change_control(
                &conversation,
                ControlChange {
                    status: ConversationStatus::HandedOff,
                    controller: Controller::Human,
                    advisor: None,
                    team: None,
                    handled_through: None,
                    decision: NewDecision::new(DecisionKind::HandOff, "taken over"),
                },
            )
            .await
            .unwrap();
        let mut turn = outcome(&task, conversation.clone());
        turn.replies = vec![outbound(MessageType::Sms, None)];
        turn.writes.decisions = vec![NewDecision::new(DecisionKind::Reply, "hello").with_reply(0)];
        let applied = f.store.apply_agent_outcome(turn).await.unwrap();
        assert!(matches!(applied, Applied::NotTheAgents), "{:?}", f.kind);
        let messages = f.store.recent_messages(conversation.id, 10).await.unwrap();
        assert_eq!(messages.len(), 2, "the opening and the lead's message only");
        let decisions = f
            .store
            .agent_decisions(f.workspace, conversation.id, None, 10)
            .await
            .unwrap();
        assert_eq!(decisions.len(), 1, "only the hand-off");
        assert!(
            f.store
                .lease_agent_tasks("test", 10, LEASE)
                .await
                .unwrap()
                .is_empty(),
            "the task is done"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_merge_into_the_contacts_other_attributes() {
    on_both(|f| async move {
        let definition = |key: &str| {
            AttributeDefinition::create(key, key, AttributeKind::Open, &[], false).expect("valid")
        };
        let (budget, city) = (definition("budget"), definition("city"));
        for d in [&budget, &city] {
            f.store
                .create_custom_attribute(f.workspace, d)
                .await
                .unwrap();
        }
        let channel = f.channel(MessageProviderType::Sms).await;
        let contact = f.contact("+14155550123").await;
        let (conversation, _) = f.open(&channel, &contact, MessageType::Sms, None).await;
        for (attribute, value) in [(&city, "Austin"), (&budget, "300k")] {
            inbound(&f, &channel, value).await;
            let task = lease_one(&f).await;
            let mut turn = outcome(&task, fresh(&f, &conversation).await);
            turn.writes.attributes = vec![(attribute.id, AttributeValue::Open(value.into()))];
            f.store.apply_agent_outcome(turn).await.unwrap();
        }
        let stored = f
            .store
            .contact(f.workspace, contact.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            stored.fields.attributes.get(&city.id),
            Some(&AttributeValue::Open("Austin".into())),
            "{:?}",
            f.kind
        );
        assert_eq!(
            stored.fields.attributes.get(&budget.id),
            Some(&AttributeValue::Open("300k".into()))
        );
    })
    .await;
}
