//! Screenshots of the console for `docs/screenshots/`, taken by the browser tests at
//! their key moments when `LEADLINE_SCREENSHOTS=1`: each moment as `NAME-desktop.png`
//! (1280×900) and `NAME-phone.png` (390×844). Without the variable this does nothing.

use std::path::PathBuf;

use super::harness::{Browser, DESKTOP};

/// The phone's viewport, in CSS pixels.
pub const PHONE: (u32, u32) = (390, 844);

/// Where the screenshots go: `docs/screenshots/` of the repository.
pub fn directory() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/screenshots")
}

fn wanted() -> bool {
    std::env::var("LEADLINE_SCREENSHOTS").as_deref() == Ok("1")
}

impl Browser {
    /// Saves the page as `NAME-desktop.png` and `NAME-phone.png` when screenshots are
    /// wanted, and leaves the window at its desktop size.
    pub async fn screenshot(&self, name: &str) {
        if !wanted() {
            return;
        }
        let directory = directory();
        std::fs::create_dir_all(&directory).expect("the screenshots directory");
        for (size, (width, height)) in [("desktop", DESKTOP), ("phone", PHONE)] {
            self.set_viewport(width, height).await;
            // The layout for the new width is in place once a frame has been drawn.
            self.client
                .execute_async(
                    "const done = arguments[arguments.length - 1]; \
                     requestAnimationFrame(() => requestAnimationFrame(() => done(true)));",
                    Vec::new(),
                )
                .await
                .expect("a frame is drawn");
            let png = self.client.screenshot().await.expect("a screenshot");
            let path = directory.join(format!("{name}-{size}.png"));
            std::fs::write(&path, png)
                .unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        }
        self.set_viewport(DESKTOP.0, DESKTOP.1).await;
    }
}
