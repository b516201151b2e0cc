//! A campaign's calling hours: windows of the recipient's local day, per weekday, in
//! NLPearl's shape `[{day: "MONDAY", start: "09:00", end: "17:00"}, …]`. Several windows
//! a day are allowed (a lunch break); a day without a window is a day without calls; an
//! empty list means the campaign adds no restriction of its own (the legal windows of
//! the gate still apply).

use std::fmt;

use chrono::Weekday;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::validation::FieldErrors;

/// Minutes in a day: the end of a window that lasts until midnight ("24:00").
pub const END_OF_DAY: u16 = 24 * 60;

/// Most windows one campaign may have: 8 a day is already more than anyone needs.
const MAX_WINDOWS: usize = 56;

/// A span of a local day, `[start, end)` in minutes after midnight, never empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DayWindow {
    pub start: u16,
    pub end: u16,
}

impl DayWindow {
    /// The whole day: the window of a rule that does not restrict hours.
    pub const ALL_DAY: DayWindow = DayWindow::new(0, END_OF_DAY);

    /// `start < end <= 24:00`, checked at compile time for the constant rule tables.
    pub const fn new(start: u16, end: u16) -> Self {
        assert!(start < end && end <= END_OF_DAY);
        Self { start, end }
    }

    /// Whether `second` (seconds after local midnight) falls inside.
    pub fn contains_second(self, second: u32) -> bool {
        u32::from(self.start) * 60 <= second && second < u32::from(self.end) * 60
    }

    /// The overlap of two windows, if they overlap.
    pub fn intersect(self, other: DayWindow) -> Option<DayWindow> {
        let start = self.start.max(other.start);
        let end = self.end.min(other.end);
        (start < end).then_some(DayWindow { start, end })
    }
}

/// `8:00–20:00`, the way people write calling hours.
impl fmt::Display for DayWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (start, end) = (self.start, self.end);
        write!(
            f,
            "{}:{:02}–{}:{:02}",
            start / 60,
            start % 60,
            end / 60,
            end % 60
        )
    }
}

/// One item of calling hours as clients send it and as it is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CallingWindowInput {
    /// `MONDAY` … `SUNDAY` (any case).
    #[schema(schema_with = crate::schema::weekday)]
    pub day: String,
    /// `HH:MM`, 24-hour, local time of the recipient.
    #[schema(schema_with = crate::schema::time_of_day)]
    pub start: String,
    /// `HH:MM` after `start`; `24:00` for "until midnight".
    #[schema(schema_with = crate::schema::window_end)]
    pub end: String,
}

/// Validated calling hours. Keeps the windows as given (for storage and display) and,
/// for the gate, each weekday's windows sorted with overlaps merged, in one vector so a
/// decision reads a single contiguous slice.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CallingHours {
    given: Vec<(Weekday, DayWindow)>,
    merged: Vec<DayWindow>,
    /// `merged[day_start[d]..day_start[d + 1]]` are the windows of weekday `d`
    /// (Monday = 0).
    day_start: [u16; 8],
}

impl CallingHours {
    /// No campaign restriction.
    pub fn unrestricted() -> Self {
        Self::default()
    }

    /// Validates client input, naming failures `{field_prefix}[i].start` and so on.
    pub fn parse(field_prefix: &str, items: &[CallingWindowInput]) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        if items.len() > MAX_WINDOWS {
            errors.push(field_prefix, format!("at most {MAX_WINDOWS} windows"));
            return Err(errors);
        }
        let mut given = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            let field = |name: &str| format!("{field_prefix}[{index}].{name}");
            let day = parse_day(&item.day);
            if day.is_none() {
                errors.push(field("day"), "must be a day of the week: MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY, SATURDAY or SUNDAY");
            }
            let start = parse_minute(&item.start, false);
            if start.is_none() {
                errors.push(
                    field("start"),
                    "must be a time of day as HH:MM, 24-hour (00:00 to 23:59)",
                );
            }
            let end = parse_minute(&item.end, true);
            if end.is_none() {
                errors.push(
                    field("end"),
                    "must be a time of day as HH:MM, 24-hour (00:01 to 24:00)",
                );
            }
            if let (Some(day), Some(start), Some(end)) = (day, start, end) {
                if start < end {
                    given.push((day, DayWindow { start, end }));
                } else {
                    errors.push(
                        field("end"),
                        format!("must be after start ({})", item.start),
                    );
                }
            }
        }
        errors.finish(Self::from_windows(given))
    }

    /// Builds from already valid windows (they come from `parse` or from the store).
    pub fn from_windows(given: Vec<(Weekday, DayWindow)>) -> Self {
        let mut merged = Vec::with_capacity(given.len());
        let mut day_start = [0u16; 8];
        for (index, day) in WEEK.into_iter().enumerate() {
            day_start[index] = merged.len() as u16;
            let mut windows: Vec<DayWindow> = given
                .iter()
                .filter(|(d, _)| *d == day)
                .map(|(_, window)| *window)
                .collect();
            windows.sort();
            merge_sorted_into(&mut merged, &windows);
        }
        day_start[7] = merged.len() as u16;
        Self {
            given,
            merged,
            day_start,
        }
    }

    /// True when the campaign does not restrict hours at all.
    pub fn is_unrestricted(&self) -> bool {
        self.given.is_empty()
    }

    /// The windows of `day`, sorted and disjoint; empty on a day without calls (and on
    /// every day when unrestricted: check `is_unrestricted` first).
    pub fn on(&self, day: Weekday) -> &[DayWindow] {
        let d = day.num_days_from_monday() as usize;
        &self.merged[usize::from(self.day_start[d])..usize::from(self.day_start[d + 1])]
    }

    /// The windows as given, in the client's order.
    pub fn windows(&self) -> &[(Weekday, DayWindow)] {
        &self.given
    }

    /// Back to the input shape, for storage and the API.
    pub fn to_input(&self) -> Vec<CallingWindowInput> {
        self.given
            .iter()
            .map(|(day, window)| CallingWindowInput {
                day: day_name(*day).to_owned(),
                start: format_minute(window.start),
                end: format_minute(window.end),
            })
            .collect()
    }
}

impl Serialize for CallingHours {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_input().serialize(serializer)
    }
}

/// Reads what `Serialize` wrote (from the store); invalid data is an error naming the
/// first bad item, since the store only ever holds validated hours.
impl<'de> Deserialize<'de> for CallingHours {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let items = Vec::<CallingWindowInput>::deserialize(deserializer)?;
        CallingHours::parse("callingHours", &items).map_err(|errors| {
            let first = &errors.as_slice()[0];
            serde::de::Error::custom(format!("{}: {}", first.field, first.message))
        })
    }
}

const WEEK: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];

/// Appends one day's windows (sorted by start), joining those that overlap or touch.
fn merge_sorted_into(merged: &mut Vec<DayWindow>, windows: &[DayWindow]) {
    let day_begin = merged.len();
    for window in windows {
        let same_day_last = merged[day_begin..].last_mut();
        match same_day_last {
            Some(last) if window.start <= last.end => last.end = last.end.max(window.end),
            _ => merged.push(*window),
        }
    }
}

fn parse_day(value: &str) -> Option<Weekday> {
    WEEK.into_iter()
        .find(|day| day_name(*day).eq_ignore_ascii_case(value))
}

/// NLPearl's spelling of a weekday.
pub fn day_name(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "MONDAY",
        Weekday::Tue => "TUESDAY",
        Weekday::Wed => "WEDNESDAY",
        Weekday::Thu => "THURSDAY",
        Weekday::Fri => "FRIDAY",
        Weekday::Sat => "SATURDAY",
        Weekday::Sun => "SUNDAY",
    }
}

/// `HH:MM` to minutes after midnight; `24:00` only where it ends a window.
fn parse_minute(value: &str, is_end: bool) -> Option<u16> {
    let bytes = value.as_bytes();
    if bytes.len() != 5 || bytes[2] != b':' {
        return None;
    }
    let digits = [bytes[0], bytes[1], bytes[3], bytes[4]];
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let [h1, h2, m1, m2] = digits.map(|digit| u16::from(digit - b'0'));
    let (hour, minute) = (h1 * 10 + h2, m1 * 10 + m2);
    let total = hour * 60 + minute;
    let valid = minute < 60 && (hour < 24 || (is_end && total == END_OF_DAY));
    valid.then_some(total)
}

fn format_minute(minute: u16) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(day: &str, start: &str, end: &str) -> CallingWindowInput {
        CallingWindowInput {
            day: day.into(),
            start: start.into(),
            end: end.into(),
        }
    }

    #[test]
    fn parses_days_in_any_case_and_merges_overlaps_per_day() {
        let hours = CallingHours::parse(
            "callingHours",
            &[
                item("monday", "13:00", "17:00"),
                item("MONDAY", "09:00", "12:00"),
                item("Monday", "11:30", "12:30"),
                item("SATURDAY", "10:00", "24:00"),
            ],
        )
        .unwrap();
        assert_eq!(
            hours.on(Weekday::Mon),
            &[DayWindow::new(540, 750), DayWindow::new(780, 1020)]
        );
        assert_eq!(hours.on(Weekday::Sat), &[DayWindow::new(600, END_OF_DAY)]);
        assert!(hours.on(Weekday::Sun).is_empty());
        assert!(!hours.is_unrestricted());
        assert!(
            CallingHours::parse("callingHours", &[])
                .unwrap()
                .is_unrestricted()
        );
    }

    #[test]
    fn names_every_failing_item() {
        let errors = CallingHours::parse(
            "campaign.callingHours",
            &[
                item("MONDAY", "09:00", "17:00"),
                item("FUNDAY", "9:00", "17:00"),
                item("TUESDAY", "18:00", "08:00"),
                item("FRIDAY", "24:00", "24:60"),
            ],
        )
        .unwrap_err();
        let fields: Vec<&str> = errors.as_slice().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "campaign.callingHours[1].day",
                "campaign.callingHours[1].start",
                "campaign.callingHours[2].end",
                "campaign.callingHours[3].start",
                "campaign.callingHours[3].end",
            ]
        );
        assert!(errors.as_slice()[2].message.contains("after start (18:00)"));
    }

    #[test]
    fn serializes_back_to_the_input_shape() {
        let input = vec![
            item("TUESDAY", "09:00", "12:00"),
            item("MONDAY", "08:30", "24:00"),
        ];
        let hours = CallingHours::parse("callingHours", &input).unwrap();
        let json = serde_json::to_value(&hours).unwrap();
        assert_eq!(
            json,
            serde_json::json!([
                {"day": "TUESDAY", "start": "09:00", "end": "12:00"},
                {"day": "MONDAY", "start": "08:30", "end": "24:00"}
            ])
        );
        let back: CallingHours = serde_json::from_value(json).unwrap();
        assert_eq!(back, hours);
        let bad = serde_json::json!([{"day": "MONDAY", "start": "10:00", "end": "09:00"}]);
        let error = serde_json::from_value::<CallingHours>(bad).unwrap_err();
        assert!(error.to_string().contains("callingHours[0].end"));
    }

    #[test]
    fn windows_display_like_people_write_them() {
        assert_eq!(DayWindow::new(480, 1200).to_string(), "8:00–20:00");
        assert_eq!(DayWindow::new(570, 1035).to_string(), "9:30–17:15");
    }
}
