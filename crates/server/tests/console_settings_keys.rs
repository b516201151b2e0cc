//! The console's settings on both stores, continued: webhook endpoints (the signing
//! secret shown once, enabling, rotating), API keys (shown once, working, revoked),
//! and forms refused field by field, never with a server error.

mod common;

use common::console::ConsoleSession;
use leadline_core::user::Role;
use reqwest::Method;

/// The text of the element with `id`, e.g. a `<code id="…">` holding a credential, as
/// it appears in the page (HTML-escaped: a `/` of base64 is `&#x2f;`).
fn text_of(body: &str, id: &str) -> String {
    let start = body
        .find(&format!("id=\"{id}\">"))
        .unwrap_or_else(|| panic!("#{id} in {body}"));
    let start = start + id.len() + 6;
    let end = body[start..].find('<').expect("the element ends") + start;
    body[start..end].to_owned()
}

/// The path a page redirects to, without its notice.
fn redirected(page: &common::console::Page) -> String {
    let to = page
        .location
        .as_deref()
        .unwrap_or_else(|| panic!("a redirect: {page:?}"));
    to.split('?').next().unwrap().to_owned()
}

both_stores!(a_webhook_endpoints_secret_is_shown_once, |app| {
    let admin = app.console_user(Role::Admin).await;
    let created = admin
        .post(
            "/console/settings/webhooks",
            &[
                ("url", "http://127.0.0.1:9/leadline"),
                ("description", "CRM"),
                ("rateLimit", "5"),
                ("event.message.received", "on"),
            ],
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.body);
    let secret = text_of(&created.body, "signing-secret");
    assert!(secret.starts_with("whsec_"), "{secret}");
    let list = admin.get("/console/settings/webhooks").await;
    assert!(
        list.body.contains("127.0.0.1:9&#x2f;leadline"),
        "{}",
        list.body
    );
    assert!(!list.body.contains(&secret));
    let id = attribute_after(&list.body, "data-endpoint-id");
    let page = format!("/console/settings/webhooks/{id}");
    let shown = admin.get(&page).await;
    assert!(shown.body.contains("message.received"), "{}", shown.body);
    assert!(!shown.body.contains(&secret), "not shown again");
    // Disabled and enabled again.
    let off = admin
        .post(&format!("{page}/enabled"), &[("enabled", "false")])
        .await;
    assert_eq!(redirected(&off), page);
    assert!(admin.get(&page).await.body.contains("id=\"enable\""));
    let on = admin
        .post(&format!("{page}/enabled"), &[("enabled", "true")])
        .await;
    assert_eq!(on.status, 303);
    assert!(admin.get(&page).await.body.contains("id=\"disable\""));
    // A rotation shows the new secret, once.
    let rotated = admin.post(&format!("{page}/rotate-secret"), &[]).await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let new_secret = text_of(&rotated.body, "signing-secret");
    assert!(new_secret.starts_with("whsec_") && new_secret != secret);
    assert!(!admin.get(&page).await.body.contains(&new_secret));
    // A URL that is not one names the field.
    let bad = admin
        .post(
            "/console/settings/webhooks",
            &[("url", "ftp://x"), ("rateLimit", "lots")],
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(bad.body.contains("<strong>url</strong>"), "{}", bad.body);
    assert!(
        bad.body.contains("<strong>rateLimit</strong>"),
        "{}",
        bad.body
    );
});

fn attribute_after(body: &str, name: &str) -> String {
    common::console::attribute(body, name).unwrap_or_else(|| panic!("{name} in {body}"))
}

both_stores!(an_api_key_is_shown_once_works_and_is_revoked, |app| {
    let admin = app.console_user(Role::Admin).await;
    let created = admin
        .post(
            "/console/settings/api-keys",
            &[
                ("name", "CRM sync"),
                ("scope", "read_only"),
                ("expiresAt", ""),
            ],
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.body);
    let key = text_of(&created.body, "api-key");
    assert!(key.starts_with("ll_"), "{key}");
    let list = admin.get("/console/settings/api-keys").await;
    assert!(list.body.contains("CRM sync"));
    assert!(!list.body.contains(&key), "shown once");
    let with_key = |key: &str| {
        app.anonymous(Method::GET, "/api/v1/users")
            .header("x-api-key", key.to_owned())
            .send()
    };
    assert_eq!(with_key(&key).await.unwrap().status(), 200);
    // Find the new key's row (the test app's own key is listed too).
    let row = list.body.find("CRM sync").unwrap();
    let start = list.body[..row].rfind("data-key-id=\"").unwrap();
    let id = common::console::attribute(&list.body[start..], "data-key-id").unwrap();
    let revoked = admin
        .post(&format!("/console/settings/api-keys/{id}/revoke"), &[])
        .await;
    assert_eq!(revoked.status, 303, "{}", revoked.body);
    let after = admin.get(&revoked.location.unwrap()).await;
    assert!(after.body.contains("was revoked"), "{}", after.body);
    assert!(!after.body.contains("CRM sync"));
    assert_eq!(with_key(&key).await.unwrap().status(), 401);
    let again = admin
        .post(&format!("/console/settings/api-keys/{id}/revoke"), &[])
        .await;
    assert_eq!(again.status, 404);
});

/// Posts `fields` to `action` and expects the form again naming `field`.
async fn refused(admin: &ConsoleSession, action: &str, fields: &[(&str, &str)], field: &str) {
    let page = admin.post(action, fields).await;
    assert!(
        matches!(page.status, 200 | 422),
        "{action}: {} {}",
        page.status,
        page.body
    );
    assert!(
        page.body.contains(&format!("<strong>{field}</strong>")),
        "{action} names {field}: {}",
        page.body
    );
}

both_stores!(bad_fields_are_named_never_a_server_error, |app| {
    let admin = app.console_user(Role::Admin).await;
    let settings = "/console/settings";
    refused(
        &admin,
        &format!("{settings}/api-keys"),
        &[("expiresAt", "tomorrow")],
        "expiresAt",
    )
    .await;
    refused(
        &admin,
        &format!("{settings}/api-keys"),
        &[("scope", "admin")],
        "scope",
    )
    .await;
    refused(
        &admin,
        &format!("{settings}/teams"),
        &[("name", "  ")],
        "name",
    )
    .await;
    refused(
        &admin,
        &format!("{settings}/templates"),
        &[
            ("name", "hi"),
            ("language", "en us"),
            ("channelType", "SMS"),
            ("body", "Hi {{2}}"),
        ],
        "language",
    )
    .await;
    refused(
        &admin,
        &format!("{settings}/agent"),
        &[("agent", "GPT"), ("maxTurns", "x")],
        "maxTurns",
    )
    .await;
    refused(
        &admin,
        &format!("{settings}/agent/scripts"),
        &[("name", "s"), ("script", "{not json")],
        "script",
    )
    .await;
    refused(
        &admin,
        &format!("{settings}/channels"),
        &[
            ("name", "c"),
            ("messageProviderType", "FAX"),
            ("provider", "sandbox"),
        ],
        "messageProviderType",
    )
    .await;
    // A team is created, renamed and given a member.
    let created = admin
        .post(&format!("{settings}/teams"), &[("name", "East")])
        .await;
    let team = redirected(&created);
    let member = format!("member-{}", admin.user_id);
    let saved = admin
        .post(&team, &[("name", "East coast"), (member.as_str(), "on")])
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let list = admin.get(&format!("{settings}/teams")).await;
    assert!(list.body.contains("East coast"), "{}", list.body);
    assert!(list.body.contains(&admin.email), "{}", list.body);
    let taken = admin
        .post(&format!("{settings}/teams"), &[("name", "East coast")])
        .await;
    assert_eq!(taken.status, 422);
    assert!(taken.body.contains("already exists"), "{}", taken.body);
    // The agent's settings save, and an LLM key given is never shown back.
    let saved = admin
        .post(
            &format!("{settings}/agent"),
            &[
                ("agent", "LLM"),
                ("helpReply", "Help here."),
                ("optOutConfirmation", "Bye."),
                ("optInConfirmation", "Welcome back."),
                ("handoffMessage", ""),
                ("maxTurns", "10"),
                ("minReplyDelaySeconds", "2"),
                ("llm.baseUrl", "http://127.0.0.1:9/v1"),
                ("llm.model", "small"),
                ("llm.apiKey", "sk-never-shown-123"),
                ("llm.timeoutSeconds", "20"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let agent = admin.get(saved.location.as_deref().unwrap()).await;
    assert!(
        agent.body.contains("The agent settings were saved"),
        "{}",
        agent.body
    );
    assert!(
        agent.body.contains("<span class=\"badge good\">set</span>"),
        "{}",
        agent.body
    );
    assert!(!agent.body.contains("sk-never-shown-123"));
});
