//! Teams and lead sources over HTTP: what numbers can be reserved for. Names are unique
//! per workspace; team members must be users of the workspace; deleting either leaves
//! the numbers in the pool without the reservation.

mod common;

use common::{TestApp, assert_invalid, problem_fields};
use reqwest::Method;
use serde_json::{Value, json};

impl TestApp {
    async fn patch(&self, path: &str, body: Value) -> (u16, Value) {
        common::read(
            self.request(Method::PATCH, path)
                .json(&body)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    async fn delete(&self, path: &str) -> u16 {
        let response = self.request(Method::DELETE, path).send().await.unwrap();
        response.status().as_u16()
    }
}

const UNKNOWN: &str = "0190a5a0-0000-7000-8000-000000000000";

both_stores!(a_team_keeps_its_members_in_order, |app| {
    let ana = app.create_user("ana@example.com").await["id"].clone();
    let bo = app.create_user("bo@example.com").await["id"].clone();
    let (status, team) = app
        .post(
            "/api/v1/teams",
            json!({"name": " Closers ", "description": "Evening shift", "memberUserIds": [bo, ana]}),
        )
        .await;
    assert_eq!(status, 201, "{team}");
    assert_eq!(team["name"], "Closers");
    assert_eq!(team["memberUserIds"], json!([bo, ana]));
    let path = format!("/api/v1/teams/{}", team["id"].as_str().unwrap());
    let (status, fetched) = app.get(&path).await;
    assert_eq!((status, &fetched), (200, &team));

    let (status, changed) = app
        .patch(&path, json!({"memberUserIds": [ana], "description": null}))
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["memberUserIds"], json!([ana]));
    assert_eq!(changed["description"], Value::Null);
    assert_eq!(changed["name"], "Closers", "absent fields stay");
    let (_, cleared) = app.patch(&path, json!({"memberUserIds": null})).await;
    assert_eq!(cleared["memberUserIds"], json!([]));

    let (_, second) = app
        .post(
            "/api/v1/teams",
            json!({"name": "Openers", "memberUserIds": [ana]}),
        )
        .await;
    let (_, page) = app.get("/api/v1/teams?limit=1").await;
    assert_eq!(page["data"][0]["id"], team["id"]);
    let cursor = page["nextCursor"].as_str().unwrap();
    let (_, page) = app
        .get(&format!("/api/v1/teams?limit=1&cursor={cursor}"))
        .await;
    assert_eq!(page["data"], json!([second]));

    let (status, problem) = app.post("/api/v1/teams", json!({"name": "Closers"})).await;
    assert_eq!(
        (status, problem_fields(&problem)),
        (409, vec!["name".to_owned()])
    );
    let (status, problem) = app.patch(&path, json!({"name": "Openers"})).await;
    assert_eq!(
        (status, problem_fields(&problem)),
        (409, vec!["name".to_owned()])
    );

    let (_, other_key) = app.other_workspace().await;
    assert_eq!(app.get_as(&other_key, &path).await.0, 404);
    assert_eq!(app.delete(&path).await, 204);
    assert_eq!(app.get(&path).await.0, 404);
    assert_eq!(app.delete(&path).await, 404);
});

both_stores!(team_refusals_name_their_fields, |app| {
    let ana = app.create_user("ana@example.com").await["id"].clone();
    let (status, problem) = app
        .post(
            "/api/v1/teams",
            json!({"name": "", "memberUserIds": [ana, "x", ana], "colour": "red"}),
        )
        .await;
    assert_invalid(status, &problem, "colour");
    let (status, problem) = app
        .post(
            "/api/v1/teams",
            json!({"name": "", "memberUserIds": [ana, "x", ana]}),
        )
        .await;
    assert_eq!(status, 422, "{problem}");
    let mut fields = problem_fields(&problem);
    fields.sort();
    assert_eq!(fields, ["memberUserIds[1]", "memberUserIds[2]", "name"]);

    let (status, problem) = app
        .post(
            "/api/v1/teams",
            json!({"name": "A", "memberUserIds": [ana, UNKNOWN]}),
        )
        .await;
    assert_eq!(status, 404, "{problem}");
    assert_eq!(problem_fields(&problem), ["memberUserIds[1]"]);
    let (other_workspace, other_key) = app.other_workspace().await;
    let (_, stranger) = app
        .post_as(
            &other_key,
            "/api/v1/users",
            json!({"email": "zed@example.com"}),
        )
        .await;
    assert!(!other_workspace.is_empty());
    let (status, problem) = app
        .post(
            "/api/v1/teams",
            json!({"name": "A", "memberUserIds": [stranger["id"]]}),
        )
        .await;
    assert_eq!(
        (status, problem_fields(&problem)),
        (404, vec!["memberUserIds[0]".to_owned()]),
        "a user of another workspace is no member candidate"
    );

    let (_, team) = app.post("/api/v1/teams", json!({"name": "A"})).await;
    let path = format!("/api/v1/teams/{}", team["id"].as_str().unwrap());
    let (status, problem) = app.patch(&path, json!({"name": null})).await;
    assert_invalid(status, &problem, "name");
    let (status, problem) = app.patch(&path, json!({"memberUserIds": [UNKNOWN]})).await;
    assert_eq!(
        (status, problem_fields(&problem)),
        (404, vec!["memberUserIds[0]".to_owned()])
    );
    assert_eq!(app.get("/api/v1/teams/nope").await.0, 404);
});

both_stores!(a_deleted_team_leaves_its_numbers_in_the_pool, |app| {
    let (_, team) = app.post("/api/v1/teams", json!({"name": "A"})).await;
    let (status, number) = app
        .post(
            "/api/v1/phone-numbers",
            json!({"number": "+14155552671", "teamId": team["id"]}),
        )
        .await;
    assert_eq!(status, 201, "{number}");
    let team_path = format!("/api/v1/teams/{}", team["id"].as_str().unwrap());
    assert_eq!(app.delete(&team_path).await, 204);
    let (status, number) = app
        .get(&format!(
            "/api/v1/phone-numbers/{}",
            number["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(status, 200, "{number}");
    assert_eq!(number["teamId"], Value::Null);
});

both_stores!(sources_round_trip_and_release_their_numbers, |app| {
    let (status, source) = app
        .post(
            "/api/v1/sources",
            json!({"name": "Web form", "description": "Landing page"}),
        )
        .await;
    assert_eq!(status, 201, "{source}");
    assert_eq!(source["description"], "Landing page");
    let path = format!("/api/v1/sources/{}", source["id"].as_str().unwrap());
    let (status, fetched) = app.get(&path).await;
    assert_eq!((status, &fetched), (200, &source));
    let (_, page) = app.get("/api/v1/sources").await;
    assert_eq!(page["data"], json!([source]));

    let (status, renamed) = app.patch(&path, json!({"name": "Web"})).await;
    assert_eq!(status, 200, "{renamed}");
    assert_eq!(
        (&renamed["name"], &renamed["description"]),
        (&json!("Web"), &json!("Landing page"))
    );
    let (status, problem) = app.post("/api/v1/sources", json!({"name": "Web"})).await;
    assert_eq!(
        (status, problem_fields(&problem)),
        (409, vec!["name".to_owned()])
    );
    for (body, field) in [
        (json!({"name": "  "}), "name"),
        (json!({"name": "y", "description": ""}), "description"),
        (json!({"name": "x", "kind": "form"}), "kind"),
    ] {
        let (status, problem) = app.post("/api/v1/sources", body).await;
        assert_invalid(status, &problem, field);
    }
    let (status, problem) = app.patch(&path, json!({"name": null})).await;
    assert_invalid(status, &problem, "name");

    let (_, number) = app
        .post(
            "/api/v1/phone-numbers",
            json!({"number": "+14155552671", "sourceIds": [source["id"]]}),
        )
        .await;
    assert_eq!(number["sourceIds"], json!([source["id"]]));
    assert_eq!(app.delete(&path).await, 204);
    let (_, number) = app
        .get(&format!(
            "/api/v1/phone-numbers/{}",
            number["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(number["sourceIds"], json!([]));
    assert_eq!(app.get(&format!("/api/v1/sources/{UNKNOWN}")).await.0, 404);
});
