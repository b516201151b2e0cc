//! `leadline serve` reads the allow-list from `--allow-outbound` and from
//! `LEADLINE_ALLOW_OUTBOUND`, and allows nothing more without them.

use std::process::Stdio;

use leadline_store::testing::TestDatabase;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use super::*;

const BIN: &str = env!("CARGO_BIN_EXE_leadline");

/// Starts the binary on a fresh database; its URL, its first API key and the child.
async fn serve(
    database: &TestDatabase,
    args: &[&str],
    env: Option<&str>,
) -> (String, String, Child) {
    let url = database.url.as_str();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut command = Command::new(BIN);
    command
        .args([
            "serve",
            "--database-url",
            url,
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .args(args)
        .env_remove("LEADLINE_ALLOW_OUTBOUND")
        .env_remove("LEADLINE_SECRET_KEY")
        .env("LEADLINE_SECRET_KEY_FILE", &database.key_file)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    if let Some(value) = env {
        command.env("LEADLINE_ALLOW_OUTBOUND", value);
    }
    let mut child = command.spawn().expect("leadline starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
        .await
        .expect("the first start prints its key")
        .unwrap()
        .expect("a line on stdout");
    let first: Value = serde_json::from_str(&first).unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let started = Instant::now();
    while client.get(format!("{base}/healthz")).send().await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the server never answered"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (base, first["apiKey"].as_str().unwrap().to_owned(), child)
}

async fn create_channel(base: &str, key: &str, url: &str) -> u16 {
    reqwest::Client::new()
        .post(format!("{base}/api/v1/channels"))
        .header("x-api-key", key)
        .json(&channel_body("kannel", url))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn the_allow_list_comes_from_the_flag_or_the_environment(kind: BackendKind) {
    let kannel = "http://127.0.0.1:13013/cgi-bin/sendsms";
    let private = "http://10.1.2.3:13013/cgi-bin/sendsms";
    for (args, env, loopback, ten) in [
        (&[][..], None, 422, 422),
        (&["--allow-outbound", "127.0.0.0/8"][..], None, 201, 422),
        (&[][..], Some("127.0.0.1,10.0.0.0/8"), 201, 201),
    ] {
        let Some(database) = TestDatabase::create(kind).await else {
            return;
        };
        let (base, key, mut child) = serve(&database, args, env).await;
        assert_eq!(
            create_channel(&base, &key, kannel).await,
            loopback,
            "{args:?} {env:?}"
        );
        assert_eq!(
            create_channel(&base, &key, private).await,
            ten,
            "{args:?} {env:?}"
        );
        child.kill().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite() {
    the_allow_list_comes_from_the_flag_or_the_environment(BackendKind::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres() {
    the_allow_list_comes_from_the_flag_or_the_environment(BackendKind::Postgres).await;
}
