//! The rules of one decision, in the recipient's local time: the federal window, the
//! state's window and closed days, the campaign's calling hours, and which of them a
//! local moment breaks. Everything here is about one zone's wall clock; turning that
//! into instants (and across DST changes) is `search`'s job.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, Weekday};

use crate::calling_hours::{CallingHours, DayWindow};
use crate::holidays::{self, Holiday};

const SECONDS_PER_DAY: i64 = 86_400;

/// The TCPA window (47 CFR 64.1200(c)(1)), applied to every recipient as the baseline,
/// in the US or not.
pub(super) const FEDERAL: DayWindow = DayWindow::new(8 * 60, 21 * 60);

/// Most attempts any state's cap allows; sizes the cap's fixed buffer.
pub(super) const MAX_CAP: usize = 8;

/// A state whose calling rules are stricter than the federal ones.
#[derive(Debug)]
pub(super) struct StateRule {
    pub state: &'static str,
    /// The window of each weekday, Monday first; `None` for a day without calls.
    pub hours: [Option<DayWindow>; 7],
    /// No calls on US federal holidays (see `holidays`).
    pub closed_on_holidays: bool,
    /// Most attempts per lead in any rolling 24 hours.
    pub max_attempts_per_day: Option<u8>,
}

const fn every_day(window: DayWindow) -> [Option<DayWindow>; 7] {
    [Some(window); 7]
}

const fn weekdays_and_saturday(weekday: DayWindow, saturday: DayWindow) -> [Option<DayWindow>; 7] {
    let w = Some(weekday);
    [w, w, w, w, w, Some(saturday), None]
}

const NOT_SUNDAY: [Option<DayWindow>; 7] = {
    let all = Some(DayWindow::ALL_DAY);
    [all, all, all, all, all, all, None]
};

/// Sorted by state for binary search. The state telemarketing rules as summed up in
/// reference/VENDOR-FACTS.md. Assumption: Rhode Island's "tighter on Saturdays" is
/// read as 10:00–17:00, the Saturday hours of its telephone sales solicitation law.
/// Alabama and Louisiana limit days, not hours, so their window is the whole day (the
/// federal one still applies).
const STATE_RULES: [StateRule; 7] = [
    StateRule {
        state: "AL",
        hours: NOT_SUNDAY,
        closed_on_holidays: true,
        max_attempts_per_day: None,
    },
    StateRule {
        state: "CT",
        hours: every_day(DayWindow::new(9 * 60, 20 * 60)),
        closed_on_holidays: false,
        max_attempts_per_day: None,
    },
    StateRule {
        state: "FL",
        hours: every_day(DayWindow::new(8 * 60, 20 * 60)),
        closed_on_holidays: false,
        max_attempts_per_day: Some(3),
    },
    StateRule {
        state: "KY",
        hours: every_day(DayWindow::new(10 * 60, 21 * 60)),
        closed_on_holidays: false,
        max_attempts_per_day: None,
    },
    StateRule {
        state: "LA",
        hours: NOT_SUNDAY,
        closed_on_holidays: true,
        max_attempts_per_day: None,
    },
    StateRule {
        state: "OK",
        hours: every_day(DayWindow::new(8 * 60, 20 * 60)),
        closed_on_holidays: false,
        max_attempts_per_day: Some(3),
    },
    StateRule {
        state: "RI",
        hours: weekdays_and_saturday(
            DayWindow::new(9 * 60, 18 * 60),
            DayWindow::new(10 * 60, 17 * 60),
        ),
        closed_on_holidays: true,
        max_attempts_per_day: None,
    },
];

/// The stricter rules of `state`, if it has any.
pub(super) fn state_rule(state: &str) -> Option<&'static StateRule> {
    STATE_RULES
        .binary_search_by(|rule| rule.state.cmp(state))
        .ok()
        .map(|index| &STATE_RULES[index])
}

/// The states with rules of their own, for tests and docs.
pub(super) fn states_with_rules() -> impl Iterator<Item = &'static str> {
    STATE_RULES.iter().map(|rule| rule.state)
}

/// A wall-clock moment in one zone: whole days since 1970-01-01 and the second of that
/// day. Kept as integers so the common checks need no calendar arithmetic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct WallClock {
    pub day: i64,
    pub second: u32,
}

impl WallClock {
    pub fn from_local_seconds(local: i64) -> Self {
        Self {
            day: local.div_euclid(SECONDS_PER_DAY),
            second: local.rem_euclid(SECONDS_PER_DAY) as u32,
        }
    }

    pub fn weekday(self) -> Weekday {
        weekday_of(self.day)
    }

    pub fn naive(self) -> NaiveDateTime {
        let time =
            NaiveTime::from_num_seconds_from_midnight_opt(self.second, 0).unwrap_or_default();
        date_of(self.day).and_time(time)
    }
}

/// 1970-01-01 was a Thursday.
fn weekday_of(day: i64) -> Weekday {
    const FROM_THURSDAY: [Weekday; 7] = [
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
    ];
    FROM_THURSDAY[day.rem_euclid(7) as usize]
}

fn date_of(day: i64) -> NaiveDate {
    NaiveDate::from_num_days_from_ce_opt((day + 719_163) as i32).unwrap_or_default()
}

/// Which rule a wall-clock moment breaks (`Rules::broken_at` gives the order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Broken {
    StateSunday,
    StateHoliday(Holiday),
    Federal,
    State(Option<DayWindow>),
    Campaign,
}

/// The rules of one decision that do not depend on the zone.
pub(super) struct Rules<'a> {
    pub state: Option<&'static StateRule>,
    pub campaign: &'a CallingHours,
}

impl Rules<'_> {
    /// Why the day `day` has no calls at all under the state's rule, if it has none.
    fn closed_by_state(&self, day: i64) -> Option<Broken> {
        let rule = self.state?;
        let weekday = weekday_of(day);
        if weekday == Weekday::Sun && rule.hours[6].is_none() {
            return Some(Broken::StateSunday);
        }
        let holiday = rule
            .closed_on_holidays
            .then(|| holidays::federal_holiday_on(date_of(day)))
            .flatten();
        holiday.map(Broken::StateHoliday)
    }

    /// Federal ∩ state window of `day`; `None` on a day without calls.
    fn base_window(&self, day: i64) -> Option<DayWindow> {
        if self.closed_by_state(day).is_some() {
            return None;
        }
        let Some(rule) = self.state else {
            return Some(FEDERAL);
        };
        let weekday = weekday_of(day).num_days_from_monday() as usize;
        FEDERAL.intersect(rule.hours[weekday]?)
    }

    /// The campaign's windows of `day`; the whole day when it does not restrict hours.
    fn campaign_windows(&self, day: i64) -> &[DayWindow] {
        if self.campaign.is_unrestricted() {
            std::slice::from_ref(&DayWindow::ALL_DAY)
        } else {
            self.campaign.on(weekday_of(day))
        }
    }

    /// Seconds of wall-clock time from `at` to the next moment every rule allows, 0
    /// when they allow `at` itself; `None` when no window opens within `days` days.
    pub fn wait_from(&self, at: WallClock, days: i64) -> Option<i64> {
        (0..=days).find_map(|ahead| {
            let day = at.day + ahead;
            let base = self.base_window(day)?;
            let not_before = if ahead == 0 { at.second } else { 0 };
            self.campaign_windows(day)
                .iter()
                .filter_map(|window| window.intersect(base))
                .find(|window| u32::from(window.end) * 60 > not_before)
                .map(|window| {
                    let opens = (u32::from(window.start) * 60).max(not_before);
                    ahead * SECONDS_PER_DAY + i64::from(opens) - i64::from(at.second)
                })
        })
    }

    /// The first rule `at` breaks, or `None` when every rule allows it. The state's
    /// window is named before the federal one: it is the narrower of the two wherever a
    /// state has hours of its own, and the one the recipient's law speaks of.
    pub fn broken_at(&self, at: WallClock) -> Option<Broken> {
        if let Some(closed) = self.closed_by_state(at.day) {
            return Some(closed);
        }
        if let Some(rule) = self.state {
            let window = rule.hours[at.weekday().num_days_from_monday() as usize];
            if !window.is_some_and(|window| window.contains_second(at.second)) {
                return Some(Broken::State(window));
            }
        }
        if !FEDERAL.contains_second(at.second) {
            return Some(Broken::Federal);
        }
        let campaign = self.campaign_windows(at.day);
        let inside = campaign
            .iter()
            .any(|window| window.contains_second(at.second));
        (!inside).then_some(Broken::Campaign)
    }
}
