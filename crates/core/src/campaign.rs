//! Outbound campaigns and their leads: statuses, the retry interval, and the rule that
//! decides what happens to a lead after an attempt.

use chrono::{DateTime, Duration, Months, Utc};

mod opening;

pub use opening::Opening;

crate::wire_enum! {
    pub enum CampaignStatus {
        Draft = "DRAFT",
        Active = "ACTIVE",
        Paused = "PAUSED",
        Completed = "COMPLETED",
    }
}

crate::wire_enum! {
    /// How long after an unsuccessful attempt the next one may come (NLPearl's names).
    pub enum RetryInterval {
        Every3h = "Every3h",
        Every6h = "Every6h",
        Daily = "Daily",
        Every3Days = "Every3Days",
        Weekly = "Weekly",
        Monthly = "Monthly",
    }
}

impl RetryInterval {
    /// The earliest instant of the next attempt after one at `at`.
    pub fn after(self, at: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            RetryInterval::Every3h => at + Duration::hours(3),
            RetryInterval::Every6h => at + Duration::hours(6),
            RetryInterval::Daily => at + Duration::days(1),
            RetryInterval::Every3Days => at + Duration::days(3),
            RetryInterval::Weekly => at + Duration::weeks(1),
            RetryInterval::Monthly => at
                .checked_add_months(Months::new(1))
                .unwrap_or(at + Duration::days(30)),
        }
    }
}

crate::wire_enum! {
    /// What the scheduler last decided for a lead: the send gate's verdict, or the
    /// attempt's (an allowed lead whose attempt could not be made is `allowed` with the
    /// reason it ended).
    pub enum LeadDecision {
        Allowed = "allowed",
        Deferred = "deferred",
        Refused = "refused",
    }
}

crate::wire_enum! {
    /// A lead's status, in NLPearl's taxonomy (and spelling).
    pub enum LeadStatus {
        New = "New",
        NeedRetry = "NeedRetry",
        InCallQueue = "InCallQueue",
        WrongCountryCode = "WrongCountryCode",
        OnCall = "OnCall",
        VoiceMailLeft = "VoiceMailLeft",
        Success = "Success",
        NotSuccessfull = "NotSuccessfull",
        Complete = "Complete",
        Unreachable = "Unreachable",
        Refused = "Refused",
        Error = "Error",
    }
}

impl LeadStatus {
    /// NLPearl's numeric code of the status (Refused, leadline's own, has none there).
    pub fn code(self) -> u16 {
        match self {
            LeadStatus::New => 1,
            LeadStatus::NeedRetry => 10,
            LeadStatus::InCallQueue => 20,
            LeadStatus::WrongCountryCode => 30,
            LeadStatus::OnCall => 40,
            LeadStatus::VoiceMailLeft => 70,
            LeadStatus::Success => 100,
            LeadStatus::NotSuccessfull => 110,
            LeadStatus::Complete => 130,
            LeadStatus::Unreachable => 150,
            LeadStatus::Refused => 160,
            LeadStatus::Error => 500,
        }
    }

    /// Whether the lead is finished: no further attempt will be made.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            LeadStatus::Success
                | LeadStatus::NotSuccessfull
                | LeadStatus::Complete
                | LeadStatus::Unreachable
                | LeadStatus::WrongCountryCode
                | LeadStatus::Refused
                | LeadStatus::Error
        )
    }
}

/// How an attempt ended, as far as the lead is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// The lead was reached (a call answered, or the opening message sent).
    Reached,
    /// A voicemail was left.
    VoiceMail,
    /// Busy, no answer, or failed: worth another attempt.
    NotReached,
    /// The number cannot be reached at all.
    Unreachable,
}

/// The lead's status and next attempt after an attempt, given how many attempts were
/// made (this one included) and the campaign's limits.
pub fn after_attempt(
    outcome: AttemptOutcome,
    attempts: u32,
    max_attempts: u32,
    interval: RetryInterval,
    at: DateTime<Utc>,
) -> (LeadStatus, Option<DateTime<Utc>>) {
    let retry = attempts < max_attempts;
    match outcome {
        AttemptOutcome::Reached => (LeadStatus::Success, None),
        AttemptOutcome::Unreachable => (LeadStatus::Unreachable, None),
        AttemptOutcome::VoiceMail if retry => (LeadStatus::VoiceMailLeft, Some(interval.after(at))),
        AttemptOutcome::VoiceMail => (LeadStatus::VoiceMailLeft, None),
        AttemptOutcome::NotReached if retry => (LeadStatus::NeedRetry, Some(interval.after(at))),
        AttemptOutcome::NotReached => (LeadStatus::NotSuccessfull, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 31, 15, 0, 0).unwrap()
    }

    #[test]
    fn intervals_add_their_length() {
        assert_eq!(
            RetryInterval::Every3h.after(at()),
            at() + Duration::hours(3)
        );
        assert_eq!(
            RetryInterval::Every3Days.after(at()),
            at() + Duration::days(3)
        );
        assert_eq!(
            RetryInterval::Monthly.after(at()),
            Utc.with_ymd_and_hms(2026, 2, 28, 15, 0, 0).unwrap(),
            "a month after January 31 is the end of February"
        );
    }

    #[test]
    fn retries_until_max_attempts_then_ends() {
        let daily = RetryInterval::Daily;
        assert_eq!(
            after_attempt(AttemptOutcome::NotReached, 1, 3, daily, at()),
            (LeadStatus::NeedRetry, Some(at() + Duration::days(1)))
        );
        assert_eq!(
            after_attempt(AttemptOutcome::NotReached, 3, 3, daily, at()),
            (LeadStatus::NotSuccessfull, None)
        );
        assert_eq!(
            after_attempt(AttemptOutcome::VoiceMail, 3, 3, daily, at()),
            (LeadStatus::VoiceMailLeft, None)
        );
        assert_eq!(
            after_attempt(AttemptOutcome::Reached, 1, 3, daily, at()),
            (LeadStatus::Success, None)
        );
        assert_eq!(
            after_attempt(AttemptOutcome::Unreachable, 1, 3, daily, at()),
            (LeadStatus::Unreachable, None)
        );
        for status in LeadStatus::ALL {
            let ends = status.is_final();
            assert_eq!(
                ends,
                !matches!(
                    status,
                    LeadStatus::New
                        | LeadStatus::NeedRetry
                        | LeadStatus::InCallQueue
                        | LeadStatus::OnCall
                        | LeadStatus::VoiceMailLeft
                ),
                "{status}"
            );
        }
    }
}
