//! `/api/v1/users`: creating, fetching by id or email, listing with cursors, and the
//! workspace boundary.

mod common;

use common::{assert_invalid, assert_problem};
use reqwest::Method;
use serde_json::{Value, json};
use tokio::task::JoinSet;

fn assert_timestamp(value: &Value) {
    let text = value.as_str().unwrap_or_default();
    assert!(text.ends_with('Z'), "{value}");
    assert!(
        chrono::DateTime::parse_from_rfc3339(text).is_ok(),
        "{value}"
    );
}

both_stores!(create_returns_the_user, |app| {
    let (status, user) = app
        .post(
            "/api/v1/users",
            json!({"email": " Jane.Doe@Acme.COM ", "firstName": "Jane", "lastName": "Doe"}),
        )
        .await;
    assert_eq!(status, 201, "{user}");
    let keys: Vec<&str> = user
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for key in [
        "id",
        "workspaceId",
        "email",
        "firstName",
        "lastName",
        "role",
        "createdAt",
        "updatedAt",
    ] {
        assert!(keys.contains(&key), "{key} missing from {user}");
    }
    assert!(
        uuid::Uuid::parse_str(user["id"].as_str().unwrap()).is_ok(),
        "{user}"
    );
    assert_eq!(user["workspaceId"], app.workspace_id.as_str());
    assert_eq!(user["email"], "jane.doe@acme.com");
    assert_eq!(user["firstName"], "Jane");
    assert_eq!(user["lastName"], "Doe");
    assert_eq!(user["role"], "ADVISOR");
    assert_timestamp(&user["createdAt"]);
    assert_timestamp(&user["updatedAt"]);

    let (status, admin) = app
        .post(
            "/api/v1/users",
            json!({"email": "boss@acme.com", "role": "ADMIN"}),
        )
        .await;
    assert_eq!(status, 201, "{admin}");
    assert_eq!(admin["role"], "ADMIN");
    assert_eq!(admin["firstName"], Value::Null);
    assert_ne!(admin["id"], user["id"]);
});

both_stores!(duplicate_email_is_409, |app| {
    app.create_user("jane@acme.com").await;
    for email in ["jane@acme.com", "JANE@Acme.com", " jane@ACME.COM"] {
        let (status, content_type, problem) = app
            .send(
                app.request(Method::POST, "/api/v1/users")
                    .json(&json!({"email": email})),
            )
            .await;
        assert_problem(status, &content_type, &problem, 409);
        assert_eq!(common::problem_fields(&problem), vec!["email"], "{problem}");
    }
    let (_, page) = app.get("/api/v1/users").await;
    assert_eq!(page["data"].as_array().map(Vec::len), Some(1), "{page}");
});

both_stores!(invalid_fields_are_422, |app| {
    for email in [
        "",
        "jane",
        "jane@",
        "@acme.com",
        "jane@acme",
        "ja ne@acme.com",
    ] {
        let (status, problem) = app.post("/api/v1/users", json!({"email": email})).await;
        assert_invalid(status, &problem, "email");
    }
    let (status, problem) = app
        .post(
            "/api/v1/users",
            json!({"email": "a@acme.com", "role": "BOSS"}),
        )
        .await;
    assert_invalid(status, &problem, "role");
    let (status, problem) = app
        .post(
            "/api/v1/users",
            json!({"email": "a@acme.com", "firstName": "x".repeat(101)}),
        )
        .await;
    assert_invalid(status, &problem, "firstName");
    let (_, page) = app.get("/api/v1/users").await;
    assert_eq!(page["data"].as_array().map(Vec::len), Some(0), "{page}");
});

both_stores!(get_by_id_and_by_email, |app| {
    let user = app.create_user("Jane@Acme.com").await;
    let id = user["id"].as_str().unwrap();
    for reference in [id, "jane@acme.com", "JANE@ACME.COM"] {
        let (status, found) = app.get(&format!("/api/v1/users/{reference}")).await;
        assert_eq!(status, 200, "{reference}: {found}");
        assert_eq!(found, user, "{reference}");
    }
    let unknown = uuid::Uuid::now_v7().to_string();
    for reference in [unknown.as_str(), "nobody@acme.com", "not-an-id", "123"] {
        let (status, content_type, problem) = app
            .send(app.request(Method::GET, &format!("/api/v1/users/{reference}")))
            .await;
        assert_problem(status, &content_type, &problem, 404);
    }
});

both_stores!(list_pages_with_cursors, |app| {
    let mut created = Vec::new();
    for n in 0..5 {
        created.push(app.create_user(&format!("user{n}@acme.com")).await["id"].clone());
    }
    let mut seen = Vec::new();
    let mut sizes = Vec::new();
    let mut path = "/api/v1/users?limit=2".to_owned();
    loop {
        let (status, page) = app.get(&path).await;
        assert_eq!(status, 200, "{page}");
        let data = page["data"].as_array().unwrap();
        sizes.push(data.len());
        seen.extend(data.iter().map(|u| u["id"].clone()));
        match page["nextCursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/users?limit=2&cursor={cursor}"),
            None => {
                assert!(
                    page.get("nextCursor").is_some(),
                    "nextCursor is null, not absent"
                );
                break;
            }
        }
        assert!(sizes.len() < 10, "pagination does not end");
    }
    assert_eq!(sizes, vec![2, 2, 1]);
    assert_eq!(seen, created, "every user once, in creation order");
    let (_, all) = app.get("/api/v1/users").await;
    assert_eq!(all["data"].as_array().map(Vec::len), Some(5));
    assert_eq!(all["nextCursor"], Value::Null);
});

both_stores!(bad_limit_or_cursor_is_422, |app| {
    for limit in ["0", "501", "abc", "-1", "2.5", ""] {
        let (status, problem) = app.get(&format!("/api/v1/users?limit={limit}")).await;
        assert_invalid(status, &problem, "limit");
    }
    let (status, page) = app.get("/api/v1/users?limit=500").await;
    assert_eq!(status, 200, "{page}");
    let (status, page) = app.get("/api/v1/users?limit=1").await;
    assert_eq!(status, 200, "{page}");
    let (status, problem) = app.get("/api/v1/users?cursor=garbage").await;
    assert_invalid(status, &problem, "cursor");
});

both_stores!(users_of_another_workspace_are_invisible, |app| {
    let (other_workspace, other_key) = app.other_workspace().await;
    let (status, theirs) = app
        .post_as(
            &other_key,
            "/api/v1/users",
            json!({"email": "jane@acme.com"}),
        )
        .await;
    assert_eq!(status, 201, "{theirs}");
    assert_eq!(theirs["workspaceId"], other_workspace.as_str());
    // The same email is free in this workspace.
    let ours = app.create_user("jane@acme.com").await;
    assert_ne!(ours["id"], theirs["id"]);
    let their_id = theirs["id"].as_str().unwrap();
    let (status, _) = app.get(&format!("/api/v1/users/{their_id}")).await;
    assert_eq!(status, 404);
    let (status, found) = app.get("/api/v1/users/jane@acme.com").await;
    assert_eq!((status, &found["id"]), (200, &ours["id"]));
    let (_, page) = app.get("/api/v1/users").await;
    let ids: Vec<&Value> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| &u["id"])
        .collect();
    assert_eq!(ids, vec![&ours["id"]]);
    let (_, page) = app.get_as(&other_key, "/api/v1/users").await;
    let ids: Vec<&Value> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| &u["id"])
        .collect();
    assert_eq!(ids, vec![&theirs["id"]]);
});

both_stores!(concurrent_creates_of_one_email_make_one_user, |app| {
    let mut tasks = JoinSet::new();
    for n in 0..20 {
        let request = app
            .request(Method::POST, "/api/v1/users")
            .json(&json!({"email": if n % 2 == 0 { "race@acme.com" } else { "RACE@acme.com" }}));
        tasks.spawn(async move { common::read(request.send().await.unwrap()).await });
    }
    let mut statuses = Vec::new();
    while let Some(answer) = tasks.join_next().await {
        let (status, body) = answer.unwrap();
        assert!(status == 201 || status == 409, "{status}: {body}");
        if status == 409 {
            assert_eq!(common::problem_fields(&body), vec!["email"], "{body}");
        }
        statuses.push(status);
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    let (_, page) = app.get("/api/v1/users").await;
    assert_eq!(page["data"].as_array().map(Vec::len), Some(1), "{page}");
});
