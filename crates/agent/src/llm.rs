//! The LLM agent behind the [`Agent`](crate::Agent) trait: one turn is a short
//! conversation with an OpenAI-compatible chat-completions endpoint. The model reads
//! the transcript and the lead's attributes, may store answers with `set_attribute`
//! (resolved here against the workspace's attributes and reported back to it), and
//! ends the turn with a text reply, `hand_off` or `end_conversation`.
//!
//! Whatever goes wrong with the endpoint — a timeout, a refused connection, an error
//! status, a body that is not a completion, a model that keeps calling tools — the
//! turn hands off with the failure as its reason: a lead is never left in silence.
//!
//! The endpoint is a URL the tenant typed, so it is called under the outbound guard
//! ([`leadline_providers::outbound`]), and the reason (which the tenant reads in the
//! decision log) says what failed in fixed words: the status, and the code and start
//! of the message of an OpenAI-shaped error body, never the body itself or the
//! connection error's causes (those go to the operator's log).

mod failure;
mod prompt;
mod tools;
mod wire;

use std::time::Duration;

use futures::FutureExt as _;
use futures::future::BoxFuture;
use leadline_core::Secret;
use leadline_core::agent::settings::LlmSettings;
use leadline_core::agent::{AgentAction, AgentTurn};
use leadline_core::custom_attribute::AttributeValue;
use leadline_providers::outbound::{OutboundClient, error_chain, excerpt, read_capped, refusal_of};

use self::failure::{CompletionError, error_detail};
use self::wire::{ChatRequest, ChatResponse, Message, ResponseMessage, Tool, ToolCall};
use crate::{Agent, TurnContext, TurnResult};

/// Completions one turn may use: the first, and up to two more to read the results of
/// `set_attribute` calls. A model still calling tools after that is stuck.
const MAX_COMPLETIONS: usize = 3;
/// The longest reply sent: ten SMS segments, and far more than a good reply needs.
const MAX_REPLY_CHARS: usize = 1600;
/// How much of a completion is read. A completion holds the model's text (a reply is
/// cut to [`MAX_REPLY_CHARS`]) and its tool calls; some servers add the model's
/// reasoning. Anything longer is not a completion worth reading.
const MAX_ANSWER_BYTES: usize = 1024 * 1024;

/// The LLM agent of one workspace's settings.
#[derive(Debug, Clone)]
pub struct LlmAgent {
    client: OutboundClient,
    url: String,
    model: String,
    api_key: Option<Secret>,
    timeout: Duration,
    system_prompt: Option<String>,
}

impl LlmAgent {
    /// `client` is shared (clones share its pool); the timeout comes from the settings
    /// and is applied to each completion, so one slow endpoint never holds the shared
    /// client.
    pub fn new(client: OutboundClient, settings: &LlmSettings) -> Self {
        Self {
            client,
            url: format!(
                "{}/chat/completions",
                settings.base_url.trim().trim_end_matches('/')
            ),
            model: settings.model.clone(),
            api_key: settings
                .api_key
                .clone()
                .filter(|key| !key.expose().trim().is_empty()),
            // A zero timeout would fail every request; one second is the least.
            timeout: Duration::from_secs(u64::from(settings.timeout_seconds.max(1))),
            system_prompt: settings.system_prompt.clone(),
        }
    }

    async fn run_turn(&self, context: &TurnContext) -> AgentTurn {
        let tools = tools::definitions(&context.definitions);
        let mut messages = prompt::messages(context, self.system_prompt.as_deref());
        let mut progress = Progress::default();
        for completion in 1..=MAX_COMPLETIONS {
            let answer = match self.complete(&messages, &tools).await {
                Ok(answer) => answer,
                Err(failure) => return self.fail(context, failure, progress),
            };
            let content = answer
                .content
                .as_deref()
                .map(str::trim)
                .filter(|text| !text.is_empty())
                .map(str::to_owned);
            let calls = answer.tool_calls.unwrap_or_default();
            if calls.is_empty() {
                let Some(text) = content else {
                    return self.fail(context, CompletionError::Empty, progress);
                };
                progress.actions.push(AgentAction::Reply {
                    text: cap_reply(&text),
                });
                let reason = progress.describe(&format!("LLM (model {}) replied", self.model));
                return progress.finish(reason, completion);
            }
            let tool_results = Self::apply_calls(&calls, context, &mut progress);
            if let Some(last) = progress.closing.take() {
                return Self::close(content, last, progress, completion);
            }
            messages.push(Message::Assistant {
                content,
                tool_calls: calls,
            });
            messages.extend(tool_results);
        }
        self.fail(context, CompletionError::NoFinalAnswer, progress)
    }

    /// Applies one completion's tool calls: resolves every `set_attribute`, notes a
    /// `hand_off` or `end_conversation` (the first one wins), and answers each call
    /// with a tool result for the next completion.
    fn apply_calls(
        calls: &[ToolCall],
        context: &TurnContext,
        progress: &mut Progress,
    ) -> Vec<Message> {
        let mut results = Vec::with_capacity(calls.len());
        for call in calls {
            let outcome = match call.function.name.as_str() {
                tools::SET_ATTRIBUTE => tools::resolve_set_attribute(call, &context.definitions)
                    .map(|(key, value)| progress.set_attribute(key, value)),
                name @ (tools::HAND_OFF | tools::END_CONVERSATION) => {
                    let reason = tools::reason_of(call);
                    progress.closing.get_or_insert(if name == tools::HAND_OFF {
                        Closing::HandOff(reason)
                    } else {
                        Closing::End(reason)
                    });
                    Ok(())
                }
                other => Err(format!(
                    "unknown tool '{other}'; use {}, {} or {}",
                    tools::SET_ATTRIBUTE,
                    tools::HAND_OFF,
                    tools::END_CONVERSATION
                )),
            };
            let content = match outcome {
                Ok(()) => "ok".to_owned(),
                Err(problem) => {
                    progress.rejected += 1;
                    tracing::debug!(
                        conversation = %context.conversation_id,
                        tool = %call.function.name,
                        %problem,
                        "LLM tool call not applied"
                    );
                    problem
                }
            };
            results.push(Message::Tool {
                tool_call_id: call.id.clone(),
                content,
            });
        }
        results
    }

    /// Ends the turn on `hand_off` or `end_conversation`: the completion's text, if
    /// any, goes out first.
    fn close(
        content: Option<String>,
        closing: Closing,
        mut progress: Progress,
        completions: usize,
    ) -> AgentTurn {
        if let Some(text) = content {
            progress.actions.push(AgentAction::Reply {
                text: cap_reply(&text),
            });
        }
        let (action, summary) = match closing {
            Closing::HandOff(reason) => (
                AgentAction::HandOff {
                    reason: reason.clone(),
                },
                format!("LLM asked to hand off: {reason}"),
            ),
            Closing::End(reason) => (
                AgentAction::End {
                    reason: reason.clone(),
                },
                format!("LLM ended the conversation: {reason}"),
            ),
        };
        progress.actions.push(action);
        let reason = progress.describe(&summary);
        progress.finish(reason, completions)
    }

    /// Hands off after a failure, keeping the answers already stored this turn (they
    /// were resolved and are true whatever happened next).
    fn fail(
        &self,
        context: &TurnContext,
        failure: CompletionError,
        mut progress: Progress,
    ) -> AgentTurn {
        tracing::warn!(
            conversation = %context.conversation_id,
            model = %self.model,
            error = %failure,
            "LLM agent hands off"
        );
        let reason = failure.to_string();
        progress.actions.push(AgentAction::HandOff {
            reason: reason.clone(),
        });
        AgentTurn {
            actions: progress.actions,
            reason,
        }
    }

    /// One chat completion: the request, the status, the first choice's message.
    async fn complete(
        &self,
        messages: &[Message],
        tools: &[Tool],
    ) -> Result<ResponseMessage, CompletionError> {
        let body = ChatRequest {
            model: &self.model,
            messages,
            tools,
            tool_choice: "auto",
        };
        let mut request = self
            .client
            .post(&self.url)
            .map_err(CompletionError::Refused)?
            .timeout(self.timeout)
            .json(&body);
        if let Some(key) = &self.api_key {
            request = request.bearer_auth(key.expose());
        }
        let response = request.send().await.map_err(|e| self.transport(e))?;
        let status = response.status();
        let answer = read_capped(response, MAX_ANSWER_BYTES)
            .await
            .map_err(|e| self.transport(e))?;
        if !status.is_success() {
            tracing::info!(model = %self.model, status = status.as_u16(), body = %excerpt(&answer.text(), 300), "the LLM endpoint answered with an error");
            return Err(CompletionError::Status {
                status: status.as_u16(),
                detail: error_detail(status, &answer.bytes),
            });
        }
        if answer.cut {
            return Err(CompletionError::Malformed(
                " (the answer is longer than 1 MiB)".into(),
            ));
        }
        let deserializer = &mut serde_json::Deserializer::from_slice(&answer.bytes);
        let parsed: ChatResponse = serde_path_to_error::deserialize(deserializer).map_err(|error| {
            tracing::info!(model = %self.model, %error, "the LLM endpoint's answer is not a chat completion");
            // The path names our own fields; serde's message may quote the body.
            let path = error.path().to_string();
            CompletionError::Malformed(if path == "." {
                String::new()
            } else {
                format!(" (at {path})")
            })
        })?;
        parsed
            .choices
            .into_iter()
            .next()
            .map(|choice| choice.message)
            .ok_or(CompletionError::NoChoices)
    }

    /// A transport failure: the guard's refusal as it is; anything else in fixed words,
    /// its causes (without the URL: a proxy may carry a key in its query) logged.
    fn transport(&self, error: reqwest::Error) -> CompletionError {
        if let Some(refusal) = refusal_of(&error) {
            return CompletionError::Refused(refusal.clone());
        }
        if error.is_timeout() {
            return CompletionError::Timeout(self.timeout.as_secs());
        }
        let error = error.without_url();
        tracing::warn!(model = %self.model, cause = %error_chain(&error), "the LLM endpoint could not be reached");
        CompletionError::Unreachable
    }
}

impl Agent for LlmAgent {
    fn turn<'a>(&'a self, context: &'a TurnContext) -> BoxFuture<'a, TurnResult> {
        async move {
            TurnResult {
                turn: self.run_turn(context).await,
                flow_state: None,
            }
        }
        .boxed()
    }
}

/// A turn's way out through a tool.
enum Closing {
    HandOff(String),
    End(String),
}

/// What a turn has done so far.
#[derive(Default)]
struct Progress {
    actions: Vec<AgentAction>,
    /// The keys of the attributes set, in order, for the reason.
    set: Vec<String>,
    /// Tool calls answered with an error.
    rejected: usize,
    /// The first `hand_off` or `end_conversation` of the latest completion.
    closing: Option<Closing>,
}

impl Progress {
    /// Stores an answer; a later answer to the same attribute in this turn replaces
    /// the earlier one rather than setting it twice.
    fn set_attribute(&mut self, key: String, value: AttributeValue) {
        self.actions.retain(
            |action| !matches!(action, AgentAction::SetAttribute { key: set, .. } if *set == key),
        );
        if !self.set.contains(&key) {
            self.set.push(key.clone());
        }
        self.actions.push(AgentAction::SetAttribute { key, value });
    }

    /// `summary` followed by the attributes set and the calls refused.
    fn describe(&self, summary: &str) -> String {
        let mut reason = summary.to_owned();
        if !self.set.is_empty() {
            reason.push_str(if summary.contains(':') {
                "; set "
            } else {
                " and set "
            });
            reason.push_str(&self.set.join(", "));
        }
        if self.rejected > 0 {
            let plural = if self.rejected == 1 { "" } else { "s" };
            reason.push_str(&format!("; {} tool call{plural} refused", self.rejected));
        }
        reason
    }

    fn finish(self, reason: String, completions: usize) -> AgentTurn {
        let plural = if completions == 1 { "" } else { "s" };
        AgentTurn {
            actions: self.actions,
            reason: format!("{reason}; {completions} completion{plural}"),
        }
    }
}

/// A reply cut to [`MAX_REPLY_CHARS`], ending with "…" when cut.
fn cap_reply(text: &str) -> String {
    if text.chars().count() <= MAX_REPLY_CHARS {
        return text.to_owned();
    }
    let mut capped: String = text.chars().take(MAX_REPLY_CHARS - 1).collect();
    capped.truncate(capped.trim_end().len());
    capped.push('…');
    capped
}

#[cfg(test)]
mod tests;
