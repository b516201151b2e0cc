//! The inbox and a conversation, live: a lead's reply shows in the open inbox without
//! a reload, and an advisor takes a conversation over from the AI, replies, and sees
//! the reply's delivery as the sandbox provider reports it.

use leadline_core::user::Role;
use leadline_server::serve::ServerOptions;
use serde_json::json;

use super::common::dispatch_steps::stepped;
use super::harness::{Browser, DEADLINE, LIVE};
use super::setup::{conversation_with, person, sandbox_reply};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the inbox pages (/console/inbox and /console/events)"]
async fn a_reply_shows_in_the_open_inbox_without_a_reload() {
    let app = super::app(ServerOptions::default()).await;
    let Some(browser) = Browser::launch(&app.base).await else {
        return;
    };
    let ana = person(&app, Role::Advisor, "ana@example.com").await;
    let lead = "+14155556001";
    let (channel, conversation) =
        conversation_with(&app, &ana, lead, "Lucia", "Hi, I got your message").await;

    browser.log_in(&ana).await;
    browser.wait_for_path("/console/inbox").await;
    let row = format!("#conversations li[data-conversation-id='{conversation}']");
    let excerpt = browser.text(&format!("{row} .excerpt")).await;
    assert!(excerpt.contains("I got your message"), "{excerpt}");
    let tab = browser.text(".tabs [aria-current='page']").await;
    assert_eq!(
        tab, "Mine",
        "the inbox opens on the person's own conversations"
    );
    browser.screenshot("inbox").await;

    browser.wait_until_live().await;
    let mark = browser.mark_page().await;
    sandbox_reply(&app, &channel, lead, "Can we talk tomorrow at 10?").await;
    browser
        .until("the reply shows in the inbox's row", LIVE, async || {
            let excerpt = browser
                .script(&format!(
                    "const e = document.querySelector(\"{row} .excerpt\"); \
                     return e ? e.textContent : null;"
                ))
                .await;
            match excerpt.as_str() {
                Some(text) if text.contains("tomorrow at 10") => Ok(()),
                _ => Err(format!("excerpt {excerpt}")),
            }
        })
        .await;
    browser.assert_not_reloaded(&mark).await;
    let unread = browser
        .find(&format!("{row} .badge.count[data-unread]"))
        .await
        .attr("data-unread")
        .await
        .unwrap()
        .and_then(|n| n.parse::<u32>().ok());
    assert!(unread.is_some_and(|n| n > 0), "unread: {unread:?}");

    browser.close().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the inbox pages (the conversation page, take-over and reply)"]
async fn an_advisor_takes_over_replies_and_sees_it_delivered() {
    let app = super::app(stepped()).await;
    let Some(browser) = Browser::launch(&app.base).await else {
        return;
    };
    let admin = person(&app, Role::Admin, "admin@example.com").await;
    let opened = app.open_leadscout("+14155556002").await;
    let conversation = opened.conversation_id.as_str();
    let path = format!("/console/conversations/{conversation}");

    browser.log_in(&admin).await;
    browser.goto("/console/inbox?tab=ai").await;
    browser
        .click(&format!("#conversations a[href='{path}']"))
        .await;
    browser.wait_for_path(&path).await;
    browser.find("#messages").await;

    browser.click("#take-over").await;
    browser
        .until("the conversation is the advisor's", DEADLINE, async || {
            let (_, now) = app
                .get(&format!("/api/v1/conversations/{conversation}"))
                .await;
            if now["controller"] == "HUMAN" {
                Ok(())
            } else {
                Err(format!("controller {}", now["controller"]))
            }
        })
        .await;
    browser.wait_for_path(&path).await;

    let text = "Hi Ana, this is your advisor. When suits you?";
    browser.type_into("#reply-body", text).await;
    browser.click("#send-reply").await;
    let script = format!(
        "for (const m of document.querySelectorAll('#messages li[data-direction=outbound]')) {{ \
           const body = m.querySelector('.body'); \
           if (body && body.textContent.includes({text:?})) return m.dataset.messageId; }} \
         return null;"
    );
    let message = browser
        .until(
            "the reply is listed in #messages",
            DEADLINE,
            async || match browser.script(&script).await {
                serde_json::Value::String(id) => Ok(id),
                other => Err(format!(
                    "no such outbound message ({other}) at {}",
                    browser.where_am_i().await
                )),
            },
        )
        .await;

    // Sent and delivered once the page listens, so the page must learn it live.
    browser.wait_until_live().await;
    app.wait_for_status(conversation, &message, "delivered")
        .await;
    let item = format!("#messages li[data-message-id='{message}']");
    browser
        .until("the reply shows as delivered", LIVE, async || {
            let status = browser
                .script(&format!(
                    "const m = document.querySelector(\"{item}\"); \
                     return m ? m.dataset.status : null;"
                ))
                .await;
            if status == json!("delivered") {
                Ok(())
            } else {
                Err(format!("data-status {status}"))
            }
        })
        .await;
    browser.screenshot("conversation").await;

    browser.close().await;
    app.stop().await;
}
