//! Many instances on one database: three real `serve` processes start together on a database
//! that does not exist yet, then take concurrent creates, updates, actions and deletes spread
//! over all three. Migrations run once, the maintained counts stay equal to `count(*)`, and no
//! update is lost (each instance writes its own field of the same tasks at the same time).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::task::JoinSet;

use crate::helpers::*;
use crate::startup::{sms_tasks, DropDatabase, Instance, WorkDir};

/// The fields each instance sets on every kept task, all at once: instance `i` writes
/// `FIELDS[i]`.
/// A field's value for task `i`.
type FieldValue = fn(usize) -> Value;

const FIELDS: [(&str, FieldValue); 3] = [
    ("name", |task| json!(format!("renamed-{task}"))),
    ("priority", |_| json!(2)),
    ("speed_limit", |task| json!(100 + task)),
];

struct Client {
    http: reqwest::Client,
    bases: Vec<String>,
}

impl Client {
    /// `method path` on instance `instance` as `token`; (status, body).
    async fn call(
        &self,
        instance: usize,
        token: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request =
            self.http.request(method, format!("{}{path}", self.bases[instance])).header("X-Auth-Token", token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let reply = request.send().await.expect("answered");
        let status = reply.status().as_u16();
        (status, reply.json().await.unwrap_or(Value::Null))
    }

    async fn ok(
        &self,
        instance: usize,
        token: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Value {
        let (status, reply) = self.call(instance, token, method.clone(), path, body).await;
        assert_eq!(status, 200, "{method} {path} on instance {instance}: {reply}");
        reply
    }
}

#[tokio::test]
async fn three_instances_on_one_database_migrate_once_keep_counts_exact_and_lose_no_update() {
    let server = server_url().await.to_string();
    let name = format!("sms_test_multi_{}", uuid::Uuid::new_v4().simple());
    let _cleanup = DropDatabase { server: server.clone(), name: name.clone() };
    let url = database_url(&server, &name);
    let dir = WorkDir::new();
    let config = dir.0.join("instances.toml");
    std::fs::write(
        &config,
        format!(
            "[[auth.tokens]]\ntoken = \"{TOKEN_A}\"\ndomain_id = \"{DOMAIN_A}\"\n\n\
             [[auth.tokens]]\ntoken = \"{TOKEN_B}\"\ndomain_id = \"{DOMAIN_B}\"\n"
        ),
    )
    .unwrap();
    let config = config.to_str().unwrap().to_string();
    let env = [
        ("DATABASE_URL", url.as_str()),
        ("SMS_CONFIG", config.as_str()),
        ("SMS__LOG__FORMAT", "json"),
        ("SMS__SERVER__WORKERS", "2"),
        ("SMS__DATABASE__POOL_SIZE", "4"),
    ];
    // All three start before any has created the database or the schema.
    let mut instances: Vec<Instance> =
        (0..3).map(|_| Instance::spawn(sms_tasks(&dir.0, &["serve", "--listen", "127.0.0.1:0"], &env))).collect();
    let bases: Vec<String> = instances
        .iter_mut()
        .map(|instance| format!("http://{}", instance.listening_address(Duration::from_secs(90))))
        .collect();
    let client = Arc::new(Client { http: reqwest::Client::new(), bases });

    // Migrations ran once: one history row per migration, and the three logs together report
    // each migration applied once.
    let migrations = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().ends_with(".sql"))
        .count() as i64;
    let check = sms_tasks::db::pool(&url, sms_tasks::db::PoolConfig::direct(2, Duration::from_secs(10))).await.unwrap();
    let (rows, versions): (i64, i64) =
        sqlx::query_as("SELECT count(*), count(DISTINCT version) FROM refinery_schema_history")
            .fetch_one(&check)
            .await
            .unwrap();
    assert_eq!((rows, versions), (migrations, migrations));
    let applied: usize = instances
        .iter()
        .map(|i| i.seen.iter().filter(|line| line.contains("\"message\":\"applied migration\"")).count())
        .sum();
    assert_eq!(applied as i64, migrations, "migrations applied across the three instances");

    // Creates through all three: source on one instance, its task on the next.
    const TASKS: usize = 30;
    let tokens = [TOKEN_A, TOKEN_B];
    let mut creates = JoinSet::new();
    for i in 0..TASKS {
        let client = client.clone();
        creates.spawn(async move {
            let token = tokens[i % 2];
            let source = client
                .ok(i % 3, token, reqwest::Method::POST, "/v3/sources", Some(source_body(&format!("multi-{i}"))))
                .await;
            let body = create_task_example(source["id"].as_str().unwrap());
            let task = client.ok((i + 1) % 3, token, reqwest::Method::POST, "/v3/tasks", Some(body)).await;
            (i, task["id"].as_str().unwrap().to_string())
        });
    }
    let mut tasks = BTreeMap::new();
    while let Some(done) = creates.join_next().await {
        let (i, id) = done.unwrap();
        tasks.insert(i, id);
    }

    // Every fifth task is deleted; every other one gets, at the same time, one field from each
    // instance and a start through one of them.
    let doomed = |i: usize| i.is_multiple_of(5);
    let mut writes = JoinSet::new();
    for (&i, id) in &tasks {
        let token = tokens[i % 2];
        if doomed(i) {
            let (client, id) = (client.clone(), id.clone());
            writes.spawn(async move {
                client.ok(i % 3, token, reqwest::Method::DELETE, &format!("/v3/tasks/{id}"), None).await;
            });
            continue;
        }
        for (instance, (field, value)) in FIELDS.iter().enumerate() {
            let (client, id) = (client.clone(), id.clone());
            let body = json!({ *field: value(i) });
            writes.spawn(async move {
                client.ok(instance, token, reqwest::Method::PUT, &format!("/v3/tasks/{id}"), Some(body)).await;
            });
        }
        let (client, id) = (client.clone(), id.clone());
        writes.spawn(async move {
            let action = json!({ "operation": "start" });
            client.ok((i + 2) % 3, token, reqwest::Method::POST, &format!("/v3/tasks/{id}/action"), Some(action)).await;
        });
    }
    while let Some(done) = writes.join_next().await {
        done.unwrap();
    }

    // No update lost, read back through every instance; deleted tasks are gone everywhere.
    for (&i, id) in &tasks {
        let token = tokens[i % 2];
        for instance in 0..3 {
            let (status, task) =
                client.call(instance, token, reqwest::Method::GET, &format!("/v3/tasks/{id}"), None).await;
            if doomed(i) {
                assert_eq!(status, 404, "deleted task {id} on instance {instance}: {task}");
                continue;
            }
            assert_eq!(status, 200, "{task}");
            for (field, value) in FIELDS {
                assert_eq!(task[field], value(i), "task {i}'s {field} on instance {instance}");
            }
            assert_eq!(task["state"], "RUNNING", "task {i} on instance {instance}");
        }
    }

    // Counts exact: the maintained counters equal count(*), and each instance's list count
    // equals the domain's rows.
    let maintained: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT domain_id, state, sum(n)::bigint FROM task_counts GROUP BY 1, 2 HAVING sum(n) <> 0 ORDER BY 1, 2",
    )
    .fetch_all(&check)
    .await
    .unwrap();
    let truth: Vec<(String, String, i64)> =
        sqlx::query_as("SELECT domain_id, state, count(*) FROM tasks GROUP BY 1, 2 ORDER BY 1, 2")
            .fetch_all(&check)
            .await
            .unwrap();
    assert_eq!(maintained, truth);
    let kept = tasks.keys().filter(|&&i| !doomed(i)).count() as i64;
    assert_eq!(truth.iter().map(|(_, _, n)| n).sum::<i64>(), kept);
    for (d, token) in tokens.iter().enumerate() {
        let rows = tasks.keys().filter(|&&i| !doomed(i) && i % 2 == d).count() as i64;
        for instance in 0..3 {
            let page = client.ok(instance, token, reqwest::Method::GET, "/v3/tasks?limit=200", None).await;
            assert_eq!(page["count"], rows, "domain {d}'s count on instance {instance}");
            assert_eq!(page["tasks"].as_array().unwrap().len() as i64, rows);
        }
    }
    check.close().await;
    drop(instances);
}
