//! A new number's ramp: day one of its warm-up may send the ramp's first cap, day two
//! the second, and so on, until the steady cap. Days are calendar days in the
//! workspace's zone, counted from the day the number first sent (or the start date a
//! person gave it, for a number that was warmed up elsewhere).

use chrono::NaiveDate;

use super::settings::NumberPoolSettings;

/// Where a number stands in its warm-up today.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Warmup {
    pub started_on: Option<NaiveDate>,
    /// 1 on the first day of the warm-up; 0 before it started.
    pub day: u32,
    /// The ramp step in force (0-based); equals `stages` once the ramp is over.
    pub stage: u32,
    /// Steps in the ramp.
    pub stages: u32,
    /// Today's SMS cap.
    pub daily_cap: u32,
}

impl Warmup {
    pub fn started(&self) -> bool {
        self.started_on.is_some()
    }

    /// The ramp is over and the steady cap applies.
    pub fn complete(&self) -> bool {
        self.started() && self.stage >= self.stages
    }

    /// How far through the ramp the number is, from 0.0 to 1.0.
    pub fn progress(&self) -> f64 {
        if self.stages == 0 {
            return 1.0;
        }
        f64::from(self.stage.min(self.stages)) / f64::from(self.stages)
    }
}

/// The warm-up of a number that started on `started_on` (`None`: not yet), as of
/// `today`. A start date in the future counts as not started.
pub fn warmup(
    started_on: Option<NaiveDate>,
    today: NaiveDate,
    settings: &NumberPoolSettings,
) -> Warmup {
    let ramp = &settings.warmup_ramp;
    let stages = ramp.len() as u32;
    let started_on = started_on.filter(|start| *start <= today);
    let day = match started_on {
        Some(start) => u32::try_from((today - start).num_days() + 1).unwrap_or(u32::MAX),
        None => 0,
    };
    let stage = day.saturating_sub(1).min(stages);
    let daily_cap = ramp
        .get(stage as usize)
        .copied()
        .unwrap_or(settings.steady_daily_cap);
    Warmup {
        started_on,
        day,
        stage,
        stages,
        daily_cap,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, day).unwrap()
    }

    #[test]
    fn a_number_climbs_the_default_ramp_one_step_a_day() {
        let settings = NumberPoolSettings::default();
        let caps: Vec<u32> = (1..=9)
            .map(|day| warmup(Some(date(1)), date(day), &settings).daily_cap)
            .collect();
        assert_eq!(caps, [100, 250, 500, 750, 1500, 2250, 3000, 3000, 3000]);
        let eighth = warmup(Some(date(1)), date(8), &settings);
        assert!(eighth.complete());
        assert_eq!((eighth.day, eighth.stage, eighth.progress()), (8, 7, 1.0));
    }

    #[test]
    fn before_the_first_send_it_has_the_first_days_cap() {
        let settings = NumberPoolSettings::default();
        let fresh = warmup(None, date(5), &settings);
        assert!(!fresh.started());
        assert_eq!((fresh.day, fresh.stage, fresh.daily_cap), (0, 0, 100));
        assert_eq!(warmup(Some(date(9)), date(5), &settings), fresh);
    }

    #[test]
    fn an_empty_ramp_means_the_steady_cap_at_once() {
        let settings = NumberPoolSettings {
            warmup_ramp: Vec::new(),
            steady_daily_cap: 700,
            ..NumberPoolSettings::default()
        };
        let today = warmup(Some(date(3)), date(3), &settings);
        assert_eq!(today.daily_cap, 700);
        assert!(today.complete());
    }
}
