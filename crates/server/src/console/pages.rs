//! Rendering: the templates compiled into the binary (`console/templates`, see
//! `build.rs`), with strict undefined variables so a missing value is an error in
//! tests, not a blank on a page. Every page but the login and error pages is drawn
//! inside `layout.html`, which needs the person, their CSRF token and the section.

use std::sync::LazyLock;

use axum::response::Html;
use minijinja::value::Serde;
use minijinja::{Environment, UndefinedBehavior, Value, context};
use serde::Serialize;

use super::{ConsoleError, ConsoleUser, assets};

static ENVIRONMENT: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut environment = Environment::new();
    environment.set_undefined_behavior(UndefinedBehavior::Strict);
    minijinja_embed::load_templates!(&mut environment);
    environment
});

/// The sections of the console's navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Section {
    Inbox,
    Campaigns,
    Numbers,
    Settings,
    Account,
}

/// Renders `template` inside the layout, for `user`, with `section` highlighted.
pub fn render(
    user: &ConsoleUser,
    section: Section,
    template: &str,
    page: Value,
) -> Result<Html<String>, ConsoleError> {
    let context = context! {
        me => context! {
            id => user.viewer.user_id.to_string(),
            name => user.display_name(),
            email => user.session.email.as_str(),
            role => user.viewer.role.as_str(),
            is_admin => user.viewer.is_admin(),
        },
        csrf => &user.session.csrf_token,
        section => Serde(section),
        assets => context! {
            stylesheet => &assets::URLS.stylesheet,
            script => &assets::URLS.script,
        },
        ..page
    };
    render_template(template, context).map_err(|error| ConsoleError::Internal(error.to_string()))
}

/// Renders a page that stands alone (login, errors), with the stylesheet only. A
/// template that fails to render gives a plain message rather than another error.
pub fn render_bare(template: &str, page: Value) -> Html<String> {
    let context = context! {
        assets => context! { stylesheet => &assets::URLS.stylesheet },
        ..page
    };
    render_template(template, context).unwrap_or_else(|error| {
        tracing::error!(%error, template, "a console page failed to render");
        Html("<!doctype html><title>leadline</title><p>This page could not be drawn; the server logged why.".to_owned())
    })
}

fn render_template(template: &str, context: Value) -> Result<Html<String>, minijinja::Error> {
    ENVIRONMENT
        .get_template(template)?
        .render(context)
        .map(Html)
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_template_compiles() {
        let environment = &*super::ENVIRONMENT;
        let names: Vec<_> = environment
            .templates()
            .map(|(name, _)| name.to_owned())
            .collect();
        assert!(
            names.iter().any(|n| n == "layout.html"),
            "templates: {names:?}"
        );
    }
}
