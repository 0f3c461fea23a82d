//! Server templates (`/v3/vm/templates`): create, show, list, replace, delete, batch delete and
//! target password; every field's round trip, `is_template` served as a string, refusals that
//! name their JSON path, and tenancy.

use std::collections::BTreeMap;

use serde_json::{json, Value};
use sms_tasks::model::DomainId;
use sms_tasks::store::templates;

use crate::helpers::*;

/// The template tables, for "rows written / nothing left behind" checks.
const TEMPLATE_TABLES: &[&str] = &[
    "templates",
    "template_vpcs",
    "template_publicips",
    "template_nics",
    "template_security_groups",
    "template_disks",
];

/// A `TemplateRequest` with every field set.
fn full_template(name: &str) -> Value {
    json!({
        "name": name,
        "is_template": false,
        "region": "cn-north-4",
        "projectid": "0123456789abcdef0123456789abcdef",
        "target_server_name": "target-1",
        "availability_zone": "cn-north-4a",
        "volumetype": "SAS",
        "flavor": "s6.large.2",
        "vpc": { "id": "vpc-1", "name": "vpc-one", "cidr": "192.168.0.0/16" },
        "nics": [
            { "id": "subnet-1", "name": "subnet-one", "cidr": "192.168.0.0/24", "ip": "192.168.0.10" },
            { "id": "subnet-2", "name": "subnet-two", "cidr": "192.168.1.0/24", "ip": null }
        ],
        "security_groups": [{ "id": "sg-2", "name": "web" }, { "id": "sg-1", "name": "default" }],
        "publicip": { "type": "5_sbgp", "bandwidth_size": 100, "bandwidth_share_type": "PER" },
        "disk": [
            { "id": 11, "index": 0, "name": "system", "disktype": "SSD", "size": 40, "device_use": "BOOT" },
            { "id": 12, "index": 1, "name": "data", "disktype": "SAS", "size": 100, "device_use": "NORMAL" }
        ],
        "data_volume_type": "SAS",
        "target_password": "P@ssw0rd-1",
        "image_id": "image-1"
    })
}

/// The smallest valid request.
fn minimal_template(name: &str) -> Value {
    json!({ "name": name })
}

/// What show serves for `request` (`TemplateRequest` JSON) stored under `id`.
fn served(id: &str, request: &Value) -> Value {
    let mut expected = request.clone();
    expected["id"] = json!(id);
    expected["is_template"] = json!(if request["is_template"] == json!(false) { "false" } else { "true" });
    expected
}

async fn create_as(app: &TestApp, token: &str, template: &Value) -> String {
    let reply = app.post_as(token, "/v3/vm/templates", &json!({ "template": template })).await;
    reply.assert_ok()["id"].as_str().expect("an id").to_string()
}

async fn create(app: &TestApp, template: &Value) -> String {
    create_as(app, TOKEN_A, template).await
}

async fn show(app: &TestApp, id: &str) -> Value {
    let reply = app.get(&format!("/v3/vm/templates/{id}")).await;
    reply.assert_ok()["template"].clone()
}

async fn delete_as(app: &TestApp, token: &str, id: &str) -> Reply {
    app.send(app.client.delete(app.url(&format!("/v3/vm/templates/{id}"))).header("X-Auth-Token", token)).await
}

async fn list(app: &TestApp, query: &str) -> Value {
    app.get(&format!("/v3/vm/templates{query}")).await.assert_ok().clone()
}

/// The ids of a list page, in order.
fn ids(page: &Value) -> Vec<String> {
    page["templates"]
        .as_array()
        .expect("templates is an array")
        .iter()
        .map(|t| t["id"].as_str().unwrap().into())
        .collect()
}

async fn template_rows(app: &TestApp) -> BTreeMap<&'static str, i64> {
    let mut counts = BTreeMap::new();
    for table in TEMPLATE_TABLES {
        let n: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {table}")).fetch_one(&app.pool).await.unwrap();
        counts.insert(*table, n);
    }
    counts
}

fn counts(values: [i64; 6]) -> BTreeMap<&'static str, i64> {
    TEMPLATE_TABLES.iter().copied().zip(values).collect()
}

#[tokio::test]
async fn create_then_show_round_trips_every_field() {
    let app = spawn_app().await;
    let request = full_template("tpl-full");
    let reply = app.post("/v3/vm/templates", &json!({ "template": request })).await;
    let body = reply.assert_ok();
    assert_eq!(body.as_object().unwrap().len(), 1, "{body}");
    let id = body["id"].as_str().expect("the id is a string");
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");

    let shown = show(&app, id).await;
    assert_eq!(shown, served(id, &request));
    // `is_template` is the string the provider decodes into a Go string.
    assert_eq!(shown["is_template"], "false");
    // One row per object: the template, its VPC and public IP, 2 NICs, 2 groups, 2 disks.
    assert_eq!(template_rows(&app).await, counts([1, 1, 1, 2, 2, 2]));
}

#[tokio::test]
async fn a_minimal_template_has_defaults_nulls_and_empty_collections() {
    let app = spawn_app().await;
    let id = create(&app, &minimal_template("模板_min")).await;
    let shown = show(&app, &id).await;
    let expected = json!({
        "id": id, "name": "模板_min", "is_template": "true", "region": null, "projectid": null,
        "target_server_name": null, "availability_zone": null, "volumetype": null, "flavor": null,
        "vpc": null, "nics": [], "security_groups": [], "publicip": null, "disk": [],
        "data_volume_type": null, "target_password": null, "image_id": null
    });
    assert_eq!(shown, expected);

    // A public IP without a type gets the documented 5_bgp; `is_template: true` stays "true".
    let id = create(&app, &json!({ "name": "eip", "is_template": true, "publicip": { "bandwidth_size": 5 } })).await;
    let shown = show(&app, &id).await;
    assert_eq!(shown["publicip"], json!({ "type": "5_bgp", "bandwidth_size": 5, "bandwidth_share_type": null }));
    assert_eq!(shown["is_template"], "true");
}

#[tokio::test]
async fn the_terraform_provider_body_round_trips_in_the_types_it_decodes() {
    let app = spawn_app().await;
    // resourceServerTemplateCreate's body (autoCreate network, no NIC cidr).
    let request = json!({
        "name": "tf-template", "is_template": true, "region": "cn-north-4", "projectid": "p1",
        "availability_zone": "cn-north-4a", "target_server_name": "tf-template", "flavor": "s6.small.1",
        "volumetype": "SAS",
        "vpc": { "id": "autoCreate", "name": "autoCreate" },
        "nics": [{ "id": "autoCreate", "name": "autoCreate" }],
        "security_groups": [{ "id": "autoCreate", "name": "autoCreate" }],
        "publicip": { "type": "5_bgp", "bandwidth_size": 10 }
    });
    let id = create(&app, &request).await;
    let shown = show(&app, &id).await;
    // templates.Get decodes every scalar into a Go string (null leaves ""), bandwidth_size into
    // an int, nics and security_groups into slices of structs of strings.
    for key in ["id", "name", "is_template", "region", "projectid", "target_server_name", "availability_zone"] {
        assert!(shown[key].is_string(), "{key}: {}", shown[key]);
    }
    for key in ["flavor", "volumetype", "data_volume_type", "target_password"] {
        assert!(shown[key].is_string() || shown[key].is_null(), "{key}: {}", shown[key]);
    }
    assert_eq!(shown["publicip"]["bandwidth_size"], 10);
    assert_eq!(shown["vpc"]["id"], "autoCreate");
    assert_eq!(shown["nics"][0]["id"], "autoCreate");
    assert_eq!(shown["security_groups"][0]["id"], "autoCreate");
    assert!(shown["disk"].is_array());
}

#[tokio::test]
async fn refusals_name_their_json_path_and_write_nothing() {
    let app = spawn_app().await;
    let with = |change: Value| {
        let mut template = minimal_template("tpl");
        for (key, value) in change.as_object().unwrap() {
            template[key] = value.clone();
        }
        json!({ "template": template })
    };
    let cases = [
        ("template", json!({})),
        ("template", json!({ "template": null })),
        ("template", json!({ "template": [] })),
        ("template.name", json!({ "template": {} })),
        ("template.name", json!({ "template": { "name": "" } })),
        ("template.name", json!({ "template": { "name": "x".repeat(65) } })),
        ("template.name", json!({ "template": { "name": "with space" } })),
        ("template.name", json!({ "template": { "name": null } })),
        ("template.is_template", with(json!({ "is_template": "true" }))),
        ("template.region", with(json!({ "region": "r".repeat(256) }))),
        ("template.flavor", with(json!({ "flavor": 5 }))),
        ("template.vpc", with(json!({ "vpc": "vpc-1" }))),
        ("template.vpc.cidr", with(json!({ "vpc": { "cidr": 16 } }))),
        ("template.nics", with(json!({ "nics": { "id": "x" } }))),
        ("template.nics[1].id", with(json!({ "nics": [{ "id": "a" }, { "name": "b" }] }))),
        ("template.nics[0].ip", with(json!({ "nics": [{ "id": "a", "ip": "i".repeat(256) }] }))),
        ("template.security_groups[0].id", with(json!({ "security_groups": [{ "name": "default" }] }))),
        ("template.publicip.bandwidth_size", with(json!({ "publicip": { "bandwidth_size": -1 } }))),
        ("template.publicip.bandwidth_size", with(json!({ "publicip": { "bandwidth_size": 1.5 } }))),
        ("template.disk[0].index", with(json!({ "disk": [{ "disktype": "SAS" }] }))),
        ("template.disk[0].disktype", with(json!({ "disk": [{ "index": 0 }] }))),
        ("template.disk[0].index", with(json!({ "disk": [{ "index": -1, "disktype": "SAS" }] }))),
        ("template.disk[0].size", with(json!({ "disk": [{ "index": 0, "disktype": "SAS", "size": -40 }] }))),
        ("template.disk[0].id", with(json!({ "disk": [{ "id": "d1", "index": 0, "disktype": "SAS" }] }))),
        (
            "template.disk[1].index",
            with(json!({ "disk": [{ "index": 3, "disktype": "SAS" }, { "index": 3, "disktype": "SSD" }] })),
        ),
        ("template.image_id", with(json!({ "image_id": "nul\u{0}" }))),
    ];
    for (path, body) in &cases {
        let reply = app.post("/v3/vm/templates", body).await;
        if let Err(problem) = reply.check_invalid(path) {
            panic!("{body}: {problem}");
        }
    }
    app.post("/v3/vm/templates", &json!([minimal_template("tpl")])).await.assert_error(400, "SMS.8002");
    app.post_raw("/v3/vm/templates", Some("text/plain"), "{}").await.assert_error(415, "SMS.2006");
    assert_eq!(template_rows(&app).await, counts([0; 6]));

    // The same rules on update, which then changes nothing.
    let id = create(&app, &full_template("kept")).await;
    for (path, body) in &cases {
        let reply = app.put(&format!("/v3/vm/templates/{id}"), body).await;
        if let Err(problem) = reply.check_invalid(path) {
            panic!("PUT {body}: {problem}");
        }
    }
    assert_eq!(show(&app, &id).await, served(&id, &full_template("kept")));
}

#[tokio::test]
async fn unknown_fields_are_ignored_and_ids_in_paths_that_are_not_uuids_are_missing() {
    let app = spawn_app().await;
    let id = create(&app, &json!({ "name": "extra", "newer_sdk_field": 1, "vpc": { "id": "v", "extra": true } })).await;
    assert_eq!(show(&app, &id).await["vpc"], json!({ "id": "v", "name": null, "cidr": null }));

    for path in ["/v3/vm/templates/not-a-uuid", "/v3/vm/templates/not-a-uuid/target-password"] {
        app.get(path).await.assert_error(404, "SMS.8010");
    }
    app.put("/v3/vm/templates/not-a-uuid", &json!({ "template": minimal_template("x") }))
        .await
        .assert_error(404, "SMS.8010");
    delete_as(&app, TOKEN_A, "not-a-uuid").await.assert_error(404, "SMS.8010");
    app.get(&format!("/v3/vm/templates/{}", "x".repeat(256))).await.assert_invalid("id");
    // The fixed paths keep their methods.
    app.get("/v3/vm/templates/delete").await.assert_error(405, "SMS.2003");
    app.put("/v3/vm/templates", &json!({})).await.assert_error(405, "SMS.2003");
}

#[tokio::test]
async fn list_filters_match_as_documented() {
    let app = spawn_app().await;
    let mut a = full_template("Web_Server");
    a["availability_zone"] = json!("az-1");
    a["region"] = json!("region-1");
    let a = create(&app, &a).await;
    let mut b = full_template("db-server");
    b["availability_zone"] = json!("az-2");
    b["region"] = json!("region-1");
    let b = create(&app, &b).await;
    let c = create(&app, &minimal_template("a_b")).await;
    let d = create(&app, &minimal_template("axb")).await;

    let by_id = format!("?id={c}");
    let cases: [(&str, Vec<&String>); 11] = [
        ("", vec![&d, &c, &b, &a]),
        ("?name=SERVER", vec![&b, &a]),
        ("?name=web", vec![&a]),
        // `_` is no wildcard.
        ("?name=a_b", vec![&c]),
        ("?availability_zone=az-1", vec![&a]),
        ("?availability_zone=az", vec![]),
        ("?region=region-1", vec![&b, &a]),
        ("?region=region-1&availability_zone=az-2", vec![&b]),
        (&by_id, vec![&c]),
        ("?id=not-a-uuid", vec![]),
        ("?name=nothing", vec![]),
    ];
    for (query, expected) in cases {
        let page = list(&app, query).await;
        let expected: Vec<String> = expected.into_iter().cloned().collect();
        assert_eq!(ids(&page), expected, "{query}");
        assert_eq!(page["count"], expected.len(), "{query}");
    }
    // Items are whole templates, like show.
    let page = list(&app, &format!("?id={a}")).await;
    assert_eq!(page["templates"][0], show(&app, &a).await);
    assert_eq!(page["templates"][0]["is_template"], "false");
}

#[tokio::test]
async fn list_pages_newest_first_with_an_exact_count_and_an_empty_page_past_the_end() {
    let app = spawn_app().await;
    let mut created = Vec::new();
    for i in 0..53 {
        created.push(create(&app, &minimal_template(&format!("p{i}"))).await);
    }
    created.reverse();

    // Default limit 50.
    let first = list(&app, "").await;
    assert_eq!(first["count"], 53);
    assert_eq!(ids(&first), created[..50]);
    let rest = list(&app, "?offset=50").await;
    assert_eq!(ids(&rest), created[50..]);
    let page = list(&app, "?limit=10&offset=20").await;
    assert_eq!((page["count"].clone(), ids(&page)), (json!(53), created[20..30].to_vec()));
    let all = list(&app, "?limit=100").await;
    assert_eq!(ids(&all), created);
    // The provider's offset pager: offset=count&limit=count answers [] with the count.
    for query in ["?offset=53&limit=53", "?offset=65535", "?limit=0"] {
        let page = list(&app, query).await;
        assert_eq!((page["count"].clone(), page["templates"].clone()), (json!(53), json!([])), "{query}");
    }
    for (query, parameter) in [
        ("?limit=101", "limit"),
        ("?limit=-1", "limit"),
        ("?limit=ten", "limit"),
        ("?offset=65536", "offset"),
        ("?offset=-1", "offset"),
        (&format!("?name={}", "n".repeat(256)), "name"),
    ] {
        app.get(&format!("/v3/vm/templates{query}")).await.assert_invalid(parameter);
    }
}

#[tokio::test]
async fn update_replaces_the_whole_template_and_keeps_its_id() {
    let app = spawn_app().await;
    let id = create(&app, &full_template("before")).await;
    let other = create(&app, &full_template("other")).await;

    // Every field changed, every collection replaced by another of a different size.
    let after = json!({
        "name": "after", "is_template": true, "region": "r2", "projectid": "p2", "target_server_name": "t2",
        "availability_zone": "az2", "volumetype": "SSD", "flavor": "f2",
        "vpc": { "id": "vpc-2", "name": "vpc-two", "cidr": "10.0.0.0/8" },
        "nics": [{ "id": "subnet-3", "name": null, "cidr": "10.0.0.0/24", "ip": "10.0.0.5" }],
        "security_groups": [{ "id": "sg-3", "name": "db" }, { "id": "sg-4", "name": "x" }, { "id": "sg-5", "name": "y" }],
        "publicip": { "type": "5_bgp", "bandwidth_size": 300, "bandwidth_share_type": "WHOLE" },
        "disk": [{ "id": null, "index": 2, "name": "d", "disktype": "GPSSD", "size": 1, "device_use": null }],
        "data_volume_type": "SSD", "target_password": "new-password", "image_id": "image-2"
    });
    let reply = app.put(&format!("/v3/vm/templates/{id}"), &json!({ "template": after })).await;
    assert_eq!(reply.assert_ok(), &json!({}));
    assert_eq!(show(&app, &id).await, served(&id, &after));
    assert_eq!(template_rows(&app).await, counts([2, 2, 2, 3, 5, 3]));

    // What the body leaves out is cleared (the provider drops an attribute that way).
    let reply = app.put(&format!("/v3/vm/templates/{id}"), &json!({ "template": { "name": "bare" } })).await;
    reply.assert_ok();
    let mut bare = served(&id, &minimal_template("bare"));
    for key in ["region", "projectid", "target_server_name", "availability_zone", "volumetype", "flavor", "vpc"] {
        bare[key] = Value::Null;
    }
    for key in ["publicip", "data_volume_type", "target_password", "image_id"] {
        bare[key] = Value::Null;
    }
    for key in ["nics", "security_groups", "disk"] {
        bare[key] = json!([]);
    }
    assert_eq!(show(&app, &id).await, bare);
    assert_eq!(template_rows(&app).await, counts([2, 1, 1, 2, 2, 2]));
    // The other template is untouched, and the order of the list is the order of creation.
    assert_eq!(show(&app, &other).await, served(&other, &full_template("other")));
    assert_eq!(ids(&list(&app, "").await), [other.clone(), id.clone()]);

    let missing = uuid::Uuid::new_v4();
    app.put(&format!("/v3/vm/templates/{missing}"), &json!({ "template": after })).await.assert_error(404, "SMS.8010");
    assert_eq!(template_rows(&app).await, counts([2, 1, 1, 2, 2, 2]));
}

#[tokio::test]
async fn delete_takes_the_template_and_its_parts() {
    let app = spawn_app().await;
    let id = create(&app, &full_template("doomed")).await;
    let kept = create(&app, &full_template("kept")).await;
    let reply = delete_as(&app, TOKEN_A, &id).await;
    assert_eq!(reply.assert_ok(), &json!({}));
    app.get(&format!("/v3/vm/templates/{id}")).await.assert_error(404, "SMS.8010");
    app.get(&format!("/v3/vm/templates/{id}/target-password")).await.assert_error(404, "SMS.8010");
    assert_eq!(template_rows(&app).await, counts([1, 1, 1, 2, 2, 2]));
    // Deleted is missing: the provider's Delete then clears its state.
    delete_as(&app, TOKEN_A, &id).await.assert_error(404, "SMS.8010");
    assert_eq!(show(&app, &kept).await, served(&kept, &full_template("kept")));
}

#[tokio::test]
async fn batch_deletes_are_all_or_nothing_and_name_the_missing_id() {
    let app = spawn_app().await;
    let a = create(&app, &full_template("a")).await;
    let b = create(&app, &full_template("b")).await;
    let c = create(&app, &minimal_template("c")).await;
    let of_b = create_as(&app, TOKEN_B, &minimal_template("of-b")).await;
    let unknown = uuid::Uuid::new_v4().to_string();
    let before = template_rows(&app).await;

    for missing in [&unknown, &of_b, &"not-a-uuid".to_string()] {
        let reply = app.post("/v3/vm/templates/delete", &json!({ "ids": [a, missing, b] })).await;
        let message = reply.assert_error(404, "SMS.8010");
        assert!(message.contains(missing.as_str()), "{message}");
        assert_eq!(template_rows(&app).await, before);
    }
    app.post("/v3/vm/templates/delete", &json!({ "ids": "a" })).await.assert_invalid("ids");
    app.post("/v3/vm/templates/delete", &json!({})).await.assert_invalid("ids");
    app.post("/v3/vm/templates/delete", &json!({ "ids": ["x".repeat(256)] })).await.assert_invalid("ids[0]");

    let reply = app.post("/v3/vm/templates/delete", &json!({ "ids": [a, b, a] })).await;
    assert_eq!(reply.assert_ok(), &json!({}));
    assert_eq!(ids(&list(&app, "").await), [c]);
    assert_eq!(template_rows(&app).await, counts([2, 0, 0, 0, 0, 0]));
    // Nothing is a valid batch.
    app.post("/v3/vm/templates/delete", &json!({ "ids": [] })).await.assert_ok();
    // B's template was never at risk.
    app.get_as(TOKEN_B, &format!("/v3/vm/templates/{of_b}")).await.assert_ok();
}

#[tokio::test]
async fn the_target_password_is_served_on_its_own() {
    let app = spawn_app().await;
    let with = create(&app, &full_template("with")).await;
    let without = create(&app, &minimal_template("without")).await;
    let reply = app.get(&format!("/v3/vm/templates/{with}/target-password")).await;
    assert_eq!(reply.assert_ok(), &json!({ "template_id": with, "target_password": "P@ssw0rd-1" }));
    let reply = app.get(&format!("/v3/vm/templates/{without}/target-password")).await;
    assert_eq!(reply.assert_ok(), &json!({ "template_id": without, "target_password": null }));
    let missing = uuid::Uuid::new_v4();
    app.get(&format!("/v3/vm/templates/{missing}/target-password")).await.assert_error(404, "SMS.8010");
}

#[tokio::test]
async fn another_domains_template_is_missing_for_every_endpoint() {
    let app = spawn_app().await;
    let id = create(&app, &full_template("mine")).await;
    let before = template_rows(&app).await;

    app.get_as(TOKEN_B, &format!("/v3/vm/templates/{id}")).await.assert_error(404, "SMS.8010");
    app.get_as(TOKEN_B, &format!("/v3/vm/templates/{id}/target-password")).await.assert_error(404, "SMS.8010");
    app.put_as(TOKEN_B, &format!("/v3/vm/templates/{id}"), &json!({ "template": minimal_template("theirs") }))
        .await
        .assert_error(404, "SMS.8010");
    delete_as(&app, TOKEN_B, &id).await.assert_error(404, "SMS.8010");
    let message =
        app.post_as(TOKEN_B, "/v3/vm/templates/delete", &json!({ "ids": [id] })).await.assert_error(404, "SMS.8010");
    assert!(message.contains(&id), "{message}");
    for query in ["", &format!("?id={id}"), "?name=mine"] {
        let page = app.get_as(TOKEN_B, &format!("/v3/vm/templates{query}")).await;
        assert_eq!(page.assert_ok(), &json!({ "count": 0, "templates": [] }), "{query}");
    }
    // A missing template and another domain's answer alike.
    let missing = app.get_as(TOKEN_B, &format!("/v3/vm/templates/{}", uuid::Uuid::new_v4())).await;
    let theirs = app.get_as(TOKEN_B, &format!("/v3/vm/templates/{id}")).await;
    assert_eq!(missing.body, theirs.body);

    assert_eq!(template_rows(&app).await, before);
    assert_eq!(show(&app, &id).await, served(&id, &full_template("mine")));
    // B's own templates live beside A's, each domain seeing its own.
    let of_b = create_as(&app, TOKEN_B, &full_template("mine")).await;
    assert_eq!(ids(&app.get_as(TOKEN_B, "/v3/vm/templates").await.assert_ok().clone()), [of_b]);
    assert_eq!(ids(&list(&app, "").await), [id]);
}

#[tokio::test]
async fn exists_answers_for_the_domain_only() {
    let app = spawn_app().await;
    let id: uuid::Uuid = create(&app, &minimal_template("probe")).await.parse().unwrap();
    let mut conn = app.pool.acquire().await.unwrap();
    let (a, b) = (DomainId(DOMAIN_A.into()), DomainId(DOMAIN_B.into()));
    assert!(templates::exists(&mut conn, &a, id).await.unwrap());
    assert!(!templates::exists(&mut conn, &b, id).await.unwrap());
    assert!(!templates::exists(&mut conn, &a, uuid::Uuid::new_v4()).await.unwrap());
}

#[tokio::test]
async fn templates_are_scoped_to_their_domain_in_the_schema_too() {
    let app = spawn_app().await;
    let id = create(&app, &minimal_template("scoped")).await;
    // A part cannot belong to another domain's template.
    let refused = sqlx::query(
        "INSERT INTO template_nics (template_id, domain_id, position, id) VALUES ($1::uuid, 'domain-b', 0, 'x')",
    )
    .bind(&id)
    .execute(&app.pool)
    .await
    .unwrap_err();
    assert!(refused.to_string().contains("foreign key"), "{refused}");
}
