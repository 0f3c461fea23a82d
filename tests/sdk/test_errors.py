"""Error paths, as the SDK raises them: its own ClientRequestException with the status, the
service's error_code and error_msg, and the request id from X-Request-Id."""

import os
import uuid

from huaweicloudsdksms.v3 import (
    CreateTaskRequest,
    ListTasksRequest,
    PostSourceServerBody,
    PutTaskReq,
    RegisterServerRequest,
    ShowTaskRequest,
    UpdateTaskRequest,
)

from sdk_helpers import (
    client_of,
    create_example_task,
    create_task_example,
    expect_error,
    global_client,
    register,
    to_model,
    unique_name,
)


def post_task(source_id, **changes):
    body = create_task_example()
    body["source_server"]["id"] = source_id
    body["name"] = unique_name("err")
    body.update(changes)
    return to_model("PostTask", body)


def test_show_task_of_a_missing_task(client):
    missing = str(uuid.uuid4())
    err = expect_error(lambda: client.show_task(ShowTaskRequest(task_id=missing)), 404, "SMS.8005")
    assert err.encoded_auth_msg is None


def test_update_task_of_a_missing_task(client):
    missing = str(uuid.uuid4())
    request = UpdateTaskRequest(task_id=missing, body=PutTaskReq(name="renamed"))
    expect_error(lambda: client.update_task(request), 404, "SMS.8005")


def test_create_task_with_an_invalid_body(client):
    source_id = register(client)
    bad_name = post_task(source_id, name="bad name")
    err = expect_error(lambda: client.create_task(CreateTaskRequest(body=bad_name)), 400, "SMS.8001")
    assert err.error_msg.startswith("name:"), err.error_msg
    bad_speed = post_task(source_id, speed_limit=1001)
    err = expect_error(lambda: client.create_task(CreateTaskRequest(body=bad_speed)), 400, "SMS.8001")
    assert err.error_msg.startswith("speed_limit:"), err.error_msg
    # Nothing was created: the source can still get its task.
    client.create_task(CreateTaskRequest(body=post_task(source_id)))


def test_create_task_for_an_unknown_source(client):
    body = post_task(str(uuid.uuid4()))
    expect_error(lambda: client.create_task(CreateTaskRequest(body=body)), 400, "SMS.2216")


def test_create_task_for_another_domains_source(client, other_client):
    foreign = register(other_client)
    body = post_task(foreign)
    # Answered exactly as a missing source: existence is not revealed.
    expect_error(lambda: client.create_task(CreateTaskRequest(body=body)), 400, "SMS.2216")


def test_create_a_second_task_for_a_source(client_a):
    task_id, body, _, _ = create_example_task(client_a)
    again = post_task(body["source_server"]["id"])
    expect_error(lambda: client_a.create_task(CreateTaskRequest(body=again)), 400, "SMS.8004")


def test_update_task_with_an_invalid_value(client_a, new_task):
    task_id, _ = new_task
    request = UpdateTaskRequest(task_id=task_id, body=PutTaskReq(speed_limit=10001))
    err = expect_error(lambda: client_a.update_task(request), 400, "SMS.8001")
    assert err.error_msg.startswith("speed_limit:"), err.error_msg


def test_list_tasks_with_an_invalid_limit(client):
    err = expect_error(lambda: client.list_tasks(ListTasksRequest(limit=201)), 400, "SMS.8001")
    assert err.error_msg.startswith("limit:"), err.error_msg


def test_register_server_without_its_mandatory_fields(client):
    body = PostSourceServerBody(name=unique_name("src"), ip="10.0.0.1")
    err = expect_error(lambda: client.register_server(RegisterServerRequest(body=body)), 400, "SMS.8001")
    assert err.error_msg.startswith("os_type:"), err.error_msg


def test_a_wrong_secret_key(kind):
    wrong = client_of(kind, sk="not-the-secret-key")
    err = expect_error(lambda: wrong.list_tasks(ListTasksRequest()), 401, "APIGW.0301")
    assert err.error_msg.startswith("Incorrect IAM authentication information"), err.error_msg
    # One failure does not lock the key; a correct signature resets the failure count (five
    # failures in a row would lock the suite's key).
    assert client_of(kind).list_tasks(ListTasksRequest(limit=1)).status_code == 200


def test_an_unknown_access_key(kind):
    unknown = client_of(kind, ak="NOSUCHACCESSKEY", sk="whatever")
    err = expect_error(lambda: unknown.list_tasks(ListTasksRequest()), 401, "APIGW.0301")
    assert "ak not exist" in err.error_msg, err.error_msg


def test_global_credentials_naming_another_domain():
    wrong_domain = global_client(os.environ["SMS_AK"], os.environ["SMS_SK"], os.environ["SMS_OTHER_DOMAIN_ID"])
    err = expect_error(lambda: wrong_domain.list_tasks(ListTasksRequest()), 403, "SMS.9004")
    # The 403 body carries encoded_authorization_message, which the SDK keeps.
    assert err.encoded_auth_msg is not None


def test_another_domain_cannot_see_or_change_a_task(client_a, other_client, new_task):
    task_id, body = new_task
    expect_error(lambda: other_client.show_task(ShowTaskRequest(task_id=task_id)), 404, "SMS.8005")
    update = UpdateTaskRequest(task_id=task_id, body=PutTaskReq(name="stolen"))
    expect_error(lambda: other_client.update_task(update), 404, "SMS.8005")
    assert other_client.list_tasks(ListTasksRequest(id=task_id)).count == 0
    assert other_client.list_tasks(ListTasksRequest(name=body["name"])).count == 0
    # Still there, unchanged, for its own domain.
    assert client_a.show_task(ShowTaskRequest(task_id=task_id)).name == body["name"]
