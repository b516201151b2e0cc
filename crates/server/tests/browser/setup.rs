//! What the scenarios start from, made through the API and the use cases as the other
//! suites do: people who can log in (but have not), sandbox conversations, a campaign,
//! a number. Logging in is the browser's part.

use leadline_core::Email;
use leadline_core::user::Role;
use leadline_server::usecases::logins;
use serde_json::{Value, json};

use super::common::TestApp;
use super::common::console::PASSWORD;
use super::harness::Browser;

/// A person of the app's workspace with the password [`PASSWORD`], not logged in.
pub struct Person {
    pub id: String,
    pub email: String,
}

/// Invites a person with `role` and sets their password.
pub async fn person(app: &TestApp, role: Role, email: &str) -> Person {
    let workspace = app.workspace_id.parse().expect("a workspace id");
    let address = Email::parse(email).expect("a valid email");
    let invited = logins::invite(&app.store, workspace, address, role, None, None)
        .await
        .expect("invited");
    logins::set_password(&app.store, &invited.user, PASSWORD.into())
        .await
        .expect("a password");
    Person {
        id: invited.user.id.to_string(),
        email: email.to_owned(),
    }
}

impl Browser {
    /// Logs `person` in through the login form and waits to leave it.
    pub async fn log_in(&self, person: &Person) {
        self.goto("/console/login").await;
        self.type_into("#email", &person.email).await;
        self.type_into("#password", PASSWORD).await;
        self.click("form[action='/console/login'] button[type=submit]")
            .await;
        self.until(
            "the login form lets the person in",
            super::harness::DEADLINE,
            async || {
                let path = self.path().await;
                if !path.starts_with("/console/login") {
                    return Ok(());
                }
                let error = match self
                    .client
                    .find(fantoccini::Locator::Id("login-error"))
                    .await
                {
                    Ok(error) => error.text().await.unwrap_or_default(),
                    Err(_) => String::new(),
                };
                Err(format!("still at {path} {error}"))
            },
        )
        .await;
    }
}

/// A contact owned by `owner` (so a conversation it opens is assigned to them).
pub async fn owned_contact(app: &TestApp, cellphone: &str, first_name: &str, owner: &Person) {
    let (status, contact) = app
        .upsert_contact(json!({
            "cellphone": cellphone, "firstName": first_name,
            "ownerIdentifier": {"identifier": owner.email, "identifierType": "EMAIL"},
        }))
        .await;
    assert_eq!(status, 200, "{contact}");
}

/// A reply from `from` on the sandbox channel `channel`, as its provider would file
/// it; the message as the API answers.
pub async fn sandbox_reply(app: &TestApp, channel: &str, from: &str, text: &str) -> Value {
    let (status, message) = app
        .post(
            "/api/v1/sandbox/inbound",
            json!({"channelId": channel, "from": from, "text": text}),
        )
        .await;
    assert_eq!(status, 201, "{message}");
    message
}

/// A conversation a lead opened by writing first on a sandbox channel, assigned to the
/// contact's owner `owner`: the channel's and the conversation's ids.
pub async fn conversation_with(
    app: &TestApp,
    owner: &Person,
    cellphone: &str,
    first_name: &str,
    text: &str,
) -> (String, String) {
    owned_contact(app, cellphone, first_name, owner).await;
    let channel = app.sandbox_channel().await;
    let message = sandbox_reply(app, &channel, cellphone, text).await;
    let conversation = message["conversationId"]
        .as_str()
        .expect("the message's conversation")
        .to_owned();
    (channel, conversation)
}

/// A draft SMS campaign on a sandbox channel opening with `welcome` ({{firstName}}).
pub async fn campaign(app: &TestApp) -> String {
    let channel = app.sandbox_channel().await;
    app.create_template(
        json!({"name": "welcome", "language": "en", "body": "Hi {{1}}!", "channelType": "SMS"}),
    )
    .await;
    let (status, campaign) = app
        .post(
            "/api/v1/campaigns",
            json!({"name": "Spring", "channelId": channel, "defaultTimeZone": "America/New_York",
                   "openingTemplate": "welcome", "openingTemplateParams": ["{{firstName}}"]}),
        )
        .await;
    assert_eq!(status, 201, "{campaign}");
    campaign["id"]
        .as_str()
        .expect("the campaign's id")
        .to_owned()
}

/// A team of `members`; its id.
pub async fn team(app: &TestApp, name: &str, members: &[&Person]) -> String {
    let ids: Vec<&str> = members.iter().map(|p| p.id.as_str()).collect();
    let (status, team) = app
        .post("/api/v1/teams", json!({"name": name, "memberUserIds": ids}))
        .await;
    assert_eq!(status, 201, "{team}");
    team["id"].as_str().expect("the team's id").to_owned()
}
