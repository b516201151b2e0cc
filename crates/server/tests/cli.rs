//! The `leadline` binary as a user runs it: first start prints a workspace and key once,
//! CLI commands work beside a running server, logs can be JSON, SIGTERM stops cleanly.

mod common;

use std::time::Duration;

use common::process::{BIN, START_LIMIT, ServerProcess};
use common::waits::within;
use leadline_store::BackendKind;
use leadline_store::testing::TestDatabase;
use serde_json::Value;
use tokio::process::Command;

struct Server {
    process: ServerProcess,
    base: String,
    /// The JSON printed on stdout at start, if any.
    first_start: Option<Value>,
}

/// Starts `leadline serve` on `database` and waits until it logs that it serves.
async fn start_server(database: &TestDatabase, extra: &[&str]) -> Server {
    let mut command = ServerProcess::command(&database.url);
    command
        .args(extra)
        .env("LEADLINE_SECRET_KEY_FILE", &database.key_file);
    let process = ServerProcess::spawn(&mut command, &[]);
    let base = process.ready().await;
    let first_start = process.first_start().await;
    Server {
        process,
        base,
        first_start,
    }
}

/// Everything the server printed on stdout, once it has exited.
async fn printed(server: &Server) -> Vec<String> {
    within(
        START_LIMIT,
        "the stopped server's stdout ends",
        server.process.stdout.to_end(),
    )
    .await
}

async fn run_cli(args: &[&str]) -> (bool, String, String) {
    let output = Command::new(BIN)
        .args(args)
        .output()
        .await
        .expect("leadline runs");
    (
        output.status.success(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

async fn status_with_key(base: &str, key: &str) -> u16 {
    reqwest::Client::new()
        .get(format!("{base}/api/v1/users"))
        .header("x-api-key", key)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn first_start_then_cli_beside_the_server(kind: BackendKind) {
    let Some(database) = TestDatabase::create(kind).await else {
        return;
    };
    let mut server = start_server(&database, &[]).await;
    let first = server
        .first_start
        .take()
        .expect("the first start prints a workspace and key");
    let key = first["apiKey"].as_str().unwrap();
    let workspace = first["workspaceId"].as_str().unwrap();
    assert_eq!(status_with_key(&server.base, key).await, 200);

    let (ok, stdout, stderr) = run_cli(&[
        "workspace",
        "create",
        "--name",
        "Second",
        "--database-url",
        &database.url,
    ])
    .await;
    assert!(ok, "{stderr}");
    let created: Value = serde_json::from_str(stdout.trim()).expect("exactly one JSON object");
    assert_eq!(stdout.trim().lines().count(), 1);
    assert_eq!(created.as_object().unwrap().len(), 2);
    assert_ne!(created["workspaceId"].as_str().unwrap(), workspace);
    assert_eq!(
        status_with_key(&server.base, created["apiKey"].as_str().unwrap()).await,
        200
    );

    let (ok, stdout, stderr) = run_cli(&[
        "apikey",
        "create",
        "--workspace",
        workspace,
        "--database-url",
        &database.url,
    ])
    .await;
    assert!(ok, "{stderr}");
    let another: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(another["workspaceId"].as_str(), Some(workspace));
    assert_eq!(
        status_with_key(&server.base, another["apiKey"].as_str().unwrap()).await,
        200
    );

    let unknown = uuid::Uuid::now_v7().to_string();
    let (ok, stdout, stderr) = run_cli(&[
        "apikey",
        "create",
        "--workspace",
        &unknown,
        "--database-url",
        &database.url,
    ])
    .await;
    assert!(!ok && stdout.is_empty(), "an unknown workspace fails");
    assert!(stderr.contains("no workspace"), "{stderr}");

    // SIGTERM: a graceful stop with exit code 0.
    let status = within(
        Duration::from_secs(10),
        "the server stops on SIGTERM",
        server.process.terminate(),
    )
    .await;
    assert!(status.success(), "graceful shutdown exits 0, got {status}");
    assert_eq!(
        printed(&server).await.len(),
        1,
        "the workspace and key are all the server prints on stdout"
    );

    // A second start on the same database creates nothing and prints nothing.
    let mut again = start_server(&database, &[]).await;
    assert!(
        again.first_start.is_none(),
        "the key is printed only on the first start"
    );
    assert_eq!(status_with_key(&again.base, key).await, 200);
    again.process.kill().await;
    assert_eq!(
        printed(&again).await,
        Vec::<String>::new(),
        "the key is printed only on the first start"
    );
}

#[tokio::test]
async fn first_start_and_cli_on_sqlite() {
    first_start_then_cli_beside_the_server(BackendKind::Sqlite).await;
}

#[tokio::test]
async fn first_start_and_cli_on_postgres() {
    first_start_then_cli_beside_the_server(BackendKind::Postgres).await;
}

#[tokio::test]
async fn json_logs_and_clear_cli_errors() {
    let database = TestDatabase::create(BackendKind::Sqlite).await.unwrap();
    let mut server = start_server(&database, &["--log-format", "json"]).await;
    server.process.kill().await;
    let stderr = within(
        START_LIMIT,
        "the killed server's stderr ends",
        server.process.stderr.to_end(),
    )
    .await;
    let lines: Vec<&str> = stderr
        .iter()
        .map(String::as_str)
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert!(!lines.is_empty(), "the server logged its start");
    for line in lines {
        let entry: Value =
            serde_json::from_str(line).unwrap_or_else(|_| panic!("not a JSON log line: {line}"));
        assert!(
            entry["level"].is_string() && entry["timestamp"].is_string(),
            "{line}"
        );
    }

    let (ok, _, stderr) = run_cli(&[
        "apikey",
        "create",
        "--workspace",
        "nope",
        "--database-url",
        &database.url,
    ])
    .await;
    assert!(!ok && stderr.contains("is not a workspace id"), "{stderr}");
    let (ok, _, stderr) = run_cli(&["migrate", "--database-url", "mysql://x"]).await;
    assert!(!ok && stderr.contains("sqlite://"), "{stderr}");
}
