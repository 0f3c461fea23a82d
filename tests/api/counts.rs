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
    app.post("/v3/tasks/delete", &json!({ "ids": [task] })).await.assert_ok();
    let (maintained, truth) = counts_and_truth(&app).await;
    assert_eq!(maintained, truth);
    assert_eq!(app.get("/v3/tasks?limit=0").await.assert_ok()["count"], 1);
    assert_eq!(app.get("/v3/tasks?limit=0&state=READY").await.assert_ok()["count"], 0);
    assert_eq!(app.get("/v3/tasks?limit=0&enterprise_project_id=").await.assert_ok()["count"], 0);
}

/// Actions, progress reports and deletes racing on the same tasks: every answer is a success
/// or a refusal with its code, and afterwards the counts are exact and nothing is partial.
#[tokio::test]
async fn counts_stay_exact_and_nothing_is_partial_under_racing_actions_progress_and_deletes() {
    let app = std::sync::Arc::new(spawn_app().await);
    let tokens = [TOKEN_A, TOKEN_B];
    let mut tasks = Vec::new();
    for i in 0..24 {
        let token = tokens[i % 2];
        let source = app.register_source_as(token, &source_body(&format!("race-{i}"))).await;
        let reply = app.post_as(token, "/v3/tasks", &create_task_example(&source)).await;
        tasks.push((token, reply.assert_ok()["id"].as_str().unwrap().to_string(), source));
    }
    let mut racers = JoinSet::new();
    for (i, (token, task, source)) in tasks.iter().enumerate() {
        for worker in 0..3 {
            let app = app.clone();
            let (token, task, source) = (*token, task.clone(), source.clone());
            racers.spawn(async move {
                let mut answers = Vec::new();
                for step in 0..6 {
                    let reply = match (i + worker * 5 + step) % 8 {
                        0 | 5 => {
                            app.post_as(token, &format!("/v3/tasks/{task}/action"), &json!({ "operation": "start" }))
                                .await
                        }
                        1 => {
                            app.post_as(token, &format!("/v3/tasks/{task}/action"), &json!({ "operation": "stop" }))
                                .await
                        }
                        2 | 6 => {
                            let body = json!({ "subtask_name": "CREATE_CLOUD_SERVER", "progress": 100,
                                               "replicatesize": 1, "process_trace": "race" });
                            app.put_as(token, &format!("/v3/tasks/{task}/progress"), &body).await
                        }
                        3 => {
                            app.post_as(token, &format!("/v3/tasks/{task}/action"), &json!({ "operation": "restart" }))
                                .await
                        }
                        4 if worker == 2 => {
                            let request =
                                app.client.delete(app.url(&format!("/v3/tasks/{task}"))).header("X-Auth-Token", token);
                            app.send(request).await
                        }
                        4 => {
                            let result = json!({ "command_name": "START", "result": "success", "result_detail": {} });
                            app.post_as(token, &format!("/v3/sources/{source}/command_result"), &result).await
                        }
                        _ => app.post_as(token, "/v3/tasks/delete", &json!({ "ids": [task] })).await,
                    };
                    answers.push((reply.status, reply.body["error_code"].as_str().unwrap_or("").to_string()));
                }
                answers
            });
        }
    }
    let mut refusals = std::collections::BTreeMap::<String, usize>::new();
    while let Some(answers) = racers.join_next().await {
        for (status, code) in answers.unwrap() {
            match status {
                200 => {}
                400 | 404 => *refusals.entry(code).or_default() += 1,
                other => panic!("unexpected status {other} ({code})"),
            }
        }
    }
    for code in refusals.keys() {
        assert!(
            ["SMS.1038", "SMS.1039", "SMS.1040", "SMS.2015", "SMS.2009", "SMS.8009", "SMS.8005", "SMS.8006"]
                .contains(&code.as_str()),
            "an unexpected refusal: {refusals:?}"
        );
    }
    let (maintained, truth) = counts_and_truth(&app).await;
    assert_eq!(maintained, truth);
    // Nothing partial: each remaining task has its target server and a whole subtask list;
    // each deleted task left no rows behind.
    let remaining: i64 = sqlx::query_scalar("SELECT count(*) FROM tasks").fetch_one(&app.pool).await.unwrap();
    let targets: i64 =
        sqlx::query_scalar("SELECT count(*) FROM servers WHERE role = 'target'").fetch_one(&app.pool).await.unwrap();
    assert_eq!(targets, remaining);
    let partial: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT task_id FROM subtasks GROUP BY task_id HAVING count(*) NOT IN (7, 8)) p",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(partial, 0, "a task with a partial subtask list");
    let orphans: i64 = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM disks d WHERE NOT EXISTS (SELECT 1 FROM servers s WHERE s.id = d.server_id))
              + (SELECT count(*) FROM servers s WHERE s.role = 'source' AND s.state IN ('replicate', 'syncing')
                   AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.source_server_id = s.id))",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(orphans, 0, "a source left replicating without a task");
    for (token, domain) in [(TOKEN_A, DOMAIN_A), (TOKEN_B, DOMAIN_B)] {
        let all: i64 = truth.iter().filter(|((d, _, _), _)| d == domain).map(|(_, n)| n).sum();
        assert_eq!(app.get_as(token, "/v3/tasks?limit=0").await.assert_ok()["count"], all);
    }
}
