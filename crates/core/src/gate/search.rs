//! From wall-clock rules to instants: the next instant at which every zone's wall clock
//! is inside every window.
//!
//! Within a stretch where a zone's UTC offset does not change, wall-clock time is UTC
//! plus a constant, so the wait the rules give on the wall clock is the wait in real
//! time. The search takes that wait, checks that the offset stays the same up to the
//! candidate, and when it does not, starts again from the instant the offset changed.
//! That is exact across DST changes in both directions: a wall-clock time skipped by a
//! spring-forward gap never occurs (the opening is the first instant after the gap, if
//! that is still inside the window), and a time repeated by a fall-back overlap opens
//! at its first occurrence, the second one only when the search starts after the first.

use chrono::{DateTime, Offset, TimeZone};
use chrono_tz::Tz;

use super::rules::{Rules, WallClock};

const SECONDS_PER_DAY: i64 = 86_400;

/// How far ahead an opening is looked for.
pub(super) const HORIZON_DAYS: i64 = 14;

/// The zone's offset from UTC at instant `t` (Unix seconds), in seconds.
fn offset_at(zone: Tz, t: i64) -> i64 {
    DateTime::from_timestamp(t, 0).map_or(0, |utc| {
        let offset = zone.offset_from_utc_datetime(&utc.naive_utc());
        i64::from(offset.fix().local_minus_utc())
    })
}

/// The wall clock of `zone` at instant `t`.
pub(super) fn wall_clock(zone: Tz, t: i64) -> WallClock {
    WallClock::from_local_seconds(t + offset_at(zone, t))
}

/// The earliest instant in `[from, limit]` at which every zone's wall clock is allowed
/// by `rules`, or `None` when there is none.
pub(super) fn next_opening(rules: &Rules<'_>, zones: &[Tz], from: i64, limit: i64) -> Option<i64> {
    let mut t = from;
    // Each zone moves `t` to its own next opening; when a full pass moves nothing, every
    // zone allows `t`. `t` only grows and stops at `limit`, so this ends.
    'search: loop {
        for &zone in zones {
            let open = next_open_in_zone(rules, zone, t, limit)?;
            if open > t {
                t = open;
                continue 'search;
            }
        }
        return Some(t);
    }
}

/// The earliest instant in `[from, limit]` at which `zone`'s wall clock is allowed.
fn next_open_in_zone(rules: &Rules<'_>, zone: Tz, from: i64, limit: i64) -> Option<i64> {
    let mut t = from;
    loop {
        let offset = offset_at(zone, t);
        let wait = rules.wait_from(WallClock::from_local_seconds(t + offset), HORIZON_DAYS + 1)?;
        if wait == 0 {
            return Some(t);
        }
        let candidate = t + wait;
        if candidate > limit {
            return None;
        }
        match first_offset_change(zone, t, candidate, offset) {
            None => return Some(candidate),
            Some(change) => t = change,
        }
    }
}

/// The first instant in `(from, to]` at which the offset is no longer `offset`. Probes a
/// day apart so that a change and its reversal between `from` and `to` are both seen
/// (no zone changes its offset twice within a day).
fn first_offset_change(zone: Tz, from: i64, to: i64, offset: i64) -> Option<i64> {
    let mut before = from;
    loop {
        let probe = (before + SECONDS_PER_DAY).min(to);
        if offset_at(zone, probe) != offset {
            return Some(bisect_change(zone, before, probe, offset));
        }
        if probe == to {
            return None;
        }
        before = probe;
    }
}

/// With the offset `offset` at `same` and another one at `changed`, the first second of
/// the other one.
fn bisect_change(zone: Tz, mut same: i64, mut changed: i64, offset: i64) -> i64 {
    while changed - same > 1 {
        let middle = same + (changed - same) / 2;
        if offset_at(zone, middle) == offset {
            same = middle;
        } else {
            changed = middle;
        }
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calling_hours::{CallingHours, DayWindow};
    use chrono::{NaiveDate, Utc, Weekday};

    fn instant(text: &str) -> i64 {
        text.parse::<DateTime<Utc>>().unwrap().timestamp()
    }

    /// Campaign calling hours of `start..end` every day.
    fn every_day(start: u16, end: u16) -> CallingHours {
        let days = [
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
            Weekday::Sat,
            Weekday::Sun,
        ];
        CallingHours::from_windows(days.map(|day| (day, DayWindow::new(start, end))).to_vec())
    }

    #[test]
    fn finds_the_instant_of_a_spring_forward_change() {
        let zone = Tz::America__New_York;
        let change = first_offset_change(
            zone,
            instant("2026-03-08T00:00:00Z"),
            instant("2026-03-09T00:00:00Z"),
            -5 * 3600,
        );
        assert_eq!(change, Some(instant("2026-03-08T07:00:00Z")));
        let none = first_offset_change(
            zone,
            instant("2026-03-09T00:00:00Z"),
            instant("2026-03-20T00:00:00Z"),
            -4 * 3600,
        );
        assert_eq!(none, None);
    }

    #[test]
    fn sees_a_change_and_its_reversal_between_probes() {
        // From summer to summer across a whole winter: the offset at both ends is the
        // same, the daily probes still find the fall-back.
        let zone = Tz::America__New_York;
        let change = first_offset_change(
            zone,
            instant("2026-10-20T00:00:00Z"),
            instant("2027-04-01T00:00:00Z"),
            -4 * 3600,
        );
        assert_eq!(change, Some(instant("2026-11-01T06:00:00Z")));
    }

    #[test]
    fn wall_clock_reads_the_local_day_and_second() {
        let clock = wall_clock(Tz::Asia__Kolkata, instant("2026-01-01T00:00:00Z"));
        assert_eq!(
            clock.naive(),
            NaiveDate::from_ymd_opt(2026, 1, 1)
                .unwrap()
                .and_hms_opt(5, 30, 0)
                .unwrap()
        );
        assert_eq!(clock.weekday(), Weekday::Thu);
    }

    #[test]
    fn search_spans_the_whole_horizon_and_stops_there() {
        let hours = every_day(9 * 60, 10 * 60);
        let rules = Rules {
            state: None,
            campaign: &hours,
        };
        let from = instant("2026-01-01T12:00:00Z");
        let limit = from + HORIZON_DAYS * SECONDS_PER_DAY;
        assert_eq!(
            next_opening(&rules, &[Tz::UTC], from, limit),
            Some(instant("2026-01-02T09:00:00Z"))
        );
        let evening = every_day(22 * 60, 23 * 60);
        let closed = Rules {
            state: None,
            campaign: &evening,
        };
        assert_eq!(next_opening(&closed, &[Tz::UTC], from, limit), None);
    }
}
