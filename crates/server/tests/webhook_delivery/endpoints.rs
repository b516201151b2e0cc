//! What one endpoint does to its deliveries and to others: a rotated secret signs
//! beside the new one during its overlap, and a dead endpoint holds up no other
//! endpoint and no send.

use std::time::Duration;

use leadline_core::event::EventFilter;
use leadline_server::dispatcher::DispatcherOptions;
use leadline_server::serve::ServerOptions;
use leadline_server::testing::{CountingSink, seed_http_sends};

use super::{cause_events, endpoint, trust, workspace};
use crate::both_stores;
use crate::common::dispatch_steps::stepped;
use crate::common::receiver::{Receiver, Reply};
use crate::common::waits::within;

both_stores!(
    a_rotated_secret_signs_beside_the_new_one_during_its_overlap,
    stepped(),
    |app| {
        let store = &app.store;
        let receiver = Receiver::start(Reply::Accept).await;
        let (hook, old) = endpoint(store, workspace(app), &receiver.url, EventFilter::All).await;
        let day = Duration::from_secs(24 * 3600);
        let (_, new) = store
            .rotate_webhook_secret(workspace(app), hook.id, day)
            .await
            .unwrap()
            .unwrap();
        let (old_key, new_key) = (trust(&receiver, &old), trust(&receiver, &new));
        cause_events(store, workspace(app), 1).await;
        app.drain_dispatcher().await;
        let during = &receiver.arrivals()[0];
        assert_eq!(
            during.signatures.len(),
            2,
            "two signatures during the overlap"
        );
        assert_eq!(
            during.verified_by,
            vec![old_key, new_key],
            "either secret verifies"
        );

        // A rotation without overlap: only the newest secret signs.
        let (_, newest) = store
            .rotate_webhook_secret(workspace(app), hook.id, Duration::ZERO)
            .await
            .unwrap()
            .unwrap();
        let newest_key = trust(&receiver, &newest);
        cause_events(store, workspace(app), 1).await;
        app.drain_dispatcher().await;
        let after = &receiver.arrivals()[1];
        assert_eq!(after.signatures.len(), 1);
        assert_eq!(after.verified_by, vec![newest_key]);
    }
);

fn background_with_long_timeout() -> ServerOptions {
    ServerOptions {
        dispatcher: DispatcherOptions {
            webhook_timeout: Duration::from_secs(120),
            ..DispatcherOptions::default()
        },
        ..ServerOptions::default()
    }
}

both_stores!(
    a_dead_endpoint_holds_up_no_other_endpoint_and_no_send,
    background_with_long_timeout(),
    |app| {
        let store = &app.store;
        let dead = Receiver::start(Reply::Hang).await;
        let live = Receiver::start(Reply::Accept).await;
        endpoint(store, workspace(app), &dead.url, EventFilter::All).await;
        // Nothing listens there: every delivery is refused at once.
        endpoint(
            store,
            workspace(app),
            "http://127.0.0.1:9/hooks",
            EventFilter::All,
        )
        .await;
        let (_, secret) = endpoint(store, workspace(app), &live.url, EventFilter::All).await;
        trust(&live, &secret);
        let sink = CountingSink::start(Duration::ZERO).await;
        let sends = seed_http_sends(store, &sink.url, 5, 50).await;
        let events = 200;
        cause_events(store, workspace(app), events).await;

        live.until(
            "the live endpoint got every event",
            Duration::from_secs(30),
            |seen| seen.len() >= events,
        )
        .await;
        within(
            Duration::from_secs(30),
            "every send reached its gateway",
            sink.until(|sink| sink.unique() >= sends),
        )
        .await;
        assert!(live.arrivals().iter().all(|a| a.verified_by == vec![0]));
        let hanging = dead.hanging();
        assert!(
            hanging >= 1 && hanging <= DispatcherOptions::default().webhook_concurrency as usize,
            "the dead endpoint holds at most its lane's concurrency: {hanging}"
        );
        assert_eq!(
            dead.count(),
            hanging,
            "and nothing more was sent to it meanwhile"
        );
    }
);
