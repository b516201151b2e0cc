//! Stepping the dispatcher of a server started without background workers: a test
//! sends what is due at the moment it chooses, and the outcomes are recorded when the
//! step returns, instead of sleeping while a loop gets there.

use leadline_server::serve::ServerOptions;

use super::TestApp;

/// Options of a server whose dispatcher runs only when a test steps it (and whose
/// other background workers do not run).
pub fn stepped() -> ServerOptions {
    ServerOptions {
        without_dispatcher: true,
        ..ServerOptions::default()
    }
}

impl TestApp {
    /// Whether this app's dispatcher runs when stepped (no background workers).
    pub fn steps_dispatcher(&self) -> bool {
        self.server
            .as_ref()
            .is_some_and(|server| server.dispatcher().is_some())
    }

    /// Sends everything due now, and what that makes due (the sandbox's receipts),
    /// until nothing is; returns how many jobs ran. Panics when the app runs its
    /// dispatcher in the background.
    pub async fn drain_dispatcher(&self) -> usize {
        self.server
            .as_ref()
            .and_then(|server| server.dispatcher())
            .expect("the app was started without background workers (see `stepped`)")
            .drain()
            .await
            .expect("the dispatcher's store answers")
    }
}
