//! A person in the console, as a browser without JavaScript sees it: logs in through
//! the form, keeps the session cookie, and sends each form with the CSRF token the
//! pages carry. Redirects are not followed, so tests see where each answer sends.

use leadline_core::Email;
use leadline_core::user::Role;
use leadline_server::usecases::logins;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};

use super::TestApp;

/// The password tests give the people they create.
pub const PASSWORD: &str = "correct horse battery";

/// An answer of the console: its status, body and where it redirects.
#[derive(Debug)]
pub struct Page {
    pub status: u16,
    pub body: String,
    pub location: Option<String>,
}

/// A logged-in person.
pub struct ConsoleSession {
    pub base: String,
    pub client: reqwest::Client,
    /// `leadline_session=…`, as the browser sends it back.
    pub cookie: String,
    pub csrf: String,
    pub user_id: String,
    pub email: String,
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client")
}

async fn page(response: reqwest::Response) -> Page {
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get(LOCATION)
        .map(|v| v.to_str().expect("ascii").to_owned());
    Page {
        status,
        location,
        body: response.text().await.expect("a body"),
    }
}

/// The `name=value` of a cookie the answer sets, if it sets it.
pub fn set_cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .find(|pair| pair.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

/// The value of the first `attribute="…"` in a page.
pub fn attribute(body: &str, attribute: &str) -> Option<String> {
    let start = body.find(&format!("{attribute}=\""))? + attribute.len() + 2;
    let end = body[start..].find('"')? + start;
    Some(body[start..end].to_owned())
}

impl TestApp {
    /// A user of this workspace with `role` and the password [`PASSWORD`], logged in.
    pub async fn console_user(&self, role: Role) -> ConsoleSession {
        let email = format!(
            "{}-{}@example.com",
            role.as_str().to_lowercase(),
            uuid::Uuid::new_v4().simple()
        );
        self.console_user_with_email(role, &email).await
    }

    /// Like [`TestApp::console_user`], with the email chosen.
    pub async fn console_user_with_email(&self, role: Role, email: &str) -> ConsoleSession {
        let workspace = self.workspace_id.parse().expect("a workspace id");
        let email = Email::parse(email).expect("a valid email");
        let invited = logins::invite(&self.store, workspace, email, role, None, None)
            .await
            .expect("invited");
        logins::set_password(&self.store, &invited.user, PASSWORD.into())
            .await
            .expect("a password");
        log_in(&self.base, invited.user.email.as_str(), PASSWORD)
            .await
            .unwrap_or_else(|page| panic!("logs in: {page:?}"))
    }
}

/// Logs in through the form; the page answered instead when it does not.
pub async fn log_in(base: &str, email: &str, password: &str) -> Result<ConsoleSession, Page> {
    let client = client();
    let form = client
        .get(format!("{base}/console/login"))
        .send()
        .await
        .expect("the login page");
    let login_cookie = set_cookie(&form, "leadline_login_csrf").expect("a login form cookie");
    let body = form.text().await.expect("a body");
    let token = hidden_csrf(&body);
    let response = client
        .post(format!("{base}/console/login"))
        .header(COOKIE, login_cookie)
        .form(&[
            ("email", email),
            ("password", password),
            ("csrf", &token),
            ("next", "/console"),
        ])
        .send()
        .await
        .expect("the login answers");
    let Some(cookie) = set_cookie(&response, "leadline_session") else {
        return Err(page(response).await);
    };
    let mut session = ConsoleSession {
        base: base.to_owned(),
        client,
        cookie,
        csrf: String::new(),
        user_id: String::new(),
        email: email.to_owned(),
    };
    let account = session.get("/console/password").await;
    session.csrf = attribute(&account.body, "data-csrf").expect("the layout carries the token");
    session.user_id = attribute(&account.body, "data-user").expect("the layout names the user");
    Ok(session)
}

/// The CSRF token of a page's first form.
pub fn hidden_csrf(body: &str) -> String {
    let at = body
        .find("name=\"csrf\"")
        .expect("a form with a csrf field");
    attribute(&body[at..], "value").expect("a token")
}

impl ConsoleSession {
    pub async fn get(&self, path: &str) -> Page {
        page(
            self.client
                .get(format!("{}{path}", self.base))
                .header(COOKIE, &self.cookie)
                .send()
                .await
                .expect("the console answers"),
        )
        .await
    }

    /// Posts a form as the page would, with the session's CSRF token.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let mut fields = fields.to_vec();
        fields.push(("csrf", &self.csrf));
        self.post_exactly(path, &fields).await
    }

    /// Posts exactly these fields: no token unless the test adds one.
    pub async fn post_exactly(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        page(
            self.client
                .post(format!("{}{path}", self.base))
                .header(COOKIE, &self.cookie)
                .form(fields)
                .send()
                .await
                .expect("the console answers"),
        )
        .await
    }
}
