//! A replay of the Terraform provider for this API (`huaweicloud/terraform-provider-huaweicloud`
//! at a0345b8, `huaweicloud/services/sms`): the requests its resources' Create, Read, Update
//! and Delete send, in their order, with the bodies they build (`lifecycle-facts.md` §10). Each
//! answer is decoded into the types the provider decodes it into — golangsdk's Go structs for
//! tasks and templates, where a string must stay a string and a number a number (`null` is
//! the zero value), and the raw JSON paths the other resources read.
//!
//! Each step names the provider function it mirrors.

use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::{json, Value};

use crate::helpers::*;

/// golangsdk `tasks.MigrateTask` (`openstack/sms/v3/tasks/results.go`), the fields it has.
#[allow(dead_code)]
#[derive(Debug, Deserialize)]
struct MigrateTask {
    name: Option<String>,
    #[serde(rename = "type")]
    task_type: Option<String>,
    os_type: Option<String>,
    id: Option<String>,
    priority: Option<i64>,
    start_target_server: Option<bool>,
    enterprise_project_id: Option<String>,
    migration_ip: Option<String>,
    region_name: Option<String>,
    region_id: Option<String>,
    project_name: Option<String>,
    project_id: Option<String>,
    vm_template_id: Option<String>,
    source_server: Option<GoSourceServer>,
    target_server: Option<TaskTargetServer>,
    state: Option<String>,
    connected: Option<bool>,
    migrate_speed: Option<f32>,
    compress_rate: Option<f32>,
    error_json: Option<String>,
    create_date: Option<i64>,
    start_date: Option<i64>,
    finish_date: Option<i64>,
    estimate_complete_time: Option<i64>,
    remain_seconds: Option<i64>,
    total_time: Option<i64>,
    target_snapshot_id: Option<String>,
    clone_server: Option<CloneServer>,
    sub_tasks: Option<Vec<SubTask>>,
}

#[allow(dead_code)]
#[derive(Debug, Deserialize)]
struct GoSourceServer {
    id: Option<String>,
    ip: Option<String>,
    name: Option<String>,
    os_type: Option<String>,
    os_version: Option<String>,
}

#[allow(dead_code)]
#[derive(Debug, Deserialize)]
struct TaskTargetServer {
    id: Option<String>,
    vm_id: Option<String>,
    name: Option<String>,
    ip: Option<String>,
    os_type: Option<String>,
    os_version: Option<String>,
    system_dir: Option<String>,
    disks: Option<Vec<TargetDisk>>,
    volume_groups: Option<Vec<VolumeGroups>>,
    btrfs_list: Option<Vec<String>>,
    image_disk_id: Option<String>,
    cutovered_snapshot_ids: Option<String>,
}

#[allow(dead_code)]
#[derive(Debug, Deserialize)]
struct TargetDisk {
    device_use: Option<String>,
    disk_id: Option<String>,
    name: Option<String>,
    physical_volumes: Option<Vec<TargetPhysicalVolumes>>,
    size: Option<i64>,
    used_size: Option<i64>,
}

#[allow(dead_code)]
#[derive(Debug, Deserialize)]
struct TargetPhysicalVolumes {
    device_use: Option<String>,
    file_system: Option<String>,
    index: Option<i64>,
    mount_point: Option<String>,
    name: Option<String>,
    size: Option<i64>,
    used_size: Option<i64>,
    uuid: Option<String>,
}

#[allow(dead_code)]
#[derive(Debug, Deserialize)]
struct VolumeGroups {
    components: Option<String>,
    free_size: Option<i64>,
    logical_volumes: Option<Vec<LogicalVolumes>>,
    name: Option<String>,
    size: Option<i64>,
}

#[allow(dead_code)]
#[derive(Debug, Deserialize)]
struct LogicalVolumes {
    block_count: Option<i64>,
    block_size: Option<i64>,
    file_system: Option<String>,
    inode_size: Option<i64>,
    mount_point: Option<String>,
    name: Option<String>,
    size: Option<i64>,
    used_size: Option<i64>,
    free_size: Option<i64>,
}

#[allow(dead_code)]
#[derive(Debug, Deserialize)]
struct CloneServer {
    vm_id: Option<String>,
    name: Option<String>,
    clone_error: Option<String>,
    clone_state: Option<String>,
    error_msg: Option<String>,
}

#[allow(dead_code)]
#[derive(Debug, Deserialize)]
struct SubTask {
    name: Option<String>,
    progress: Option<i64>,
    start_date: Option<i64>,
    end_date: Option<i64>,
    migrate_speed: Option<f32>,
    user_op: Option<String>,
    process_trace: Option<String>,
}

/// golangsdk `templates.TemplateResponse` (`openstack/sms/v3/templates/results.go`).
#[allow(dead_code)]
#[derive(Debug, Deserialize)]
struct TemplateResponse {
    id: Option<String>,
    name: Option<String>,
    is_template: Option<String>,
    region: Option<String>,
    projectid: Option<String>,
    target_server_name: Option<String>,
    availability_zone: Option<String>,
    flavor: Option<String>,
    vpc: Option<VpcObject>,
    nics: Option<Vec<NicObject>>,
    security_groups: Option<Vec<SgObject>>,
    publicip: Option<EipObject>,
    disk: Option<Vec<DiskObject>>,
    volumetype: Option<String>,
    data_volume_type: Option<String>,
    target_password: Option<String>,
}

#[allow(dead_code)]
#[derive(Debug, Deserialize)]
struct VpcObject {
    id: Option<String>,
    name: Option<String>,
    cidr: Option<String>,
}

#[allow(dead_code)]
#[derive(Debug, Deserialize)]
struct NicObject {
    id: Option<String>,
    name: Option<String>,
    cidr: Option<String>,
    ip: Option<String>,
}

#[allow(dead_code)]
#[derive(Debug, Deserialize)]
struct SgObject {
    id: Option<String>,
    name: Option<String>,
}

#[allow(dead_code)]
#[derive(Debug, Deserialize)]
struct EipObject {
    #[serde(rename = "type")]
    eip_type: Option<String>,
    bandwidth_size: Option<i64>,
}

#[allow(dead_code)]
#[derive(Debug, Deserialize)]
struct DiskObject {
    index: Option<i64>,
    name: Option<String>,
    disktype: Option<String>,
    size: Option<i64>,
}

/// Decodes `value` as Go's `encoding/json` would into `T`, or fails naming the mismatch.
#[track_caller]
fn decode<T: serde::de::DeserializeOwned>(what: &str, value: &Value) -> T {
    serde_path_to_error::deserialize(value.clone())
        .unwrap_or_else(|e| panic!("the provider cannot decode {what}: {} at {}: {value}", e.inner(), e.path()))
}

/// `utils.PathSearch(path, body, …)` for a string the provider sets into a `TypeString`.
#[track_caller]
fn string_at<'a>(body: &'a Value, path: &str) -> &'a str {
    let value = body.pointer(path).unwrap_or_else(|| panic!("no {path} in {body}"));
    value.as_str().unwrap_or_else(|| panic!("{path} must be a string: {value}"))
}

#[track_caller]
fn bool_at(body: &Value, path: &str) -> bool {
    let value = body.pointer(path).unwrap_or_else(|| panic!("no {path} in {body}"));
    value.as_bool().unwrap_or_else(|| panic!("{path} must be a boolean: {value}"))
}

async fn delete(app: &TestApp, path: &str, body: Option<Value>) -> Reply {
    let mut request = app.client.delete(app.url(path)).header("X-Auth-Token", TOKEN_A);
    if let Some(body) = body {
        request = request.json(&body);
    }
    app.send(request).await
}

/// The template body `buildServerTemplateBodyParams` sends.
fn template_body(name: &str, flavor: &str) -> Value {
    json!({ "template": {
        "name": name, "is_template": true, "region": "cn-north-4", "projectid": "0123456789abcdef",
        "availability_zone": "cn-north-4a", "target_server_name": name, "flavor": flavor, "volumetype": "SAS",
        "vpc": { "id": "autoCreate", "name": "autoCreate" },
        "nics": [{ "id": "autoCreate", "name": "autoCreate", "cidr": "192.168.0.0/24" }],
        "security_groups": [{ "id": "autoCreate", "name": "autoCreate" }],
        "publicip": { "type": "5_bgp", "bandwidth_size": 5 }
    }})
}

#[tokio::test]
async fn the_terraform_provider_creates_reads_updates_and_destroys_every_resource() {
    let app = spawn_app().await;

    // --- huaweicloud_sms_server_template -----------------------------------------------
    // resourceServerTemplateCreate: POST /v3/vm/templates, `id` from CreateTemplateResp.
    let created = app.post("/v3/vm/templates", &template_body("tf-template", "s6.large.2")).await;
    let template_id = string_at(created.assert_ok(), "/id").to_string();
    // resourceServerTemplateRead: templates.Get.
    let shown = app.get(&format!("/v3/vm/templates/{template_id}")).await;
    let template: TemplateResponse = decode("templates.Get", &shown.assert_ok()["template"]);
    assert_eq!(template.is_template.as_deref(), Some("true"));
    assert_eq!(template.target_server_name.as_deref(), Some("tf-template"));
    assert_eq!(template.publicip.and_then(|p| p.bandwidth_size), Some(5));
    assert_eq!(template.nics.map(|n| n.len()), Some(1));
    // resourceServerTemplateUpdate: PUT the same body, then Read.
    app.put(&format!("/v3/vm/templates/{template_id}"), &template_body("tf-template", "s6.xlarge.2")).await.assert_ok();
    let shown = app.get(&format!("/v3/vm/templates/{template_id}")).await;
    let template: TemplateResponse = decode("templates.Get", &shown.assert_ok()["template"]);
    assert_eq!(template.flavor.as_deref(), Some("s6.xlarge.2"));

    // --- huaweicloud_sms_migration_project ---------------------------------------------
    // resourceMigrationProjectCreate: POST with description and speed_limit even when empty.
    let project = json!({ "name": "tf-project", "region": "cn-north-4", "type": "MIGRATE_FILE", "description": "",
        "isdefault": false, "start_target_server": true, "speed_limit": 0, "use_public_ip": true,
        "exist_server": false, "syncing": false, "start_network_check": false });
    let created = app.post("/v3/migprojects", &project).await;
    let project_id = string_at(created.assert_ok(), "/id").to_string();
    // resourceMigrationProjectRead.
    let shown = app.get(&format!("/v3/migprojects/{project_id}")).await.assert_ok().clone();
    assert_eq!(string_at(&shown, "/name"), "tf-project");
    assert!(!bool_at(&shown, "/isdefault"));
    // resourceMigrationProjectUpdate: PUT the changed fields, then Read.
    let mut changed = project.clone();
    changed["description"] = json!("managed by terraform");
    app.put(&format!("/v3/migprojects/{project_id}"), &changed).await.assert_ok();
    let shown = app.get(&format!("/v3/migprojects/{project_id}")).await.assert_ok().clone();
    assert_eq!(string_at(&shown, "/description"), "managed by terraform");
    // huaweicloud_sms_migration_project_default: PUT …/default `{}` on the domain's default.
    let listed = app.get("/v3/migprojects").await.assert_ok().clone();
    let default_project = listed["migprojects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["isdefault"] == true)
        .map(|p| string_at(p, "/id").to_string())
        .expect("a default project");
    app.put(&format!("/v3/migprojects/{default_project}/default"), &json!({})).await.assert_ok();

    // --- huaweicloud_sms_source_server ---------------------------------------------------
    // resourceSourceServerCreate: POST /v3/sources, PUT migprojectid, PUT changestate, Read.
    let mut source_body = source_body("tf-source");
    source_body["disks"] = json!([{ "name": "/dev/vda", "device_use": "BOOT", "size": 42949672960_i64,
        "used_size": 5368709120_i64, "partition_style": "MBR",
        "physical_volumes": [{ "name": "/dev/vda1", "device_use": "OS", "file_system": "ext4", "index": 0,
                               "mount_point": "/", "size": 42948624384_i64, "used_size": 5368709120_i64,
                               "uuid": "0b4f7c1e" }] }]);
    let source_id = app.register_source_as(TOKEN_A, &source_body).await;
    app.put(&format!("/v3/sources/{source_id}"), &json!({ "migprojectid": project_id })).await.assert_ok();
    app.put(&format!("/v3/sources/{source_id}/changestate"), &json!({ "copystate": "waiting" })).await.assert_ok();
    // resourceSourceServerRead.
    let source = app.get(&format!("/v3/sources/{source_id}")).await.assert_ok().clone();
    assert_eq!(string_at(&source, "/name"), "tf-source");
    assert_eq!(string_at(&source, "/state"), "waiting");
    assert!(source["current_task"].is_null());

    // --- huaweicloud_sms_task (action = "start") -------------------------------------------
    // resourceMigrateTaskCreate: no target_server_disks, so GET the source and copy
    // init_target_server.disks; then POST /v3/tasks with every bool sent.
    let source = app.get(&format!("/v3/sources/{source_id}")).await.assert_ok().clone();
    let disks = source["init_target_server"]["disks"].clone();
    assert!(disks.as_array().is_some_and(|d| !d.is_empty()), "init_target_server.disks: {source}");
    let task = json!({ "name": "MigrationTask", "priority": 1, "type": "MIGRATE_FILE", "os_type": "LINUX",
        "region_name": "cn-north-4", "region_id": "cn-north-4", "project_name": "cn-north-4",
        "project_id": "0123456789abcdef", "source_server": { "id": source_id },
        "target_server": { "disks": disks }, "vm_template_id": template_id, "use_public_ip": true,
        "start_target_server": true, "syncing": false, "exist_server": false, "auto_start": false,
        "use_ipv6": false, "start_network_check": false, "is_need_consistency_check": false,
        "need_migration_test": false });
    let created = app.post("/v3/tasks", &task).await;
    let task_id = string_at(created.assert_ok(), "/id").to_string();
    let shown = app.get(&format!("/v3/tasks/{task_id}")).await;
    assert_eq!(decode::<MigrateTask>("tasks.Get", shown.assert_ok()).state.as_deref(), Some("READY"));
    // action == "start": POST …/action, then waitForTaskStateRunning (Pending READY, Target
    // RUNNING, Delay 5 s, PollInterval 10 s): the first check, after 5 s, must see RUNNING.
    app.post(&format!("/v3/tasks/{task_id}/action"), &json!({ "operation": "start" })).await.assert_ok();
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(5)).await;
    let shown = app.get(&format!("/v3/tasks/{task_id}")).await;
    let running: MigrateTask = decode("tasks.Get", shown.assert_ok());
    assert_eq!(
        running.state.as_deref(),
        Some("RUNNING"),
        "at the first check, {:?} after the start",
        started.elapsed()
    );
    assert!(running.sub_tasks.is_some_and(|s| !s.is_empty()));
    assert!(running.target_server.and_then(|t| t.btrfs_list).is_some());
    // speed_limit block: POST …/speed-limit; configurations: POST …/configuration-setting.
    let limits =
        json!({ "speed_limit": [{ "start": "00:00", "end": "08:00", "speed": 100, "over_speed_threshold": 50 }] });
    app.post(&format!("/v3/tasks/{task_id}/speed-limit"), &limits).await.assert_ok();
    let configurations = json!({ "configurations": [{ "config_key": "MIGRATE_EXCLUDE_DIR", "config_value": "/tmp",
                                                      "config_status": "testA" }] });
    app.post(&format!("/v3/tasks/{task_id}/configuration-setting"), &configurations).await.assert_ok();
    // resourceMigrateTaskRead: tasks.Get, the fields read from the raw body, then the
    // speed limits, the configurations and the passphrase.
    let raw = app.get(&format!("/v3/tasks/{task_id}")).await.assert_ok().clone();
    let read: MigrateTask = decode("tasks.Get", &raw);
    assert_eq!(read.vm_template_id.as_deref(), Some(template_id.as_str()));
    assert_eq!(read.source_server.and_then(|s| s.id).as_deref(), Some(source_id.as_str()));
    for field in ["/use_public_ip", "/syncing", "/use_ipv6"] {
        bool_at(&raw, field);
    }
    assert!(bool_at(&raw, "/use_public_ip"), "use_public_ip reads back true");
    let limits_read = app.get(&format!("/v3/tasks/{task_id}/speed-limit")).await.assert_ok().clone();
    assert_eq!(string_at(&limits_read, "/speed_limit/0/end"), "08:00");
    let configs = app.get(&format!("/v3/tasks/{task_id}/configuration-setting")).await.assert_ok().clone();
    assert_eq!(string_at(&configs, "/migrate_type"), "LINUX_MIGRATE_FILE");
    assert_eq!(string_at(&configs, "/configurations/0/config_status"), "testA");
    let passphrase = app.get(&format!("/v3/tasks/{task_id}/passphrase")).await.assert_ok().clone();
    assert!(!string_at(&passphrase, "/passphrase").is_empty());
    // resourceSourceServerRead again: the source now has a task; `current_task.clone_server`
    // must not be an object (PathSearch(…, []).([]interface{})).
    let source = app.get(&format!("/v3/sources/{source_id}")).await.assert_ok().clone();
    assert_eq!(string_at(&source, "/current_task/id"), task_id);
    assert!(!source["current_task"].get("clone_server").is_some_and(Value::is_object));

    // resourceMigrateTaskUpdate: action changed to "stop" (no wait), speed limits changed.
    app.post(&format!("/v3/tasks/{task_id}/action"), &json!({ "operation": "stop" })).await.assert_ok();
    let limits = json!({ "speed_limit": [{ "start": "00:00", "end": "12:00", "speed": 200 }] });
    app.post(&format!("/v3/tasks/{task_id}/speed-limit"), &limits).await.assert_ok();
    let read: MigrateTask = decode("tasks.Get", app.get(&format!("/v3/tasks/{task_id}")).await.assert_ok());
    assert_eq!(read.state.as_deref(), Some("ABORT"));

    // --- terraform destroy, dependents first -----------------------------------------------
    // resourceMigrateTaskDelete: DELETE /v3/tasks/{id} (stopped first, as the service requires).
    delete(&app, &format!("/v3/tasks/{task_id}"), None).await.assert_ok();
    app.get(&format!("/v3/tasks/{task_id}")).await.assert_error(404, "SMS.8005");
    // resourceSourceServerDelete.
    delete(&app, &format!("/v3/sources/{source_id}"), None).await.assert_ok();
    app.get(&format!("/v3/sources/{source_id}")).await.assert_error(404, "SMS.8006");
    // resourceMigrationProjectDelete: DELETE with the JSON body `["<id>"]`.
    delete(&app, &format!("/v3/migprojects/{project_id}"), Some(json!([project_id]))).await.assert_ok();
    app.get(&format!("/v3/migprojects/{project_id}")).await.assert_error(404, "SMS.8011");
    // resourceServerTemplateDelete.
    delete(&app, &format!("/v3/vm/templates/{template_id}"), None).await.assert_ok();
    app.get(&format!("/v3/vm/templates/{template_id}")).await.assert_error(404, "SMS.8010");
}
