//! `PUT /v3/tasks/{task_id}`: seed 004's example, partial semantics, id-preserving replacement
//! of nested collections, every rule of the page, tenancy and concurrent updates
//! (`api-decisions.md`, Update).

use std::collections::HashSet;

use futures_util::future::join_all;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::fixtures::*;
use crate::helpers::*;

/// Skips the ids of nested elements: the example's ids name nothing here and get new ones.
fn nested_ids_and_agent_version(path: &str) -> bool {
    path.ends_with(".id") || path == "source_server.agent_version"
}

/// The `name` of each element of an array, in order.
fn names_of(array: &Value) -> Vec<String> {
    array
        .as_array()
        .unwrap_or_else(|| panic!("an array: {array}"))
        .iter()
        .map(|e| e["name"].as_str().unwrap_or_else(|| panic!("a name: {e}")).to_string())
        .collect()
}

/// `GET /v3/sources/{id}`.
async fn show_source(app: &TestApp, id: &str) -> Value {
    app.get(&format!("/v3/sources/{id}")).await.assert_ok().clone()
}

/// The Btrfs filesystems of a shown target server, parsed from their JSON strings.
fn btrfs_of(target: &Value) -> Vec<Value> {
    target["btrfs_list"]
        .as_array()
        .unwrap_or_else(|| panic!("btrfs_list is an array: {target}"))
        .iter()
        .map(|fs| {
            let text = fs.as_str().unwrap_or_else(|| panic!("a Btrfs filesystem is a JSON string: {fs}"));
            serde_json::from_str(text).unwrap_or_else(|e| panic!("{text}: {e}"))
        })
        .collect()
}

/// The networks stored for a server (task show does not serve them): `(id, name)` in order.
async fn networks_of(app: &TestApp, server_id: &str) -> Vec<(i64, String)> {
    sqlx::query_as("SELECT id, name FROM networks WHERE server_id = $1 ORDER BY position")
        .bind(Uuid::parse_str(server_id).unwrap())
        .fetch_all(&mut db(app).await)
        .await
        .unwrap()
}

/// How many rows of `table` have one of `ids`.
async fn rows_with_ids(app: &TestApp, table: &str, ids: &[i64]) -> i64 {
    sqlx::query_scalar(&format!("SELECT count(*) FROM {table} WHERE id = ANY($1)"))
        .bind(ids)
        .fetch_one(&mut db(app).await)
        .await
        .unwrap()
}

/// Rows of `table` whose `column` is `task_id`.
async fn rows_of_task(app: &TestApp, table: &str, task_id: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT count(*) FROM {table} WHERE task_id = $1"))
        .bind(Uuid::parse_str(task_id).unwrap())
        .fetch_one(&mut db(app).await)
        .await
        .unwrap()
}

/// Asserts `fresh` are new ids: positive, distinct, and none of `old`.
#[track_caller]
fn assert_fresh(fresh: &[i64], old: &[i64]) {
    let unique: HashSet<&i64> = fresh.iter().collect();
    assert_eq!(unique.len(), fresh.len(), "new ids are distinct: {fresh:?}");
    for id in fresh {
        assert!(*id > 0, "ids are positive: {fresh:?}");
        assert!(!old.contains(id), "{id} is an old id ({old:?}), a new one was expected");
    }
}

/// A task created from seed 003's example, then updated with seed 004's example.
async fn example_task(app: &TestApp) -> String {
    let id = app.create_example_task().await;
    put_ok(app, &id, &update_task_example()).await;
    id
}

#[tokio::test]
async fn page_004_example_is_applied_and_shown_back() {
    let app = spawn_app().await;
    let id = app.create_example_task().await;
    let created = show(&app, &id).await;
    let example = update_task_example();

    let reply = app.put(&task_path(&id), &example).await;
    assert_eq!(reply.assert_ok(), &json!({ "id": id }));
    assert!(reply.headers.contains_key("x-request-id"));

    let shown = show(&app, &id).await;
    assert_shown(&example, &shown, "", &nested_ids_and_agent_version);
    // The ids the example sends name nothing of this task: they are not taken over, and the
    // source and target servers stay the task's own.
    assert_eq!(shown["id"], json!(id));
    assert_eq!(shown["source_server"]["id"], created["source_server"]["id"]);
    assert_eq!(shown["target_server"]["id"], created["target_server"]["id"]);
    let subtask_ids = element_ids(&shown["sub_tasks"]);
    assert_fresh(&subtask_ids, &[7278, 7279, 7280, 7281, 7282]);
    let disk_ids = element_ids(&shown["target_server"]["disks"]);
    assert_fresh(&disk_ids, &[88008, created["target_server"]["disks"][0]["id"].as_i64().unwrap()]);
    assert_fresh(&element_ids(&shown["target_server"]["disks"][0]["physical_volumes"]), &[135055, 135056]);
    // agent_version is not part of the task's view of its source; the source shows it.
    let source = show_source(&app, created["source_server"]["id"].as_str().unwrap()).await;
    assert_eq!(source["agent_version"], "1.2.0");
    assert_eq!(source["name"], "name-win16");
    assert_eq!(source["migration_cycle"], "replicating");
    // Fields the example does not send are as they were.
    for field in ["enterprise_project_id", "connected", "network_check_info", "remain_seconds"] {
        assert_eq!(shown[field], created[field], "{field}");
    }
}

#[tokio::test]
async fn sub_tasks_are_replaced_keeping_the_ids_they_name() {
    let app = spawn_app().await;
    let id = app.create_example_task().await;
    let other = create_task_named(&app, TOKEN_A, "other").await;
    put_ok(&app, &id, &json!({ "sub_tasks": [subtask("s1"), subtask("s2"), subtask("s3")] })).await;
    put_ok(&app, &other.task, &json!({ "sub_tasks": [subtask("o1")] })).await;
    let before = element_ids(&show(&app, &id).await["sub_tasks"]);
    assert_fresh(&before, &[]);
    let (s1, s2, s3) = (before[0], before[1], before[2]);
    let foreign = element_ids(&show(&app, &other.task).await["sub_tasks"])[0];

    let mut s2_renamed = with_id(subtask("s2-renamed"), s2);
    s2_renamed["progress"] = json!(55);
    let sent = json!({
        "sub_tasks": [
            s2_renamed,
            with_id(subtask("s1"), s1),
            subtask("new"),
            // Another task's subtask is not taken over, nor is an unknown id.
            with_id(subtask("foreign"), foreign),
            with_id(subtask("unknown"), 999_999_999_999i64),
            // The same id twice: only the first keeps it.
            with_id(subtask("s1-again"), s1),
        ]
    });
    put_ok(&app, &id, &sent).await;

    let shown = show(&app, &id).await;
    assert_shown(&sent, &shown, "", &|path| path.ends_with(".id"));
    let after = element_ids(&shown["sub_tasks"]);
    assert_eq!(after[..2], [s2, s1], "matched subtasks keep their ids, in the new order");
    assert_fresh(&after[2..], &[s1, s2, s3, foreign, 999_999_999_999]);
    assert_eq!(shown["sub_tasks"][0]["progress"], 55);
    assert_eq!(rows_of_task(&app, "subtasks", &id).await, 6);
    assert_eq!(rows_with_ids(&app, "subtasks", &[s3]).await, 0, "a subtask not sent is deleted");
    let other_shown = show(&app, &other.task).await;
    assert_eq!(element_ids(&other_shown["sub_tasks"]), [foreign], "the other task's subtask is untouched");
    assert_eq!(other_shown["sub_tasks"][0]["name"], "o1");

    put_ok(&app, &id, &json!({ "sub_tasks": [] })).await;
    assert_eq!(show(&app, &id).await["sub_tasks"], json!([]));
    assert_eq!(rows_of_task(&app, "subtasks", &id).await, 0);
}

#[tokio::test]
async fn target_server_collections_are_replaced_keeping_the_ids_they_name() {
    let app = spawn_app().await;
    let id = app.create_example_task().await;
    let original_disk = show(&app, &id).await["target_server"]["disks"][0]["id"].as_i64().unwrap();

    let mut first = target_server(vec![
        target_disk("d1", vec![target_volume("a"), target_volume("b")]),
        target_disk("d2", vec![target_volume("c")]),
    ]);
    first["volume_groups"] = json!([
        volume_group("g1", vec![logical_volume("x"), logical_volume("y")]),
        volume_group("g2", vec![logical_volume("z")]),
    ]);
    first["btrfs_list"] = json!([btrfs("b1", vec![subvolume("sv1")]), btrfs("b2", vec![subvolume("sv-old")])]);
    first["networks"] = json!([network("n1"), network("n2")]);
    put_ok(&app, &id, &json!({ "target_server": first })).await;

    let shown = show(&app, &id).await;
    let target = &shown["target_server"];
    assert_shown(&without(without(first.clone(), "btrfs_list"), "networks"), target, "", &|p| p.ends_with(".id"));
    let server = target["id"].as_str().unwrap().to_string();
    let disks = element_ids(&target["disks"]);
    assert_fresh(&disks, &[original_disk]);
    let (d1, d2) = (disks[0], disks[1]);
    let d1_volumes = element_ids(&target["disks"][0]["physical_volumes"]);
    let (a, b) = (d1_volumes[0], d1_volumes[1]);
    let c = element_ids(&target["disks"][1]["physical_volumes"])[0];
    let groups = element_ids(&target["volume_groups"]);
    let (g1, g2) = (groups[0], groups[1]);
    let g1_volumes = element_ids(&target["volume_groups"][0]["logical_volumes"]);
    let z = element_ids(&target["volume_groups"][1]["logical_volumes"])[0];
    let filesystems = btrfs_of(target);
    assert_shown(&first["btrfs_list"], &json!(filesystems), "btrfs_list", &|p| p.ends_with(".id"));
    let (b1, b2) = (filesystems[0]["id"].as_i64().unwrap(), filesystems[1]["id"].as_i64().unwrap());
    let networks = networks_of(&app, &server).await;
    assert_eq!(networks.iter().map(|n| n.1.as_str()).collect::<Vec<_>>(), ["n1", "n2"]);
    let (n1, n2) = (networks[0].0, networks[1].0);
    let old = [original_disk, d1, d2, a, b, c, g1, g2, g1_volumes[0], g1_volumes[1], z, b1, b2, n1, n2];

    let mut second = target_server(vec![
        with_id(
            target_disk(
                "d2-renamed",
                vec![
                    with_id(target_volume("c-renamed"), c),
                    // A volume of another disk is not moved here: it gets a new id.
                    with_id(target_volume("a-copy"), a),
                    target_volume("new-volume"),
                ],
            ),
            d2,
        ),
        // No physical_volumes key: d1's volumes stay as they are.
        with_id(without(target_disk("d1", vec![]), "physical_volumes"), d1),
        target_disk("d3", vec![target_volume("e")]),
    ]);
    second["volume_groups"] = json!([
        with_id(volume_group("g2-renamed", vec![with_id(logical_volume("z-renamed"), z), logical_volume("w")]), g2),
        volume_group("g3", vec![logical_volume("v")]),
    ]);
    second["btrfs_list"] = json!([with_id(btrfs("b2-renamed", vec![subvolume("sv2")]), b2), btrfs("b3", vec![])]);
    second["networks"] = json!([with_id(network("n2-renamed"), n2.to_string()), network("n3")]);
    put_ok(&app, &id, &json!({ "target_server": second })).await;

    let shown = show(&app, &id).await;
    let target = &shown["target_server"];
    assert_eq!(target["id"], json!(server), "the target server itself is kept");
    assert_shown(&without(without(second.clone(), "btrfs_list"), "networks"), target, "", &|p| p.ends_with(".id"));

    // Disks and their physical volumes.
    assert_eq!(names_of(&target["disks"]), ["d2-renamed", "d1", "d3"]);
    let disks = element_ids(&target["disks"]);
    assert_eq!(disks[..2], [d2, d1]);
    assert_fresh(&disks[2..], &old);
    let d2_volumes = element_ids(&target["disks"][0]["physical_volumes"]);
    assert_eq!(names_of(&target["disks"][0]["physical_volumes"]), ["c-renamed", "a-copy", "new-volume"]);
    assert_eq!(d2_volumes[0], c);
    assert_fresh(&d2_volumes[1..], &old);
    assert_eq!(element_ids(&target["disks"][1]["physical_volumes"]), [a, b], "d1's volumes are kept");
    assert_eq!(names_of(&target["disks"][1]["physical_volumes"]), ["a", "b"]);
    let e = element_ids(&target["disks"][2]["physical_volumes"]);
    assert_fresh(&e, &old);
    let server_uuid = Uuid::parse_str(&server).unwrap();
    let (disk_rows, volume_rows): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM disks WHERE server_id = $1),
                (SELECT count(*) FROM physical_volumes pv JOIN disks d ON d.id = pv.disk_row_id WHERE d.server_id = $1)",
    )
    .bind(server_uuid)
    .fetch_one(&mut db(&app).await)
    .await
    .unwrap();
    assert_eq!((disk_rows, volume_rows), (3, 6));

    // Volume groups and their logical volumes.
    assert_eq!(names_of(&target["volume_groups"]), ["g2-renamed", "g3"]);
    let groups = element_ids(&target["volume_groups"]);
    assert_eq!(groups[0], g2);
    assert_fresh(&groups[1..], &old);
    let g2_volumes = element_ids(&target["volume_groups"][0]["logical_volumes"]);
    assert_eq!(g2_volumes[0], z);
    assert_fresh(&g2_volumes[1..], &old);
    assert_fresh(&element_ids(&target["volume_groups"][1]["logical_volumes"]), &old);
    assert_eq!(rows_with_ids(&app, "volume_groups", &[g1]).await, 0, "g1 was not sent");
    assert_eq!(rows_with_ids(&app, "logical_volumes", &g1_volumes).await, 0, "g1's volumes go with it");
    let (group_rows, lv_rows): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM volume_groups WHERE server_id = $1),
                (SELECT count(*) FROM logical_volumes lv JOIN volume_groups g ON g.id = lv.volume_group_id
                 WHERE g.server_id = $1)",
    )
    .bind(server_uuid)
    .fetch_one(&mut db(&app).await)
    .await
    .unwrap();
    assert_eq!((group_rows, lv_rows), (2, 3));

    // Btrfs filesystems: JSON strings that carry their ids.
    let filesystems = btrfs_of(target);
    assert_shown(&second["btrfs_list"], &json!(filesystems), "btrfs_list", &|p| p.ends_with(".id"));
    assert_eq!(filesystems[0]["id"], json!(b2));
    assert_fresh(&[filesystems[1]["id"].as_i64().unwrap()], &old);
    assert_eq!(filesystems[0]["subvolumn"].as_array().unwrap().len(), 1, "b2's subvolumes are replaced");
    assert_eq!(filesystems[0]["subvolumn"][0]["subvol_name"], "sv2");
    assert_eq!(rows_with_ids(&app, "btrfs_filesystems", &[b1]).await, 0, "b1 was not sent");
    let subvolume_rows: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM btrfs_subvolumes sv JOIN btrfs_filesystems f ON f.id = sv.filesystem_id
         WHERE f.server_id = $1",
    )
    .bind(server_uuid)
    .fetch_one(&mut db(&app).await)
    .await
    .unwrap();
    assert_eq!(subvolume_rows, 1);

    // Networks: not in task show; read behind the API.
    let networks = networks_of(&app, &server).await;
    assert_eq!(networks.iter().map(|n| n.1.as_str()).collect::<Vec<_>>(), ["n2-renamed", "n3"]);
    assert_eq!(networks[0].0, n2);
    assert_fresh(&[networks[1].0], &old);
    assert_eq!(rows_with_ids(&app, "networks", &[n1]).await, 0, "n1 was not sent");

    // Collections a body does not carry are kept: only `disks` (mandatory) is sent here.
    let before = show(&app, &id).await;
    let networks_before = networks_of(&app, &server).await;
    put_ok(&app, &id, &json!({ "target_server": target_server(vec![]) })).await;
    let after = show(&app, &id).await;
    assert_eq!(after["target_server"]["disks"], json!([]));
    let mut expected = before.clone();
    expected["target_server"]["disks"] = json!([]);
    expected["target_server"]["ip"] = json!("10.0.0.2");
    expected["target_server"]["os_type"] = json!("LINUX");
    assert_eq!(after, expected);
    assert_eq!(networks_of(&app, &server).await, networks_before);
    let volume_rows: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM physical_volumes pv JOIN disks d ON d.id = pv.disk_row_id WHERE d.server_id = $1",
    )
    .bind(server_uuid)
    .fetch_one(&mut db(&app).await)
    .await
    .unwrap();
    assert_eq!(volume_rows, 0, "the disks' volumes go with them");
}

#[tokio::test]
async fn source_server_disks_are_replaced_keeping_the_ids_they_name() {
    let app = spawn_app().await;
    let created = create_task_named(&app, TOKEN_A, "source-disks").await;
    let first = json!({
        "disks": [source_disk("sd1", vec![source_volume("p1"), source_volume("p2")]), source_disk("sd2", vec![])]
    });
    put_ok(&app, &created.task, &json!({ "source_server": first })).await;
    let source = show_source(&app, &created.source).await;
    assert_shown(&first, &source, "", &|p| p.ends_with(".id"));
    let disks = element_ids(&source["disks"]);
    let (sd1, sd2) = (disks[0], disks[1]);
    let volumes = element_ids(&source["disks"][0]["physical_volumes"]);
    let (p1, p2) = (volumes[0], volumes[1]);
    let task_before = show(&app, &created.task).await;
    let target_disk_id = task_before["target_server"]["disks"][0]["id"].as_i64().unwrap();
    let old = [sd1, sd2, p1, p2, target_disk_id];

    let second = json!({
        "disks": [
            with_id(source_disk("sd2-renamed", vec![source_volume("p3")]), sd2),
            with_id(source_disk("sd1", vec![with_id(source_volume("p2-renamed"), p2)]), sd1),
            // The target server's disk is not the source's: a new disk, the target's untouched.
            with_id(source_disk("not-the-target-disk", vec![]), target_disk_id),
        ]
    });
    put_ok(&app, &created.task, &json!({ "source_server": second })).await;

    let source = show_source(&app, &created.source).await;
    assert_shown(&second, &source, "", &|p| p.ends_with(".id"));
    let disks = element_ids(&source["disks"]);
    assert_eq!(disks[..2], [sd2, sd1]);
    assert_fresh(&disks[2..], &old);
    assert_fresh(&element_ids(&source["disks"][0]["physical_volumes"]), &old);
    assert_eq!(element_ids(&source["disks"][1]["physical_volumes"]), [p2]);
    assert_eq!(rows_with_ids(&app, "physical_volumes", &[p1]).await, 0, "p1 was not sent");
    let (disk_rows, volume_rows): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM disks WHERE server_id = $1),
                (SELECT count(*) FROM physical_volumes pv JOIN disks d ON d.id = pv.disk_row_id WHERE d.server_id = $1)",
    )
    .bind(Uuid::parse_str(&created.source).unwrap())
    .fetch_one(&mut db(&app).await)
    .await
    .unwrap();
    assert_eq!((disk_rows, volume_rows), (3, 2));
    // Only the disks were sent: the source's own fields and the task are as they were.
    assert_eq!(source["name"], "src-source-disks");
    assert_eq!(source["os_type"], "LINUX");
    assert_eq!(source["ip"], "192.168.0.154");
    assert_eq!(show(&app, &created.task).await, task_before);
}

#[tokio::test]
async fn absent_fields_are_left_as_they_are() {
    let app = spawn_app().await;
    let id = example_task(&app).await;
    put_ok(
        &app,
        &id,
        &json!({
            "clone_server": { "vm_id": "clone-vm", "name": "clone", "clone_error": "", "clone_state": "ok", "error_msg": "" },
            "enterprise_project_id": "ep-1",
            "migration_ip": "192.168.0.9",
        }),
    )
    .await;
    let before = show(&app, &id).await;
    let source_id = before["source_server"]["id"].as_str().unwrap().to_string();
    let source_before = show_source(&app, &source_id).await;
    let counts_before = row_counts(&app).await;

    put_ok(&app, &id, &json!({ "speed_limit": 5 })).await;
    let mut expected = before.clone();
    expected["speed_limit"] = json!(5);
    assert_eq!(show(&app, &id).await, expected);
    // The source shows its task, speed limit included; nothing else of it changed.
    let mut source_expected = source_before.clone();
    source_expected["current_task"]["speed_limit"] = json!(5);
    assert_eq!(show_source(&app, &source_id).await, source_expected);
    assert_eq!(row_counts(&app).await, counts_before);

    // An empty body changes nothing; unknown fields are ignored.
    put_ok(&app, &id, &json!({})).await;
    assert_eq!(show(&app, &id).await, expected);
    put_ok(&app, &id, &json!({ "some_future_field": [1, 2], "name": "renamed" })).await;
    expected["name"] = json!("renamed");
    assert_eq!(show(&app, &id).await, expected);
    assert_eq!(row_counts(&app).await, counts_before);
}

#[tokio::test]
async fn null_clears_nullable_fields() {
    let app = spawn_app().await;
    let id = app.create_example_task().await;
    put_ok(
        &app,
        &id,
        &json!({
            "vm_template_id": "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxx0001",
            "clone_server": { "vm_id": "clone-vm", "name": "clone" },
            "sub_tasks": [subtask("a"), subtask("b")],
            "enterprise_project_id": "ep-1",
            "float_ip": "10.1.1.1",
            "estimate_complete_time": 1598435999000i64,
            "error_json": "{\"error\": 1}",
        }),
    )
    .await;
    let before = show(&app, &id).await;
    assert_eq!(before["migration_ip"], "192.168.0.1");
    assert_eq!(before["clone_server"]["vm_id"], "clone-vm");

    let cleared = [
        "migration_ip",
        "vm_template_id",
        "clone_server",
        "enterprise_project_id",
        "float_ip",
        "estimate_complete_time",
    ];
    let mut body = json!({ "sub_tasks": null, "error_json": null });
    for field in cleared {
        body[field] = Value::Null;
    }
    put_ok(&app, &id, &body).await;

    let mut expected = before.clone();
    for field in cleared {
        expected[field] = Value::Null;
    }
    expected["error_json"] = Value::Null;
    expected["sub_tasks"] = json!([]);
    assert_eq!(show(&app, &id).await, expected);
    assert_eq!(rows_of_task(&app, "subtasks", &id).await, 0);
    assert_eq!(rows_of_task(&app, "task_clone_servers", &id).await, 0);
}

#[tokio::test]
async fn null_for_a_mandatory_field_is_refused() {
    let app = spawn_app().await;
    let id = example_task(&app).await;
    let before = show(&app, &id).await;
    let mut failures = Vec::new();
    for field in [
        "name",
        "type",
        "priority",
        "speed_limit",
        "start_target_server",
        "region_id",
        "region_name",
        "project_name",
        "project_id",
        "state",
        "create_date",
        "connected",
        "use_ipv6",
        "use_public_ip",
        "source_server",
        "target_server",
    ] {
        let reply = app.put(&task_path(&id), &json!({ field: null })).await;
        if let Err(problem) = reply.check_invalid(field) {
            failures.push(format!("{field}: null: {problem}"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    assert_eq!(show(&app, &id).await, before);
}

#[tokio::test]
async fn enterprise_project_is_an_alias_of_enterprise_project_id() {
    let app = spawn_app().await;
    let id = app.create_example_task().await;
    put_ok(&app, &id, &json!({ "enterprise_project": "ep-2" })).await;
    assert_eq!(show(&app, &id).await["enterprise_project_id"], "ep-2");
    let listed = list(&app, &[("enterprise_project_id", "ep-2")]).await;
    assert_eq!(ids(&listed), vec![id.clone()]);

    put_ok(&app, &id, &json!({ "enterprise_project_id": "ep-1" })).await;
    assert_eq!(show(&app, &id).await["enterprise_project_id"], "ep-1");
    // Both sent: enterprise_project_id wins.
    put_ok(&app, &id, &json!({ "enterprise_project_id": "ep-3", "enterprise_project": "ep-4" })).await;
    assert_eq!(show(&app, &id).await["enterprise_project_id"], "ep-3");

    let before = show(&app, &id).await;
    app.put(&task_path(&id), &json!({ "enterprise_project": "" })).await.assert_invalid("enterprise_project");
    app.put(&task_path(&id), &json!({ "enterprise_project": "e".repeat(256) }))
        .await
        .assert_invalid("enterprise_project");
    assert_eq!(show(&app, &id).await, before);
}

#[tokio::test]
async fn values_at_the_limits_of_page_004_are_accepted() {
    let app = spawn_app().await;
    let id = app.create_example_task().await;
    let body = json!({
        "name": "n".repeat(255),
        "error_json": "e".repeat(1024),
        "enterprise_project_id": "p".repeat(255),
        "priority": 2,
        "speed_limit": 10000,
        "migrate_speed": 10000.0,
        "type": "MIGRATE_BLOCK",
        "os_type": "WINDOWS",
        "state": "SYNC_F_ROLLBACKING",
        "sub_tasks": [{ "progress": 100, "user_op": "u".repeat(50), "process_trace": "t".repeat(2048) }],
        "clone_server": { "error_msg": "m".repeat(1024), "vm_id": "v".repeat(255) },
    });
    put_ok(&app, &id, &body).await;
    assert_shown(&body, &show(&app, &id).await, "", &|p| p.ends_with(".id"));
    put_ok(&app, &id, &json!({ "priority": 0, "speed_limit": 0, "migrate_speed": 0, "name": "" })).await;
    let shown = show(&app, &id).await;
    assert_eq!(
        (shown["priority"].clone(), shown["speed_limit"].clone(), shown["name"].clone()),
        (json!(0), json!(0), json!(""))
    );
}

/// Seed 004 table 7 marks a TargetServer's `ip` mandatory, but its own example sends
/// `"ip": null` and the SDK drops null fields, so the service accepts a target server without
/// `ip` (commit 281cff3): the ip is then left as it is. `"ip": null` clears it.
#[tokio::test]
async fn target_server_ip_may_be_absent() {
    let app = spawn_app().await;
    let id = app.create_example_task().await;
    put_ok(&app, &id, &json!({ "target_server": target_server(vec![target_disk("d1", vec![])]) })).await;
    assert_eq!(show(&app, &id).await["target_server"]["ip"], "10.0.0.2");

    put_ok(&app, &id, &json!({ "target_server": { "os_type": "WINDOWS", "disks": [] } })).await;
    let target = show(&app, &id).await["target_server"].clone();
    assert_eq!(
        (target["ip"].clone(), target["os_type"].clone(), target["disks"].clone()),
        (json!("10.0.0.2"), json!("WINDOWS"), json!([]))
    );

    put_ok(&app, &id, &json!({ "target_server": { "ip": null, "os_type": "LINUX", "disks": [] } })).await;
    assert_eq!(show(&app, &id).await["target_server"]["ip"], Value::Null);
}

/// A valid target server with one element of `collection` replaced by `element`.
fn target_with(collection: &str, element: Value) -> Value {
    let mut target = target_server(vec![target_disk("d", vec![target_volume("v")])]);
    target[collection] = json!([element]);
    json!({ "target_server": target })
}

/// The bodies seed 004 refuses, each with the path the refusal must name.
fn refused_bodies() -> Vec<(Value, &'static str)> {
    let mut bad_disk = target_disk("d", vec![]);
    bad_disk["device_use"] = json!("X");
    let mut bad_volume = target_volume("v");
    bad_volume["device_use"] = json!("X");
    let mut negative_disk = target_disk("d", vec![]);
    negative_disk["size"] = json!(-1);
    let mut big_block = logical_volume("l");
    big_block["block_size"] = json!(1_048_577);
    let mut bad_network_id = network("n");
    bad_network_id["id"] = json!("abc");
    vec![
        (json!({ "priority": 3 }), "priority"),
        (json!({ "priority": -1 }), "priority"),
        (json!({ "priority": "2" }), "priority"),
        (json!({ "speed_limit": 10001 }), "speed_limit"),
        (json!({ "speed_limit": -1 }), "speed_limit"),
        (json!({ "type": "MIGRATE_X" }), "type"),
        (json!({ "type": "" }), "type"),
        (json!({ "os_type": "MACOS" }), "os_type"),
        (json!({ "state": "NOPE" }), "state"),
        (json!({ "state": "running" }), "state"),
        (json!({ "error_json": "e".repeat(1025) }), "error_json"),
        (json!({ "name": "n".repeat(256) }), "name"),
        (json!({ "name": 5 }), "name"),
        (json!({ "enterprise_project_id": "" }), "enterprise_project_id"),
        (json!({ "enterprise_project_id": "p".repeat(256) }), "enterprise_project_id"),
        (json!({ "migrate_speed": 10000.5 }), "migrate_speed"),
        (json!({ "migrate_speed": -0.5 }), "migrate_speed"),
        (json!({ "vm_template_id": "v".repeat(256) }), "vm_template_id"),
        (json!({ "migration_ip": "i".repeat(256) }), "migration_ip"),
        (json!({ "create_date": -1 }), "create_date"),
        (json!({ "total_time": -1 }), "total_time"),
        (json!({ "start_target_server": "yes" }), "start_target_server"),
        (json!({ "sub_tasks": [{ "name": "no progress" }] }), "sub_tasks[0].progress"),
        (json!({ "sub_tasks": [subtask("ok"), { "name": "x", "progress": 101 }] }), "sub_tasks[1].progress"),
        (json!({ "sub_tasks": [{ "progress": -1 }] }), "sub_tasks[0].progress"),
        (json!({ "sub_tasks": [{ "progress": 1, "user_op": "u".repeat(51) }] }), "sub_tasks[0].user_op"),
        (json!({ "sub_tasks": [{ "progress": 1, "name": "n".repeat(256) }] }), "sub_tasks[0].name"),
        (json!({ "sub_tasks": [{ "progress": 1, "process_trace": "t".repeat(2049) }] }), "sub_tasks[0].process_trace"),
        (json!({ "sub_tasks": [{ "progress": 1, "id": -1 }] }), "sub_tasks[0].id"),
        (json!({ "sub_tasks": {} }), "sub_tasks"),
        (json!({ "clone_server": { "error_msg": "m".repeat(1025) } }), "clone_server.error_msg"),
        (json!({ "clone_server": { "name": "n".repeat(256) } }), "clone_server.name"),
        (json!({ "clone_server": "vm" }), "clone_server"),
        // `ip` may be absent (see `target_server_ip_may_be_absent`); os_type and disks may not.
        (json!({ "target_server": { "ip": "10.0.0.2", "disks": [] } }), "target_server.os_type"),
        (json!({ "target_server": { "ip": "10.0.0.2", "os_type": null, "disks": [] } }), "target_server.os_type"),
        (json!({ "target_server": { "ip": "10.0.0.2", "os_type": "LINUX" } }), "target_server.disks"),
        (json!({ "target_server": { "ip": "10.0.0.2", "os_type": "LINUX", "disks": null } }), "target_server.disks"),
        (json!({ "target_server": { "ip": 10, "os_type": "LINUX", "disks": [] } }), "target_server.ip"),
        (json!({ "target_server": { "ip": "10.0.0.2", "os_type": "MACOS", "disks": [] } }), "target_server.os_type"),
        (json!({ "target_server": target_server(vec![bad_disk]) }), "target_server.disks[0].device_use"),
        (
            json!({ "target_server": target_server(vec![target_disk("d", vec![bad_volume])]) }),
            "target_server.disks[0].physical_volumes[0].device_use",
        ),
        (json!({ "target_server": target_server(vec![negative_disk]) }), "target_server.disks[0].size"),
        (
            target_with("volume_groups", volume_group("g", vec![without(logical_volume("l"), "name")])),
            "target_server.volume_groups[0].logical_volumes[0].name",
        ),
        (
            target_with("volume_groups", volume_group("g", vec![big_block])),
            "target_server.volume_groups[0].logical_volumes[0].block_size",
        ),
        (target_with("btrfs_list", without(btrfs("b", vec![]), "uuid")), "target_server.btrfs_list[0].uuid"),
        (target_with("btrfs_list", without(btrfs("b", vec![]), "subvolumn")), "target_server.btrfs_list[0].subvolumn"),
        (
            target_with("btrfs_list", btrfs("b", vec![without(subvolume("s"), "uuid")])),
            "target_server.btrfs_list[0].subvolumn[0].uuid",
        ),
        (target_with("networks", without(network("n"), "mac")), "target_server.networks[0].mac"),
        (target_with("networks", bad_network_id), "target_server.networks[0].id"),
        (
            json!({ "source_server": { "disks": [without(source_disk("sd", vec![]), "size")] } }),
            "source_server.disks[0].size",
        ),
        (
            json!({ "source_server": { "disks": [without(source_disk("sd", vec![]), "physical_volumes")] } }),
            "source_server.disks[0].physical_volumes",
        ),
        (json!({ "source_server": { "os_type": "MACOS" } }), "source_server.os_type"),
        (json!({ "source_server": { "state": "bogus" } }), "source_server.state"),
        (json!({ "source_server": { "migration_cycle": "bogus" } }), "source_server.migration_cycle"),
    ]
}

#[tokio::test]
async fn every_rule_of_page_004_refuses_the_update_and_leaves_the_task_unchanged() {
    let app = spawn_app().await;
    let id = example_task(&app).await;
    let before = show(&app, &id).await;
    let source_id = before["source_server"]["id"].as_str().unwrap().to_string();
    let source_before = show_source(&app, &source_id).await;
    let counts_before = row_counts(&app).await;

    let mut failures = Vec::new();
    for (body, path) in refused_bodies() {
        let current = show(&app, &id).await;
        let reply = app.put(&task_path(&id), &body).await;
        if let Err(problem) = reply.check_invalid(path) {
            failures.push(format!("{path}: {problem}"));
        }
        if show(&app, &id).await != current {
            failures.push(format!("{path}: the task changed after a refused update {body}"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    assert_eq!(show(&app, &id).await, before);
    assert_eq!(show_source(&app, &source_id).await, source_before);
    assert_eq!(row_counts(&app).await, counts_before);
}

#[tokio::test]
async fn an_invalid_element_deep_in_a_valid_update_refuses_all_of_it() {
    let app = spawn_app().await;
    let id = app.create_example_task().await;
    let before = show(&app, &id).await;
    let source_id = before["source_server"]["id"].as_str().unwrap().to_string();
    let source_before = show_source(&app, &source_id).await;
    let counts_before = row_counts(&app).await;

    let mut last_subtask = update_task_example();
    last_subtask["sub_tasks"][4]["progress"] = json!(101);
    let mut deep_volume = update_task_example();
    deep_volume["target_server"]["disks"][0]["physical_volumes"][1]["device_use"] = json!("X");
    let mut last_network = update_task_example();
    last_network["target_server"]["networks"] = json!([network("n1"), network("n2"), without(network("n3"), "mac")]);
    let mut source_state = update_task_example();
    source_state["source_server"]["state"] = json!("bogus");
    let mut source_disk_size = update_task_example();
    source_disk_size["source_server"]["disks"] =
        json!([source_disk("sd1", vec![source_volume("p1")]), without(source_disk("sd2", vec![]), "size")]);
    for (body, path) in [
        (last_subtask, "sub_tasks[4].progress"),
        (deep_volume, "target_server.disks[0].physical_volumes[1].device_use"),
        (last_network, "target_server.networks[2].mac"),
        (source_state, "source_server.state"),
        (source_disk_size, "source_server.disks[1].size"),
    ] {
        app.put(&task_path(&id), &body).await.assert_invalid(path);
        assert_eq!(show(&app, &id).await, before, "after a refusal at {path}");
        assert_eq!(show_source(&app, &source_id).await, source_before, "after a refusal at {path}");
        assert_eq!(row_counts(&app).await, counts_before, "after a refusal at {path}");
    }
}

#[tokio::test]
async fn a_missing_or_foreign_task_is_not_found_and_a_body_must_be_an_object() {
    let app = spawn_app().await;
    let id = app.create_example_task().await;
    let body = json!({ "name": "stolen", "sub_tasks": [] });

    let missing = uuid::Uuid::new_v4();
    app.put(&task_path(&missing.to_string()), &body).await.assert_error(404, "SMS.8005");
    app.put(&task_path("not-a-uuid"), &body).await.assert_error(404, "SMS.8005");
    app.put(&task_path(&"a".repeat(256)), &body).await.assert_invalid("task_id");

    // Domain B's task, as A: answered as missing, and left as it was.
    let b = create_task_named(&app, TOKEN_B, "b-task").await;
    app.put_as(TOKEN_B, &task_path(&b.task), &json!({ "sub_tasks": [subtask("b")] })).await.assert_ok();
    let b_before = show_as(&app, TOKEN_B, &b.task).await;
    app.put(&task_path(&b.task), &body).await.assert_error(404, "SMS.8005");
    app.put(&task_path(&b.task), &update_task_example()).await.assert_error(404, "SMS.8005");
    assert_eq!(show_as(&app, TOKEN_B, &b.task).await, b_before);
    let b_source = app.get_as(TOKEN_B, &format!("/v3/sources/{}", b.source)).await;
    assert_eq!(b_source.assert_ok()["name"], "src-b-task", "B's source server is untouched");

    let before = show(&app, &id).await;
    for raw in ["not json", "[1, 2]", "\"name\"", "null", "42", "{\"name\": "] {
        put_raw(&app, &task_path(&id), "application/json", raw).await.assert_error(400, "SMS.8002");
    }
    assert_eq!(show(&app, &id).await, before);
}

#[tokio::test]
async fn concurrent_updates_each_apply_whole() {
    let app = spawn_app().await;
    let id = app.create_example_task().await;
    let bodies: Vec<Value> = (0..20)
        .map(|i| {
            json!({
                "name": format!("put-{i}"),
                "sub_tasks": (["a", "b", "c"].map(|s| subtask(&format!("put-{i}-{s}")))),
                "target_server": target_server(vec![
                    target_disk(&format!("put-{i}-disk-0"), vec![target_volume(&format!("put-{i}-volume"))]),
                    target_disk(&format!("put-{i}-disk-1"), vec![]),
                ]),
            })
        })
        .collect();
    let path = task_path(&id);
    let replies = join_all(bodies.iter().map(|body| app.put(&path, body))).await;
    for reply in &replies {
        assert_eq!(reply.assert_ok(), &json!({ "id": id }));
    }

    let shown = show(&app, &id).await;
    let winner = shown["name"].as_str().unwrap().to_string();
    assert!(bodies.iter().any(|b| b["name"] == json!(winner)), "the name is one of the PUTs': {winner}");
    assert_eq!(
        names_of(&shown["sub_tasks"]),
        ["a", "b", "c"].map(|s| format!("{winner}-{s}")),
        "the subtasks all come from the PUT that set the name"
    );
    let disks = &shown["target_server"]["disks"];
    assert_eq!(names_of(disks), [format!("{winner}-disk-0"), format!("{winner}-disk-1")], "one PUT's disks");
    assert_eq!(names_of(&disks[0]["physical_volumes"]), [format!("{winner}-volume")]);
    assert_eq!(disks[1]["physical_volumes"], json!([]));
    assert_eq!(rows_of_task(&app, "subtasks", &id).await, 3);
    let server = Uuid::parse_str(shown["target_server"]["id"].as_str().unwrap()).unwrap();
    let (disk_rows, volume_rows): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM disks WHERE server_id = $1),
                (SELECT count(*) FROM physical_volumes pv JOIN disks d ON d.id = pv.disk_row_id WHERE d.server_id = $1)",
    )
    .bind(server)
    .fetch_one(&mut db(&app).await)
    .await
    .unwrap();
    assert_eq!((disk_rows, volume_rows), (2, 1));
}
