//! The console in a real browser: headless Chromium, driven over WebDriver by
//! fantoccini, against a server of the suite's own ([`common::TestApp`], in process on
//! a real port, over SQLite: the server-side suites cover both stores). One test per
//! scenario, so a failure names it: logging in through the form ([`login`]), the
//! inbox kept live and a reply sent from a conversation ([`inbox`]), a conversation
//! of another team refused ([`access`]), leads uploaded to a campaign
//! ([`campaigns`]), and a number paused with its reason ([`numbers`]).
//!
//! Needs `/usr/bin/chromium` and `/usr/bin/chromedriver` (Debian's `chromium` and
//! `chromium-driver`); without them each test prints a note and passes, unless
//! `LEADLINE_REQUIRE_BROWSER=1` (as in CI). `LEADLINE_SCREENSHOTS=1` also saves the
//! pages the tests pass through to `docs/screenshots/` ([`screenshots`]).

mod common;

#[path = "browser/access.rs"]
mod access;
#[path = "browser/campaigns.rs"]
mod campaigns;
#[path = "browser/harness.rs"]
mod harness;
#[path = "browser/inbox.rs"]
mod inbox;
#[path = "browser/login.rs"]
mod login;
#[path = "browser/numbers.rs"]
mod numbers;
#[path = "browser/screenshots.rs"]
mod screenshots;
#[path = "browser/setup.rs"]
mod setup;

use std::sync::Arc;

use common::TestApp;
use leadline_core::SystemClock;
use leadline_server::serve::ServerOptions;
use leadline_store::BackendKind;

/// A server over a fresh SQLite database, started with `options`.
async fn app(options: ServerOptions) -> TestApp {
    TestApp::spawn_with(BackendKind::Sqlite, Arc::new(SystemClock), options)
        .await
        .expect("SQLite is always available")
}
