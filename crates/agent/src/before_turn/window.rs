//! WhatsApp's 24-hour window: after the lead's last message WhatsApp accepts free text
//! for a day, then only templates. Outside it the pass asks the lead to write again
//! with the workspace's reopening template, or hands off.

use chrono::{DateTime, Utc};
use leadline_core::agent::DecisionKind;
use leadline_core::agent::writes::NewDecision;
use leadline_core::agent::{WHATSAPP_WINDOW, whatsapp_window_open};
use leadline_core::channel::MessageProviderType;
use leadline_core::template::TemplateStatus;

use crate::loaded::LoadedConversation;
use crate::plan::{Draft, PassEnd, PassPlan, TemplateRef, timestamp};

/// WhatsApp refuses free text 24 hours after the lead's last message: ask to reopen the
/// window with the workspace's template (approved, for WhatsApp, without parameters),
/// or hand off.
pub(super) fn whatsapp_window_closed(
    loaded: &LoadedConversation,
    mut plan: PassPlan,
    closed: &str,
) -> PassPlan {
    let template = loaded.reopen_templates.iter().find(|t| {
        t.status == TemplateStatus::Approved && t.channel_type == MessageProviderType::Whatsapp
    });
    if let Some(template) = template
        && let Ok(body) = template.body.render(&[])
    {
        let index = plan.push(Draft {
            body,
            template: Some(TemplateRef {
                name: template.name.clone(),
                language: template.language.clone(),
            }),
            essential: false,
        });
        plan.decide(
            NewDecision::new(DecisionKind::Reply, format!("WhatsApp's 24-hour window closed at {closed}: sent template '{}' asking the lead to write again", template.name))
                .with_reply(index),
        );
        return plan.ending(PassEnd::Replied);
    }
    let reason = format!(
        "WhatsApp's 24-hour window closed at {closed} and no approved whatsappReopenTemplate without parameters is set"
    );
    plan.hand_off(&loaded.settings, reason, None, false);
    plan.ending(PassEnd::HandedOff)
}

/// Whether free text may be sent now: always, except on WhatsApp 24 hours after the
/// lead's last message, where only a template goes through (so neither the keyword
/// answers nor the hand-off message are sent then).
pub(super) enum FreeText {
    Allowed,
    /// `closed` says when the window closed, for the decision log.
    WindowClosed {
        closed: String,
    },
}

impl FreeText {
    pub(super) fn at(loaded: &LoadedConversation, now: DateTime<Utc>) -> Self {
        let last = loaded.conversation.last_inbound_at;
        if loaded.channel_type != MessageProviderType::Whatsapp || whatsapp_window_open(last, now) {
            return FreeText::Allowed;
        }
        FreeText::WindowClosed {
            closed: last
                .map(|at| timestamp(at + WHATSAPP_WINDOW))
                .unwrap_or_else(|| "before the lead ever wrote".into()),
        }
    }

    /// Why no free text may go out, when it may not.
    pub(super) fn refusal(&self) -> Option<String> {
        match self {
            FreeText::Allowed => None,
            FreeText::WindowClosed { closed } => Some(format!(
                "nothing sent: WhatsApp's 24-hour window closed at {closed}"
            )),
        }
    }
}
