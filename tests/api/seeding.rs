//! `sms-tasks seed`: seeded tasks read back through the API like tasks created one by one.

use serde_json::{json, Value};

use crate::helpers::*;

#[tokio::test]
async fn seeded_tasks_read_back_through_the_api_with_their_standard_tree() {
    let app = spawn_app().await;
    let report = sms_tasks::seed::seed(&app.pool, DOMAIN_A, 12, 7, false).await.unwrap();
    assert_eq!(report.tasks, 12);

    let list = app.get("/v3/tasks?limit=200").await;
    let list = list.assert_ok();
    assert_eq!(list["count"], 12);
    let tasks = list["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 12);
    for task in tasks {
        assert_eq!(task["sub_tasks"].as_array().unwrap().len(), 5, "{task}");
        assert_eq!(task["special_config"].as_array().unwrap().len(), 2, "{task}");
        assert!(task["source_server"]["id"].is_string() && task["target_server"]["id"].is_string());
    }
    // The maintained counts agree with the rows, per state.
    let states: Vec<(String, i64)> =
        sqlx::query_as("SELECT state, count(*) FROM tasks GROUP BY state").fetch_all(&app.pool).await.unwrap();
    for (state, n) in states {
        assert_eq!(app.get(&format!("/v3/tasks?limit=0&state={state}")).await.assert_ok()["count"], n);
    }

    // Seeded ids are UUID v7 of the rows' dates, as created ones are: list order (newest
    // first) is descending id order.
    let ids: Vec<uuid::Uuid> = tasks.iter().map(|t| t["id"].as_str().unwrap().parse().unwrap()).collect();
    assert!(ids.iter().all(|id| id.get_version_num() == 7), "{ids:?}");
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "{ids:?}");

    let id = tasks[0]["id"].as_str().unwrap();
    let shown = app.get(&format!("/v3/tasks/{id}")).await;
    let shown = shown.assert_ok();
    let target = &shown["target_server"];
    let disks = target["disks"].as_array().unwrap();
    assert_eq!(disks.len(), 2);
    assert!(disks.iter().all(|d| d["physical_volumes"].as_array().unwrap().len() == 3));
    let groups = target["volume_groups"].as_array().unwrap();
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0]["logical_volumes"].as_array().unwrap().len(), 2);
    let btrfs = target["btrfs_list"].as_array().unwrap();
    assert_eq!(btrfs.len(), 1);
    let filesystem: Value = serde_json::from_str(btrfs[0].as_str().unwrap()).unwrap();
    assert_eq!(filesystem["subvolumn"].as_array().unwrap().len(), 2);
    assert_eq!(shown["sub_tasks"].as_array().unwrap().len(), 5);

    // A seeded task takes updates like any other.
    let put =
        app.put(&format!("/v3/tasks/{id}"), &json!({ "state": "RUNNING", "sub_tasks": [{ "progress": 50 }] })).await;
    put.assert_ok();
    let after = app.get(&format!("/v3/tasks/{id}")).await;
    assert_eq!(after.assert_ok()["sub_tasks"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn the_same_seed_gives_the_same_tasks() {
    let (first, second) = (spawn_app().await, spawn_app().await);
    sms_tasks::seed::seed(&first.pool, DOMAIN_A, 7, 42, false).await.unwrap();
    sms_tasks::seed::seed(&second.pool, DOMAIN_A, 7, 42, false).await.unwrap();
    // Ids are UUID v7 of the seeding time (their first 48 bits, 12 hex digits): the rest, the
    // random bits, is the seed's.
    let rows = |app: &TestApp| {
        let pool = app.pool.clone();
        async move {
            sqlx::query_as::<_, (String, String, String, Option<String>)>(
                "SELECT substr(id::text, 15), name, state, enterprise_project_id FROM tasks ORDER BY name",
            )
            .fetch_all(&pool)
            .await
            .unwrap()
        }
    };
    let (a, b) = (rows(&first).await, rows(&second).await);
    assert_eq!(a.len(), 7);
    assert_eq!(a, b);
}
