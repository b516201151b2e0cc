//! A channel's delivery settings, from its page: sends in flight at once, sends per
//! second (empty for the provider's default and for no limit) and what becomes of a
//! send whose outcome is unknown.
//!
//! - `POST /console/settings/channels/{id}/delivery`

use axum::extract::{Path, State};
use axum::response::Response;
use leadline_core::FieldErrors;
use leadline_core::delivery::{DeliverySettings, UncertainSends};

use super::channels::{Fields, channel_page, gone, load, value};
use super::form;
use super::path;
use crate::console::ConsoleError;
use crate::console::csrf::CsrfForm;
use crate::state::AppState;
use crate::usecases::settings::channels;

/// Reads the delivery form: empty numbers are the provider's default and no limit.
fn delivery_of(fields: &Fields) -> Result<DeliverySettings, FieldErrors> {
    let mut errors = FieldErrors::new();
    let max_concurrent_sends = match value(fields, "maxConcurrentSends").trim() {
        "" => None,
        text => text.parse::<u32>().map(Some).unwrap_or_else(|_| {
            errors.push(
                "maxConcurrentSends",
                "must be a whole number from 1 to 1000, or empty for the provider's default",
            );
            None
        }),
    };
    let sends_per_second = match value(fields, "sendsPerSecond").trim() {
        "" => None,
        text => text.parse::<f64>().map(Some).unwrap_or_else(|_| {
            errors.push(
                "sendsPerSecond",
                "must be a number from 0.1 to 10000, or empty for no limit",
            );
            None
        }),
    };
    let uncertain_sends =
        UncertainSends::parse(value(fields, "uncertainSends")).unwrap_or_else(|| {
            errors.push(
                "uncertainSends",
                format!("choose {}", UncertainSends::expected()),
            );
            UncertainSends::Hold
        });
    errors.finish(DeliverySettings {
        max_concurrent_sends,
        sends_per_second,
        uncertain_sends,
    })
}

pub(super) async fn set_delivery(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(user, fields): CsrfForm<Fields>,
) -> Result<Response, ConsoleError> {
    user.require_admin()?;
    let channel = load(&state, &user, &id).await?;
    let saved = match delivery_of(&fields) {
        Ok(delivery) => {
            channels::set_delivery(&state, user.workspace(), channel.id, delivery, "").await
        }
        Err(errors) => Err(errors.into()),
    };
    match saved {
        Ok(Some(_)) => Ok(form::done(
            &path(&format!("/channels/{}", channel.id)),
            "delivery-saved",
        )),
        Ok(None) => Err(gone(&id)),
        Err(error) => {
            let errors = form::faults(error)?;
            let page = channel_page(&state, &user, &channel, errors, Some(&fields), None).await?;
            Ok(form::refused(page))
        }
    }
}
