//! `leadline serve` as a child process, the way an operator runs it. It listens on a
//! port it picks (`--listen 127.0.0.1:0`) and is ready once it logs that it serves,
//! at the address that line names; what it writes on stdout and stderr is read line by
//! line as it comes, so a test awaits a line (ready, the first start's key, the
//! outbox found empty) under a deadline instead of polling the server.

use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::watch;

use super::waits::within;

pub const BIN: &str = env!("CARGO_BIN_EXE_leadline");

/// What `leadline serve` logs once it listens, with the address (`serve::run`).
pub const SERVING: &str = "leadline is serving";
/// What it logs when it created the first workspace; the workspace and its key are
/// printed on stdout right after (`serve::run`).
pub const FIRST_WORKSPACE: &str = "created the first workspace";
/// The server's own filter when `RUST_LOG` is not set (`telemetry::init_logs`).
const DEFAULT_LOG: &str = "info,sqlx=warn,tower_http=info";
/// How long a start may take, and a child to write a line it is about to write.
pub const START_LIMIT: Duration = Duration::from_secs(60);

/// Everything one output stream of a child wrote so far, line by line.
#[derive(Debug, Default)]
pub struct Lines {
    pub lines: Vec<String>,
    /// The child closed the stream (it exited).
    pub ended: bool,
}

/// One output stream of a child, read as it comes.
pub struct Output {
    state: watch::Receiver<Lines>,
}

impl Output {
    /// Reads `stream` to its end in the background.
    fn read(stream: impl AsyncRead + Unpin + Send + 'static) -> Self {
        let (sender, state) = watch::channel(Lines::default());
        tokio::spawn(async move {
            let mut reader = BufReader::new(stream);
            let mut line = Vec::new();
            loop {
                line.clear();
                match reader.read_until(b'\n', &mut line).await {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        let text = String::from_utf8_lossy(&line).trim_end().to_owned();
                        sender.send_modify(|state| state.lines.push(text));
                    }
                }
            }
            sender.send_modify(|state| state.ended = true);
        });
        Self { state }
    }

    /// The lines written so far.
    pub fn lines(&self) -> Vec<String> {
        self.state.borrow().lines.clone()
    }

    /// Whether a line written so far contains `text`.
    pub fn has(&self, text: &str) -> bool {
        self.state
            .borrow()
            .lines
            .iter()
            .any(|line| line.contains(text))
    }

    /// The first line containing `text`, once written; `None` when the stream ends
    /// without one. Unbounded: wrap it in [`within`].
    pub async fn line_containing(&self, text: &str) -> Option<String> {
        let mut state = self.state.clone();
        let mut seen = 0;
        loop {
            {
                let now = state.borrow_and_update();
                if let Some(line) = now.lines[seen..].iter().find(|line| line.contains(text)) {
                    return Some(line.clone());
                }
                seen = now.lines.len();
                if now.ended {
                    return None;
                }
            }
            if state.changed().await.is_err() {
                // The reader is gone; it marks the end before it goes, so look once more.
                let now = state.borrow();
                return now.lines[seen..]
                    .iter()
                    .find(|line| line.contains(text))
                    .cloned();
            }
        }
    }

    /// Every line, once the stream ended (the child exited). Unbounded: wrap it in
    /// [`within`].
    pub async fn to_end(&self) -> Vec<String> {
        let mut state = self.state.clone();
        let _ = state.wait_for(|now| now.ended).await;
        state.borrow().lines.clone()
    }

    /// Changes on every line written, to wake a wait (see `waits::Wakes`).
    pub fn changes(&self) -> watch::Receiver<Lines> {
        self.state.clone()
    }
}

/// A running `leadline serve`, killed when dropped.
pub struct ServerProcess {
    child: Child,
    pub stdout: Output,
    pub stderr: Output,
}

impl ServerProcess {
    /// `leadline serve` on `database_url`, listening on a port it picks; add arguments
    /// and environment, then [`ServerProcess::spawn`] it.
    pub fn command(database_url: &str) -> Command {
        let mut command = Command::new(BIN);
        command.args([
            "serve",
            "--database-url",
            database_url,
            "--listen",
            "127.0.0.1:0",
        ]);
        command
    }

    /// Starts `command` with its output read line by line. `log` adds filter
    /// directives (`leadline_server::dispatcher=debug`) to the server's filter; the
    /// line saying it serves is always kept, whatever `RUST_LOG` the tests run with.
    pub fn spawn(command: &mut Command, log: &[&str]) -> Self {
        let mut filter = vec![std::env::var("RUST_LOG").unwrap_or_else(|_| DEFAULT_LOG.into())];
        filter.push("leadline_server::serve=info".into());
        filter.extend(log.iter().map(|directive| (*directive).to_owned()));
        let mut child = command
            .env("RUST_LOG", filter.join(","))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("leadline starts");
        let stdout = Output::read(child.stdout.take().expect("stdout is piped"));
        let stderr = Output::read(child.stderr.take().expect("stderr is piped"));
        Self {
            child,
            stdout,
            stderr,
        }
    }

    /// Once it serves, its base URL (`http://127.0.0.1:PORT`); `Err` with everything
    /// it logged when it exits without serving.
    pub async fn serving(&self) -> Result<String, String> {
        let line = within(START_LIMIT, "leadline serves", async {
            self.stderr.line_containing(SERVING).await
        })
        .await;
        match line {
            Some(line) => Ok(format!(
                "http://{}",
                logged_address(&line).expect("the serving line names its address")
            )),
            None => Err(self.stderr.lines().join("\n")),
        }
    }

    /// [`ServerProcess::serving`], failing the test when it exits instead.
    pub async fn ready(&self) -> String {
        self.serving()
            .await
            .unwrap_or_else(|stderr| panic!("leadline exited instead of serving:\n{stderr}"))
    }

    /// What a start that created the first workspace printed on stdout (the workspace
    /// and its key); `None` when it created none. Call once it serves: it logs the
    /// creation before it serves and prints just after the log.
    pub async fn first_start(&self) -> Option<Value> {
        if !self.stderr.has(FIRST_WORKSPACE) {
            return None;
        }
        let printed = within(START_LIMIT, "the first start prints its key", async {
            let mut state = self.stdout.changes();
            let _ = state
                .wait_for(|now| !now.lines.is_empty() || now.ended)
                .await;
            state.borrow().lines.first().cloned()
        })
        .await
        .expect("a line on stdout after the first workspace was created");
        Some(serde_json::from_str(&printed).expect("stdout is one JSON object"))
    }

    /// The process id, for signals.
    pub fn id(&self) -> u32 {
        self.child.id().expect("the child runs")
    }

    /// SIGKILL, and waits until it is gone.
    pub async fn kill(&mut self) {
        self.child.kill().await.expect("SIGKILL");
    }

    /// SIGTERM, and its exit status once it stopped (within the server's shutdown).
    pub async fn terminate(&mut self) -> ExitStatus {
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &self.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(sent.success(), "SIGTERM was sent");
        within(Duration::from_secs(40), "leadline stops", self.child.wait())
            .await
            .expect("the exit status")
    }
}

/// The address in a `leadline is serving` line, logged as text (`address=…`, maybe
/// among terminal colours) or as JSON (`"address": …`).
fn logged_address(line: &str) -> Option<String> {
    if let Ok(entry) = serde_json::from_str::<Value>(line) {
        return entry["address"].as_str().map(str::to_owned);
    }
    let plain = without_colours(line);
    let (_, rest) = plain.split_once("address=")?;
    rest.split_whitespace().next().map(str::to_owned)
}

/// `line` without its ANSI escape sequences (`ESC [ … letter`).
fn without_colours(line: &str) -> String {
    let mut plain = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            plain.push(c);
        }
    }
    plain
}
