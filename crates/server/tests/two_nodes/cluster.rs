//! Several real `leadline serve` processes on one database, and a client that speaks to
//! any of them: start-up (together on the empty database, where exactly one creates the
//! workspace and prints its key on stdout), readiness, JSON requests with the key,
//! signed webhooks of the `http` provider, counters from `/metrics`, and bounded waits.

use std::process::Stdio;
use std::time::{Duration, Instant};

use leadline_providers::signing::{SIGNATURE_HEADER, sign};
use reqwest::Method;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const BIN: &str = env!("CARGO_BIN_EXE_leadline");
/// How long a node may take to answer `/readyz`.
const START_LIMIT: Duration = Duration::from_secs(30);
/// How often the waits look again.
const POLL: Duration = Duration::from_millis(50);

/// One `leadline serve` process.
pub struct Node {
    pub base: String,
    process: Child,
}

/// The nodes, the workspace the first one created, and its key.
pub struct Cluster {
    pub nodes: Vec<Node>,
    pub workspace_id: String,
    api_key: String,
    client: reqwest::Client,
}

impl Cluster {
    /// Starts `count` nodes at once on `url`, an empty database: exactly one of them
    /// creates the workspace and prints it with its key.
    pub async fn start(url: &str, key_file: &std::path::Path, count: usize) -> Self {
        let client = reqwest::Client::new();
        let mut nodes: Vec<Node> = (0..count).map(|_| spawn(url, key_file)).collect();
        let mut printed = Vec::new();
        for node in &mut nodes {
            wait_ready(&client, &node.base).await;
            // A node prints before it listens, so what it printed is in the pipe now.
            let stdout = node.process.stdout.take().expect("stdout is piped");
            let mut line = String::new();
            let read = tokio::time::timeout(Duration::from_millis(100), async {
                BufReader::new(stdout).read_line(&mut line).await
            })
            .await;
            if matches!(read, Ok(Ok(n)) if n > 0) {
                printed.push(line);
            }
        }
        assert_eq!(
            printed.len(),
            1,
            "one node creates the first workspace: {printed:?}"
        );
        let created: Value = serde_json::from_str(&printed[0]).expect("one JSON object");
        Self {
            nodes,
            workspace_id: created["workspaceId"].as_str().unwrap().to_owned(),
            api_key: created["apiKey"].as_str().unwrap().to_owned(),
            client,
        }
    }

    /// `method path` with the workspace's key on node `node`: status and JSON body
    /// (`Value::Null` when the body is not JSON).
    pub async fn send(
        &self,
        node: usize,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let base = &self.nodes[node % self.nodes.len()].base;
        let mut request = self
            .client
            .request(method, format!("{base}{path}"))
            .header("x-api-key", &self.api_key);
        if let Some(body) = body {
            request = request.json(body);
        }
        read(request.send().await.expect("the request is sent")).await
    }

    pub async fn post(&self, node: usize, path: &str, body: &Value) -> (u16, Value) {
        self.send(node, Method::POST, path, Some(body)).await
    }

    pub async fn put(&self, node: usize, path: &str, body: &Value) -> (u16, Value) {
        self.send(node, Method::PUT, path, Some(body)).await
    }

    pub async fn get(&self, node: usize, path: &str) -> (u16, Value) {
        self.send(node, Method::GET, path, None).await
    }

    /// POSTs `body` to node `node` as the `http` provider reports to `channel_id`,
    /// signed with `secret` now.
    pub async fn webhook(&self, node: usize, channel_id: &str, secret: &str, body: &Value) -> u16 {
        let base = &self.nodes[node % self.nodes.len()].base;
        let bytes = serde_json::to_vec(body).expect("JSON serializes");
        let signature = sign(secret.as_bytes(), chrono::Utc::now().timestamp(), &bytes);
        self.client
            .post(format!("{base}/webhooks/providers/{channel_id}"))
            .header("content-type", "application/json")
            .header(SIGNATURE_HEADER, signature)
            .body(bytes)
            .send()
            .await
            .expect("the webhook is sent")
            .status()
            .as_u16()
    }

    /// The sum of every series of the counter `name` in node `node`'s `/metrics`, for
    /// showing how the nodes shared the work.
    pub async fn counter(&self, node: usize, name: &str) -> f64 {
        let base = &self.nodes[node % self.nodes.len()].base;
        let text = self
            .client
            .get(format!("{base}/metrics"))
            .send()
            .await
            .expect("the metrics are read")
            .text()
            .await
            .expect("a body");
        text.lines()
            .filter(|line| line.split(['{', ' ']).next() == Some(name))
            .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    }

    /// Kills every node.
    pub async fn stop(mut self) {
        for node in &mut self.nodes {
            let _ = node.process.kill().await;
        }
    }
}

fn spawn(url: &str, key_file: &std::path::Path) -> Node {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("a free loopback port")
        .local_addr()
        .expect("bound")
        .port();
    let listen = format!("127.0.0.1:{port}");
    let process = Command::new(BIN)
        // A lease far shorter than the gateway's answer: only renewals and fencing keep
        // the two nodes from sending a message twice.
        .args([
            "serve",
            "--database-url",
            url,
            "--listen",
            &listen,
            "--job-lease-seconds",
            "1",
            // The gateway of this suite listens on 127.0.0.1.
            "--allow-outbound",
            "127.0.0.0/8",
        ])
        .env("LEADLINE_SECRET_KEY_FILE", key_file)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("leadline starts");
    Node {
        base: format!("http://{listen}"),
        process,
    }
}

async fn wait_ready(client: &reqwest::Client, base: &str) {
    wait_until(
        &format!("{base} is ready"),
        START_LIMIT,
        async || match client.get(format!("{base}/readyz")).send().await {
            Ok(response) if response.status().is_success() => Ok(()),
            Ok(response) => Err(format!("/readyz answered {}", response.status())),
            Err(error) => Err(error.to_string()),
        },
    )
    .await;
}

/// Status and JSON body (`Value::Null` when the body is not JSON).
pub async fn read(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.expect("a body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Polls `probe` until it answers `Ok`, and returns that; after `limit`, fails naming
/// `what` and the probe's last `Err` (what it saw instead).
pub async fn wait_until<T>(
    what: &str,
    limit: Duration,
    mut probe: impl AsyncFnMut() -> Result<T, String>,
) -> T {
    let started = Instant::now();
    loop {
        match probe().await {
            Ok(value) => return value,
            Err(last) if started.elapsed() >= limit => {
                panic!("timed out after {limit:?} waiting until {what}; last seen: {last}")
            }
            Err(_) => tokio::time::sleep(POLL).await,
        }
    }
}
