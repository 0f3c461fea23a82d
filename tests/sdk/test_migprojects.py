"""Migration projects through the SDK: create_migproject, list_migprojects, show_migproject,
update_migproject, delete_migproject, update_default_migproject, and the `migproject` filter of
list_servers.

The suite shares one service, so domain A's default project and its sources are shared with
other tests: every test that moves the default puts it back."""

import contextlib

from huaweicloudsdksms.v3 import (
    CreateMigprojectRequest,
    DeleteMigprojectRequest,
    DeleteServerRequest,
    ListMigprojectsRequest,
    ListServersRequest,
    MigProject,
    PostMigProjectBody,
    ShowMigprojectRequest,
    ShowMigprojectResponse,
    UpdateDefaultMigprojectRequest,
    UpdateMigprojectRequest,
)

from sdk_helpers import expect_error, register, to_json, unique_name

MISSING = "00000000-0000-4000-8000-000000000000"


def full_body(name):
    """Every field of PostMigProjectBody, none at its default."""
    return PostMigProjectBody(
        name=name,
        description="the web tier",
        isdefault=False,
        region="cn-north-4",
        start_target_server=False,
        speed_limit=100,
        use_public_ip=False,
        exist_server=False,
        type="MIGRATE_FILE",
        enterprise_project="ep-web",
        syncing=True,
        start_network_check=True,
    )


def create(client, body=None):
    body = body or PostMigProjectBody(name=unique_name("mp"), region="cn-north-4", type="MIGRATE_BLOCK")
    return client.create_migproject(CreateMigprojectRequest(body=body)).id


def show(client, project_id):
    return client.show_migproject(ShowMigprojectRequest(mig_project_id=project_id))


def all_projects(client):
    """Every project of the client's domain, paged the way Terraform's offset pager does."""
    first = client.list_migprojects(ListMigprojectsRequest())
    projects = list(first.migprojects)
    while True:
        page = client.list_migprojects(ListMigprojectsRequest(limit=min(len(projects), 100) or 1, offset=len(projects)))
        assert page.count == first.count
        if not page.migprojects:
            return first.count, projects
        projects.extend(page.migprojects)


def default_of(client):
    count, projects = all_projects(client)
    defaults = [p.id for p in projects if p.isdefault]
    assert len(defaults) == 1, f"exactly one default among {count}: {defaults}"
    return defaults[0]


def sources_in(client, project_id):
    page = client.list_servers(ListServersRequest(migproject=project_id, limit=200))
    return page.count, sorted(s.id for s in page.source_servers)


@contextlib.contextmanager
def default_restored(client):
    """Puts the domain's default project back when the block ends."""
    before = default_of(client)
    try:
        yield before
    finally:
        client.update_default_migproject(UpdateDefaultMigprojectRequest(mig_project_id=before))


def test_create_migproject_then_show_migproject_returns_every_field(client):
    body = full_body(unique_name("mp"))
    response = client.create_migproject(CreateMigprojectRequest(body=body))
    assert response.status_code == 200 and response.id
    shown = show(client, response.id)
    assert shown.status_code == 200
    assert to_json(shown) == to_json(body)
    assert "id" not in ShowMigprojectResponse.attribute_map


def test_create_migproject_takes_the_pages_defaults(client_a):
    name = unique_name("mp")
    shown = show(client_a, create(client_a, PostMigProjectBody(name=name, region="r1", type="MIGRATE_BLOCK")))
    assert (shown.name, shown.region, shown.type, shown.isdefault) == (name, "r1", "MIGRATE_BLOCK", False)
    assert (shown.start_target_server, shown.use_public_ip, shown.exist_server) == (True, True, True)
    assert (shown.speed_limit, shown.syncing, shown.start_network_check) == (0, False, False)
    assert (shown.enterprise_project, shown.description) == ("default", None)


def test_create_migproject_refuses_a_bad_type(client_a):
    body = PostMigProjectBody(name=unique_name("mp"), region="r1", type="MIGRATE_DISK")
    err = expect_error(lambda: client_a.create_migproject(CreateMigprojectRequest(body=body)), 400, "SMS.8001")
    assert err.error_msg.startswith("type:")


def test_list_migprojects_shows_the_default_and_every_project_with_ids(client):
    made = {create(client) for _ in range(3)}
    count, projects = all_projects(client)
    assert count == len(projects) >= 4
    ids = [p.id for p in projects]
    assert len(set(ids)) == len(ids), "no project twice across pages"
    assert made <= set(ids)
    assert sum(p.isdefault for p in projects) == 1
    # Past the end: an empty page, the exact count.
    past = client.list_migprojects(ListMigprojectsRequest(limit=10, offset=count))
    assert (past.count, past.migprojects) == (count, [])
    assert client.list_migprojects(ListMigprojectsRequest(limit=0)).migprojects == []


def test_update_migproject_changes_only_what_it_names(client_a):
    project_id = create(client_a, full_body(unique_name("mp")))
    before = to_json(show(client_a, project_id))
    new_name = unique_name("renamed")
    body = MigProject(name=new_name, speed_limit=500, use_public_ip=True)
    response = client_a.update_migproject(UpdateMigprojectRequest(mig_project_id=project_id, body=body))
    assert response.status_code == 200
    after = to_json(show(client_a, project_id))
    assert after == {**before, "name": new_name, "speed_limit": 500, "use_public_ip": True}
    missing = UpdateMigprojectRequest(mig_project_id=MISSING, body=MigProject(name="x"))
    expect_error(lambda: client_a.update_migproject(missing), 404, "SMS.8011")


def test_update_default_migproject_moves_the_default_and_new_sources_follow(client_a):
    project_id = create(client_a)
    with default_restored(client_a) as old_default:
        response = client_a.update_default_migproject(UpdateDefaultMigprojectRequest(mig_project_id=project_id))
        assert response.status_code == 200
        assert default_of(client_a) == project_id
        assert show(client_a, project_id).isdefault is True
        assert show(client_a, old_default).isdefault is False
        source_id = register(client_a)
        assert sources_in(client_a, project_id) == (1, [source_id])
        assert source_id not in sources_in(client_a, old_default)[1]
    assert default_of(client_a) == old_default
    expect_error(
        lambda: client_a.update_default_migproject(UpdateDefaultMigprojectRequest(mig_project_id=MISSING)),
        404,
        "SMS.8011",
    )


def test_delete_migproject_removes_it(client):
    project_id = create(client)
    response = client.delete_migproject(DeleteMigprojectRequest(mig_project_id=project_id))
    assert response.status_code == 200
    expect_error(lambda: show(client, project_id), 404, "SMS.8011")
    assert project_id not in {p.id for p in all_projects(client)[1]}
    expect_error(lambda: client.delete_migproject(DeleteMigprojectRequest(mig_project_id=project_id)), 404, "SMS.8011")


def test_delete_migproject_refuses_the_default_and_a_project_with_sources(client_a):
    project_id = create(client_a)
    with default_restored(client_a):
        client_a.update_default_migproject(UpdateDefaultMigprojectRequest(mig_project_id=project_id))
        source_id = register(client_a)
        err = expect_error(
            lambda: client_a.delete_migproject(DeleteMigprojectRequest(mig_project_id=project_id)), 400, "SMS.8001"
        )
        assert "default" in err.error_msg
    # No longer the default, but it has a source.
    expect_error(lambda: client_a.delete_migproject(DeleteMigprojectRequest(mig_project_id=project_id)), 400, "SMS.8012")
    assert show(client_a, project_id).name
    client_a.delete_server(DeleteServerRequest(source_id=source_id))
    client_a.delete_migproject(DeleteMigprojectRequest(mig_project_id=project_id))
    expect_error(lambda: show(client_a, project_id), 404, "SMS.8011")


def test_list_servers_filters_by_migproject(client_a):
    assert sources_in(client_a, MISSING) == (0, [])
    assert sources_in(client_a, "not-a-project") == (0, [])
    default_id = default_of(client_a)
    source_id = register(client_a)
    count, ids = sources_in(client_a, default_id)
    assert source_id in ids and count >= len(ids)


def test_another_domains_project_is_answered_as_a_missing_one(client_a, other_client):
    project_id = create(client_a)
    for call in (
        lambda: show(other_client, project_id),
        lambda: other_client.update_migproject(
            UpdateMigprojectRequest(mig_project_id=project_id, body=MigProject(name="theirs"))
        ),
        lambda: other_client.update_default_migproject(UpdateDefaultMigprojectRequest(mig_project_id=project_id)),
        lambda: other_client.delete_migproject(DeleteMigprojectRequest(mig_project_id=project_id)),
    ):
        err = expect_error(call, 404, "SMS.8011")
        assert err.error_msg == "The migration project does not exist."
    assert project_id not in {p.id for p in all_projects(other_client)[1]}
    assert sources_in(other_client, default_of(client_a)) == (0, [])
    assert show(client_a, project_id).isdefault is False
