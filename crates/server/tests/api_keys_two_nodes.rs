//! A key revoked through one `leadline serve` process is refused by another process on
//! the same PostgreSQL on the very next request, although that node had the key cached
//! (it served it without reading the store). No sleep: the DELETE answers only once no
//! node trusts a cache older than the revocation.

mod common;

#[path = "two_nodes/cluster.rs"]
#[allow(dead_code)]
mod cluster;

use cluster::{Cluster, read};
use leadline_store::BackendKind;
use leadline_store::testing::TestDatabase;
use reqwest::Method;
use serde_json::{Value, json};

/// `method path` on `node` with `key`.
async fn call(cluster: &Cluster, node: usize, key: &str, method: Method, path: &str) -> u16 {
    let base = &cluster.nodes[node].base;
    let response = reqwest::Client::new()
        .request(method, format!("{base}{path}"))
        .header("x-api-key", key)
        .send()
        .await
        .expect("the request is sent");
    read(response).await.0
}

async fn create_key(cluster: &Cluster, node: usize) -> (String, String) {
    let (status, created): (u16, Value) = cluster.post(node, "/api/v1/api-keys", &json!({})).await;
    assert_eq!(status, 201, "{created}");
    (
        created["id"].as_str().unwrap().to_owned(),
        created["apiKey"].as_str().unwrap().to_owned(),
    )
}

/// Uses `key` on `node` until that node answers it from its cache, and shows that it
/// did: five requests in a row cost the node no key read.
async fn cached_on(cluster: &Cluster, node: usize, key: &str) {
    assert_eq!(
        call(cluster, node, key, Method::GET, "/api/v1/users").await,
        200
    );
    let lookups = "leadline_api_key_lookups_total";
    let before = cluster.counter(node, lookups).await;
    for _ in 0..5 {
        assert_eq!(
            call(cluster, node, key, Method::GET, "/api/v1/users").await,
            200
        );
    }
    let after = cluster.counter(node, lookups).await;
    assert!(
        after - before < 5.0,
        "node {node} read the key from the store on every request ({before} → {after})"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_revoked_on_one_node_is_refused_by_the_other_at_once() {
    let Some(database) = TestDatabase::create(BackendKind::Postgres).await else {
        return;
    };
    let cluster = Cluster::start(&database.url, &database.key_file, 2).await;
    for (revoking, serving) in [(0, 1), (1, 0)] {
        let (id, key) = create_key(&cluster, revoking).await;
        cached_on(&cluster, serving, &key).await;
        cached_on(&cluster, revoking, &key).await;
        let path = format!("/api/v1/api-keys/{id}");
        let (status, body) = cluster.send(revoking, Method::DELETE, &path, None).await;
        assert_eq!(status, 204, "{body}");
        assert_eq!(
            call(&cluster, serving, &key, Method::GET, "/api/v1/users").await,
            401,
            "node {serving} still let the key revoked on node {revoking} through"
        );
        assert_eq!(
            call(&cluster, revoking, &key, Method::GET, "/api/v1/users").await,
            401
        );
    }
    // A key that revokes itself through one node is refused by the other.
    let (id, key) = create_key(&cluster, 0).await;
    cached_on(&cluster, 1, &key).await;
    let path = format!("/api/v1/api-keys/{id}");
    assert_eq!(call(&cluster, 0, &key, Method::DELETE, &path).await, 204);
    assert_eq!(
        call(&cluster, 1, &key, Method::GET, "/api/v1/users").await,
        401
    );
    // The workspace's own key, never revoked, works on both.
    for node in 0..2 {
        let (status, _) = cluster.get(node, "/api/v1/users").await;
        assert_eq!(status, 200);
    }
    cluster.stop().await;
}
