//! A workspace's agent settings: which agent answers, the fixed replies of the opt-out
//! handling (help, opt-out and opt-in confirmations), the guardrails, where hand-offs
//! go, and the LLM endpoint. Every field has a default, so a workspace that never set
//! anything gets the flow-script agent with the documented guardrails.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::calling_hours::{CallingHours, CallingWindowInput};
use crate::ids::TeamId;
use crate::secret::Secret;
use crate::validation::FieldErrors;

/// Longest fixed reply (help, confirmations, hand-off): a few SMS segments at most.
pub const MAX_REPLY_CHARS: usize = 1_000;
/// Most agent replies one conversation may get before the hand-off.
pub const MAX_TURNS: u32 = 200;
/// Longest minimum delay between two replies: a day.
pub const MAX_REPLY_DELAY_SECONDS: u32 = 86_400;
/// Longest reopen-template name and model name the settings accept.
pub const MAX_NAME_CHARS: usize = 200;
/// Longest API key: real keys are under 200 characters; this leaves room for tokens.
pub const MAX_API_KEY_CHARS: usize = 500;
/// Longest wait for one completion: longer and the lead is better served by a person.
pub const MAX_LLM_TIMEOUT_SECONDS: u32 = 120;
/// Longest system prompt, to keep every completion request's cost bounded.
pub const MAX_SYSTEM_PROMPT_CHARS: usize = 8_000;
/// Longest base URL.
const MAX_URL_CHARS: usize = 2_000;

crate::wire_enum! {
    /// Which agent answers AI-controlled conversations.
    pub enum AgentKind {
        /// The deterministic flow script (the default).
        Flow = "FLOW",
        /// An OpenAI-compatible chat-completions endpoint.
        Llm = "LLM",
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct AgentSettings {
    /// `FLOW` or `LLM` (which needs `llm`).
    pub agent: AgentKind,
    /// Sent when a lead writes HELP (or INFO, AYUDA).
    #[schema(schema_with = crate::schema::bounded_text::<1000>)]
    pub help_reply: String,
    /// Sent once when a lead opts out.
    #[schema(schema_with = crate::schema::bounded_text::<1000>)]
    pub opt_out_confirmation: String,
    /// Sent when a lead writes START or UNSTOP after opting out.
    #[schema(schema_with = crate::schema::bounded_text::<1000>)]
    pub opt_in_confirmation: String,
    /// Sent when the agent hands off because it cannot go on (LLM errors, the turn
    /// limit, a closed WhatsApp window); empty sends nothing.
    #[schema(schema_with = crate::schema::empty_or_bounded_text::<1000>)]
    pub handoff_message: String,
    /// Agent replies per conversation before it hands off to a person (1 to 200).
    #[schema(minimum = 1, maximum = 200)]
    #[serde(deserialize_with = "crate::integral::u32")]
    pub max_turns: u32,
    /// The least time between two agent replies in one conversation (at most a day).
    #[schema(maximum = 86400)]
    #[serde(deserialize_with = "crate::integral::u32")]
    pub min_reply_delay_seconds: u32,
    /// Hold replies outside the recipient's allowed hours (the federal 8:00–21:00 and
    /// the state rules of the send gate, and `replyHours` when given).
    pub respect_quiet_hours: bool,
    /// Extra windows (recipient's local time) when the agent may reply; empty means
    /// only the gate's rules. At most 56 windows, each ending after it starts.
    #[schema(max_items = 56)]
    pub reply_hours: Vec<CallingWindowInput>,
    /// The team whose advisors take hand-offs in turn, when the conversation has no
    /// pre-assigned user and the contact no owner; a team of the workspace (422
    /// otherwise).
    #[schema(schema_with = crate::schema::optional_uuid)]
    pub handoff_team_id: Option<TeamId>,
    /// An approved WhatsApp template that asks the lead to write again, sent when the
    /// 24-hour window has closed; without one the agent hands off. A template of the
    /// workspace (422 otherwise).
    #[schema(schema_with = crate::schema::optional_bounded_text::<200>)]
    pub whatsapp_reopen_template: Option<String>,
    /// The chat-completions endpoint of the LLM agent.
    pub llm: Option<LlmSettings>,
}

impl Default for AgentSettings {
    fn default() -> Self {
        Self {
            agent: AgentKind::Flow,
            help_reply: "You are talking with our team's assistant. Reply STOP to stop receiving messages. Msg & data rates may apply.".into(),
            opt_out_confirmation: "You have been unsubscribed and will receive no more messages from us. Reply START to subscribe again.".into(),
            opt_in_confirmation: "You are subscribed again. Reply STOP at any time to unsubscribe.".into(),
            handoff_message: "Thanks! An advisor will continue this conversation with you shortly.".into(),
            max_turns: 20,
            min_reply_delay_seconds: 2,
            respect_quiet_hours: true,
            reply_hours: Vec::new(),
            handoff_team_id: None,
            whatsapp_reopen_template: None,
            llm: None,
        }
    }
}

/// An OpenAI-compatible chat-completions endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LlmSettings {
    /// The API base, e.g. `https://api.openai.com/v1`; `/chat/completions` is appended.
    /// An `http://` or `https://` URL with a host (a DNS name, an IPv4 or a bracketed
    /// IPv6 address) and an optional port, without credentials, query or fragment.
    #[schema(schema_with = crate::schema::base_url)]
    pub base_url: String,
    #[schema(schema_with = crate::schema::bounded_text::<200>)]
    pub model: String,
    /// Sent as `Authorization: Bearer …`; never shown back: responses leave it out
    /// and answer `apiKeySet`. A PUT without it keeps the stored key while `baseUrl`
    /// stays the same; an empty string removes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = crate::schema::optional_header_value::<500>)]
    pub api_key: Option<Secret>,
    /// Whether a key is stored (read-only).
    #[serde(default)]
    pub api_key_set: bool,
    /// How long one completion may take before the agent hands off (1 to 120).
    #[serde(
        default = "default_llm_timeout",
        deserialize_with = "crate::integral::u32"
    )]
    #[schema(minimum = 1, maximum = 120)]
    pub timeout_seconds: u32,
    /// Instructions put before the conversation; a sensible one is used when absent.
    #[serde(default)]
    #[schema(max_length = 8000)]
    pub system_prompt: Option<String>,
}

fn default_llm_timeout() -> u32 {
    20
}

impl LlmSettings {
    /// Checks the endpoint's fields into `errors`, named `llm.…`.
    fn validate_into(&self, errors: &mut FieldErrors) {
        if let Err(message) = check_base_url(&self.base_url) {
            errors.push("llm.baseUrl", message);
        }
        bounded_text(errors, "llm.model", &self.model, MAX_NAME_CHARS);
        if let Some(key) = &self.api_key {
            let key = key.expose();
            if key.chars().count() > MAX_API_KEY_CHARS {
                errors.push(
                    "llm.apiKey",
                    format!("must be at most {MAX_API_KEY_CHARS} characters"),
                );
            } else if key.chars().any(char::is_control) {
                // It travels in a header, where a line break would end it.
                errors.push("llm.apiKey", "must not contain control characters");
            }
        }
        if !(1..=MAX_LLM_TIMEOUT_SECONDS).contains(&self.timeout_seconds) {
            errors.push(
                "llm.timeoutSeconds",
                format!("must be from 1 to {MAX_LLM_TIMEOUT_SECONDS}"),
            );
        }
        if let Some(prompt) = &self.system_prompt
            && prompt.chars().count() > MAX_SYSTEM_PROMPT_CHARS
        {
            errors.push(
                "llm.systemPrompt",
                format!("must be at most {MAX_SYSTEM_PROMPT_CHARS} characters"),
            );
        }
    }
}

/// A fixed reply: at most [`MAX_REPLY_CHARS`], and not blank unless `may_be_empty`
/// (then it must be truly empty, so "send nothing" is never a message of spaces).
fn reply_text(errors: &mut FieldErrors, field: &str, value: &str, may_be_empty: bool) {
    if may_be_empty && value.is_empty() {
        return;
    }
    bounded_text(errors, field, value, MAX_REPLY_CHARS);
}

/// Text that is not blank and at most `max` characters.
fn bounded_text(errors: &mut FieldErrors, field: &str, value: &str, max: usize) {
    if value.trim().is_empty() {
        errors.push(field, "must not be empty");
    } else if value.chars().count() > max {
        errors.push(field, format!("must be at most {max} characters"));
    }
}

/// An absolute `http://` or `https://` URL with a host, to which
/// `/chat/completions` can be appended. Checked by hand (core has no URL parser):
/// the scheme, then the authority up to the first `/`, whose host is a DNS name, an
/// IPv4 address or a bracketed IPv6 address, and whose port is a number. Credentials
/// in the URL are refused (the key goes in `apiKey`, which is never shown back), and
/// so are a query and a fragment, which the appended path would land after.
fn check_base_url(url: &str) -> Result<(), String> {
    const SHAPE: &str = "must be an http:// or https:// URL such as https://api.openai.com/v1";
    if url.chars().count() > MAX_URL_CHARS {
        return Err(format!("must be at most {MAX_URL_CHARS} characters"));
    }
    let rest = strip_prefix_ignoring_case(url, "https://")
        .or_else(|| strip_prefix_ignoring_case(url, "http://"))
        .ok_or(SHAPE)?;
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must not contain spaces or control characters".into());
    }
    if rest.contains(['?', '#']) {
        return Err(
            "must not have a query or fragment; /chat/completions is appended to it".into(),
        );
    }
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.contains('@') {
        return Err("must not hold credentials; send the key as llm.apiKey".into());
    }
    let (host, port) = split_host_port(authority).ok_or(SHAPE)?;
    if let Some(port) = port
        && !port.parse::<u16>().is_ok_and(|p| p > 0)
    {
        return Err("must have a port from 1 to 65535".into());
    }
    if !valid_host(host) {
        return Err(SHAPE.into());
    }
    Ok(())
}

/// `text` after `prefix` (ASCII, compared without case), if it starts with it.
fn strip_prefix_ignoring_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

/// `host[:port]` or `[v6][:port]`; `None` when a bracket is left open or junk follows
/// it.
fn split_host_port(authority: &str) -> Option<(&str, Option<&str>)> {
    if let Some(bracketed) = authority.strip_prefix('[') {
        let (inside, after) = bracketed.split_once(']')?;
        if inside.parse::<std::net::Ipv6Addr>().is_err() {
            return None;
        }
        return match after {
            "" => Some((inside, None)),
            _ => after.strip_prefix(':').map(|port| (inside, Some(port))),
        };
    }
    match authority.split_once(':') {
        Some((host, port)) => Some((host, Some(port))),
        None => Some((authority, None)),
    }
}

/// A DNS name (labels of letters, digits and inner hyphens, 1 to 63 characters each),
/// an IPv4 address, or an IPv6 address already unbracketed by [`split_host_port`].
fn valid_host(host: &str) -> bool {
    if host.parse::<std::net::Ipv6Addr>().is_ok() {
        return true;
    }
    let host = host.strip_suffix('.').unwrap_or(host);
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

impl AgentSettings {
    /// Checks every field, collecting all failures, each named by its JSON path
    /// (`llm.model`, `replyHours[0].start`). References to other rows (the hand-off
    /// team, the reopen template) are the caller's to check: this crate does no IO.
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        reply_text(&mut errors, "helpReply", &self.help_reply, false);
        reply_text(
            &mut errors,
            "optOutConfirmation",
            &self.opt_out_confirmation,
            false,
        );
        reply_text(
            &mut errors,
            "optInConfirmation",
            &self.opt_in_confirmation,
            false,
        );
        reply_text(&mut errors, "handoffMessage", &self.handoff_message, true);
        if !(1..=MAX_TURNS).contains(&self.max_turns) {
            errors.push("maxTurns", format!("must be from 1 to {MAX_TURNS}"));
        }
        if self.min_reply_delay_seconds > MAX_REPLY_DELAY_SECONDS {
            errors.push(
                "minReplyDelaySeconds",
                format!("must be from 0 to {MAX_REPLY_DELAY_SECONDS} (a day)"),
            );
        }
        if let Err(hours) = CallingHours::parse("replyHours", &self.reply_hours) {
            for error in hours.into_vec() {
                errors.push(error.field, error.message);
            }
        }
        if let Some(template) = &self.whatsapp_reopen_template {
            bounded_text(
                &mut errors,
                "whatsappReopenTemplate",
                template,
                MAX_NAME_CHARS,
            );
        }
        match &self.llm {
            Some(llm) => llm.validate_into(&mut errors),
            None if self.agent == AgentKind::Llm => {
                errors.push("llm", "the LLM agent needs llm.baseUrl and llm.model");
            }
            None => {}
        }
        errors.finish(())
    }

    /// The reply hours as the gate reads them (unrestricted when none are given or
    /// they do not parse, which `validate` refuses before they are stored).
    pub fn reply_hours(&self) -> CallingHours {
        CallingHours::parse("replyHours", &self.reply_hours)
            .unwrap_or_else(|_| CallingHours::unrestricted())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(settings: &AgentSettings) -> Vec<String> {
        match settings.validate() {
            Ok(()) => Vec::new(),
            Err(errors) => errors.into_vec().into_iter().map(|e| e.field).collect(),
        }
    }

    fn llm(base_url: &str) -> LlmSettings {
        LlmSettings {
            base_url: base_url.into(),
            model: "gpt-4o-mini".into(),
            api_key: Some("sk-test".into()),
            api_key_set: false,
            timeout_seconds: 20,
            system_prompt: None,
        }
    }

    #[test]
    fn the_defaults_are_valid() {
        assert_eq!(fields(&AgentSettings::default()), Vec::<String>::new());
    }

    #[test]
    fn an_empty_object_reads_as_the_defaults() {
        let settings: AgentSettings = serde_json::from_str("{}").unwrap();
        assert_eq!(settings, AgentSettings::default());
    }

    #[test]
    fn every_bad_field_is_named_at_once() {
        let settings = AgentSettings {
            help_reply: "  ".into(),
            opt_out_confirmation: "x".repeat(MAX_REPLY_CHARS + 1),
            opt_in_confirmation: String::new(),
            handoff_message: " ".into(),
            max_turns: 0,
            min_reply_delay_seconds: MAX_REPLY_DELAY_SECONDS + 1,
            reply_hours: vec![CallingWindowInput {
                day: "FUNDAY".into(),
                start: "09:00".into(),
                end: "25:00".into(),
            }],
            whatsapp_reopen_template: Some(String::new()),
            ..AgentSettings::default()
        };
        assert_eq!(
            fields(&settings),
            [
                "helpReply",
                "optOutConfirmation",
                "optInConfirmation",
                "handoffMessage",
                "maxTurns",
                "minReplyDelaySeconds",
                "replyHours[0].day",
                "replyHours[0].end",
                "whatsappReopenTemplate",
            ]
        );
    }

    #[test]
    fn the_limits_themselves_are_accepted() {
        let settings = AgentSettings {
            help_reply: "x".repeat(MAX_REPLY_CHARS),
            handoff_message: String::new(),
            max_turns: MAX_TURNS,
            min_reply_delay_seconds: MAX_REPLY_DELAY_SECONDS,
            whatsapp_reopen_template: Some("y".repeat(MAX_NAME_CHARS)),
            ..AgentSettings::default()
        };
        assert_eq!(fields(&settings), Vec::<String>::new());
        let settings = AgentSettings {
            max_turns: MAX_TURNS + 1,
            min_reply_delay_seconds: 0,
            whatsapp_reopen_template: Some("y".repeat(MAX_NAME_CHARS + 1)),
            ..AgentSettings::default()
        };
        assert_eq!(fields(&settings), ["maxTurns", "whatsappReopenTemplate"]);
    }

    #[test]
    fn the_llm_agent_needs_its_endpoint() {
        let settings = AgentSettings {
            agent: AgentKind::Llm,
            ..AgentSettings::default()
        };
        assert_eq!(fields(&settings), ["llm"]);
        let settings = AgentSettings {
            agent: AgentKind::Llm,
            llm: Some(llm("https://api.openai.com/v1")),
            ..AgentSettings::default()
        };
        assert_eq!(fields(&settings), Vec::<String>::new());
        // The flow agent may keep an endpoint configured for later.
        let settings = AgentSettings {
            llm: Some(llm("http://localhost:11434/v1")),
            ..AgentSettings::default()
        };
        assert_eq!(fields(&settings), Vec::<String>::new());
    }

    #[test]
    fn the_llm_fields_are_bounded() {
        let settings = AgentSettings {
            agent: AgentKind::Llm,
            llm: Some(LlmSettings {
                base_url: "ftp://example.com".into(),
                model: " ".into(),
                api_key: Some("k".repeat(MAX_API_KEY_CHARS + 1).into()),
                api_key_set: false,
                timeout_seconds: 0,
                system_prompt: Some("p".repeat(MAX_SYSTEM_PROMPT_CHARS + 1)),
            }),
            ..AgentSettings::default()
        };
        assert_eq!(
            fields(&settings),
            [
                "llm.baseUrl",
                "llm.model",
                "llm.apiKey",
                "llm.timeoutSeconds",
                "llm.systemPrompt"
            ]
        );
        let mut endpoint = llm("https://example.com");
        endpoint.timeout_seconds = MAX_LLM_TIMEOUT_SECONDS + 1;
        endpoint.api_key = Some("sk-\r\nX-Injected: 1".into());
        endpoint.model = "m".repeat(MAX_NAME_CHARS + 1);
        let settings = AgentSettings {
            llm: Some(endpoint),
            ..AgentSettings::default()
        };
        assert_eq!(
            fields(&settings),
            ["llm.model", "llm.apiKey", "llm.timeoutSeconds"]
        );
    }

    #[test]
    fn base_urls_are_http_or_https_with_a_host() {
        for good in [
            "https://api.openai.com/v1",
            "HTTPS://API.example.com/v1/",
            "http://localhost:11434/v1",
            "http://127.0.0.1:8080",
            "http://[::1]:8000/v1",
            "https://llm.internal.",
            "https://my-proxy.example.com/openai/deployments/x",
        ] {
            assert_eq!(check_base_url(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            "api.openai.com/v1",
            "ftp://example.com",
            "https://",
            "https:///v1",
            "https://exa mple.com",
            "https://example.com/v1?key=1",
            "https://example.com/v1#x",
            "https://user:secret@example.com/v1",
            "https://example.com:0/v1",
            "https://example.com:99999",
            "https://example.com:port",
            "https://-bad-.com",
            "https://a..b",
            "https://exam_ple.com",
            "http://[::1/v1",
            "http://[nope]/v1",
            "http://[::1]x/v1",
            "https://\u{e9}xample.com",
        ] {
            assert!(check_base_url(bad).is_err(), "{bad} was accepted");
        }
        let long = format!("https://example.com/{}", "a".repeat(MAX_URL_CHARS));
        assert!(check_base_url(&long).is_err());
    }

    #[test]
    fn unknown_fields_are_refused() {
        assert!(serde_json::from_str::<AgentSettings>(r#"{"maxTurn": 3}"#).is_err());
        assert!(
            serde_json::from_str::<AgentSettings>(
                r#"{"llm": {"baseUrl": "https://x.com", "model": "m", "key": "k"}}"#
            )
            .is_err()
        );
    }

    #[test]
    fn the_key_is_not_serialized_when_absent() {
        let mut endpoint = llm("https://example.com");
        endpoint.api_key = None;
        let json = serde_json::to_value(&endpoint).unwrap();
        assert!(json.get("apiKey").is_none(), "{json}");
        assert_eq!(json["apiKeySet"], false);
    }
}
