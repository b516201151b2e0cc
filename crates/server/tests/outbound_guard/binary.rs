//! `leadline serve` reads the allow-list from `--allow-outbound` and from
//! `LEADLINE_ALLOW_OUTBOUND`, and allows nothing more without them.

use leadline_store::testing::TestDatabase;

use super::*;
use crate::common::process::ServerProcess;

/// Starts the binary on a fresh database; its URL, its first API key and the process.
async fn serve(
    database: &TestDatabase,
    args: &[&str],
    env: Option<&str>,
) -> (String, String, ServerProcess) {
    let mut command = ServerProcess::command(&database.url);
    command
        .args(args)
        .env_remove("LEADLINE_ALLOW_OUTBOUND")
        .env_remove("LEADLINE_SECRET_KEY")
        .env("LEADLINE_SECRET_KEY_FILE", &database.key_file);
    if let Some(value) = env {
        command.env("LEADLINE_ALLOW_OUTBOUND", value);
    }
    let process = ServerProcess::spawn(&mut command, &[]);
    let base = process.ready().await;
    let first = process
        .first_start()
        .await
        .expect("the first start prints its key");
    (base, first["apiKey"].as_str().unwrap().to_owned(), process)
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
        let (base, key, mut server) = serve(&database, args, env).await;
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
        server.kill().await;
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
