//! Console logins from the command line, on both stores: the first start creates an
//! admin with a one-time password, `leadline user create` invites more people, and
//! `leadline user set-password` sets a password read from stdin.

mod common;

use std::process::Stdio;

use common::console::log_in;
use common::process::{BIN, ServerProcess};
use leadline_store::BackendKind;
use leadline_store::testing::TestDatabase;
use serde_json::Value;
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

async fn cli(args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("leadline runs");
    let mut input = child.stdin.take().expect("stdin");
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).await.expect("written");
    }
    drop(input);
    let output = child.wait_with_output().await.expect("it ends");
    (
        output.status.success(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

async fn logins_from_the_command_line(kind: BackendKind) {
    let Some(database) = TestDatabase::create(kind).await else {
        return;
    };
    let mut command = ServerProcess::command(&database.url);
    command
        .args(["--admin-email", "owner@example.com"])
        .env("LEADLINE_SECRET_KEY_FILE", &database.key_file);
    let mut server = ServerProcess::spawn(&mut command, &[]);
    let base = server.ready().await;
    let first: Value = server.first_start().await.expect("the first start prints");
    let console = &first["console"];
    assert_eq!(
        console["url"].as_str(),
        Some(format!("{base}/console").as_str())
    );
    assert_eq!(console["email"], "owner@example.com");
    let one_time = console["oneTimePassword"].as_str().unwrap();
    let admin = log_in(&base, "owner@example.com", one_time)
        .await
        .expect("the admin logs in");
    assert_eq!(
        admin.get("/console").await.location.as_deref(),
        Some("/console/password"),
        "a one-time password is replaced first"
    );

    let workspace = first["workspaceId"].as_str().unwrap();
    let url = database.url.as_str();
    let (ok, stdout, stderr) = cli(
        &[
            "user",
            "create",
            "--workspace",
            workspace,
            "--email",
            "ana@example.com",
            "--role",
            "advisor",
            "--database-url",
            url,
        ],
        None,
    )
    .await;
    assert!(ok, "{stderr}");
    let created: Value = serde_json::from_str(stdout.trim()).expect("one JSON object");
    assert_eq!(created["role"], "ADVISOR");
    let password = created["oneTimePassword"].as_str().unwrap();
    assert!(log_in(&base, "ana@example.com", password).await.is_ok());

    // The same email again, in this workspace: refused, naming the field.
    let (ok, _, stderr) = cli(
        &[
            "user",
            "create",
            "--workspace",
            workspace,
            "--email",
            "ana@example.com",
            "--role",
            "admin",
            "--database-url",
            url,
        ],
        None,
    )
    .await;
    assert!(!ok && stderr.contains("email:"), "{stderr}");

    let (ok, stdout, stderr) = cli(
        &[
            "user",
            "set-password",
            "--email",
            "ana@example.com",
            "--database-url",
            url,
        ],
        Some("her own long password\n"),
    )
    .await;
    assert!(ok, "{stderr}");
    let set: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert!(
        set["sessionsEnded"].as_u64().unwrap() >= 1,
        "her session ended: {set}"
    );
    assert!(log_in(&base, "ana@example.com", password).await.is_err());
    let ana = log_in(&base, "ana@example.com", "her own long password")
        .await
        .expect("logs in");
    assert_eq!(
        ana.get("/console").await.location.as_deref(),
        Some("/console/inbox")
    );

    let (ok, _, stderr) = cli(
        &[
            "user",
            "set-password",
            "--email",
            "ana@example.com",
            "--database-url",
            url,
        ],
        Some("short\n"),
    )
    .await;
    assert!(!ok && stderr.contains("at least 10 characters"), "{stderr}");
    let (ok, _, stderr) = cli(
        &[
            "user",
            "set-password",
            "--email",
            "nobody@example.com",
            "--database-url",
            url,
        ],
        Some("a long enough one\n"),
    )
    .await;
    assert!(!ok && stderr.contains("user create"), "{stderr}");
    server.kill().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logins_from_the_command_line_on_sqlite() {
    logins_from_the_command_line(BackendKind::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logins_from_the_command_line_on_postgres() {
    logins_from_the_command_line(BackendKind::Postgres).await;
}
