use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn page_003_example_round_trips_through_show() {
    let app = spawn_app().await;
    let source = app.register_source().await;
    let body = create_task_example(&source);
    let id = app.create_task(&body).await;

    let shown = app.get(&format!("/v3/tasks/{id}")).await;
    let task = shown.assert_ok();
    assert_eq!(task["id"], json!(id));
    for field in [
        "name",
        "type",
        "os_type",
        "start_target_server",
        "migration_ip",
        "region_name",
        "region_id",
        "project_name",
        "project_id",
    ] {
        assert_eq!(task[field], body[field], "field {field}");
    }
    assert_eq!(task["state"], "READY");
    assert_eq!(task["priority"], 1);
    assert_eq!(task["speed_limit"], 0);
    assert_eq!(task["source_server"]["id"], json!(source));
    let target = &task["target_server"];
    assert_eq!(target["vm_id"], body["target_server"]["vm_id"]);
    assert_eq!(target["name"], body["target_server"]["name"]);
    let disk = &target["disks"][0];
    for field in ["name", "disk_id", "size", "used_size", "device_use"] {
        assert_eq!(disk[field], body["target_server"]["disks"][0][field], "disk field {field}");
    }
    let volume = &disk["physical_volumes"][0];
    for field in ["uuid", "index", "name", "device_use", "file_system", "mount_point", "size", "used_size"] {
        assert_eq!(
            volume[field], body["target_server"]["disks"][0]["physical_volumes"][0][field],
            "volume field {field}"
        );
    }
    assert!(disk["id"].as_i64().unwrap() > 0);
    assert_eq!(target["volume_groups"], json!([]));
    assert_eq!(target["btrfs_list"], json!([]));
    assert_eq!(task["sub_tasks"], json!([]));
    assert!(shown.headers.contains_key("x-request-id"));
}
