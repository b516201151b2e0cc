//! The Kannel adapter against a real Kannel: bearerbox and smsbox with a generated
//! config on free ports, `fakesmsc` as the carrier, and a small HTTP server standing in
//! for leadline's webhook endpoint. A message sent through `KannelProvider` must come
//! back as a delivery report that verifies and reads `delivered` for our id, and a
//! message injected by the fake carrier must arrive through `sms_service_group`'s
//! get-url as an inbound event.
//!
//! Needs the Debian packages `kannel` and `kannel-extras`. Without them the test says so
//! and passes, unless `LEADLINE_REQUIRE_KANNEL=1` (set by CI), where it fails.

mod common;

use std::fs::File;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Method, Uri};
use common::{LEAD, context, message, text};
use leadline_core::channel::{MessageProviderType, ProviderKind};
use leadline_core::message::MessageStatus;
use leadline_providers::kannel::sms_service_group;
use leadline_providers::{ChannelConfig, MessageRef, Provider, ProviderEvent, WebhookRequest};
use serde_json::{Map, Value, json};
use tokio::sync::mpsc;
use tokio::time::{Instant, timeout};

const BEARERBOX: &str = "/usr/sbin/bearerbox";
const SMSBOX: &str = "/usr/sbin/smsbox";
const FAKESMSC: &str = "/usr/lib/kannel/test/fakesmsc";

const WEBHOOK_SECRET: &str = "e2e-webhook-secret";
const USERNAME: &str = "leadline";
const PASSWORD: &str = "e2e-sendsms-password";
const SHORT_CODE: &str = "12345";
const MO_TEXT: &str = "hello from lead";

/// How long Kannel gets to start and to deliver; normally well under a second each.
const PATIENCE: Duration = Duration::from_secs(30);

/// One call that reached the stand-in webhook endpoint.
struct Received {
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
    peer: std::net::SocketAddr,
}

/// The Kannel processes of one test, killed when it ends, also when it fails. On a
/// failure the boxes' logs are printed, since they say why Kannel did not deliver.
struct KannelProcesses {
    children: Vec<(&'static str, Child)>,
    dir: PathBuf,
}

impl KannelProcesses {
    /// Starts a box; its output goes to `<name>.out` and, line by line, to the
    /// receiver (Kannel logs to stderr as it goes, so readiness is a line, not a poll).
    fn start(
        &mut self,
        name: &'static str,
        program: &str,
        args: &[&str],
    ) -> mpsc::UnboundedReceiver<String> {
        let mut child = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {program}: {error}"));
        let (lines, receiver) = mpsc::unbounded_channel();
        let log = std::sync::Arc::new(std::sync::Mutex::new(
            File::create(self.dir.join(format!("{name}.out"))).unwrap(),
        ));
        let stdout: Box<dyn std::io::Read + Send> = Box::new(child.stdout.take().unwrap());
        let stderr: Box<dyn std::io::Read + Send> = Box::new(child.stderr.take().unwrap());
        for stream in [stdout, stderr] {
            let (lines, log) = (lines.clone(), log.clone());
            std::thread::spawn(move || {
                for line in std::io::BufReader::new(stream)
                    .lines()
                    .map_while(Result::ok)
                {
                    let _ = writeln!(log.lock().unwrap(), "{line}");
                    let _ = lines.send(line);
                }
            });
        }
        self.children.push((name, child));
        receiver
    }
}

/// Waits until `what` writes a line containing `ready`.
async fn wait_for_line(lines: &mut mpsc::UnboundedReceiver<String>, ready: &str, what: &str) {
    let seen = timeout(PATIENCE, async {
        while let Some(line) = lines.recv().await {
            if line.contains(ready) {
                return true;
            }
        }
        false
    })
    .await;
    assert!(
        seen == Ok(true),
        "{what} never logged {ready:?} (it exited or took over {PATIENCE:?})"
    );
}

impl Drop for KannelProcesses {
    fn drop(&mut self) {
        for (_, child) in self.children.iter_mut().rev() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if std::thread::panicking() {
            for name in [
                "bearerbox.log",
                "smsbox.log",
                "bearerbox.out",
                "smsbox.out",
                "fakesmsc.out",
            ] {
                let text = std::fs::read_to_string(self.dir.join(name)).unwrap_or_default();
                let tail: Vec<&str> = text.lines().rev().take(40).collect();
                eprintln!("--- {name} (last lines)");
                tail.iter().rev().for_each(|line| eprintln!("{line}"));
            }
        }
    }
}

fn kannel_installed() -> bool {
    [BEARERBOX, SMSBOX, FAKESMSC]
        .iter()
        .all(|path| Path::new(path).exists())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// An HTTP server that records every call and answers 200 with an empty body, as
/// leadline's webhook endpoint does for Kannel.
async fn start_webhook_receiver() -> (u16, mpsc::UnboundedReceiver<Received>) {
    let (sender, receiver) = mpsc::unbounded_channel();
    let app = axum::Router::new().fallback(
        move |ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
              method: Method,
              uri: Uri,
              headers: HeaderMap,
              body: Bytes| {
            let sender = sender.clone();
            async move {
                let _ = sender.send(Received {
                    method,
                    uri,
                    headers,
                    body,
                    peer,
                });
                ""
            }
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (port, receiver)
}

struct Ports {
    admin: u16,
    smsbox: u16,
    smsc: u16,
    sendsms: u16,
}

fn kannel_conf(dir: &Path, ports: &Ports, webhook_url: &str) -> String {
    let dir = dir.display();
    format!(
        r#"group = core
admin-port = {admin}
admin-password = e2e-admin
admin-deny-ip = "*.*.*.*"
admin-allow-ip = "127.0.0.1"
smsbox-port = {smsbox}
box-deny-ip = "*.*.*.*"
box-allow-ip = "127.0.0.1"
log-file = "{dir}/bearerbox.log"
log-level = 0
dlr-storage = internal

group = smsc
smsc = fake
smsc-id = fake1
port = {smsc}
connect-allow-ip = "127.0.0.1"

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = {smsbox}
sendsms-port = {sendsms}
sendsms-interface = 127.0.0.1
log-file = "{dir}/smsbox.log"
log-level = 0

group = sendsms-user
username = {USERNAME}
password = {PASSWORD}
concatenation = true
max-messages = 3

{service}"#,
        admin = ports.admin,
        smsbox = ports.smsbox,
        smsc = ports.smsc,
        sendsms = ports.sendsms,
        service = sms_service_group(webhook_url, WEBHOOK_SECRET),
    )
}

fn kannel_provider(ports: &Ports, webhook_url: &str) -> std::sync::Arc<dyn Provider> {
    let settings: Map<String, Value> = serde_json::from_value(json!({
        "sendsmsUrl": format!("http://127.0.0.1:{}/cgi-bin/sendsms", ports.sendsms),
        "username": USERNAME,
        "allowedSources": ["127.0.0.0/8"],
    }))
    .unwrap();
    let secrets: Map<String, Value> =
        serde_json::from_value(json!({"password": PASSWORD, "webhookSecret": WEBHOOK_SECRET}))
            .unwrap();
    let secrets = leadline_core::SecretMap::new(secrets);
    let config = ChannelConfig {
        kind: ProviderKind::Kannel,
        carries: MessageProviderType::Sms,
        settings: &settings,
        secrets: &secrets,
    };
    leadline_providers::build(&config, context(webhook_url)).unwrap()
}

#[tokio::test]
async fn a_real_kannel_delivers_reports_and_inbound_messages() {
    if !kannel_installed() {
        assert!(
            std::env::var("LEADLINE_REQUIRE_KANNEL").as_deref() != Ok("1"),
            "LEADLINE_REQUIRE_KANNEL=1 but Kannel is not installed (apt-get install kannel kannel-extras)"
        );
        eprintln!("kannel not installed: skipping (apt-get install kannel kannel-extras)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (webhook_port, mut calls) = start_webhook_receiver().await;
    let webhook_origin = format!("http://127.0.0.1:{webhook_port}");
    let webhook_url =
        format!("{webhook_origin}/webhooks/providers/0190c6b8-3c2e-7d4a-9f00-1234567890ab");
    let ports = Ports {
        admin: free_port(),
        smsbox: free_port(),
        smsc: free_port(),
        sendsms: free_port(),
    };
    let conf = dir.path().join("kannel.conf");
    std::fs::write(&conf, kannel_conf(dir.path(), &ports, &webhook_url)).unwrap();
    let conf = conf.to_str().unwrap();

    let mut kannel = KannelProcesses {
        children: Vec::new(),
        dir: dir.path().to_owned(),
    };
    let mut bearerbox = kannel.start("bearerbox", BEARERBOX, &[conf]);
    wait_for_line(
        &mut bearerbox,
        "Start-up done, entering mainloop",
        "bearerbox",
    )
    .await;
    let mut smsbox = kannel.start("smsbox", SMSBOX, &[conf]);
    wait_for_line(&mut smsbox, "Connected to bearerbox", "smsbox").await;
    let smsc_port = ports.smsc.to_string();
    let mo = format!(
        "{} {SHORT_CODE} text {MO_TEXT}",
        LEAD.trim_start_matches('+')
    );
    kannel.start(
        "fakesmsc",
        FAKESMSC,
        &[
            "-H",
            "127.0.0.1",
            "-r",
            &smsc_port,
            "-i",
            "0.1",
            "-m",
            "1",
            &mo,
        ],
    );

    let provider = kannel_provider(&ports, &webhook_url);
    let outbound = message(SHORT_CODE, text("Hi Ana, is 5 pm still good?"));
    let receipt = provider
        .send(&outbound)
        .await
        .expect("Kannel accepts the send");
    assert_eq!(receipt.provider_message_id, None);

    let mut delivered = false;
    let mut inbound = false;
    let deadline = Instant::now() + PATIENCE;
    while !(delivered && inbound) {
        let call = timeout(
            deadline.saturating_duration_since(Instant::now()),
            calls.recv(),
        )
        .await
        .unwrap_or_else(|_| {
            panic!("Kannel did not call back in time (delivered: {delivered}, inbound: {inbound})")
        })
        .expect("the webhook receiver stopped");
        let url = format!("{webhook_origin}{}", call.uri);
        // Kannel moved the credentials of the URL's userinfo into a Basic header: the
        // request line carries no secret.
        let authorization = call
            .headers
            .get("authorization")
            .map(|v| v.to_str().unwrap());
        assert!(
            authorization.is_some_and(|v| v.starts_with("Basic ")),
            "Kannel sent no Basic credentials for {url}"
        );
        assert!(!url.contains("kannel:"), "{url}");
        let request = WebhookRequest {
            method: &call.method,
            url: &url,
            headers: &call.headers,
            body: &call.body,
            peer: Some(call.peer.ip()),
            received_at: chrono::Utc::now(),
        };
        let outcome = provider
            .handle_webhook(&request)
            .unwrap_or_else(|error| panic!("Kannel's call {url} was refused: {error}"));
        // Without the credentials, or from outside the allow-list, it is refused.
        let mut without = call.headers.clone();
        without.remove("authorization");
        assert!(
            provider
                .handle_webhook(&WebhookRequest {
                    headers: &without,
                    ..request
                })
                .is_err()
        );
        let elsewhere = Some("192.0.2.1".parse().unwrap());
        assert!(
            provider
                .handle_webhook(&WebhookRequest {
                    peer: elsewhere,
                    ..request
                })
                .is_err()
        );
        for event in outcome.events {
            match event {
                ProviderEvent::Status {
                    message, status, ..
                } => {
                    assert_eq!(message, MessageRef::Ours(outbound.message_id));
                    delivered |= status == MessageStatus::Delivered;
                }
                ProviderEvent::Inbound { from, to, text, .. } => {
                    assert_eq!(from.as_str(), LEAD);
                    assert_eq!(to.as_deref(), Some(SHORT_CODE));
                    assert_eq!(text, MO_TEXT);
                    inbound = true;
                }
                other => panic!("unexpected event {other:?}"),
            }
        }
    }
}
