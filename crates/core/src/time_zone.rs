//! Time zone names from clients: IANA names (`America/New_York`) and the Windows names
//! NLPearl and other Microsoft-hosted tools send (`Pacific Standard Time`), both turned
//! into a `chrono_tz::Tz` at the edge so the rest of the code only sees valid zones.
//!
//! The Windows table is CLDR's windowsZones (territory "001"), generated into
//! `time_zone/windows_zones.rs` by `scripts/gen_windows_zones.py`. We keep our own copy
//! instead of using `localzone`, whose table predates Microsoft renaming "Turkey
//! Standard Time" to "Türkiye Standard Time"; both spellings are accepted.

mod windows_zones;

use chrono_tz::Tz;

use crate::validation::FieldError;
use windows_zones::WINDOWS_ZONES;

/// Reads a time zone given as an IANA name or a Windows name, exactly as spelled
/// (names are case-sensitive: `america/new_york` is refused, with a hint).
pub fn parse_zone(field: &str, value: &str) -> Result<Tz, FieldError> {
    if let Ok(zone) = value.parse::<Tz>() {
        return Ok(zone);
    }
    windows_zone(value).ok_or_else(|| FieldError::new(field, unknown_zone_message(value)))
}

/// The IANA zone of a Windows time zone name (exact spelling).
pub fn windows_zone(name: &str) -> Option<Tz> {
    WINDOWS_ZONES
        .binary_search_by(|(windows, _)| (*windows).cmp(name))
        .ok()
        .map(|index| WINDOWS_ZONES[index].1)
}

/// Every Windows name `windows_zone` knows, in byte order.
pub fn windows_zone_names() -> impl Iterator<Item = &'static str> {
    WINDOWS_ZONES.iter().map(|(name, _)| *name)
}

/// Names the spelling the client probably meant when only the case differs, since a
/// lower-cased zone is the most common mistake.
fn unknown_zone_message(value: &str) -> String {
    let general = "must be an IANA time zone such as America/New_York or a Windows time zone such as Eastern Standard Time";
    match case_insensitive_match(value) {
        Some(name) => format!(
            "unknown time zone '{value}' (names are case-sensitive: did you mean '{name}'?); {general}"
        ),
        None => format!("unknown time zone '{value}'; {general}"),
    }
}

/// Only on the error path, so a linear scan of both tables is fine.
fn case_insensitive_match(value: &str) -> Option<&'static str> {
    let wanted = value.to_lowercase();
    let iana = chrono_tz::TZ_VARIANTS.iter().map(|zone| zone.name());
    iana.chain(windows_zone_names())
        .find(|name| name.to_lowercase() == wanted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_iana_names_and_their_old_links() {
        assert_eq!(
            parse_zone("tz", "America/New_York").unwrap(),
            Tz::America__New_York
        );
        assert_eq!(
            parse_zone("tz", "Asia/Calcutta").unwrap(),
            Tz::Asia__Calcutta
        );
        assert_eq!(parse_zone("tz", "UTC").unwrap(), Tz::UTC);
    }

    #[test]
    fn accepts_windows_names_old_and_new() {
        for (name, zone) in [
            ("Pacific Standard Time", Tz::America__Los_Angeles),
            ("Eastern Standard Time", Tz::America__New_York),
            ("India Standard Time", Tz::Asia__Calcutta),
            ("Türkiye Standard Time", Tz::Europe__Istanbul),
            ("Turkey Standard Time", Tz::Europe__Istanbul),
            ("Newfoundland Standard Time", Tz::America__St_Johns),
            ("Cen. Australia Standard Time", Tz::Australia__Adelaide),
            ("UTC", Tz::UTC),
        ] {
            assert_eq!(parse_zone("timeZoneId", name), Ok(zone), "{name}");
        }
    }

    #[test]
    fn every_windows_name_in_the_table_resolves_to_itself() {
        let names: Vec<&str> = windows_zone_names().collect();
        assert!(names.len() >= 140, "only {} names", names.len());
        assert!(
            names.windows(2).all(|pair| pair[0] < pair[1]),
            "table not sorted"
        );
        for name in names {
            let zone = parse_zone("tz", name).unwrap();
            // "UTC" is an IANA name too, and IANA names win.
            let iana = name.parse::<Tz>().ok();
            assert_eq!(Some(zone), iana.or(windows_zone(name)), "{name}");
        }
    }

    #[test]
    fn names_are_case_sensitive_and_errors_name_the_field_with_a_hint() {
        let error = parse_zone("campaign.timeZoneId", "pacific standard time").unwrap_err();
        assert_eq!(error.field, "campaign.timeZoneId");
        assert!(
            error
                .message
                .contains("did you mean 'Pacific Standard Time'")
        );
        let error = parse_zone("tz", "america/new_york").unwrap_err();
        assert!(error.message.contains("did you mean 'America/New_York'"));
        let error = parse_zone("tz", "Mars Standard Time").unwrap_err();
        assert!(error.message.contains("IANA time zone"));
        assert!(parse_zone("tz", " America/New_York").is_err());
        assert!(parse_zone("tz", "").is_err());
    }
}
