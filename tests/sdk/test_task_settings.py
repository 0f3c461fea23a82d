"""A task's settings through the SDK: shows_speed_limits / update_speed,
upload_special_configuration_setting / show_config_setting, update_network_check_info and
show_passphrase; each asserted by reading the effect back."""

import uuid

from huaweicloudsdksms.v3 import (
    ConfigBody,
    ConfigurationRequestBody,
    ListTasksRequest,
    NetworkCheckInfoRequestBody,
    ShowConfigSettingRequest,
    ShowPassphraseRequest,
    ShowsSpeedLimitsRequest,
    ShowTaskRequest,
    SpeedLimit,
    SpeedLimitlJson,
    UpdateNetworkCheckInfoRequest,
    UpdateSpeedRequest,
    UploadSpecialConfigurationSettingRequest,
)

from sdk_helpers import create_example_task, expect_error, to_json


def speed_limits(client, task_id):
    response = client.shows_speed_limits(ShowsSpeedLimitsRequest(task_id=task_id))
    assert response.status_code == 200
    return [to_json(rule) for rule in response.speed_limit]


def set_speed_limits(client, task_id, rules):
    return client.update_speed(UpdateSpeedRequest(task_id=task_id, body=SpeedLimit(speed_limit=rules)))


def configurations(client, task_id, config_key=None):
    return client.show_config_setting(ShowConfigSettingRequest(task_id=task_id, config_key=config_key))


def upload(client, task_id, items):
    body = ConfigurationRequestBody(configurations=items)
    return client.upload_special_configuration_setting(
        UploadSpecialConfigurationSettingRequest(task_id=task_id, body=body)
    )


def network_report(**changes):
    fields = dict(
        domain_connectivity=True,
        destination_connectivity=True,
        network_delay=20.5,
        network_jitter=2.0,
        migration_speed=800.0,
        loss_percentage=0.0,
        cpu_usage=40.0,
        mem_usage=55.5,
        evaluation_result="success",
    )
    fields.update(changes)
    return NetworkCheckInfoRequestBody(**fields)


# --- speed limits ---------------------------------------------------------------------------


def test_update_speed_replaces_the_rules_that_shows_speed_limits_returns(client, new_task):
    task_id, _ = new_task
    assert speed_limits(client, task_id) == []

    rules = [
        SpeedLimitlJson(start="08:00", end="12:00", speed=100, over_speed_threshold=50.0),
        SpeedLimitlJson(start="00:00", end="08:00", speed=0),
        SpeedLimitlJson(start="12:00", end="23:59", speed=10000, over_speed_threshold=100.0),
    ]
    response = set_speed_limits(client, task_id, rules)
    assert response.status_code == 200
    assert speed_limits(client, task_id) == [
        {"start": "08:00", "end": "12:00", "speed": 100, "over_speed_threshold": 50.0},
        {"start": "00:00", "end": "08:00", "speed": 0},
        {"start": "12:00", "end": "23:59", "speed": 10000, "over_speed_threshold": 100.0},
    ]

    set_speed_limits(client, task_id, [SpeedLimitlJson(start="22:00", end="23:00", speed=5)])
    assert speed_limits(client, task_id) == [{"start": "22:00", "end": "23:00", "speed": 5}]
    set_speed_limits(client, task_id, [])
    assert speed_limits(client, task_id) == []


def test_update_speed_refuses_bad_rules_and_keeps_the_old_ones(client, new_task):
    task_id, _ = new_task
    set_speed_limits(client, task_id, [SpeedLimitlJson(start="01:00", end="02:00", speed=1)])
    cases = [
        ([SpeedLimitlJson(start="00:00", end="06:00", speed=1), SpeedLimitlJson(start="05:00", end="07:00", speed=1)],
         "speed_limit[1].start:"),
        ([SpeedLimitlJson(start="09:00", end="08:00", speed=1)], "speed_limit[0].end:"),
        ([SpeedLimitlJson(start="24:00", end="23:59", speed=1)], "speed_limit[0].start:"),
        ([SpeedLimitlJson(start="08:00", end="09:00", speed=10001)], "speed_limit[0].speed:"),
        ([SpeedLimitlJson(start="08:00", end="09:00", speed=1, over_speed_threshold=100.5)],
         "speed_limit[0].over_speed_threshold:"),
        # The SDK marks only `start` required; the service needs `end` and `speed` too.
        ([SpeedLimitlJson(start="08:00", speed=1)], "speed_limit[0].end:"),
    ]
    for rules, prefix in cases:
        err = expect_error(lambda: set_speed_limits(client, task_id, rules), 400, "SMS.8001")
        assert err.error_msg.startswith(prefix), err.error_msg
    assert speed_limits(client, task_id) == [{"start": "01:00", "end": "02:00", "speed": 1}]


# --- configurations -------------------------------------------------------------------------


def test_upload_special_configuration_setting_upserts_what_show_config_setting_returns(client, new_task):
    task_id, body = new_task
    shown = configurations(client, task_id)
    assert (shown.task_id, shown.migrate_type, shown.configurations) == (task_id, "LINUX_MIGRATE_FILE", [])

    response = upload(
        client,
        task_id,
        [
            ConfigBody(config_key="MIGRATE_EXCLUDE_DIR", config_value="/tmp", config_status="testA"),
            ConfigBody(config_key="NUM_PROCESS_MIGRATE", config_value="4"),
        ],
    )
    assert response.status_code == 200
    upload(
        client,
        task_id,
        [
            ConfigBody(config_key="SYNC_EXCLUDE_PATH", config_value="/old/name"),
            ConfigBody(config_key="MIGRATE_EXCLUDE_DIR", config_value="/tmp,/var/tmp", config_status="testB"),
        ],
    )
    expected = [
        {"config_key": "MIGRATE_EXCLUDE_DIR", "config_value": "/tmp,/var/tmp", "config_status": "testB"},
        {"config_key": "NUM_PROCESS_MIGRATE", "config_value": "4"},
        {"config_key": "SYNC_EXCLUDE_PATH", "config_value": "/old/name"},
    ]
    assert [to_json(c) for c in configurations(client, task_id).configurations] == expected
    only = configurations(client, task_id, config_key="NUM_PROCESS_MIGRATE")
    assert [to_json(c) for c in only.configurations] == [expected[1]]

    # The same rows are the task's special_config in list_tasks.
    listed = client.list_tasks(ListTasksRequest(name=body["name"])).tasks
    assert [to_json(c) for c in listed[0].special_config] == expected

    err = expect_error(
        lambda: upload(client, task_id, [ConfigBody(config_key="NO_SUCH_KEY", config_value="1")]), 400, "SMS.8001"
    )
    assert err.error_msg.startswith("configurations[0].config_key:"), err.error_msg
    assert len(configurations(client, task_id).configurations) == 3


# --- network check --------------------------------------------------------------------------


def test_update_network_check_info_is_shown_by_show_task_and_list_tasks(client, new_task):
    task_id, body = new_task
    report = network_report()
    response = client.update_network_check_info(UpdateNetworkCheckInfoRequest(task_id=task_id, body=report))
    assert response.task_id == task_id

    shown = client.show_task(ShowTaskRequest(task_id=task_id))
    assert to_json(shown.network_check_info) == to_json(report)
    listed = client.list_tasks(ListTasksRequest(name=body["name"])).tasks
    assert to_json(listed[0].network_check_info) == to_json(report)

    # The SDK's mandatory fields alone: the new report replaces the old one whole.
    minimal = NetworkCheckInfoRequestBody(network_delay=1.0, migration_speed=10.0, cpu_usage=99.0, evaluation_result="failed")
    client.update_network_check_info(UpdateNetworkCheckInfoRequest(task_id=task_id, body=minimal))
    assert to_json(client.show_task(ShowTaskRequest(task_id=task_id)).network_check_info) == to_json(minimal)

    bad = network_report(loss_percentage=100.5)
    err = expect_error(
        lambda: client.update_network_check_info(UpdateNetworkCheckInfoRequest(task_id=task_id, body=bad)),
        400,
        "SMS.8001",
    )
    assert err.error_msg.startswith("loss_percentage:"), err.error_msg


# --- passphrase -----------------------------------------------------------------------------


def test_show_passphrase_is_the_tasks_own_and_stable(client, client_a, new_task):
    task_id, _ = new_task
    first = client.show_passphrase(ShowPassphraseRequest(task_id=task_id))
    assert first.task_id == task_id
    assert isinstance(first.passphrase, str) and len(first.passphrase) >= 32
    assert client.show_passphrase(ShowPassphraseRequest(task_id=task_id)).passphrase == first.passphrase
    other_id, _, _, _ = create_example_task(client_a)
    assert client.show_passphrase(ShowPassphraseRequest(task_id=other_id)).passphrase != first.passphrase


# --- tenancy ----------------------------------------------------------------------------------


def test_another_domain_gets_404_on_every_settings_call(client_a, other_client, new_task):
    task_id, _ = new_task
    set_speed_limits(client_a, task_id, [SpeedLimitlJson(start="01:00", end="02:00", speed=1)])
    for task in (task_id, str(uuid.uuid4())):
        calls = {
            "shows_speed_limits": lambda: other_client.shows_speed_limits(ShowsSpeedLimitsRequest(task_id=task)),
            "update_speed": lambda: set_speed_limits(other_client, task, []),
            "upload_special_configuration_setting": lambda: upload(
                other_client, task, [ConfigBody(config_key="DYNAMIC_PORT", config_value="1")]
            ),
            "show_config_setting": lambda: configurations(other_client, task),
            "update_network_check_info": lambda: other_client.update_network_check_info(
                UpdateNetworkCheckInfoRequest(task_id=task, body=network_report())
            ),
            "show_passphrase": lambda: other_client.show_passphrase(ShowPassphraseRequest(task_id=task)),
        }
        for name, call in calls.items():
            err = expect_error(call, 404, "SMS.8005")
            assert err.error_msg == "The migration task does not exist.", name
    # Nothing of A's task changed.
    assert speed_limits(client_a, task_id) == [{"start": "01:00", "end": "02:00", "speed": 1}]
    assert configurations(client_a, task_id).configurations == []
    assert client_a.show_task(ShowTaskRequest(task_id=task_id)).network_check_info is None
