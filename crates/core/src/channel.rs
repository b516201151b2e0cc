//! Channels: which kind of conversation a channel carries and which provider adapter
//! carries it.

crate::wire_enum! {
    /// What a channel carries, as the seed endpoints name it (`messageProviderType`).
    pub enum MessageProviderType {
        Sms = "SMS",
        Whatsapp = "WHATSAPP",
        Voice = "VOICE",
    }
}

crate::wire_enum! {
    /// The adapter that talks to the outside world for a channel.
    pub enum ProviderKind {
        /// Local and default: accepts every send and delivers on the injected clock.
        Sandbox = "sandbox",
        /// Twilio Messages and Calls APIs.
        Twilio = "twilio",
        /// Meta's WhatsApp Cloud API.
        WhatsappCloud = "whatsapp_cloud",
        /// A generic JSON webhook, HMAC-signed both ways.
        Http = "http",
        /// A self-hosted Kannel SMS gateway.
        Kannel = "kannel",
    }
}

impl ProviderKind {
    /// Whether the adapter can carry `carries`.
    pub fn supports(self, carries: MessageProviderType) -> bool {
        match self {
            ProviderKind::Sandbox | ProviderKind::Http => true,
            ProviderKind::Twilio => carries != MessageProviderType::Whatsapp,
            ProviderKind::WhatsappCloud => carries == MessageProviderType::Whatsapp,
            ProviderKind::Kannel => carries == MessageProviderType::Sms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_support_matrix() {
        assert!(ProviderKind::Sandbox.supports(MessageProviderType::Voice));
        assert!(ProviderKind::Twilio.supports(MessageProviderType::Voice));
        assert!(!ProviderKind::Twilio.supports(MessageProviderType::Whatsapp));
        assert!(!ProviderKind::Kannel.supports(MessageProviderType::Voice));
        assert!(ProviderKind::WhatsappCloud.supports(MessageProviderType::Whatsapp));
        assert!(!ProviderKind::WhatsappCloud.supports(MessageProviderType::Sms));
    }

    #[test]
    fn wire_names_round_trip() {
        for kind in ProviderKind::ALL {
            assert_eq!(ProviderKind::parse(kind.as_str()), Some(*kind));
        }
        assert_eq!(MessageProviderType::expected(), "SMS, WHATSAPP or VOICE");
        assert_eq!(MessageProviderType::parse("sms"), None);
    }
}
