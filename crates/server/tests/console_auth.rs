//! Console logins on both stores: the login form, sessions in cookies that end when
//! idle, at logout and when revoked, CSRF on every change, one-time passwords, the
//! login throttle, and admin-only pages.

mod common;

use std::sync::Arc;

use chrono::{Duration, Utc};
use common::TestApp;
use common::console::{PASSWORD, client, hidden_csrf, log_in, set_cookie};
use leadline_core::ManualClock;
use leadline_core::user::Role;
use leadline_server::serve::ServerOptions;
use leadline_store::BackendKind;
use reqwest::header::{COOKIE, ORIGIN};

both_stores!(a_person_logs_in_and_gets_a_locked_down_cookie, |app| {
    let session = app.console_user(Role::Advisor).await;
    assert!(session.cookie.starts_with("leadline_session="));
    // The answer that set it: HttpOnly, SameSite=Lax, scoped to the console.
    let login = client()
        .get(format!("{}/console/login", app.base))
        .send()
        .await
        .unwrap();
    let form_cookie = set_cookie(&login, "leadline_login_csrf").unwrap();
    let token = hidden_csrf(&login.text().await.unwrap());
    let answer = client()
        .post(format!("{}/console/login", app.base))
        .header(COOKIE, form_cookie)
        .form(&[
            ("email", session.email.as_str()),
            ("password", PASSWORD),
            ("csrf", &token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 303);
    let header = answer
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with("leadline_session="))
        .expect("a session cookie");
    assert!(header.contains("HttpOnly"), "{header}");
    assert!(header.contains("SameSite=Lax"), "{header}");
    assert!(header.contains("Path=/console"), "{header}");
    // The console opens; the root sends a browser to it.
    let home = session.get("/console").await;
    assert_eq!(home.status, 303);
    assert_eq!(home.location.as_deref(), Some("/console/inbox"));
    let root = session.get("/").await;
    assert_eq!(root.location.as_deref(), Some("/console"));
});

both_stores!(
    a_wrong_password_and_an_unknown_email_get_the_same_refusal,
    |app| {
        let session = app.console_user(Role::Admin).await;
        let wrong = log_in(&app.base, &session.email, "not the password")
            .await
            .err()
            .expect("refused");
        let unknown = log_in(&app.base, "nobody@example.com", PASSWORD)
            .await
            .err()
            .expect("refused");
        for page in [&wrong, &unknown] {
            assert_eq!(page.status, 200);
            assert!(
                page.body.contains("do not match an account"),
                "{}",
                page.body
            );
        }
        let invalid = log_in(&app.base, "not an email", PASSWORD)
            .await
            .err()
            .expect("refused");
        assert!(invalid.body.contains("email:"), "{}", invalid.body);
    }
);

both_stores!(without_a_session_every_page_sends_to_the_login, |app| {
    let answer = client()
        .get(format!("{}/console/password", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 303);
    assert_eq!(
        answer.headers()["location"].to_str().unwrap(),
        "/console/login?next=%2Fconsole%2Fpassword"
    );
    let forged = client()
        .get(format!("{}/console/password", app.base))
        .header(COOKIE, "leadline_session=made-up")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 303);
});

both_stores!(changes_without_the_sessions_token_are_refused, |app| {
    let session = app.console_user(Role::Advisor).await;
    let fields = [
        ("current", PASSWORD),
        ("new", "another long one"),
        ("repeat", "another long one"),
    ];
    let bare = session.post_exactly("/console/password", &fields).await;
    assert_eq!(bare.status, 403, "{}", bare.body);
    let mut wrong = fields.to_vec();
    wrong.push(("csrf", "not-the-token"));
    assert_eq!(
        session
            .post_exactly("/console/password", &wrong)
            .await
            .status,
        403
    );
    // Another site's page posting with the browser's cookie and a stolen token.
    let cross_site = session
        .client
        .post(format!("{}/console/logout", app.base))
        .header(COOKIE, &session.cookie)
        .header(ORIGIN, "https://evil.example")
        .form(&[("csrf", session.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), 403);
    assert_eq!(
        session.get("/console/password").await.status,
        200,
        "still logged in"
    );
    // The login form needs its own cookie's token too.
    let login = client()
        .post(format!("{}/console/login", app.base))
        .form(&[
            ("email", session.email.as_str()),
            ("password", PASSWORD),
            ("csrf", "guess"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 403);
});

both_stores!(logout_ends_the_session_for_good, |app| {
    let session = app.console_user(Role::Advisor).await;
    let out = session.post("/console/logout", &[]).await;
    assert_eq!(out.status, 303);
    assert_eq!(out.location.as_deref(), Some("/console/login"));
    assert_eq!(session.get("/console/password").await.status, 303);
});

both_stores!(a_new_password_ends_the_other_sessions, |app| {
    let first = app.console_user(Role::Advisor).await;
    let second = log_in(&app.base, &first.email, PASSWORD)
        .await
        .expect("a second login");
    let short = first
        .post(
            "/console/password",
            &[("current", PASSWORD), ("new", "short"), ("repeat", "short")],
        )
        .await;
    assert_eq!(short.status, 200);
    assert!(
        short.body.contains("new: must be at least 10 characters"),
        "{}",
        short.body
    );
    let changed = first
        .post(
            "/console/password",
            &[
                ("current", PASSWORD),
                ("new", "a brand new secret"),
                ("repeat", "a brand new secret"),
            ],
        )
        .await;
    assert_eq!(changed.status, 303, "{}", changed.body);
    assert_eq!(
        first.get("/console/password").await.status,
        200,
        "this session stays"
    );
    assert_eq!(
        second.get("/console/password").await.status,
        303,
        "the other ended"
    );
    assert!(log_in(&app.base, &first.email, PASSWORD).await.is_err());
    assert!(
        log_in(&app.base, &first.email, "a brand new secret")
            .await
            .is_ok()
    );
});

both_stores!(a_one_time_password_must_be_replaced_first, |app| {
    let workspace = app.workspace_id.parse().unwrap();
    let email = leadline_core::Email::parse("invited@example.com").unwrap();
    let invited = leadline_server::usecases::logins::invite(
        &app.store,
        workspace,
        email,
        Role::Advisor,
        None,
        None,
    )
    .await
    .unwrap();
    let session = log_in(&app.base, "invited@example.com", &invited.one_time_password)
        .await
        .expect("the one-time password logs in");
    assert_eq!(
        session.get("/console").await.location.as_deref(),
        Some("/console/password")
    );
    let page = session.get("/console/password").await;
    assert!(page.body.contains("one-time password"), "{}", page.body);
    let chosen = session
        .post(
            "/console/password",
            &[
                ("current", &invited.one_time_password),
                ("new", "my own password"),
                ("repeat", "my own password"),
            ],
        )
        .await;
    assert_eq!(chosen.status, 303);
    assert_eq!(
        session.get("/console").await.location.as_deref(),
        Some("/console/inbox")
    );
});

both_stores!(guessing_passwords_is_stopped, |app| {
    let session = app.console_user(Role::Advisor).await;
    let mut statuses = Vec::new();
    for _ in 0..12 {
        let page = log_in(&app.base, &session.email, "a wrong guess")
            .await
            .err()
            .expect("refused");
        statuses.push(page.status);
    }
    // Ten attempts at once, the login that made the session among them.
    assert_eq!(&statuses[..9], &[200; 9]);
    assert_eq!(statuses[9], 429, "{statuses:?}");
    // Even the right password waits now.
    let page = log_in(&app.base, &session.email, PASSWORD)
        .await
        .err()
        .expect("throttled");
    assert_eq!(page.status, 429);
});

async fn app_at(kind: BackendKind, clock: Arc<ManualClock>) -> Option<TestApp> {
    TestApp::spawn_with(
        kind,
        clock,
        ServerOptions {
            without_dispatcher: true,
            ..ServerOptions::default()
        },
    )
    .await
}

async fn sessions_end_when_idle(kind: BackendKind) {
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let Some(app) = app_at(kind, clock.clone()).await else {
        return;
    };
    let session = app.console_user(Role::Advisor).await;
    // Used every 11 hours, it lasts past the idle limit.
    for _ in 0..3 {
        clock.advance(Duration::hours(11));
        assert_eq!(session.get("/console/password").await.status, 200);
    }
    clock.advance(Duration::hours(13));
    assert_eq!(
        session.get("/console/password").await.status,
        303,
        "idle too long"
    );
    // However busy, a session ends seven days after its login.
    let busy = log_in(&app.base, &session.email, PASSWORD).await.unwrap();
    for _ in 0..15 {
        clock.advance(Duration::hours(11));
        assert_eq!(busy.get("/console/password").await.status, 200);
    }
    clock.advance(Duration::hours(11));
    assert_eq!(
        busy.get("/console/password").await.status,
        303,
        "past its longest life"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_end_when_idle_sqlite() {
    sessions_end_when_idle(BackendKind::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_end_when_idle_postgres() {
    sessions_end_when_idle(BackendKind::Postgres).await;
}
