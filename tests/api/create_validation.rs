//! Every validation rule of `POST /v3/tasks` (seed 003): a refused body is a 400 `SMS.8001`
//! whose `error_msg` starts with the JSON path of the refused value, and leaves no row behind.
//!
//! Table-driven: each case is a named list of JSON-pointer edits of a valid body (seed 003's
//! example with a richer target tree). One test per group runs every case of its group on one
//! database and reports every case that failed, by name.

use serde_json::{json, Value};

use crate::helpers::*;

/// A JSON-pointer edit: set (or append at index `len`) a value, or remove it.
type Edit = (String, Option<Value>);

/// A named mutation of the base body and the JSON path its refusal must name.
struct Case {
    name: String,
    edits: Vec<Edit>,
    path: String,
}

fn case(name: impl Into<String>, path: impl Into<String>) -> Case {
    Case { name: name.into(), edits: Vec::new(), path: path.into() }
}

impl Case {
    fn set(mut self, pointer: impl Into<String>, value: Value) -> Case {
        self.edits.push((pointer.into(), Some(value)));
        self
    }

    fn remove(mut self, pointer: impl Into<String>) -> Case {
        self.edits.push((pointer.into(), None));
        self
    }
}

/// Applies one edit. The parent must exist; setting index `len` of an array appends.
fn apply(body: &mut Value, pointer: &str, value: Option<Value>) {
    let (parent, key) = pointer.rsplit_once('/').unwrap_or_else(|| panic!("bad pointer {pointer:?}"));
    let target = body.pointer_mut(parent).unwrap_or_else(|| panic!("no parent for {pointer:?}"));
    match target {
        Value::Object(map) => match value {
            Some(value) => {
                map.insert(key.to_string(), value);
            }
            None => {
                map.remove(key);
            }
        },
        Value::Array(items) => {
            let i: usize = key.parse().unwrap_or_else(|_| panic!("bad index in {pointer:?}"));
            match value {
                Some(value) if i == items.len() => items.push(value),
                Some(value) => items[i] = value,
                None => {
                    items.remove(i);
                }
            }
        }
        other => panic!("{pointer:?}: parent is {other}"),
    }
}

fn edited(base: &Value, edits: &[Edit]) -> Value {
    let mut body = base.clone();
    for (pointer, value) in edits {
        apply(&mut body, pointer, value.clone());
    }
    body
}

fn chars(n: usize) -> Value {
    json!("x".repeat(n))
}

// ---- A valid body with every kind of node, two of each, so paths can name index 1. ----

fn physical_volume(i: i64) -> Value {
    json!({
        "uuid": format!("pv-uuid-{i}"), "index": i, "name": format!("/dev/vdb{i}"), "device_use": "NORMAL",
        "file_system": "xfs", "mount_point": format!("/mnt/{i}"), "size": 1000 + i, "used_size": 10 + i,
        "inode_size": 256
    })
}

fn disk(i: i64) -> Value {
    json!({
        "name": format!("/dev/vd{i}"), "disk_id": format!("disk-{i}"), "size": 42949672960i64 + i,
        "used_size": 429496 + i, "device_use": "NORMAL",
        "physical_volumes": [physical_volume(1), physical_volume(2)]
    })
}

fn logical_volume(i: i64) -> Value {
    json!({
        "block_count": 10 + i, "block_size": 4096, "file_system": "ext4", "inode_size": 256,
        "inode_nums": 1000 + i, "device_use": "NORMAL", "mount_point": format!("/lv{i}"),
        "name": format!("lv{i}"), "size": 100 + i, "used_size": 10 + i, "free_size": 90
    })
}

fn volume_group(i: i64) -> Value {
    json!({
        "name": format!("vg{i}"), "components": format!("/dev/vdb{i}"), "size": 1000 + i, "free_size": 10,
        "logical_volumes": [logical_volume(1), logical_volume(2)]
    })
}

fn subvolume(i: i64) -> Value {
    json!({
        "uuid": format!("sv-uuid-{i}"), "is_snapshot": "false", "subvol_id": format!("{}", 256 + i),
        "parent_id": "5", "subvol_name": format!("@sv{i}"), "subvol_mount_path": format!("/sv{i}")
    })
}

fn btrfs(i: i64) -> Value {
    json!({
        "name": format!("btrfs{i}"), "label": format!("label{i}"), "uuid": format!("fs-uuid-{i}"),
        "device": format!("/dev/vdc{i}"), "size": 1_000_000 + i, "nodesize": 16384, "sectorsize": 4096,
        "data_profile": "single", "system_profile": "DUP", "metadata_profile": "DUP",
        "global_reserve1": "3.25MiB", "g_vol_used_size": 5000 + i, "default_subvolid": "5",
        "default_subvol_name": "<FS_TREE>", "default_subvol_mountpath": "/",
        "subvolumn": [subvolume(1), subvolume(2)]
    })
}

/// Seed 003's example plus a second disk, two volume groups and two Btrfs filesystems.
fn base_body(source: &str) -> Value {
    let mut body = create_task_example(source);
    let target = &mut body["target_server"];
    target["disks"].as_array_mut().unwrap().push(disk(2));
    target["volume_groups"] = json!([volume_group(1), volume_group(2)]);
    target["btrfs_list"] = json!([btrfs(1), btrfs(2)]);
    body
}

// ---- Runners ----

/// Registers a fresh source, then checks that the base body itself is accepted, so that every
/// refusal below is the case's own doing.
async fn app_with_valid_base() -> TestApp {
    let app = spawn_app().await;
    let source = app.register_source_as(TOKEN_A, &source_body("base-check")).await;
    let reply = app.post("/v3/tasks", &base_body(&source)).await;
    assert_eq!(reply.status, 200, "the base body must be accepted: {}", reply.body);
    app
}

/// Every case must be refused with 400 SMS.8001 naming its path, and leave the row counts as
/// they were. Panics listing every case that did not.
async fn assert_all_refused(cases: Vec<Case>) {
    let app = app_with_valid_base().await;
    let source = app.register_source().await;
    let base = base_body(&source);
    let mut failures = Vec::new();
    for case in &cases {
        let body = edited(&base, &case.edits);
        let before = app.row_counts().await;
        let reply = app.post("/v3/tasks", &body).await;
        if let Err(problem) = reply.check_invalid(&case.path) {
            failures.push(format!("[{}] {problem}", case.name));
        }
        let after = app.row_counts().await;
        if before != after {
            failures.push(format!("[{}] rows changed: before {before:?}, after {after:?}", case.name));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

/// Every case (path ignored) must be accepted: 200 with an id that shows. Each case gets a
/// fresh source, since a source takes one task.
async fn assert_all_accepted(cases: Vec<Case>) {
    let app = spawn_app().await;
    let mut failures = Vec::new();
    for case in &cases {
        let source = app.register_source().await;
        let body = edited(&base_body(&source), &case.edits);
        let reply = app.post("/v3/tasks", &body).await;
        if reply.status != 200 {
            failures.push(format!("[{}] expected 200, got {} {}", case.name, reply.status, reply.body));
            continue;
        }
        let id = reply.body["id"].as_str().unwrap_or_default();
        let shown = app.get(&format!("/v3/tasks/{id}")).await;
        if shown.status != 200 {
            failures.push(format!("[{}] created, but show answered {} {}", case.name, shown.status, shown.body));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

// ---- Top-level fields ----

#[tokio::test]
async fn top_level_fields_are_checked() {
    let mut cases = Vec::new();
    for field in
        ["name", "type", "source_server", "target_server", "region_name", "region_id", "project_name", "project_id"]
    {
        cases.push(case(format!("{field} absent"), field).remove(format!("/{field}")));
        cases.push(case(format!("{field} null"), field).set(format!("/{field}"), Value::Null));
    }
    cases.push(case("source_server.id absent", "source_server.id").remove("/source_server/id"));
    cases.push(case("source_server.id null", "source_server.id").set("/source_server/id", Value::Null));
    cases.push(case("source_server.id 256 chars", "source_server.id").set("/source_server/id", chars(256)));

    for (label, name) in [
        ("empty", json!("")),
        ("65 chars", chars(65)),
        ("a space", json!("with space")),
        ("a dot", json!("dot.ted")),
        ("non-ASCII", json!("ünïcode")),
        ("a slash", json!("a/b")),
        ("a tab", json!("a\tb")),
    ] {
        cases.push(case(format!("name with {label}"), "name").set("/name", name));
    }
    for value in ["MIGRATE_X", "migrate_file", ""] {
        cases.push(case(format!("type {value:?}"), "type").set("/type", json!(value)));
    }
    for value in ["SOLARIS", "linux", ""] {
        cases.push(case(format!("os_type {value:?}"), "os_type").set("/os_type", json!(value)));
    }
    for value in [-1, 65536] {
        cases.push(case(format!("priority {value}"), "priority").set("/priority", json!(value)));
    }
    for value in [-1, 1001] {
        cases.push(case(format!("speed_limit {value}"), "speed_limit").set("/speed_limit", json!(value)));
    }
    for value in [9.9, 100.1, 0.0, -1.0] {
        cases.push(
            case(format!("over_speed_threshold {value}"), "over_speed_threshold")
                .set("/over_speed_threshold", json!(value)),
        );
    }
    for (field, max) in [
        ("migration_ip", 255),
        ("region_name", 255),
        ("region_id", 255),
        ("project_name", 255),
        ("project_id", 255),
        ("vm_template_id", 100),
        ("clonevm_template_id", 100),
    ] {
        cases.push(case(format!("{field} {} chars", max + 1), field).set(format!("/{field}"), chars(max + 1)));
    }
    // migration_ip: IPv4 unless use_ipv6 is true, then IPv6.
    for (label, use_ipv6, ip) in [
        ("IPv6 with use_ipv6 absent", None, "fe80::1"),
        ("IPv6 with use_ipv6 false", Some(false), "2001:db8::1"),
        ("IPv4 with use_ipv6 true", Some(true), "192.168.0.1"),
        ("a host name", None, "not-an-ip"),
        ("an out-of-range IPv4", None, "256.1.1.1"),
        ("an IPv4 CIDR", None, "192.168.0.1/24"),
        ("a truncated IPv4", None, "192.168.0"),
        ("a host name with use_ipv6 true", Some(true), "not-an-ip"),
    ] {
        let mut c = case(format!("migration_ip: {label}"), "migration_ip").set("/migration_ip", json!(ip));
        if let Some(flag) = use_ipv6 {
            c = c.set("/use_ipv6", json!(flag));
        }
        cases.push(c);
    }
    assert_all_refused(cases).await;
}

#[tokio::test]
async fn top_level_boundaries_are_accepted() {
    let mut cases = vec![
        case("name of 64 chars", "").set("/name", chars(64)),
        case("name of 1 char", "").set("/name", json!("a")),
        case("name of every allowed kind", "").set("/name", json!("Az09_-")),
        case("type MIGRATE_BLOCK", "").set("/type", json!("MIGRATE_BLOCK")),
        case("os_type WINDOWS", "").set("/os_type", json!("WINDOWS")),
        case("os_type absent", "").remove("/os_type"),
        case("priority 0", "").set("/priority", json!(0)),
        case("priority 65535", "").set("/priority", json!(65535)),
        case("speed_limit 0", "").set("/speed_limit", json!(0)),
        case("speed_limit 1000", "").set("/speed_limit", json!(1000)),
        case("over_speed_threshold 10", "").set("/over_speed_threshold", json!(10)),
        case("over_speed_threshold 100", "").set("/over_speed_threshold", json!(100.0)),
        case("over_speed_threshold 55.5", "").set("/over_speed_threshold", json!(55.5)),
        case("migration_ip absent", "").remove("/migration_ip"),
        case("migration_ip empty", "").set("/migration_ip", json!("")),
        case("IPv4 with use_ipv6 false", "").set("/use_ipv6", json!(false)).set("/migration_ip", json!("10.0.0.1")),
        case("IPv6 with use_ipv6 true", "").set("/use_ipv6", json!(true)).set("/migration_ip", json!("fe80::1")),
        case("empty region_name", "").set("/region_name", json!("")),
        case("vm_template_id 100 chars", "").set("/vm_template_id", chars(100)),
        case("clonevm_template_id 100 chars", "").set("/clonevm_template_id", chars(100)),
        case("region_name of 255 two-byte chars", "").set("/region_name", json!("é".repeat(255))),
        case("unknown fields are ignored", "")
            .set("/some_future_field", json!({"nested": [1, 2]}))
            .set("/source_server/unknown", json!(true))
            .set("/target_server/disks/0/unknown", json!("x")),
        case("every optional boolean set", "")
            .set("/auto_start", json!(false))
            .set("/use_public_ip", json!(false))
            .set("/syncing", json!(true))
            .set("/exist_server", json!(true))
            .set("/start_network_check", json!(true))
            .set("/is_need_consistency_check", json!(false))
            .set("/need_migration_test", json!(true))
            .set("/start_target_server", json!(false)),
    ];
    for field in ["region_name", "region_id", "project_name", "project_id"] {
        cases.push(case(format!("{field} 255 chars"), "").set(format!("/{field}"), chars(255)));
    }
    assert_all_accepted(cases).await;
}

// ---- target_server ----

#[tokio::test]
async fn target_server_fields_are_checked() {
    let one_disk = create_task_example("x")["target_server"]["disks"][0].clone();
    let mut cases = Vec::new();
    for field in ["name", "vm_id"] {
        let path = format!("target_server.{field}");
        let pointer = format!("/target_server/{field}");
        cases.push(case(format!("{path} absent"), &path).remove(&pointer));
        cases.push(case(format!("{path} null"), &path).set(&pointer, Value::Null));
        cases.push(case(format!("{path} 256 chars"), &path).set(&pointer, chars(256)));
    }
    cases.push(case("51 disks", "target_server.disks").set("/target_server/disks", json!(vec![one_disk.clone(); 51])));
    cases.push(
        case("51 volume groups", "target_server.volume_groups")
            .set("/target_server/volume_groups", json!(vec![volume_group(1); 51])),
    );
    cases.push(
        case("65536 Btrfs filesystems", "target_server.btrfs_list")
            .set("/target_server/btrfs_list", json!(vec![json!({}); 65536])),
    );
    assert_all_refused(cases).await;
}

#[tokio::test]
async fn target_server_boundaries_are_accepted() {
    let one_disk = create_task_example("x")["target_server"]["disks"][0].clone();
    let cases = vec![
        case("empty name and vm_id", "").set("/target_server/name", json!("")).set("/target_server/vm_id", json!("")),
        case("name and vm_id of 255 chars", "")
            .set("/target_server/name", chars(255))
            .set("/target_server/vm_id", chars(255)),
        case("50 disks", "").set("/target_server/disks", json!(vec![one_disk; 50])),
        case("no disks", "").set("/target_server/disks", json!([])),
        case("disks absent", "").remove("/target_server/disks"),
        case("50 volume groups", "").set("/target_server/volume_groups", json!(vec![volume_group(1); 50])),
        case("volume_groups absent", "").remove("/target_server/volume_groups"),
        case("btrfs_list absent", "").remove("/target_server/btrfs_list"),
        case("empty elements (every nested field is optional on create)", "")
            .set("/target_server/disks", json!([{"physical_volumes": [{}]}]))
            .set("/target_server/volume_groups", json!([{"logical_volumes": [{}]}]))
            .set("/target_server/btrfs_list", json!([{"subvolumn": [{}]}])),
    ];
    assert_all_accepted(cases).await;
}

// ---- Disks and physical volumes ----

const DISK0: &str = "/target_server/disks/0";
const DISK1: &str = "/target_server/disks/1";

#[tokio::test]
async fn disks_and_physical_volumes_are_checked() {
    let mut cases = Vec::new();
    for value in ["SWAP", "boot", "", "VOLUME_GROUP"] {
        cases.push(
            case(format!("disk device_use {value:?}"), "target_server.disks[0].device_use")
                .set(format!("{DISK0}/device_use"), json!(value)),
        );
    }
    for field in ["name", "disk_id"] {
        cases.push(
            case(format!("disk {field} 256 chars"), format!("target_server.disks[1].{field}"))
                .set(format!("{DISK1}/{field}"), chars(256)),
        );
    }
    for field in ["size", "used_size"] {
        for (disk, pointer) in [(0, DISK0), (1, DISK1)] {
            cases.push(
                case(format!("disks[{disk}].{field} -1"), format!("target_server.disks[{disk}].{field}"))
                    .set(format!("{pointer}/{field}"), json!(-1)),
            );
        }
    }
    cases.push(
        case("51 physical volumes", "target_server.disks[1].physical_volumes")
            .set(format!("{DISK1}/physical_volumes"), json!(vec![physical_volume(1); 51])),
    );
    for field in ["size", "used_size", "index", "inode_size"] {
        cases.push(
            case(format!("pv {field} -1"), format!("target_server.disks[1].physical_volumes[0].{field}"))
                .set(format!("{DISK1}/physical_volumes/0/{field}"), json!(-1)),
        );
    }
    cases.push(
        case("second pv size -1", "target_server.disks[1].physical_volumes[1].size")
            .set(format!("{DISK1}/physical_volumes/1/size"), json!(-1)),
    );
    cases.push(
        case("pv size i64::MIN", "target_server.disks[0].physical_volumes[0].size")
            .set(format!("{DISK0}/physical_volumes/0/size"), json!(i64::MIN)),
    );
    for field in ["device_use", "file_system", "mount_point", "name", "uuid"] {
        cases.push(
            case(format!("pv {field} 256 chars"), format!("target_server.disks[1].physical_volumes[1].{field}"))
                .set(format!("{DISK1}/physical_volumes/1/{field}"), chars(256)),
        );
    }
    assert_all_refused(cases).await;
}

#[tokio::test]
async fn disk_and_physical_volume_boundaries_are_accepted() {
    let mut cases = Vec::new();
    for value in ["BOOT", "OS", "NORMAL"] {
        cases.push(case(format!("device_use {value}"), "").set(format!("{DISK1}/device_use"), json!(value)));
    }
    cases.push(case("device_use absent", "").remove(format!("{DISK1}/device_use")));
    cases.push(
        case("50 physical volumes", "").set(format!("{DISK1}/physical_volumes"), json!(vec![physical_volume(1); 50])),
    );
    cases.push(
        case("sizes 0 and i64::MAX", "")
            .set(format!("{DISK1}/size"), json!(i64::MAX))
            .set(format!("{DISK1}/used_size"), json!(0))
            .set(format!("{DISK1}/physical_volumes/0/size"), json!(i64::MAX))
            .set(format!("{DISK1}/physical_volumes/0/used_size"), json!(0))
            .set(format!("{DISK1}/physical_volumes/0/inode_size"), json!(i64::MAX))
            .set(format!("{DISK1}/physical_volumes/0/index"), json!(i32::MAX)),
    );
    let mut strings = case("every string of 255 chars", "");
    for field in ["name", "disk_id"] {
        strings = strings.set(format!("{DISK1}/{field}"), chars(255));
    }
    for field in ["device_use", "file_system", "mount_point", "name", "uuid"] {
        strings = strings.set(format!("{DISK1}/physical_volumes/0/{field}"), chars(255));
    }
    cases.push(strings);
    cases.push(
        case("pv device_use is free text on create", "")
            .set(format!("{DISK1}/physical_volumes/0/device_use"), json!("anything")),
    );
    assert_all_accepted(cases).await;
}

// ---- Volume groups and logical volumes ----

const VG0: &str = "/target_server/volume_groups/0";
const VG1: &str = "/target_server/volume_groups/1";

#[tokio::test]
async fn volume_groups_and_logical_volumes_are_checked() {
    let mut cases = Vec::new();
    for field in ["name", "components"] {
        cases.push(
            case(format!("vg {field} 256 chars"), format!("target_server.volume_groups[1].{field}"))
                .set(format!("{VG1}/{field}"), chars(256)),
        );
    }
    for field in ["size", "free_size"] {
        cases.push(
            case(format!("vg {field} -1"), format!("target_server.volume_groups[0].{field}"))
                .set(format!("{VG0}/{field}"), json!(-1)),
        );
    }
    cases.push(
        case("51 logical volumes", "target_server.volume_groups[1].logical_volumes")
            .set(format!("{VG1}/logical_volumes"), json!(vec![logical_volume(1); 51])),
    );
    let lv = "target_server.volume_groups[1].logical_volumes[1]";
    let lv_pointer = format!("{VG1}/logical_volumes/1");
    for field in ["block_count", "block_size", "inode_size", "inode_nums", "size", "used_size", "free_size"] {
        cases.push(
            case(format!("lv {field} -1"), format!("{lv}.{field}")).set(format!("{lv_pointer}/{field}"), json!(-1)),
        );
    }
    cases.push(
        case("lv block_size 1048577", format!("{lv}.block_size"))
            .set(format!("{lv_pointer}/block_size"), json!(1_048_577)),
    );
    for (field, max) in [("file_system", 255), ("device_use", 255), ("mount_point", 256), ("name", 1024)] {
        cases.push(
            case(format!("lv {field} {} chars", max + 1), format!("{lv}.{field}"))
                .set(format!("{lv_pointer}/{field}"), chars(max + 1)),
        );
    }
    cases.push(
        case("first lv of first group", "target_server.volume_groups[0].logical_volumes[0].size")
            .set(format!("{VG0}/logical_volumes/0/size"), json!(-5)),
    );
    assert_all_refused(cases).await;
}

#[tokio::test]
async fn volume_group_and_logical_volume_boundaries_are_accepted() {
    let lv_pointer = format!("{VG1}/logical_volumes/1");
    let cases = vec![
        case("50 logical volumes", "").set(format!("{VG1}/logical_volumes"), json!(vec![logical_volume(1); 50])),
        case("block_size 1048576 and 0", "")
            .set(format!("{lv_pointer}/block_size"), json!(1_048_576))
            .set(format!("{VG1}/logical_volumes/0/block_size"), json!(0)),
        case("lv maximum lengths", "")
            .set(format!("{lv_pointer}/file_system"), chars(255))
            .set(format!("{lv_pointer}/device_use"), chars(255))
            .set(format!("{lv_pointer}/mount_point"), chars(256))
            .set(format!("{lv_pointer}/name"), chars(1024)),
        case("lv maximum numbers", "")
            .set(format!("{lv_pointer}/block_count"), json!(i32::MAX))
            .set(format!("{lv_pointer}/inode_size"), json!(i32::MAX))
            .set(format!("{lv_pointer}/inode_nums"), json!(i64::MAX))
            .set(format!("{lv_pointer}/size"), json!(i64::MAX))
            .set(format!("{lv_pointer}/used_size"), json!(i64::MAX))
            .set(format!("{lv_pointer}/free_size"), json!(i64::MAX)),
        case("vg maximum values", "")
            .set(format!("{VG1}/name"), chars(255))
            .set(format!("{VG1}/components"), chars(255))
            .set(format!("{VG1}/size"), json!(i64::MAX))
            .set(format!("{VG1}/free_size"), json!(0)),
        case("a group without logical volumes", "").remove(format!("{VG1}/logical_volumes")),
    ];
    assert_all_accepted(cases).await;
}

// ---- Btrfs filesystems and subvolumes ----

const BTRFS_TEXTS: &[&str] = &[
    "name",
    "label",
    "uuid",
    "device",
    "data_profile",
    "system_profile",
    "metadata_profile",
    "global_reserve1",
    "default_subvolid",
    "default_subvol_name",
    "default_subvol_mountpath",
];
const SUBVOLUME_TEXTS: &[&str] = &["uuid", "is_snapshot", "subvol_id", "parent_id", "subvol_name", "subvol_mount_path"];

#[tokio::test]
async fn btrfs_filesystems_and_subvolumes_are_checked() {
    let mut cases = Vec::new();
    for field in BTRFS_TEXTS {
        cases.push(
            case(format!("btrfs {field} 256 chars"), format!("target_server.btrfs_list[1].{field}"))
                .set(format!("/target_server/btrfs_list/1/{field}"), chars(256)),
        );
    }
    for field in ["size", "nodesize", "sectorsize", "g_vol_used_size"] {
        cases.push(
            case(format!("btrfs {field} -1"), format!("target_server.btrfs_list[0].{field}"))
                .set(format!("/target_server/btrfs_list/0/{field}"), json!(-1)),
        );
    }
    for field in SUBVOLUME_TEXTS {
        cases.push(
            case(format!("subvolume {field} 256 chars"), format!("target_server.btrfs_list[1].subvolumn[1].{field}"))
                .set(format!("/target_server/btrfs_list/1/subvolumn/1/{field}"), chars(256)),
        );
    }
    cases.push(
        case("65536 subvolumes", "target_server.btrfs_list[0].subvolumn")
            .set("/target_server/btrfs_list/0/subvolumn", json!(vec![json!({}); 65536])),
    );
    assert_all_refused(cases).await;
}

#[tokio::test]
async fn btrfs_boundaries_are_accepted() {
    let mut strings = case("every string of 255 chars", "");
    for field in BTRFS_TEXTS {
        strings = strings.set(format!("/target_server/btrfs_list/1/{field}"), chars(255));
    }
    for field in SUBVOLUME_TEXTS {
        strings = strings.set(format!("/target_server/btrfs_list/1/subvolumn/1/{field}"), chars(255));
    }
    let cases = vec![
        strings,
        case("maximum numbers", "")
            .set("/target_server/btrfs_list/0/size", json!(i64::MAX))
            .set("/target_server/btrfs_list/0/nodesize", json!(i64::MAX))
            .set("/target_server/btrfs_list/0/sectorsize", json!(i32::MAX))
            .set("/target_server/btrfs_list/0/g_vol_used_size", json!(0)),
        case("a filesystem without subvolumes", "").set("/target_server/btrfs_list/0/subvolumn", json!([])),
    ];
    assert_all_accepted(cases).await;
}

// ---- Wrong JSON types ----

#[tokio::test]
async fn values_of_the_wrong_json_type_name_their_path() {
    let cases = vec![
        case("name: 5", "name").set("/name", json!(5)),
        case("name: true", "name").set("/name", json!(true)),
        case("type: 1", "type").set("/type", json!(1)),
        case("priority: \"1\"", "priority").set("/priority", json!("1")),
        case("priority: 1.5", "priority").set("/priority", json!(1.5)),
        case("priority beyond i32", "priority").set("/priority", json!(2_147_483_648i64)),
        case("priority below i32", "priority").set("/priority", json!(-2_147_483_649i64)),
        case("speed_limit: true", "speed_limit").set("/speed_limit", json!(true)),
        case("over_speed_threshold: \"10\"", "over_speed_threshold").set("/over_speed_threshold", json!("10")),
        case("start_target_server: \"true\"", "start_target_server").set("/start_target_server", json!("true")),
        case("start_target_server: 1", "start_target_server").set("/start_target_server", json!(1)),
        case("use_ipv6: \"false\"", "use_ipv6").set("/use_ipv6", json!("false")),
        case("migration_ip: 5", "migration_ip").set("/migration_ip", json!(5)),
        case("source_server: \"abc\"", "source_server").set("/source_server", json!("abc")),
        case("source_server.id: 5", "source_server.id").set("/source_server/id", json!(5)),
        case("target_server: []", "target_server").set("/target_server", json!([])),
        case("disks: {}", "target_server.disks").set("/target_server/disks", json!({})),
        case("disks[0]: \"disk\"", "target_server.disks[0]").set(DISK0, json!("disk")),
        case("disks[0].size: \"big\"", "target_server.disks[0].size").set(format!("{DISK0}/size"), json!("big")),
        case("disks[1].size beyond i64", "target_server.disks[1].size")
            .set(format!("{DISK1}/size"), serde_json::from_str::<Value>("9223372036854775808").unwrap()),
        case("disks[1].used_size: 1.5", "target_server.disks[1].used_size")
            .set(format!("{DISK1}/used_size"), json!(1.5)),
        case("pv index: \"0\"", "target_server.disks[0].physical_volumes[0].index")
            .set(format!("{DISK0}/physical_volumes/0/index"), json!("0")),
        case("pv index beyond i32", "target_server.disks[1].physical_volumes[1].index")
            .set(format!("{DISK1}/physical_volumes/1/index"), json!(2_147_483_648i64)),
        case("physical_volumes: \"x\"", "target_server.disks[1].physical_volumes")
            .set(format!("{DISK1}/physical_volumes"), json!("x")),
        case("volume_groups: 1", "target_server.volume_groups").set("/target_server/volume_groups", json!(1)),
        case("lv block_count beyond i32", "target_server.volume_groups[1].logical_volumes[0].block_count")
            .set(format!("{VG1}/logical_volumes/0/block_count"), json!(2_147_483_648i64)),
        case("lv inode_size beyond i32", "target_server.volume_groups[0].logical_volumes[1].inode_size")
            .set(format!("{VG0}/logical_volumes/1/inode_size"), json!(2_147_483_648i64)),
        case("lv name: []", "target_server.volume_groups[0].logical_volumes[0].name")
            .set(format!("{VG0}/logical_volumes/0/name"), json!([])),
        case("btrfs sectorsize beyond i32", "target_server.btrfs_list[1].sectorsize")
            .set("/target_server/btrfs_list/1/sectorsize", json!(2_147_483_648i64)),
        case("btrfs_list: \"x\"", "target_server.btrfs_list").set("/target_server/btrfs_list", json!("x")),
        case("subvolume uuid: 5", "target_server.btrfs_list[0].subvolumn[1].uuid")
            .set("/target_server/btrfs_list/0/subvolumn/1/uuid", json!(5)),
    ];
    assert_all_refused(cases).await;
}

// ---- The body as a whole ----

#[tokio::test]
async fn bodies_that_are_not_json_objects_are_refused() {
    let app = spawn_app().await;
    app.register_source().await;
    let before = app.row_counts().await;
    for body in ["[]", "\"x\"", "null", "{", "5", "true", "", "{\"name\": \"a\",}"] {
        let reply = app.post_raw("/v3/tasks", Some("application/json"), body.to_string()).await;
        assert_eq!(reply.status, 400, "body {body:?}: {}", reply.body);
        assert_eq!(reply.body["error_code"], "SMS.8002", "body {body:?}: {}", reply.body);
        reply.check_error_shape().unwrap_or_else(|problem| panic!("body {body:?}: {problem}"));
    }
    assert_eq!(app.row_counts().await, before);
}

#[tokio::test]
async fn only_json_content_is_accepted() {
    let app = spawn_app().await;
    let source = app.register_source().await;
    let body = serde_json::to_string(&create_task_example(&source)).unwrap();
    let before = app.row_counts().await;
    for content_type in [Some("text/plain"), None, Some("application/x-www-form-urlencoded")] {
        let reply = app.post_raw("/v3/tasks", content_type, body.clone()).await;
        assert_eq!(reply.status, 415, "content type {content_type:?}: {}", reply.body);
        reply.assert_error(415, "SMS.2006");
    }
    assert_eq!(app.row_counts().await, before);
    let reply = app.post_raw("/v3/tasks", Some("application/json; charset=utf-8"), body).await;
    reply.assert_ok();
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused() {
    let app = spawn_app().await;
    let source = app.register_source().await;
    let mut body = create_task_example(&source);
    body["padding"] = json!("x".repeat(5 * 1000 * 1000));
    let before = app.row_counts().await;
    let reply = app.post("/v3/tasks", &body).await;
    reply.assert_error(413, "APIGW.0201");
    assert_eq!(app.row_counts().await, before);
}

#[tokio::test]
async fn unknown_fields_are_ignored() {
    let app = spawn_app().await;
    let source = app.register_source().await;
    let mut body = create_task_example(&source);
    body["enterprise_project_id_v2"] = json!("x");
    body["target_server"]["flavor_hint"] = json!({"a": 1});
    body["target_server"]["disks"][0]["physical_volumes"][0]["future"] = json!([1, 2, 3]);
    let id = app.create_task(&body).await;
    app.get(&format!("/v3/tasks/{id}")).await.assert_ok();
}

/// PostgreSQL text cannot hold U+0000, so a string with one cannot be stored: it must be refused
/// as a value (400 naming its path), never fail as a 500 after validation.
#[tokio::test]
async fn strings_containing_nul_are_refused_as_invalid() {
    let nul = json!("a\u{0}b");
    let cases = vec![
        case("region_name with NUL", "region_name").set("/region_name", nul.clone()),
        case("target_server.name with NUL", "target_server.name").set("/target_server/name", nul.clone()),
        case("pv name with NUL", "target_server.disks[1].physical_volumes[0].name")
            .set(format!("{DISK1}/physical_volumes/0/name"), nul.clone()),
        case("subvolume name with NUL", "target_server.btrfs_list[0].subvolumn[0].subvol_name")
            .set("/target_server/btrfs_list/0/subvolumn/0/subvol_name", nul.clone()),
    ];
    assert_all_refused(cases).await;

    let app = spawn_app().await;
    let mut failures = Vec::new();
    for (label, pointer, path) in [("source name", "name", "name"), ("source hostname", "hostname", "hostname")] {
        let mut body = source_body("nul-check");
        body[pointer] = nul.clone();
        let before = app.row_counts().await;
        let reply = app.post("/v3/sources", &body).await;
        if let Err(problem) = reply.check_invalid(path) {
            failures.push(format!("[{label}] {problem}"));
        }
        if app.row_counts().await != before {
            failures.push(format!("[{label}] rows changed"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
