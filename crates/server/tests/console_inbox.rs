//! The console's inbox and conversation page on both stores: which conversations each
//! tab lists for an advisor and for an admin, another team's conversation answered 404
//! (page and actions), take over / release / reply / log a call changing the
//! conversation through the use cases, unread counts, and `last_activity_at` moving
//! with inbound and outbound messages.

mod common;

use common::dispatch_steps::stepped;
use common::inbox::{listed, unread};
use leadline_core::conversation::{Controller, ConversationStatus};
use leadline_core::inbox::{InboxFilter, Viewer};
use leadline_core::message::MessageType;
use leadline_core::user::Role;

/// The conversations `who`'s inbox lists under tab `name`.
async fn tab(who: &common::console::ConsoleSession, name: &str) -> Vec<String> {
    let page = who.get(&format!("/console/inbox?tab={name}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    listed(&page.body)
}

const ANA: &str = "+14155550101";
const BEA: &str = "+14155550102";
const CAL: &str = "+14155550103";
const DEV: &str = "+14155550104";

both_stores!(the_tabs_list_what_each_person_may_see, stepped(), |app| {
    let channel = app.sandbox_channel().await;
    let advisor = app.console_user(Role::Advisor).await;
    let admin = app.console_user(Role::Admin).await;
    let mine_team = app.team_of("North", &[&advisor.user_id]).await;
    let other_team = app.team_of("South", &[]).await;
    let assigned = app.lead_writes(&channel, ANA, "hello").await;
    let queued = app.lead_writes(&channel, BEA, "hi").await;
    let elsewhere = app.lead_writes(&channel, CAL, "hey").await;
    let ai = app.lead_writes(&channel, DEV, "yo").await;
    app.give_to_ai(&ai).await;
    app.hand_off(&assigned, Some(&advisor.user_id), None).await;
    app.hand_off(&queued, None, Some(mine_team)).await;
    app.hand_off(&elsewhere, None, Some(other_team)).await;

    assert_eq!(tab(&advisor, "mine").await, vec![assigned.clone()]);
    assert_eq!(tab(&advisor, "queue").await, vec![queued.clone()]);
    assert!(
        tab(&advisor, "ai").await.is_empty(),
        "nobody's AI conversation"
    );
    let handed = tab(&advisor, "handed-off").await;
    assert!(handed.contains(&assigned) && handed.contains(&queued) && !handed.contains(&elsewhere));
    // The default tab is "mine", and it is marked current.
    let landing = advisor.get("/console/inbox").await;
    assert_eq!(listed(&landing.body), vec![assigned.clone()]);
    assert!(
        landing
            .body
            .contains("href=\"/console/inbox?tab=mine\" aria-current=\"page\"")
    );

    let queue = tab(&admin, "queue").await;
    assert_eq!(queue.len(), 2, "{queue:?}");
    assert!(queue.contains(&queued) && queue.contains(&elsewhere));
    assert_eq!(tab(&admin, "ai").await, vec![ai.clone()]);
    assert!(tab(&admin, "mine").await.is_empty());
    assert_eq!(tab(&admin, "handed-off").await.len(), 3);

    let bad = advisor.get("/console/inbox?tab=everything").await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("tab"), "{}", bad.body);
    let bad = advisor.get("/console/inbox?after=nonsense").await;
    assert_eq!(bad.status, 400);
});

both_stores!(
    another_teams_conversation_is_not_found_for_an_advisor,
    stepped(),
    |app| {
        let channel = app.sandbox_channel().await;
        let advisor = app.console_user(Role::Advisor).await;
        app.team_of("North", &[&advisor.user_id]).await;
        let other_team = app.team_of("South", &[]).await;
        let elsewhere = app.lead_writes(&channel, CAL, "hey").await;
        app.hand_off(&elsewhere, None, Some(other_team)).await;
        let page = format!("/console/conversations/{elsewhere}");
        assert_eq!(advisor.get(&page).await.status, 404);
        for (action, fields) in [
            ("take-over", vec![]),
            ("release", vec![]),
            ("reply", vec![("body", "hello")]),
            ("calls", vec![("status", "completed")]),
        ] {
            let answer = advisor.post(&format!("{page}/{action}"), &fields).await;
            assert_eq!(answer.status, 404, "{action}: {}", answer.body);
        }
        let after = app.stored_conversation(&elsewhere).await;
        assert_eq!(after.status, ConversationStatus::HandedOff);
        assert_eq!(after.assigned_user_id, None);
        assert_eq!(
            app.messages(&elsewhere).await.len(),
            1,
            "nothing was sent or logged"
        );
        // Neither an unknown id nor a malformed one tells anything more.
        assert_eq!(
            advisor.get("/console/conversations/not-an-id").await.status,
            404
        );
        let unknown = uuid::Uuid::now_v7();
        assert_eq!(
            advisor
                .get(&format!("/console/conversations/{unknown}"))
                .await
                .status,
            404
        );
        // An admin opens it.
        let admin = app.console_user(Role::Admin).await;
        assert_eq!(admin.get(&page).await.status, 200);
    }
);

both_stores!(
    the_forms_change_the_conversation_through_the_use_cases,
    stepped(),
    |app| {
        let channel = app.sandbox_channel().await;
        let advisor = app.console_user(Role::Advisor).await;
        let team = app.team_of("North", &[&advisor.user_id]).await;
        let id = app.lead_writes(&channel, ANA, "can someone call me?").await;
        app.hand_off(&id, None, Some(team)).await;
        let page = format!("/console/conversations/{id}");
        let shown = advisor.get(&page).await;
        assert_eq!(shown.status, 200, "{}", shown.body);
        for needle in [
            "id=\"take-over\"",
            "id=\"release\"",
            "id=\"reply-body\"",
            "id=\"log-call\"",
            "can someone call me?",
        ] {
            assert!(shown.body.contains(needle), "{needle}");
        }

        let taken = advisor.post(&format!("{page}/take-over"), &[]).await;
        assert_eq!(taken.status, 303, "{}", taken.body);
        assert_eq!(taken.location.as_deref(), Some(page.as_str()));
        let conversation = app.stored_conversation(&id).await;
        assert_eq!(
            conversation.assigned_user_id.map(|u| u.to_string()),
            Some(advisor.user_id.clone())
        );
        assert_eq!(
            (conversation.status, conversation.controller),
            (ConversationStatus::HandedOff, Controller::Human)
        );

        let empty = advisor
            .post(&format!("{page}/reply"), &[("body", "  ")])
            .await;
        assert_eq!(empty.status, 400);
        assert!(
            empty.body.contains("body: must not be empty"),
            "{}",
            empty.body
        );
        let replied = advisor
            .post(&format!("{page}/reply"), &[("body", "Calling you now")])
            .await;
        assert_eq!(replied.status, 303, "{}", replied.body);
        let sent = app
            .messages(&id)
            .await
            .into_iter()
            .find(|m| m["text"] == "Calling you now" || m["body"] == "Calling you now");
        let sent = sent.expect("the reply is queued");
        let sent = app
            .wait_for_status(&id, sent["id"].as_str().unwrap(), "delivered")
            .await;
        assert_eq!(sent["direction"], "outbound");

        let bad_call = advisor
            .post(
                &format!("{page}/calls"),
                &[("status", "great"), ("duration", "60")],
            )
            .await;
        assert_eq!(bad_call.status, 400);
        assert!(
            bad_call.body.contains("status: must be"),
            "{}",
            bad_call.body
        );
        let bad_call = advisor
            .post(
                &format!("{page}/calls"),
                &[("status", "answered"), ("duration", "-1")],
            )
            .await;
        assert!(bad_call.body.contains("duration"), "{}", bad_call.body);
        let logged = advisor
            .post(
                &format!("{page}/calls"),
                &[
                    ("status", "answered"),
                    ("duration", "95"),
                    ("note", "wants a quote"),
                ],
            )
            .await;
        assert_eq!(logged.status, 303, "{}", logged.body);
        let messages = app
            .store
            .recent_messages(id.parse().unwrap(), 10)
            .await
            .unwrap();
        let call = messages
            .iter()
            .find(|m| m.message_type == MessageType::Call)
            .expect("the call is logged");
        assert_eq!(
            call.call.as_ref().and_then(|c| c.duration_seconds),
            Some(95)
        );
        assert_eq!(call.body.as_deref(), Some("wants a quote"));

        let released = advisor.post(&format!("{page}/release"), &[]).await;
        assert_eq!(released.status, 303, "{}", released.body);
        let conversation = app.stored_conversation(&id).await;
        assert_eq!(
            (conversation.status, conversation.controller),
            (ConversationStatus::Active, Controller::Ai)
        );
        let again = advisor.get(&page).await;
        assert!(again.body.contains("RELEASED"), "the decision is shown");
    }
);

both_stores!(
    unread_counts_rise_on_inbound_and_clear_on_opening,
    stepped(),
    |app| {
        let channel = app.sandbox_channel().await;
        let advisor = app.console_user(Role::Advisor).await;
        let id = app.lead_writes(&channel, ANA, "first").await;
        app.hand_off(&id, Some(&advisor.user_id), None).await;
        let inbox = advisor.get("/console/inbox").await;
        assert_eq!(unread(&inbox.body, &id), Some(1), "{}", inbox.body);
        app.lead_writes(&channel, ANA, "second").await;
        assert_eq!(
            unread(&advisor.get("/console/inbox").await.body, &id),
            Some(2)
        );
        assert_eq!(
            advisor
                .get(&format!("/console/conversations/{id}"))
                .await
                .status,
            200
        );
        let read = advisor.get("/console/inbox").await;
        assert!(listed(&read.body).contains(&id));
        assert_eq!(unread(&read.body, &id), None, "read: no badge");
        app.lead_writes(&channel, ANA, "third").await;
        assert_eq!(
            unread(&advisor.get("/console/inbox").await.body, &id),
            Some(1)
        );
        // Another person's reads are their own.
        let admin = app.console_user(Role::Admin).await;
        let theirs = admin.get("/console/inbox?tab=handed-off").await;
        assert_eq!(unread(&theirs.body, &id), Some(3));
    }
);

both_stores!(
    last_activity_moves_with_inbound_and_outbound_messages,
    stepped(),
    |app| {
        let channel = app.sandbox_channel().await;
        let admin = app.console_user(Role::Admin).await;
        let viewer = Viewer {
            user_id: admin.user_id.parse().unwrap(),
            role: Role::Admin,
            teams: Vec::new(),
        };
        let activity = |id: String| {
            let viewer = viewer.clone();
            async move {
                let page = app
                    .store
                    .inbox(app.typed_workspace(), &viewer, InboxFilter::HandedOff, None)
                    .await
                    .unwrap();
                let row = page
                    .rows
                    .iter()
                    .find(|r| r.id.to_string() == id)
                    .expect("listed");
                (
                    row.last_activity_at,
                    page.rows
                        .iter()
                        .position(|r| r.id.to_string() == id)
                        .unwrap(),
                )
            }
        };
        let older = app.lead_writes(&channel, ANA, "one").await;
        let newer = app.lead_writes(&channel, BEA, "two").await;
        app.hand_off(&older, Some(&admin.user_id), None).await;
        app.hand_off(&newer, Some(&admin.user_id), None).await;
        let (first, position) = activity(older.clone()).await;
        assert_eq!(position, 1, "the newer conversation leads");
        assert!(first > chrono::DateTime::UNIX_EPOCH);
        app.lead_writes(&channel, ANA, "three").await;
        let (after_inbound, position) = activity(older.clone()).await;
        assert!(after_inbound > first);
        assert_eq!(position, 0, "an inbound message moves it up");
        let replied = admin
            .post(
                &format!("/console/conversations/{newer}/reply"),
                &[("body", "hello")],
            )
            .await;
        assert_eq!(replied.status, 303, "{}", replied.body);
        let (after_outbound, position) = activity(newer.clone()).await;
        assert!(after_outbound > after_inbound);
        assert_eq!(position, 0, "an outbound message moves it up");
    }
);
