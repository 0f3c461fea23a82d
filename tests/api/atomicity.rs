//! A create or registration that fails half-way leaves nothing behind. The failure is provoked
//! by a trigger, installed in the test's own database, that raises on INSERT into one table of
//! the tree, so the task (or server) row is already written when it fires.

use serde_json::json;

use crate::helpers::*;

async fn install_failing_trigger(app: &TestApp, table: &str) {
    app.execute(&format!(
        "CREATE OR REPLACE FUNCTION fail_insert() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION 'provoked'; END$$;
         CREATE TRIGGER fail_insert BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION fail_insert();"
    ))
    .await;
}

async fn drop_failing_trigger(app: &TestApp, table: &str) {
    app.execute(&format!("DROP TRIGGER fail_insert ON {table}")).await;
}

/// A 500 that says nothing internal.
#[track_caller]
fn assert_opaque_failure(label: &str, reply: &Reply) {
    assert_eq!(reply.status, 500, "{label}: {}", reply.body);
    let message = reply.assert_error(500, "SMS.2007");
    for secret in ["provoked", "trigger", "fail_insert", "INSERT", "sqlx", "postgres", "violates", "relation"] {
        assert!(
            !message.to_lowercase().contains(&secret.to_lowercase()),
            "{label}: error_msg reveals {secret:?}: {message}"
        );
    }
}

/// Seed 003's example with a target that has a volume group with a logical volume and a Btrfs
/// filesystem with subvolumes, so every table of the tree is written.
fn task_with_whole_tree(source: &str) -> serde_json::Value {
    let mut body = create_task_example(source);
    body["target_server"]["volume_groups"] = json!([{
        "name": "vg0", "components": "/dev/vdb1", "size": 100, "free_size": 10,
        "logical_volumes": [{"name": "lv0", "size": 90, "used_size": 1, "free_size": 89, "file_system": "xfs"}]
    }]);
    body["target_server"]["btrfs_list"] = json!([{
        "name": "btrfs0", "uuid": "fs-uuid", "size": 1000,
        "subvolumn": [{"uuid": "sv", "subvol_id": "256", "subvol_name": "@", "subvol_mount_path": "/"}]
    }]);
    body
}

#[tokio::test]
async fn a_create_that_fails_after_the_task_row_leaves_no_rows() {
    let app = spawn_app().await;
    let source = app.register_source().await;
    let body = task_with_whole_tree(&source);
    for table in ["physical_volumes", "logical_volumes", "btrfs_subvolumes"] {
        let before = app.row_counts().await;
        install_failing_trigger(&app, table).await;
        let reply = app.post("/v3/tasks", &body).await;
        assert_opaque_failure(&format!("insert into {table} fails"), &reply);
        assert_eq!(app.row_counts().await, before, "insert into {table} fails: rows changed");
        assert_eq!(before["tasks"], 0);
        drop_failing_trigger(&app, table).await;
    }
    // Nothing of the failed attempts stands in the way: the same create now succeeds.
    let id = app.create_task(&body).await;
    let task = app.get(&format!("/v3/tasks/{id}")).await.assert_ok().clone();
    assert_eq!(task["target_server"]["btrfs_list"].as_array().map(Vec::len), Some(1));
    let counts = app.row_counts().await;
    assert_eq!((counts["tasks"], counts["btrfs_subvolumes"], counts["logical_volumes"]), (1, 1, 1));
}

#[tokio::test]
async fn a_registration_that_fails_after_the_server_row_leaves_no_rows() {
    let app = spawn_app().await;
    let mut body = source_body("with-networks");
    body["networks"] = json!([
        {"name": "eth0", "ip": "192.168.0.154", "netmask": "255.255.255.0", "gateway": "192.168.0.1", "mtu": 1500, "mac": "fa:16:3e:00:00:01"}
    ]);
    body["disks"] = json!([{
        "name": "/dev/vda", "device_use": "OS", "size": 100, "used_size": 10,
        "physical_volumes": [{"name": "/dev/vda1", "size": 100}]
    }]);
    let before = app.row_counts().await;
    install_failing_trigger(&app, "networks").await;
    let reply = app.post("/v3/sources", &body).await;
    assert_opaque_failure("insert into networks fails", &reply);
    assert_eq!(app.row_counts().await, before, "rows changed");
    assert_eq!(before["servers"], 0);

    drop_failing_trigger(&app, "networks").await;
    let id = app.register_source_as(TOKEN_A, &body).await;
    let source = app.get(&format!("/v3/sources/{id}")).await.assert_ok().clone();
    assert_eq!(source["networks"].as_array().map(Vec::len), Some(1));
    assert_eq!(app.row_counts().await["servers"], 1);
}
