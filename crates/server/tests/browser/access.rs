//! What an advisor may open: a conversation of another team's advisor is a 404 for
//! them, in the browser and over plain HTTP with the browser's session cookie, and
//! shows nothing of the lead.

use leadline_core::user::Role;
use leadline_server::serve::ServerOptions;
use reqwest::header::COOKIE;

use super::common::console::{PASSWORD, log_in};
use super::harness::Browser;
use super::setup::{conversation_with, person, team};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the inbox pages (the conversation page)"]
async fn an_advisor_cannot_open_another_teams_conversation() {
    let app = super::app(ServerOptions::default()).await;
    let Some(browser) = Browser::launch(&app.base).await else {
        return;
    };
    let ana = person(&app, Role::Advisor, "ana@example.com").await;
    let bo = person(&app, Role::Advisor, "bo@example.com").await;
    team(&app, "Openers", &[&ana]).await;
    team(&app, "Closers", &[&bo]).await;
    let secret = "my account number is 4242";
    let (_, conversation) = conversation_with(&app, &bo, "+14155556003", "Rui", secret).await;
    let path = format!("/console/conversations/{conversation}");

    // Bo, whose conversation it is, opens it: the page exists.
    let bo_session = log_in(&app.base, &bo.email, PASSWORD)
        .await
        .unwrap_or_else(|page| panic!("Bo logs in: {page:?}"));
    let own = bo_session.get(&path).await;
    assert_eq!(own.status, 200, "{}", own.body);
    assert!(own.body.contains(secret), "Bo sees the lead's message");

    browser.log_in(&ana).await;
    browser.goto(&path).await;
    assert_eq!(browser.text("h1").await, "Not Found");
    let source = browser.client.source().await.expect("the page's source");
    assert!(
        !source.contains(secret),
        "the 404 shows nothing of the lead"
    );
    assert!(!source.contains("+14155556003"), "nor their number");

    let cookie = browser
        .client
        .get_named_cookie("leadline_session")
        .await
        .expect("the browser's session cookie");
    let answer = super::common::console::client()
        .get(browser.url(&path))
        .header(COOKIE, format!("leadline_session={}", cookie.value()))
        .send()
        .await
        .expect("the console answers");
    assert_eq!(answer.status(), 404);
    let body = answer.text().await.unwrap();
    assert!(!body.contains(secret), "{body}");

    browser.close().await;
    app.stop().await;
}
