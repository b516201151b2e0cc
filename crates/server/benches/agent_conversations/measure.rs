//! What the agent benchmark measures with: a clock pinned to a US weekday morning plus
//! the real time elapsed, a metrics recorder that keeps every pass-time sample, and the
//! percentiles and CPU time it prints.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, SubsecRound, TimeZone, Utc};
use leadline_core::Clock;
use leadline_store::BackendKind;
use metrics::{
    Counter, Gauge, Histogram, HistogramFn, Key, KeyName, Metadata, Recorder, SharedString, Unit,
};

use super::PASS_METRIC;
// ---------------------------------------------------------------------------------------
// The clock: a Monday, 10:00 in California (the leads' 415 numbers), plus real time.

#[derive(Debug)]
pub(crate) struct DaytimeClock {
    base: DateTime<Utc>,
    started: Instant,
}

impl DaytimeClock {
    pub(crate) fn new() -> Self {
        Self {
            // Monday 2026-11-23, 10:00 PST / 13:00 EST.
            base: Utc
                .with_ymd_and_hms(2026, 11, 23, 18, 0, 0)
                .single()
                .expect("a valid instant"),
            started: Instant::now(),
        }
    }
}

impl Clock for DaytimeClock {
    fn now(&self) -> DateTime<Utc> {
        let elapsed = chrono::Duration::from_std(self.started.elapsed()).unwrap_or_default();
        (self.base + elapsed).trunc_subsecs(6)
    }
}

// ---------------------------------------------------------------------------------------
// A metrics recorder that keeps every pass-time sample with its `end` label.

pub(crate) static PASS_SAMPLES: Mutex<Vec<(String, f64)>> = Mutex::new(Vec::new());

pub(crate) struct PassRecorder;

pub(crate) struct PassHistogram {
    end: String,
}

impl HistogramFn for PassHistogram {
    fn record(&self, value: f64) {
        PASS_SAMPLES
            .lock()
            .expect("samples lock")
            .push((self.end.clone(), value));
    }
}

impl Recorder for PassRecorder {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn register_counter(&self, _: &Key, _: &Metadata<'_>) -> Counter {
        Counter::noop()
    }
    fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::noop()
    }
    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        if key.name() != PASS_METRIC {
            return Histogram::noop();
        }
        let end = key
            .labels()
            .find(|label| label.key() == "end")
            .map_or_else(|| "?".to_owned(), |label| label.value().to_owned());
        Histogram::from_arc(Arc::new(PassHistogram { end }))
    }
}

/// Takes the samples recorded so far.
pub(crate) fn take_pass_samples() -> Vec<(String, f64)> {
    std::mem::take(&mut *PASS_SAMPLES.lock().expect("samples lock"))
}

pub(crate) fn print_pass_times(kind: BackendKind, phase: &str, samples: &[(String, f64)]) {
    if samples.is_empty() {
        println!("{kind:?}: agent pass own time ({phase}): no pass recorded");
        return;
    }
    let mut by_end: BTreeMap<&str, Vec<Duration>> = BTreeMap::new();
    let mut all = Vec::with_capacity(samples.len());
    for (end, seconds) in samples {
        let duration = Duration::from_secs_f64(*seconds);
        all.push(duration);
        by_end.entry(end.as_str()).or_default().push(duration);
    }
    println!(
        "{kind:?}: agent pass own time ({phase}), {} passes: {}",
        all.len(),
        spread(&mut all)
    );
    for (end, mut durations) in by_end {
        println!(
            "{kind:?}:   end={end}: {} passes: {}",
            durations.len(),
            spread(&mut durations)
        );
    }
}

/// The median pass against the 5 ms bar.
pub(crate) fn print_verdict(kind: BackendKind, phase: &str, samples: &[(String, f64)]) {
    let mut passes: Vec<Duration> = samples
        .iter()
        .map(|(_, seconds)| Duration::from_secs_f64(*seconds))
        .collect();
    if passes.is_empty() {
        return;
    }
    passes.sort();
    let median = percentile(&passes, 0.5);
    let verdict = if median < Duration::from_millis(5) {
        "under"
    } else {
        "OVER"
    };
    println!(
        "{kind:?}: pass median {phase}: {:.2} ms ({verdict} the 5 ms bar)",
        ms(median)
    );
}

/// "median x ms, p90 y ms, p99 z ms, max w ms".
pub(crate) fn spread(durations: &mut [Duration]) -> String {
    durations.sort();
    format!(
        "median {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        ms(percentile(durations, 0.50)),
        ms(percentile(durations, 0.90)),
        ms(percentile(durations, 0.99)),
        ms(*durations.last().expect("not empty"))
    )
}

/// The nearest-rank percentile of sorted durations.
pub(crate) fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// CPU time (user + system) of this process so far, from /proc (Linux only).
pub(crate) fn process_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // USER_HZ is 100 on every Linux this runs on.
    Some(Duration::from_millis(ticks * 10))
}

pub(crate) fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
