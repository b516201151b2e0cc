//! The guarded client against real sockets on 127.0.0.1: what it refuses never gets a
//! connection, redirects stay unfollowed, and endless answers are cut at the limit.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::*;

/// Answers from a fixed table, as a DNS server under a tenant's control could.
pub(crate) struct FixedResolver(pub HashMap<&'static str, Vec<&'static str>>);

impl Resolve for FixedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let addresses: Vec<SocketAddr> = self
            .0
            .get(name.as_str())
            .into_iter()
            .flatten()
            .map(|ip| SocketAddr::new(ip.parse().unwrap(), 0))
            .collect();
        Box::pin(async move {
            let addresses: Addrs = Box::new(addresses.into_iter());
            Ok(addresses)
        })
    }
}

/// A raw HTTP/1.1 server on 127.0.0.1 that counts its connections and answers each
/// with `head` followed by `body` (or an endless body when `body` is `None`).
struct Gateway {
    port: u16,
    connections: Arc<AtomicUsize>,
}

impl Gateway {
    async fn start(head: String, body: Option<Vec<u8>>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = Arc::new(AtomicUsize::new(0));
        let counted = connections.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                counted.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(answer(stream, head.clone(), body.clone()));
            }
        });
        Self { port, connections }
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

async fn answer(mut stream: TcpStream, head: String, body: Option<Vec<u8>>) {
    let mut request = Vec::new();
    let mut buffer = [0u8; 4096];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buffer[..n]),
        }
    }
    let _ = stream.write_all(head.as_bytes()).await;
    match body {
        Some(body) => {
            let _ = stream.write_all(&body).await;
        }
        None => {
            // Chunked, forever, until the client hangs up.
            let chunk = format!("4000\r\n{}\r\n", "x".repeat(0x4000));
            while stream.write_all(chunk.as_bytes()).await.is_ok() {}
        }
    }
}

fn ok_head(body: &str) -> (String, Option<Vec<u8>>) {
    (
        format!(
            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        ),
        Some(body.as_bytes().to_vec()),
    )
}

fn client(allow: &[&str]) -> OutboundClient {
    let table = HashMap::from([
        ("rebind.example", vec!["127.0.0.1"]),
        ("private.example", vec!["10.0.0.1"]),
    ]);
    OutboundClient::with_resolver(
        OutboundPolicy::parse(allow).unwrap(),
        Arc::new(FixedResolver(table)),
        ClientOptions {
            timeout: Some(Duration::from_secs(10)),
            ..ClientOptions::default()
        },
    )
    .unwrap()
}

#[tokio::test]
async fn refused_ip_literals_are_refused_before_any_connection() {
    let (head, body) = ok_head("{}");
    let gateway = Gateway::start(head, body).await;
    let guard = client(&[]);
    for url in [
        format!("http://127.0.0.1:{}/send", gateway.port),
        format!("http://[::ffff:127.0.0.1]:{}/send", gateway.port),
        // The URL parser reads these as 127.0.0.1 too.
        format!("http://2130706433:{}/send", gateway.port),
        format!("http://127.1:{}/send", gateway.port),
    ] {
        let refusal = guard.post(&url).expect_err(&url);
        assert!(
            matches!(
                refusal,
                OutboundRefusal::Address {
                    range: RefusedRange::Loopback,
                    ..
                }
            ),
            "{url}: {refusal}"
        );
    }
    assert!(matches!(
        guard.get("http://169.254.169.254/latest/meta-data/"),
        Err(OutboundRefusal::Address {
            range: RefusedRange::CloudMetadata,
            ..
        })
    ));
    assert_eq!(
        guard.get("file:///etc/passwd").err(),
        Some(OutboundRefusal::NotHttp)
    );
    assert_eq!(gateway.connections(), 0);

    let allowed = client(&["127.0.0.0/8"]);
    let url = format!("http://127.0.0.1:{}/send", gateway.port);
    let response = allowed.post(&url).unwrap().send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(gateway.connections(), 1);
}

#[tokio::test]
async fn a_name_resolving_to_a_refused_address_is_refused_when_connecting() {
    let (head, body) = ok_head("{}");
    let gateway = Gateway::start(head, body).await;
    let url = format!("http://rebind.example:{}/send", gateway.port);

    // The name passes when the request is made (it is not an address)…
    let request = client(&[]).post(&url).unwrap();
    // …and is refused when it resolves, before any connection.
    let error = request.send().await.unwrap_err();
    assert_eq!(
        refusal_of(&error),
        Some(&OutboundRefusal::Name {
            host: "rebind.example".into(),
            range: RefusedRange::Loopback
        }),
        "{error:?}"
    );
    assert_eq!(gateway.connections(), 0);

    for allow in ["127.0.0.0/8", "rebind.example"] {
        let response = client(&[allow]).post(&url).unwrap().send().await.unwrap();
        assert_eq!(response.status(), 200, "allowed by {allow}");
    }
    assert_eq!(gateway.connections(), 2);
}

#[tokio::test]
async fn redirects_are_answers_not_followed() {
    let (head, body) = ok_head("target");
    let target = Gateway::start(head, body).await;
    let redirect = Gateway::start(
        format!(
            "HTTP/1.1 302 Found\r\nlocation: http://127.0.0.1:{}/inside\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            target.port
        ),
        Some(Vec::new()),
    )
    .await;
    let guard = client(&["127.0.0.0/8"]);

    let response = guard
        .post(&format!("http://127.0.0.1:{}/send", redirect.port))
        .unwrap()
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 302);
    assert_eq!(redirect.connections(), 1);
    assert_eq!(target.connections(), 0, "the redirect was followed");
}

#[tokio::test]
async fn an_endless_answer_is_read_up_to_the_limit_only() {
    let gateway = Gateway::start(
        "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n".into(),
        None,
    )
    .await;
    let guard = client(&["127.0.0.0/8"]);
    let response = guard
        .get(&format!("http://127.0.0.1:{}/", gateway.port))
        .unwrap()
        .send()
        .await
        .unwrap();

    let body = tokio::time::timeout(Duration::from_secs(5), read_capped(response, ANSWER_LIMIT))
        .await
        .expect("reading stops at the limit")
        .unwrap();

    assert_eq!(body.bytes.len(), ANSWER_LIMIT);
    assert!(body.cut);
}

#[tokio::test]
async fn short_answers_are_read_whole() {
    for text in ["", "{\"id\": \"x\"}"] {
        let (head, body) = ok_head(text);
        let gateway = Gateway::start(head, body).await;
        let response = client(&["127.0.0.0/8"])
            .get(&format!("http://127.0.0.1:{}/", gateway.port))
            .unwrap()
            .send()
            .await
            .unwrap();
        let body = read_capped(response, ANSWER_LIMIT).await.unwrap();
        assert_eq!(body.text(), text);
        assert!(!body.cut);
    }
    let exact = "y".repeat(16);
    let (head, body) = ok_head(&exact);
    let gateway = Gateway::start(head, body).await;
    let response = client(&["127.0.0.0/8"])
        .get(&format!("http://127.0.0.1:{}/", gateway.port))
        .unwrap()
        .send()
        .await
        .unwrap();
    let body = read_capped(response, 16).await.unwrap();
    assert_eq!((body.bytes.len(), body.cut), (16, false));
}

#[tokio::test]
async fn urls_are_checked_when_they_are_saved() {
    let guard = client(&[]);
    assert!(matches!(
        guard
            .check_url("http://10.0.0.1:13013/cgi-bin/sendsms")
            .await,
        Err(OutboundRefusal::Address { .. })
    ));
    assert_eq!(
        guard.check_url("https://private.example/v1").await,
        Err(OutboundRefusal::Name {
            host: "private.example".into(),
            range: RefusedRange::Private
        })
    );
    assert_eq!(
        guard.check_url("ftp://x.example").await,
        Err(OutboundRefusal::NotHttp)
    );
    // A name that does not resolve (yet) is left to the check at send time.
    assert_eq!(guard.check_url("https://unknown.example/v1").await, Ok(()));
    assert_eq!(guard.check_url("https://93.184.215.14/v1").await, Ok(()));

    let allowing = client(&["10.0.0.0/8", "rebind.example"]);
    assert_eq!(allowing.check_url("http://10.0.0.1:13013/").await, Ok(()));
    assert_eq!(allowing.check_url("https://private.example").await, Ok(()));
    assert_eq!(allowing.check_url("https://rebind.example").await, Ok(()));
}

#[tokio::test]
async fn the_system_resolver_resolves_localhost_and_the_guard_refuses_it() {
    let guard = OutboundClient::new(OutboundPolicy::default(), ClientOptions::default()).unwrap();
    assert!(matches!(
        guard.check_url("http://localhost:11434/v1").await,
        Err(OutboundRefusal::Name {
            range: RefusedRange::Loopback,
            ..
        })
    ));
}
