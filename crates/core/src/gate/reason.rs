//! Why the gate said no or not yet: a stable code for storage, filters and metrics
//! (`as_str`) and a sentence for people (`Display`). Every variant is `Copy` and holds
//! no heap data, so building one costs nothing on the hot path.

use std::fmt;

use chrono::{Datelike, NaiveDateTime, Weekday};
use chrono_tz::Tz;

use crate::calling_hours::DayWindow;
use crate::holidays::Holiday;

/// Where and when the recipient was when a window rule was checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecipientTime {
    /// The area code's state or province, when known.
    pub state: Option<&'static str>,
    /// The zone whose wall clock broke the rule (with several zones, the first that did).
    pub zone: Tz,
    /// That zone's wall clock at the decision.
    pub local: NaiveDateTime,
}

/// Why a send was refused or deferred.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GateReason {
    /// The lead opted out on this channel.
    OptedOut,
    /// The number is on the workspace's do-not-contact list.
    DoNotContact,
    /// Outside 8:00–21:00 local.
    FederalQuietHours {
        at: RecipientTime,
        window: DayWindow,
    },
    /// Outside the state's hours for that weekday (`window` is `None` on a day the
    /// state allows no calls at all).
    StateQuietHours {
        at: RecipientTime,
        window: Option<DayWindow>,
    },
    /// The state allows no calls on Sundays.
    StateNoSunday { at: RecipientTime },
    /// The state allows no calls on holidays.
    StateHoliday { at: RecipientTime, holiday: Holiday },
    /// Outside the campaign's calling hours.
    CampaignHours { at: RecipientTime },
    /// The state's cap on attempts per rolling 24 hours is reached.
    FrequencyCap {
        state: &'static str,
        attempts: u32,
        limit: u32,
    },
    /// No instant in the next `days` days is inside every window (calling hours that
    /// never meet the legal windows, for instance): the send cannot be scheduled.
    NoOpening { days: u32 },
}

impl GateReason {
    /// The stable code.
    pub fn as_str(&self) -> &'static str {
        match self {
            GateReason::OptedOut => "opted_out",
            GateReason::DoNotContact => "do_not_contact",
            GateReason::FederalQuietHours { .. } => "federal_quiet_hours",
            GateReason::StateQuietHours { .. } => "state_quiet_hours",
            GateReason::StateNoSunday { .. } => "state_no_sunday",
            GateReason::StateHoliday { .. } => "state_holiday",
            GateReason::CampaignHours { .. } => "campaign_hours",
            GateReason::FrequencyCap { .. } => "frequency_cap",
            GateReason::NoOpening { .. } => "no_opening",
        }
    }

    /// Every code, for documentation and for tests that check the list is stable.
    pub const CODES: [&'static str; 9] = [
        "opted_out",
        "do_not_contact",
        "federal_quiet_hours",
        "state_quiet_hours",
        "state_no_sunday",
        "state_holiday",
        "campaign_hours",
        "frequency_cap",
        "no_opening",
    ];
}

impl fmt::Display for GateReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GateReason::OptedOut => f.write_str("the lead opted out on this channel"),
            GateReason::DoNotContact => {
                f.write_str("the number is on the workspace's do-not-contact list")
            }
            GateReason::FederalQuietHours { at, window } => {
                write!(f, "outside {window} (federal calling hours) {}", Place(at))
            }
            GateReason::StateQuietHours {
                at,
                window: Some(window),
            } => {
                write!(f, "outside {window} {}", Place(at))
            }
            GateReason::StateQuietHours { at, window: None } => {
                write!(f, "no calls on {} {}", weekday_name(at), Place(at))
            }
            GateReason::StateNoSunday { at } => write!(f, "no calls on Sundays {}", Place(at)),
            GateReason::StateHoliday { at, holiday } => {
                let date = at.local.date();
                write!(
                    f,
                    "no calls on holidays ({}) {} on {date}",
                    holiday.name(),
                    Place(at)
                )
            }
            GateReason::CampaignHours { at } => {
                write!(
                    f,
                    "outside the campaign's calling hours for {} {}",
                    weekday_name(at),
                    Place(at)
                )
            }
            GateReason::FrequencyCap {
                state,
                attempts,
                limit,
            } => write!(
                f,
                "{attempts} attempts in the last 24 h reach {state}'s limit of {limit}"
            ),
            GateReason::NoOpening { days } => write!(
                f,
                "no time in the next {days} days is inside every calling window (check the campaign's calling hours)"
            ),
        }
    }
}

fn weekday_name(at: &RecipientTime) -> &'static str {
    match at.local.weekday() {
        Weekday::Mon => "Monday",
        Weekday::Tue => "Tuesday",
        Weekday::Wed => "Wednesday",
        Weekday::Thu => "Thursday",
        Weekday::Fri => "Friday",
        Weekday::Sat => "Saturday",
        Weekday::Sun => "Sunday",
    }
}

/// `in FL (America/New_York) at 21:14 local`, or without the state when unknown.
struct Place<'a>(&'a RecipientTime);

impl fmt::Display for Place<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = self.0;
        let zone = at.zone.name();
        match at.state {
            Some(state) => write!(f, "in {state} ({zone})")?,
            None => write!(f, "in {zone}")?,
        }
        write!(f, " at {} local", at.local.format("%H:%M"))
    }
}
