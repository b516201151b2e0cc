//! The black-box test harness: a real server on port 0 over a fresh database, spoken to
//! over HTTP with reqwest. `both_stores!` turns one async test body into a SQLite test
//! and a PostgreSQL test, so every behaviour is checked on both.
#![allow(dead_code)]

pub mod agent;
pub mod agent_steps;
pub mod console;
pub mod dispatch_steps;
pub mod event_log;
pub mod events;
pub mod fault_proxy;
pub mod idempotency;
pub mod inbox;
pub mod messaging;
pub mod process;
pub mod receiver;
pub mod waits;

use std::sync::Arc;

use leadline_core::SystemClock;
use leadline_server::serve::{RunningServer, ServerOptions, start_with};
pub use leadline_server::testing::loopback_gateways;
use leadline_store::testing::TestDatabase;
use leadline_store::{BackendKind, Store};
use reqwest::{Method, RequestBuilder, Response};
use serde_json::Value;

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub workspace_id: String,
    pub api_key: String,
    pub store: Store,
    server: Option<RunningServer>,
    pub database: TestDatabase,
}

impl TestApp {
    /// Starts a server over a fresh database of `kind` with one workspace and key;
    /// `None` when that backend is not available here (see `TestDatabase`).
    pub async fn spawn(kind: BackendKind) -> Option<Self> {
        Self::spawn_with(kind, Arc::new(SystemClock), ServerOptions::default()).await
    }

    /// Like [`TestApp::spawn`], with the store's clock and the server's options chosen
    /// (a `ManualClock` and no background workers for simulated-time tests).
    pub async fn spawn_with(
        kind: BackendKind,
        clock: Arc<dyn leadline_core::Clock>,
        options: ServerOptions,
    ) -> Option<Self> {
        let database = TestDatabase::create(kind).await?;
        let url = database.url.clone();
        Some(Self::start(database, &url, clock, options).await)
    }

    /// Like [`TestApp::spawn_with`], with exactly `options`: the outbound guard's
    /// suite starts servers that do not allow the loopback gateways.
    pub async fn spawn_exact(
        kind: BackendKind,
        clock: Arc<dyn leadline_core::Clock>,
        options: ServerOptions,
    ) -> Option<Self> {
        let database = TestDatabase::create(kind).await?;
        let url = database.url.clone();
        Some(Self::start_exact(database, &url, clock, options).await)
    }

    /// Starts a server over `database` reached at `url`: its own URL, or that of a
    /// proxy in front of it (see [`fault_proxy`]). The server may call
    /// [`loopback_gateways`] besides what `options` allow.
    pub async fn start(
        database: TestDatabase,
        url: &str,
        clock: Arc<dyn leadline_core::Clock>,
        mut options: ServerOptions,
    ) -> Self {
        options.outbound.allow.extend(loopback_gateways().allow);
        Self::start_exact(database, url, clock, options).await
    }

    /// [`TestApp::start`] with exactly `options`.
    pub async fn start_exact(
        database: TestDatabase,
        url: &str,
        clock: Arc<dyn leadline_core::Clock>,
        options: ServerOptions,
    ) -> Self {
        let store = Store::open(url, database.store_options(), clock)
            .await
            .expect("the test store opens");
        Self::serve(database, store, options).await
    }

    /// Starts a server over `store`, which the caller opened on `database` (with the
    /// secret keys it wants), with one workspace and key.
    pub async fn serve(database: TestDatabase, store: Store, options: ServerOptions) -> Self {
        let (workspace, key) = store
            .create_workspace("Test workspace")
            .await
            .expect("a workspace");
        let server = start_with(store.clone(), "127.0.0.1:0", options)
            .await
            .expect("the server starts");
        Self {
            base: format!("http://{}", server.address),
            client: reqwest::Client::new(),
            workspace_id: workspace.id.to_string(),
            api_key: key.expose().to_owned(),
            store,
            server: Some(server),
            database,
        }
    }

    /// A request with this app's API key.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.base))
            .header("x-api-key", &self.api_key)
    }

    /// A request without any key.
    pub fn anonymous(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, format!("{}{path}", self.base))
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        read(
            self.request(Method::POST, path)
                .json(&body)
                .send()
                .await
                .expect("the request is sent"),
        )
        .await
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        read(
            self.request(Method::GET, path)
                .send()
                .await
                .expect("the request is sent"),
        )
        .await
    }

    /// The Bridge contact upsert path of this app's workspace.
    pub fn contacts_path(&self) -> String {
        format!(
            "/bridge/api/v1/workspaces/{}/contacts/partial",
            self.workspace_id
        )
    }

    pub async fn upsert_contact(&self, body: Value) -> (u16, Value) {
        self.post(&self.contacts_path(), body).await
    }

    /// The contact with this id as GET shows it (the id as a response holds it).
    pub async fn fetch_contact(&self, id: &Value) -> Value {
        let (status, contact) = self
            .get(&format!("/api/v1/contacts/{}", id.as_str().unwrap()))
            .await;
        assert_eq!(status, 200, "{contact}");
        contact
    }

    /// A second workspace and its key in the same database.
    pub async fn other_workspace(&self) -> (String, String) {
        let (workspace, key) = self
            .store
            .create_workspace("Other")
            .await
            .expect("a workspace");
        (workspace.id.to_string(), key.expose().to_owned())
    }

    /// The server's API key cache, whose counters show what it read from the store.
    pub fn key_cache(&self) -> &leadline_server::auth::KeyCache {
        &self.server.as_ref().expect("the server runs").keys
    }

    /// Stops the server — its workers finish what they are doing and record it — and
    /// keeps the store open, to read what they left.
    pub async fn stop_server(&mut self) {
        if let Some(server) = self.server.take() {
            server.stop().await.expect("the server stops cleanly");
        }
    }

    pub async fn stop(mut self) {
        if let Some(server) = self.server.take() {
            server.stop().await.expect("the server stops cleanly");
        }
        self.store.close().await;
    }
}

/// Status and JSON body (Value::Null when the body is not JSON).
pub async fn read(response: Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.expect("a body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// The field names listed by a problem document.
pub fn problem_fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| e["field"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Defines `NAME::sqlite` and `NAME::postgres` tests that call `RUN(kind)` (by default
/// the function `NAME` itself), for tests that start their own app on each store.
#[macro_export]
macro_rules! on_both_stores {
    ($name:ident) => {
        $crate::on_both_stores!($name, $name);
    };
    ($name:ident, $run:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$run(leadline_store::BackendKind::Sqlite).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$run(leadline_store::BackendKind::Postgres).await;
            }
        }
    };
}

/// Defines `NAME::sqlite` and `NAME::postgres` tests running the same body against a
/// fresh app on each store.
#[macro_export]
macro_rules! both_stores {
    ($name:ident, |$app:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run($app: &$crate::common::TestApp) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = $crate::common::TestApp::spawn(leadline_store::BackendKind::Sqlite).await.expect("SQLite is always available");
                run(&app).await;
                app.stop().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(app) = $crate::common::TestApp::spawn(leadline_store::BackendKind::Postgres).await else { return };
                run(&app).await;
                app.stop().await;
            }
        }
    };
    // The same, with the server started with `$options` (a `ServerOptions`), e.g. without
    // the dispatcher so a test can hold sends where it wants them.
    ($name:ident, $options:expr, |$app:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run($app: &$crate::common::TestApp) $body

            async fn spawn(kind: leadline_store::BackendKind) -> Option<$crate::common::TestApp> {
                let clock = std::sync::Arc::new(leadline_core::SystemClock);
                $crate::common::TestApp::spawn_with(kind, clock, $options).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = spawn(leadline_store::BackendKind::Sqlite).await.expect("SQLite is always available");
                run(&app).await;
                app.stop().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(app) = spawn(leadline_store::BackendKind::Postgres).await else { return };
                run(&app).await;
                app.stop().await;
            }
        }
    };
}

// Helpers shared by the black-box suites.

impl TestApp {
    /// Sends a request and returns status, content type and JSON body.
    pub async fn send(&self, request: RequestBuilder) -> (u16, String, Value) {
        read_typed(request.send().await.expect("the request is sent")).await
    }

    /// Creates a user and returns it; panics unless the answer is 201.
    pub async fn create_user(&self, email: &str) -> Value {
        let (status, user) = self
            .post("/api/v1/users", serde_json::json!({"email": email}))
            .await;
        assert_eq!(status, 201, "creating user {email}: {user}");
        user
    }

    /// Creates a custom attribute and returns it; panics unless the answer is 201.
    pub async fn create_attribute(&self, body: Value) -> Value {
        let (status, attribute) = self.post("/api/v1/custom-attributes", body.clone()).await;
        assert_eq!(status, 201, "creating attribute {body}: {attribute}");
        attribute
    }

    /// A GET of `path` with another workspace's key.
    pub async fn get_as(&self, key: &str, path: &str) -> (u16, Value) {
        read(
            self.anonymous(Method::GET, path)
                .header("x-api-key", key)
                .send()
                .await
                .expect("the request is sent"),
        )
        .await
    }

    /// A POST of `body` to `path` with another workspace's key.
    pub async fn post_as(&self, key: &str, path: &str, body: Value) -> (u16, Value) {
        read(
            self.anonymous(Method::POST, path)
                .header("x-api-key", key)
                .json(&body)
                .send()
                .await
                .expect("the request is sent"),
        )
        .await
    }
}

/// Status, content type and JSON body (Value::Null when the body is not JSON).
pub async fn read_typed(response: Response) -> (u16, String, Value) {
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let (status, body) = read(response).await;
    (status, content_type, body)
}

/// Asserts a problem document of `status` served as `application/problem+json`.
pub fn assert_problem(status: u16, content_type: &str, body: &Value, expected: u16) {
    assert_eq!(status, expected, "{body}");
    assert_eq!(content_type, "application/problem+json", "{body}");
    assert_eq!(body["status"], expected, "{body}");
    assert!(
        body["type"].is_string() && body["title"].is_string(),
        "{body}"
    );
    assert!(body["detail"].is_string(), "{body}");
}

/// Asserts a 422 problem naming `field`.
pub fn assert_invalid(status: u16, body: &Value, field: &str) {
    assert_eq!(status, 422, "expected 422 naming {field}: {body}");
    let fields = problem_fields(body);
    assert!(
        fields.iter().any(|f| f == field),
        "expected {field} among {fields:?}: {body}"
    );
}
