//! Messages and calls: their kinds and states, the rule for applying a provider's
//! status report, which may arrive late, twice or out of order, and how a person
//! settles a send whose outcome is in doubt.

crate::wire_enum! {
    pub enum Direction {
        Outbound = "outbound",
        Inbound = "inbound",
    }
}

crate::wire_enum! {
    pub enum MessageType {
        Sms = "SMS",
        Whatsapp = "WHATSAPP",
        Call = "CALL",
    }
}

crate::wire_enum! {
    /// Where a message is on its way to (or from) the lead.
    pub enum MessageStatus {
        /// Accepted by leadline; its send job is in the outbox.
        Queued = "queued",
        /// Accepted by the provider.
        Sent = "sent",
        Delivered = "delivered",
        Read = "read",
        /// The provider or the carrier refused it for good.
        Failed = "failed",
        /// An inbound message.
        Received = "received",
        /// Never sent: withdrawn before it went out (the lead opted out meanwhile).
        Canceled = "canceled",
        /// May or may not have reached the provider (its worker stopped, or the call
        /// timed out, mid-send) on a provider that takes no idempotency key: held for a
        /// person to resend or settle, never sent again by itself.
        Uncertain = "uncertain",
        /// Its outcome could not be recorded after several tries: taken out of the
        /// outbox, never sent again by itself (`errorMessage` says why).
        Quarantined = "quarantined",
    }
}

crate::wire_enum! {
    /// How a person settles a send held as `uncertain` or `quarantined`: the dispatcher
    /// never decides that alone, since only someone who looked (at the provider's
    /// console, or by asking the lead) knows whether it went out.
    pub enum SendResolution {
        /// Send it again: it did not go out, or a duplicate is acceptable.
        Resend = "resend",
        /// It went out: record it as sent.
        MarkSent = "markSent",
        /// It did not go out and must not: record it as failed.
        MarkFailed = "markFailed",
    }
}

crate::wire_enum! {
    /// The state of a call, as HighLevel names them.
    pub enum CallStatus {
        Pending = "pending",
        Completed = "completed",
        Answered = "answered",
        Busy = "busy",
        NoAnswer = "no-answer",
        Failed = "failed",
        Canceled = "canceled",
        Voicemail = "voicemail",
    }
}

impl MessageType {
    /// What a channel carrying `carries` sends: SMS, WhatsApp messages, or calls.
    pub fn carried_by(carries: crate::channel::MessageProviderType) -> Self {
        use crate::channel::MessageProviderType;
        match carries {
            MessageProviderType::Sms => MessageType::Sms,
            MessageProviderType::Whatsapp => MessageType::Whatsapp,
            MessageProviderType::Voice => MessageType::Call,
        }
    }
}

impl MessageStatus {
    /// Whether a person may settle the message with a [`SendResolution`]: only sends
    /// held in doubt, which nothing else will ever move on.
    pub fn awaits_resolution(self) -> bool {
        matches!(self, MessageStatus::Uncertain | MessageStatus::Quarantined)
    }

    /// How far along the delivery path a status is; reports never move a message back.
    fn progress(self) -> u8 {
        match self {
            MessageStatus::Queued => 0,
            MessageStatus::Sent => 1,
            MessageStatus::Delivered => 2,
            MessageStatus::Read => 3,
            MessageStatus::Failed => 1,
            MessageStatus::Received => 0,
            MessageStatus::Canceled => 0,
            // A report about a message in doubt settles the doubt: it was sent.
            MessageStatus::Uncertain | MessageStatus::Quarantined => 0,
        }
    }

    /// The status after a provider reports `reported`, or `None` when the report changes
    /// nothing (a duplicate, or a late report of an earlier step). A failure counts only
    /// before delivery: a handset that got the message has it.
    pub fn advance(self, reported: MessageStatus) -> Option<MessageStatus> {
        if self == reported
            || matches!(self, MessageStatus::Received | MessageStatus::Canceled)
            || matches!(
                reported,
                MessageStatus::Received
                    | MessageStatus::Canceled
                    | MessageStatus::Uncertain
                    | MessageStatus::Quarantined
            )
        {
            return None;
        }
        match (self, reported) {
            (MessageStatus::Failed, _) => {
                // A late "delivered" after a transient failure report is the truth.
                (reported.progress() >= 2).then_some(reported)
            }
            (_, MessageStatus::Failed) => (self.progress() <= 1).then_some(reported),
            _ => (reported.progress() > self.progress()).then_some(reported),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::MessageStatus::*;
    use super::*;

    #[test]
    fn statuses_only_move_forward() {
        assert_eq!(Queued.advance(Sent), Some(Sent));
        assert_eq!(Sent.advance(Delivered), Some(Delivered));
        assert_eq!(Queued.advance(Read), Some(Read));
        assert_eq!(Delivered.advance(Sent), None);
        assert_eq!(Read.advance(Delivered), None);
        assert_eq!(Sent.advance(Sent), None);
    }

    #[test]
    fn failure_counts_only_before_delivery() {
        assert_eq!(Sent.advance(Failed), Some(Failed));
        assert_eq!(Queued.advance(Failed), Some(Failed));
        assert_eq!(Delivered.advance(Failed), None);
        assert_eq!(Failed.advance(Delivered), Some(Delivered));
        assert_eq!(Failed.advance(Sent), None);
    }

    #[test]
    fn inbound_messages_never_change() {
        for status in MessageStatus::ALL {
            assert_eq!(Received.advance(*status), None);
            assert_eq!(status.advance(Received), None);
        }
    }

    #[test]
    fn only_sends_in_doubt_await_a_person() {
        let waiting: Vec<MessageStatus> = MessageStatus::ALL
            .iter()
            .copied()
            .filter(|status| status.awaits_resolution())
            .collect();
        assert_eq!(waiting, [Uncertain, Quarantined]);
        assert_eq!(SendResolution::expected(), "resend, markSent or markFailed");
    }

    #[test]
    fn call_status_names_match_highlevel() {
        let names: Vec<&str> = CallStatus::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(
            names,
            [
                "pending",
                "completed",
                "answered",
                "busy",
                "no-answer",
                "failed",
                "canceled",
                "voicemail"
            ]
        );
    }
}
