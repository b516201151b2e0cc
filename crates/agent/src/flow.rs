//! The flow-script agent behind the [`Agent`] trait: the pure
//! [`flow_turn`](leadline_core::agent::flow::flow_turn) over the script chosen for the
//! conversation (its campaign's, else its channel's, else the workspace's).

use futures::future::BoxFuture;
use leadline_core::agent::flow::{FlowInput, FlowScript, flow_turn};

use crate::{Agent, TurnContext, TurnResult};

pub struct FlowAgent {
    pub script: FlowScript,
}

impl FlowAgent {
    /// The script used when the workspace has none for the conversation: no questions
    /// and no rules, so the lead is handed to an advisor at the first reply.
    pub fn without_script() -> Self {
        Self {
            script: FlowScript::default(),
        }
    }

    /// The turn, synchronously (it does no IO).
    pub fn decide(&self, context: &TurnContext) -> TurnResult {
        let turn = flow_turn(
            &self.script,
            &FlowInput {
                lead_messages: &context.new_messages,
                definitions: &context.definitions,
                values: &context.values,
                state: &context.flow_state,
            },
        );
        TurnResult {
            turn: turn.turn,
            flow_state: Some(turn.state),
        }
    }
}

impl Agent for FlowAgent {
    fn turn<'a>(&'a self, context: &'a TurnContext) -> BoxFuture<'a, TurnResult> {
        Box::pin(async move { self.decide(context) })
    }
}
