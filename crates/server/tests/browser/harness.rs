//! Headless Chromium under `chromedriver`, driven over WebDriver with fantoccini.
//!
//! Each test launches its own `chromedriver` on a free 127.0.0.1 port (chromedriver
//! picks it with `--port=0` and says which) in a process group of its own, and one
//! headless Chromium with a fresh profile in a temporary directory. Dropping the
//! [`Browser`] ends the whole group, so a failing test leaves no browser behind.
//!
//! Without `/usr/bin/chromium` or `/usr/bin/chromedriver`, [`Browser::launch`] prints a
//! note and answers `None` (the test returns), unless `LEADLINE_REQUIRE_BROWSER=1`,
//! where it fails. Waits poll the page under a deadline and fail naming what they
//! waited for and what they saw last; nothing sleeps a fixed time.

use std::future::Future;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// How long a page may take to show what a test waits for.
pub const DEADLINE: Duration = Duration::from_secs(15);
/// How long a live page may take to show a change made elsewhere.
pub const LIVE: Duration = Duration::from_secs(5);
/// How often a wait looks at the page again.
const POLL: Duration = Duration::from_millis(50);

/// The desktop window every test starts with.
pub const DESKTOP: (u32, u32) = (1280, 900);

/// One Chromium session against one server.
pub struct Browser {
    pub client: Client,
    /// `http://127.0.0.1:PORT` of the server under test.
    pub base: String,
    driver: Driver,
    _profile: tempfile::TempDir,
}

/// The `chromedriver` process and, in its process group, the browser it started.
struct Driver {
    child: Child,
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The group's id is the driver's pid (see `process_group(0)`): this ends
        // Chromium too, which a killed driver would leave running.
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .stderr(Stdio::null())
                .status();
        }
        let _ = self.child.start_kill();
    }
}

/// Whether the browser suite runs here: both binaries present, or required.
fn available() -> bool {
    let missing: Vec<&str> = [CHROMIUM, CHROMEDRIVER]
        .into_iter()
        .filter(|path| !Path::new(path).exists())
        .collect();
    if missing.is_empty() {
        return true;
    }
    if std::env::var("LEADLINE_REQUIRE_BROWSER").as_deref() == Ok("1") {
        panic!(
            "LEADLINE_REQUIRE_BROWSER=1 but {} missing (apt-get install chromium chromium-driver)",
            missing.join(" and ")
        );
    }
    eprintln!(
        "skipping the browser test: {} missing (apt-get install chromium chromium-driver; \
         LEADLINE_REQUIRE_BROWSER=1 makes this a failure)",
        missing.join(" and ")
    );
    false
}

impl Browser {
    /// A fresh headless Chromium pointed at `base`; `None` when the suite is skipped.
    pub async fn launch(base: &str) -> Option<Browser> {
        if !available() {
            return None;
        }
        let (driver, port) = start_driver().await;
        let profile = tempfile::tempdir().expect("a profile directory");
        let mut args: Vec<String> = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--window-size=1280,900",
            // A small /dev/shm (as in containers) would crash the page otherwise.
            "--disable-dev-shm-usage",
        ]
        .map(str::to_owned)
        .to_vec();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": CHROMIUM, "args": args},
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!()
        };
        let client = within(
            DEADLINE,
            "chromedriver starts a Chromium session",
            ClientBuilder::rustls()
                .expect("a WebDriver client")
                .capabilities(capabilities)
                .connect(&format!("http://127.0.0.1:{port}")),
        )
        .await
        .expect("a Chromium session");
        Some(Browser {
            client,
            base: base.to_owned(),
            driver,
            _profile: profile,
        })
    }

    /// Ends the session (Chromium quits) and the driver.
    pub async fn close(self) {
        let Browser { client, driver, .. } = self;
        let _ = within(DEADLINE, "the Chromium session ends", client.close()).await;
        drop(driver);
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Opens `path` of the server and waits until the page has loaded.
    pub async fn goto(&self, path: &str) {
        let url = self.url(path);
        within(DEADLINE, format!("{url} loads"), self.client.goto(&url))
            .await
            .unwrap_or_else(|e| panic!("opening {url}: {e}"));
    }

    /// The path and query of the page shown.
    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.expect("the current URL");
        match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// The element `css` selects, once the page has one.
    pub async fn find(&self, css: &str) -> Element {
        self.until(
            &format!("the page has {css}"),
            DEADLINE,
            async || match self.client.find(Locator::Css(css)).await {
                Ok(element) => Ok(element),
                Err(error) => Err(format!(
                    "no such element at {} ({error})",
                    self.where_am_i().await
                )),
            },
        )
        .await
    }

    /// The text of the element `css` selects, once there is one.
    pub async fn text(&self, css: &str) -> String {
        let element = self.find(css).await;
        element
            .text()
            .await
            .unwrap_or_else(|e| panic!("the text of {css}: {e}"))
    }

    /// Clicks the element `css` selects, once there is one.
    pub async fn click(&self, css: &str) {
        let element = self.find(css).await;
        element
            .click()
            .await
            .unwrap_or_else(|e| panic!("clicking {css}: {e}"));
    }

    /// Replaces what the field `css` selects holds with `text`, typed.
    pub async fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css).await;
        element
            .clear()
            .await
            .unwrap_or_else(|e| panic!("clearing {css}: {e}"));
        element
            .send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("typing into {css}: {e}"));
    }

    /// Waits until the page's path (and query) is `path`.
    pub async fn wait_for_path(&self, path: &str) {
        self.until(&format!("the browser is at {path}"), DEADLINE, async || {
            let now = self.path().await;
            if now == path {
                Ok(())
            } else {
                Err(format!("at {now}"))
            }
        })
        .await
    }

    /// Runs `probe` until it answers `Ok` (returned), looking again every few
    /// milliseconds; after `limit`, fails naming `what` and the probe's last `Err`.
    pub async fn until<T>(
        &self,
        what: &str,
        limit: Duration,
        mut probe: impl AsyncFnMut() -> Result<T, String>,
    ) -> T {
        let mut last = String::from("nothing yet");
        let mut ticks = tokio::time::interval(POLL);
        let found = tokio::time::timeout(limit, async {
            loop {
                ticks.tick().await;
                match probe().await {
                    Ok(value) => return value,
                    Err(seen) => last = seen,
                }
            }
        })
        .await;
        found.unwrap_or_else(|_| {
            panic!("timed out after {limit:?} waiting until {what}; last saw: {last}")
        })
    }

    /// Runs `script` in the page and returns what it returns.
    pub async fn script(&self, script: &str) -> Value {
        self.client
            .execute(script, Vec::new())
            .await
            .unwrap_or_else(|e| panic!("running {script:?}: {e}"))
    }

    /// Marks the page in `window`: [`Browser::assert_not_reloaded`] checks the mark is
    /// still there, i.e. the browser has not navigated since.
    pub async fn mark_page(&self) -> String {
        let mark = uuid::Uuid::new_v4().to_string();
        self.script(&format!("window.leadlineTestMark = {mark:?}; return true;"))
            .await;
        mark
    }

    pub async fn assert_not_reloaded(&self, mark: &str) {
        let seen = self.script("return window.leadlineTestMark || null;").await;
        assert_eq!(
            seen,
            json!(mark),
            "the page was reloaded or left (its mark is gone) at {}",
            self.where_am_i().await
        );
    }

    /// Waits until the page's event stream is open (`console.js` sets
    /// `data-live="open"` on the element with `data-live-types`), so that what
    /// happens from now on reaches it.
    pub async fn wait_until_live(&self) {
        self.until("the page's event stream is open", DEADLINE, async || {
            let state = self
                .script(
                    "const page = document.querySelector('[data-live-types]'); \
                     return page ? (page.dataset.live || 'connecting') : 'no [data-live-types]';",
                )
                .await;
            if state == json!("open") {
                Ok(())
            } else {
                Err(state.to_string())
            }
        })
        .await
    }

    /// Where the browser is and what the page's heading says, for failure messages.
    pub async fn where_am_i(&self) -> String {
        let path = self.path().await;
        let heading = match self.client.find(Locator::Css("h1")).await {
            Ok(h1) => h1.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        format!("{path} (h1: {heading:?})")
    }

    /// Sets the window so that the page's viewport is `width` × `height` CSS pixels.
    pub async fn set_viewport(&self, width: u32, height: u32) {
        self.client
            .set_window_size(width, height)
            .await
            .expect("the window resizes");
        // The window's frame, if any, takes from the viewport: grow by the difference.
        let inner = self
            .script("return [window.innerWidth, window.innerHeight];")
            .await;
        let (w, h) = (
            inner[0].as_u64().unwrap_or(width.into()) as u32,
            inner[1].as_u64().unwrap_or(height.into()) as u32,
        );
        if (w, h) != (width, height) {
            self.client
                .set_window_size(2 * width - w.min(2 * width), 2 * height - h.min(2 * height))
                .await
                .expect("the window resizes");
        }
    }
}

/// Starts chromedriver on a port it chooses; the driver and that port.
async fn start_driver() -> (Driver, u16) {
    let mut child = Command::new(CHROMEDRIVER)
        .args(["--port=0", "--allowed-ips=127.0.0.1"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("starting {CHROMEDRIVER}: {e}"));
    let stdout = child.stdout.take().expect("chromedriver's stdout");
    let driver = Driver { child };
    let mut lines = BufReader::new(stdout).lines();
    let port = within(DEADLINE, "chromedriver says its port", async {
        while let Some(line) = lines.next_line().await.expect("chromedriver's output") {
            // "ChromeDriver was started successfully on port 42497."
            if let Some(rest) = line.split("successfully on port ").nth(1) {
                return rest.trim_end_matches('.').trim().parse::<u16>().ok();
            }
        }
        None
    })
    .await
    .expect("chromedriver names its port");
    // Keep reading what it prints, so a full pipe never blocks it.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (driver, port)
}

/// Awaits `event` for at most `limit`; fails naming `what` when it has not come.
pub async fn within<T>(
    limit: Duration,
    what: impl std::fmt::Display,
    event: impl Future<Output = T>,
) -> T {
    match tokio::time::timeout(limit, event).await {
        Ok(value) => value,
        Err(_) => panic!("timed out after {limit:?} waiting until {what}"),
    }
}
