"""The task lifecycle through the SDK: update_task_status, show_command, update_command_result,
update_task_speed, collect_log, delete_task, delete_tasks, delete_server, delete_servers."""

from huaweicloudsdksms.v3 import (
    CollectLogRequest,
    CommandBody,
    DeleteIds,
    DeleteServerRequest,
    DeleteServersRequest,
    DeleteTaskRequest,
    DeleteTasksReq,
    DeleteTasksRequest,
    ListTasksRequest,
    ShowCommandRequest,
    ShowServerRequest,
    ShowTaskRequest,
    UpdateCommandResultRequest,
    UpdateTaskSpeedReq,
    UpdateTaskSpeedRequest,
    UpdateTaskStatusReq,
    UpdateTaskStatusRequest,
    UploadLogRequestBody,
)

from sdk_helpers import create_example_task, expect_error, register


def act(client, task_id, operation, **fields):
    body = UpdateTaskStatusReq(operation=operation, **fields)
    return client.update_task_status(UpdateTaskStatusRequest(task_id=task_id, body=body))


def ack(client, source_id, name, result="success", detail=None):
    body = CommandBody(command_name=name, result=result, result_detail=detail or {"msg": "done"})
    return client.update_command_result(UpdateCommandResultRequest(server_id=source_id, body=body))


def report(client, task_id, subtask, progress):
    body = UpdateTaskSpeedReq(
        subtask_name=subtask, progress=progress, replicatesize=1024, totalsize=2048,
        process_trace=f"{subtask} {progress}", migrate_speed=8.5, remain_time=10,
    )
    return client.update_task_speed(UpdateTaskSpeedRequest(task_id=task_id, body=body))


def test_a_task_runs_from_start_to_migrate_success(client):
    source_id = register(client)
    task_id, _, _, _ = create_example_task(client, source_id=source_id)
    assert act(client, task_id, "start").status_code == 200
    task = client.show_task(ShowTaskRequest(task_id=task_id))
    assert task.state == "RUNNING"
    names = [subtask.name for subtask in task.sub_tasks]
    assert names[0] == "CREATE_CLOUD_SERVER" and names[-1] == "DETTACH_AGENT_IMAGE"

    command = client.show_command(ShowCommandRequest(server_id=source_id))
    assert command.command_name == "START"
    assert command.command_param.task_id == task_id
    assert ack(client, source_id, "START").status_code == 200
    assert client.show_command(ShowCommandRequest(server_id=source_id)).command_name is None

    for name in names:
        assert report(client, task_id, name, 100).status_code == 200
    task = client.show_task(ShowTaskRequest(task_id=task_id))
    assert task.state == "MIGRATE_SUCCESS"
    assert task.finish_date and all(subtask.progress == 100 for subtask in task.sub_tasks)
    source = client.show_server(ShowServerRequest(source_id=source_id))
    assert (source.state, source.migration_cycle) == ("finished", "cutovered")


def test_refused_actions_carry_their_codes(client_a):
    task_id, _, _, _ = create_example_task(client_a)
    expect_error(lambda: act(client_a, task_id, "stop"), 400, "SMS.1038")
    expect_error(lambda: act(client_a, task_id, "restart"), 400, "SMS.1040")
    expect_error(lambda: act(client_a, task_id, "skip"), 400, "SMS.8009")
    act(client_a, task_id, "start")
    expect_error(lambda: act(client_a, task_id, "start"), 400, "SMS.1039")
    expect_error(lambda: report(client_a, task_id, "NOT_A_SUBTASK", 1), 400, "SMS.8001")


def test_a_stopped_task_is_deleted_and_its_source_takes_a_new_one(client):
    source_id = register(client)
    task_id, _, _, _ = create_example_task(client, source_id=source_id)
    act(client, task_id, "start")
    expect_error(lambda: client.delete_task(DeleteTaskRequest(task_id=task_id)), 400, "SMS.2015")
    act(client, task_id, "stop")
    assert client.delete_task(DeleteTaskRequest(task_id=task_id)).status_code == 200
    expect_error(lambda: client.show_task(ShowTaskRequest(task_id=task_id)), 404, "SMS.8005")
    source = client.show_server(ShowServerRequest(source_id=source_id))
    assert (source.state, source.current_task) == ("waiting", None)
    create_example_task(client, source_id=source_id)


def test_batch_deletes_of_tasks_and_sources(client_a):
    first, _, _, _ = create_example_task(client_a)
    second, _, _, _ = create_example_task(client_a)
    missing = "00000000-0000-4000-8000-00000000abcd"
    bad = DeleteTasksRequest(body=DeleteTasksReq(ids=[first, missing]))
    expect_error(lambda: client_a.delete_tasks(bad), 404, "SMS.8005")
    assert client_a.list_tasks(ListTasksRequest(id=first)).count == 1
    assert client_a.delete_tasks(DeleteTasksRequest(body=DeleteTasksReq(ids=[first, second]))).status_code == 200
    assert client_a.list_tasks(ListTasksRequest(id=second)).count == 0

    source_a, source_b = register(client_a), register(client_a)
    task_id, _, _, _ = create_example_task(client_a, source_id=source_b)
    assert client_a.delete_server(DeleteServerRequest(source_id=source_a)).status_code == 200
    assert client_a.delete_servers(DeleteServersRequest(body=DeleteIds(ids=[source_b]))).status_code == 200
    expect_error(lambda: client_a.show_server(ShowServerRequest(source_id=source_b)), 404, "SMS.8006")
    expect_error(lambda: client_a.show_task(ShowTaskRequest(task_id=task_id)), 404, "SMS.8005")


def test_collect_log_queues_an_upload_that_the_agent_reports(client_a):
    source_id = register(client_a)
    task_id, _, _, _ = create_example_task(client_a, source_id=source_id)
    body = UploadLogRequestBody(log_bucket="log-bucket")
    assert client_a.collect_log(CollectLogRequest(task_id=task_id, body=body)).status_code == 200
    command = client_a.show_command(ShowCommandRequest(server_id=source_id))
    assert (command.command_name, command.command_param.bucket) == ("UPLOAD_LOG", "log-bucket")
    expect_error(lambda: ack(client_a, source_id, "START"), 400, "SMS.2009")
    ack(client_a, source_id, "UPLOAD_LOG")
    listed = client_a.list_tasks(ListTasksRequest(id=task_id)).tasks[0]
    assert listed.log_collect_status == "UPLOADED"


def test_another_domain_cannot_drive_or_read_the_lifecycle(client_a, other_client):
    source_id = register(client_a)
    task_id, _, _, _ = create_example_task(client_a, source_id=source_id)
    act(client_a, task_id, "start")
    expect_error(lambda: act(other_client, task_id, "stop"), 404, "SMS.8005")
    expect_error(lambda: other_client.show_command(ShowCommandRequest(server_id=source_id)), 404, "SMS.8006")
    expect_error(lambda: ack(other_client, source_id, "START"), 404, "SMS.8006")
    expect_error(lambda: other_client.delete_task(DeleteTaskRequest(task_id=task_id)), 404, "SMS.8005")
    expect_error(lambda: other_client.delete_server(DeleteServerRequest(source_id=source_id)), 404, "SMS.8006")
    assert client_a.show_command(ShowCommandRequest(server_id=source_id)).command_name == "START"
