"""Source operations beyond registration through the SDK: update_server_name, update_copy_state,
update_disk_info, show_overview, list_error_servers.

The suite shares one service with the other test files, so overview and error counts are
checked as differences around each test's own changes (pytest runs the tests one by one)."""

from huaweicloudsdksms.v3 import (
    ListErrorServersRequest,
    LogicalVolumes,
    PhysicalVolume,
    PutCopyStateReq,
    PutDisk,
    PutDiskInfoReq,
    PutLogicalVolume,
    PutSourceServerBody,
    PutVolume,
    PutVolumeGroups,
    ServerDisk,
    ShowOverviewRequest,
    ShowServerRequest,
    UpdateCopyStateRequest,
    UpdateDiskInfoRequest,
    UpdateServerNameRequest,
    UpdateTaskRequest,
    VolumeGroups,
)

from sdk_helpers import create_example_task, expect_error, register, unique_name

OVERVIEW_KEYS = (
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
)


def shown_json(client, source_id):
    """show_server's reply as JSON: the SDK's ServerDisk, VolumeGroups, ... have no `id`, so the
    nested ids are read from the raw body the SDK received."""
    return client.show_server(ShowServerRequest(source_id=source_id)).to_json_object()


def overview(client):
    response = client.show_overview(ShowOverviewRequest())
    assert response.status_code == 200
    return {key: getattr(response, key) for key in OVERVIEW_KEYS}


def test_update_server_name_renames_and_takes_node_settings(client):
    source_id = register(client)
    before = shown_json(client, source_id)
    disk = before["disks"][0]
    group = before["volume_groups"][0]
    name = unique_name("renamed")
    body = PutSourceServerBody(
        name=name,
        disks=[
            PutDisk(
                id=str(disk["id"]),
                need_migration=False,
                adjust_size=53687091200,
                physical_volumes=[PutVolume(id=str(disk["physical_volumes"][0]["id"]), need_migration=True, adjust_size=0)],
            )
        ],
        volume_groups=[
            PutVolumeGroups(
                id=str(group["id"]),
                need_migration=False,
                logical_volumes=[PutLogicalVolume(id=str(group["logical_volumes"][0]["id"]), adjust_size=1024)],
            )
        ],
    )
    response = client.update_server_name(UpdateServerNameRequest(source_id=source_id, body=body))
    assert response.status_code == 200

    after = shown_json(client, source_id)
    assert after["name"] == name
    # The tree itself is unchanged (ShowServerResponse serves no migration settings).
    for key in ("disks", "volume_groups", "btrfs_list", "networks"):
        assert after[key] == before[key], key


def test_update_server_name_refuses_another_sources_disk(client_a):
    source_id = register(client_a)
    other = shown_json(client_a, register(client_a))
    body = PutSourceServerBody(name=unique_name("never"), disks=[PutDisk(id=str(other["disks"][0]["id"]))])
    err = expect_error(
        lambda: client_a.update_server_name(UpdateServerNameRequest(source_id=source_id, body=body)), 400, "SMS.8001"
    )
    assert err.error_msg.startswith("disks[0].id:"), err.error_msg
    assert shown_json(client_a, source_id)["name"] != body.name


def test_update_server_name_with_a_migration_project_is_not_found(client_a):
    source_id = register(client_a)
    body = PutSourceServerBody(migprojectid="0f6f6a52-3c64-4c37-a0f0-5d2b7cbd9a01")
    expect_error(
        lambda: client_a.update_server_name(UpdateServerNameRequest(source_id=source_id, body=body)), 404, "SMS.8011"
    )


def test_update_copy_state_sets_state_and_cycle(client):
    source_id = register(client)
    body = PutCopyStateReq(copystate="init", migrationcycle="replicating")
    response = client.update_copy_state(UpdateCopyStateRequest(source_id=source_id, body=body))
    assert response.status_code == 200
    shown = client.show_server(ShowServerRequest(source_id=source_id))
    assert (shown.state, shown.migration_cycle) == ("initialize", "replicating")

    client.update_copy_state(UpdateCopyStateRequest(source_id=source_id, body=PutCopyStateReq(copystate="STOPPED")))
    shown = client.show_server(ShowServerRequest(source_id=source_id))
    assert (shown.state, shown.migration_cycle) == ("stopped", "replicating")

    bad = PutCopyStateReq(copystate="waiting", migrationcycle="nowhere")
    err = expect_error(
        lambda: client.update_copy_state(UpdateCopyStateRequest(source_id=source_id, body=bad)), 400, "SMS.8001"
    )
    assert err.error_msg.startswith("migrationcycle:"), err.error_msg


def test_update_disk_info_replaces_the_tree(client):
    source_id = register(client)
    before = shown_json(client, source_id)
    body = PutDiskInfoReq(
        disks=[
            ServerDisk(
                name="/dev/sda",
                device_use="BOOT",
                partition_style="GPT",
                size=21474836480,
                used_size=1073741824,
                physical_volumes=[
                    PhysicalVolume(name="/dev/sda1", device_use="OS", file_system="ext4", index=0, size=21474836480)
                ],
            )
        ],
        volumegroups=[
            VolumeGroups(
                name="vg_new",
                size=1024,
                free_size=0,
                logical_volumes=[
                    LogicalVolumes(
                        name="lv_new",
                        file_system="ext4",
                        inode_size=256,
                        mount_point="/srv",
                        size=1024,
                        used_size=1,
                        free_size=1023,
                    )
                ],
            )
        ],
        btrfs_list=[],
    )
    response = client.update_disk_info(UpdateDiskInfoRequest(source_id=source_id, body=body))
    assert response.status_code == 200

    shown = client.show_server(ShowServerRequest(source_id=source_id))
    assert [d.name for d in shown.disks] == ["/dev/sda"]
    assert [(v.name, v.file_system, v.mount_point) for v in shown.disks[0].physical_volumes] == [
        ("/dev/sda1", "ext4", None)
    ]
    assert [g.name for g in shown.volume_groups] == ["vg_new"]
    assert [lv.mount_point for lv in shown.volume_groups[0].logical_volumes] == ["/srv"]
    assert shown.btrfs_list == []
    # The networks are not part of the disk info.
    assert shown_json(client, source_id)["networks"] == before["networks"]

    missing = PutDiskInfoReq(disks=[ServerDisk(name="/dev/sdb")])
    err = expect_error(
        lambda: client.update_disk_info(UpdateDiskInfoRequest(source_id=source_id, body=missing)), 400, "SMS.8001"
    )
    assert err.error_msg.startswith("disks[0]."), err.error_msg


def test_source_operations_on_another_domains_source_are_not_found(client_a, other_client):
    theirs = register(other_client)
    calls = [
        lambda: client_a.update_server_name(
            UpdateServerNameRequest(source_id=theirs, body=PutSourceServerBody(name="stolen"))
        ),
        lambda: client_a.update_copy_state(
            UpdateCopyStateRequest(source_id=theirs, body=PutCopyStateReq(copystate="error"))
        ),
        lambda: client_a.update_disk_info(UpdateDiskInfoRequest(source_id=theirs, body=PutDiskInfoReq(disks=[]))),
    ]
    for call in calls:
        expect_error(call, 404, "SMS.8006")
    shown = other_client.show_server(ShowServerRequest(source_id=theirs))
    assert shown.state == "waiting" and shown.name != "stolen" and len(shown.disks) == 2


def test_show_overview_counts_each_state(client, other_client):
    before = overview(client)
    first, second = register(client), register(client)
    client.update_copy_state(UpdateCopyStateRequest(source_id=second, body=PutCopyStateReq(copystate="error")))
    create_example_task(client, source_id=first)
    register(other_client)

    after = overview(client)
    changes = {key: after[key] - before[key] for key in OVERVIEW_KEYS if after[key] != before[key]}
    # Two new sources: one waiting (with a task now), one in error (still without a task).
    assert changes == {"waiting": 1, "error": 1, "unconfigured": 1}


def fail_task(client, task_id, state, error_json):
    """Sets a task's state. PutTaskReq has no `state`; the SDK's update_task sends a plain dict
    body as it is."""
    client.update_task(UpdateTaskRequest(task_id=task_id, body={"state": state, "error_json": error_json}))


def test_list_error_servers_lists_sources_whose_task_failed(client, other_client):
    before = client.list_error_servers(ListErrorServersRequest(offset=0, limit=100)).count
    source_id = register(client)
    task_id, _, _, _ = create_example_task(client, source_id=source_id)
    fail_task(client, task_id, "MIGRATE_FAIL", '{"error_code": "SMS.1234", "error_msg": "disk full"}')
    theirs = register(other_client)
    their_task, _, _, _ = create_example_task(other_client, source_id=theirs)
    fail_task(other_client, their_task, "SYNC_FAIL", "{}")

    page = client.list_error_servers(ListErrorServersRequest(offset=0, limit=100))
    assert page.status_code == 200
    assert page.count == before + 1
    newest = page.migration_errors[0]
    shown = client.show_server(ShowServerRequest(source_id=source_id))
    assert (newest.source_id, newest.name, newest.host_name, newest.source_ip) == (
        source_id,
        shown.name,
        shown.hostname,
        shown.ip,
    )
    assert newest.error_json == '{"error_code": "SMS.1234", "error_msg": "disk full"}'
    assert theirs not in [e.source_id for e in page.migration_errors]

    # Paging: one per page, and an empty page past the end with the same count.
    one = client.list_error_servers(ListErrorServersRequest(offset=0, limit=1))
    assert (one.count, [e.source_id for e in one.migration_errors]) == (page.count, [source_id])
    past = client.list_error_servers(ListErrorServersRequest(offset=page.count, limit=10))
    assert (past.count, past.migration_errors) == (page.count, [])


def test_list_error_servers_without_an_offset(client):
    err = expect_error(lambda: client.list_error_servers(ListErrorServersRequest(limit=10)), 400, "SMS.8001")
    assert err.error_msg.startswith("offset:"), err.error_msg
