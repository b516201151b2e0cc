//! Where `leadline serve` finds the key that seals stored secrets: a key file created
//! on first start beside a SQLite database (owner-only), refused when others may read
//! it; with PostgreSQL no key is ever made up, and the start fails saying what to do.

mod common;

use common::process::ServerProcess;

/// Runs `leadline serve` in `dir` until it logs that it serves (then stops it), or
/// until it exits; everything it logged when it exited by itself.
async fn serve(dir: &std::path::Path, url: &str) -> Option<String> {
    let mut command = ServerProcess::command(url);
    command
        .current_dir(dir)
        .env_remove("LEADLINE_SECRET_KEY")
        .env_remove("LEADLINE_SECRET_KEY_FILE");
    let mut process = ServerProcess::spawn(&mut command, &[]);
    match process.serving().await {
        Ok(_) => {
            process.kill().await;
            None
        }
        // Its stderr ended: it exited, and this is all it logged.
        Err(stderr) => Some(stderr),
    }
}

#[cfg(unix)]
#[tokio::test]
async fn a_sqlite_key_file_is_made_on_first_start_and_must_stay_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("data/leadline.db").display());
    std::fs::create_dir(dir.path().join("data")).unwrap();
    assert_eq!(
        serve(dir.path(), &url).await,
        None,
        "the first start serves"
    );
    let key_file = dir.path().join("data/leadline.key");
    let mode = std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let first = std::fs::read_to_string(&key_file).unwrap();
    assert_eq!(
        serve(dir.path(), &url).await,
        None,
        "the second start serves"
    );
    assert_eq!(
        std::fs::read_to_string(&key_file).unwrap(),
        first,
        "the key is kept"
    );

    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o640)).unwrap();
    let refused = serve(dir.path(), &url)
        .await
        .expect("an open key file refuses the start");
    assert!(refused.contains("chmod 600"), "{refused}");

    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::write(&key_file, "not a key\n").unwrap();
    let refused = serve(dir.path(), &url)
        .await
        .expect("a malformed key file refuses the start");
    assert!(refused.contains("openssl rand -base64 32"), "{refused}");
}

#[tokio::test]
async fn postgres_without_a_key_refuses_to_start_and_says_how_to_give_one() {
    let dir = tempfile::tempdir().unwrap();
    // The key is looked for before the database is opened: no server is needed.
    let refused = serve(dir.path(), "postgres://postgres@127.0.0.1:5432/test")
        .await
        .expect("no key, no start");
    assert!(refused.contains("LEADLINE_SECRET_KEY"), "{refused}");
    assert!(refused.contains("openssl rand -base64 32"), "{refused}");
    assert!(
        !dir.path().join("leadline.key").exists(),
        "no key is made up"
    );
}
