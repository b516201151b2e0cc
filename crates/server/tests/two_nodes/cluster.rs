//! Several real `leadline serve` processes on one database, and a client that speaks to
//! any of them: start-up (together on the empty database, where exactly one creates the
//! workspace and prints its key on stdout), readiness from each node's log, JSON
//! requests with the key, signed webhooks of the `http` provider, counters from
//! `/metrics`, the lines the nodes log as events to wait on, and a graceful stop.

use leadline_providers::signing::{SIGNATURE_HEADER, sign};
use reqwest::Method;
use serde_json::Value;

use crate::common::process::{START_LIMIT, ServerProcess};
use crate::common::waits::{Wakes, within};

/// One `leadline serve` process.
pub struct Node {
    pub base: String,
    process: ServerProcess,
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
        let processes: Vec<ServerProcess> = (0..count).map(|_| spawn(url, key_file)).collect();
        let mut nodes = Vec::new();
        let mut printed = Vec::new();
        for process in processes {
            let base = process.ready().await;
            // A node logs that it created the workspace, prints it, then serves.
            printed.extend(process.first_start().await);
            nodes.push(Node { base, process });
        }
        assert_eq!(
            printed.len(),
            1,
            "one node creates the first workspace: {printed:?}"
        );
        let created = &printed[0];
        Self {
            nodes,
            workspace_id: created["workspaceId"].as_str().unwrap().to_owned(),
            api_key: created["apiKey"].as_str().unwrap().to_owned(),
            client: reqwest::Client::new(),
        }
    }

    /// Wakes on every line a node logs (a campaign batch decided, the outbox found
    /// empty, a send made): what changes the database as the nodes work.
    pub fn wakes(&self) -> Wakes {
        self.nodes.iter().fold(Wakes::default(), |wakes, node| {
            wakes.on(node.process.stderr.changes())
        })
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

    /// Stops every node with SIGTERM: each finishes its calls in flight, records them
    /// and exits 0, so nothing reaches the gateway after this. Only the node that
    /// created the workspace printed anything on stdout.
    pub async fn stop(mut self) {
        let mut printed = 0;
        for (n, node) in self.nodes.iter_mut().enumerate() {
            let status = node.process.terminate().await;
            assert!(status.success(), "node {n} stops cleanly: {status}");
            let stdout = within(START_LIMIT, "a stopped node's stdout ends", async {
                node.process.stdout.to_end().await
            })
            .await;
            printed += stdout.len();
        }
        assert_eq!(printed, 1, "the workspace's key is all the nodes print");
    }
}

/// Starts a node on `url`, its dispatcher saying when it finds the outbox empty.
fn spawn(url: &str, key_file: &std::path::Path) -> ServerProcess {
    let mut command = ServerProcess::command(url);
    // A lease far shorter than the gateway's answer: only renewals and fencing keep the
    // two nodes from sending a message twice.
    command
        .args([
            "--job-lease-seconds",
            "1",
            // The gateway of this suite listens on 127.0.0.1.
            "--allow-outbound",
            "127.0.0.0/8",
        ])
        .env("LEADLINE_SECRET_KEY_FILE", key_file);
    ServerProcess::spawn(&mut command, &["leadline_server::dispatcher=debug"])
}

/// Status and JSON body (`Value::Null` when the body is not JSON).
pub async fn read(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.expect("a body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}
