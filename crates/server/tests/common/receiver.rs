//! A webhook endpoint on 127.0.0.1 for delivery tests. It checks every delivery with
//! the Standard Webhooks reference verifier (the `standardwebhooks` crate) against each
//! secret it was told to trust, keeps what arrived, and answers as the test planned: an
//! acceptance, a status, a status with `Retry-After`, or no answer at all. Tests await
//! its arrivals ([`Receiver::until`]) instead of polling it.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::waits::within;

/// How the receiver answers one delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// 200 with a short body.
    Accept,
    /// This status with a short body.
    Status(u16),
    /// This status, asking to wait this many seconds (`Retry-After`).
    RetryAfter(u16, u64),
    /// Never answers: a hanging endpoint.
    Hang,
}

/// One delivery as it arrived.
#[derive(Debug, Clone)]
pub struct Arrival {
    pub webhook_id: String,
    pub timestamp: i64,
    /// The `v1,…` signatures of `webhook-signature`.
    pub signatures: Vec<String>,
    pub content_type: String,
    pub body: Vec<u8>,
    /// The trusted secrets (by the index [`Receiver::trust`] gave) with which the
    /// reference verifier accepted the delivery.
    pub verified_by: Vec<usize>,
}

struct Shared {
    secrets: Mutex<Vec<String>>,
    plan: Mutex<VecDeque<Reply>>,
    otherwise: Reply,
    arrivals: Mutex<Vec<Arrival>>,
    /// Deliveries received in all, published on each arrival.
    count: watch::Sender<usize>,
    /// Deliveries being held without an answer now.
    hanging: AtomicUsize,
}

/// A webhook endpoint on a loopback port, stopped when dropped.
pub struct Receiver {
    /// The URL to register as the endpoint's.
    pub url: String,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    /// Starts a receiver answering every delivery with `otherwise`, unless planned.
    pub async fn start(otherwise: Reply) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free loopback port");
        let url = format!("http://{}/hooks", listener.local_addr().expect("bound"));
        let shared = Arc::new(Shared {
            secrets: Mutex::new(Vec::new()),
            plan: Mutex::new(VecDeque::new()),
            otherwise,
            arrivals: Mutex::new(Vec::new()),
            count: watch::channel(0).0,
            hanging: AtomicUsize::new(0),
        });
        let app = Router::new()
            .route("/hooks", post(receive))
            .with_state(shared.clone());
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .await
                .expect("the receiver serves");
        });
        Self { url, shared, task }
    }

    /// The next deliveries get these answers, in order; later ones the default.
    pub fn plan(&self, replies: impl IntoIterator<Item = Reply>) {
        self.shared.plan.lock().unwrap().extend(replies);
    }

    /// Verifies deliveries with `secret` (`whsec_…`) too; returns its index for
    /// [`Arrival::verified_by`].
    pub fn trust(&self, secret: &str) -> usize {
        let mut secrets = self.shared.secrets.lock().unwrap();
        secrets.push(secret.to_owned());
        secrets.len() - 1
    }

    /// Every delivery so far, in arrival order.
    pub fn arrivals(&self) -> Vec<Arrival> {
        self.shared.arrivals.lock().unwrap().clone()
    }

    pub fn count(&self) -> usize {
        *self.shared.count.borrow()
    }

    /// Deliveries held without an answer now.
    pub fn hanging(&self) -> usize {
        self.shared.hanging.load(Ordering::SeqCst)
    }

    /// Changes on every arrival, to wake a wait on several sources.
    pub fn changes(&self) -> watch::Receiver<usize> {
        self.shared.count.subscribe()
    }

    /// Returns once `seen` holds of the arrivals, looking again at each arrival; fails
    /// naming `what` after `limit`.
    pub async fn until(&self, what: &str, limit: Duration, seen: impl Fn(&[Arrival]) -> bool) {
        let mut changes = self.changes();
        within(limit, what, async {
            loop {
                changes.mark_unchanged();
                if seen(&self.arrivals()) {
                    return;
                }
                changes.changed().await.expect("the receiver lives");
            }
        })
        .await
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Counts a held delivery until its connection goes away.
struct Hanging<'a>(&'a AtomicUsize);

impl Drop for Hanging<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn receive(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let secrets = shared.secrets.lock().unwrap().clone();
    let verified_by = secrets
        .iter()
        .enumerate()
        .filter(|(_, secret)| {
            standardwebhooks::Webhook::new(secret)
                .expect("a trusted secret is whsec_ and base64")
                .verify(&body, &headers)
                .is_ok()
        })
        .map(|(index, _)| index)
        .collect();
    let arrival = Arrival {
        webhook_id: header("webhook-id"),
        timestamp: header("webhook-timestamp").parse().unwrap_or(0),
        signatures: header("webhook-signature")
            .split(' ')
            .filter(|part| !part.is_empty())
            .map(str::to_owned)
            .collect(),
        content_type: header("content-type"),
        body: body.to_vec(),
        verified_by,
    };
    let reply = shared
        .plan
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or(shared.otherwise);
    if reply == Reply::Hang {
        shared.hanging.fetch_add(1, Ordering::SeqCst);
    }
    shared.arrivals.lock().unwrap().push(arrival);
    shared.count.send_modify(|count| *count += 1);
    match reply {
        Reply::Accept => (StatusCode::OK, "received").into_response(),
        Reply::Status(code) => (status(code), "refused by the test").into_response(),
        Reply::RetryAfter(code, seconds) => (
            status(code),
            [("retry-after", seconds.to_string())],
            "come back later",
        )
            .into_response(),
        Reply::Hang => {
            let _held = Hanging(&shared.hanging);
            std::future::pending::<Response>().await
        }
    }
}

fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).expect("a valid status")
}
