//! The agent a workspace's settings choose: the flow script the conversation falls
//! under (no script: hand off at the first reply), or the LLM agent over the settings'
//! endpoint (none set: hand off, saying so).

use futures::future::BoxFuture;
use leadline_core::TeamId;
use leadline_core::agent::AgentTurn;
use leadline_core::agent::flow::FlowScript;
use leadline_core::agent::settings::{AgentKind, AgentSettings};
use leadline_providers::outbound::OutboundClient;

use crate::flow::FlowAgent;
use crate::llm::LlmAgent;
use crate::turn::{Agent, TurnContext, TurnResult};

/// One of the agents, as the settings chose it.
pub enum WorkspaceAgent {
    Flow(FlowAgent),
    Llm(LlmAgent),
    /// The LLM agent is chosen but no endpoint is set: every turn hands off.
    Unconfigured {
        reason: &'static str,
    },
}

impl WorkspaceAgent {
    /// The agent of `settings`; `script` is the flow script the conversation falls
    /// under (read only for the flow agent), `http` the client LLM calls share.
    pub fn for_settings(
        settings: &AgentSettings,
        script: Option<FlowScript>,
        http: &OutboundClient,
    ) -> Self {
        match (settings.agent, &settings.llm) {
            (AgentKind::Flow, _) => WorkspaceAgent::Flow(match script {
                Some(script) => FlowAgent { script },
                None => FlowAgent::without_script(),
            }),
            (AgentKind::Llm, Some(llm)) => WorkspaceAgent::Llm(LlmAgent::new(http.clone(), llm)),
            (AgentKind::Llm, None) => WorkspaceAgent::Unconfigured {
                reason: "the LLM agent is chosen but the agent settings have no llm endpoint",
            },
        }
    }

    /// The team the flow script hands off to, preferred over the settings'.
    pub fn hand_off_team(&self) -> Option<TeamId> {
        match self {
            WorkspaceAgent::Flow(flow) => flow.script.handoff_team_id,
            _ => None,
        }
    }

    /// Whether a turn waits on the network (its time is not the pass's own cost).
    pub fn calls_out(&self) -> bool {
        matches!(self, WorkspaceAgent::Llm(_))
    }
}

impl Agent for WorkspaceAgent {
    fn turn<'a>(&'a self, context: &'a TurnContext) -> BoxFuture<'a, TurnResult> {
        match self {
            WorkspaceAgent::Flow(flow) => flow.turn(context),
            WorkspaceAgent::Llm(llm) => llm.turn(context),
            WorkspaceAgent::Unconfigured { reason } => Box::pin(async move {
                TurnResult {
                    turn: AgentTurn::hand_off(*reason),
                    flow_state: None,
                }
            }),
        }
    }
}
