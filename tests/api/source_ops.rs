//! The source operations beyond registration: `PUT /v3/sources/{id}` (name, migration project,
//! per-node migration settings), `PUT …/changestate`, `PUT …/diskinfo`,
//! `GET /v3/sources/overview` and `GET /v3/errors`. Effects are read back through show and
//! list (and, for the settings no view serves, behind the API); every refusal names its path;
//! every endpoint answers another domain's source as a missing one.

use serde_json::{json, Value};

use crate::helpers::*;

fn source_path(id: &str) -> String {
    format!("/v3/sources/{id}")
}

/// A source tree: two disks (the first with two physical volumes), a volume group with two
/// logical volumes and a Btrfs filesystem with a subvolume.
fn tree_body(name: &str) -> Value {
    let mut body = source_body(name);
    body["hostname"] = json!(format!("host-{name}"));
    body["disks"] = json!([disk("/dev/vda", 2), disk("/dev/vdb", 0)]);
    body["volume_groups"] = json!([group("vg0", 2)]);
    body["btrfs_list"] = json!([btrfs("/dev/vdc")]);
    body
}

fn disk(name: &str, volumes: usize) -> Value {
    let volumes: Vec<Value> =
        (0..volumes).map(|i| json!({ "name": format!("{name}{}", i + 1), "size": 1024, "used_size": 512 })).collect();
    json!({ "name": name, "device_use": "NORMAL", "size": 4096, "used_size": 1024, "physical_volumes": volumes })
}

fn logical_volume(name: &str) -> Value {
    json!({ "name": name, "file_system": "xfs", "inode_size": 512, "mount_point": "/data", "size": 100,
            "used_size": 10, "free_size": 90 })
}

fn group(name: &str, volumes: usize) -> Value {
    let volumes: Vec<Value> = (0..volumes).map(|i| logical_volume(&format!("{name}-lv{i}"))).collect();
    json!({ "name": name, "components": "/dev/vdb1", "size": 2048, "free_size": 1024, "logical_volumes": volumes })
}

fn btrfs(name: &str) -> Value {
    json!({
        "name": name, "label": "data", "uuid": "u-1", "device": name, "size": 1, "nodesize": 1, "sectorsize": 1,
        "data_profile": "single", "system_profile": "DUP", "metadata_profile": "DUP", "global_reserve1": "16MiB",
        "g_vol_used_size": 1, "default_subvolid": "5", "default_subvol_name": "/", "default_subvol_mountpath": "/mnt",
        "subvolumn": [{ "uuid": "s-1", "is_snapshot": "false", "subvol_id": "256", "parent_id": "5",
                        "subvol_name": "@home", "subvol_mount_path": "/mnt/home" }]
    })
}

async fn show(app: &TestApp, id: &str) -> Value {
    app.get(&source_path(id)).await.assert_ok().clone()
}

fn ids(items: &Value) -> Vec<i64> {
    items.as_array().unwrap().iter().map(|item| item["id"].as_i64().unwrap()).collect()
}

/// (need_migration, adjust_size) of a row of `table`, read behind the API (no view serves them:
/// the SDK's `ServerDisk`, `PhysicalVolume`, `VolumeGroups` and `LogicalVolumes` have no such
/// fields).
async fn settings(app: &TestApp, table: &str, id: i64) -> (bool, i64) {
    sqlx::query_as(&format!("SELECT need_migration, adjust_size FROM {table} WHERE id = $1"))
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// Asserts `reply` is the 404 `SMS.8006` of a missing source.
#[track_caller]
fn assert_no_source(reply: &Reply, label: &str) {
    assert_eq!(reply.status, 404, "{label}: {}", reply.body);
    assert_eq!(reply.body["error_code"], "SMS.8006", "{label}: {}", reply.body);
    reply.check_error_shape().unwrap_or_else(|problem| panic!("{label}: {problem}"));
}

/// Ids that name no source of domain A: random, not a UUID, domain B's source, a task's target.
async fn foreign_ids(app: &TestApp) -> Vec<(&'static str, String)> {
    let theirs = app.register_source_as(TOKEN_B, &source_body("b-source")).await;
    let other = app.register_source_as(TOKEN_A, &source_body("with-task")).await;
    let task = app.create_task(&create_task_example(&other)).await;
    let target =
        app.get(&format!("/v3/tasks/{task}")).await.assert_ok()["target_server"]["id"].as_str().unwrap().to_string();
    vec![
        ("a random UUID", uuid::Uuid::new_v4().to_string()),
        ("a non-UUID id", "not-a-uuid".to_string()),
        ("domain B's source", theirs),
        ("a task's target server", target),
    ]
}

// --- PUT /v3/sources/{id} -----------------------------------------------------------------

#[tokio::test]
async fn update_renames_and_sets_the_migration_settings_of_named_nodes() {
    let app = spawn_app().await;
    let id = app.register_source_as(TOKEN_A, &tree_body("before")).await;
    let shown = show(&app, &id).await;
    let disks = ids(&shown["disks"]);
    let volumes = ids(&shown["disks"][0]["physical_volumes"]);
    let groups = ids(&shown["volume_groups"]);
    let logical = ids(&shown["volume_groups"][0]["logical_volumes"]);
    // Every node starts with the page's defaults.
    for (table, id) in [
        ("disks", disks[1]),
        ("physical_volumes", volumes[1]),
        ("volume_groups", groups[0]),
        ("logical_volumes", logical[1]),
    ] {
        assert_eq!(settings(&app, table, id).await, (true, 0), "{table} {id}");
    }

    let body = json!({
        "name": "after",
        "migprojectid": "",
        "disks": [{
            "id": disks[0].to_string(), "need_migration": false, "adjust_size": 8192,
            "physical_volumes": [{ "id": volumes[0].to_string(), "adjust_size": 2048 }]
        }],
        "volume_groups": [{
            "id": groups[0], "need_migration": false,
            "logical_volumes": [{ "id": logical[0].to_string(), "need_migration": false, "adjust_size": 200 }]
        }]
    });
    assert_eq!(app.put(&source_path(&id), &body).await.assert_ok(), &json!({}));

    let after = show(&app, &id).await;
    assert_eq!(after["name"], "after");
    // The tree is unchanged: same nodes, same ids, same attributes.
    assert_eq!(after["disks"], shown["disks"]);
    assert_eq!(after["volume_groups"], shown["volume_groups"]);
    assert_eq!(settings(&app, "disks", disks[0]).await, (false, 8192));
    assert_eq!(settings(&app, "physical_volumes", volumes[0]).await, (true, 2048));
    assert_eq!(settings(&app, "volume_groups", groups[0]).await, (false, 0));
    assert_eq!(settings(&app, "logical_volumes", logical[0]).await, (false, 200));
    // Nodes the body does not name keep theirs.
    assert_eq!(settings(&app, "disks", disks[1]).await, (true, 0));
    assert_eq!(settings(&app, "physical_volumes", volumes[1]).await, (true, 0));
    assert_eq!(settings(&app, "logical_volumes", logical[1]).await, (true, 0));

    // A setting the body leaves out is unchanged; the name too.
    let partial = json!({ "disks": [{ "id": disks[0].to_string(), "need_migration": true }] });
    app.put(&source_path(&id), &partial).await.assert_ok();
    assert_eq!(settings(&app, "disks", disks[0]).await, (true, 8192));
    assert_eq!(show(&app, &id).await["name"], "after");
    // So is the list's view of the name.
    let list = app.get("/v3/sources?name=after").await.assert_ok().clone();
    assert_eq!(list["count"], 1);
}

#[tokio::test]
async fn update_refuses_ids_that_are_not_the_sources_own_nodes() {
    let app = spawn_app().await;
    let id = app.register_source_as(TOKEN_A, &tree_body("mine")).await;
    let other = app.register_source_as(TOKEN_A, &tree_body("other")).await;
    let theirs = app.register_source_as(TOKEN_B, &tree_body("theirs")).await;
    let mine = show(&app, &id).await;
    let others = show(&app, &other).await;
    let b = app.get_as(TOKEN_B, &source_path(&theirs)).await.assert_ok().clone();
    let disk0 = mine["disks"][0]["id"].as_i64().unwrap();
    let disk1 = mine["disks"][1]["id"].as_i64().unwrap();
    let pv_of_disk0 = mine["disks"][0]["physical_volumes"][0]["id"].as_i64().unwrap();
    let group = mine["volume_groups"][0]["id"].as_i64().unwrap();
    let lv = mine["volume_groups"][0]["logical_volumes"][0]["id"].as_i64().unwrap();
    let cases = [
        ("another source's disk", json!({ "disks": [{ "id": others["disks"][0]["id"] }] }), "disks[0].id"),
        ("domain B's disk", json!({ "disks": [{ "id": b["disks"][0]["id"] }] }), "disks[0].id"),
        ("a volume group's id as a disk", json!({ "disks": [{ "id": group }] }), "disks[0].id"),
        (
            "a volume of another disk",
            json!({ "disks": [{ "id": disk0 }, { "id": disk1, "physical_volumes": [{ "id": pv_of_disk0 }] }] }),
            "disks[1].physical_volumes[0].id",
        ),
        ("a logical volume as a group", json!({ "volume_groups": [{ "id": lv }] }), "volume_groups[0].id"),
        (
            "another source's logical volume",
            json!({ "volume_groups": [{ "id": group, "logical_volumes": [
                { "id": lv }, { "id": others["volume_groups"][0]["logical_volumes"][0]["id"] }] }] }),
            "volume_groups[0].logical_volumes[1].id",
        ),
        ("a missing id", json!({ "disks": [{ "need_migration": false }] }), "disks[0].id"),
        ("a non-numeric id", json!({ "disks": [{ "id": "vda" }] }), "disks[0].id"),
        ("a negative adjust_size", json!({ "disks": [{ "id": disk0, "adjust_size": -1 }] }), "disks[0].adjust_size"),
        (
            "a string need_migration",
            json!({ "disks": [{ "id": disk0, "need_migration": "no" }] }),
            "disks[0].need_migration",
        ),
        ("a long name", json!({ "name": "n".repeat(256) }), "name"),
        ("a null name", json!({ "name": null }), "name"),
        ("a long migprojectid", json!({ "migprojectid": "p".repeat(256) }), "migprojectid"),
    ];
    for (label, mut body, path) in cases {
        // The refusal is whole: the name sent beside it is not applied either.
        if body.get("name").is_none() {
            body["name"] = json!("renamed");
        }
        let reply = app.put(&source_path(&id), &body).await;
        let message = reply.check_invalid(path);
        assert!(message.is_ok(), "{label}: {message:?}");
    }
    assert_eq!(show(&app, &id).await["name"], "mine");
    assert_eq!(settings(&app, "disks", disk0).await, (true, 0));
}

#[tokio::test]
async fn update_with_a_migration_project_is_refused_until_projects_exist() {
    let app = spawn_app().await;
    let id = app.register_source().await;
    let body = json!({ "name": "renamed", "migprojectid": "0f6f6a52-3c64-4c37-a0f0-5d2b7cbd9a01" });
    app.put(&source_path(&id), &body).await.assert_error(404, "SMS.8011");
    assert_eq!(show(&app, &id).await["name"], "src-1");
    // A missing source is reported first.
    let missing = source_path(&uuid::Uuid::new_v4().to_string());
    assert_no_source(&app.put(&missing, &body).await, "a missing source with a project");
}

// --- PUT /v3/sources/{id}/changestate -----------------------------------------------------

#[tokio::test]
async fn change_state_sets_state_and_cycle_in_either_case() {
    let app = spawn_app().await;
    let id = app.register_source().await;
    let path = format!("{}/changestate", source_path(&id));
    for (copystate, cycle, state, expected_cycle) in [
        ("replicate", Some("replicating"), "replicate", Some("replicating")),
        ("INIT", None, "initialize", Some("replicating")),
        ("Initialize", Some("testing"), "initialize", Some("testing")),
        ("PREMIGING", Some("tested"), "premiging", Some("tested")),
        ("error", Some("cutovered"), "error", Some("cutovered")),
    ] {
        let mut body = json!({ "copystate": copystate });
        if let Some(cycle) = cycle {
            body["migrationcycle"] = json!(cycle);
        }
        assert_eq!(app.put(&path, &body).await.assert_ok(), &json!({}), "{body}");
        let shown = show(&app, &id).await;
        assert_eq!(shown["state"], state, "{body}");
        assert_eq!(shown["migration_cycle"], json!(expected_cycle), "{body}");
        let listed = app.get(&format!("/v3/sources?state={state}")).await.assert_ok().clone();
        assert_eq!(listed["count"], 1, "{body}");
    }
}

#[tokio::test]
async fn change_state_refusals_name_their_field() {
    let app = spawn_app().await;
    let id = app.register_source().await;
    let path = format!("{}/changestate", source_path(&id));
    for (body, field) in [
        (json!({}), "copystate"),
        (json!({ "migrationcycle": "testing" }), "copystate"),
        (json!({ "copystate": "running" }), "copystate"),
        (json!({ "copystate": 1 }), "copystate"),
        (json!({ "copystate": "waiting", "migrationcycle": "TESTING" }), "migrationcycle"),
        (json!({ "copystate": "waiting", "migrationcycle": null }), "migrationcycle"),
    ] {
        app.put(&path, &body).await.assert_invalid(field);
    }
    assert_eq!(show(&app, &id).await["state"], "waiting");
}

// --- PUT /v3/sources/{id}/diskinfo --------------------------------------------------------

#[tokio::test]
async fn disk_info_replaces_disks_groups_and_btrfs_keeping_named_ids() {
    let app = spawn_app().await;
    let id = app.register_source_as(TOKEN_A, &tree_body("disks")).await;
    let before = show(&app, &id).await;
    let kept_disk = before["disks"][1]["id"].as_i64().unwrap();
    let kept_group = before["volume_groups"][0]["id"].as_i64().unwrap();
    app.put(&source_path(&id), &json!({ "disks": [{ "id": kept_disk, "need_migration": false }] })).await.assert_ok();

    let mut renamed = disk("/dev/vdb-new", 1);
    renamed["id"] = json!(kept_disk);
    let mut group_kept = group("vg0-new", 1);
    group_kept["id"] = json!(kept_group);
    let body = json!({
        "disks": [disk("/dev/vdz", 1), renamed],
        "volumegroups": [group_kept, group("vg1", 0)],
        "btrfs_list": []
    });
    assert_eq!(app.put(&format!("{}/diskinfo", source_path(&id)), &body).await.assert_ok(), &json!({}));

    let after = show(&app, &id).await;
    let names: Vec<&str> = after["disks"].as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["/dev/vdz", "/dev/vdb-new"]);
    assert_eq!(after["disks"][1]["id"], kept_disk, "a disk naming an existing id keeps it");
    assert_ne!(after["disks"][0]["id"], before["disks"][0]["id"], "the first disk is new");
    assert_eq!(after["disks"][1]["physical_volumes"][0]["name"], "/dev/vdb-new1");
    assert_eq!(after["volume_groups"][0]["id"], kept_group);
    assert_eq!(after["volume_groups"][0]["name"], "vg0-new");
    assert_eq!(after["volume_groups"][0]["logical_volumes"].as_array().unwrap().len(), 1);
    assert_eq!(after["volume_groups"][1]["name"], "vg1");
    assert_eq!(after["btrfs_list"], json!([]));
    // The networks and attributes are untouched; the kept disk keeps its settings.
    assert_eq!(after["networks"], before["networks"]);
    assert_eq!(after["name"], "disks");
    assert_eq!(settings(&app, "disks", kept_disk).await, (false, 0));
    // The replaced nodes are gone, not orphaned.
    let counts = app.row_counts().await;
    assert_eq!((counts["disks"], counts["physical_volumes"]), (2, 2));
    assert_eq!((counts["volume_groups"], counts["logical_volumes"]), (2, 1));
    assert_eq!((counts["btrfs_filesystems"], counts["btrfs_subvolumes"]), (0, 0));

    // An empty body empties all three.
    app.put(&format!("{}/diskinfo", source_path(&id)), &json!({})).await.assert_ok();
    let emptied = show(&app, &id).await;
    assert_eq!((&emptied["disks"], &emptied["volume_groups"]), (&json!([]), &json!([])));
}

#[tokio::test]
async fn disk_info_refusals_name_their_path_and_change_nothing() {
    let app = spawn_app().await;
    let id = app.register_source_as(TOKEN_A, &tree_body("disks")).await;
    let before = show(&app, &id).await;
    let mut no_lv_name = group("vg", 1);
    no_lv_name["logical_volumes"][0].as_object_mut().unwrap().remove("name");
    let mut bad_btrfs = btrfs("/dev/vdc");
    bad_btrfs["subvolumn"][0].as_object_mut().unwrap().remove("uuid");
    for (body, path) in [
        (json!({ "disks": [{ "name": "/dev/vda" }] }), "disks[0].device_use"),
        (json!({ "disks": [disk("/dev/vda", 1), { "name": "x", "device_use": "DATA" }] }), "disks[1].device_use"),
        (json!({ "volumegroups": [no_lv_name] }), "volumegroups[0].logical_volumes[0].name"),
        (json!({ "volumegroups": [{ "size": -1 }] }), "volumegroups[0].size"),
        (json!({ "btrfs_list": [bad_btrfs] }), "btrfs_list[0].subvolumn[0].uuid"),
        (json!({ "disks": "none" }), "disks"),
    ] {
        app.put(&format!("{}/diskinfo", source_path(&id)), &body).await.assert_invalid(path);
    }
    assert_eq!(show(&app, &id).await, before);
}

// --- tenancy of the three writes ----------------------------------------------------------

#[tokio::test]
async fn writes_answer_a_foreign_or_missing_source_as_missing() {
    let app = spawn_app().await;
    let before_b = app.register_source_as(TOKEN_B, &tree_body("b-tree")).await;
    let shown_b = app.get_as(TOKEN_B, &source_path(&before_b)).await.assert_ok().clone();
    for (label, id) in foreign_ids(&app).await.into_iter().chain([("domain B's tree", before_b.clone())]) {
        let path = source_path(&id);
        assert_no_source(&app.put(&path, &json!({ "name": "x" })).await, &format!("update, {label}"));
        let state = json!({ "copystate": "error" });
        assert_no_source(&app.put(&format!("{path}/changestate"), &state).await, &format!("changestate, {label}"));
        let info = json!({ "disks": [] });
        assert_no_source(&app.put(&format!("{path}/diskinfo"), &info).await, &format!("diskinfo, {label}"));
    }
    // Domain B's source is as it was.
    assert_eq!(app.get_as(TOKEN_B, &source_path(&before_b)).await.assert_ok(), &shown_b);
}

// --- GET /v3/sources/overview -------------------------------------------------------------

async fn set_state(app: &TestApp, token: &str, id: &str, state: &str) {
    let reply = app.put_as(token, &format!("{}/changestate", source_path(id)), &json!({ "copystate": state })).await;
    reply.assert_ok();
}

#[tokio::test]
async fn overview_counts_the_domains_sources_per_state() {
    let app = spawn_app().await;
    let empty = app.get("/v3/sources/overview").await.assert_ok().clone();
    let keys = [
        "waiting",
        "replicate",
        "syncing",
        "stopped",
        "deleting",
        "cutovering",
        "unavailable",
        "stopping",
        "skipping",
        "finished",
        "initialize",
        "error",
        "cloning",
        "unconfigured",
    ];
    assert_eq!(empty, Value::Object(keys.iter().map(|k| (k.to_string(), json!(0))).collect()));

    let mut sources = Vec::new();
    for i in 0..7 {
        sources.push(app.register_source_as(TOKEN_A, &source_body(&format!("s{i}"))).await);
    }
    set_state(&app, TOKEN_A, &sources[0], "replicate").await;
    set_state(&app, TOKEN_A, &sources[1], "replicate").await;
    set_state(&app, TOKEN_A, &sources[2], "error").await;
    set_state(&app, TOKEN_A, &sources[3], "init").await;
    set_state(&app, TOKEN_A, &sources[4], "premigready").await;
    // Two have a task (a target is configured); domain B's sources count for B only.
    app.create_task(&create_task_example(&sources[5])).await;
    app.create_task(&create_task_example(&sources[0])).await;
    for i in 0..3 {
        let theirs = app.register_source_as(TOKEN_B, &source_body(&format!("b{i}"))).await;
        set_state(&app, TOKEN_B, &theirs, "finished").await;
    }

    let overview = app.get("/v3/sources/overview").await.assert_ok().clone();
    let mut expected = empty.clone();
    expected["waiting"] = json!(2);
    expected["replicate"] = json!(2);
    expected["error"] = json!(1);
    expected["initialize"] = json!(1);
    expected["unconfigured"] = json!(5);
    assert_eq!(overview, expected);
    let theirs = app.get_as(TOKEN_B, "/v3/sources/overview").await.assert_ok().clone();
    assert_eq!((&theirs["finished"], &theirs["unconfigured"], &theirs["waiting"]), (&json!(3), &json!(3), &json!(0)));
    // `overview` is no source id, and the path has GET only.
    app.put("/v3/sources/overview", &json!({})).await.assert_error(405, "SMS.2003");
}

// --- GET /v3/errors -----------------------------------------------------------------------

/// Registers a source named `name` with a task in `state` (and `error_json`); returns the
/// source id.
async fn source_with_task(app: &TestApp, token: &str, name: &str, state: &str, project: Option<&str>) -> String {
    let mut body = source_body(name);
    body["hostname"] = json!(format!("host-{name}"));
    body["ip"] = json!(format!("10.0.0.{}", name.len()));
    let source = app.register_source_as(token, &body).await;
    let mut task = create_task_example(&source);
    task["target_server"]["ip"] = json!(format!("192.168.1.{}", name.len()));
    let task = app.post_as(token, "/v3/tasks", &task).await.assert_ok()["id"].as_str().unwrap().to_string();
    // A create carries no enterprise project; an update does.
    let mut update = json!({ "state": state, "error_json": format!("{{\"error_code\":\"SMS.{name}\"}}") });
    if let Some(project) = project {
        update["enterprise_project_id"] = json!(project);
    }
    app.put_as(token, &format!("/v3/tasks/{task}"), &update).await.assert_ok();
    source
}

#[tokio::test]
async fn errors_list_sources_whose_task_failed_newest_first() {
    let app = spawn_app().await;
    let a = source_with_task(&app, TOKEN_A, "a", "MIGRATE_FAIL", Some("ep-1")).await;
    source_with_task(&app, TOKEN_A, "ok", "RUNNING", None).await;
    let b = source_with_task(&app, TOKEN_A, "bb", "SYNC_FAIL", None).await;
    app.register_source().await;
    let c = source_with_task(&app, TOKEN_A, "ccc", "MIGRATE_FAIL", Some("ep-1")).await;
    source_with_task(&app, TOKEN_B, "theirs", "MIGRATE_FAIL", None).await;

    let page = app.get("/v3/errors?offset=0").await.assert_ok().clone();
    assert_eq!(page["count"], 3);
    let listed: Vec<&str> =
        page["migration_errors"].as_array().unwrap().iter().map(|e| e["source_id"].as_str().unwrap()).collect();
    assert_eq!(listed, [c.as_str(), b.as_str(), a.as_str()]);
    let first = &page["migration_errors"][0];
    assert_eq!(
        first,
        &json!({ "error_json": "{\"error_code\":\"SMS.ccc\"}", "host_name": "host-ccc", "name": "ccc",
                 "source_id": c, "source_ip": "10.0.0.3", "target_ip": "192.168.1.3" })
    );

    // Paging: exact count on every page, an empty array past the end, limit 0.
    let second = app.get("/v3/errors?offset=1&limit=1").await.assert_ok().clone();
    assert_eq!((second["count"].as_i64(), second["migration_errors"][0]["source_id"].as_str()), (Some(3), Some(&*b)));
    let past = app.get("/v3/errors?offset=3&limit=100").await.assert_ok().clone();
    assert_eq!((&past["count"], &past["migration_errors"]), (&json!(3), &json!([])));
    let none = app.get("/v3/errors?offset=0&limit=0").await.assert_ok().clone();
    assert_eq!((&none["count"], &none["migration_errors"]), (&json!(3), &json!([])));

    // The task's enterprise project filters; an empty migproject filters nothing.
    let ep = app.get("/v3/errors?offset=0&enterprise_project_id=ep-1&migproject=").await.assert_ok().clone();
    assert_eq!(ep["count"], 2);
    let other = app.get("/v3/errors?offset=0&enterprise_project_id=ep-2").await.assert_ok().clone();
    assert_eq!((&other["count"], &other["migration_errors"]), (&json!(0), &json!([])));

    // Domain B sees its own only.
    let theirs = app.get_as(TOKEN_B, "/v3/errors?offset=0").await.assert_ok().clone();
    assert_eq!(theirs["count"], 1);
    assert_eq!(theirs["migration_errors"][0]["name"], "theirs");

    // The source's migration project filters: all three joined the default project; after a
    // move, the new project holds one of them.
    let project = app
        .post("/v3/migprojects", &json!({ "name": "errors", "region": "r", "type": "MIGRATE_FILE" }))
        .await
        .assert_ok()["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.put(&source_path(&b), &json!({ "migprojectid": project })).await.assert_ok();
    let moved = app.get(&format!("/v3/errors?offset=0&migproject={project}")).await.assert_ok().clone();
    assert_eq!((moved["count"].as_i64(), moved["migration_errors"][0]["source_id"].as_str()), (Some(1), Some(&*b)));
    let unknown = app.get("/v3/errors?offset=0&migproject=p-1").await.assert_ok().clone();
    assert_eq!((&unknown["count"], &unknown["migration_errors"]), (&json!(0), &json!([])));

    // A task that recovers leaves the list.
    let task = app.get(&source_path(&a)).await.assert_ok()["current_task"]["id"].as_str().unwrap().to_string();
    app.put(&format!("/v3/tasks/{task}"), &json!({ "state": "RUNNING" })).await.assert_ok();
    assert_eq!(app.get("/v3/errors?offset=0").await.assert_ok()["count"], 2);
}

#[tokio::test]
async fn errors_query_refusals_name_their_parameter() {
    let app = spawn_app().await;
    for (query, parameter) in [
        (String::new(), "offset"),
        ("?limit=10".into(), "offset"),
        ("?offset=-1".into(), "offset"),
        ("?offset=65536".into(), "offset"),
        ("?offset=x".into(), "offset"),
        ("?offset=0&limit=101".into(), "limit"),
        ("?offset=0&limit=-1".into(), "limit"),
        ("?offset=0&enterprise_project_id=".to_owned() + &"e".repeat(256), "enterprise_project_id"),
    ] {
        app.get(&format!("/v3/errors{query}")).await.assert_invalid(parameter);
    }
    app.get("/v3/errors?offset=0&limit=100").await.assert_ok();
    app.get("/v3/errors?offset=65535").await.assert_ok();
}
