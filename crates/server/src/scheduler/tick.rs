//! What every lead of one campaign's batch shares, loaded and parsed once per batch:
//! the calling hours, the channel, the opening template and the opening's scripts; and
//! the opening message one lead gets from them.

use chrono::{DateTime, Utc};
use leadline_core::calling_hours::CallingHours;
use leadline_core::campaign::LeadStatus;
use leadline_core::channel::MessageProviderType;
use leadline_core::message::MessageType;
use leadline_core::script::Script;
use leadline_store::campaigns::Campaign;
use leadline_store::channels::Channel;
use leadline_store::conversations::NewOutbound;
use leadline_store::leads::Lead;
use leadline_store::messages::MessageTemplate;
use leadline_store::templates::Template;
use leadline_store::{Store, StoreError};

/// One campaign's share of a scheduler step.
pub(super) struct CampaignTick<'a> {
    pub campaign: &'a Campaign,
    pub now: DateTime<Utc>,
    pub hours: CallingHours,
    pub zone: Option<chrono_tz::Tz>,
    pub channel: Option<Channel>,
    /// The opening template (its first language version), for SMS and WhatsApp.
    pub template: Option<Template>,
    /// The voice script, parsed.
    pub script: Option<Script>,
    /// The opening template's parameters, parsed.
    pub template_params: Vec<Option<Script>>,
}

impl<'a> CampaignTick<'a> {
    pub async fn load(
        store: &Store,
        campaign: &'a Campaign,
        now: DateTime<Utc>,
    ) -> Result<Self, StoreError> {
        let corrupt = |what: String| {
            StoreError::Corrupt(format!("campaign {} calling hours: {what}", campaign.id))
        };
        let hours = CallingHours::parse("callingHours", &campaign.fields.calling_hours)
            .map_err(|errors| corrupt(format!("{errors:?}")))?;
        let channel = store
            .channel(campaign.workspace_id, campaign.fields.channel_id)
            .await?;
        let template = match &campaign.fields.opening_template {
            Some(name) => store
                .templates_named(campaign.workspace_id, name)
                .await?
                .into_iter()
                .next(),
            None => None,
        };
        let opening = &campaign.fields.opening;
        // The texts were checked when the campaign was saved; one that no longer parses
        // renders empty, as before.
        let parse = |text: &str| Script::parse("opening", text).ok();
        Ok(Self {
            campaign,
            now,
            hours,
            zone: campaign.fields.default_time_zone.parse().ok(),
            channel,
            template,
            script: opening.script.as_deref().and_then(parse),
            template_params: opening.template_params.iter().map(|p| parse(p)).collect(),
        })
    }

    /// The opening `lead` gets on `channel`, and the lead's status once it is queued;
    /// or why the attempt cannot be made (the lead then ends in error).
    pub fn opening_for(
        &self,
        channel: &Channel,
        lead: &Lead,
    ) -> Result<(NewOutbound, LeadStatus), String> {
        if channel.carries == MessageProviderType::Voice {
            let body = self
                .script
                .as_ref()
                .map(|s| s.render(&lead.call_data))
                .unwrap_or_default();
            return Ok((
                outbound(MessageType::Call, body, None),
                LeadStatus::InCallQueue,
            ));
        }
        let Some(template) = &self.template else {
            let name = self.campaign.fields.opening_template.as_deref();
            return Err(format!(
                "the opening template '{}' no longer exists",
                name.unwrap_or_default()
            ));
        };
        let params: Vec<String> = self
            .template_params
            .iter()
            .map(|p| {
                p.as_ref()
                    .map(|s| s.render(&lead.call_data))
                    .unwrap_or_default()
            })
            .collect();
        let Ok(body) = template.body.render(&params) else {
            return Err(
                "the opening template's placeholders no longer match its parameters".into(),
            );
        };
        let message_type = if channel.carries == MessageProviderType::Whatsapp {
            MessageType::Whatsapp
        } else {
            MessageType::Sms
        };
        let template = MessageTemplate {
            name: template.name.clone(),
            language: template.language.clone(),
            params,
        };
        Ok((
            outbound(message_type, body, Some(template)),
            LeadStatus::Complete,
        ))
    }
}

fn outbound(
    message_type: MessageType,
    body: String,
    template: Option<MessageTemplate>,
) -> NewOutbound {
    NewOutbound {
        message_type,
        body,
        template,
        author_user_id: None,
        sender: None,
    }
}
