//! A message a provider reports twice is filed once, on both stores, also when the
//! repeat arrives while the first is still being filed (a webhook retried to another
//! node): the repeat is answered as a duplicate of the first rather than as an error,
//! and the reply counts once for the number that reached the contact.

mod inbound_filing;
mod number_pool;

use chrono::{TimeDelta, Utc};
use inbound_filing::file_reply;
use leadline_core::channel::MessageProviderType;
use leadline_core::message::MessageType;
use leadline_store::conversations::OutboundSender;
use number_pool::{e164, on_both};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeats_racing_the_first_report_are_filed_once() {
    on_both(|f| async move {
        let number = f.raw.add_number(f.workspace, "+14155550207").await;
        let channel = f.channel(MessageProviderType::Sms).await;
        let contact = f.contact("+14155558007").await;
        let sender = OutboundSender {
            phone_number_id: number,
            number: e164("+14155550207"),
            not_before: Utc::now() - TimeDelta::seconds(5),
        };
        f.open(&channel, &contact, MessageType::Sms, Some(sender))
            .await;

        let mut reports = tokio::task::JoinSet::new();
        for _ in 0..8 {
            let (store, channel) = (f.store.clone(), channel.clone());
            let from = contact.cellphone.clone();
            reports.spawn(async move {
                file_reply(&store, &channel, &from, "Who is this?", Some("in-race")).await
            });
        }
        let mut filed = Vec::new();
        while let Some(report) = reports.join_next().await {
            let recorded = report
                .unwrap()
                .unwrap_or_else(|e| panic!("{:?}: a repeat is no error: {e}", f.kind));
            filed.push((recorded.duplicate, recorded.message.id));
        }
        let first: Vec<_> = filed.iter().filter(|(duplicate, _)| !duplicate).collect();
        assert_eq!(first.len(), 1, "{:?}: filed {filed:?}", f.kind);
        assert!(
            filed.iter().all(|(_, id)| *id == first[0].1),
            "{:?}: every repeat names the message filed: {filed:?}",
            f.kind
        );
        assert_eq!(f.raw.outcomes(number).await.replies, 1, "{:?}", f.kind);
    })
    .await;
}
