//! Fixtures of the list and update tests: creating many tasks quickly, reading them back, and
//! building the nested elements of an update body (every field seed 004 marks mandatory).

// Each test module uses its own subset of these fixtures.
#![allow(dead_code)]

use std::collections::BTreeMap;

use futures_util::future::join_all;
use serde_json::{json, Value};
use sqlx::{Connection, PgConnection};

use crate::helpers::*;

/// A task created through the API, with the source server it was created for.
#[derive(Debug, Clone)]
pub struct Created {
    pub task: String,
    pub source: String,
}

/// Registers a source and creates seed 003's example task named `name` for it, as `token`.
pub async fn create_task_named(app: &TestApp, token: &str, name: &str) -> Created {
    let source = app.register_source_as(token, &source_body(&format!("src-{name}"))).await;
    let mut body = create_task_example(&source);
    body["name"] = json!(name);
    let reply = app.post_as(token, "/v3/tasks", &body).await;
    let task = reply.assert_ok()["id"].as_str().expect("a task id").to_string();
    Created { task, source }
}

/// Creates one task per name, concurrently in batches; in the order of `names`.
pub async fn create_tasks(app: &TestApp, token: &str, names: &[String]) -> Vec<Created> {
    let mut created = Vec::with_capacity(names.len());
    for batch in names.chunks(25) {
        created.extend(join_all(batch.iter().map(|name| create_task_named(app, token, name))).await);
    }
    created
}

/// `prefix-0`, `prefix-1`, …
pub fn names(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}-{i}")).collect()
}

pub fn task_path(id: &str) -> String {
    format!("/v3/tasks/{id}")
}

/// `GET /v3/tasks/{id}` as `token`, which must succeed.
pub async fn show_as(app: &TestApp, token: &str, id: &str) -> Value {
    app.get_as(token, &task_path(id)).await.assert_ok().clone()
}

pub async fn show(app: &TestApp, id: &str) -> Value {
    show_as(app, TOKEN_A, id).await
}

/// `PUT /v3/tasks/{id}`, which must answer 200 `{"id": id}`.
pub async fn put_ok(app: &TestApp, id: &str, body: &Value) {
    let reply = app.put(&task_path(id), body).await;
    assert_eq!(reply.assert_ok(), &json!({ "id": id }), "PUT {id} {body}");
}

/// `GET /v3/tasks?{query}` as `token`: the reply, whatever its status.
pub async fn list_reply_as(app: &TestApp, token: &str, query: &[(&str, &str)]) -> Reply {
    let query = serde_urlencoded::to_string(query).unwrap();
    app.get_as(token, &format!("/v3/tasks?{query}")).await
}

/// `GET /v3/tasks?{query}` as `token`, which must succeed; its body.
pub async fn list_as(app: &TestApp, token: &str, query: &[(&str, &str)]) -> Value {
    let reply = list_reply_as(app, token, query).await;
    assert_eq!(reply.status, 200, "GET /v3/tasks {query:?}: {}", reply.body);
    reply.body
}

pub async fn list(app: &TestApp, query: &[(&str, &str)]) -> Value {
    list_as(app, TOKEN_A, query).await
}

/// The task ids of a list body, in its order.
pub fn ids(body: &Value) -> Vec<String> {
    body["tasks"]
        .as_array()
        .unwrap_or_else(|| panic!("tasks is an array: {body}"))
        .iter()
        .map(|t| t["id"].as_str().expect("a task id").to_string())
        .collect()
}

pub fn count(body: &Value) -> i64 {
    body["count"].as_i64().unwrap_or_else(|| panic!("count is an integer: {body}"))
}

/// `PUT` with a raw body and `content_type`, as `TOKEN_A`.
pub async fn put_raw(app: &TestApp, path: &str, content_type: &str, body: &'static str) -> Reply {
    let request = app
        .client
        .put(app.url(path))
        .header("X-Auth-Token", TOKEN_A)
        .header(reqwest::header::CONTENT_TYPE, content_type)
        .body(body);
    app.send(request).await
}

/// A connection of its own to the test's database, for checks behind the API.
///
/// Not `app.pool`: a connection that the test's runtime opens in that pool must be closed by
/// that runtime, and `TestApp::drop` runs when that runtime can no longer do it (awaiting
/// `pool.close()` there hung, see the harness). A connection of our own is simply dropped, and
/// `DROP DATABASE … WITH (FORCE)` ends its session.
pub async fn db(app: &TestApp) -> PgConnection {
    PgConnection::connect_with(&app.pool.connect_options()).await.expect("connect to the test database")
}

/// Rows in every table, read in one statement (one snapshot), like `TestApp::row_counts`
/// but over a connection of our own (see [`db`]).
pub async fn row_counts(app: &TestApp) -> BTreeMap<&'static str, i64> {
    let sql =
        TABLES.iter().map(|t| format!("SELECT '{t}'::text, count(*) FROM {t}")).collect::<Vec<_>>().join(" UNION ALL ");
    let rows: Vec<(String, i64)> = sqlx::query_as(&sql).fetch_all(&mut db(app).await).await.unwrap();
    TABLES.iter().map(|t| (*t, rows.iter().find(|(name, _)| name == t).expect("every table counted").1)).collect()
}

/// The keys of a JSON object, sorted.
pub fn keys(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> =
        value.as_object().unwrap_or_else(|| panic!("an object: {value}")).keys().cloned().collect();
    keys.sort();
    keys
}

pub fn sorted<S: AsRef<str>>(values: &[S]) -> Vec<String> {
    let mut values: Vec<String> = values.iter().map(|s| s.as_ref().to_string()).collect();
    values.sort();
    values
}

/// Two JSON values are the same; numbers compare by value (`0` equals `0.0`).
pub fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

/// Every value of `sent` is shown by `shown` at the same path, recursively: arrays element by
/// element (same length), objects key by key of `sent`. `skip` tells which paths to pass over.
pub fn assert_shown(sent: &Value, shown: &Value, path: &str, skip: &dyn Fn(&str) -> bool) {
    match sent {
        Value::Object(fields) => {
            let Some(shown_fields) = shown.as_object() else {
                panic!("{path}: sent an object, shown {shown}");
            };
            for (key, value) in fields {
                let child = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                if skip(&child) {
                    continue;
                }
                let Some(shown_value) = shown_fields.get(key) else {
                    panic!("{child}: sent {value}, not shown at all");
                };
                assert_shown(value, shown_value, &child, skip);
            }
        }
        Value::Array(items) => {
            let Some(shown_items) = shown.as_array() else {
                panic!("{path}: sent an array, shown {shown}");
            };
            assert_eq!(items.len(), shown_items.len(), "{path}: sent {sent}, shown {shown}");
            for (i, (item, shown_item)) in items.iter().zip(shown_items).enumerate() {
                assert_shown(item, shown_item, &format!("{path}[{i}]"), skip);
            }
        }
        _ => assert!(same(sent, shown), "{path}: sent {sent}, shown {shown}"),
    }
}

/// The `id` of each element of an array (numbers), in order.
pub fn element_ids(array: &Value) -> Vec<i64> {
    array
        .as_array()
        .unwrap_or_else(|| panic!("an array: {array}"))
        .iter()
        .map(|e| e["id"].as_i64().unwrap_or_else(|| panic!("a numeric id: {e}")))
        .collect()
}

/// `value` with `"id": id` added.
pub fn with_id(mut value: Value, id: impl Into<Value>) -> Value {
    value["id"] = id.into();
    value
}

/// `value` with `key` removed.
pub fn without(mut value: Value, key: &str) -> Value {
    value.as_object_mut().expect("an object").remove(key);
    value
}

// ---- Elements of an update body, with every field seed 004 marks mandatory. ----

pub fn subtask(name: &str) -> Value {
    json!({
        "name": name,
        "progress": 10,
        "start_date": 1598435802000i64,
        "end_date": 1598435902000i64,
        "migrate_speed": 12.5,
        "user_op": "REPLICATE",
        "process_trace": format!("trace of {name}"),
    })
}

/// A `TargetDisk` (seed 004 table 8) with `volumes`.
pub fn target_disk(name: &str, volumes: Vec<Value>) -> Value {
    json!({
        "name": name,
        "disk_id": format!("disk-{name}"),
        "device_use": "NORMAL",
        "partition_style": "GPT",
        "size": 10737418240i64,
        "used_size": 1073741824,
        "os_disk": false,
        "relation_name": format!("rel-{name}"),
        "disk_index": "1",
        "physical_volumes": volumes,
    })
}

/// A `TargetPhysicalVolumes` (seed 004 table 9).
pub fn target_volume(name: &str) -> Value {
    json!({
        "name": name,
        "device_use": "NORMAL",
        "file_system": "ext4",
        "index": 1,
        "mount_point": format!("/mnt/{name}"),
        "size": 1073741824,
        "used_size": 1024,
        "free_size": 1073740800,
        "uuid": format!("uuid-{name}"),
        "relation_name": format!("rel-{name}"),
    })
}

/// A `VolumeGroups` (seed 004 table 13) with `volumes`.
pub fn volume_group(name: &str, volumes: Vec<Value>) -> Value {
    json!({
        "name": name,
        "components": "/dev/vdb1",
        "size": 2147483648i64,
        "free_size": 1073741824,
        "logical_volumes": volumes,
    })
}

/// A `LogicalVolumes` (seed 004 table 14).
pub fn logical_volume(name: &str) -> Value {
    json!({
        "name": name,
        "block_count": 100,
        "block_size": 4096,
        "file_system": "xfs",
        "inode_size": 512,
        "inode_nums": 1000,
        "device_use": "NORMAL",
        "mount_point": format!("/lv/{name}"),
        "size": 1073741824,
        "used_size": 1024,
        "free_size": 1073740800,
    })
}

/// A `BtrfsFileSystem` (seed 004 table 10) with `subvolumes`.
pub fn btrfs(name: &str, subvolumes: Vec<Value>) -> Value {
    json!({
        "name": name,
        "label": format!("label-{name}"),
        "uuid": format!("uuid-{name}"),
        "device": "/dev/vdc",
        "size": 1073741824,
        "nodesize": 16384,
        "sectorsize": 4096,
        "data_profile": "single",
        "system_profile": "DUP",
        "metadata_profile": "DUP",
        "global_reserve1": "3.25MiB",
        "g_vol_used_size": 1024,
        "default_subvolid": "5",
        "default_subvol_name": "root",
        "default_subvol_mountpath": "/",
        "subvolumn": subvolumes,
    })
}

/// A `BtrfsSubvolumn` (seed 004 table 11).
pub fn subvolume(name: &str) -> Value {
    json!({
        "uuid": format!("uuid-{name}"),
        "is_snapshot": "false",
        "subvol_id": "256",
        "parent_id": "5",
        "subvol_name": name,
        "subvol_mount_path": format!("/{name}"),
    })
}

/// A `NetWork` (seed 004 table 12).
pub fn network(name: &str) -> Value {
    json!({
        "name": name,
        "ip": "192.168.0.10",
        "netmask": "255.255.255.0",
        "gateway": "192.168.0.1",
        "mtu": 1500,
        "mac": "fa:16:3e:00:00:01",
    })
}

/// A source server's `ServerDisk` (seed 004 table 5) with `volumes`.
pub fn source_disk(name: &str, volumes: Vec<Value>) -> Value {
    json!({
        "name": name,
        "partition_style": "MBR",
        "device_use": "NORMAL",
        "size": 10737418240i64,
        "used_size": 1073741824,
        "os_disk": false,
        "relation_name": format!("rel-{name}"),
        "physical_volumes": volumes,
    })
}

/// A source server's `PhysicalVolume` (seed 004 table 6).
pub fn source_volume(name: &str) -> Value {
    json!({
        "name": name,
        "device_use": "NORMAL",
        "file_system": "ext4",
        "index": 0,
        "mount_point": format!("/mnt/{name}"),
        "size": 1073741824,
        "used_size": 1024,
        "inode_size": 256,
        "inode_nums": 65536,
        "uuid": format!("uuid-{name}"),
        "size_per_cluster": 4096,
    })
}

/// A `TargetServer` (seed 004 table 7) with its mandatory keys and `disks`.
pub fn target_server(disks: Vec<Value>) -> Value {
    json!({ "ip": "10.0.0.2", "os_type": "LINUX", "disks": disks })
}
