"""Source servers through the SDK: register_server, show_server, list_servers."""

import random
import time

from huaweicloudsdksms.v3 import (
    ListServersRequest,
    PostSourceServerBody,
    RegisterServerRequest,
    ShowServerRequest,
    ShowServerResponse,
)

from sdk_helpers import (
    assert_matches,
    create_example_task,
    expect_error,
    full_source_body,
    register,
    to_json,
    unique_name,
)


def shown_part(body_json):
    """The registered fields that ShowServerResponse carries back."""
    shown = set(ShowServerResponse.attribute_map.values())
    return {key: value for key, value in body_json.items() if key in shown}


def test_register_server_then_show_server_returns_the_whole_tree(client):
    body = full_source_body(unique_name("src"))
    before = int(time.time() * 1000)
    response = client.register_server(RegisterServerRequest(body=body))
    after = int(time.time() * 1000)
    assert response.status_code == 200
    source_id = response.id

    shown = client.show_server(ShowServerRequest(source_id=source_id))
    assert shown.status_code == 200
    assert shown.id == source_id
    # Every registered field ShowServerResponse has, the nested disks -> physical volumes,
    # volume groups -> logical volumes, Btrfs file systems -> subvolumes and networks included.
    expected = shown_part(to_json(body))
    assert set(expected) >= {"disks", "volume_groups", "btrfs_list", "networks", "hostname", "memory"}
    assert_matches(expected, to_json(shown))
    # Registration defaults (api-decisions.md, Source servers).
    assert shown.state == "waiting"
    assert shown.connected is True
    assert before - 1000 <= shown.add_date <= after + 1000
    assert shown.current_task is None
    # Nested networks get ids of their own.
    assert all(network.id for network in shown.networks)


def test_show_server_names_the_task_created_for_it(client_a):
    source_id = register(client_a)
    task_id, body, _, _ = create_example_task(client_a, source_id=source_id)
    shown = client_a.show_server(ShowServerRequest(source_id=source_id))
    task = shown.current_task
    assert task is not None
    assert (task.id, task.name, task.type, task.state) == (task_id, body["name"], body["type"], "READY")
    assert (task.region_id, task.project_name, task.project_id) == (
        body["region_id"],
        body["project_name"],
        body["project_id"],
    )
    assert task.use_public_ip is True
    assert task.start_target_server is True


def test_register_server_with_a_minimal_body(client):
    name = unique_name("min")
    source_id = register(client, PostSourceServerBody(name=name, os_type="WINDOWS", ip="10.1.2.3"))
    shown = client.show_server(ShowServerRequest(source_id=source_id))
    assert (shown.name, shown.os_type, shown.ip) == (name, "WINDOWS", "10.1.2.3")
    assert shown.disks == [] and shown.networks == [] and shown.volume_groups == [] and shown.btrfs_list == []


def random_ip():
    return "172.{}.{}.{}".format(random.randint(16, 31), random.randint(0, 255), random.randint(1, 254))


def test_list_servers_filters(client):
    name = unique_name("lst")
    body = full_source_body(name)
    body.ip = random_ip()
    source_id = register(client, body)

    def ids(**query):
        response = client.list_servers(ListServersRequest(**query))
        assert response.count == len(response.source_servers) or query.get("limit") is not None
        return response.count, [server.id for server in response.source_servers]

    assert ids(name=name) == (1, [source_id])
    # `name` is a case-insensitive substring.
    assert ids(name=name[4:].upper()) == (1, [source_id])
    assert ids(id=source_id) == (1, [source_id])
    assert ids(id=source_id, name="no-such-name") == (0, [])
    assert ids(ip=body.ip) == (1, [source_id])
    assert ids(name=name, state="waiting") == (1, [source_id])
    assert ids(name=name, connected=True) == (1, [source_id])
    assert ids(name=name, connected=False) == (0, [])

    item = client.list_servers(ListServersRequest(id=source_id)).source_servers[0]
    assert (item.name, item.ip, item.os_type, item.os_version) == (name, body.ip, "LINUX", "CENTOS_7_64BIT")
    assert (item.cpu_quantity, item.memory, item.state, item.connected) == (4, 8192, "waiting", True)


def test_list_servers_pages(client_a):
    prefix = unique_name("pg")
    registered = [register(client_a, full_source_body(f"{prefix}_{i}")) for i in range(3)]
    pages = []
    for offset in (0, 2, 4):
        response = client_a.list_servers(ListServersRequest(name=prefix, limit=2, offset=offset))
        assert response.count == 3, "count does not depend on limit and offset"
        pages.append([server.id for server in response.source_servers])
    assert [len(page) for page in pages] == [2, 1, 0]
    assert sorted(pages[0] + pages[1]) == sorted(registered)


def test_show_server_of_a_missing_or_foreign_source(client_a, other_client):
    source_id = register(client_a)
    expect_error(lambda: other_client.show_server(ShowServerRequest(source_id=source_id)), 404, "SMS.8006")
    missing = "00000000-0000-4000-8000-000000000000"
    expect_error(lambda: client_a.show_server(ShowServerRequest(source_id=missing)), 404, "SMS.8006")
    assert other_client.list_servers(ListServersRequest(id=source_id)).count == 0
