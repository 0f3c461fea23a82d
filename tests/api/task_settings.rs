//! A task's settings beside its row, over HTTP: speed-limit rules, special configurations,
//! the network check report and the passphrase (round trips, refusals naming their JSON
//! path, tenancy, routing, and writes that are whole or nothing).

use serde_json::{json, Value};

use crate::helpers::*;

fn speed_limit(task: &str) -> String {
    format!("/v3/tasks/{task}/speed-limit")
}

fn configuration(task: &str) -> String {
    format!("/v3/tasks/{task}/configuration-setting")
}

fn network_check(task: &str) -> String {
    format!("/v3/{task}/update-network-check-info")
}

fn passphrase(task: &str) -> String {
    format!("/v3/tasks/{task}/passphrase")
}

fn rule(start: &str, end: &str, speed: i64) -> Value {
    json!({ "start": start, "end": end, "speed": speed })
}

fn report() -> Value {
    json!({
        "domain_connectivity": true, "destination_connectivity": false, "network_delay": 12.5,
        "network_jitter": 1.25, "migration_speed": 940, "loss_percentage": 0.5, "cpu_usage": 35,
        "mem_usage": 61.5, "evaluation_result": "success"
    })
}

async fn count(app: &TestApp, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT count(*) FROM {table}")).fetch_one(&app.pool).await.unwrap()
}

/// The task as the list serves it (with `special_config`).
async fn listed(app: &TestApp, task: &str) -> Value {
    let page = app.get(&format!("/v3/tasks?id={task}")).await.assert_ok().clone();
    page["tasks"][0].clone()
}

// --- speed limits ------------------------------------------------------------------------

#[tokio::test]
async fn speed_limits_round_trip_and_each_post_replaces_the_set() {
    let app = spawn_app().await;
    let task = app.create_example_task().await;
    assert_eq!(app.get(&speed_limit(&task)).await.assert_ok(), &json!({ "speed_limit": [] }));

    // Kept in the order sent (not sorted), the threshold null when not sent.
    let rules = json!([
        { "start": "18:00", "end": "23:59", "speed": 0, "over_speed_threshold": 100 },
        { "start": "08:00", "end": "12:00", "speed": 200, "over_speed_threshold": 12.5 },
        { "start": "12:00", "end": "18:00", "speed": 10000 },
    ]);
    let reply = app.post(&speed_limit(&task), &json!({ "speed_limit": rules })).await;
    assert_eq!(reply.assert_ok(), &json!({}));
    let shown = app.get(&speed_limit(&task)).await.assert_ok().clone();
    assert_eq!(
        shown,
        json!({ "speed_limit": [
            { "start": "18:00", "end": "23:59", "speed": 0, "over_speed_threshold": 100.0 },
            { "start": "08:00", "end": "12:00", "speed": 200, "over_speed_threshold": 12.5 },
            { "start": "12:00", "end": "18:00", "speed": 10000, "over_speed_threshold": null },
        ] })
    );

    app.post(&speed_limit(&task), &json!({ "speed_limit": [rule("00:00", "23:59", 50)] })).await.assert_ok();
    let shown = app.get(&speed_limit(&task)).await.assert_ok().clone();
    assert_eq!(
        shown["speed_limit"],
        json!([{ "start": "00:00", "end": "23:59", "speed": 50, "over_speed_threshold": null }])
    );
    assert_eq!(count(&app, "task_speed_limits").await, 1);

    app.post(&speed_limit(&task), &json!({ "speed_limit": [] })).await.assert_ok();
    assert_eq!(app.get(&speed_limit(&task)).await.assert_ok(), &json!({ "speed_limit": [] }));
    assert_eq!(count(&app, "task_speed_limits").await, 0);
}

#[tokio::test]
async fn speed_limit_refusals_name_their_path_and_change_nothing() {
    let app = spawn_app().await;
    let task = app.create_example_task().await;
    let kept = json!({ "speed_limit": [rule("01:00", "02:00", 7)] });
    app.post(&speed_limit(&task), &kept).await.assert_ok();

    let with = |second: Value| json!({ "speed_limit": [rule("00:00", "06:00", 1), second] });
    let cases = [
        (json!({}), "speed_limit"),
        (json!({ "speed_limit": null }), "speed_limit"),
        (json!({ "speed_limit": {} }), "speed_limit"),
        (with(rule("08:00", "07:59", 1)), "speed_limit[1].end"),
        (with(rule("08:00", "08:00", 1)), "speed_limit[1].end"),
        (with(rule("8:00", "09:00", 1)), "speed_limit[1].start"),
        (with(rule("08:00", "24:00", 1)), "speed_limit[1].end"),
        (with(rule("08:00", "09:60", 1)), "speed_limit[1].end"),
        (with(json!({ "start": 800, "end": "09:00", "speed": 1 })), "speed_limit[1].start"),
        (with(json!({ "start": "08:00", "speed": 1 })), "speed_limit[1].end"),
        (with(json!({ "end": "09:00", "speed": 1 })), "speed_limit[1].start"),
        (with(json!({ "start": "08:00", "end": "09:00" })), "speed_limit[1].speed"),
        (with(rule("08:00", "09:00", 10001)), "speed_limit[1].speed"),
        (with(rule("08:00", "09:00", -1)), "speed_limit[1].speed"),
        (with(json!({ "start": "08:00", "end": "09:00", "speed": 1.5 })), "speed_limit[1].speed"),
        (
            with(json!({ "start": "08:00", "end": "09:00", "speed": 1, "over_speed_threshold": 100.01 })),
            "speed_limit[1].over_speed_threshold",
        ),
        (
            with(json!({ "start": "08:00", "end": "09:00", "speed": 1, "over_speed_threshold": -1 })),
            "speed_limit[1].over_speed_threshold",
        ),
        (with(rule("05:59", "09:00", 1)), "speed_limit[1].start"),
        (with(rule("00:00", "06:00", 1)), "speed_limit[1].start"),
    ];
    for (body, path) in cases {
        let reply = app.post(&speed_limit(&task), &body).await;
        if let Err(problem) = reply.check_invalid(path) {
            panic!("{body}: {problem}");
        }
    }
    let message =
        app.post(&speed_limit(&task), &with(rule("05:00", "09:00", 1))).await.assert_invalid("speed_limit[1].start");
    assert!(message.contains("overlaps speed_limit[0] (00:00-06:00)"), "{message}");
    app.post_raw(&speed_limit(&task), Some("application/json"), "[]").await.assert_error(400, "SMS.8002");
    app.post_raw(&speed_limit(&task), Some("text/plain"), "{}").await.assert_error(415, "SMS.2006");

    let shown = app.get(&speed_limit(&task)).await.assert_ok().clone();
    assert_eq!(
        shown["speed_limit"],
        json!([{ "start": "01:00", "end": "02:00", "speed": 7, "over_speed_threshold": null }])
    );
}

// --- configurations ----------------------------------------------------------------------

#[tokio::test]
async fn configurations_upsert_by_key_keeping_positions_and_show_in_the_task() {
    let app = spawn_app().await;
    let task = app.create_example_task().await;
    let shown = app.get(&configuration(&task)).await.assert_ok().clone();
    assert_eq!(shown, json!({ "task_id": task, "migrate_type": "LINUX_MIGRATE_FILE", "configurations": [] }));

    let first = json!({ "configurations": [
        { "config_key": "MIGRATE_EXCLUDE_DIR", "config_value": "/tmp,/var/cache", "config_status": "testA" },
        { "config_key": "LINUX_CPU_LIMIT", "config_value": "50" },
        { "config_key": "EXCLUDE_MIGRATE_PATH", "config_value": "/old-name" },
    ] });
    assert_eq!(app.post(&configuration(&task), &first).await.assert_ok(), &json!({}));
    let second = json!({ "configurations": [
        { "config_key": "DYNAMIC_PORT", "config_value": "true" },
        { "config_key": "LINUX_CPU_LIMIT", "config_value": "80", "config_status": "1" },
        { "config_key": "INSTALL_PWD_AGENT", "config_value": "" },
    ] });
    app.post(&configuration(&task), &second).await.assert_ok();

    let expected = json!([
        { "config_key": "MIGRATE_EXCLUDE_DIR", "config_value": "/tmp,/var/cache", "config_status": "testA" },
        { "config_key": "LINUX_CPU_LIMIT", "config_value": "80", "config_status": "1" },
        { "config_key": "EXCLUDE_MIGRATE_PATH", "config_value": "/old-name", "config_status": null },
        { "config_key": "DYNAMIC_PORT", "config_value": "true", "config_status": null },
        { "config_key": "INSTALL_PWD_AGENT", "config_value": "", "config_status": null },
    ]);
    let shown = app.get(&configuration(&task)).await.assert_ok().clone();
    assert_eq!(shown["configurations"], expected);
    // The same rows are the task's `special_config` in the list.
    assert_eq!(listed(&app, &task).await["special_config"], expected);
    assert_eq!(count(&app, "special_configs").await, 5);

    let one = app.get(&format!("{}?config_key=LINUX_CPU_LIMIT", configuration(&task))).await.assert_ok().clone();
    assert_eq!(one["configurations"], json!([expected[1]]));
    let none = app.get(&format!("{}?config_key=SYNC_EXCLUDE_DIR", configuration(&task))).await.assert_ok().clone();
    assert_eq!(none, json!({ "task_id": task, "migrate_type": "LINUX_MIGRATE_FILE", "configurations": [] }));
    app.get(&format!("{}?config_key=NOPE", configuration(&task))).await.assert_invalid("config_key");

    // An empty list changes nothing.
    app.post(&configuration(&task), &json!({ "configurations": [] })).await.assert_ok();
    assert_eq!(app.get(&configuration(&task)).await.assert_ok()["configurations"], expected);
}

#[tokio::test]
async fn the_migrate_type_follows_the_os_then_the_task_type() {
    let app = spawn_app().await;
    let cases = [
        (Some("WINDOWS"), "MIGRATE_FILE", "LINUX", "WINDOWS_MIGRATE_BLOCK"),
        (Some("LINUX"), "MIGRATE_BLOCK", "LINUX", "LINUX_MIGRATE_BLOCK"),
        (Some("LINUX"), "MIGRATE_FILE", "WINDOWS", "LINUX_MIGRATE_FILE"),
        (None, "MIGRATE_FILE", "WINDOWS", "WINDOWS_MIGRATE_BLOCK"),
        (None, "MIGRATE_BLOCK", "LINUX", "LINUX_MIGRATE_BLOCK"),
    ];
    for (i, (task_os, task_type, source_os, expected)) in cases.into_iter().enumerate() {
        let mut source = source_body(&format!("src-{i}"));
        source["os_type"] = json!(source_os);
        let source = app.register_source_as(TOKEN_A, &source).await;
        let mut body = create_task_example(&source);
        body["type"] = json!(task_type);
        match task_os {
            Some(os) => body["os_type"] = json!(os),
            None => {
                body.as_object_mut().unwrap().remove("os_type");
            }
        }
        let task = app.create_task(&body).await;
        let shown = app.get(&configuration(&task)).await.assert_ok().clone();
        assert_eq!(shown["migrate_type"], expected, "{task_os:?} {task_type} on a {source_os} source");
    }
}

#[tokio::test]
async fn configuration_refusals_name_their_path_and_change_nothing() {
    let app = spawn_app().await;
    let task = app.create_example_task().await;
    let kept = json!({ "configurations": [{ "config_key": "NUM_PROCESS_SYNC", "config_value": "4" }] });
    app.post(&configuration(&task), &kept).await.assert_ok();

    let item = |value: Value| json!({ "configurations": [{ "config_key": "DYNAMIC_PORT" }, value] });
    let fifty_one: Vec<Value> = (0..51).map(|_| json!({ "config_key": "DYNAMIC_PORT" })).collect();
    let cases = [
        (json!({}), "configurations"),
        (json!({ "configurations": "x" }), "configurations"),
        (json!({ "configurations": fifty_one }), "configurations"),
        (item(json!({ "config_value": "1" })), "configurations[1].config_key"),
        (item(json!({ "config_key": "NOT_A_KEY" })), "configurations[1].config_key"),
        (item(json!({ "config_key": "dynamic_port" })), "configurations[1].config_key"),
        (item(json!({ "config_key": 7 })), "configurations[1].config_key"),
        (item(json!({ "config_key": "DYNAMIC_PORT" })), "configurations[1].config_key"),
        (
            item(json!({ "config_key": "LINUX_IO_LIMIT", "config_value": "x".repeat(1025) })),
            "configurations[1].config_value",
        ),
        (item(json!({ "config_key": "LINUX_IO_LIMIT", "config_value": 5 })), "configurations[1].config_value"),
        (
            item(json!({ "config_key": "LINUX_IO_LIMIT", "config_status": "s".repeat(256) })),
            "configurations[1].config_status",
        ),
    ];
    for (body, path) in cases {
        let reply = app.post(&configuration(&task), &body).await;
        if let Err(problem) = reply.check_invalid(path) {
            panic!("{body}: {problem}");
        }
    }
    let longest = json!({ "configurations": [
        { "config_key": "LINUX_IO_LIMIT", "config_value": "x".repeat(1024), "config_status": "s".repeat(255) }
    ] });
    app.post(&configuration(&task), &longest).await.assert_ok();
    let shown = app.get(&configuration(&task)).await.assert_ok().clone();
    assert_eq!(shown["configurations"].as_array().map(Vec::len), Some(2), "{shown}");
    assert_eq!(
        shown["configurations"][0],
        json!({ "config_key": "NUM_PROCESS_SYNC", "config_value": "4", "config_status": null })
    );
}

#[tokio::test]
async fn concurrent_uploads_of_new_keys_each_get_a_position_of_their_own() {
    let app = spawn_app().await;
    let task = app.create_example_task().await;
    let keys = [
        "MIGRATE_EXCLUDE_DIR",
        "SYNC_EXCLUDE_DIR",
        "ONLY_SYNC_DIR",
        "CONSISTENCY_DIR",
        "MIGRATE_DST_IP",
        "LINUX_MEM_LIMIT",
    ];
    let uploads = keys.iter().map(|key| {
        let body = json!({ "configurations": [{ "config_key": key, "config_value": "v" }] });
        let path = configuration(&task);
        let app = &app;
        async move { app.post(&path, &body).await }
    });
    for reply in futures_util::future::join_all(uploads).await {
        reply.assert_ok();
    }
    let positions: Vec<i32> = sqlx::query_scalar("SELECT position FROM special_configs ORDER BY position")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(positions, (0..keys.len() as i32).collect::<Vec<_>>());
}

// --- network check -----------------------------------------------------------------------

#[tokio::test]
async fn a_network_check_is_stored_and_shown_by_show_and_list() {
    let app = spawn_app().await;
    let task = app.create_example_task().await;
    let reply = app.post(&network_check(&task), &report()).await;
    assert_eq!(reply.assert_ok(), &json!({ "task_id": task }));
    let expected = json!({
        "domain_connectivity": true, "destination_connectivity": false, "network_delay": 12.5,
        "network_jitter": 1.25, "migration_speed": 940.0, "loss_percentage": 0.5, "cpu_usage": 35.0,
        "mem_usage": 61.5, "evaluation_result": "success"
    });
    let shown = app.get(&format!("/v3/tasks/{task}")).await.assert_ok().clone();
    assert_eq!(shown["network_check_info"], expected);
    assert_eq!(listed(&app, &task).await["network_check_info"], expected);

    // A new report replaces the previous one whole: what it leaves out is null.
    let minimal =
        json!({ "network_delay": 0, "migration_speed": 10000, "cpu_usage": 100, "evaluation_result": "fail!" });
    app.post(&network_check(&task), &minimal).await.assert_ok();
    let shown = app.get(&format!("/v3/tasks/{task}")).await.assert_ok().clone();
    assert_eq!(
        shown["network_check_info"],
        json!({
            "domain_connectivity": null, "destination_connectivity": null, "network_delay": 0.0,
            "network_jitter": null, "migration_speed": 10000.0, "loss_percentage": null, "cpu_usage": 100.0,
            "mem_usage": null, "evaluation_result": "fail!"
        })
    );
    assert_eq!(count(&app, "task_network_checks").await, 1);
}

#[tokio::test]
async fn network_check_refusals_name_their_path_and_change_nothing() {
    let app = spawn_app().await;
    let task = app.create_example_task().await;
    app.post(&network_check(&task), &report()).await.assert_ok();
    let cases: Vec<(&str, Value)> = vec![
        ("network_delay", json!(10000.5)),
        ("network_delay", json!(-0.1)),
        ("network_delay", Value::Null),
        ("network_jitter", json!(10001)),
        ("migration_speed", json!(10001)),
        ("loss_percentage", json!(100.1)),
        ("cpu_usage", json!(-1)),
        ("mem_usage", json!(101)),
        ("evaluation_result", json!("good")),
        ("evaluation_result", json!("excellent!")),
        ("evaluation_result", json!(5)),
        ("domain_connectivity", json!("true")),
        ("destination_connectivity", json!(1)),
    ];
    for (field, value) in cases {
        let mut body = report();
        body[field] = value.clone();
        let reply = app.post(&network_check(&task), &body).await;
        if let Err(problem) = reply.check_invalid(field) {
            panic!("{field} = {value}: {problem}");
        }
    }
    for field in ["network_delay", "migration_speed", "cpu_usage", "evaluation_result"] {
        let mut body = report();
        body.as_object_mut().unwrap().remove(field);
        let message = app.post(&network_check(&task), &body).await.assert_invalid(field);
        assert_eq!(message, format!("{field}: is mandatory"));
    }
    let shown = app.get(&format!("/v3/tasks/{task}")).await.assert_ok().clone();
    assert_eq!(shown["network_check_info"]["evaluation_result"], "success");
    assert_eq!(shown["network_check_info"]["mem_usage"], 61.5);
}

// --- passphrase --------------------------------------------------------------------------

#[tokio::test]
async fn a_task_has_its_own_passphrase_for_life() {
    let app = spawn_app().await;
    let task = app.create_example_task().await;
    let other = app.create_example_task().await;
    let first = app.get(&passphrase(&task)).await.assert_ok().clone();
    assert_eq!(first["task_id"], task);
    let secret = first["passphrase"].as_str().expect("a passphrase").to_string();
    assert!(secret.len() >= 32 && secret.chars().all(|c| c.is_ascii_hexdigit()), "{secret}");
    assert_eq!(first.as_object().map(|o| o.len()), Some(2), "{first}");

    app.put(&format!("/v3/tasks/{task}"), &json!({ "name": "renamed" })).await.assert_ok();
    assert_eq!(app.get(&passphrase(&task)).await.assert_ok(), &first, "stable");
    let theirs = app.get(&passphrase(&other)).await.assert_ok().clone();
    assert_ne!(theirs["passphrase"], first["passphrase"]);
}

// --- tenancy, ids, routing ---------------------------------------------------------------

/// Every endpoint of this module, with a valid body for the POSTs.
fn requests(task: &str) -> Vec<(&'static str, String, Option<Value>)> {
    vec![
        ("GET", speed_limit(task), None),
        ("POST", speed_limit(task), Some(json!({ "speed_limit": [rule("00:00", "01:00", 1)] }))),
        ("GET", configuration(task), None),
        (
            "POST",
            configuration(task),
            Some(json!({ "configurations": [{ "config_key": "DYNAMIC_PORT", "config_value": "1" }] })),
        ),
        ("POST", network_check(task), Some(report())),
        ("GET", passphrase(task), None),
    ]
}

async fn call(app: &TestApp, token: &str, method: &str, path: &str, body: &Option<Value>) -> Reply {
    match (method, body) {
        ("GET", _) => app.get_as(token, path).await,
        (_, Some(body)) => app.post_as(token, path, body).await,
        _ => unreachable!(),
    }
}

#[tokio::test]
async fn another_domain_and_unknown_ids_get_404_on_every_endpoint() {
    let app = spawn_app().await;
    let task = app.create_example_task().await;
    let before = app.row_counts().await;
    let rules_before = count(&app, "task_speed_limits").await;
    for id in [task.as_str(), "00000000-0000-4000-8000-000000000000", "not-a-uuid", "TASK"] {
        let token = if id == task { TOKEN_B } else { TOKEN_A };
        for (method, path, body) in requests(id) {
            let reply = call(&app, token, method, &path, &body).await;
            assert_eq!(reply.status, 404, "{method} {path}: {}", reply.body);
            reply.assert_error(404, "SMS.8005");
            assert_eq!(reply.body["error_msg"], "The migration task does not exist.");
        }
    }
    app.get(&format!("/v3/tasks/{}/speed-limit", "x".repeat(256))).await.assert_invalid("task_id");
    assert_eq!(app.row_counts().await, before, "refused requests wrote nothing");
    assert_eq!(count(&app, "task_speed_limits").await, rules_before);

    // A's own calls work, and B still sees nothing of what A wrote.
    for (method, path, body) in requests(&task) {
        call(&app, TOKEN_A, method, &path, &body).await.assert_ok();
    }
    app.get_as(TOKEN_B, &speed_limit(&task)).await.assert_error(404, "SMS.8005");
}

#[tokio::test]
async fn the_paths_leave_other_routes_alone() {
    let app = spawn_app().await;
    let task = app.create_example_task().await;
    // Methods the paths do not have.
    for (method, path) in [
        (reqwest::Method::GET, network_check(&task)),
        (reqwest::Method::PUT, network_check(&task)),
        (reqwest::Method::DELETE, speed_limit(&task)),
        (reqwest::Method::PUT, configuration(&task)),
        (reqwest::Method::POST, passphrase(&task)),
    ] {
        let request =
            app.client.request(method.clone(), app.url(&path)).header("X-Auth-Token", TOKEN_A).json(&json!({}));
        let reply = app.send(request).await;
        assert_eq!(reply.status, 405, "{method} {path}: {}", reply.body);
        reply.assert_error(405, "SMS.2003");
    }
    // Unknown paths, also next to the network check's.
    for path in [
        format!("/v3/tasks/{task}/speed-limits"),
        format!("/v3/{task}/update-network-check"),
        format!("/v3/{task}/x/update-network-check-info"),
        "/v3/update-network-check-info".to_string(),
        "/v3/no/such-path".to_string(),
    ] {
        let reply = app.post(&path, &report()).await;
        assert_eq!(reply.status, 404, "{path}: {}", reply.body);
        reply.assert_error(404, "APIGW.0101");
    }
    // The routes that were there still answer as before.
    app.get(&format!("/v3/tasks/{task}")).await.assert_ok();
    app.get("/v3/tasks").await.assert_ok();
    app.get("/v3/tasks/update-network-check-info").await.assert_error(404, "SMS.8005");
    app.post("/v3/tasks/update-network-check-info", &report()).await.assert_error(405, "SMS.2003");
    app.post("/v3/sources/update-network-check-info", &report()).await.assert_error(405, "SMS.2003");
}

// --- transactions ------------------------------------------------------------------------

/// Makes inserts into `table` fail when `condition` (on `NEW`) holds.
async fn fail_inserts(app: &TestApp, table: &str, condition: &str) {
    app.execute(&format!(
        "CREATE FUNCTION fail_insert_{table}() RETURNS trigger LANGUAGE plpgsql AS
           $$BEGIN IF {condition} THEN RAISE EXCEPTION 'provoked'; END IF; RETURN NEW; END$$;
         CREATE TRIGGER fail_insert BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION fail_insert_{table}();"
    ))
    .await;
}

#[tokio::test]
async fn writes_that_fail_half_way_leave_the_previous_settings() {
    let app = spawn_app().await;
    let task = app.create_example_task().await;
    let rules = json!({ "speed_limit": [rule("00:00", "08:00", 1), rule("08:00", "16:00", 2)] });
    app.post(&speed_limit(&task), &rules).await.assert_ok();
    let configs = json!({ "configurations": [{ "config_key": "LINUX_CPU_LIMIT", "config_value": "50" }] });
    app.post(&configuration(&task), &configs).await.assert_ok();
    app.post(&network_check(&task), &report()).await.assert_ok();
    let rules_before = app.get(&speed_limit(&task)).await.assert_ok().clone();
    let configs_before = app.get(&configuration(&task)).await.assert_ok().clone();
    let task_before = app.get(&format!("/v3/tasks/{task}")).await.assert_ok().clone();

    // The old rules are deleted, the first new one is written, the second fails.
    fail_inserts(&app, "task_speed_limits", "NEW.position = 1").await;
    let replacement = json!({ "speed_limit": [rule("00:00", "01:00", 9), rule("02:00", "03:00", 9)] });
    app.post(&speed_limit(&task), &replacement).await.assert_error(500, "SMS.2007");
    assert_eq!(app.get(&speed_limit(&task)).await.assert_ok(), &rules_before);

    // The existing key is updated, the new one fails.
    fail_inserts(&app, "special_configs", "NEW.config_key = 'DYNAMIC_PORT'").await;
    let upload = json!({ "configurations": [
        { "config_key": "LINUX_CPU_LIMIT", "config_value": "99" }, { "config_key": "DYNAMIC_PORT", "config_value": "1" }
    ] });
    app.post(&configuration(&task), &upload).await.assert_error(500, "SMS.2007");
    assert_eq!(app.get(&configuration(&task)).await.assert_ok(), &configs_before);

    fail_inserts(&app, "task_network_checks", "true").await;
    let mut other = report();
    other["evaluation_result"] = json!("failed");
    app.post(&network_check(&task), &other).await.assert_error(500, "SMS.2007");
    let task_after = app.get(&format!("/v3/tasks/{task}")).await.assert_ok().clone();
    assert_eq!(task_after["network_check_info"], task_before["network_check_info"]);
}
