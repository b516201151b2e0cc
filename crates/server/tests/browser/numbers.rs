//! A number paused from the numbers page, with the reason shown in its row.

use leadline_core::user::Role;
use leadline_server::serve::ServerOptions;
use serde_json::json;

use super::harness::{Browser, DEADLINE};
use super::setup::person;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the numbers page (/console/numbers and its pause form)"]
async fn a_number_paused_with_a_reason_shows_it_in_its_row() {
    let app = super::app(ServerOptions::default()).await;
    let Some(browser) = Browser::launch(&app.base).await else {
        return;
    };
    let admin = person(&app, Role::Admin, "admin@example.com").await;
    let (status, number) = app
        .post("/api/v1/phone-numbers", json!({"number": "+14155552671"}))
        .await;
    assert_eq!(status, 201, "{number}");
    let id = number["id"].as_str().unwrap();
    let row = format!("#numbers tr[data-number-id='{id}']");

    browser.log_in(&admin).await;
    browser.goto("/console/numbers").await;
    let phone = browser.find(&row).await.attr("data-phone").await.unwrap();
    assert_eq!(phone.as_deref(), Some("+14155552671"));
    assert_eq!(browser.text(&format!("{row} .reason")).await, "");

    let reason = "Carrier flagged it as spam";
    browser
        .type_into(&format!("{row} form.pause input[name=reason]"), reason)
        .await;
    browser
        .click(&format!("{row} form.pause [type=submit]"))
        .await;
    browser
        .until("the row shows the reason", DEADLINE, async || {
            let shown = browser
                .script(&format!(
                    "const r = document.querySelector(\"{row} .reason\"); \
                     return r ? r.textContent : null;"
                ))
                .await;
            match shown.as_str() {
                Some(text) if text.contains(reason) => Ok(()),
                _ => Err(format!(".reason {shown}")),
            }
        })
        .await;
    browser.screenshot("numbers").await;

    browser.close().await;
    app.stop().await;
}
