//! Tenancy, authentication, routing and request ids.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn another_domain_sees_nothing_of_a_domains_tasks_and_sources() {
    let app = spawn_app().await;
    let source = app.register_source().await;
    let task = app.create_task(&create_task_example(&source)).await;

    app.get_as(TOKEN_B, &format!("/v3/tasks/{task}")).await.assert_error(404, "SMS.8005");
    app.get_as(TOKEN_B, &format!("/v3/sources/{source}")).await.assert_error(404, "SMS.8006");
    let listed = app.get_as(TOKEN_B, "/v3/sources").await;
    assert_eq!(listed.assert_ok()["count"], 0, "{}", listed.body);
    assert_eq!(listed.body["source_servers"], json!([]));
    let tasks = app.get_as(TOKEN_B, "/v3/tasks").await;
    assert_eq!(tasks.assert_ok()["count"], 0, "{}", tasks.body);

    // A's own view is unchanged.
    app.get(&format!("/v3/tasks/{task}")).await.assert_ok();
    app.get(&format!("/v3/sources/{source}")).await.assert_ok();
    assert_eq!(app.get("/v3/sources").await.assert_ok()["count"], 1);
}

#[tokio::test]
async fn another_domain_cannot_use_a_domains_source() {
    let app = spawn_app().await;
    let source = app.register_source().await;
    let before = app.row_counts().await;
    app.post_as(TOKEN_B, "/v3/tasks", &create_task_example(&source)).await.assert_error(400, "SMS.2216");
    assert_eq!(app.row_counts().await, before);
    // Still free for its own domain.
    app.create_task(&create_task_example(&source)).await;
}

#[tokio::test]
async fn requests_without_valid_credentials_are_refused() {
    let app = spawn_app().await;
    let source = app.register_source().await;
    let task = app.create_task(&create_task_example(&source)).await;
    let other_source = app.register_source().await;
    let body = create_task_example(&other_source);
    let before = app.row_counts().await;
    for (label, token) in [("no token", None), ("an unknown token", Some("not-a-token")), ("an empty token", Some(""))]
    {
        let with_token = |request: reqwest::RequestBuilder| match token {
            Some(token) => request.header("X-Auth-Token", token),
            None => request,
        };
        let requests = [
            ("GET /v3/tasks/{id}", with_token(app.client.get(app.url(&format!("/v3/tasks/{task}"))))),
            ("GET /v3/sources", with_token(app.client.get(app.url("/v3/sources")))),
            ("GET /v3/sources/{id}", with_token(app.client.get(app.url(&format!("/v3/sources/{source}"))))),
            ("POST /v3/tasks", with_token(app.client.post(app.url("/v3/tasks")).json(&body))),
            ("POST /v3/sources", with_token(app.client.post(app.url("/v3/sources")).json(&source_body("x")))),
        ];
        for (request_label, request) in requests {
            let reply = app.send(request).await;
            assert_eq!(reply.status, 401, "{label}, {request_label}: {}", reply.body);
            let message = reply.assert_error(401, "APIGW.0301");
            assert!(
                message.starts_with("Incorrect IAM authentication information"),
                "{label}, {request_label}: {message}"
            );
        }
    }
    assert_eq!(app.row_counts().await, before, "refused requests wrote nothing");
}

#[tokio::test]
async fn health_probes_need_no_credentials() {
    let app = spawn_app().await;
    for path in ["/health", "/health/ready"] {
        let reply = app.send(app.client.get(app.url(path))).await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.body);
        assert!(reply.headers.contains_key("x-request-id"), "{path} has a request id");
    }
}

#[tokio::test]
async fn unknown_paths_and_methods_are_answered_in_the_sms_shape() {
    let app = spawn_app().await;
    for path in ["/v3/nothing", "/v2/tasks", "/", "/v3/tasks/a/b"] {
        app.get(path).await.assert_error(404, "APIGW.0101");
    }
    let source = app.register_source().await;
    let task = app.create_task(&create_task_example(&source)).await;
    for (method, path) in [
        (reqwest::Method::DELETE, "/v3/tasks".to_string()),
        (reqwest::Method::PATCH, format!("/v3/tasks/{task}")),
        (reqwest::Method::POST, format!("/v3/tasks/{task}")),
        (reqwest::Method::PUT, "/v3/sources".to_string()),
        (reqwest::Method::PATCH, format!("/v3/sources/{source}")),
    ] {
        let reply = app.send(app.client.request(method.clone(), app.url(&path)).header("X-Auth-Token", TOKEN_A)).await;
        assert_eq!(reply.status, 405, "{method} {path}: {}", reply.body);
        reply.assert_error(405, "SMS.2003");
    }
    // The task survived the refused requests.
    app.get(&format!("/v3/tasks/{task}")).await.assert_ok();
}

#[tokio::test]
async fn ids_that_are_not_uuids_name_nothing() {
    let app = spawn_app().await;
    for id in ["not-a-uuid", "123", "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxx0001"] {
        app.get(&format!("/v3/tasks/{id}")).await.assert_error(404, "SMS.8005");
        app.get(&format!("/v3/sources/{id}")).await.assert_error(404, "SMS.8006");
    }
    let missing = uuid::Uuid::new_v4();
    app.get(&format!("/v3/tasks/{missing}")).await.assert_error(404, "SMS.8005");
    app.get(&format!("/v3/sources/{missing}")).await.assert_error(404, "SMS.8006");
}

#[tokio::test]
async fn request_ids_are_echoed_or_made_up() {
    let app = spawn_app().await;
    let header = |reply: &Reply| reply.headers.get("x-request-id").and_then(|v| v.to_str().ok()).map(str::to_owned);

    let ok = app
        .send(app.client.get(app.url("/v3/sources")).header("X-Auth-Token", TOKEN_A).header("X-Request-Id", "req-ok-1"))
        .await;
    assert_eq!(ok.status, 200);
    assert_eq!(header(&ok).as_deref(), Some("req-ok-1"));

    let refused = app
        .send(
            app.client
                .get(app.url("/v3/tasks/not-a-uuid"))
                .header("X-Auth-Token", TOKEN_A)
                .header("X-Request-Id", "req-err-2"),
        )
        .await;
    refused.assert_error(404, "SMS.8005");
    assert_eq!(header(&refused).as_deref(), Some("req-err-2"));

    let unauthenticated = app.send(app.client.get(app.url("/v3/sources")).header("X-Request-Id", "req-401-3")).await;
    unauthenticated.assert_error(401, "APIGW.0301");
    assert_eq!(header(&unauthenticated).as_deref(), Some("req-401-3"));

    let first = header(&app.get("/v3/sources").await).expect("a fresh request id");
    let second = header(&app.get("/v3/sources").await).expect("a fresh request id");
    assert!(!first.is_empty());
    assert_ne!(first, second, "fresh ids differ");
}
