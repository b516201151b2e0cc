//! A TCP proxy on 127.0.0.1 in front of a database, which a test can cut and restore.
//! Cut, it closes every connection it carries and closes new ones as soon as they are
//! accepted, as a database that crashed or a network that failed would; restored, it
//! carries new connections again.

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub struct FaultProxy {
    /// Where clients connect instead of the database.
    pub address: SocketAddr,
    /// `true` while connections are carried.
    up: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl FaultProxy {
    /// A proxy to `upstream`, carrying connections until [`FaultProxy::cut`].
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free loopback port");
        let address = listener.local_addr().expect("bound");
        let (up, state) = watch::channel(true);
        let task = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    continue;
                };
                if *state.borrow() {
                    tokio::spawn(carry(client, upstream, state.clone()));
                }
                // Cut: the accepted connection is dropped, so the client reads EOF.
            }
        });
        Self { address, up, task }
    }

    /// Closes every carried connection and refuses new ones until restored.
    pub fn cut(&self) {
        self.up.send_replace(false);
    }

    /// Carries new connections again.
    pub fn restore(&self) {
        self.up.send_replace(true);
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
        self.up.send_replace(false);
    }
}

/// Copies bytes both ways until either side closes or the proxy is cut.
async fn carry(mut client: TcpStream, upstream: SocketAddr, mut state: watch::Receiver<bool>) {
    let Ok(mut server) = TcpStream::connect(upstream).await else {
        return;
    };
    tokio::select! {
        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
        _ = state.wait_for(|up| !*up) => {}
    }
}
