//! The request guard: the first thing every request meets. It checks the presented key
//! once (from the node's memory, or the store), applies the matching bucket, refuses a
//! read-only key's writes, and leaves the key check in the request for the handler's
//! [`crate::auth::Authenticated`] extractor.
//!
//! Order matters for cost: a key this node has not verified is read from the store only
//! after the client's address had a token for it, so made-up keys cost a bounded number
//! of reads per address; a key remembered as refused costs none. A key this node
//! verified since the key generation last moved, read again because the node's cache is
//! not trusted right now (its poll of the generation is late), spends no address token,
//! so a flood from a shared address does not lock out its known keys. Provider webhooks pass
//! through: their handler limits them per channel, once it knows the channel. So does
//! the liveness probe, which does no work to protect.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use super::response::{Shape, add_headers, refusal, too_many_requests};
use super::{Admitted, Limited};
use crate::auth::{KeyCheck, presented_hash, read_only_refusal};
use crate::state::AppState;

/// Where provider webhooks arrive.
const WEBHOOK_PREFIX: &str = "/webhooks/providers/";

/// The liveness probe: it reads nothing and answers a constant, so a bucket would cost
/// more than the request it guards, and an orchestrator probing often must never see
/// a 429 that reads as "dead". `/readyz` (which asks the database) stays limited.
const LIVENESS: &str = "/healthz";

/// The middleware; install with `axum::middleware::from_fn_with_state`, outside every
/// layer that authenticates (the Idempotency-Key layer).
pub async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if path.starts_with(WEBHOOK_PREFIX) || path == LIVENESS {
        return next.run(request).await;
    }
    let shape = if path.starts_with(crate::error::leadconnector::PATH_PREFIX) {
        Shape::LeadConnector
    } else {
        Shape::Problem
    };
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0);
    let address = state.limits.client_address(request.headers(), peer);
    let (mut parts, body) = request.into_parts();
    let now = state.store.clock().now();

    // The address's token, when one was taken before reading the key.
    let mut address_decision: Option<Result<Admitted, Limited>> = None;
    let check = match presented_hash(&parts) {
        None => KeyCheck::Absent,
        Some(hash) => match state.keys.cached(&hash, now) {
            Some(check) => check,
            None => {
                // A key verified before is read again (the cache's trust lapsed)
                // without spending the address's tokens: they bound reads of strangers.
                if !state.keys.verified_before(&hash) {
                    let decision = state.limits.take_for_address(address);
                    if let Err(limited) = &decision {
                        return too_many_requests(limited, shape);
                    }
                    address_decision = Some(decision);
                }
                match state.keys.load(&state.store, &hash, now).await {
                    Ok(check) => check,
                    // The store cannot say: the handler's extractor asks again and
                    // answers as the outage requires (503).
                    Err(error) => {
                        tracing::debug!(%error, "could not read a presented key");
                        return next.run(Request::from_parts(parts, body)).await;
                    }
                }
            }
        },
    };
    let admitted = match &check {
        KeyCheck::Granted(grant) => {
            let admitted = match state.limits.take_for_key(grant.key_id, &grant.rate_limits) {
                Ok(admitted) => admitted,
                Err(limited) => return too_many_requests(&limited, shape),
            };
            if !grant.scope.permits(parts.method.as_str()) {
                return refusal(read_only_refusal(parts.method.as_str()), shape);
            }
            state.keys.note_use(&state.store, grant, now).await;
            admitted
        }
        KeyCheck::Absent | KeyCheck::Refused => {
            match address_decision.unwrap_or_else(|| state.limits.take_for_address(address)) {
                Ok(admitted) => admitted,
                Err(limited) => return too_many_requests(&limited, shape),
            }
        }
    };
    parts.extensions.insert(check);
    let mut response = next.run(Request::from_parts(parts, body)).await;
    add_headers(&admitted, response.headers_mut());
    response
}
