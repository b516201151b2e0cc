//! Who may call a Kannel channel's webhook: the holder of the channel's webhook secret,
//! from an allowed address.
//!
//! Kannel calls a fixed URL template (the `dlr-url` of each send, the `get-url` of the
//! `sms-service`) and signs nothing itself. So leadline puts HTTP Basic credentials
//! derived from the secret into the URLs' userinfo, `http://kannel:{credential}@host/…`:
//! Kannel's HTTP client (gwlib `parse_url` → `http_add_basic_auth`) sends them as an
//! `Authorization: Basic` header, not in the request line. Every DLR and MO must carry
//! them; a DLR must also carry `sig`, the MAC of its message id under the same secret.
//!
//! What this covers: the credentials authenticate the whole request as coming from
//! someone who holds the channel's secret (Kannel), and so cover the reported status
//! (`type`), which Kannel fills in only at report time and which therefore cannot be
//! MAC'd when the URL is made — a MAC per possible status would sit in the same URL,
//! and whoever saw it could pick the one they want. The `sig` binds the message id to
//! the secret, so credentials alone do not let a caller report on arbitrary messages.
//! Neither keeps the request from being read or changed on the wire: use HTTPS (or a
//! private network) between Kannel and leadline.
//!
//! Rotation: `POST /api/v1/channels/{id}/rotate-webhook-secret` makes a new secret and
//! keeps the old one as `previousWebhookSecret` (`{"secret", "validUntil"}`) for
//! [`super::PREVIOUS_SECRET_GRACE`]: the old `get-url` and the `dlr-url`s of messages
//! already sent keep working until then, judged on the server's clock.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::mac_hex;
use crate::config::Secret;
use crate::signature::equal;
use crate::source_allow_list::SourceAllowList;
use crate::webhook_input::header;
use crate::{Settings, WebhookError, WebhookRequest};

/// The user name of the credentials in Kannel's URLs.
pub const CREDENTIALS_USER: &str = "kannel";

/// The password of the credentials for a secret: 128 bits of its MAC, hex, so it
/// needs no escaping in a URL's userinfo (gwlib does not percent-decode it).
pub(super) fn credential(secret: &str) -> String {
    mac_hex(secret, b"leadline kannel webhook credentials v1")
}

/// `webhook_url` with the secret's credentials in its userinfo.
pub(super) fn with_credentials(webhook_url: &str, secret: &str) -> String {
    match url::Url::parse(webhook_url) {
        Ok(mut url) => {
            let _ = url.set_username(CREDENTIALS_USER);
            let _ = url.set_password(Some(&credential(secret)));
            url.to_string()
        }
        // The server always hands a valid absolute URL; keep an odd one as it is.
        Err(_) => webhook_url.to_owned(),
    }
}

/// The secret replaced by a rotation, accepted until `valid_until`.
#[derive(Debug, Clone)]
struct PreviousSecret {
    secret: Secret,
    valid_until: DateTime<Utc>,
}

/// How a Kannel channel's webhook calls are authenticated.
#[derive(Debug, Clone)]
pub(super) struct WebhookAuth {
    current: Secret,
    previous: Option<PreviousSecret>,
    sources: Option<SourceAllowList>,
}

impl WebhookAuth {
    /// Reads `secrets.webhookSecret`, `secrets.previousWebhookSecret` and
    /// `settings.allowedSources`, recording failures on `settings`.
    pub(super) fn from_settings(settings: &Settings<'_>) -> Self {
        let current = Secret::new(settings.secret("webhookSecret"));
        let previous = match settings.raw_secret("previousWebhookSecret") {
            None | Some(Value::Null) => None,
            Some(value) => {
                let secret = value.get("secret").and_then(Value::as_str);
                let valid_until = value
                    .get("validUntil")
                    .and_then(Value::as_str)
                    .and_then(|text| DateTime::parse_from_rfc3339(text).ok());
                match (secret, valid_until) {
                    (Some(secret), Some(valid_until)) if !secret.is_empty() => {
                        Some(PreviousSecret {
                            secret: Secret::new(secret),
                            valid_until: valid_until.with_timezone(&Utc),
                        })
                    }
                    _ => {
                        settings.fail(
                            "secrets.previousWebhookSecret".into(),
                            "must be {\"secret\": \"…\", \"validUntil\": \"RFC 3339 time\"}",
                        );
                        None
                    }
                }
            }
        };
        let sources =
            SourceAllowList::from_settings(settings, settings.raw_setting("allowedSources"));
        Self {
            current,
            previous,
            sources,
        }
    }

    /// The secret that signs new sends and MO URLs.
    pub(super) fn current(&self) -> &Secret {
        &self.current
    }

    /// Checks where the call comes from and its credentials; the secret they belong
    /// to (the current one, or the previous one during its grace period).
    pub(super) fn authenticate(
        &self,
        request: &WebhookRequest<'_>,
    ) -> Result<&Secret, WebhookError> {
        if let Some(sources) = &self.sources {
            match request.peer {
                Some(peer) if sources.allows(peer) => {}
                Some(peer) => {
                    return Err(WebhookError::SourceRefused(format!(
                        "{peer} is not in the channel's allowedSources"
                    )));
                }
                None => {
                    return Err(WebhookError::SourceRefused(
                        "the caller's address is unknown and the channel has allowedSources".into(),
                    ));
                }
            }
        }
        let given = basic_password(request).ok_or_else(|| {
            WebhookError::BadSignature(format!(
                "missing Authorization: Basic {CREDENTIALS_USER}:…; give Kannel the URLs with credentials that leadline made"
            ))
        })?;
        // Both candidates are always compared, so timing does not tell which matched.
        let current = equal(
            credential(self.current.expose()).as_bytes(),
            given.as_bytes(),
        );
        let previous = self.previous.as_ref().filter(|previous| {
            let matches = equal(
                credential(previous.secret.expose()).as_bytes(),
                given.as_bytes(),
            );
            matches && request.received_at < previous.valid_until
        });
        match (current, previous) {
            (true, _) => Ok(&self.current),
            (false, Some(previous)) => Ok(&previous.secret),
            (false, None) => Err(WebhookError::BadSignature(
                "the credentials match neither the channel's webhook secret nor a previous one still in its grace period".into(),
            )),
        }
    }
}

/// The password of an `Authorization: Basic` header whose user is ours.
fn basic_password(request: &WebhookRequest<'_>) -> Option<String> {
    let value = header(request, "authorization")?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(BASE64.decode(encoded.trim()).ok()?).ok()?;
    let (user, password) = decoded.split_once(':')?;
    (user == CREDENTIALS_USER).then(|| password.to_owned())
}
