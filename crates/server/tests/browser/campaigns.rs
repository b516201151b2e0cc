//! A campaign's leads uploaded as a CSV file from its page: the result names what was
//! accepted and offers the rejected rows, and the campaign's progress counts the new
//! leads.

use leadline_core::user::Role;

use super::common::dispatch_steps::stepped;
use super::harness::{Browser, DEADLINE};
use super::setup::{campaign, person};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the campaign pages (/console/campaigns/ID and its leads upload)"]
async fn leads_uploaded_as_csv_are_counted_on_the_campaign_page() {
    // No scheduler: the leads stay new while the test looks.
    let app = super::app(stepped()).await;
    let Some(browser) = Browser::launch(&app.base).await else {
        return;
    };
    let admin = person(&app, Role::Admin, "admin@example.com").await;
    let campaign = campaign(&app).await;
    let directory = tempfile::tempdir().unwrap();
    let file = directory.path().join("leads.csv");
    std::fs::write(
        &file,
        "phoneNumber,externalId,timeZoneId,firstName\n\
         +12125550101,a-1,Eastern Standard Time,Ana\n\
         (415) 555-0102,a-2,,Ben\n\
         not-a-number,a-3,,Cy\n",
    )
    .unwrap();

    browser.log_in(&admin).await;
    browser
        .goto(&format!("/console/campaigns/{campaign}"))
        .await;
    browser.find("#progress").await;
    browser.screenshot("campaign").await;

    // A file input takes the file's path as typed keys.
    let input = browser.find("#leads-file").await;
    input
        .send_keys(file.to_str().expect("a UTF-8 path"))
        .await
        .expect("the file is chosen");
    browser.click("#upload-leads [type=submit]").await;

    let result = browser.text("#upload-result").await;
    assert!(result.contains('2'), "two rows accepted: {result}");
    assert!(result.contains('1'), "one row rejected: {result}");
    let rejected = browser
        .find("#rejected-rows")
        .await
        .attr("href")
        .await
        .unwrap();
    assert!(rejected.is_some_and(|href| !href.is_empty()));
    browser
        .until("the progress counts two new leads", DEADLINE, async || {
            let count = browser
                .script(
                    "const c = document.querySelector('#progress [data-lead-status=New]'); \
                     return c ? c.textContent.trim() : null;",
                )
                .await;
            if count == "2" {
                Ok(())
            } else {
                Err(format!("New: {count}"))
            }
        })
        .await;
    browser.screenshot("campaign-uploaded").await;

    browser.close().await;
    app.stop().await;
}
