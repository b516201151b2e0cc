//! US federal holidays (5 U.S.C. 6103), computed for any year: the holiday calendar of
//! the state rules that forbid calls "on holidays" (Rhode Island, Alabama, Louisiana).
//! Those states' own lists differ a little from the federal one; the federal list is
//! the one every US sender can be expected to know, so it is used for all of them.
//!
//! A holiday on a Saturday is observed on the Friday before, one on a Sunday on the
//! Monday after. For calling both days count: the date itself (people are at home)
//! and the observed day (offices are closed). Juneteenth counts from 2021, when it
//! became a federal holiday.

use chrono::{Datelike, NaiveDate, Weekday};

/// One federal holiday.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Holiday {
    NewYearsDay,
    MartinLutherKingDay,
    PresidentsDay,
    MemorialDay,
    Juneteenth,
    IndependenceDay,
    LaborDay,
    ColumbusDay,
    VeteransDay,
    Thanksgiving,
    Christmas,
}

impl Holiday {
    pub const ALL: [Holiday; 11] = [
        Holiday::NewYearsDay,
        Holiday::MartinLutherKingDay,
        Holiday::PresidentsDay,
        Holiday::MemorialDay,
        Holiday::Juneteenth,
        Holiday::IndependenceDay,
        Holiday::LaborDay,
        Holiday::ColumbusDay,
        Holiday::VeteransDay,
        Holiday::Thanksgiving,
        Holiday::Christmas,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Holiday::NewYearsDay => "New Year's Day",
            Holiday::MartinLutherKingDay => "Martin Luther King Jr. Day",
            Holiday::PresidentsDay => "Presidents' Day",
            Holiday::MemorialDay => "Memorial Day",
            Holiday::Juneteenth => "Juneteenth",
            Holiday::IndependenceDay => "Independence Day",
            Holiday::LaborDay => "Labor Day",
            Holiday::ColumbusDay => "Columbus Day",
            Holiday::VeteransDay => "Veterans Day",
            Holiday::Thanksgiving => "Thanksgiving Day",
            Holiday::Christmas => "Christmas Day",
        }
    }

    /// The month of the holiday; its observed day is in the same month too, but for
    /// New Year's Day (see `federal_holiday_on`).
    fn month(self) -> u32 {
        match self {
            Holiday::NewYearsDay | Holiday::MartinLutherKingDay => 1,
            Holiday::PresidentsDay => 2,
            Holiday::MemorialDay => 5,
            Holiday::Juneteenth => 6,
            Holiday::IndependenceDay => 7,
            Holiday::LaborDay => 9,
            Holiday::ColumbusDay => 10,
            Holiday::VeteransDay | Holiday::Thanksgiving => 11,
            Holiday::Christmas => 12,
        }
    }

    /// The legal date in `year`, or `None` before the holiday existed.
    pub fn date(self, year: i32) -> Option<NaiveDate> {
        use Weekday::{Mon, Thu};
        match self {
            Holiday::NewYearsDay => NaiveDate::from_ymd_opt(year, 1, 1),
            Holiday::MartinLutherKingDay => NaiveDate::from_weekday_of_month_opt(year, 1, Mon, 3),
            Holiday::PresidentsDay => NaiveDate::from_weekday_of_month_opt(year, 2, Mon, 3),
            Holiday::MemorialDay => last_weekday_of_may(year),
            Holiday::Juneteenth if year < 2021 => None,
            Holiday::Juneteenth => NaiveDate::from_ymd_opt(year, 6, 19),
            Holiday::IndependenceDay => NaiveDate::from_ymd_opt(year, 7, 4),
            Holiday::LaborDay => NaiveDate::from_weekday_of_month_opt(year, 9, Mon, 1),
            Holiday::ColumbusDay => NaiveDate::from_weekday_of_month_opt(year, 10, Mon, 2),
            Holiday::VeteransDay => NaiveDate::from_ymd_opt(year, 11, 11),
            Holiday::Thanksgiving => NaiveDate::from_weekday_of_month_opt(year, 11, Thu, 4),
            Holiday::Christmas => NaiveDate::from_ymd_opt(year, 12, 25),
        }
    }

    /// The day federal offices close for the holiday of `year`: a Saturday holiday moves
    /// to Friday (so New Year's Day 2022 was observed on 2021-12-31), a Sunday one to
    /// Monday.
    pub fn observed(self, year: i32) -> Option<NaiveDate> {
        let date = self.date(year)?;
        match date.weekday() {
            Weekday::Sat => date.pred_opt(),
            Weekday::Sun => date.succ_opt(),
            _ => Some(date),
        }
    }
}

/// The holiday falling or observed on `date`, if any. Cheap enough for every decision:
/// no table, a handful of date comparisons for the dates that can be holidays at all.
pub fn federal_holiday_on(date: NaiveDate) -> Option<Holiday> {
    let year = date.year();
    let this_month = Holiday::ALL
        .into_iter()
        .filter(|holiday| holiday.month() == date.month())
        .map(|holiday| (holiday, year));
    // New Year's Day of next year is observed on December 31 when it is a Saturday.
    let next_new_year =
        (date.month() == 12 && date.day() == 31).then_some((Holiday::NewYearsDay, year + 1));
    this_month.chain(next_new_year).find_map(|(holiday, year)| {
        let on = holiday.date(year) == Some(date) || holiday.observed(year) == Some(date);
        on.then_some(holiday)
    })
}

fn last_weekday_of_may(year: i32) -> Option<NaiveDate> {
    let first_of_june = NaiveDate::from_ymd_opt(year, 6, 1)?;
    let back = (first_of_june.weekday().num_days_from_monday() + 6) % 7 + 1;
    first_of_june.checked_sub_days(chrono::Days::new(u64::from(back)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn floating_holidays_of_2026() {
        assert_eq!(
            Holiday::MartinLutherKingDay.date(2026),
            Some(day(2026, 1, 19))
        );
        assert_eq!(Holiday::PresidentsDay.date(2026), Some(day(2026, 2, 16)));
        assert_eq!(Holiday::MemorialDay.date(2026), Some(day(2026, 5, 25)));
        assert_eq!(Holiday::LaborDay.date(2026), Some(day(2026, 9, 7)));
        assert_eq!(Holiday::ColumbusDay.date(2026), Some(day(2026, 10, 12)));
        assert_eq!(Holiday::Thanksgiving.date(2026), Some(day(2026, 11, 26)));
        // Memorial Day when May 31 is itself a Monday.
        assert_eq!(Holiday::MemorialDay.date(2021), Some(day(2021, 5, 31)));
    }

    #[test]
    fn weekend_holidays_are_observed_on_the_nearest_weekday() {
        // July 4, 2026 is a Saturday; Christmas 2022 a Sunday; New Year 2022 a Saturday.
        assert_eq!(
            Holiday::IndependenceDay.observed(2026),
            Some(day(2026, 7, 3))
        );
        assert_eq!(Holiday::Christmas.observed(2022), Some(day(2022, 12, 26)));
        assert_eq!(
            federal_holiday_on(day(2021, 12, 31)),
            Some(Holiday::NewYearsDay)
        );
        assert_eq!(
            federal_holiday_on(day(2026, 7, 4)),
            Some(Holiday::IndependenceDay)
        );
        assert_eq!(
            federal_holiday_on(day(2026, 7, 3)),
            Some(Holiday::IndependenceDay)
        );
    }

    #[test]
    fn juneteenth_only_from_2021_and_ordinary_days_are_not_holidays() {
        assert_eq!(federal_holiday_on(day(2020, 6, 19)), None);
        assert_eq!(
            federal_holiday_on(day(2021, 6, 18)),
            Some(Holiday::Juneteenth)
        );
        assert_eq!(federal_holiday_on(day(2026, 3, 10)), None);
        assert_eq!(federal_holiday_on(day(2026, 12, 31)), None);
    }

    #[test]
    fn every_year_has_eleven_holidays_on_weekdays_when_observed() {
        for year in 2021..=2100 {
            for holiday in Holiday::ALL {
                let observed = holiday.observed(year).unwrap();
                assert!(observed.weekday().num_days_from_monday() < 5);
                assert_eq!(federal_holiday_on(observed), Some(holiday), "{year}");
            }
        }
    }
}
