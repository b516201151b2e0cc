//! Logging in through the login form, as a person does: a wrong password is refused
//! on the form, the right one lands on the inbox, and the session cookie the browser
//! keeps opens the console's other pages.

use leadline_core::user::Role;
use leadline_server::serve::ServerOptions;

use super::harness::Browser;
use super::setup::person;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_logs_in_through_the_form_and_lands_on_the_inbox() {
    let app = super::app(ServerOptions::default()).await;
    let Some(browser) = Browser::launch(&app.base).await else {
        return;
    };
    let ana = person(&app, Role::Advisor, "ana@example.com").await;

    // The console sends a stranger to the login form, and back after.
    browser.goto("/console").await;
    browser
        .wait_for_path("/console/login?next=%2Fconsole")
        .await;
    browser.find("#email").await;
    browser.screenshot("login").await;

    browser.type_into("#email", &ana.email).await;
    browser.type_into("#password", "not the password").await;
    browser
        .click("form[action='/console/login'] button[type=submit]")
        .await;
    let refusal = browser.text("#login-error").await;
    assert!(refusal.contains("do not match an account"), "{refusal}");
    let kept = browser.find("#email").await.prop("value").await.unwrap();
    assert_eq!(
        kept.as_deref(),
        Some(ana.email.as_str()),
        "the email is kept"
    );
    browser.screenshot("login-refused").await;

    browser.log_in(&ana).await;
    browser.wait_for_path("/console/inbox").await;

    let cookie = browser
        .client
        .get_named_cookie("leadline_session")
        .await
        .expect("the browser keeps the session cookie");
    assert_eq!(cookie.http_only(), Some(true), "{cookie}");
    browser.goto("/console/password").await;
    assert_eq!(browser.text("h1").await, "Change password");
    browser.screenshot("password").await;
    let user = browser.find("body").await.attr("data-user").await.unwrap();
    assert_eq!(user.as_deref(), Some(ana.id.as_str()), "the page is Ana's");

    browser.close().await;
    app.stop().await;
}
