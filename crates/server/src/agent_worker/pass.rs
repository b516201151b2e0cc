//! One pass over a leased conversation: load it whole, let the pass rules decide
//! ([`before_turn`], the workspace's agent, [`after_turn`]), give a hand-off its
//! advisor ([`usecases::hand_off`](crate::usecases::hand_off)), reserve a sending
//! number for every reply, then write everything in one transaction, which an advisor
//! taking the conversation over meanwhile voids.

use std::time::{Duration, Instant};

use leadline_agent::{
    Agent, BeforeTurn, Draft, PassEnd, PassPlan, WorkspaceAgent, after_turn, before_turn,
};
use leadline_core::agent::settings::AgentKind;
use leadline_core::agent::writes::TaskNext;
use leadline_core::message::MessageType;
use leadline_store::StoreError;
use leadline_store::agent::{AgentOutcome, AgentTask, Applied};
use leadline_store::conversations::{NewOutbound, OutboundSender};
use leadline_store::messages::MessageTemplate;

use super::load::{Loaded, load};
use super::runner::RunnerDeps;
use crate::numbers::assign::Exclusions;
use crate::numbers::{Assigned, SenderRequest};
use crate::usecases::hand_off;

/// Runs one pass for a leased task. Time spent waiting for an LLM is returned apart, so
/// the pass's own cost can be measured without it.
pub(super) async fn run(
    deps: &RunnerDeps,
    task: &AgentTask,
) -> Result<(PassEnd, Duration), StoreError> {
    let store = &deps.store;
    let Some(loaded) = load(store, task).await? else {
        store.finish_agent_task(task.reference).await?;
        return Ok((PassEnd::Nothing, Duration::ZERO));
    };
    let mut waited = Duration::ZERO;
    let mut plan = match before_turn(&loaded.view, store.clock().now()) {
        BeforeTurn::Nothing => {
            store.finish_agent_task(task.reference).await?;
            return Ok((PassEnd::Nothing, waited));
        }
        BeforeTurn::Finished(plan) => plan,
        BeforeTurn::RunAgent(pending) => {
            let agent = workspace_agent(deps, &loaded).await?;
            let started = Instant::now();
            let result = agent.turn(&pending.context).await;
            if agent.calls_out() {
                waited = started.elapsed();
            }
            after_turn(&loaded.view, pending, result, agent.hand_off_team())
        }
    };
    if let Some(request) = plan.hand_off.take() {
        let owner = loaded.contact.fields.owner_id;
        hand_off::by_agent(
            store,
            &loaded.conversation,
            owner,
            &request.reason,
            &request.teams,
        )
        .await?
        .write_into(&mut plan.writes);
    }
    // Every reply needs its sender before anything is written.
    let mut senders = Vec::with_capacity(plan.drafts.len());
    let mut exclusions = Exclusions::default();
    for draft in &plan.drafts {
        match assign_sender(deps, &loaded, &mut exclusions, draft).await? {
            Ok(sender) => senders.push(sender),
            Err((retry_at, reason)) => {
                let wait = format!("no phone number can send now ({reason})");
                tracing::info!(conversation = %loaded.conversation.id, %retry_at, %reason, "agent pass held: no number can send");
                store
                    .defer_agent_task(task.reference, retry_at, &wait)
                    .await?;
                return Ok((PassEnd::Deferred, waited));
            }
        }
    }
    log_plan(&loaded, &plan);
    let end = plan.end;
    let queued = plan.drafts.len();
    match store
        .apply_agent_outcome(outcome(task, loaded, plan, senders))
        .await?
    {
        Applied::Written(_) => {
            if queued > 0 {
                deps.outbox_wake.notify_one();
            }
            Ok((end, waited))
        }
        Applied::NotTheAgents => {
            tracing::info!(conversation = %task.conversation_id,
                "an advisor took the conversation over during the agent's turn; the turn was dropped");
            Ok((PassEnd::Overtaken, waited))
        }
    }
}

/// The agent the workspace's settings choose, with the flow script the conversation
/// falls under (its campaign's, else its channel's, else the workspace's).
async fn workspace_agent(deps: &RunnerDeps, loaded: &Loaded) -> Result<WorkspaceAgent, StoreError> {
    let settings = &loaded.view.settings;
    let script = match settings.agent {
        AgentKind::Flow => deps
            .store
            .agent_script_for(
                loaded.conversation.workspace_id,
                loaded.conversation.campaign_id.as_deref(),
                loaded.conversation.channel_id,
            )
            .await?
            .map(|script| script.script),
        AgentKind::Llm => None,
    };
    Ok(WorkspaceAgent::for_settings(settings, script, &deps.http))
}

/// The sender of one reply: `Ok(None)` for the channel's own, `Err` when no number can
/// send now (essential replies then go from the channel's sender).
async fn assign_sender(
    deps: &RunnerDeps,
    loaded: &Loaded,
    exclusions: &mut Exclusions,
    draft: &Draft,
) -> Result<Result<Option<OutboundSender>, (chrono::DateTime<chrono::Utc>, String)>, StoreError> {
    let request = SenderRequest {
        workspace_id: loaded.conversation.workspace_id,
        channel: &loaded.channel,
        conversation: Some(&loaded.conversation),
        contact_id: loaded.contact.id,
        recipient: &loaded.contact.cellphone,
        campaign_id: loaded
            .conversation
            .campaign_id
            .as_deref()
            .and_then(|id| id.parse().ok()),
    };
    Ok(match deps.senders.assign(&request, exclusions).await? {
        Assigned::ChannelSender => Ok(None),
        Assigned::Number { sender, .. } => Ok(Some(sender)),
        Assigned::Unavailable { .. } if draft.essential => Ok(None),
        Assigned::Unavailable { retry_at, reason } => Err((retry_at, reason)),
    })
}

fn log_plan(loaded: &Loaded, plan: &PassPlan) {
    let conversation = loaded.conversation.id;
    if let TaskNext::Defer { until, waiting_for } = &plan.writes.next {
        tracing::info!(%conversation, %until, reason = %waiting_for, "agent reply deferred");
    }
    for decision in &plan.writes.decisions {
        tracing::info!(%conversation, kind = %decision.kind, reason = %decision.reason, "agent decision");
    }
}

/// The plan as the store writes it, each reply with its sender.
fn outcome(
    task: &AgentTask,
    loaded: Loaded,
    plan: PassPlan,
    senders: Vec<Option<OutboundSender>>,
) -> AgentOutcome {
    let message_type = MessageType::carried_by(loaded.channel.carries);
    let replies = plan
        .drafts
        .into_iter()
        .zip(senders)
        .map(|(draft, sender)| NewOutbound {
            message_type,
            body: draft.body,
            template: draft.template.map(|template| MessageTemplate {
                name: template.name,
                language: template.language,
                params: Vec::new(),
            }),
            author_user_id: None,
            sender,
        })
        .collect();
    AgentOutcome {
        task: task.reference,
        conversation: loaded.conversation,
        replies,
        writes: plan.writes,
    }
}
