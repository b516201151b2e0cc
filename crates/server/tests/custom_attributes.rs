//! `/api/v1/custom-attributes`: OPEN and CLOSED definitions, their validation, unique
//! keys and listing.

mod common;

use common::{assert_invalid, assert_problem, problem_fields};
use reqwest::Method;
use serde_json::{Value, json};
use tokio::task::JoinSet;

const PATH: &str = "/api/v1/custom-attributes";

both_stores!(create_open_attribute, |app| {
    let (status, attribute) = app
        .post(
            PATH,
            json!({"key": "budget", "label": "Budget", "kind": "OPEN", "required": true}),
        )
        .await;
    assert_eq!(status, 201, "{attribute}");
    assert!(uuid::Uuid::parse_str(attribute["id"].as_str().unwrap()).is_ok());
    assert_eq!(attribute["key"], "budget");
    assert_eq!(attribute["label"], "Budget");
    assert_eq!(attribute["kind"], "OPEN");
    assert_eq!(attribute["options"], json!([]));
    assert_eq!(attribute["required"], true);
    let notes = app
        .create_attribute(json!({"key": "notes", "label": "Notes", "kind": "OPEN"}))
        .await;
    assert_eq!(notes["required"], false, "required defaults to false");
});

both_stores!(create_closed_attribute_with_option_ids, |app| {
    let attribute = app
        .create_attribute(json!({
            "key": "size", "label": "Company size", "kind": "CLOSED",
            "options": [{"label": "Small"}, {"label": "Medium"}, {"label": "Large"}]
        }))
        .await;
    assert_eq!(attribute["kind"], "CLOSED");
    let options = attribute["options"].as_array().unwrap();
    let labels: Vec<&str> = options
        .iter()
        .map(|o| o["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, vec!["Small", "Medium", "Large"]);
    let mut ids: Vec<&str> = options.iter().map(|o| o["id"].as_str().unwrap()).collect();
    for id in &ids {
        assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
        assert_ne!(*id, attribute["id"].as_str().unwrap());
    }
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 3, "option ids are distinct");
});

both_stores!(closed_needs_options_and_open_takes_none, |app| {
    for body in [
        json!({"key": "size", "label": "Size", "kind": "CLOSED"}),
        json!({"key": "size", "label": "Size", "kind": "CLOSED", "options": []}),
        json!({"key": "size", "label": "Size", "kind": "OPEN", "options": [{"label": "Small"}]}),
    ] {
        let (status, problem) = app.post(PATH, body.clone()).await;
        assert_invalid(status, &problem, "options");
    }
    let (status, problem) = app
        .post(
            PATH,
            json!({"key": "size", "label": "Size", "kind": "CLOSED",
                   "options": [{"label": "Small"}, {"label": "small"}]}),
        )
        .await;
    assert_invalid(status, &problem, "options[1].label");
    let (status, problem) = app
        .post(
            PATH,
            json!({"key": "size", "label": "Size", "kind": "MAYBE"}),
        )
        .await;
    assert_invalid(status, &problem, "kind");
    let (_, list) = app.get(PATH).await;
    assert_eq!(list["data"], json!([]), "nothing was created");
});

both_stores!(bad_key_is_422, |app| {
    let long = "k".repeat(65);
    for key in [
        "",
        "1budget",
        "has space",
        "_budget",
        "bud/get",
        "ñandú",
        long.as_str(),
    ] {
        let (status, problem) = app
            .post(PATH, json!({"key": key, "label": "Budget", "kind": "OPEN"}))
            .await;
        assert_invalid(status, &problem, "key");
    }
    for key in ["b", "budget_2025", "deal.stage-v2", &"k".repeat(64)] {
        app.create_attribute(json!({"key": key, "label": "Fine", "kind": "OPEN"}))
            .await;
    }
});

both_stores!(duplicate_key_is_409, |app| {
    app.create_attribute(json!({"key": "budget", "label": "Budget", "kind": "OPEN"}))
        .await;
    let (status, content_type, problem) = app
        .send(app.request(Method::POST, PATH).json(&json!({
            "key": "budget", "label": "Other", "kind": "CLOSED", "options": [{"label": "A"}]
        })))
        .await;
    assert_problem(status, &content_type, &problem, 409);
    assert_eq!(problem_fields(&problem), vec!["key"], "{problem}");
    let (_, list) = app.get(PATH).await;
    assert_eq!(list["data"].as_array().map(Vec::len), Some(1), "{list}");
    assert_eq!(list["data"][0]["label"], "Budget");
});

both_stores!(list_in_creation_order, |app| {
    let (status, list) = app.get(PATH).await;
    assert_eq!((status, &list["data"]), (200, &json!([])));
    let mut created: Vec<Value> = Vec::new();
    for key in ["zeta", "alpha", "mid", "beta"] {
        let body = if key == "mid" {
            json!({"key": key, "label": key, "kind": "CLOSED", "options": [{"label": "One"}]})
        } else {
            json!({"key": key, "label": key, "kind": "OPEN"})
        };
        created.push(app.create_attribute(body).await);
    }
    let (status, list) = app.get(PATH).await;
    assert_eq!(status, 200);
    assert_eq!(list["data"], Value::Array(created), "as created, in order");
});

both_stores!(attributes_of_another_workspace_are_invisible, |app| {
    let (_, other_key) = app.other_workspace().await;
    let (status, theirs) = app
        .post_as(
            &other_key,
            PATH,
            json!({"key": "budget", "label": "Theirs", "kind": "OPEN"}),
        )
        .await;
    assert_eq!(status, 201, "{theirs}");
    let (_, list) = app.get(PATH).await;
    assert_eq!(list["data"], json!([]));
    // The key is free here.
    let ours = app
        .create_attribute(json!({"key": "budget", "label": "Ours", "kind": "OPEN"}))
        .await;
    assert_ne!(ours["id"], theirs["id"]);
    let (_, list) = app.get_as(&other_key, PATH).await;
    assert_eq!(list["data"], json!([theirs]));
});

both_stores!(concurrent_creates_of_one_key_make_one_attribute, |app| {
    let mut tasks = JoinSet::new();
    for n in 0..20 {
        let request = app.request(Method::POST, PATH).json(&json!({
            "key": "budget", "label": format!("Budget {n}"), "kind": "OPEN"
        }));
        tasks.spawn(async move { common::read(request.send().await.unwrap()).await });
    }
    let mut created = 0;
    while let Some(answer) = tasks.join_next().await {
        let (status, body) = answer.unwrap();
        match status {
            201 => created += 1,
            409 => assert_eq!(problem_fields(&body), vec!["key"], "{body}"),
            _ => panic!("{status}: {body}"),
        }
    }
    assert_eq!(created, 1);
    let (_, list) = app.get(PATH).await;
    assert_eq!(list["data"].as_array().map(Vec::len), Some(1), "{list}");
});
