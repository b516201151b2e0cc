//! Conversations: who controls them and the states they pass through.

crate::wire_enum! {
    pub enum ConversationStatus {
        Active = "ACTIVE",
        HandedOff = "HANDED_OFF",
        Closed = "CLOSED",
        OptedOut = "OPTED_OUT",
    }
}

crate::wire_enum! {
    /// Who speaks for the workspace: the AI agent or a human advisor.
    pub enum Controller {
        Ai = "AI",
        Human = "HUMAN",
    }
}

crate::wire_enum! {
    /// How a participant is identified in the Bridge conversation shape.
    pub enum ParticipantRole {
        Internal = "INTERNAL",
        External = "EXTERNAL",
    }
}
