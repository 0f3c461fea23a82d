//! The source server a create names: it must exist in the caller's domain, be connected and have
//! no task yet; two creates racing for one source make exactly one task.

use serde_json::Value;

use crate::helpers::*;

/// Posts `body` as `TOKEN_A`, expects a 400 with `code`, and checks that no row was added.
async fn assert_refused(app: &TestApp, label: &str, body: &Value, code: &str) {
    let before = app.row_counts().await;
    let reply = app.post("/v3/tasks", body).await;
    assert_eq!(reply.status, 400, "{label}: {}", reply.body);
    assert_eq!(reply.body["error_code"], code, "{label}: {}", reply.body);
    reply.check_error_shape().unwrap_or_else(|problem| panic!("{label}: {problem}"));
    assert_eq!(app.row_counts().await, before, "{label}: rows changed");
}

async fn tasks_of_source(app: &TestApp, source: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM tasks WHERE source_server_id = $1::uuid")
        .bind(source)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn an_unknown_source_is_refused() {
    let app = spawn_app().await;
    app.register_source().await;
    let random = uuid::Uuid::new_v4().to_string();
    // A task's target server lives in the same table as sources: it is no source.
    let other = app.register_source_as(TOKEN_A, &source_body("other")).await;
    let task = app.create_task(&create_task_example(&other)).await;
    let target = app.get(&format!("/v3/tasks/{task}")).await.assert_ok()["target_server"]["id"]
        .as_str()
        .expect("a target server id")
        .to_string();
    for (label, id) in [
        ("a random UUID", random.as_str()),
        ("a non-UUID id", "not-a-uuid"),
        ("the page's placeholder id", "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxx0001"),
        ("an empty id", ""),
        ("a task's target server id", target.as_str()),
    ] {
        assert_refused(&app, label, &create_task_example(id), "SMS.2216").await;
    }
}

#[tokio::test]
async fn another_domains_source_is_refused_as_unknown() {
    let app = spawn_app().await;
    let theirs = app.register_source_as(TOKEN_B, &source_body("b-source")).await;
    assert_refused(&app, "domain B's source, as A", &create_task_example(&theirs), "SMS.2216").await;
    // The refusal did not use it up: its own domain can still create a task for it.
    app.post_as(TOKEN_B, "/v3/tasks", &create_task_example(&theirs)).await.assert_ok();
}

#[tokio::test]
async fn a_disconnected_source_is_refused() {
    let app = spawn_app().await;
    let source = app.register_source().await;
    sqlx::query("UPDATE servers SET connected = false WHERE id = $1::uuid")
        .bind(&source)
        .execute(&app.pool)
        .await
        .unwrap();
    assert_refused(&app, "a disconnected source", &create_task_example(&source), "SMS.8003").await;
    assert_eq!(tasks_of_source(&app, &source).await, 0);
}

#[tokio::test]
async fn a_source_that_already_has_a_task_is_refused() {
    let app = spawn_app().await;
    let source = app.register_source().await;
    let first = app.create_task(&create_task_example(&source)).await;
    let mut second = create_task_example(&source);
    second["name"] = "another-task".into();
    assert_refused(&app, "a second task for one source", &second, "SMS.8004").await;
    assert_eq!(tasks_of_source(&app, &source).await, 1);
    app.get(&format!("/v3/tasks/{first}")).await.assert_ok();
}

#[tokio::test]
async fn two_concurrent_creates_for_one_source_make_one_task() {
    let app = spawn_app().await;
    for round in 0..5 {
        let source = app.register_source_as(TOKEN_A, &source_body(&format!("race-{round}"))).await;
        let mut first = create_task_example(&source);
        first["name"] = format!("race-{round}-a").into();
        let mut second = create_task_example(&source);
        second["name"] = format!("race-{round}-b").into();
        let (a, b) = tokio::join!(app.post("/v3/tasks", &first), app.post("/v3/tasks", &second));
        let mut statuses = [(a.status, a.body["error_code"].clone()), (b.status, b.body["error_code"].clone())];
        statuses.sort_by_key(|(status, _)| *status);
        assert_eq!(statuses[0].0, 200, "round {round}: one create succeeds; replies {} / {}", a.body, b.body);
        assert_eq!(
            statuses[1],
            (400, Value::from("SMS.8004")),
            "round {round}: the other is refused as already used; replies {} / {}",
            a.body,
            b.body
        );
        assert_eq!(tasks_of_source(&app, &source).await, 1, "round {round}: one task row for the source");
    }
    let counts = app.row_counts().await;
    assert_eq!(counts["tasks"], 5);
    assert_eq!(counts["servers"], 5 + 5, "five sources and five target servers");
}

/// Terraform creates a task from a template without a target name or VM, and copies the
/// source's `init_target_server.disks` into it when the user gives no target disks.
#[tokio::test]
async fn a_source_proposes_its_target_layout_and_a_template_stands_for_the_target() {
    let app = spawn_app().await;
    let mut body = source_body("layout");
    body["disks"] = serde_json::json!([{ "name": "/dev/vda", "device_use": "BOOT", "size": 1000, "used_size": 10,
        "physical_volumes": [{ "name": "/dev/vda1", "device_use": "OS", "file_system": "ext4", "index": 0,
                               "mount_point": "/", "size": 900, "used_size": 10, "uuid": "u-1" }] }]);
    let source = app.register_source_as(TOKEN_A, &body).await;
    let shown = app.get(&format!("/v3/sources/{source}")).await.assert_ok().clone();
    let layout = &shown["init_target_server"]["disks"];
    assert_eq!(
        layout,
        &serde_json::json!([{ "name": "/dev/vda", "size": 1000, "device_use": "BOOT", "used_size": 10,
        "physical_volumes": [{ "device_use": "OS", "file_system": "ext4", "index": 0, "mount_point": "/",
                               "name": "/dev/vda1", "size": 900, "inode_size": null, "used_size": 10, "uuid": "u-1" }] }])
    );
    let mut task = create_task_example(&source);
    task["target_server"] = serde_json::json!({ "disks": layout });
    app.post("/v3/tasks", &task).await.assert_invalid("target_server.name");
    task["vm_template_id"] = serde_json::json!("template-1");
    let id = app.create_task(&task).await;
    let shown = app.get(&format!("/v3/tasks/{id}")).await.assert_ok().clone();
    assert_eq!(shown["target_server"]["disks"][0]["physical_volumes"][0]["mount_point"], "/");
}
