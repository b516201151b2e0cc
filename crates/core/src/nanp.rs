//! North American Numbering Plan area codes: where a +1 number's area code is (country,
//! state or province) and which time zones it spans. The gate uses this when a lead has
//! no time zone of its own, and for the state rules of calling hours.
//!
//! The table in `nanp/area_codes.rs` is generated once from libphonenumber's data (the
//! PyPI `phonenumbers` package) by `scripts/gen_nanp_table.py` and committed: no Rust
//! crate has area-code geography, and a lookup must not need Python or the network.
//! An area code is where the number was assigned, not where its owner is now; that is
//! the best a sender can know, and what the state rules are usually read against.

mod area_codes;

use chrono_tz::Tz;

use crate::phone::E164;
use area_codes::AREA_CODES;

/// What the numbering plan says about one area code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AreaCodeInfo {
    /// ISO 3166 region of the area code: "US", "CA", "PR", "JM", …
    pub country: &'static str,
    /// USPS state or Canadian province code ("FL", "ON"); US territories use their own
    /// code ("PR", "GU"). `None` outside the US and Canada and for the few area codes
    /// shared by several provinces (902, 867).
    pub state: Option<&'static str>,
    /// Every zone the area code's exchanges are in, sorted; one for most area codes,
    /// several where a state is split (270: America/Chicago and America/New_York).
    pub zones: &'static [Tz],
}

/// Lets the generated table stay one short line per area code.
const fn entry(
    country: &'static str,
    state: Option<&'static str>,
    zones: &'static [Tz],
) -> AreaCodeInfo {
    AreaCodeInfo {
        country,
        state,
        zones,
    }
}

/// The area code of a +1 number, when the numbering plan places it somewhere. Toll-free
/// and other non-geographic codes (800, 888, 500, 900…) give `None`.
pub fn area_code_info(phone: &E164) -> Option<AreaCodeInfo> {
    let npa = area_code(phone)?;
    AREA_CODES
        .binary_search_by_key(&npa, |(code, _)| *code)
        .ok()
        .map(|at| AREA_CODES[at].1)
}

/// The NPA of a +1 number (national number / 10^7), read straight from the canonical
/// digits: parsing with libphonenumber would cost microseconds per send.
pub fn area_code(phone: &E164) -> Option<u16> {
    let digits = phone.as_str().strip_prefix("+1")?.as_bytes();
    if digits.len() != 10 {
        return None;
    }
    Some(
        digits[..3]
            .iter()
            .fold(0, |npa, digit| npa * 10 + u16::from(digit - b'0')),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(number: &str) -> Option<AreaCodeInfo> {
        area_code_info(&E164::parse(number).unwrap())
    }

    #[test]
    fn finds_state_and_zone_of_us_area_codes() {
        let cases = [
            ("+14155552671", "CA", Tz::America__Los_Angeles),
            ("+13055550123", "FL", Tz::America__New_York),
            ("+12125550123", "NY", Tz::America__New_York),
            ("+14055550123", "OK", Tz::America__Chicago),
            ("+14015550123", "RI", Tz::America__New_York),
            ("+18605550123", "CT", Tz::America__New_York),
            ("+12055550123", "AL", Tz::America__Chicago),
            ("+15045550123", "LA", Tz::America__Chicago),
        ];
        for (number, state, zone) in cases {
            let info = info(number).unwrap();
            assert_eq!(info.country, "US", "{number}");
            assert_eq!(info.state, Some(state), "{number}");
            assert_eq!(info.zones, &[zone], "{number}");
        }
    }

    #[test]
    fn split_area_codes_list_every_zone() {
        let kentucky = info("+12705550123").unwrap();
        assert_eq!(kentucky.state, Some("KY"));
        assert_eq!(
            kentucky.zones,
            &[Tz::America__Chicago, Tz::America__New_York]
        );
        let panhandle = info("+18505550123").unwrap();
        assert_eq!(panhandle.state, Some("FL"));
        assert_eq!(panhandle.zones.len(), 2);
    }

    #[test]
    fn canada_territories_and_caribbean() {
        let toronto = info("+14165550123").unwrap();
        assert_eq!((toronto.country, toronto.state), ("CA", Some("ON")));
        assert_eq!(toronto.zones, &[Tz::America__Toronto]);
        let st_johns = info("+17095550123").unwrap();
        assert!(st_johns.zones.contains(&Tz::America__St_Johns));
        let puerto_rico = info("+17875550123").unwrap();
        assert_eq!(puerto_rico.state, Some("PR"));
        let jamaica = info("+18765550123").unwrap();
        assert_eq!((jamaica.country, jamaica.state), ("JM", None));
        assert_eq!(jamaica.zones, &[Tz::America__Jamaica]);
    }

    #[test]
    fn toll_free_and_foreign_numbers_have_no_area_code_data() {
        assert_eq!(info("+18005550123"), None);
        assert_eq!(info("+447911123456"), None);
        assert_eq!(info("+34612345678"), None);
        assert_eq!(area_code(&E164::parse("+14155552671").unwrap()), Some(415));
    }

    #[test]
    fn table_is_sorted_for_binary_search() {
        assert!(AREA_CODES.windows(2).all(|pair| pair[0].0 < pair[1].0));
    }

    #[test]
    fn every_entry_has_a_zone_or_a_state() {
        let entries = AREA_CODES.iter().map(|(_, info)| info);
        assert!(entries.clone().count() > 400);
        for entry in entries {
            assert!(
                !entry.zones.is_empty() || entry.state.is_some(),
                "{entry:?}"
            );
            assert!(
                entry
                    .zones
                    .windows(2)
                    .all(|pair| pair[0].name() < pair[1].name())
            );
        }
    }
}
