//! Concurrent Bridge upserts: many cellphones at once all succeed, and many writers of
//! one cellphone merge into one contact without losing a field.

mod common;

use std::collections::BTreeSet;

use serde_json::{Value, json};
use tokio::task::JoinSet;

const WRITERS: usize = 50;

/// Sends every body at once and returns (status, body) in the order they finished.
async fn upsert_all(app: &common::TestApp, bodies: Vec<Value>) -> Vec<(u16, Value)> {
    let url = format!("{}{}", app.base, app.contacts_path());
    let mut tasks = JoinSet::new();
    for body in bodies {
        let request = app
            .client
            .post(&url)
            .header("x-api-key", &app.api_key)
            .json(&body);
        tasks.spawn(async move {
            common::read(request.send().await.expect("the request is sent")).await
        });
    }
    let mut answers = Vec::new();
    while let Some(answer) = tasks.join_next().await {
        answers.push(answer.expect("the task does not panic"));
    }
    answers
}

both_stores!(distinct_cellphones_at_once_all_succeed, |app| {
    let phones: Vec<String> = (0..WRITERS)
        .map(|i| format!("+1415555{:04}", 2600 + i))
        .collect();
    let bodies = phones
        .iter()
        .map(|p| json!({"cellphone": p, "firstName": format!("Name {p}")}))
        .collect();
    let answers = upsert_all(app, bodies).await;
    assert_eq!(answers.len(), WRITERS);
    for (status, contact) in &answers {
        assert_eq!(*status, 200, "{contact}");
        assert_eq!(
            contact["firstName"].as_str(),
            Some(format!("Name {}", contact["cellphone"].as_str().unwrap()).as_str())
        );
    }
    let ids: BTreeSet<&str> = answers
        .iter()
        .map(|(_, c)| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), WRITERS, "one contact per cellphone");
    let answered: BTreeSet<&str> = answers
        .iter()
        .map(|(_, c)| c["cellphone"].as_str().unwrap())
        .collect();
    let sent: BTreeSet<&str> = phones.iter().map(String::as_str).collect();
    assert_eq!(answered, sent);
    let (status, page) = app.get("/api/v1/contacts?limit=500").await;
    assert_eq!(status, 200, "{page}");
    let listed: BTreeSet<&str> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ids);
});

both_stores!(one_cellphone_at_once_merges_into_one_contact, |app| {
    const PHONE: &str = "+14155552671";
    let first_names: Vec<String> = (0..WRITERS).map(|i| format!("First{i}")).collect();
    let last_names: Vec<String> = (0..WRITERS).map(|i| format!("Last{i}")).collect();
    let emails: Vec<String> = (0..WRITERS).map(|i| format!("lead{i}@acme.com")).collect();
    let bodies = (0..WRITERS)
        .map(|i| match i % 4 {
            0 => json!({"cellphone": PHONE, "firstName": first_names[i]}),
            1 => json!({"cellphone": PHONE, "lastName": last_names[i]}),
            2 => json!({"cellphone": PHONE, "email": emails[i]}),
            _ => json!({"cellphone": PHONE, "languageCode": if i % 8 == 3 { "EN" } else { "ES" }}),
        })
        .collect();
    let answers = upsert_all(app, bodies).await;
    for (status, contact) in &answers {
        assert_eq!(*status, 200, "{contact}");
    }
    let ids: BTreeSet<&str> = answers
        .iter()
        .map(|(_, c)| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 1, "every writer saw the same contact: {ids:?}");
    let created: BTreeSet<&str> = answers
        .iter()
        .map(|(_, c)| c["createdAt"].as_str().unwrap())
        .collect();
    assert_eq!(created.len(), 1, "createdAt never moves: {created:?}");

    let (_, page) = app.get("/api/v1/contacts?cellphone=%2B14155552671").await;
    let data = page["data"].as_array().unwrap();
    assert_eq!(data.len(), 1, "{page}");
    let (_, all) = app.get("/api/v1/contacts").await;
    assert_eq!(all["data"].as_array().map(Vec::len), Some(1), "{all}");
    // No writer's field was lost to another writer's stale copy: every field was set by
    // someone and cleared by no one.
    let contact = &data[0];
    let among = |field: &str, allowed: &[String]| {
        let value = contact[field]
            .as_str()
            .unwrap_or_else(|| panic!("{field} lost: {contact}"));
        assert!(allowed.iter().any(|a| a == value), "{field}: {contact}");
    };
    among("firstName", &first_names);
    among("lastName", &last_names);
    among("email", &emails);
    among("languageCode", &["EN".to_owned(), "ES".to_owned()]);
    assert_eq!(contact["type"], "NORMAL", "{contact}");
    // The answers show the state after each writer's own upsert, so at least one of
    // them shows the final state.
    assert!(
        answers.iter().any(|(_, c)| c == contact),
        "the final state is one writer's answer"
    );
});
