//! Webhook endpoints: the checks of their fields, and how long a rotated secret keeps
//! signing. Every fault names its field: `url` (http or https, and allowed by the
//! outbound guard, whose reason is given), `description`, each `eventTypes[i]` and
//! `rateLimit`.

use std::time::Duration;

use leadline_core::FieldErrors;
use leadline_core::event::{EventFilter, EventType};
use leadline_providers::outbound::OutboundClient;
use leadline_store::webhook_endpoints::NewWebhookEndpoint;

/// How long the secret before a rotation keeps signing beside the new one.
pub const PREVIOUS_SECRET_OVERLAP: Duration = Duration::from_secs(24 * 60 * 60);
/// Longest URL accepted, in characters.
pub const URL_MAX: usize = 2000;
/// Longest description accepted, in characters once trimmed.
pub const DESCRIPTION_MAX: usize = 1000;
/// Deliveries per second an endpoint may be limited to, at most.
pub const RATE_LIMIT_MAX: u32 = 10_000;

/// An endpoint to create, or every field that is wrong. No `event_types` means every
/// type; no `enabled` means enabled.
pub async fn checked_new(
    guard: &OutboundClient,
    url: &str,
    description: Option<&str>,
    event_types: Option<&[String]>,
    enabled: Option<bool>,
    rate_limit: Option<u32>,
) -> Result<NewWebhookEndpoint, FieldErrors> {
    let mut errors = FieldErrors::new();
    let url = checked_url(&mut errors, guard, url).await;
    let description = checked_description(&mut errors, description);
    let event_types = match event_types {
        None => EventFilter::All,
        Some(names) => checked_event_types(&mut errors, names),
    };
    let rate_limit = rate_limit.and_then(|limit| checked_rate_limit(&mut errors, limit));
    errors.finish(())?;
    Ok(NewWebhookEndpoint {
        url: url.expect("checked above"),
        description,
        event_types,
        enabled: enabled.unwrap_or(true),
        rate_limit,
    })
}

/// `http://` or `https://` (in any case), then a host, and no whitespace anywhere. The
/// URL parser alone would accept more (`http:///host`, spaces it encodes or drops), so
/// the shape is checked first, as the schema states it.
pub fn url_shape_is_right(url: &str) -> bool {
    let rest = ["https://", "http://"].iter().find_map(|scheme| {
        url.get(..scheme.len())
            .filter(|head| head.eq_ignore_ascii_case(scheme))
            .map(|_| &url[scheme.len()..])
    });
    rest.is_some_and(|rest| !rest.is_empty() && !rest.starts_with(['/', '?', '#']))
        && !url.chars().any(char::is_whitespace)
}

/// An http(s) URL the outbound guard allows, as given.
pub async fn checked_url(
    errors: &mut FieldErrors,
    guard: &OutboundClient,
    raw: &str,
) -> Option<String> {
    let url = raw;
    if url.chars().count() > URL_MAX {
        errors.push("url", format!("must be at most {URL_MAX} characters"));
        return None;
    }
    match reqwest::Url::parse(url) {
        Ok(parsed) if url_shape_is_right(url) && parsed.has_host() => {}
        _ => {
            errors.push(
                "url",
                "must be an http or https URL with a host, e.g. https://example.com/leadline",
            );
            return None;
        }
    }
    match guard.check_url(url).await {
        Ok(()) => Some(url.to_owned()),
        Err(refusal) => {
            errors.push("url", refusal.to_string());
            None
        }
    }
}

/// The description trimmed, at most [`DESCRIPTION_MAX`] characters; empty when none.
pub fn checked_description(errors: &mut FieldErrors, raw: Option<&str>) -> String {
    let text = raw.unwrap_or_default().trim();
    if text.chars().count() > DESCRIPTION_MAX {
        errors.push(
            "description",
            format!("must be at most {DESCRIPTION_MAX} characters"),
        );
    }
    text.to_owned()
}

/// Known event types, at least one, each once (a repeat is dropped).
pub fn checked_event_types(errors: &mut FieldErrors, names: &[String]) -> EventFilter {
    if names.is_empty() {
        errors.push(
            "eventTypes",
            "must list at least one event type; leave it out or send null for every type",
        );
    }
    let mut types = Vec::with_capacity(names.len());
    for (n, name) in names.iter().enumerate() {
        match EventType::parse(name) {
            Some(kind) if !types.contains(&kind) => types.push(kind),
            Some(_) => {}
            None => errors.push(
                format!("eventTypes[{n}]"),
                format!("is not an event type; one of {}", EventType::expected()),
            ),
        }
    }
    EventFilter::Only(types)
}

pub fn checked_rate_limit(errors: &mut FieldErrors, limit: u32) -> Option<u32> {
    if (1..=RATE_LIMIT_MAX).contains(&limit) {
        Some(limit)
    } else {
        errors.push(
            "rateLimit",
            format!("must be a whole number of deliveries per second from 1 to {RATE_LIMIT_MAX}, or null for no limit"),
        );
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(errors: FieldErrors) -> Vec<String> {
        errors.into_vec().into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn event_types_name_each_unknown_entry() {
        let mut errors = FieldErrors::new();
        let names = ["lead.added", "nope", "lead.added", "x"].map(String::from);
        let filter = checked_event_types(&mut errors, &names);
        assert_eq!(filter, EventFilter::Only(vec![EventType::LeadAdded]));
        assert_eq!(fields(errors), ["eventTypes[1]", "eventTypes[3]"]);
    }

    #[test]
    fn urls_need_a_scheme_a_host_and_no_spaces() {
        for good in [
            "https://example.com/hook",
            "HTTP://example.com",
            "http://a:8080?x=1",
        ] {
            assert!(url_shape_is_right(good), "{good}");
        }
        for bad in [
            "ftp://example.com",
            "http:///example.com",
            "https://",
            "https://a b",
            " https://a",
            "example.com",
        ] {
            assert!(!url_shape_is_right(bad), "{bad}");
        }
    }

    #[test]
    fn an_empty_list_is_refused() {
        let mut errors = FieldErrors::new();
        checked_event_types(&mut errors, &[]);
        assert_eq!(fields(errors), ["eventTypes"]);
    }

    #[test]
    fn rate_limits_run_from_one_to_ten_thousand() {
        let mut errors = FieldErrors::new();
        assert_eq!(checked_rate_limit(&mut errors, 1), Some(1));
        assert_eq!(checked_rate_limit(&mut errors, 10_000), Some(10_000));
        assert!(errors.is_empty());
        assert_eq!(checked_rate_limit(&mut errors, 0), None);
        assert_eq!(checked_rate_limit(&mut errors, 10_001), None);
        assert_eq!(fields(errors), ["rateLimit", "rateLimit"]);
    }

    #[test]
    fn descriptions_are_trimmed_and_bounded() {
        let mut errors = FieldErrors::new();
        assert_eq!(checked_description(&mut errors, Some("  CRM  ")), "CRM");
        assert_eq!(checked_description(&mut errors, None), "");
        assert!(errors.is_empty());
        checked_description(&mut errors, Some(&"x".repeat(1001)));
        assert_eq!(fields(errors), ["description"]);
    }
}
