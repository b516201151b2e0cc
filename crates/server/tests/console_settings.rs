//! The console's settings on both stores: admins only (an advisor is refused every
//! page and every change), inviting a user (the one-time password shown once logs
//! in), ending a user's sessions, and channels whose secrets no page ever shows.

mod common;

use common::console::{ConsoleSession, log_in};
use leadline_core::user::Role;

/// Every settings page, with made-up ids where a page names a row.
fn pages() -> Vec<String> {
    let id = uuid::Uuid::new_v4();
    [
        "",
        "/users",
        &format!("/users/{id}"),
        "/teams",
        &format!("/teams/{id}"),
        "/channels",
        "/channels/new",
        &format!("/channels/{id}"),
        "/templates",
        "/agent",
        "/agent/scripts",
        &format!("/agent/scripts/{id}"),
        "/webhooks",
        &format!("/webhooks/{id}"),
        "/api-keys",
    ]
    .iter()
    .map(|rest| format!("/console/settings{rest}"))
    .collect()
}

/// Every settings form's action.
fn actions() -> Vec<String> {
    let id = uuid::Uuid::new_v4();
    [
        "/users".to_owned(),
        format!("/users/{id}/revoke-sessions"),
        "/teams".to_owned(),
        format!("/teams/{id}"),
        "/channels".to_owned(),
        format!("/channels/{id}/secrets"),
        format!("/channels/{id}/delivery"),
        "/templates".to_owned(),
        format!("/templates/{id}/status"),
        "/agent".to_owned(),
        "/agent/scripts".to_owned(),
        format!("/agent/scripts/{id}"),
        format!("/agent/scripts/{id}/delete"),
        "/webhooks".to_owned(),
        format!("/webhooks/{id}/enabled"),
        format!("/webhooks/{id}/rotate-secret"),
        "/api-keys".to_owned(),
        format!("/api-keys/{id}/revoke"),
    ]
    .iter()
    .map(|rest| format!("/console/settings{rest}"))
    .collect()
}

both_stores!(
    an_advisor_is_refused_every_settings_page_and_change,
    |app| {
        let advisor = app.console_user(Role::Advisor).await;
        for page in pages() {
            let answer = advisor.get(&page).await;
            assert_eq!(answer.status, 403, "{page}: {}", answer.body);
        }
        for action in actions() {
            let answer = advisor
                .post(&action, &[("name", "x"), ("email", "x@example.com")])
                .await;
            assert_eq!(answer.status, 403, "{action}: {}", answer.body);
        }
        let keys = app
            .store
            .api_keys(app.workspace_id.parse().unwrap(), None, 10)
            .await
            .unwrap();
        assert_eq!(keys.len(), 1, "no key was made");
        // An admin opens every page that exists.
        let admin = app.console_user(Role::Admin).await;
        for page in pages() {
            let answer = admin.get(&page).await;
            let expected = if page.matches('-').count() >= 4 {
                404
            } else {
                200
            };
            assert_eq!(answer.status, expected, "{page}: {}", answer.body);
        }
        let index = admin.get("/console/settings").await;
        assert!(
            index.body.contains("/console/settings/webhooks"),
            "{}",
            index.body
        );
    }
);

/// The text of the element with `id`, e.g. a `<code id="…">` holding a credential.
pub fn text_of(body: &str, id: &str) -> String {
    let start = body
        .find(&format!("id=\"{id}\">"))
        .unwrap_or_else(|| panic!("#{id} in {body}"));
    let start = start + id.len() + 6;
    let end = body[start..].find('<').expect("the element ends") + start;
    body[start..end].to_owned()
}

both_stores!(
    an_invited_user_logs_in_with_the_password_shown_once,
    |app| {
        let admin = app.console_user(Role::Admin).await;
        let invited = admin
            .post(
                "/console/settings/users",
                &[
                    ("email", "new.advisor@example.com"),
                    ("role", "ADVISOR"),
                    ("firstName", "Nora"),
                    ("lastName", ""),
                ],
            )
            .await;
        assert_eq!(invited.status, 200, "{}", invited.body);
        let password = text_of(&invited.body, "one-time-password");
        assert!(password.len() >= 10, "{password}");
        assert!(invited.body.contains("Hand it to them"), "{}", invited.body);
        let session = log_in(&app.base, "new.advisor@example.com", &password)
            .await
            .expect("the one-time password logs in");
        assert_eq!(
            session.get("/console").await.location.as_deref(),
            Some("/console/password"),
            "a one-time password is replaced first"
        );
        let users = admin.get("/console/settings/users").await;
        assert!(
            users.body.contains("new.advisor@example.com"),
            "{}",
            users.body
        );
        assert!(!users.body.contains(&password), "shown once");
        // The same email again is refused, naming the field, with what was entered.
        let again = admin
            .post(
                "/console/settings/users",
                &[
                    ("email", "new.advisor@example.com"),
                    ("role", "ADMIN"),
                    ("firstName", "Ann"),
                ],
            )
            .await;
        assert_eq!(again.status, 422, "{}", again.body);
        assert!(
            again.body.contains("<strong>email</strong>"),
            "{}",
            again.body
        );
        assert!(again.body.contains("value=\"Ann\""), "{}", again.body);
        let bad = admin
            .post(
                "/console/settings/users",
                &[("email", "not an email"), ("role", "OWNER")],
            )
            .await;
        assert_eq!(bad.status, 422, "{}", bad.body);
        assert!(bad.body.contains("<strong>role</strong>"), "{}", bad.body);
        assert!(bad.body.contains("<strong>email</strong>"), "{}", bad.body);
    }
);

both_stores!(revoking_a_users_sessions_logs_them_out, |app| {
    let admin = app.console_user(Role::Admin).await;
    let advisor = app.console_user(Role::Advisor).await;
    assert_eq!(advisor.get("/console/password").await.status, 200);
    let page = format!("/console/settings/users/{}", advisor.user_id);
    let sessions = admin.get(&page).await;
    assert_eq!(sessions.status, 200, "{}", sessions.body);
    assert!(sessions.body.contains("in force"), "{}", sessions.body);
    let revoked = admin.post(&format!("{page}/revoke-sessions"), &[]).await;
    assert_eq!(revoked.status, 303, "{}", revoked.body);
    let to = revoked.location.expect("a redirect");
    assert!(admin.get(&to).await.body.contains("sessions were ended"));
    let after = advisor.get("/console/password").await;
    assert_eq!(after.status, 303, "logged out");
    assert!(after.location.unwrap().starts_with("/console/login"));
    assert_eq!(
        admin.get("/console/settings").await.status,
        200,
        "the admin stays"
    );
});

const SECRET: &str = "tok-never-shown-4471";
const REPLACED: &str = "tok-replaced-9905";

async fn no_page_shows(admin: &ConsoleSession, pages: &[&str], secret: &str) {
    for page in pages {
        let answer = admin.get(page).await;
        assert_eq!(answer.status, 200, "{page}");
        assert!(!answer.body.contains(secret), "{page} shows the secret");
    }
}

both_stores!(a_channels_secrets_are_never_shown, |app| {
    let admin = app.console_user(Role::Admin).await;
    let sid = format!("AC{}", "0".repeat(32));
    let settings = format!("{{\"accountSid\": \"{sid}\"}}");
    let fields = [
        ("name", "Twilio main"),
        ("messageProviderType", "SMS"),
        ("provider", "twilio"),
        ("sender", "+14155550100"),
        ("settings", settings.as_str()),
        ("secrets.authToken", SECRET),
    ];
    // A refused form comes back without the secret.
    let mut bad = fields.to_vec();
    bad[3] = ("sender", "not a number");
    let refused = admin.post("/console/settings/channels", &bad).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(
        refused.body.contains("<strong>sender</strong>"),
        "{}",
        refused.body
    );
    assert!(!refused.body.contains(SECRET));
    assert!(
        refused.body.contains("Twilio main"),
        "what was entered stays"
    );
    let created = admin.post("/console/settings/channels", &fields).await;
    assert_eq!(created.status, 303, "{}", created.body);
    let to = created.location.expect("the channel's page");
    let page = to.split('?').next().unwrap().to_owned();
    let shown = admin.get(&to).await;
    assert!(
        shown.body.contains("The channel was created"),
        "{}",
        shown.body
    );
    assert!(
        shown.body.contains("<span class=\"badge good\">set</span>"),
        "{}",
        shown.body
    );
    assert!(shown.body.contains(&sid), "settings are shown");
    let all = [
        "/console/settings/channels",
        "/console/settings/channels/new",
    ];
    no_page_shows(&admin, &[&page, all[0], all[1]], SECRET).await;
    // Replaced: the new one is not shown either, and it is what the channel holds.
    let replaced = admin
        .post(
            &format!("{page}/secrets"),
            &[("secrets.authToken", REPLACED)],
        )
        .await;
    assert_eq!(replaced.status, 303, "{}", replaced.body);
    no_page_shows(&admin, &[&page, all[0]], REPLACED).await;
    let id = page.rsplit('/').next().unwrap().parse().unwrap();
    let channel = app
        .store
        .channel(app.workspace_id.parse().unwrap(), id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(channel.secrets.expose()["authToken"], REPLACED);
    let empty = admin
        .post(&format!("{page}/secrets"), &[("secrets.authToken", "")])
        .await;
    assert_eq!(empty.status, 422);
    assert!(
        empty.body.contains("<strong>secrets</strong>"),
        "{}",
        empty.body
    );
    // Delivery settings: a bad number names its field.
    let delivery = admin
        .post(
            &format!("{page}/delivery"),
            &[
                ("maxConcurrentSends", "5000"),
                ("sendsPerSecond", "1"),
                ("uncertainSends", "hold"),
            ],
        )
        .await;
    assert_eq!(delivery.status, 422);
    assert!(
        delivery
            .body
            .contains("<strong>maxConcurrentSends</strong>"),
        "{}",
        delivery.body
    );
    assert!(
        delivery.body.contains("value=\"5000\""),
        "{}",
        delivery.body
    );
});
