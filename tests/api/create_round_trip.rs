//! What a create stores is what show serves: seed 003's example, a tree at the documented
//! maximums, and a fully described source server.

use std::collections::HashSet;

use serde_json::{json, Value};

use crate::helpers::*;

/// Compares every field `sent` has with `shown` (recursing into objects and arrays, element by
/// element, order included) and records each difference with its JSON path. A sent field must
/// be present in `shown` as a key. Paths for which `skip` is true are not compared (fields the
/// view does not serve; they are checked elsewhere).
fn compare(path: &str, sent: &Value, shown: &Value, skip: &dyn Fn(&str) -> bool, problems: &mut Vec<String>) {
    if skip(path) {
        return;
    }
    match sent {
        Value::Object(fields) => {
            let Some(shown_fields) = shown.as_object() else {
                problems.push(format!("{path}: expected an object, found {shown}"));
                return;
            };
            for (key, value) in fields {
                let child = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                if skip(&child) {
                    continue;
                }
                match shown_fields.get(key) {
                    Some(shown_value) => compare(&child, value, shown_value, skip, problems),
                    None => problems.push(format!("{child}: missing from the reply")),
                }
            }
        }
        Value::Array(items) => {
            let Some(shown_items) = shown.as_array() else {
                problems.push(format!("{path}: expected an array, found {shown}"));
                return;
            };
            if items.len() != shown_items.len() {
                problems.push(format!("{path}: sent {} elements, shown {}", items.len(), shown_items.len()));
                return;
            }
            for (i, (item, shown_item)) in items.iter().zip(shown_items).enumerate() {
                compare(&format!("{path}[{i}]"), item, shown_item, skip, problems);
            }
        }
        _ => {
            if sent != shown {
                problems.push(format!("{path}: sent {sent}, shown {shown}"));
            }
        }
    }
}

#[track_caller]
fn assert_same(label: &str, sent: &Value, shown: &Value, skip: &dyn Fn(&str) -> bool) {
    let mut problems = Vec::new();
    compare("", sent, shown, skip, &mut problems);
    let total = problems.len();
    problems.truncate(40);
    assert!(total == 0, "{label}: {total} differences (first 40):\n{}", problems.join("\n"));
}

#[track_caller]
fn assert_keys(label: &str, object: &Value, keys: &[&str]) {
    let missing: Vec<_> = keys.iter().filter(|k| object.get(**k).is_none()).collect();
    assert!(missing.is_empty(), "{label} lacks keys {missing:?}: {object}");
}

/// Every `id` of the nested objects below a shown target server (disks, volumes, groups,
/// filesystems): positive and distinct.
#[track_caller]
fn assert_ids_positive_and_distinct(target: &Value, btrfs: &[Value]) {
    let mut ids = Vec::new();
    for disk in target["disks"].as_array().unwrap() {
        ids.push(disk["id"].clone());
        ids.extend(disk["physical_volumes"].as_array().unwrap().iter().map(|pv| pv["id"].clone()));
    }
    for group in target["volume_groups"].as_array().unwrap() {
        ids.push(group["id"].clone());
        ids.extend(group["logical_volumes"].as_array().unwrap().iter().map(|lv| lv["id"].clone()));
    }
    ids.extend(btrfs.iter().map(|fs| fs["id"].clone()));
    let numbers: Vec<i64> =
        ids.iter().map(|id| id.as_i64().unwrap_or_else(|| panic!("id {id} is not an integer"))).collect();
    assert!(numbers.iter().all(|&id| id > 0), "every id is positive: {numbers:?}");
    let distinct: HashSet<_> = numbers.iter().collect();
    assert_eq!(distinct.len(), numbers.len(), "ids are distinct");
}

/// `target_server.btrfs_list` of show: an array of strings, each one filesystem as JSON text.
#[track_caller]
fn parse_btrfs_list(target: &Value) -> Vec<Value> {
    target["btrfs_list"]
        .as_array()
        .expect("btrfs_list is an array")
        .iter()
        .map(|item| {
            let text = item.as_str().unwrap_or_else(|| panic!("btrfs_list holds strings, found {item}"));
            serde_json::from_str(text).unwrap_or_else(|e| panic!("btrfs_list element is JSON text ({e}): {text}"))
        })
        .collect()
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

#[track_caller]
fn assert_recent(label: &str, ms: &Value) {
    let ms = ms.as_i64().unwrap_or_else(|| panic!("{label} is milliseconds, found {ms}"));
    let now = now_ms();
    assert!((now - 10_000..=now + 1_000).contains(&ms), "{label} {ms} is not within seconds of now ({now})");
}

/// Seed 000's top-level fields, and the SDK's `ShowTaskResponse` extras.
const TASK_KEYS: &[&str] = &[
    "name",
    "type",
    "os_type",
    "id",
    "priority",
    "speed_limit",
    "region_id",
    "start_target_server",
    "enterprise_project_id",
    "migration_ip",
    "region_name",
    "project_name",
    "project_id",
    "vm_template_id",
    "source_server",
    "target_server",
    "state",
    "estimate_complete_time",
    "connected",
    "create_date",
    "start_date",
    "finish_date",
    "migrate_speed",
    "compress_rate",
    "error_json",
    "total_time",
    "float_ip",
    "remain_seconds",
    "target_snapshot_id",
    "clone_server",
    "sub_tasks",
    "network_check_info",
    "total_cpu_usage",
    "agent_cpu_usage",
    "total_mem_usage",
    "agent_mem_usage",
    "total_disk_io",
    "agent_disk_io",
    "need_migration_test",
    "subtask_info",
];
const SOURCE_BRIEF_KEYS: &[&str] =
    &["id", "ip", "name", "os_type", "os_version", "oem_system", "state", "migration_cycle"];
const TARGET_KEYS: &[&str] = &[
    "id",
    "vm_id",
    "name",
    "ip",
    "os_type",
    "os_version",
    "system_dir",
    "disks",
    "volume_groups",
    "btrfs_list",
    "image_disk_id",
    "cutovered_snapshot_ids",
];
const DISK_KEYS: &[&str] = &[
    "id",
    "device_use",
    "disk_id",
    "name",
    "physical_volumes",
    "size",
    "used_size",
    "disk_index",
    "os_disk",
    "partition_style",
    "relation_name",
];
const PV_KEYS: &[&str] = &[
    "id",
    "device_use",
    "file_system",
    "index",
    "mount_point",
    "name",
    "size",
    "used_size",
    "uuid",
    "relation_name",
    "free_size",
];
const VG_KEYS: &[&str] = &["id", "components", "free_size", "logical_volumes", "name", "size"];
const LV_KEYS: &[&str] = &[
    "id",
    "block_count",
    "block_size",
    "file_system",
    "inode_size",
    "inode_nums",
    "device_use",
    "mount_point",
    "name",
    "size",
    "used_size",
    "free_size",
];

/// Stored task columns that show does not serve.
#[derive(Debug, PartialEq, sqlx::FromRow)]
struct HiddenTaskFields {
    use_public_ip: bool,
    use_ipv6: bool,
    syncing: bool,
    over_speed_threshold: f64,
    is_need_consistency_check: Option<bool>,
    auto_start: Option<bool>,
    exist_server: Option<bool>,
    start_network_check: Option<bool>,
    clonevm_template_id: Option<String>,
}

async fn hidden_fields(app: &TestApp, id: &str) -> HiddenTaskFields {
    sqlx::query_as(
        "SELECT use_public_ip, use_ipv6, syncing, over_speed_threshold, is_need_consistency_check, auto_start,
                exist_server, start_network_check, clonevm_template_id
         FROM tasks WHERE id = $1::uuid",
    )
    .bind(id)
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

// ---- (a) Seed 003's example ----

#[tokio::test]
async fn page_003_example_round_trips_with_defaults_and_every_documented_key() {
    let app = spawn_app().await;
    let source = app.register_source().await;
    let body = create_task_example(&source);
    let id = app.create_task(&body).await;
    let shown = app.get(&format!("/v3/tasks/{id}")).await;
    let task = shown.assert_ok().clone();

    // Every field of the request, as stored (those show serves).
    assert_same("seed 003 example", &body, &task, &|path: &str| {
        matches!(path, "use_public_ip" | "is_need_consistency_check")
    });
    // The rest, behind the API.
    let hidden = hidden_fields(&app, &id).await;
    assert!(hidden.use_public_ip, "use_public_ip as sent (true)");
    assert_eq!(hidden.is_need_consistency_check, Some(true), "is_need_consistency_check as sent");

    // Values of a new task.
    assert_eq!(task["id"], json!(id));
    assert_eq!(task["priority"], 1, "default priority");
    assert_eq!(task["speed_limit"], 0, "default speed_limit");
    assert_eq!(task["state"], "READY");
    assert_recent("create_date", &task["create_date"]);
    assert_eq!(task["clone_server"], Value::Null);
    assert_eq!(task["sub_tasks"], json!([]));
    assert_eq!(task["network_check_info"], Value::Null);
    for key in ["start_date", "finish_date", "enterprise_project_id", "vm_template_id", "estimate_complete_time"] {
        assert_eq!(task[key], Value::Null, "{key} of a new task");
    }

    // Every documented key is present.
    assert_keys("task", &task, TASK_KEYS);
    assert_keys("source_server", &task["source_server"], SOURCE_BRIEF_KEYS);
    let target = &task["target_server"];
    assert_keys("target_server", target, TARGET_KEYS);
    for disk in target["disks"].as_array().unwrap() {
        assert_keys("disk", disk, DISK_KEYS);
        for pv in disk["physical_volumes"].as_array().unwrap() {
            assert_keys("physical volume", pv, PV_KEYS);
        }
    }
    assert_eq!(target["btrfs_list"], json!([]));
    assert_eq!(target["volume_groups"], json!([]));
    assert!(uuid::Uuid::parse_str(target["id"].as_str().expect("target id is a string")).is_ok());
    assert_ids_positive_and_distinct(target, &[]);

    // The brief source server is the registered one.
    let registered = source_body("src-1");
    assert_eq!(task["source_server"]["id"], json!(source));
    for key in ["ip", "name", "os_type", "os_version"] {
        assert_eq!(task["source_server"][key], registered[key], "source_server.{key}");
    }
    assert_eq!(task["source_server"]["state"], "waiting");
}

#[tokio::test]
async fn defaults_of_the_create_page_are_stored() {
    let app = spawn_app().await;
    let source = app.register_source().await;
    let mut body = create_task_example(&source);
    for key in ["start_target_server", "use_public_ip", "os_type", "migration_ip", "is_need_consistency_check"] {
        body.as_object_mut().unwrap().remove(key);
    }
    let id = app.create_task(&body).await;
    let task = app.get(&format!("/v3/tasks/{id}")).await.assert_ok().clone();
    assert_eq!(task["start_target_server"], true, "default start_target_server");
    assert_eq!(task["priority"], 1);
    assert_eq!(task["speed_limit"], 0);
    assert_eq!(task["os_type"], Value::Null);
    assert_eq!(task["migration_ip"], Value::Null);
    let hidden = hidden_fields(&app, &id).await;
    assert_eq!(
        hidden,
        HiddenTaskFields {
            use_public_ip: true,
            use_ipv6: false,
            syncing: false,
            over_speed_threshold: 10.0,
            is_need_consistency_check: None,
            auto_start: None,
            exist_server: None,
            start_network_check: None,
            clonevm_template_id: None,
        }
    );
}

#[tokio::test]
async fn every_optional_top_level_field_is_stored() {
    let app = spawn_app().await;
    let source = app.register_source().await;
    let mut body = create_task_example(&source);
    let extra = json!({
        "os_type": "WINDOWS", "type": "MIGRATE_BLOCK", "priority": 65535, "speed_limit": 1000,
        "over_speed_threshold": 55.5, "vm_template_id": "tpl-1", "clonevm_template_id": "clone-tpl-1",
        "use_public_ip": false, "use_ipv6": true, "migration_ip": "fe80::1", "syncing": true,
        "auto_start": false, "exist_server": true, "start_network_check": true,
        "is_need_consistency_check": false, "need_migration_test": true, "start_target_server": false
    });
    for (key, value) in extra.as_object().unwrap() {
        body[key] = value.clone();
    }
    let id = app.create_task(&body).await;
    let task = app.get(&format!("/v3/tasks/{id}")).await.assert_ok().clone();
    for key in [
        "os_type",
        "type",
        "priority",
        "speed_limit",
        "vm_template_id",
        "migration_ip",
        "need_migration_test",
        "start_target_server",
    ] {
        assert_eq!(task[key], body[key], "{key}");
    }
    let hidden = hidden_fields(&app, &id).await;
    assert_eq!(
        hidden,
        HiddenTaskFields {
            use_public_ip: false,
            use_ipv6: true,
            syncing: true,
            over_speed_threshold: 55.5,
            is_need_consistency_check: Some(false),
            auto_start: Some(false),
            exist_server: Some(true),
            start_network_check: Some(true),
            clonevm_template_id: Some("clone-tpl-1".into()),
        }
    );
}

#[tokio::test]
async fn nested_defaults_of_the_create_page_are_applied() {
    let app = spawn_app().await;
    let source = app.register_source().await;
    let mut body = create_task_example(&source);
    body["target_server"]["disks"] = json!([{"name": "/dev/vdb", "physical_volumes": []}]);
    body["target_server"]["volume_groups"] = json!([{"name": "vg", "logical_volumes": [{"name": "lv"}]}]);
    let id = app.create_task(&body).await;
    let task = app.get(&format!("/v3/tasks/{id}")).await.assert_ok().clone();
    let target = &task["target_server"];
    let lv = &target["volume_groups"][0]["logical_volumes"][0];
    let mut problems = Vec::new();
    for (label, shown, default) in [
        ("TargetDisks.device_use (Default: NORMAL)", &target["disks"][0]["device_use"], json!("NORMAL")),
        ("LogicalVolumes.block_count (Default: 0)", &lv["block_count"], json!(0)),
        ("LogicalVolumes.block_size (Default: 0)", &lv["block_size"], json!(0)),
    ] {
        if *shown != default {
            problems.push(format!("{label}: shown {shown}"));
        }
    }
    assert!(problems.is_empty(), "defaults not applied:\n{}", problems.join("\n"));
}

// ---- (b) A tree at the documented maximums ----

fn max_tree_target() -> Value {
    let big = |n: i64| json!(i64::MAX - n);
    let disks: Vec<Value> = (0..50i64)
        .map(|d| {
            let volumes: Vec<Value> = (0..50i64)
                .map(|p| {
                    let n = d * 100 + p;
                    json!({
                        "device_use": format!("use-{n}"), "file_system": format!("fs-{n}"), "index": n,
                        "mount_point": format!("/mnt/{d}/{p}"), "name": format!("/dev/d{d}p{p}"),
                        "size": big(3 * n), "inode_size": big(3 * n + 1), "used_size": big(3 * n + 2),
                        "uuid": format!("uuid-{d}-{p}")
                    })
                })
                .collect();
            json!({
                "device_use": (["BOOT", "OS", "NORMAL"][d as usize % 3]), "disk_id": format!("disk-id-{d}"),
                "name": format!("Disk {d}"), "size": big(1_000_000 + 2 * d), "used_size": big(1_000_001 + 2 * d),
                "physical_volumes": volumes
            })
        })
        .collect();
    let groups: Vec<Value> = (0..50i64)
        .map(|g| {
            let volumes: Vec<Value> = (0..50i64)
                .map(|l| {
                    let n = g * 100 + l;
                    json!({
                        "block_count": 2_147_483_647 - n, "block_size": 1_048_576 - n, "file_system": format!("lvfs-{n}"),
                        "inode_size": 2_147_483_000 - n, "inode_nums": big(4 * n), "device_use": format!("lvuse-{n}"),
                        "mount_point": format!("/lv/{g}/{l}"), "name": format!("lv-{g}-{l}"), "size": big(4 * n + 1),
                        "used_size": big(4 * n + 2), "free_size": big(4 * n + 3)
                    })
                })
                .collect();
            json!({
                "components": format!("/dev/pv{g}"), "free_size": big(2_000_000 + 2 * g), "name": format!("vg-{g}"),
                "size": big(2_000_001 + 2 * g), "logical_volumes": volumes
            })
        })
        .collect();
    let btrfs: Vec<Value> = (0..3i64)
        .map(|f| {
            let subvolumes: Vec<Value> = (0..5i64)
                .map(|s| {
                    json!({
                        "uuid": format!("sv-uuid-{f}-{s}"), "is_snapshot": if s % 2 == 0 { "true" } else { "false" },
                        "subvol_id": format!("{}", 256 + f * 10 + s), "parent_id": format!("{}", 5 + f),
                        "subvol_name": format!("@sv-{f}-{s}"), "subvol_mount_path": format!("/btrfs{f}/sv{s}")
                    })
                })
                .collect();
            json!({
                "name": format!("btrfs-{f}"), "label": format!("label-{f}"), "uuid": format!("fs-uuid-{f}"),
                "device": format!("/dev/sd{f}"), "size": big(3_000_000 + f), "nodesize": big(3_000_100 + f),
                "sectorsize": 2_147_483_647 - f, "data_profile": format!("data-{f}"), "system_profile": format!("sys-{f}"),
                "metadata_profile": format!("meta-{f}"), "global_reserve1": format!("{f}.25MiB"),
                "g_vol_used_size": big(3_000_200 + f), "default_subvolid": format!("{}", 5 + f),
                "default_subvol_name": format!("<FS_TREE_{f}>"), "default_subvol_mountpath": format!("/btrfs{f}"),
                "subvolumn": subvolumes
            })
        })
        .collect();
    json!({
        "name": "max-tree-target", "vm_id": "vm-max", "disks": disks, "volume_groups": groups, "btrfs_list": btrfs
    })
}

#[tokio::test]
async fn a_tree_at_the_documented_maximums_round_trips_exactly() {
    let app = spawn_app().await;
    let source = app.register_source().await;
    let mut body = create_task_example(&source);
    body["target_server"] = max_tree_target();
    let id = app.create_task(&body).await;
    let task = app.get(&format!("/v3/tasks/{id}")).await.assert_ok().clone();
    let target = &task["target_server"];
    let sent = &body["target_server"];

    // Disks, physical volumes, volume groups and logical volumes, field by field, in order.
    // A physical volume's inode_size is not part of show's TargetPhysicalVolumes: checked below.
    let pv_inode_size = |path: &str| path.contains(".physical_volumes[") && path.ends_with(".inode_size");
    let mut without_btrfs = sent.clone();
    without_btrfs.as_object_mut().unwrap().remove("btrfs_list");
    assert_same("target_server", &without_btrfs, target, &pv_inode_size);
    for (d, disk) in target["disks"].as_array().unwrap().iter().enumerate() {
        assert_keys(&format!("disks[{d}]"), disk, DISK_KEYS);
        for pv in disk["physical_volumes"].as_array().unwrap() {
            assert_keys("physical volume", pv, PV_KEYS);
        }
    }
    for group in target["volume_groups"].as_array().unwrap() {
        assert_keys("volume group", group, VG_KEYS);
        for lv in group["logical_volumes"].as_array().unwrap() {
            assert_keys("logical volume", lv, LV_KEYS);
        }
    }

    // Btrfs: strings of JSON, each a filesystem with its subvolumes and an id.
    let btrfs = parse_btrfs_list(target);
    assert_same("target_server.btrfs_list (parsed)", &sent["btrfs_list"], &json!(btrfs), &|_: &str| false);
    for fs in &btrfs {
        assert!(fs["id"].as_i64().is_some_and(|id| id > 0), "a filesystem has a positive id: {fs}");
    }
    assert_ids_positive_and_distinct(target, &btrfs);

    // The physical volumes' inode_size, behind the API, by the ids show served.
    let pv_ids: Vec<i64> = target["disks"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| d["physical_volumes"].as_array().unwrap().iter().map(|pv| pv["id"].as_i64().unwrap()))
        .collect();
    let stored: Vec<(i64, Option<i64>)> =
        sqlx::query_as("SELECT id, inode_size FROM physical_volumes WHERE id = ANY($1)")
            .bind(&pv_ids)
            .fetch_all(&app.pool)
            .await
            .unwrap();
    let stored: std::collections::HashMap<i64, Option<i64>> = stored.into_iter().collect();
    let sent_inode_sizes = sent["disks"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| d["physical_volumes"].as_array().unwrap().iter().map(|pv| pv["inode_size"].as_i64()));
    for (i, (id, sent_inode_size)) in pv_ids.iter().zip(sent_inode_sizes).enumerate() {
        assert_eq!(stored.get(id).copied().flatten(), sent_inode_size, "physical volume #{i} (id {id}) inode_size");
    }
}

// ---- (c) A fully described source server ----

fn full_source_body() -> Value {
    let volumes = |d: i64| -> Vec<Value> {
        (0..3i64)
            .map(|p| {
                let n = d * 10 + p;
                json!({
                    "device_use": (["BOOT", "OS", "NORMAL"][p as usize]), "file_system": format!("ext{n}"), "index": n,
                    "mount_point": format!("/m{n}"), "name": format!("/dev/sd{d}{p}"), "size": i64::MAX - n,
                    "used_size": 1000 + n, "inode_size": 2_147_483_647 - n, "inode_nums": 5000 + n,
                    "uuid": format!("pv-{n}"), "size_per_cluster": 4096 + n
                })
            })
            .collect()
    };
    let disks: Vec<Value> = (0..2i64)
        .map(|d| {
            json!({
                "name": format!("/dev/sd{d}"), "partition_style": (["MBR", "GPT"][d as usize]),
                "device_use": (["BOOT", "OS"][d as usize]), "size": i64::MAX - 100 - d, "used_size": 77 + d,
                "physical_volumes": volumes(d), "os_disk": d == 0, "relation_name": format!("/dev/vd{d}"),
                "inode_size": 128 + d
            })
        })
        .collect();
    let groups: Vec<Value> = (0..2i64)
        .map(|g| {
            json!({
                "components": format!("/dev/sd{g}1"), "free_size": 10 + g, "name": format!("vg{g}"), "size": 100 + g,
                "logical_volumes": (0..2i64).map(|l| json!({
                    "block_count": 10 + l, "block_size": 4096, "file_system": format!("xfs{g}{l}"),
                    "inode_size": 256 + l, "inode_nums": 100 + l, "device_use": "NORMAL",
                    "mount_point": format!("/lv{g}{l}"), "name": format!("lv{g}{l}"), "size": 1000 + l,
                    "used_size": 100 + l, "free_size": 900 + l
                })).collect::<Vec<_>>()
            })
        })
        .collect();
    let btrfs = json!([{
        "name": "btrfs0", "label": "", "uuid": "fs-uuid", "device": "/dev/sdc", "size": 1_000_000,
        "nodesize": 16384, "sectorsize": 4096, "data_profile": "single", "system_profile": "DUP",
        "metadata_profile": "DUP", "global_reserve1": "3.25MiB", "g_vol_used_size": 4096,
        "default_subvolid": "5", "default_subvol_name": "<FS_TREE>", "default_subvol_mountpath": "/",
        "subvolumn": [
            {"uuid": "sv-a", "is_snapshot": "false", "subvol_id": "256", "parent_id": "5",
             "subvol_name": "@", "subvol_mount_path": "/"},
            {"uuid": "sv-b", "is_snapshot": "true", "subvol_id": "257", "parent_id": "256",
             "subvol_name": "@snap", "subvol_mount_path": "/.snapshots"}
        ]
    }]);
    let networks = json!([
        {"name": "eth0", "ip": "192.168.0.154", "ipv6": "fe80::1", "netmask": "255.255.255.0",
         "gateway": "192.168.0.1", "mtu": 1500, "mac": "fa:16:3e:00:00:01"},
        {"name": "eth1", "ip": "10.0.0.5", "netmask": "255.0.0.0", "gateway": "10.0.0.1", "mtu": 9000,
         "mac": "fa:16:3e:00:00:02"}
    ]);
    json!({
        "ip": "192.168.0.154", "ipv6": "2001:db8::154", "name": "full-source", "hostname": "host-full",
        "os_type": "LINUX", "os_version": "CENTOS_7_64BIT", "virtualization_type": "kvm",
        "linux_block_check": "ok", "firmware": "UEFI", "cpu_quantity": 8, "memory": 17_179_869_184i64,
        "disks": disks, "btrfs_list": btrfs, "networks": networks, "domain_id": "reported-domain",
        "has_rsync": true, "paravirtualization": false, "raw_devices": "/dev/raw1", "driver_files": true,
        "system_services": false, "account_rights": true, "boot_loader": "GRUB", "system_dir": "/boot",
        "volume_groups": groups, "agent_version": "1.2.3", "kernel_version": "3.10.0",
        "migration_cycle": "checking", "oem_system": false, "start_type": "MGC", "io_read_wait": 12.5,
        "has_tc": true, "platform": "vmware"
    })
}

#[tokio::test]
async fn a_fully_described_source_round_trips_through_show_and_list() {
    let app = spawn_app().await;
    let body = full_source_body();
    let id = app.register_source_as(TOKEN_A, &body).await;
    let minimal = app.register_source().await;

    let shown = app.get(&format!("/v3/sources/{id}")).await;
    let source = shown.assert_ok().clone();
    assert_same("source server", &body, &source, &|_: &str| false);
    assert_eq!(source["id"], json!(id));
    assert_eq!(source["state"], "waiting");
    assert_eq!(source["connected"], true);
    assert_eq!(source["current_task"], Value::Null);
    assert_recent("add_date", &source["add_date"]);
    let mut ids = Vec::new();
    for disk in source["disks"].as_array().unwrap() {
        ids.push(disk["id"].as_i64().expect("disk id"));
        ids.extend(disk["physical_volumes"].as_array().unwrap().iter().map(|pv| pv["id"].as_i64().expect("pv id")));
    }
    for group in source["volume_groups"].as_array().unwrap() {
        ids.push(group["id"].as_i64().expect("vg id"));
        ids.extend(group["logical_volumes"].as_array().unwrap().iter().map(|lv| lv["id"].as_i64().expect("lv id")));
    }
    ids.extend(source["btrfs_list"].as_array().unwrap().iter().map(|fs| fs["id"].as_i64().expect("btrfs id")));
    for network in source["networks"].as_array().unwrap() {
        let id = network["id"].as_str().expect("a network id is a string (the SDK's type)");
        ids.push(id.parse().expect("a network id is numeric"));
    }
    assert_eq!(ids.len(), 2 + 6 + 2 + 4 + 1 + 2);
    assert!(ids.iter().all(|&id| id > 0), "positive ids: {ids:?}");
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), ids.len(), "distinct ids: {ids:?}");

    // The list: both sources, counted, with the listed fields of the full one.
    let listed = app.get("/v3/sources").await;
    let listed = listed.assert_ok();
    assert_eq!(listed["count"], 2);
    let items = listed["source_servers"].as_array().expect("source_servers");
    let listed_ids: HashSet<_> = items.iter().map(|s| s["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(listed_ids, HashSet::from([id.clone(), minimal]));
    let item = items.iter().find(|s| s["id"] == json!(id)).unwrap();
    for key in [
        "ip",
        "name",
        "os_type",
        "os_version",
        "oem_system",
        "cpu_quantity",
        "memory",
        "migration_cycle",
        "has_tc",
        "start_type",
    ] {
        assert_eq!(item[key], body[key], "listed {key}");
    }
    assert_eq!(item["state"], "waiting");
    assert_eq!(item["connected"], true);
    assert_eq!(item["add_date"], source["add_date"]);

    // Once a task uses it, show names the task.
    let task = app.create_task(&create_task_example(&id)).await;
    let source = app.get(&format!("/v3/sources/{id}")).await.assert_ok().clone();
    assert_eq!(source["current_task"]["id"], json!(task));
}

/// New sources, tasks and target servers get time-ordered ids (UUID v7, `api-decisions.md`
/// Ids): a later create has a larger id, so the indexes keyed by them grow at one edge.
#[tokio::test]
async fn new_ids_are_time_ordered_uuid_v7() {
    let app = spawn_app().await;
    let mut previous: Option<(uuid::Uuid, uuid::Uuid)> = None;
    for _ in 0..2 {
        let source: uuid::Uuid = app.register_source().await.parse().unwrap();
        let task: uuid::Uuid = app.create_task(&create_task_example(&source.to_string())).await.parse().unwrap();
        let shown = app.get(&format!("/v3/tasks/{task}")).await;
        let target: uuid::Uuid = shown.assert_ok()["target_server"]["id"].as_str().unwrap().parse().unwrap();
        for (what, id) in [("source", source), ("task", task), ("target", target)] {
            assert_eq!(id.get_version_num(), 7, "{what} id {id}");
        }
        if let Some((earlier_source, earlier_task)) = previous {
            assert!(source > earlier_source && task > earlier_task, "{source} {task} after {previous:?}");
        }
        previous = Some((source, task));
    }
}
