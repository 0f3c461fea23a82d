//! Request signing (`SDK-HMAC-SHA256`) over real HTTP: how the service handles signed requests.
//! Requests are signed with the crate's own `SignedRequest::sign`, which is itself checked
//! against signatures computed by the official SDK (unit tests of `src/auth/signature.rs`).

use chrono::{Duration, Utc};
use serde_json::{json, Value};

use sms_tasks::auth::signature::{payload_hash, SignedRequest, DATE_FORMAT};

use crate::helpers::*;

const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// A request to sign the way the SDK does, and what to tamper with after signing.
struct Signed {
    method: reqwest::Method,
    path: String,
    /// Without `?`, as sent.
    query: String,
    body: Vec<u8>,
    /// Signed and sent, besides `host` and `x-sdk-date` (lower-case names).
    headers: Vec<(String, String)>,
    date: chrono::DateTime<Utc>,
    access_key: String,
    secret_key: String,
    /// Tampering after signing.
    drop_after_signing: Vec<String>,
    body_after_signing: Option<Vec<u8>>,
    query_after_signing: Option<String>,
    signature: Option<String>,
    /// Sent but left out of `SignedHeaders`.
    unsigned: Vec<String>,
    /// The `Host` to sign and send, instead of the app's address.
    host: Option<String>,
}

impl Signed {
    /// `method path?query` for domain A's access key, with `Content-Type: application/json` and
    /// `X-Domain-Id` like `GlobalCredentials`.
    fn new(method: reqwest::Method, path_and_query: &str) -> Signed {
        let (path, query) = path_and_query.split_once('?').unwrap_or((path_and_query, ""));
        Signed {
            method,
            path: path.into(),
            query: query.into(),
            body: Vec::new(),
            headers: vec![
                ("content-type".into(), "application/json".into()),
                ("user-agent".into(), "huaweicloud-usdk-python/3.0; sms-tasks signing tests".into()),
                ("x-domain-id".into(), DOMAIN_A.into()),
            ],
            date: Utc::now(),
            access_key: AK_A.into(),
            secret_key: SK_A.into(),
            drop_after_signing: Vec::new(),
            body_after_signing: None,
            query_after_signing: None,
            signature: None,
            unsigned: Vec::new(),
            host: None,
        }
    }

    fn get(path_and_query: &str) -> Signed {
        Signed::new(reqwest::Method::GET, path_and_query)
    }

    fn post(path: &str, body: &Value) -> Signed {
        Signed::new(reqwest::Method::POST, path).json(body)
    }

    fn put(path: &str, body: &Value) -> Signed {
        Signed::new(reqwest::Method::PUT, path).json(body)
    }

    /// The body as the SDK serializes it (`json.dumps`: `", "` and `": "` separators).
    fn json(mut self, body: &Value) -> Signed {
        self.body = python_json(body).into_bytes();
        self
    }

    fn key(mut self, access_key: &str, secret_key: &str) -> Signed {
        self.access_key = access_key.into();
        self.secret_key = secret_key.into();
        self
    }

    /// Sets (or adds) a signed header.
    fn header(mut self, name: &str, value: &str) -> Signed {
        self.headers.retain(|(n, _)| n != name);
        self.headers.push((name.into(), value.into()));
        self
    }

    fn without_header(mut self, name: &str) -> Signed {
        self.headers.retain(|(n, _)| n != name);
        self
    }

    /// Sends `name` without signing it.
    fn leave_unsigned(mut self, name: &str) -> Signed {
        self.unsigned.push(name.into());
        self
    }

    fn host(mut self, host: &str) -> Signed {
        self.host = Some(host.into());
        self
    }

    fn signed_at(mut self, date: chrono::DateTime<Utc>) -> Signed {
        self.date = date;
        self
    }

    /// The `Authorization` header and the request to send, signed for `app`.
    fn build(&self, app: &TestApp) -> reqwest::RequestBuilder {
        let host = self.host.clone().unwrap_or_else(|| app.address.trim_start_matches("http://").to_string());
        let mut headers = self.headers.clone();
        headers.push(("host".into(), host));
        // An `x-sdk-date` set with `header` is sent as is.
        let date = match headers.iter().find(|(n, _)| n == "x-sdk-date") {
            Some((_, value)) => value.clone(),
            None => {
                let date = self.date.format(DATE_FORMAT).to_string();
                headers.push(("x-sdk-date".into(), date.clone()));
                date
            }
        };
        headers.sort();
        let content_sha256 = headers.iter().find(|(n, _)| n == "x-sdk-content-sha256").map(|(_, v)| v.as_str());
        let signed: Vec<(String, String)> =
            headers.iter().filter(|(n, _)| !self.unsigned.contains(n)).cloned().collect();
        let request = SignedRequest {
            method: self.method.as_str(),
            path: &self.path,
            query: &self.query,
            headers: signed.clone(),
            date: &date,
            payload_hash: payload_hash(&self.body, content_sha256),
        };
        let signature = self.signature.clone().unwrap_or_else(|| request.sign(&self.secret_key));
        let names = signed.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(";");
        let authorization =
            format!("SDK-HMAC-SHA256 Access={}, SignedHeaders={names}, Signature={signature}", self.access_key);

        let query = self.query_after_signing.as_ref().unwrap_or(&self.query);
        let url = if query.is_empty() { app.url(&self.path) } else { format!("{}?{query}", app.url(&self.path)) };
        let mut builder = app.client.request(self.method.clone(), url).header("Authorization", authorization);
        for (name, value) in &headers {
            if !self.drop_after_signing.contains(name) {
                builder = builder.header(name.as_str(), value.as_str());
            }
        }
        builder.body(self.body_after_signing.clone().unwrap_or_else(|| self.body.clone()))
    }

    async fn send(&self, app: &TestApp) -> Reply {
        app.send(self.build(app)).await
    }
}

/// JSON text as Python's `json.dumps` writes it (what the SDK signs and sends).
fn python_json(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let fields: Vec<String> =
                map.iter().map(|(k, v)| format!("{}: {}", Value::String(k.clone()), python_json(v))).collect();
            format!("{{{}}}", fields.join(", "))
        }
        Value::Array(items) => format!("[{}]", items.iter().map(python_json).collect::<Vec<_>>().join(", ")),
        other => other.to_string(),
    }
}

/// Asserts a 401 `APIGW.0301`; returns its `error_msg`.
#[track_caller]
fn assert_unauthorized(reply: &Reply) -> String {
    let message = reply.assert_error(401, "APIGW.0301");
    let reason = message
        .strip_prefix("Incorrect IAM authentication information: ")
        .unwrap_or_else(|| panic!("unexpected message: {message}"));
    assert!(!reason.trim().is_empty(), "no reason given: {message}");
    message
}

/// Registers a source through a signed request; returns its id.
async fn register_signed(app: &TestApp) -> String {
    let reply = Signed::post("/v3/sources", &source_body("signed-src")).send(app).await;
    reply.assert_ok()["id"].as_str().expect("an id").to_string()
}

#[tokio::test]
async fn correct_signatures_are_accepted_for_get_post_and_put() {
    let app = spawn_app().await;
    let source = register_signed(&app).await;

    let mut body = create_task_example(&source);
    body["name"] = json!("signed-task");
    let created = Signed::post("/v3/tasks", &body).send(&app).await;
    let id = created.assert_ok()["id"].as_str().expect("an id").to_string();

    // The query is sent unsorted and percent-encoded; the signature covers it sorted.
    let listed = Signed::get("/v3/tasks?offset=0&name=signed%2Dtask&limit=5").send(&app).await;
    assert_eq!(listed.assert_ok()["count"], 1);
    assert_eq!(listed.body["tasks"][0]["id"], json!(id));

    let renamed =
        Signed::put(&format!("/v3/tasks/{id}"), &json!({"name": "renamed", "speed_limit": 7})).send(&app).await;
    assert_eq!(renamed.assert_ok()["id"], json!(id));
    let shown = Signed::get(&format!("/v3/tasks/{id}")).send(&app).await;
    assert_eq!(shown.assert_ok()["name"], "renamed");
    assert_eq!(shown.body["speed_limit"], 7);

    // A path that needs percent-encoding verifies too: the answer is "no such task", not 401.
    Signed::get("/v3/tasks/id%20with%20space").send(&app).await.assert_error(404, "SMS.8005");
    // Every signed reply carries a request id.
    assert!(shown.headers.contains_key("x-request-id"));
}

#[tokio::test]
async fn x_sdk_date_more_than_15_minutes_off_is_refused() {
    let app = spawn_app().await;
    for minutes in [-16, 16] {
        let reply = Signed::get("/v3/tasks").signed_at(Utc::now() + Duration::minutes(minutes)).send(&app).await;
        let message = assert_unauthorized(&reply);
        assert!(message.contains("time"), "{minutes} min: the reason names the clock: {message}");
    }
    for minutes in [-14, 14] {
        let reply = Signed::get("/v3/tasks").signed_at(Utc::now() + Duration::minutes(minutes)).send(&app).await;
        reply.assert_ok();
    }
    // Not parseable, or missing.
    let reply = Signed::get("/v3/tasks").header("x-sdk-date", "2026-11-22T06:49:14Z").send(&app).await;
    assert_unauthorized(&reply);
    let mut no_date = Signed::get("/v3/tasks");
    no_date.drop_after_signing.push("x-sdk-date".into());
    assert_unauthorized(&no_date.send(&app).await);
}

#[tokio::test]
async fn an_unknown_access_key_is_refused() {
    let app = spawn_app().await;
    let reply = Signed::get("/v3/tasks").key("NOSUCHACCESSKEY", "whatever").send(&app).await;
    let message = assert_unauthorized(&reply);
    assert!(message.contains("ak not exist"), "{message}");
    assert!(!message.contains("NOSUCHACCESSKEY"), "the access key is masked: {message}");
}

#[tokio::test]
async fn a_revoked_access_key_is_refused() {
    let app = spawn_app().await;
    Signed::get("/v3/tasks").send(&app).await.assert_ok();
    assert!(sms_tasks::store::credentials::revoke_access_key(&app.pool, AK_A).await.unwrap());

    let message = assert_unauthorized(&Signed::get("/v3/tasks").send(&app).await);
    assert!(message.contains("revoked"), "{message}");
    // Other credentials are unaffected: domain B's key, domain A's token.
    Signed::get("/v3/tasks").key(AK_B, SK_B).header("x-domain-id", DOMAIN_B).send(&app).await.assert_ok();
    app.get("/v3/tasks").await.assert_ok();
}

#[tokio::test]
async fn a_wrong_signature_is_refused() {
    let app = spawn_app().await;
    let mut forged = Signed::get("/v3/tasks");
    forged.signature = Some("0".repeat(64));
    let message = assert_unauthorized(&forged.send(&app).await);
    assert!(message.contains("verify aksk signature fail"), "{message}");

    let mut not_hex = Signed::get("/v3/tasks");
    not_hex.signature = Some("not-a-signature".into());
    assert_unauthorized(&not_hex.send(&app).await);

    let wrong_secret = Signed::get("/v3/tasks").key(AK_A, "not-the-secret").send(&app).await;
    assert_unauthorized(&wrong_secret);
    // Domain B's secret does not sign for domain A's key.
    let other_secret = Signed::get("/v3/tasks").key(AK_A, SK_B).send(&app).await;
    assert_unauthorized(&other_secret);
}

#[tokio::test]
async fn a_signed_header_that_is_missing_is_refused() {
    let app = spawn_app().await;
    let mut request = Signed::get("/v3/tasks").header("x-custom", "1");
    request.drop_after_signing.push("x-custom".into());
    let message = assert_unauthorized(&request.send(&app).await);
    assert!(message.contains("x-custom"), "the reason names the header: {message}");
}

#[tokio::test]
async fn a_body_changed_after_signing_is_refused() {
    let app = spawn_app().await;
    let mut request = Signed::post("/v3/sources", &source_body("original"));
    request.body_after_signing = Some(python_json(&source_body("changed")).into_bytes());
    assert_unauthorized(&request.send(&app).await);

    // Also a changed query.
    let mut query = Signed::get("/v3/tasks?limit=5");
    query.query_after_signing = Some("limit=6".into());
    assert_unauthorized(&query.send(&app).await);
    // Nothing was registered.
    assert_eq!(app.get("/v3/sources").await.assert_ok()["count"], 0);
}

#[tokio::test]
async fn an_unsigned_payload_is_accepted_as_the_payload_hash() {
    let app = spawn_app().await;
    let request =
        Signed::post("/v3/sources", &source_body("unsigned-payload")).header("x-sdk-content-sha256", UNSIGNED_PAYLOAD);
    let id = request.send(&app).await.assert_ok()["id"].as_str().expect("an id").to_string();
    let shown = app.get(&format!("/v3/sources/{id}")).await;
    assert_eq!(shown.assert_ok()["name"], "unsigned-payload");

    // The header's value is what is signed: without it, the same signature no longer verifies.
    let mut stripped =
        Signed::post("/v3/sources", &source_body("unsigned-payload")).header("x-sdk-content-sha256", UNSIGNED_PAYLOAD);
    stripped.drop_after_signing.push("x-sdk-content-sha256".into());
    assert_unauthorized(&stripped.send(&app).await);
}

#[tokio::test]
async fn x_domain_id_naming_another_domain_is_forbidden() {
    let app = spawn_app().await;
    let reply = Signed::get("/v3/tasks").header("x-domain-id", DOMAIN_B).send(&app).await;
    reply.assert_error(403, "SMS.9004");
    let body = &reply.body;
    assert!(body["encoded_authorization_message"].is_string(), "{body}");
    let params = body["error_param"].as_array().expect("error_param is an array");
    assert!((1..=20).contains(&params.len()) && params.iter().all(Value::is_string), "{body}");
    let details = body["details"].as_array().expect("details is an array");
    assert!((1..=20).contains(&details.len()), "{body}");
    for detail in details {
        assert_eq!(detail["error_code"], "SMS.9004", "{body}");
        assert!(detail["error_msg"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    }
    // A refusal for the domain, not a failed signature: it does not count towards the lockout.
    for _ in 0..6 {
        Signed::get("/v3/tasks").header("x-domain-id", DOMAIN_B).send(&app).await.assert_error(403, "SMS.9004");
    }
    Signed::get("/v3/tasks").send(&app).await.assert_ok();
}

#[tokio::test]
async fn x_project_id_or_no_id_header_is_accepted() {
    let app = spawn_app().await;
    // Like BasicCredentials: X-Project-Id instead of X-Domain-Id.
    let project = Signed::get("/v3/tasks").without_header("x-domain-id").header("x-project-id", "any-project");
    project.send(&app).await.assert_ok();
    // Neither header: the key's own domain.
    let source = Signed::post("/v3/sources", &source_body("no-id-header")).without_header("x-domain-id");
    let id = source.send(&app).await.assert_ok()["id"].as_str().unwrap().to_string();
    app.get(&format!("/v3/sources/{id}")).await.assert_ok();
    app.get_as(TOKEN_B, &format!("/v3/sources/{id}")).await.assert_error(404, "SMS.8006");
}

#[tokio::test]
async fn five_wrong_signatures_in_a_row_lock_the_access_key() {
    let app = spawn_app().await;
    let wrong = || Signed::get("/v3/tasks").key(AK_A, "not-the-secret");
    let right = || Signed::get("/v3/tasks");

    // Failures must be consecutive: a correct signature resets the count.
    for _ in 0..4 {
        assert_unauthorized(&wrong().send(&app).await);
    }
    right().send(&app).await.assert_ok();
    for _ in 0..4 {
        assert_unauthorized(&wrong().send(&app).await);
    }
    right().send(&app).await.assert_ok();

    // Five in a row: then even a correct signature is refused.
    for _ in 0..5 {
        let message = assert_unauthorized(&wrong().send(&app).await);
        assert!(message.contains("verify aksk signature fail"), "{message}");
    }
    let message = assert_unauthorized(&right().send(&app).await);
    assert!(message.contains("AK access failed to reach the limit"), "{message}");
    // Other keys, and tokens, are unaffected.
    Signed::get("/v3/tasks").key(AK_B, SK_B).header("x-domain-id", DOMAIN_B).send(&app).await.assert_ok();
    app.get("/v3/tasks").await.assert_ok();

    // The lock ends after `lockout_secs`; pretend the time has passed.
    app.execute(&format!(
        "UPDATE access_keys SET locked_until = now() - interval '1 second' WHERE access_key = '{AK_A}'"
    ))
    .await;
    right().send(&app).await.assert_ok();
}

#[tokio::test]
async fn x_auth_token_works_beside_signatures() {
    let app = spawn_app().await;
    let source = register_signed(&app).await;
    let id = app.create_task(&create_task_example(&source)).await;
    // A task created with a token is seen with the signature of the same domain, and back.
    let shown = Signed::get(&format!("/v3/tasks/{id}")).send(&app).await;
    assert_eq!(shown.assert_ok()["source_server"]["id"], json!(source));
    assert_eq!(app.get("/v3/tasks").await.assert_ok()["count"], 1);
    // Not by the other domain, whichever the credentials.
    app.get_as(TOKEN_B, &format!("/v3/tasks/{id}")).await.assert_error(404, "SMS.8005");
    let other = Signed::get(&format!("/v3/tasks/{id}")).key(AK_B, SK_B).header("x-domain-id", DOMAIN_B);
    other.send(&app).await.assert_error(404, "SMS.8005");
    // No credentials at all.
    let none = app.send(app.client.get(app.url("/v3/tasks"))).await;
    let message = assert_unauthorized(&none);
    assert!(message.contains("x-auth-token not found"), "{message}");
    // An unknown token.
    assert_unauthorized(&app.get_as("no-such-token", "/v3/tasks").await);
}

#[tokio::test]
async fn a_signature_that_leaves_out_host_or_the_date_is_refused() {
    let app = spawn_app().await;
    Signed::get("/v3/tasks").send(&app).await.assert_ok();
    for header in ["host", "x-sdk-date"] {
        let reply = Signed::get("/v3/tasks").leave_unsigned(header).send(&app).await;
        let message = reply.assert_error(401, "APIGW.0301");
        assert!(message.contains(&format!("SignedHeaders must include {header}")), "{message}");
    }
    // Unsigned, the Host could be changed after signing; signed, a changed Host breaks it.
    let reply = Signed::get("/v3/tasks").host("sms.example.com").send(&app).await;
    reply.assert_ok();
}

#[tokio::test]
async fn with_reject_replays_a_signature_is_accepted_once_across_instances() {
    let first = spawn_app_with(|s| s.auth.reject_replays = true).await;
    let second = first.another_instance(|s| s.auth.reject_replays = true).await;
    // Behind a load balancer every instance sees the same Host.
    let request = Signed::post("/v3/sources", &source_body("replayed")).host("sms.example.com");
    request.send(&first).await.assert_ok();
    let again = request.send(&first).await;
    let message = again.assert_error(401, "APIGW.0301");
    assert!(message.contains("already used"), "{message}");
    request.send(&second).await.assert_error(401, "APIGW.0301");
    let sources: i64 = sqlx::query_scalar("SELECT count(*) FROM servers").fetch_one(&first.pool).await.unwrap();
    assert_eq!(sources, 1, "the replays stored nothing");

    // A new signature (another second) is accepted, on either instance.
    let later = Signed::get("/v3/sources").host("sms.example.com").signed_at(Utc::now() + Duration::seconds(2));
    later.send(&second).await.assert_ok();

    // Off (the default), the same request is accepted again: clients that resend identical
    // requests within a second keep working.
    let lenient = spawn_app().await;
    let request = Signed::get("/v3/tasks");
    request.send(&lenient).await.assert_ok();
    request.send(&lenient).await.assert_ok();
}

#[tokio::test]
async fn a_revoked_token_is_refused_once_the_token_cache_forgets_it() {
    // Without the cache, at once.
    let app = spawn_app_with(|s| s.auth.token_cache_secs = 0).await;
    let (id, token) = sms_tasks::store::credentials::create_token(&app.pool, DOMAIN_A).await.unwrap();
    app.get_as(&token, "/v3/tasks").await.assert_ok();
    assert!(sms_tasks::store::credentials::revoke_token(&app.pool, id).await.unwrap());
    app.get_as(&token, "/v3/tasks").await.assert_error(401, "APIGW.0301");

    // With it, within its time to live (here 1 s).
    let app = spawn_app_with(|s| s.auth.token_cache_secs = 1).await;
    let (id, token) = sms_tasks::store::credentials::create_token(&app.pool, DOMAIN_A).await.unwrap();
    app.get_as(&token, "/v3/tasks").await.assert_ok();
    assert!(sms_tasks::store::credentials::revoke_token(&app.pool, id).await.unwrap());
    tokio::time::sleep(std::time::Duration::from_millis(1300)).await;
    app.get_as(&token, "/v3/tasks").await.assert_error(401, "APIGW.0301");
    // An unknown token is never remembered: each is looked up.
    app.get_as("no-such-token", "/v3/tasks").await.assert_error(401, "APIGW.0301");
}
