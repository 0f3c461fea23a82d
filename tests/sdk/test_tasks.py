"""Migration tasks through the SDK: create_task, show_task, list_tasks, update_task."""

import json

import pytest
from huaweicloudsdksms.v3 import (
    BtrfsFileSystem,
    BtrfsSubvolumn,
    CloneServer,
    CreateTaskRequest,
    ListTasksRequest,
    LogicalVolumes,
    PutTaskReq,
    ShowServerRequest,
    ShowTaskRequest,
    ShowTaskResponse,
    TargetDisk,
    TargetPhysicalVolumes,
    TargetServer,
    UpdateTaskRequest,
    VolumeGroups,
)

from sdk_helpers import (
    assert_matches,
    create_example_task,
    create_task_example,
    register,
    to_json,
    to_model,
    unique_name,
    update_task_example,
)

SHOWN_TASK_FIELDS = set(ShowTaskResponse.attribute_map.values())


def show(client, task_id):
    response = client.show_task(ShowTaskRequest(task_id=task_id))
    assert response.status_code == 200
    return response


def without_ids(value):
    """JSON without the `id` keys (of nested rows, whose ids the service assigns)."""
    if isinstance(value, dict):
        return {k: without_ids(v) for k, v in value.items() if k != "id"}
    if isinstance(value, list):
        return [without_ids(v) for v in value]
    return value


def nested_ids(target_server):
    """(disk ids, physical volume ids) of a shown target server."""
    disks = target_server.disks or []
    return [d.id for d in disks], [pv.id for d in disks for pv in d.physical_volumes or []]


# --- create and show ------------------------------------------------------------------------


def test_create_task_from_the_seed_example_then_show_task(client):
    task_id, body, before, after = create_example_task(client)
    source = client.show_server(ShowServerRequest(source_id=body["source_server"]["id"]))

    shown = show(client, task_id)
    actual = to_json(shown)
    # Every field of the request that ShowTaskResponse carries, the nested
    # target_server.disks[].physical_volumes[] included (seed 003's `"uuid": null` is not sent by
    # the SDK and is shown as null).
    expected = {key: value for key, value in body.items() if key in SHOWN_TASK_FIELDS and key != "source_server"}
    assert {"name", "type", "os_type", "target_server", "migration_ip", "project_id"} <= set(expected)
    assert_matches(expected, actual)
    # The source server, as registered.
    assert_matches(
        {
            "id": source.id,
            "name": source.name,
            "ip": source.ip,
            "os_type": source.os_type,
            "os_version": source.os_version,
            "state": source.state,
        },
        actual["source_server"],
        "$.source_server",
    )
    # The defaults of a new task (seed 003, api-decisions.md).
    assert shown.id == task_id
    assert shown.state == "READY"
    assert shown.priority == 1
    assert shown.speed_limit == 0
    assert shown.connected is True
    assert before - 1000 <= shown.create_date <= after + 1000
    assert shown.start_date is None and shown.finish_date is None
    assert shown.enterprise_project_id is None
    assert shown.vm_template_id is None
    assert shown.clone_server is None
    assert shown.sub_tasks == []
    assert shown.target_server.id, "the target server has an id"
    assert shown.target_server.btrfs_list == []
    assert shown.target_server.volume_groups == []
    disk_ids, volume_ids = nested_ids(shown.target_server)
    assert all(isinstance(i, int) and i > 0 for i in disk_ids + volume_ids)


def test_create_task_with_every_post_task_field(client_a):
    source_id = register(client_a)
    body = create_task_example()
    body["source_server"]["id"] = source_id
    body["name"] = unique_name("full")
    body.update(
        {
            "start_target_server": False,
            "auto_start": False,
            "priority": 2,
            "speed_limit": 100,
            "vm_template_id": "tmpl-0001",
            "clonevm_template_id": "clone-tmpl-0001",
            "use_public_ip": False,
            "use_ipv6": False,
            "syncing": True,
            "exist_server": True,
            "start_network_check": False,
            "over_speed_threshold": 20.5,
            "is_need_consistency_check": False,
            "need_migration_test": True,
        }
    )
    target = body["target_server"]
    target["disks"].append(
        {
            "name": "/dev/vdb",
            "disk_id": "disk-2",
            "size": 107374182400,
            "used_size": 1024,
            "device_use": "NORMAL",
            "physical_volumes": [
                {
                    "uuid": "uuid-vdb1",
                    "index": 0,
                    "name": "/dev/vdb1",
                    "device_use": "NORMAL",
                    "file_system": "xfs",
                    "mount_point": "/srv",
                    "size": 107374181376,
                    "used_size": 1024,
                    "inode_size": 512,
                }
            ],
        }
    )
    target["volume_groups"] = [
        {
            "name": "vg0",
            "components": "/dev/vdb1",
            "size": 107374181376,
            "free_size": 0,
            "logical_volumes": [
                {
                    "name": "lv0",
                    "file_system": "ext4",
                    "mount_point": "/var",
                    "size": 107374181376,
                    "used_size": 4096,
                    "free_size": 107374177280,
                    "inode_size": 256,
                    "block_count": 26214400,
                    "block_size": 4096,
                }
            ],
        }
    ]
    btrfs = to_json(
        BtrfsFileSystem(
            name="/dev/vdc",
            label="pool",
            uuid="btrfs-uuid-1",
            device="/dev/vdc",
            size=10737418240,
            nodesize=16384,
            sectorsize=4096,
            data_profile="single",
            system_profile="DUP",
            metadata_profile="DUP",
            global_reserve1="16.00MiB",
            g_vol_used_size=1048576,
            default_subvolid="5",
            default_subvol_name="/",
            default_subvol_mountpath="/pool",
            subvolumn=[
                BtrfsSubvolumn(
                    uuid="sub-uuid-1",
                    is_snapshot="false",
                    subvol_id="256",
                    parent_id="5",
                    subvol_name="@",
                    subvol_mount_path="/pool/root",
                )
            ],
        )
    )
    target["btrfs_list"] = [btrfs]
    dropped = []
    model = to_model("PostTask", body, dropped)
    assert dropped == []
    task_id = client_a.create_task(CreateTaskRequest(body=model)).id

    shown = show(client_a, task_id)
    actual = to_json(shown)
    expected = {key: value for key, value in body.items() if key in SHOWN_TASK_FIELDS and key != "source_server"}
    # ShowTaskResponse has btrfs_list as list[str]: each element is the JSON text of one file
    # system (api-decisions.md, Show). The disks' physical volumes have no inode_size there.
    expected["target_server"] = dict(target, btrfs_list=None)
    for disk in expected["target_server"]["disks"]:
        disk["physical_volumes"] = [
            {k: v for k, v in pv.items() if k != "inode_size"} for pv in disk["physical_volumes"]
        ]
    del expected["target_server"]["btrfs_list"]
    assert {"priority", "speed_limit", "vm_template_id", "need_migration_test", "start_target_server"} <= set(expected)
    assert_matches(expected, actual)
    assert len(shown.target_server.btrfs_list) == 1
    assert_matches(btrfs, json.loads(shown.target_server.btrfs_list[0]), "$.target_server.btrfs_list[0]")

    listed = client_a.list_tasks(ListTasksRequest(id=task_id)).tasks[0]
    assert listed.syncing is True
    current = client_a.show_server(ShowServerRequest(source_id=source_id)).current_task
    assert (current.use_public_ip, current.exist_server, current.start_target_server) == (False, True, False)


# --- list -----------------------------------------------------------------------------------


def list_ids(client, **query):
    response = client.list_tasks(ListTasksRequest(**query))
    assert response.status_code == 200
    return response.count, [task.id for task in response.tasks]


def test_list_tasks_filters(client):
    prefix = unique_name("flt")
    first, first_body, _, _ = create_example_task(client, name=f"{prefix}_first")
    second, second_body, _, _ = create_example_task(client, name=f"{prefix}_second")

    count, ids = list_ids(client, name=prefix)
    assert (count, sorted(ids)) == (2, sorted([first, second]))
    # `name` is a case-insensitive substring.
    assert list_ids(client, name=f"{prefix}_FIRST".upper()) == (1, [first])
    assert list_ids(client, id=first) == (1, [first])
    assert list_ids(client, id="00000000-0000-4000-8000-000000000000") == (0, [])
    assert list_ids(client, source_server_id=second_body["source_server"]["id"]) == (1, [second])
    count, ids = list_ids(client, name=prefix, state="READY")
    assert (count, sorted(ids)) == (2, sorted([first, second]))
    assert list_ids(client, name=prefix, state="RUNNING") == (0, [])
    everything_ready = client.list_tasks(ListTasksRequest(state="READY", limit=200))
    assert everything_ready.count >= 2
    assert all(task.state == "READY" for task in everything_ready.tasks)

    # enterprise_project_id, after setting it with the SDK's `enterprise_project` field.
    project = unique_name("ep")
    client.update_task(UpdateTaskRequest(task_id=first, body=PutTaskReq(enterprise_project=project)))
    assert show(client, first).enterprise_project_id == project
    assert list_ids(client, enterprise_project_id=project) == (1, [first])
    assert list_ids(client, enterprise_project_id=project, name=f"{prefix}_second") == (0, [])
    assert list_ids(client, enterprise_project_id=unique_name("ep")) == (0, [])

    # A listed task agrees with the request and with show_task.
    item = client.list_tasks(ListTasksRequest(id=second)).tasks[0]
    shown = show(client, second)
    expected = {
        key: second_body[key]
        for key in ("name", "type", "os_type", "migration_ip", "start_target_server")
    }
    expected.update(
        {
            "id": second,
            "state": "READY",
            "priority": 1,
            "speed_limit": 0,
            "create_date": shown.create_date,
            "source_server": {"id": second_body["source_server"]["id"], "name": shown.source_server.name},
            "target_server": {
                "id": shown.target_server.id,
                "vm_id": second_body["target_server"]["vm_id"],
                "name": second_body["target_server"]["name"],
            },
        }
    )
    assert_matches(expected, to_json(item))


def test_list_tasks_pages(client_a):
    prefix = unique_name("page")
    created = [create_example_task(client_a, name=f"{prefix}_{i}")[0] for i in range(5)]
    pages = []
    for offset in (0, 2, 4, 6):
        response = client_a.list_tasks(ListTasksRequest(name=prefix, limit=2, offset=offset))
        assert response.count == 5, "count does not depend on limit and offset"
        pages.append(response.tasks)
    assert [len(page) for page in pages] == [2, 2, 1, 0]
    listed = [task for page in pages for task in page]
    assert sorted(task.id for task in listed) == sorted(created)
    # Newest first, ties broken by id: a stable order across pages.
    keys = [(task.create_date, task.id) for task in listed]
    assert keys == sorted(keys, reverse=True)
    # limit=0: the count without tasks.
    assert list_ids(client_a, name=prefix, limit=0) == (5, [])


# --- update ---------------------------------------------------------------------------------

# The fields of seed 004's example request that the SDK's PutTaskReq has no attribute for, so
# that the official SDK cannot send them. Besides, the SDK never sends a null (it drops None
# attributes), so the example's `"migration_ip": null`, `"ip": null`, `"image_disk_id": null`,
# `"relation_name": null`, ... are not sent either: those fields stay unchanged.
SEED_004_FIELDS_THE_SDK_CANNOT_CARRY = [
    "os_type",
    "state",
    "estimate_complete_time",
    "create_date",
    "start_date",
    "finish_date",
    "priority",
    "migrate_speed",
    "start_target_server",
    "error_json",
    "total_time",
    "float_ip",
    "sub_tasks",
    "source_server",
]


def update_with_the_seed_example(client, target_ip=None):
    """Creates an example task, updates it with seed 004's example as the SDK can send it
    (`target_ip` added when given), and checks the result through show_task."""
    task_id, create_body, _, _ = create_example_task(client)
    before = show(client, task_id)

    example = update_task_example()
    if target_ip is not None:
        example["target_server"]["ip"] = target_ip
    dropped = []
    request_body = to_model("PutTaskReq", example, dropped)
    assert dropped == SEED_004_FIELDS_THE_SDK_CANNOT_CARRY
    response = client.update_task(UpdateTaskRequest(task_id=task_id, body=request_body))
    assert response.status_code == 200
    assert response.id == task_id

    after = show(client, task_id)
    sent = to_json(request_body)
    # Everything the SDK sent is shown back; nested rows get new ids (the example's disk and
    # volume ids name no row of this task).
    expected = {key: value for key, value in sent.items() if key in SHOWN_TASK_FIELDS}
    assert set(expected) == {
        "name",
        "type",
        "region_id",
        "region_name",
        "speed_limit",
        "project_name",
        "project_id",
        "vm_template_id",
        "target_server",
    }
    expected["target_server"] = without_ids(expected["target_server"])
    assert_matches(expected, to_json(after))
    disk_ids, volume_ids = nested_ids(after.target_server)
    assert len(disk_ids) == 1 and len(volume_ids) == 2
    assert disk_ids[0] != 88008 and not {135055, 135056} & set(volume_ids)
    assert not set(disk_ids) & set(nested_ids(before.target_server)[0]), "the old disks were replaced"
    # The task's target server is updated in place, not replaced.
    assert after.target_server.id == before.target_server.id
    # What the SDK could not send is unchanged.
    assert (after.os_type, after.state, after.priority, after.start_target_server) == ("LINUX", "READY", 1, True)
    assert after.sub_tasks == []
    assert after.source_server.id == create_body["source_server"]["id"]
    assert after.migration_ip == create_body["migration_ip"]
    assert after.create_date == before.create_date
    assert after.start_date is None and after.finish_date is None


def test_update_task_with_the_seed_example(client):
    """Seed 004's example as the SDK sends it: `target_server.ip` is null there, and the SDK
    drops None attributes, so the key is absent from the body."""
    update_with_the_seed_example(client)


def test_update_task_with_the_seed_example_and_a_target_ip(client):
    """The same, with target_server.ip set."""
    update_with_the_seed_example(client, target_ip="192.168.0.200")


def target_server_update(name):
    return TargetServer(
        name=name,
        vm_id="vm-0002",
        ip="192.168.0.99",
        os_type="LINUX",
        os_version="UBUNTU_22_04_64BIT",
        system_dir="/boot",
        disks=[
            TargetDisk(
                name="/dev/sda",
                disk_id="disk-a",
                device_use="BOOT",
                size=21474836480,
                used_size=1073741824,
                disk_index="0",
                os_disk=True,
                partition_style="GPT",
                relation_name="/dev/vda",
                physical_volumes=[
                    TargetPhysicalVolumes(
                        name="/dev/sda1",
                        device_use="OS",
                        file_system="ext4",
                        index=0,
                        mount_point="/",
                        size=21473787904,
                        used_size=1073741824,
                        free_size=20400046080,
                        uuid="pv-uuid-1",
                        relation_name="/dev/vda1",
                    )
                ],
            )
        ],
        volume_groups=[
            VolumeGroups(
                name="vg1",
                components="/dev/sdb",
                size=1073741824,
                free_size=0,
                logical_volumes=[
                    LogicalVolumes(
                        name="lv1",
                        file_system="xfs",
                        mount_point="/opt",
                        size=1073741824,
                        used_size=0,
                        free_size=1073741824,
                        inode_size=512,
                    )
                ],
            )
        ],
    )


def test_update_task_with_put_task_req(client):
    task_id, create_body, _, _ = create_example_task(client)
    name = unique_name("upd")
    project = unique_name("ep")
    target = target_server_update("tgt-renamed")
    clone = CloneServer(vm_id="clone-vm-1", name="clone-1", clone_error="", clone_state="SUCCESS", error_msg="none")
    request = PutTaskReq(
        name=name,
        speed_limit=50,
        enterprise_project=project,
        use_public_ip=False,
        exist_server=True,
        image_disk_id="image-disk-1",
        cutovered_snapshot_ids="snap-1;snap-2",
        target_server=target,
        clone_server=clone,
    )
    response = client.update_task(UpdateTaskRequest(task_id=task_id, body=request))
    assert response.id == task_id

    shown = show(client, task_id)
    actual = to_json(shown)
    assert (shown.name, shown.speed_limit, shown.enterprise_project_id) == (name, 50, project)
    assert_matches(to_json(clone), actual["clone_server"], "$.clone_server")
    assert_matches(to_json(target), actual["target_server"], "$.target_server")
    # The SDK sends these target-server attributes at the top level of PutTaskReq.
    assert shown.target_server.image_disk_id == "image-disk-1"
    assert shown.target_server.cutovered_snapshot_ids == "snap-1;snap-2"
    # ShowTaskResponse has no use_public_ip or exist_server; the source's current task does.
    current = client.show_server(ShowServerRequest(source_id=create_body["source_server"]["id"])).current_task
    assert (current.use_public_ip, current.exist_server) == (False, True)
    # A partial update: what was not sent is unchanged.
    for key in ("type", "os_type", "region_name", "region_id", "project_name", "project_id", "migration_ip"):
        assert actual[key] == create_body[key], key
    assert (shown.priority, shown.state) == (1, "READY")

    # Elements sent with the id of an existing row keep it (updated in place).
    disk_ids, volume_ids = nested_ids(shown.target_server)
    kept = target_server_update("tgt-renamed")
    kept.disks[0].id = disk_ids[0]
    kept.disks[0].used_size = 2147483648
    kept.disks[0].physical_volumes[0].id = volume_ids[0]
    kept.disks[0].physical_volumes[0].used_size = 2147483648
    client.update_task(UpdateTaskRequest(task_id=task_id, body=PutTaskReq(target_server=kept)))
    again = show(client, task_id)
    assert nested_ids(again.target_server) == (disk_ids, volume_ids)
    assert again.target_server.disks[0].used_size == 2147483648
    assert again.target_server.disks[0].physical_volumes[0].used_size == 2147483648
    assert again.name == name, "fields not sent are unchanged"
