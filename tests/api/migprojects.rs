//! Migration projects (`/v3/migprojects`): round trips, the default project of each domain and
//! its rules, deletes (Terraform's `["<id>"]` body included), the `migproject` filter of
//! `GET /v3/sources`, moving a source between projects, tenancy, and the race of two first needs.

use serde_json::{json, Value};
use sms_tasks::model::DomainId;
use sms_tasks::store::migprojects;
use sms_tasks::store::StoreError;
use uuid::Uuid;

use crate::helpers::{source_body, spawn_app, Reply, TestApp, DOMAIN_A, TOKEN_A, TOKEN_B};

const MISSING: &str = "00000000-0000-4000-8000-000000000000";

/// Every field of `PostMigProjectBody`, none at its default.
fn full_body(name: &str) -> Value {
    json!({
        "name": name,
        "description": "the web tier",
        "isdefault": false,
        "region": "cn-north-4",
        "start_target_server": false,
        "speed_limit": 100,
        "use_public_ip": false,
        "exist_server": false,
        "type": "MIGRATE_FILE",
        "enterprise_project": "ep-web",
        "syncing": true,
        "start_network_check": true
    })
}

fn minimal_body(name: &str) -> Value {
    json!({ "name": name, "region": "cn-north-4", "type": "MIGRATE_BLOCK" })
}

async fn create_as(app: &TestApp, token: &str, body: &Value) -> String {
    let reply = app.post_as(token, "/v3/migprojects", body).await;
    reply.assert_ok()["id"].as_str().expect("an id").to_string()
}

async fn create(app: &TestApp, body: &Value) -> String {
    create_as(app, TOKEN_A, body).await
}

async fn show(app: &TestApp, id: &str) -> Value {
    app.get(&format!("/v3/migprojects/{id}")).await.assert_ok().clone()
}

async fn list(app: &TestApp, query: &str) -> Value {
    app.get(&format!("/v3/migprojects{query}")).await.assert_ok().clone()
}

/// `DELETE` with an optional JSON body.
async fn delete_as(app: &TestApp, token: &str, id: &str, body: Option<&Value>) -> Reply {
    let mut request = app.client.delete(app.url(&format!("/v3/migprojects/{id}"))).header("X-Auth-Token", token);
    if let Some(body) = body {
        request = request.json(body);
    }
    app.send(request).await
}

/// `PUT …/default` with no body at all (as the SDK sends it).
async fn make_default_as(app: &TestApp, token: &str, id: &str) -> Reply {
    let request = app
        .client
        .put(app.url(&format!("/v3/migprojects/{id}/default")))
        .header("X-Auth-Token", token)
        .header("Content-Type", "application/json");
    app.send(request).await
}

/// The id of the domain's default project, as the list shows it.
async fn default_id(app: &TestApp) -> String {
    let page = list(app, "?limit=100").await;
    let defaults: Vec<&Value> =
        page["migprojects"].as_array().unwrap().iter().filter(|p| p["isdefault"] == json!(true)).collect();
    assert_eq!(defaults.len(), 1, "exactly one default: {page}");
    defaults[0]["id"].as_str().unwrap().to_string()
}

/// The ids of the sources that `GET /v3/sources?migproject=…` answers, and its count.
async fn sources_of(app: &TestApp, token: &str, project: &str) -> (i64, Vec<String>) {
    let page = app.get_as(token, &format!("/v3/sources?migproject={project}")).await.assert_ok().clone();
    let ids = page["source_servers"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap().to_string());
    (page["count"].as_i64().unwrap(), ids.collect())
}

async fn register(app: &TestApp, name: &str) -> String {
    app.register_source_as(TOKEN_A, &source_body(name)).await
}

#[tokio::test]
async fn a_created_project_reads_back_field_for_field() {
    let app = spawn_app().await;
    let body = full_body("web-tier");
    let id = create(&app, &body).await;
    assert!(Uuid::parse_str(&id).is_ok(), "{id}");

    let shown = show(&app, &id).await;
    let mut expected = body.clone();
    expected["isdefault"] = json!(false);
    assert_eq!(shown, expected, "show carries exactly the fields of ShowMigprojectResponse, without id");

    let page = list(&app, "").await;
    assert_eq!(page["count"], 2, "the project and the domain's default: {page}");
    let item = page["migprojects"].as_array().unwrap().iter().find(|p| p["id"] == json!(id)).unwrap().clone();
    let mut with_id = expected;
    with_id["id"] = json!(id);
    assert_eq!(item, with_id);
}

#[tokio::test]
async fn a_minimal_create_takes_the_pages_defaults() {
    let app = spawn_app().await;
    let id = create(&app, &minimal_body("minimal")).await;
    let shown = show(&app, &id).await;
    assert_eq!(
        shown,
        json!({
            "name": "minimal", "description": null, "isdefault": false, "region": "cn-north-4",
            "start_target_server": true, "speed_limit": 0, "use_public_ip": true, "exist_server": true,
            "type": "MIGRATE_BLOCK", "enterprise_project": "default", "syncing": false,
            "start_network_check": false
        })
    );
}

#[tokio::test]
async fn a_create_is_refused_naming_the_field() {
    let app = spawn_app().await;
    for (edit, path) in [
        (json!({ "name": null }), "name"),
        (json!({ "region": null }), "region"),
        (json!({ "type": null }), "type"),
        (json!({ "type": "MIGRATE_DISK" }), "type"),
        (json!({ "name": "" }), "name"),
        (json!({ "name": "x".repeat(256) }), "name"),
        (json!({ "description": "x".repeat(256) }), "description"),
        (json!({ "speed_limit": 10001 }), "speed_limit"),
        (json!({ "speed_limit": -1 }), "speed_limit"),
        (json!({ "speed_limit": "100" }), "speed_limit"),
        (json!({ "isdefault": "true" }), "isdefault"),
        (json!({ "syncing": 1 }), "syncing"),
    ] {
        let mut body = minimal_body("refused");
        for (key, value) in edit.as_object().unwrap() {
            if value.is_null() {
                body.as_object_mut().unwrap().remove(key);
            } else {
                body[key] = value.clone();
            }
        }
        app.post("/v3/migprojects", &body).await.assert_invalid(path);
    }
    app.post("/v3/migprojects", &json!([minimal_body("array")])).await.assert_error(400, "SMS.8002");
    let reply = app.post_raw("/v3/migprojects", Some("text/plain"), minimal_body("text").to_string()).await;
    reply.assert_error(415, "SMS.2006");
    // Nothing was made: the list shows only the default.
    assert_eq!(list(&app, "").await["count"], 1);
}

#[tokio::test]
async fn the_list_pages_with_an_exact_count_and_stops_past_the_end() {
    let app = spawn_app().await;
    let mut ids = vec![default_id(&app).await];
    for name in ["p1", "p2", "p3"] {
        ids.push(create(&app, &minimal_body(name)).await);
    }
    let ids_of = |page: &Value| -> Vec<String> {
        page["migprojects"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap().to_string()).collect()
    };
    // Oldest first: the default, then in creation order.
    let all = list(&app, "").await;
    assert_eq!((all["count"].as_i64(), ids_of(&all)), (Some(4), ids.clone()));
    let first = list(&app, "?limit=2").await;
    assert_eq!((first["count"].as_i64(), ids_of(&first)), (Some(4), ids[..2].to_vec()));
    let second = list(&app, "?limit=2&offset=2").await;
    assert_eq!((second["count"].as_i64(), ids_of(&second)), (Some(4), ids[2..].to_vec()));
    // Past the end (how Terraform's offset pager stops), and limit 0: no items, the count.
    for query in ["?offset=4&limit=4", "?offset=100", "?limit=0"] {
        let page = list(&app, query).await;
        assert_eq!((page["count"].as_i64(), page["migprojects"].clone()), (Some(4), json!([])), "{query}");
    }
    app.get("/v3/migprojects?limit=101").await.assert_invalid("limit");
    app.get("/v3/migprojects?offset=-1").await.assert_invalid("offset");
    app.get("/v3/migprojects?limit=ten").await.assert_invalid("limit");
}

#[tokio::test]
async fn each_domain_gets_one_default_project_on_first_need() {
    let app = spawn_app().await;
    let page = list(&app, "").await;
    assert_eq!(page["count"], 1);
    let default = &page["migprojects"][0];
    assert_eq!((&default["name"], &default["isdefault"]), (&json!("default"), &json!(true)));
    // Later needs find it.
    let id = default["id"].as_str().unwrap().to_string();
    assert_eq!(default_id(&app).await, id);
    assert_eq!(list(&app, "").await["count"], 1);
    // A new source joins it.
    let source = register(&app, "joins-default").await;
    assert_eq!(sources_of(&app, TOKEN_A, &id).await, (1, vec![source]));
}

#[tokio::test]
async fn a_first_registration_makes_the_default_project_and_joins_it() {
    let app = spawn_app().await;
    let source = register(&app, "first").await;
    let default = default_id(&app).await;
    assert_eq!(sources_of(&app, TOKEN_A, &default).await, (1, vec![source.clone()]));
    let stored: Option<Uuid> = sqlx::query_scalar("SELECT migproject_id FROM servers WHERE id = $1::uuid")
        .bind(&source)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(stored.map(|id| id.to_string()), Some(default));
}

#[tokio::test]
async fn concurrent_first_needs_make_one_default_project() {
    let app = spawn_app().await;
    let bodies: Vec<Value> = (0..6).map(|i| source_body(&format!("race-{i}"))).collect();
    let registrations = bodies.iter().map(|body| app.post("/v3/sources", body));
    let lists = (0..6).map(|_| app.get("/v3/migprojects"));
    let (registered, listed) =
        tokio::join!(futures_util::future::join_all(registrations), futures_util::future::join_all(lists));
    for reply in registered.iter().chain(listed.iter()) {
        reply.assert_ok();
    }
    let projects: Vec<(Uuid, bool)> =
        sqlx::query_as("SELECT id, isdefault FROM migprojects").fetch_all(&app.pool).await.unwrap();
    assert_eq!(projects.len(), 1, "one project: {projects:?}");
    assert!(projects[0].1);
    // Every list saw it, and every source joined it.
    for reply in &listed {
        assert_eq!(reply.body["migprojects"][0]["id"], json!(projects[0].0), "{}", reply.body);
    }
    let (count, _) = sources_of(&app, TOKEN_A, &projects[0].0.to_string()).await;
    assert_eq!(count, 6);
}

#[tokio::test]
async fn an_update_changes_only_what_it_names() {
    let app = spawn_app().await;
    let id = create(&app, &full_body("before")).await;
    let path = format!("/v3/migprojects/{id}");
    assert_eq!(app.put(&path, &json!({})).await.assert_ok(), &json!({}));
    let unchanged = show(&app, &id).await;

    let reply = app
        .put(&path, &json!({ "name": "after", "speed_limit": 10000, "type": "MIGRATE_BLOCK", "syncing": false }))
        .await;
    assert_eq!(reply.assert_ok(), &json!({}));
    let mut expected = unchanged.clone();
    expected["name"] = json!("after");
    expected["speed_limit"] = json!(10000);
    expected["type"] = json!("MIGRATE_BLOCK");
    expected["syncing"] = json!(false);
    assert_eq!(show(&app, &id).await, expected);

    // `null` clears a field that may be empty, and is refused for the others.
    app.put(&path, &json!({ "description": null, "enterprise_project": null })).await.assert_ok();
    expected["description"] = Value::Null;
    expected["enterprise_project"] = Value::Null;
    assert_eq!(show(&app, &id).await, expected);
    app.put(&path, &json!({ "name": null })).await.assert_invalid("name");
    app.put(&path, &json!({ "speed_limit": 10001 })).await.assert_invalid("speed_limit");
    app.put(&path, &json!({ "type": "BLOCK" })).await.assert_invalid("type");
    // `isdefault: false` on a project that is not the default changes nothing.
    app.put(&path, &json!({ "isdefault": false })).await.assert_ok();
    assert_eq!(show(&app, &id).await, expected);

    app.put(&format!("/v3/migprojects/{MISSING}"), &json!({ "name": "x" })).await.assert_error(404, "SMS.8011");
    app.put("/v3/migprojects/not-a-uuid", &json!({ "name": "x" })).await.assert_error(404, "SMS.8011");
}

#[tokio::test]
async fn the_default_moves_with_put_default_and_with_isdefault() {
    let app = spawn_app().await;
    let first = default_id(&app).await;
    let second = create(&app, &minimal_body("second")).await;

    // The SDK's call: no body.
    assert_eq!(make_default_as(&app, TOKEN_A, &second).await.assert_ok(), &json!({}));
    assert_eq!(default_id(&app).await, second);
    assert_eq!(show(&app, &first).await["isdefault"], false);
    let source = register(&app, "joins-second").await;
    assert_eq!(sources_of(&app, TOKEN_A, &second).await, (1, vec![source]));
    // Terraform's call: `{}`. Making the default the default again changes nothing.
    app.put(&format!("/v3/migprojects/{first}/default"), &json!({})).await.assert_ok();
    app.put(&format!("/v3/migprojects/{first}/default"), &json!({})).await.assert_ok();
    assert_eq!(default_id(&app).await, first);

    // An update with `isdefault: true`, and a create with it.
    app.put(&format!("/v3/migprojects/{second}"), &json!({ "isdefault": true })).await.assert_ok();
    assert_eq!(default_id(&app).await, second);
    let mut body = minimal_body("third");
    body["isdefault"] = json!(true);
    let third = create(&app, &body).await;
    assert_eq!(default_id(&app).await, third);
    assert_eq!(show(&app, &third).await["isdefault"], true);

    // The default stays the default until another becomes it.
    let msg =
        app.put(&format!("/v3/migprojects/{third}"), &json!({ "isdefault": false })).await.assert_invalid("isdefault");
    assert!(msg.contains("/default"), "{msg}");
    assert_eq!(default_id(&app).await, third);
    let defaults: i64 =
        sqlx::query_scalar("SELECT count(*) FROM migprojects WHERE isdefault").fetch_one(&app.pool).await.unwrap();
    assert_eq!(defaults, 1);

    make_default_as(&app, TOKEN_A, MISSING).await.assert_error(404, "SMS.8011");
    make_default_as(&app, TOKEN_A, "not-a-uuid").await.assert_error(404, "SMS.8011");
    app.put(&format!("/v3/migprojects/{first}/default"), &json!([1])).await.assert_error(400, "SMS.8002");
    assert_eq!(default_id(&app).await, third, "refused calls change nothing");
}

#[tokio::test]
async fn a_delete_takes_an_empty_body_an_object_or_terraforms_id_array() {
    let app = spawn_app().await;
    for body in [None, Some(json!({})), Some(json!(["<the path's id governs>"]))] {
        let id = create(&app, &minimal_body("to-delete")).await;
        let reply = delete_as(&app, TOKEN_A, &id, body.as_ref()).await;
        assert_eq!(reply.assert_ok(), &json!({}), "body {body:?}");
        app.get(&format!("/v3/migprojects/{id}")).await.assert_error(404, "SMS.8011");
        delete_as(&app, TOKEN_A, &id, None).await.assert_error(404, "SMS.8011");
    }
    // Exactly Terraform's body: the id itself.
    let id = create(&app, &minimal_body("terraform")).await;
    delete_as(&app, TOKEN_A, &id, Some(&json!([id]))).await.assert_ok();
    app.get(&format!("/v3/migprojects/{id}")).await.assert_error(404, "SMS.8011");

    // Bodies that are neither.
    let id = create(&app, &minimal_body("kept")).await;
    delete_as(&app, TOKEN_A, &id, Some(&json!([1]))).await.assert_invalid("[0]");
    delete_as(&app, TOKEN_A, &id, Some(&json!("id"))).await.assert_error(400, "SMS.8002");
    show(&app, &id).await;
    delete_as(&app, TOKEN_A, "not-a-uuid", None).await.assert_error(404, "SMS.8011");
    delete_as(&app, TOKEN_A, &"x".repeat(256), None).await.assert_invalid("mig_project_id");
}

#[tokio::test]
async fn a_project_with_sources_and_the_default_are_not_deleted() {
    let app = spawn_app().await;
    let first = default_id(&app).await;
    let busy = create(&app, &minimal_body("busy")).await;
    make_default_as(&app, TOKEN_A, &busy).await.assert_ok();
    let source = register(&app, "in-busy").await;
    make_default_as(&app, TOKEN_A, &first).await.assert_ok();

    let msg = delete_as(&app, TOKEN_A, &first, None).await.assert_invalid("mig_project_id");
    assert!(msg.contains("default"), "{msg}");
    delete_as(&app, TOKEN_A, &busy, Some(&json!([busy]))).await.assert_error(400, "SMS.8012");
    show(&app, &busy).await;
    assert_eq!(sources_of(&app, TOKEN_A, &busy).await, (1, vec![source.clone()]));

    // Without its source, it goes.
    let gone = app.client.delete(app.url(&format!("/v3/sources/{source}"))).header("X-Auth-Token", TOKEN_A);
    app.send(gone).await.assert_ok();
    delete_as(&app, TOKEN_A, &busy, Some(&json!([busy]))).await.assert_ok();
    assert_eq!(list(&app, "").await["count"], 1);
}

#[tokio::test]
async fn the_sources_list_filters_by_project() {
    let app = spawn_app().await;
    let first = default_id(&app).await;
    let a1 = register(&app, "a1").await;
    let a2 = register(&app, "a2").await;
    let second = create(&app, &minimal_body("second")).await;
    make_default_as(&app, TOKEN_A, &second).await.assert_ok();
    let b1 = register(&app, "b1").await;

    let (count, mut ids) = sources_of(&app, TOKEN_A, &first).await;
    ids.sort();
    let mut expected = vec![a1.clone(), a2.clone()];
    expected.sort();
    assert_eq!((count, ids), (2, expected));
    assert_eq!(sources_of(&app, TOKEN_A, &second).await, (1, vec![b1]));
    // Combined with another filter, and with paging: the count stays exact.
    let page = app.get(&format!("/v3/sources?migproject={first}&name=a1")).await.assert_ok().clone();
    assert_eq!((page["count"].as_i64(), page["source_servers"][0]["id"].as_str()), (Some(1), Some(a1.as_str())));
    let page = app.get(&format!("/v3/sources?migproject={first}&limit=1&offset=1")).await.assert_ok().clone();
    assert_eq!((page["count"].as_i64(), page["source_servers"].as_array().map(Vec::len)), (Some(2), Some(1)));
    // An unknown project, or something that is not an id, matches nothing.
    assert_eq!(sources_of(&app, TOKEN_A, MISSING).await, (0, vec![]));
    assert_eq!(sources_of(&app, TOKEN_A, "not-a-uuid").await, (0, vec![]));
    // Without the filter, every source.
    assert_eq!(app.get("/v3/sources").await.assert_ok()["count"], 3);
}

#[tokio::test]
async fn move_source_moves_a_source_between_projects_of_its_domain() {
    let app = spawn_app().await;
    let domain = DomainId(DOMAIN_A.into());
    let source: Uuid = register(&app, "mover").await.parse().unwrap();
    let first: Uuid = default_id(&app).await.parse().unwrap();
    let second: Uuid = create(&app, &minimal_body("target")).await.parse().unwrap();
    let theirs: Uuid = create_as(&app, TOKEN_B, &minimal_body("theirs")).await.parse().unwrap();
    let mut conn = app.pool.acquire().await.unwrap();

    migprojects::move_source(&mut conn, &domain, source, second).await.unwrap();
    assert_eq!(sources_of(&app, TOKEN_A, &second.to_string()).await, (1, vec![source.to_string()]));
    assert_eq!(sources_of(&app, TOKEN_A, &first.to_string()).await.0, 0);
    // The old project may go now; the new one may not.
    delete_as(&app, TOKEN_A, &second.to_string(), None).await.assert_error(400, "SMS.8012");
    make_default_as(&app, TOKEN_A, &second.to_string()).await.assert_ok();
    delete_as(&app, TOKEN_A, &first.to_string(), None).await.assert_ok();

    let err = migprojects::move_source(&mut conn, &domain, source, theirs).await.unwrap_err();
    assert!(matches!(err, StoreError::NoSuchMigProject), "{err:?}");
    let err = migprojects::move_source(&mut conn, &domain, source, Uuid::nil()).await.unwrap_err();
    assert!(matches!(err, StoreError::NoSuchMigProject), "{err:?}");
    let err = migprojects::move_source(&mut conn, &domain, Uuid::nil(), second).await.unwrap_err();
    assert!(matches!(err, StoreError::SourceServerNotFound), "{err:?}");
    assert_eq!(sources_of(&app, TOKEN_A, &second.to_string()).await, (1, vec![source.to_string()]));

    let found = migprojects::find(&mut conn, &domain, second).await.unwrap().expect("the project");
    assert!(found.isdefault);
    assert_eq!(found.settings.name.as_str(), "target");
    assert!(migprojects::find(&mut conn, &domain, theirs).await.unwrap().is_none(), "another domain's");
}

#[tokio::test]
async fn another_domains_project_is_answered_as_a_missing_one() {
    let app = spawn_app().await;
    let ours = create(&app, &full_body("ours")).await;
    let source = register(&app, "ours").await;
    let our_default = default_id(&app).await;

    for id in [ours.as_str(), MISSING] {
        let shown = app.get_as(TOKEN_B, &format!("/v3/migprojects/{id}")).await;
        let updated = app.put_as(TOKEN_B, &format!("/v3/migprojects/{id}"), &json!({ "name": "theirs" })).await;
        let defaulted = make_default_as(&app, TOKEN_B, id).await;
        let deleted = delete_as(&app, TOKEN_B, id, Some(&json!([id]))).await;
        for reply in [shown, updated, defaulted, deleted] {
            reply.assert_error(404, "SMS.8011");
            assert_eq!(reply.body["error_msg"], "The migration project does not exist.");
        }
    }
    // Domain B's list has only its own default; its filter finds none of A's sources.
    let theirs = app.get_as(TOKEN_B, "/v3/migprojects").await.assert_ok().clone();
    assert_eq!(theirs["count"], 1);
    assert_ne!(theirs["migprojects"][0]["id"], json!(our_default));
    assert_eq!(sources_of(&app, TOKEN_B, &our_default).await, (0, vec![]));
    // A's project is untouched, and still has its source.
    assert_eq!(show(&app, &ours).await["name"], "ours");
    assert_eq!(sources_of(&app, TOKEN_A, &our_default).await, (1, vec![source]));
}

#[tokio::test]
async fn other_methods_are_refused() {
    let app = spawn_app().await;
    let id = create(&app, &minimal_body("methods")).await;
    let patch = app.client.patch(app.url(&format!("/v3/migprojects/{id}"))).header("X-Auth-Token", TOKEN_A);
    app.send(patch).await.assert_error(405, "SMS.2003");
    let post = app.client.post(app.url(&format!("/v3/migprojects/{id}/default"))).header("X-Auth-Token", TOKEN_A);
    app.send(post).await.assert_error(405, "SMS.2003");
    app.send(app.client.delete(app.url("/v3/migprojects")).header("X-Auth-Token", TOKEN_A))
        .await
        .assert_error(405, "SMS.2003");
    app.send(app.client.get(app.url("/v3/migprojects"))).await.assert_error(401, "APIGW.0301");
}
