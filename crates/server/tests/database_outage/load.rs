//! The load of the outage test: what each answer was and in which phase of the outage
//! it was asked and answered, and waits on the answers (each answer is an event, so
//! nothing polls or sleeps).

use std::sync::Mutex;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::common::waits::within;

pub const BEFORE: u8 = 0;
pub const DURING: u8 = 1;
pub const AFTER: u8 = 2;

/// One answer the server gave, and the phase of the outage around it.
pub struct Answer {
    pub path: String,
    /// The phase when the request was sent and when it was answered.
    pub phases: (u8, u8),
    pub status: u16,
    pub retry_after: Option<String>,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    pub fn during_the_cut(&self) -> bool {
        self.phases == (DURING, DURING)
    }
}

/// Everything the clients saw, and whether they should keep going.
#[derive(Default)]
pub struct Load {
    pub phase: AtomicU8,
    pub stop: CancellationToken,
    pub sent: AtomicUsize,
    pub answers: Mutex<Vec<Answer>>,
    /// How many replies and probes were answered, changed on each answer: what the
    /// waits and the probe's pace follow.
    answered: watch::Sender<Answered>,
}

#[derive(Debug, Default, Clone, Copy)]
struct Answered {
    replies: usize,
    probes: usize,
}

impl Load {
    pub async fn send(&self, request: reqwest::RequestBuilder, path: &str) {
        let before = self.phase.load(Ordering::SeqCst);
        let response = request
            .timeout(Duration::from_secs(15))
            .send()
            .await
            .unwrap_or_else(|error| panic!("{path} got no answer: {error}"));
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response.text().await.expect("a body");
        let answer = Answer {
            path: path.to_owned(),
            phases: (before, self.phase.load(Ordering::SeqCst)),
            status,
            retry_after,
            body,
        };
        let probe = answer.path == "/readyz";
        self.answers.lock().unwrap().push(answer);
        self.answered.send_modify(|answered| match probe {
            true => answered.probes += 1,
            false => answered.replies += 1,
        });
    }

    /// Waits (up to `limit`) until the answers so far show `what`, looking again after
    /// each answer.
    pub async fn until(&self, what: &str, limit: Duration, seen: impl Fn(&[Answer]) -> bool) {
        let mut answered = self.answered.subscribe();
        within(limit, what, async {
            loop {
                answered.mark_unchanged();
                if seen(&self.answers.lock().unwrap()) {
                    return;
                }
                answered.changed().await.expect("the load keeps its sender");
            }
        })
        .await;
    }

    /// Waits (up to `limit`) until `count` replies sent in `phase` were accepted.
    pub async fn until_replies_are_accepted_in(&self, phase: u8, count: usize, limit: Duration) {
        self.until(
            &format!("{count} replies sent in phase {phase} are accepted"),
            limit,
            |answers| {
                answers
                    .iter()
                    .filter(|a| a.path != "/readyz" && a.phases.0 == phase && a.status == 202)
                    .count()
                    >= count
            },
        )
        .await;
    }

    /// Returns once a reply was answered after the `seen`th, or the load stops.
    pub async fn next_reply(&self, seen: usize) -> Option<usize> {
        let mut answered = self.answered.subscribe();
        tokio::select! {
            now = answered.wait_for(|answered| answered.replies > seen) => {
                Some(now.expect("the load keeps its sender").replies)
            }
            _ = self.stop.cancelled() => None,
        }
    }
}
