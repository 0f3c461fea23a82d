"""Helpers of the SDK suite: clients, example bodies, JSON -> SDK model conversion, error checks.

Everything here goes through the official, unmodified SDK (huaweicloudsdksms and
huaweicloudsdkcore 3.1.219): requests are built from the SDK's own model classes and sent by the
SDK's own client, which signs them (SDK-HMAC-SHA256) and raises its own exceptions.
"""

import json
import os
import re
import time
import uuid
from pathlib import Path

import pytest
from huaweicloudsdkcore.auth.credentials import BasicCredentials, GlobalCredentials
from huaweicloudsdkcore.client import ClientBuilder
from huaweicloudsdkcore.exceptions import exceptions
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdksms.v3 import (
    BtrfsFileSystem,
    BtrfsSubvolumn,
    CreateTaskRequest,
    LogicalVolumes,
    NetWork,
    PhysicalVolume,
    PostSourceServerBody,
    RegisterServerRequest,
    ServerDisk,
    SmsClient,
    VolumeGroups,
)
import huaweicloudsdksms.v3.model as sms_models

# The project id sent in X-Project-Id by BasicCredentials (an attribute, not a boundary).
PROJECT_ID = os.environ.get("SMS_PROJECT_ID", "sdk-suite-project")

ENV_VARS = (
    "SMS_ENDPOINT",
    "SMS_AK",
    "SMS_SK",
    "SMS_DOMAIN_ID",
    "SMS_OTHER_AK",
    "SMS_OTHER_SK",
    "SMS_OTHER_DOMAIN_ID",
    "SMS_FIXTURES_DIR",
)

# The two ways of building a client that the suite covers.
CREDENTIAL_KINDS = ("global", "basic")


def env(name):
    return os.environ[name]


def http_config():
    config = HttpConfig.get_default_config()
    config.timeout = (5, 30)
    return config


def global_client(ak, sk, domain_id):
    """`GlobalCredentials` (X-Domain-Id). `SmsClient.new_builder()` accepts only BasicCredentials
    in 3.1.219, so the builder is made directly with both credential types allowed. No region:
    the SDK then makes no IAM call."""
    return (
        ClientBuilder(SmsClient, "BasicCredentials,GlobalCredentials")
        .with_http_config(http_config())
        .with_credentials(GlobalCredentials(ak, sk, domain_id))
        .with_endpoints([env("SMS_ENDPOINT")])
        .build()
    )


def basic_client(ak, sk, project_id=PROJECT_ID):
    """`SmsClient.new_builder()` with `BasicCredentials` (X-Project-Id)."""
    return (
        SmsClient.new_builder()
        .with_http_config(http_config())
        .with_credentials(BasicCredentials(ak, sk, project_id))
        .with_endpoints([env("SMS_ENDPOINT")])
        .build()
    )


def client_of(kind, ak=None, sk=None, domain_id=None):
    """A client of domain A (or of the given key) built the `kind` way."""
    ak = ak or env("SMS_AK")
    sk = sk or env("SMS_SK")
    if kind == "global":
        return global_client(ak, sk, domain_id or env("SMS_DOMAIN_ID"))
    if kind == "basic":
        return basic_client(ak, sk)
    raise ValueError(kind)


def unique_name(prefix="sdk"):
    """A task or server name no other test uses: letters, digits and `_` only."""
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


# --- example bodies ---------------------------------------------------------------------------


def fixture(name):
    """A JSON fixture from SMS_FIXTURES_DIR (`tests/fixtures`): an example body of the API pages."""
    return json.loads((Path(env("SMS_FIXTURES_DIR")) / name).read_text(encoding="utf-8"))


def create_task_example():
    """Seed 003's example `POST /v3/tasks` body, as JSON."""
    return fixture("create_task_example.json")


def update_task_example():
    """Seed 004's example `PUT /v3/tasks/{task_id}` body, as JSON."""
    return fixture("update_task_example.json")


# --- JSON -> SDK models ---------------------------------------------------------------------

_LIST = re.compile(r"^list\[(.+)\]$")
_DICT = re.compile(r"^dict\(([^,]+), (.+)\)$")
_PRIMITIVES = {"str": str, "int": int, "float": float, "bool": bool, "object": object}


def to_model(type_name, value, dropped=None, path=""):
    """Builds the SDK model `type_name` (e.g. "PostTask") from JSON through the models'
    constructors, following their `openapi_types`. Keys the model has no attribute for are not
    sent (the SDK cannot carry them); their JSON paths are appended to `dropped`."""
    if dropped is None:
        dropped = []
    if value is None:
        return None
    match = _LIST.match(type_name)
    if match:
        return [to_model(match.group(1), item, dropped, f"{path}[{i}]") for i, item in enumerate(value)]
    match = _DICT.match(type_name)
    if match:
        return {k: to_model(match.group(2), v, dropped, f"{path}.{k}") for k, v in value.items()}
    if type_name in _PRIMITIVES:
        return value
    cls = getattr(sms_models, type_name)
    by_json_key = {json_key: attr for attr, json_key in cls.attribute_map.items()}
    kwargs = {}
    for key, item in value.items():
        child = f"{path}.{key}" if path else key
        attr = by_json_key.get(key)
        if attr is None:
            dropped.append(child)
            continue
        kwargs[attr] = to_model(cls.openapi_types[attr], item, dropped, child)
    return cls(**kwargs)


def to_json(model):
    """What the SDK sends for `model` (None fields left out), as plain JSON."""
    from huaweicloudsdkcore.utils.http_utils import sanitize_for_serialization

    return json.loads(json.dumps(sanitize_for_serialization(model), default=str))


# --- errors ---------------------------------------------------------------------------------


def expect_error(call, status, code, exception=exceptions.ClientRequestException):
    """Runs `call`, which must raise the SDK's `exception` with `status` and `code` and a request
    id; returns the exception."""
    with pytest.raises(exception) as caught:
        call()
    err = caught.value
    assert (err.status_code, err.error_code) == (status, code), f"got {err.status_code} {err.error_code}: {err.error_msg}"
    assert err.request_id, f"no request id on the {status} {code} exception"
    assert err.error_msg, f"no error message on the {status} {code} exception"
    return err


# --- things to test with ---------------------------------------------------------------------


def full_source_body(name):
    """A source server with every part of its tree: disks with physical volumes, volume groups
    with logical volumes, Btrfs file systems with subvolumes, networks."""
    return PostSourceServerBody(
        name=name,
        hostname=f"host-{name}"[:64],
        ip="192.168.10.21",
        os_type="LINUX",
        os_version="CENTOS_7_64BIT",
        firmware="BIOS",
        cpu_quantity=4,
        memory=8192,
        agent_version="24.3.0",
        kernel_version="3.10.0-1160.el7.x86_64",
        boot_loader="GRUB",
        system_dir="/boot",
        has_rsync=True,
        paravirtualization=False,
        oem_system=False,
        has_tc=True,
        start_type="MANUAL",
        platform="vmware",
        disks=[
            ServerDisk(
                name="/dev/vda",
                partition_style="MBR",
                device_use="BOOT",
                size=42949672960,
                used_size=5368709120,
                os_disk=True,
                physical_volumes=[
                    PhysicalVolume(
                        name="/dev/vda1",
                        device_use="OS",
                        file_system="ext4",
                        index=0,
                        mount_point="/",
                        size=42947575808,
                        used_size=5346484224,
                        inode_size=256,
                        inode_nums=2621440,
                        uuid="7f2c1a52-8a4c-4f4e-9f61-3b2c6f0e0001",
                    ),
                    PhysicalVolume(
                        name="/dev/vda2",
                        device_use="NORMAL",
                        file_system="xfs",
                        index=1,
                        mount_point="/data",
                        size=2097152,
                        used_size=1024,
                    ),
                ],
            ),
            ServerDisk(
                name="/dev/vdb",
                partition_style="GPT",
                device_use="NORMAL",
                size=107374182400,
                used_size=0,
                physical_volumes=[],
            ),
        ],
        volume_groups=[
            VolumeGroups(
                name="vg_data",
                components="/dev/vdb1",
                size=107374182400,
                free_size=53687091200,
                logical_volumes=[
                    LogicalVolumes(
                        name="lv_home",
                        file_system="xfs",
                        mount_point="/home",
                        size=53687091200,
                        used_size=1073741824,
                        free_size=52613349376,
                        inode_size=512,
                        block_count=13107200,
                        block_size=4096,
                    )
                ],
            )
        ],
        btrfs_list=[
            BtrfsFileSystem(
                name="/dev/vdc",
                label="data",
                uuid="a0b1c2d3-0000-4000-8000-000000000001",
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
                default_subvol_mountpath="/mnt/data",
                subvolumn=[
                    BtrfsSubvolumn(
                        uuid="a0b1c2d3-0000-4000-8000-000000000002",
                        is_snapshot="false",
                        subvol_id="256",
                        parent_id="5",
                        subvol_name="@home",
                        subvol_mount_path="/mnt/data/home",
                    )
                ],
            )
        ],
        networks=[
            NetWork(
                name="eth0",
                ip="192.168.10.21",
                netmask="255.255.255.0",
                gateway="192.168.10.1",
                mtu=1500,
                mac="fa:16:3e:00:00:01",
            ),
            NetWork(
                name="eth1",
                ip="10.0.0.5",
                netmask="255.0.0.0",
                gateway="10.0.0.1",
                mtu=9000,
                mac="fa:16:3e:00:00:02",
            ),
        ],
    )


def register(client, body=None):
    """Registers a source server (the full tree unless `body` is given); returns its id."""
    body = body or full_source_body(unique_name("src"))
    return client.register_server(RegisterServerRequest(body=body)).id


def create_example_task(client, name=None, source_id=None):
    """Registers a source and creates seed 003's example task for it, renamed `name` (unique by
    default). Returns (task id, the create body as JSON, epoch ms before, epoch ms after)."""
    source_id = source_id or register(client)
    body = create_task_example()
    body["source_server"]["id"] = source_id
    body["name"] = name or unique_name("task")
    dropped = []
    model = to_model("PostTask", body, dropped)
    assert dropped == [], f"PostTask cannot carry {dropped}"
    before = int(time.time() * 1000)
    task_id = client.create_task(CreateTaskRequest(body=model)).id
    after = int(time.time() * 1000)
    return task_id, body, before, after


def assert_matches(expected, actual, path="$"):
    """Every value of `expected` (JSON) is in `actual` (JSON) at the same place; lists must have
    the same length and match element by element. Keys `actual` has beyond `expected` are
    ignored: check those separately."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{path}: expected an object, got {actual!r}"
        for key, value in expected.items():
            assert_matches(value, actual.get(key), f"{path}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list), f"{path}: expected a list, got {actual!r}"
        assert len(actual) == len(expected), f"{path}: expected {len(expected)} elements, got {len(actual)}: {actual!r}"
        for i, (e, a) in enumerate(zip(expected, actual)):
            assert_matches(e, a, f"{path}[{i}]")
    else:
        assert actual == expected, f"{path}: expected {expected!r}, got {actual!r}"
