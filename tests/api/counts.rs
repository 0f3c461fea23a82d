//! The maintained task counts (`task_counts`) stay equal to `count(*)` under concurrent writes.

use std::collections::BTreeMap;

use serde_json::json;
use tokio::task::JoinSet;

use crate::helpers::*;

/// Every maintained count, and the same counts computed from the rows.
async fn counts_and_truth(
    app: &TestApp,
) -> (BTreeMap<(String, String, String), i64>, BTreeMap<(String, String, String), i64>) {
    let maintained: Vec<(String, String, String, i64)> = sqlx::query_as(
        "SELECT domain_id, state, enterprise_project_id, sum(n)::bigint FROM task_counts
         GROUP BY 1, 2, 3 HAVING sum(n) <> 0",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    let truth: Vec<(String, String, String, i64)> = sqlx::query_as(
        "SELECT domain_id, state, coalesce(enterprise_project_id, ''), count(*) FROM tasks GROUP BY 1, 2, 3",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    let by_key =
        |rows: Vec<(String, String, String, i64)>| rows.into_iter().map(|(d, s, e, n)| ((d, s, e), n)).collect();
    (by_key(maintained), by_key(truth))
}

#[tokio::test]
async fn maintained_counts_equal_count_star_after_concurrent_creates_and_updates() {
    let app = spawn_app().await;
    let tokens = [TOKEN_A, TOKEN_B];
    // Sources first: each task needs its own.
    let mut sources = Vec::new();
    for i in 0..40 {
        let token = tokens[i % 2];
        sources.push((token, app.register_source_as(token, &source_body(&format!("src-{i}"))).await));
    }
    let app = std::sync::Arc::new(app);
    let mut creates = JoinSet::new();
    for (token, source) in sources {
        let app = app.clone();
        creates.spawn(async move {
            let reply = app.post_as(token, "/v3/tasks", &create_task_example(&source)).await;
            (token, reply.assert_ok()["id"].as_str().unwrap().to_string())
        });
    }
    let mut tasks = Vec::new();
    while let Some(created) = creates.join_next().await {
        tasks.push(created.unwrap());
    }
    // Concurrent updates that move tasks between states and enterprise projects, several
    // times each, some of them racing on the same task.
    let states = ["RUNNING", "SYNCING", "MIGRATE_SUCCESS", "ABORT", "READY"];
    let mut updates = JoinSet::new();
    for round in 0..3 {
        for (i, (token, id)) in tasks.iter().enumerate() {
            let app = app.clone();
            let (token, id) = (*token, id.clone());
            let body = if (i + round) % 3 == 0 {
                json!({ "state": states[(i + round) % states.len()], "enterprise_project_id": format!("ep-{}", i % 4) })
            } else if (i + round) % 3 == 1 {
                json!({ "state": states[(i * 7 + round) % states.len()] })
            } else {
                json!({ "enterprise_project": format!("ep-{}", (i + round) % 3), "speed_limit": 10 })
            };
            updates
                .spawn(async move { app.put_as(token, &format!("/v3/tasks/{id}"), &body).await.assert_ok().clone() });
        }
    }
    while let Some(done) = updates.join_next().await {
        done.unwrap();
    }
    let (maintained, truth) = counts_and_truth(&app).await;
    assert_eq!(maintained, truth);
    assert_eq!(truth.values().sum::<i64>(), 40);

    // And the API's counts are those sums.
    for (token, domain) in [(TOKEN_A, DOMAIN_A), (TOKEN_B, DOMAIN_B)] {
        let all: i64 = truth.iter().filter(|((d, _, _), _)| d == domain).map(|(_, n)| n).sum();
        assert_eq!(app.get_as(token, "/v3/tasks?limit=0").await.assert_ok()["count"], all);
        for state in states {
            let expected: i64 = truth.iter().filter(|((d, s, _), _)| d == domain && s == state).map(|(_, n)| n).sum();
            let reply = app.get_as(token, &format!("/v3/tasks?limit=0&state={state}")).await;
            assert_eq!(reply.assert_ok()["count"], expected, "{domain} {state}");
            let with_project =
                app.get_as(token, &format!("/v3/tasks?limit=0&state={state}&enterprise_project_id=ep-1")).await;
            let expected: i64 =
                truth.iter().filter(|((d, s, e), _)| d == domain && s == state && e == "ep-1").map(|(_, n)| n).sum();
            assert_eq!(with_project.assert_ok()["count"], expected, "{domain} {state} ep-1");
        }
    }
}

#[tokio::test]
async fn deleting_tasks_keeps_counts_exact() {
    let app = spawn_app().await;
    let task = app.create_example_task().await;
    let other = app.create_example_task().await;
    app.put(&format!("/v3/tasks/{other}"), &json!({ "state": "RUNNING" })).await.assert_ok();
    // No API deletes tasks yet; deleting a source server cascades to its task.
    sqlx::query("DELETE FROM servers WHERE id = (SELECT source_server_id FROM tasks WHERE id = $1::uuid)")
        .bind(&task)
        .execute(&app.pool)
        .await
        .unwrap();
    let (maintained, truth) = counts_and_truth(&app).await;
    assert_eq!(maintained, truth);
    assert_eq!(app.get("/v3/tasks?limit=0").await.assert_ok()["count"], 1);
    assert_eq!(app.get("/v3/tasks?limit=0&state=READY").await.assert_ok()["count"], 0);
    assert_eq!(app.get("/v3/tasks?limit=0&enterprise_project_id=").await.assert_ok()["count"], 0);
}
