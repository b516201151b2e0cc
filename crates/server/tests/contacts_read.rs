//! Reading contacts: `GET /api/v1/contacts/{id}` and the list with its cellphone filter,
//! cursors and workspace boundary.

mod common;

use common::{assert_invalid, assert_problem};
use reqwest::Method;
use serde_json::{Value, json};

fn ids(page: &Value) -> Vec<Value> {
    page["data"]
        .as_array()
        .expect("a page has data")
        .iter()
        .map(|c| c["id"].clone())
        .collect()
}

both_stores!(get_by_id, |app| {
    let (_, contact) = app
        .upsert_contact(json!({"cellphone": "+14155552671", "firstName": "Maria"}))
        .await;
    let id = contact["id"].as_str().unwrap();
    let (status, found) = app.get(&format!("/api/v1/contacts/{id}")).await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found, contact);
    let unknown = uuid::Uuid::now_v7().to_string();
    for missing in [unknown.as_str(), "abc", "123", &id[..8]] {
        let (status, content_type, problem) = app
            .send(app.request(Method::GET, &format!("/api/v1/contacts/{missing}")))
            .await;
        assert_problem(status, &content_type, &problem, 404);
    }
    // A user's id is not a contact's id.
    let user = app.create_user("jane@acme.com").await;
    let (status, _) = app
        .get(&format!(
            "/api/v1/contacts/{}",
            user["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(status, 404);
});

both_stores!(list_filters_by_cellphone, |app| {
    let (_, maria) = app
        .upsert_contact(json!({"cellphone": "+14155552671", "firstName": "Maria"}))
        .await;
    let (_, juan) = app
        .upsert_contact(json!({"cellphone": "+14155552672", "firstName": "Juan"}))
        .await;
    let (status, page) = app.get("/api/v1/contacts?cellphone=%2B14155552671").await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["data"], json!([maria]));
    assert_eq!(page["nextCursor"], Value::Null);
    let (_, page) = app.get("/api/v1/contacts?cellphone=%2B14155552672").await;
    assert_eq!(ids(&page), vec![juan["id"].clone()]);
    let (status, page) = app.get("/api/v1/contacts?cellphone=%2B14155552673").await;
    assert_eq!((status, &page["data"]), (200, &json!([])));
    let (_, page) = app.get("/api/v1/contacts").await;
    assert_eq!(ids(&page), vec![maria["id"].clone(), juan["id"].clone()]);
});

both_stores!(invalid_cellphone_filter_is_422, |app| {
    app.upsert_contact(json!({"cellphone": "+14155552671"}))
        .await;
    for filter in [
        "abc",
        "4155552671",
        "%2B1%20415%20555%202671",
        "%2B1415555267",
        "",
    ] {
        let (status, problem) = app
            .get(&format!("/api/v1/contacts?cellphone={filter}"))
            .await;
        assert_invalid(status, &problem, "cellphone");
    }
});

both_stores!(list_pages_with_cursors, |app| {
    let mut created = Vec::new();
    for i in 0..5 {
        let (status, contact) = app
            .upsert_contact(json!({"cellphone": format!("+1415555{}", 2671 + i)}))
            .await;
        assert_eq!(status, 200, "{contact}");
        created.push(contact["id"].clone());
    }
    // Updating an old contact does not move it.
    app.upsert_contact(json!({"cellphone": "+14155552671", "firstName": "Late"}))
        .await;
    let mut sizes = Vec::new();
    let mut seen = Vec::new();
    let mut path = "/api/v1/contacts?limit=2".to_owned();
    loop {
        let (status, page) = app.get(&path).await;
        assert_eq!(status, 200, "{page}");
        sizes.push(page["data"].as_array().unwrap().len());
        seen.extend(ids(&page));
        match page["nextCursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/contacts?limit=2&cursor={cursor}"),
            None => break,
        }
        assert!(sizes.len() < 10, "pagination does not end");
    }
    assert_eq!(sizes, vec![2, 2, 1]);
    assert_eq!(seen, created);
    for limit in ["0", "501", "abc"] {
        let (status, problem) = app.get(&format!("/api/v1/contacts?limit={limit}")).await;
        assert_invalid(status, &problem, "limit");
    }
    let (status, problem) = app.get("/api/v1/contacts?cursor=nope").await;
    assert_invalid(status, &problem, "cursor");
});

both_stores!(contacts_of_another_workspace_are_invisible, |app| {
    let (other_workspace, other_key) = app.other_workspace().await;
    let other_path = format!("/bridge/api/v1/workspaces/{other_workspace}/contacts/partial");
    let (status, theirs) = app
        .post_as(
            &other_key,
            &other_path,
            json!({"cellphone": "+14155552671", "firstName": "Theirs"}),
        )
        .await;
    assert_eq!(status, 200, "{theirs}");
    let their_id = theirs["id"].as_str().unwrap();
    let (status, _) = app.get(&format!("/api/v1/contacts/{their_id}")).await;
    assert_eq!(status, 404);
    let (_, page) = app.get("/api/v1/contacts").await;
    assert_eq!(page["data"], json!([]));
    let (_, page) = app.get("/api/v1/contacts?cellphone=%2B14155552671").await;
    assert_eq!(page["data"], json!([]));
    // The same cellphone here is a separate contact; theirs is untouched.
    let (_, ours) = app
        .upsert_contact(json!({"cellphone": "+14155552671", "firstName": "Ours"}))
        .await;
    assert_ne!(ours["id"], theirs["id"]);
    assert_eq!(ours["firstName"], "Ours");
    let (status, still) = app
        .get_as(&other_key, &format!("/api/v1/contacts/{their_id}"))
        .await;
    assert_eq!(status, 200, "{still}");
    assert_eq!(still, theirs);
});
