"""Server templates through the SDK: create_template, show_template, list_templates,
update_template, delete_template, delete_templates and show_target_password, each asserting its
effect through the SDK's own reads."""

import uuid

from huaweicloudsdksms.v3 import (
    CreateTemplateReq,
    CreateTemplateRequest,
    DeleteTemplateRequest,
    DeletetemplatesReq,
    DeleteTemplatesRequest,
    ListTemplatesRequest,
    ShowTargetPasswordRequest,
    ShowTemplateRequest,
    TemplateRequest,
    UpdateTemplateReq,
    UpdateTemplateRequest,
)

from sdk_helpers import expect_error, to_json, to_model, unique_name


def full_template(name, availability_zone="cn-north-4a", region="cn-north-4"):
    """A TemplateRequest with every field, as JSON."""
    return {
        "name": name,
        "is_template": False,
        "region": region,
        "projectid": "0123456789abcdef0123456789abcdef",
        "target_server_name": f"{name}-target",
        "availability_zone": availability_zone,
        "volumetype": "SAS",
        "flavor": "s6.large.2",
        "vpc": {"id": "vpc-1", "name": "vpc-one", "cidr": "192.168.0.0/16"},
        "nics": [
            {"id": "subnet-1", "name": "subnet-one", "cidr": "192.168.0.0/24", "ip": "192.168.0.10"},
            {"id": "autoCreate", "name": "autoCreate"},
        ],
        "security_groups": [{"id": "sg-1", "name": "default"}, {"id": "sg-2", "name": "web"}],
        "publicip": {"type": "5_bgp", "bandwidth_size": 100, "bandwidth_share_type": "PER"},
        "disk": [
            {"id": 1, "index": 0, "name": "system", "disktype": "SSD", "size": 40, "device_use": "BOOT"},
            {"id": 2, "index": 1, "name": "data", "disktype": "SAS", "size": 100, "device_use": "NORMAL"},
        ],
        "data_volume_type": "SAS",
        "target_password": "P@ssw0rd-1",
        "image_id": "image-1",
    }


def create(client, template_json):
    """Creates the template (JSON) through the SDK's models; returns its id."""
    template = to_model("TemplateRequest", template_json)
    response = client.create_template(CreateTemplateRequest(body=CreateTemplateReq(template=template)))
    assert response.status_code == 200
    assert response.id
    return response.id


def show(client, template_id):
    response = client.show_template(ShowTemplateRequest(id=template_id))
    assert response.status_code == 200
    return response.template


def served(template_id, template_json):
    """What show_template returns for `template_json`, as JSON (None fields left out)."""
    expected = {key: value for key, value in template_json.items() if value is not None}
    expected["id"] = template_id
    expected["is_template"] = "false" if template_json.get("is_template") is False else "true"
    return expected


def listed(client, **query):
    response = client.list_templates(ListTemplatesRequest(**query))
    assert response.status_code == 200
    return response.count, [t.id for t in response.templates]


def test_create_template_then_show_template_returns_every_field(client):
    body = full_template(unique_name("tpl"))
    template_id = create(client, body)
    shown = show(client, template_id)
    assert to_json(shown) == served(template_id, body)
    # `is_template` is a string in responses (TemplateResponseBody.is_template: str).
    assert shown.is_template == "false"
    assert [nic.id for nic in shown.nics] == ["subnet-1", "autoCreate"]
    assert [disk.index for disk in shown.disk] == [0, 1]


def test_create_template_with_only_a_name(client):
    name = unique_name("min")
    template_id = create(client, {"name": name})
    shown = show(client, template_id)
    assert (shown.name, shown.is_template) == (name, "true")
    assert shown.vpc is None and shown.publicip is None
    assert shown.nics == [] and shown.security_groups == [] and shown.disk == []


def test_create_template_refuses_a_body_naming_the_path(client):
    bad = TemplateRequest(name="bad name")
    err = expect_error(
        lambda: client.create_template(CreateTemplateRequest(body=CreateTemplateReq(template=bad))), 400, "SMS.8001"
    )
    assert err.error_msg.startswith("template.name:"), err.error_msg
    no_disk_type = to_model("TemplateRequest", {"name": unique_name("d"), "disk": [{"index": 0}]})
    err = expect_error(
        lambda: client.create_template(CreateTemplateRequest(body=CreateTemplateReq(template=no_disk_type))),
        400,
        "SMS.8001",
    )
    assert err.error_msg.startswith("template.disk[0].disktype:"), err.error_msg


def test_list_templates_filters_pages_and_stops_past_the_end(client_a):
    zone = unique_name("az")
    region = unique_name("region")
    ids = [create(client_a, full_template(unique_name(f"list{i}"), zone, region)) for i in range(3)]
    newest_first = list(reversed(ids))

    assert listed(client_a, availability_zone=zone) == (3, newest_first)
    assert listed(client_a, region=region, availability_zone=zone, limit=2) == (3, newest_first[:2])
    assert listed(client_a, availability_zone=zone, limit=2, offset=2) == (3, newest_first[2:])
    # Past the end: an empty page with the exact count, so offset pagers stop.
    assert listed(client_a, availability_zone=zone, limit=3, offset=3) == (3, [])
    assert listed(client_a, id=ids[1]) == (1, [ids[1]])
    name = show(client_a, ids[0]).name
    assert listed(client_a, name=name.upper()) == (1, [ids[0]])
    # Items are whole templates.
    response = client_a.list_templates(ListTemplatesRequest(id=ids[0]))
    assert to_json(response.templates[0]) == to_json(show(client_a, ids[0]))
    err = expect_error(lambda: client_a.list_templates(ListTemplatesRequest(limit=101)), 400, "SMS.8001")
    assert err.error_msg.startswith("limit:"), err.error_msg


def test_update_template_replaces_it(client):
    template_id = create(client, full_template(unique_name("upd")))
    after = {
        "name": unique_name("after"),
        "is_template": True,
        "region": "cn-south-1",
        "availability_zone": "cn-south-1c",
        "nics": [{"id": "subnet-9", "name": "nine", "cidr": "10.0.0.0/24"}],
        "disk": [{"index": 0, "disktype": "GPSSD", "size": 80}],
    }
    template = to_model("TemplateRequest", after)
    response = client.update_template(UpdateTemplateRequest(id=template_id, body=UpdateTemplateReq(template=template)))
    assert response.status_code == 200
    shown = show(client, template_id)
    # The whole template is replaced: what the body leaves out is gone.
    expected = served(template_id, after)
    expected.update({"security_groups": [], "nics": after["nics"], "disk": after["disk"]})
    assert to_json(shown) == expected
    assert shown.vpc is None and shown.target_password is None

    missing = str(uuid.uuid4())
    request = UpdateTemplateRequest(id=missing, body=UpdateTemplateReq(template=template))
    expect_error(lambda: client.update_template(request), 404, "SMS.8010")


def test_delete_template(client):
    template_id = create(client, full_template(unique_name("del")))
    response = client.delete_template(DeleteTemplateRequest(id=template_id))
    assert response.status_code == 200
    expect_error(lambda: client.show_template(ShowTemplateRequest(id=template_id)), 404, "SMS.8010")
    expect_error(lambda: client.delete_template(DeleteTemplateRequest(id=template_id)), 404, "SMS.8010")


def test_delete_templates_is_all_or_nothing(client):
    ids = [create(client, full_template(unique_name("batch"))) for _ in range(2)]
    missing = str(uuid.uuid4())
    request = DeleteTemplatesRequest(body=DeletetemplatesReq(ids=[ids[0], missing, ids[1]]))
    err = expect_error(lambda: client.delete_templates(request), 404, "SMS.8010")
    assert missing in err.error_msg, err.error_msg
    assert [show(client, i).id for i in ids] == ids

    response = client.delete_templates(DeleteTemplatesRequest(body=DeletetemplatesReq(ids=ids)))
    assert response.status_code == 200
    for template_id in ids:
        expect_error(lambda: client.show_template(ShowTemplateRequest(id=template_id)), 404, "SMS.8010")


def test_show_target_password(client):
    template_id = create(client, full_template(unique_name("pw")))
    response = client.show_target_password(ShowTargetPasswordRequest(id=template_id))
    assert response.status_code == 200
    assert (response.template_id, response.target_password) == (template_id, "P@ssw0rd-1")
    bare = create(client, {"name": unique_name("nopw")})
    response = client.show_target_password(ShowTargetPasswordRequest(id=bare))
    assert (response.template_id, response.target_password) == (bare, None)


def test_another_domain_sees_no_template(client_a, other_client):
    body = full_template(unique_name("mine"))
    template_id = create(client_a, body)
    expect_error(lambda: other_client.show_template(ShowTemplateRequest(id=template_id)), 404, "SMS.8010")
    expect_error(
        lambda: other_client.show_target_password(ShowTargetPasswordRequest(id=template_id)), 404, "SMS.8010"
    )
    template = to_model("TemplateRequest", {"name": unique_name("theirs")})
    request = UpdateTemplateRequest(id=template_id, body=UpdateTemplateReq(template=template))
    expect_error(lambda: other_client.update_template(request), 404, "SMS.8010")
    expect_error(lambda: other_client.delete_template(DeleteTemplateRequest(id=template_id)), 404, "SMS.8010")
    request = DeleteTemplatesRequest(body=DeletetemplatesReq(ids=[template_id]))
    expect_error(lambda: other_client.delete_templates(request), 404, "SMS.8010")
    assert listed(other_client, id=template_id) == (0, [])
    # Still A's, unchanged.
    assert to_json(show(client_a, template_id)) == served(template_id, body)
