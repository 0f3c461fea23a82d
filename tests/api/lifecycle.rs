//! The task lifecycle over HTTP: actions and their refusals, the agent command queue,
//! progress reports that finish tasks, deletes, and tenancy of every lifecycle endpoint.

use serde_json::{json, Value};

use crate::helpers::*;

/// A task (seed 003's example: Linux, file-level) and its source.
async fn task_and_source(app: &TestApp, name: &str) -> (String, String) {
    let source = app.register_source_as(TOKEN_A, &source_body(name)).await;
    let task = app.create_task(&create_task_example(&source)).await;
    (task, source)
}

async fn act(app: &TestApp, task: &str, body: Value) -> Reply {
    app.post(&format!("/v3/tasks/{task}/action"), &body).await
}

async fn start(app: &TestApp, task: &str) {
    act(app, task, json!({ "operation": "start" })).await.assert_ok();
}

async fn show(app: &TestApp, task: &str) -> Value {
    app.get(&format!("/v3/tasks/{task}")).await.assert_ok().clone()
}

async fn source(app: &TestApp, source: &str) -> Value {
    app.get(&format!("/v3/sources/{source}")).await.assert_ok().clone()
}

async fn command(app: &TestApp, source: &str) -> Value {
    app.get(&format!("/v3/sources/{source}/command")).await.assert_ok().clone()
}

async fn ack(app: &TestApp, source: &str, name: &str, result: &str) -> Reply {
    let body = json!({ "command_name": name, "result": result, "result_detail": { "msg": "done" } });
    app.post(&format!("/v3/sources/{source}/command_result"), &body).await
}

async fn report(app: &TestApp, task: &str, subtask: &str, progress: i64) -> Reply {
    let body = json!({
        "subtask_name": subtask, "progress": progress, "replicatesize": 1024, "totalsize": 4096,
        "process_trace": format!("{subtask} at {progress}"), "migrate_speed": 12.5, "compress_rate": 1.5,
        "remain_time": 30, "total_cpu_usage": 20.0, "agent_cpu_usage": 5.0
    });
    app.put(&format!("/v3/tasks/{task}/progress"), &body).await
}

fn subtask_names(task: &Value) -> Vec<String> {
    task["sub_tasks"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap().to_string()).collect()
}

const LINUX_FILE: [&str; 7] = [
    "CREATE_CLOUD_SERVER",
    "SSL_CONFIG",
    "ATTACH_AGENT_IMAGE",
    "FORMAT_DISK_LINUX_FILE",
    "MIGRATE_LINUX_FILE",
    "CONFIGURE_LINUX_FILE",
    "DETTACH_AGENT_IMAGE",
];

#[tokio::test]
async fn start_runs_the_task_with_the_standard_subtasks_and_queues_start() {
    let app = spawn_app().await;
    let (task, src) = task_and_source(&app, "src-start").await;
    assert_eq!(command(&app, &src).await, json!({}));
    start(&app, &task).await;
    let shown = show(&app, &task).await;
    assert_eq!(shown["state"], "RUNNING");
    assert!(shown["start_date"].as_i64().unwrap() > 0);
    assert_eq!(subtask_names(&shown), LINUX_FILE);
    assert!(shown["sub_tasks"].as_array().unwrap().iter().all(|s| s["progress"] == 0));
    let source = source(&app, &src).await;
    assert_eq!(
        (source["state"].as_str(), source["migration_cycle"].as_str()),
        (Some("replicate"), Some("replicating"))
    );
    let expected = json!({ "command_name": "START", "command_param": { "task_id": task, "bucket": null } });
    assert_eq!(command(&app, &src).await, expected);
    assert_eq!(command(&app, &src).await, expected, "a poll does not take the command");
}

/// States an operation is allowed from, each with the state it makes (`None`: unchanged).
type Allowed = Vec<(&'static str, Option<&'static str>)>;

/// The decisions' table: for each operation, the states it is allowed from and what it makes
/// of the task; from every other state, its exact refusal.
#[tokio::test]
async fn every_operation_is_allowed_from_its_states_and_refused_with_its_code_elsewhere() {
    let app = spawn_app().await;
    let all = [
        "READY",
        "RUNNING",
        "SYNCING",
        "MIGRATE_SUCCESS",
        "SYNC_SUCCESS",
        "MIGRATE_FAIL",
        "SYNC_FAIL",
        "ABORTING",
        "ABORT",
        "SKIPPING",
        "DELETING",
        "RESETING",
        "SYNC_F_ROLLBACKING",
        "SYNC_F_ROLLBACK_SUCCESS",
    ];
    let migrated = ["SYNCING", "MIGRATE_SUCCESS", "SYNC_SUCCESS"];
    // (operation, allowed from → resulting state (None: unchanged), refusal code)
    let table: Vec<(&str, Allowed, &str)> = vec![
        (
            "start",
            vec![
                ("READY", Some("RUNNING")),
                ("ABORT", Some("RUNNING")),
                ("SYNC_SUCCESS", Some("SYNCING")),
                ("SYNC_FAIL", Some("SYNCING")),
                ("SYNC_F_ROLLBACK_SUCCESS", Some("SYNCING")),
            ],
            "SMS.1039",
        ),
        (
            "restart",
            vec![("MIGRATE_FAIL", Some("RUNNING")), ("ABORT", Some("RUNNING")), ("SYNC_FAIL", Some("RUNNING"))],
            "SMS.1040",
        ),
        ("stop", vec![("RUNNING", Some("ABORT")), ("SYNCING", Some("ABORT"))], "SMS.1038"),
        ("error_for_overspeed", vec![("RUNNING", Some("ABORT")), ("SYNCING", Some("ABORT"))], "SMS.8009"),
        ("cutover", migrated.iter().map(|s| (*s, Some("MIGRATE_SUCCESS"))).collect(), "SMS.8009"),
        ("test", migrated.iter().map(|s| (*s, None)).collect(), "SMS.8009"),
        ("sync_failed_rollback", vec![("SYNC_FAIL", Some("SYNC_F_ROLLBACK_SUCCESS"))], "SMS.8009"),
        ("skip", vec![("RUNNING", None)], "SMS.8009"),
        ("migration_test", vec![("READY", None), ("ABORT", None)], "SMS.8009"),
        ("collect_log", all.iter().map(|s| (*s, None)).collect(), "-"),
        ("network_check", all.iter().map(|s| (*s, None)).collect(), "-"),
        ("clear", all.iter().map(|s| (*s, None)).collect(), "-"),
    ];
    let (task, _) = task_and_source(&app, "src-table").await;
    let mut failures = Vec::new();
    for (operation, allowed, code) in &table {
        for from in all {
            app.put(&format!("/v3/tasks/{task}"), &json!({ "state": from })).await.assert_ok();
            let reply = act(&app, &task, json!({ "operation": operation })).await;
            let state = show(&app, &task).await["state"].clone();
            match allowed.iter().find(|(s, _)| *s == from) {
                Some((_, becomes)) => {
                    let expected = becomes.unwrap_or(from);
                    if reply.status != 200 || state != expected {
                        failures
                            .push(format!("{operation} from {from}: {} {}, state {state}", reply.status, reply.body));
                    }
                }
                None => {
                    if reply.status != 400 || reply.body["error_code"] != *code || state != from {
                        failures
                            .push(format!("{operation} from {from}: want {code}, got {} {}", reply.status, reply.body));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    let refusal = act(&app, &task, json!({ "operation": "fly" })).await;
    refusal.assert_invalid("operation");
    act(&app, &task, json!({ "operation": "clone_test" })).await.assert_invalid("template_id");
}

#[tokio::test]
async fn two_concurrent_starts_one_wins_one_is_refused() {
    let app = spawn_app().await;
    for round in 0..5 {
        let (task, src) = task_and_source(&app, &format!("src-race-{round}")).await;
        let (a, b) = tokio::join!(
            act(&app, &task, json!({ "operation": "start" })),
            act(&app, &task, json!({ "operation": "start" }))
        );
        let mut statuses = [a.status, b.status];
        statuses.sort();
        assert_eq!(statuses, [200, 400], "{} / {}", a.body, b.body);
        let refused = if a.status == 400 { a } else { b };
        refused.assert_error(400, "SMS.1039");
        assert_eq!(show(&app, &task).await["sub_tasks"].as_array().unwrap().len(), 7, "one list of subtasks");
        let queued: i64 = sqlx::query_scalar("SELECT count(*) FROM agent_commands WHERE source_id = $1::uuid")
            .bind(&src)
            .fetch_one(&app.pool)
            .await
            .unwrap();
        assert_eq!(queued, 1, "one START queued");
    }
}

#[tokio::test]
async fn progress_moves_subtasks_and_finishes_the_task() {
    let app = spawn_app().await;
    let (task, src) = task_and_source(&app, "src-progress").await;
    report(&app, &task, "SSL_CONFIG", 10).await.assert_error(400, "SMS.8009");
    start(&app, &task).await;
    ack(&app, &src, "START", "success").await.assert_ok();
    assert_eq!(command(&app, &src).await, json!({}));
    report(&app, &task, "NO_SUCH_SUBTASK", 10).await.assert_invalid("subtask_name");
    app.put(&format!("/v3/tasks/{task}/progress"), &json!({ "subtask_name": "SSL_CONFIG", "process_trace": "x" }))
        .await
        .assert_invalid("replicatesize");
    report(&app, &task, "CREATE_CLOUD_SERVER", 40).await.assert_ok();
    let shown = show(&app, &task).await;
    let first = &shown["sub_tasks"][0];
    assert_eq!(
        (first["progress"].as_i64(), first["process_trace"].as_str()),
        (Some(40), Some("CREATE_CLOUD_SERVER at 40"))
    );
    assert!(first["start_date"].as_i64().is_some() && first["end_date"].is_null());
    assert_eq!((shown["migrate_speed"].as_f64(), shown["remain_seconds"].as_i64()), (Some(12.5), Some(30)));
    assert_eq!(shown["state"], "RUNNING");
    for name in LINUX_FILE {
        report(&app, &task, name, 100).await.assert_ok();
    }
    let done = show(&app, &task).await;
    assert_eq!(done["state"], "MIGRATE_SUCCESS");
    assert!(done["finish_date"].as_i64().is_some());
    assert!(done["sub_tasks"].as_array().unwrap().iter().all(|s| s["progress"] == 100 && s["end_date"].is_i64()));
    let source = source(&app, &src).await;
    assert_eq!((source["state"].as_str(), source["migration_cycle"].as_str()), (Some("finished"), Some("cutovered")));
    report(&app, &task, "SSL_CONFIG", 100).await.assert_error(400, "SMS.8009");
}

#[tokio::test]
async fn a_syncing_task_syncs_after_its_copy_and_succeeds_each_round() {
    let app = spawn_app().await;
    let src = app.register_source_as(TOKEN_A, &source_body("src-sync")).await;
    let mut body = create_task_example(&src);
    body["syncing"] = json!(true);
    let task = app.create_task(&body).await;
    start(&app, &task).await;
    ack(&app, &src, "START", "success").await.assert_ok();
    for name in LINUX_FILE {
        report(&app, &task, name, 100).await.assert_ok();
    }
    let shown = show(&app, &task).await;
    assert_eq!(shown["state"], "SYNCING");
    assert_eq!(subtask_names(&shown).last().map(String::as_str), Some("SYNC_LINUX_FILE"));
    assert_eq!(command(&app, &src).await["command_name"], "SYNC");
    ack(&app, &src, "SYNC", "success").await.assert_ok();
    report(&app, &task, "SYNC_LINUX_FILE", 100).await.assert_ok();
    assert_eq!(show(&app, &task).await["state"], "SYNC_SUCCESS");
    // Another round.
    start(&app, &task).await;
    let shown = show(&app, &task).await;
    assert_eq!(shown["state"], "SYNCING");
    assert_eq!(shown["sub_tasks"].as_array().unwrap().last().unwrap()["progress"], 0);
    assert_eq!(subtask_names(&shown).len(), 8, "the sync subtask is not added twice");
    assert_eq!(command(&app, &src).await["command_name"], "SYNC");
    ack(&app, &src, "SYNC", "fail").await.assert_ok();
    assert_eq!(show(&app, &task).await["state"], "SYNC_FAIL");
}

#[tokio::test]
async fn the_command_queue_is_fifo_and_results_must_match_its_head() {
    let app = spawn_app().await;
    let (task, src) = task_and_source(&app, "src-queue").await;
    ack(&app, &src, "START", "success").await.assert_error(400, "SMS.2009");
    start(&app, &task).await;
    act(&app, &task, json!({ "operation": "stop" })).await.assert_ok();
    act(&app, &task, json!({ "operation": "collect_log", "param": { "bucket": "logs-1" } })).await.assert_ok();
    assert_eq!(command(&app, &src).await["command_name"], "START");
    ack(&app, &src, "STOP", "success").await.assert_error(400, "SMS.2009");
    ack(&app, &src, "START", "success").await.assert_ok();
    assert_eq!(command(&app, &src).await["command_name"], "STOP");
    ack(&app, &src, "STOP", "success").await.assert_ok();
    let upload = command(&app, &src).await;
    assert_eq!(
        upload,
        json!({ "command_name": "UPLOAD_LOG", "command_param": { "task_id": task, "bucket": "logs-1" } })
    );
    assert_eq!(show(&app, &task).await["state"], "ABORT");
    let listed = app.get(&format!("/v3/tasks?id={task}")).await.assert_ok().clone();
    assert_eq!(listed["tasks"][0]["log_collect_status"], "UPLOADING");
    ack(&app, &src, "UPLOAD_LOG", "success").await.assert_ok();
    let listed = app.get(&format!("/v3/tasks?id={task}")).await.assert_ok().clone();
    assert_eq!(listed["tasks"][0]["log_collect_status"], "UPLOADED");
    assert_eq!(command(&app, &src).await, json!({}));
    // POST /log does what collect_log does.
    app.post(&format!("/v3/tasks/{task}/log"), &json!({ "log_bucket": "logs-2" })).await.assert_ok();
    assert_eq!(command(&app, &src).await["command_param"]["bucket"], "logs-2");
    ack(&app, &src, "UPLOAD_LOG", "fail").await.assert_ok();
    let listed = app.get(&format!("/v3/tasks?id={task}")).await.assert_ok().clone();
    assert_eq!(listed["tasks"][0]["log_collect_status"], "UPLOAD_FAIL");
}

#[tokio::test]
async fn a_failed_start_fails_the_task_and_restart_resets_it() {
    let app = spawn_app().await;
    let (task, src) = task_and_source(&app, "src-fail").await;
    start(&app, &task).await;
    report(&app, &task, "CREATE_CLOUD_SERVER", 100).await.assert_ok();
    let detail = json!({ "error_code": "SMS.0515", "error_param": "[]" });
    let body = json!({ "command_name": "START", "result": "fail", "result_detail": detail });
    app.post(&format!("/v3/sources/{src}/command_result"), &body).await.assert_ok();
    let failed = show(&app, &task).await;
    assert_eq!(failed["state"], "MIGRATE_FAIL");
    assert_eq!(serde_json::from_str::<Value>(failed["error_json"].as_str().unwrap()).unwrap(), detail);
    assert_eq!(source(&app, &src).await["state"], "error");
    act(&app, &task, json!({ "operation": "restart" })).await.assert_ok();
    let restarted = show(&app, &task).await;
    assert_eq!(restarted["state"], "RUNNING");
    assert!(restarted["error_json"].is_null());
    assert!(restarted["sub_tasks"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["progress"] == 0 && s["start_date"].is_null() && s["end_date"].is_null()));
    assert_eq!(command(&app, &src).await["command_name"], "START");
}

#[tokio::test]
async fn drills_clones_and_cutovers() {
    let app = spawn_app().await;
    let (task, src) = task_and_source(&app, "src-drill").await;
    act(&app, &task, json!({ "operation": "migration_test" })).await.assert_ok();
    assert_eq!(show(&app, &task).await["need_migration_test"], true);
    assert_eq!(source(&app, &src).await["state"], "premigready");
    assert_eq!(command(&app, &src).await["command_name"], "PREMIGRATE");
    app.put(&format!("/v3/tasks/{task}"), &json!({ "state": "MIGRATE_SUCCESS" })).await.assert_ok();
    act(&app, &task, json!({ "operation": "clone_test", "template_id": "tpl-1" })).await.assert_invalid("template_id");
    let template = app.post("/v3/vm/templates", &json!({ "template": { "name": "clone-from" } })).await;
    let template = template.assert_ok()["id"].as_str().unwrap().to_string();
    let other = app.post_as(TOKEN_B, "/v3/vm/templates", &json!({ "template": { "name": "theirs" } })).await;
    let other = other.assert_ok()["id"].as_str().unwrap().to_string();
    act(&app, &task, json!({ "operation": "clone_test", "template_id": other })).await.assert_invalid("template_id");
    assert!(show(&app, &task).await["clone_server"].is_null(), "a refused clone leaves nothing");
    act(&app, &task, json!({ "operation": "clone_test", "template_id": template })).await.assert_ok();
    let clone = &show(&app, &task).await["clone_server"];
    assert_eq!(clone["clone_state"], "FINISHED");
    assert!(clone["vm_id"].is_string());
    act(&app, &task, json!({ "operation": "test" })).await.assert_ok();
    assert_eq!(source(&app, &src).await["migration_cycle"], "tested");
    act(&app, &task, json!({ "operation": "cutover" })).await.assert_ok();
    let source = source(&app, &src).await;
    assert_eq!((source["state"].as_str(), source["migration_cycle"].as_str()), (Some("finished"), Some("cutovered")));
}

#[tokio::test]
async fn a_running_task_is_deleted_only_once_stopped_and_its_source_is_free_again() {
    let app = spawn_app().await;
    let (task, src) = task_and_source(&app, "src-delete").await;
    start(&app, &task).await;
    let before = app.row_counts().await;
    let refused = app.client.delete(app.url(&format!("/v3/tasks/{task}"))).header("X-Auth-Token", TOKEN_A);
    let refused = app.send(refused).await;
    assert!(refused.assert_error(400, "SMS.2015").contains(&task));
    assert_eq!(app.row_counts().await, before);
    act(&app, &task, json!({ "operation": "stop" })).await.assert_ok();
    let deleted =
        app.send(app.client.delete(app.url(&format!("/v3/tasks/{task}"))).header("X-Auth-Token", TOKEN_A)).await;
    assert_eq!(deleted.assert_ok(), &json!({}));
    app.get(&format!("/v3/tasks/{task}")).await.assert_error(404, "SMS.8005");
    let counts = app.row_counts().await;
    for table in ["tasks", "subtasks", "agent_commands", "disks", "physical_volumes"] {
        assert_eq!(counts[table], 0, "{table}");
    }
    assert_eq!(counts["servers"], 1, "the source stays");
    let freed = source(&app, &src).await;
    assert_eq!((freed["state"].as_str(), freed["current_task"].is_null()), (Some("waiting"), true));
    assert_eq!(app.get("/v3/tasks?limit=0").await.assert_ok()["count"], 0);
    // A new task for the freed source.
    app.create_task(&create_task_example(&src)).await;
}

#[tokio::test]
async fn batch_deletes_are_all_or_nothing() {
    let app = spawn_app().await;
    let (a, _) = task_and_source(&app, "src-batch-a").await;
    let (b, _) = task_and_source(&app, "src-batch-b").await;
    let (c, _) = task_and_source(&app, "src-batch-c").await;
    start(&app, &c).await;
    let before = app.row_counts().await;
    let missing = "00000000-0000-4000-8000-000000000000";
    let reply = app.post("/v3/tasks/delete", &json!({ "ids": [a, missing] })).await;
    assert!(reply.assert_error(404, "SMS.8005").contains(missing));
    let reply = app.post("/v3/tasks/delete", &json!({ "ids": [a, "not-a-uuid"] })).await;
    assert!(reply.assert_error(404, "SMS.8005").contains("not-a-uuid"));
    let reply = app.post("/v3/tasks/delete", &json!({ "ids": [a, b, c] })).await;
    assert!(reply.assert_error(400, "SMS.2015").contains(&c));
    assert_eq!(app.row_counts().await, before);
    app.post("/v3/tasks/delete", &json!({ "ids": [a, b] })).await.assert_ok();
    assert_eq!(app.get("/v3/tasks?limit=0").await.assert_ok()["count"], 1);
    app.post("/v3/tasks/delete", &json!({})).await.assert_invalid("ids");
}

#[tokio::test]
async fn deleting_a_source_takes_its_tree_task_and_commands() {
    let app = spawn_app().await;
    let (task, src) = task_and_source(&app, "src-gone").await;
    let (_, other) = task_and_source(&app, "src-kept").await;
    start(&app, &task).await;
    let delete = |id: String| app.client.delete(app.url(&format!("/v3/sources/{id}"))).header("X-Auth-Token", TOKEN_A);
    app.send(delete(src.clone())).await.assert_error(400, "SMS.2015");
    app.post("/v3/sources/delete", &json!({ "ids": [other, src] })).await.assert_error(400, "SMS.2015");
    act(&app, &task, json!({ "operation": "stop" })).await.assert_ok();
    app.send(delete(src.clone())).await.assert_ok();
    app.get(&format!("/v3/sources/{src}")).await.assert_error(404, "SMS.8006");
    app.get(&format!("/v3/tasks/{task}")).await.assert_error(404, "SMS.8005");
    let counts = app.row_counts().await;
    assert_eq!((counts["tasks"], counts["agent_commands"]), (1, 0));
    assert_eq!(app.get("/v3/sources").await.assert_ok()["count"], 1);
    app.send(delete(src.clone())).await.assert_error(404, "SMS.8006");
    app.post("/v3/sources/delete", &json!({ "ids": [other] })).await.assert_ok();
    // Migration projects (issue 10): the domain's default project stays when its sources go.
    let left = app.row_counts().await;
    assert_eq!(left.iter().filter(|(table, _)| **table != "migprojects").map(|(_, n)| n).sum::<i64>(), 0);
}

#[tokio::test]
async fn another_domain_meets_every_lifecycle_endpoint_as_missing() {
    let app = spawn_app().await;
    let (task, src) = task_and_source(&app, "src-tenant").await;
    start(&app, &task).await;
    let progress = json!({ "subtask_name": "SSL_CONFIG", "progress": 5, "replicatesize": 1, "process_trace": "t" });
    let checks = [
        app.post_as(TOKEN_B, &format!("/v3/tasks/{task}/action"), &json!({ "operation": "stop" })).await,
        app.put_as(TOKEN_B, &format!("/v3/tasks/{task}/progress"), &progress).await,
        app.post_as(TOKEN_B, &format!("/v3/tasks/{task}/log"), &json!({ "log_bucket": "b" })).await,
        app.send(app.client.delete(app.url(&format!("/v3/tasks/{task}"))).header("X-Auth-Token", TOKEN_B)).await,
        app.post_as(TOKEN_B, "/v3/tasks/delete", &json!({ "ids": [task] })).await,
    ];
    for reply in checks {
        reply.assert_error(404, "SMS.8005");
    }
    let result = json!({ "command_name": "START", "result": "success", "result_detail": {} });
    let checks = [
        app.get_as(TOKEN_B, &format!("/v3/sources/{src}/command")).await,
        app.post_as(TOKEN_B, &format!("/v3/sources/{src}/command_result"), &result).await,
        app.send(app.client.delete(app.url(&format!("/v3/sources/{src}"))).header("X-Auth-Token", TOKEN_B)).await,
        app.post_as(TOKEN_B, "/v3/sources/delete", &json!({ "ids": [src] })).await,
    ];
    for reply in checks {
        reply.assert_error(404, "SMS.8006");
    }
    assert_eq!(show(&app, &task).await["state"], "RUNNING");
    assert_eq!(command(&app, &src).await["command_name"], "START", "B took nothing from A's queue");
}
