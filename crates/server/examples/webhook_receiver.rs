//! A counting webhook receiver on 127.0.0.1 for load scripts: the same sink the
//! benchmarks use in-process, as a process of its own. Prints the URL to give a webhook
//! endpoint on its first line, then, when stdin closes, how many deliveries it took.
//!
//!     cargo run --release -p leadline-server --example webhook_receiver

use std::io::Read;
use std::time::Duration;

use leadline_server::testing::CountingSink;

#[tokio::main]
async fn main() {
    let sink = CountingSink::start(Duration::ZERO).await;
    println!("{}", sink.webhook_url());
    // The caller holds stdin open for as long as it wants deliveries taken.
    tokio::task::spawn_blocking(|| std::io::stdin().read_to_end(&mut Vec::new()))
        .await
        .expect("stdin is read")
        .expect("stdin closes");
    println!(
        "received {} deliveries of {} events",
        sink.total(),
        sink.unique()
    );
}
