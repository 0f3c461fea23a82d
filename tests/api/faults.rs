//! Faults and slow clients: a PostgreSQL that restarts under load, a statement stuck behind a
//! lock, a body sent too slowly, request heads the HTTP layer refuses. Every answer is the SMS
//! shape or the documented exception, never a 500.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use sms_tasks::db::LocalCluster;

use crate::helpers::*;

/// What the load saw: `(kind, status)` → count, and the 503s without `Retry-After` or
/// without `SMS.8007`.
#[derive(Default)]
struct Tally {
    answers: BTreeMap<(&'static str, u16), u32>,
    not_sent: u32,
    bad_503s: Vec<String>,
}

impl Tally {
    fn record(&mut self, kind: &'static str, reply: &Reply) {
        *self.answers.entry((kind, reply.status)).or_default() += 1;
        if reply.status == 503 && (reply.headers.get("retry-after").is_none() || reply.body["error_code"] != "SMS.8007")
        {
            self.bad_503s.push(format!("{:?} {}", reply.headers, reply.body));
        }
    }

    fn count(&self, kind: &str, status: u16) -> u32 {
        self.answers.iter().filter(|((k, s), _)| *k == kind && *s == status).map(|(_, n)| n).sum()
    }

    fn server_errors_other_than_503(&self) -> Vec<String> {
        self.answers.iter().filter(|((_, s), _)| *s >= 500 && *s != 503).map(|(k, n)| format!("{k:?} x{n}")).collect()
    }
}

/// A private cluster of this test's own, removed when dropped.
struct PrivateCluster {
    dir: PathBuf,
    port: u16,
    cluster: Option<LocalCluster>,
}

impl PrivateCluster {
    async fn start() -> PrivateCluster {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("fault-{}", uuid::Uuid::new_v4().simple()));
        let start_dir = dir.clone();
        let cluster = tokio::task::spawn_blocking(move || LocalCluster::start(&start_dir))
            .await
            .unwrap()
            .expect("a private PostgreSQL cluster starts");
        PrivateCluster { dir, port: cluster.port(), cluster: Some(cluster) }
    }

    fn maintenance_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// A fast shutdown (SIGINT): PostgreSQL terminates every session (57P01).
    async fn stop(&mut self) {
        let cluster = self.cluster.take().expect("running");
        tokio::task::spawn_blocking(move || cluster.stop()).await.unwrap();
    }

    /// Starts again on the same port: to its clients, the same server back up.
    async fn restart(&mut self) {
        let (dir, port) = (self.dir.clone(), self.port);
        let cluster = tokio::task::spawn_blocking(move || LocalCluster::start_on(&dir, port))
            .await
            .unwrap()
            .expect("the private cluster restarts on its port");
        self.cluster = Some(cluster);
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        if let Some(cluster) = self.cluster.take() {
            cluster.stop();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_postgresql_restart_is_answered_503_with_retry_after_never_500_and_the_service_recovers() {
    let mut postgres = PrivateCluster::start().await;
    let app = Arc::new(
        spawn_app_on(&postgres.maintenance_url(), |s| {
            s.database.pool_size = 6;
            s.database.connect_timeout_secs = 1;
        })
        .await,
    );
    let task = app.create_example_task().await;
    let show = format!("/v3/tasks/{task}");

    // Three readers and three writers, until told to stop.
    let stop = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(Mutex::new(Tally::default()));
    let mut load = Vec::new();
    for worker in 0..6 {
        let (app, stop, tally, show) = (app.clone(), stop.clone(), tally.clone(), show.clone());
        load.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let request = if worker < 3 {
                    app.client.get(app.url(if n % 2 == 0 { &show } else { "/v3/tasks" }))
                } else {
                    app.client.post(app.url("/v3/sources")).json(&source_body(&format!("w{worker}-{n}")))
                };
                let kind = if worker < 3 { "read" } else { "write" };
                match request.header("X-Auth-Token", TOKEN_A).timeout(Duration::from_secs(20)).send().await {
                    Ok(response) => {
                        let reply = Reply::from_response(response).await;
                        tally.lock().unwrap().record(kind, &reply);
                    }
                    Err(_) => tally.lock().unwrap().not_sent += 1,
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }));
    }

    tokio::time::sleep(Duration::from_secs(1)).await;
    postgres.stop().await;
    // Down for longer than a request waits for a connection (1 s): some answers must be 503.
    tokio::time::sleep(Duration::from_secs(4)).await;
    postgres.restart().await;
    // Recovery without restarting the service: reads and writes answer 200 again.
    let deadline = Instant::now() + Duration::from_secs(30);
    let (reads_before, writes_before) = {
        let t = tally.lock().unwrap();
        (t.count("read", 200), t.count("write", 200))
    };
    loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let t = tally.lock().unwrap();
        if t.count("read", 200) > reads_before + 20 && t.count("write", 200) > writes_before + 20 {
            break;
        }
        assert!(Instant::now() < deadline, "no recovery within 30 s: {:?}", t.answers);
    }
    stop.store(true, Ordering::Relaxed);
    for worker in load {
        worker.await.unwrap();
    }

    let tally = std::mem::take(&mut *tally.lock().unwrap());
    let summary = format!("answers {:?}, not sent {}", tally.answers, tally.not_sent);
    println!("restart under load: {summary}");
    assert_eq!(tally.server_errors_other_than_503(), Vec::<String>::new(), "{summary}");
    assert!(tally.count("read", 503) + tally.count("write", 503) > 0, "the outage was not noticed: {summary}");
    assert!(tally.bad_503s.is_empty(), "503s without Retry-After or SMS.8007: {:?}", tally.bad_503s);
    assert_eq!(tally.not_sent, 0, "every request got an answer: {summary}");

    // A restart between two requests: the pooled connections are all dead, and the next read
    // is still answered, on a fresh connection (the dead one is retried once).
    app.get(&show).await.assert_ok();
    postgres.stop().await;
    postgres.restart().await;
    let first = app.get(&show).await;
    assert_eq!(first.status, 200, "the first read after a restart: {}", first.body);
    app.post("/v3/sources", &source_body("after-restart")).await.assert_ok();
}

#[tokio::test]
async fn a_statement_stuck_behind_a_lock_times_out_as_503_and_changes_nothing() {
    let app = spawn_app_with(|s| s.database.statement_timeout_ms = 300).await;
    let task = app.create_example_task().await;
    let path = format!("/v3/tasks/{task}");
    let name_before = app.get(&path).await.assert_ok()["name"].clone();

    // Another session holds the task's row lock past the statement timeout.
    let mut holder = app.pool.begin().await.unwrap();
    sqlx::query("SELECT 1 FROM tasks WHERE id = $1::uuid FOR UPDATE").bind(&task).execute(&mut *holder).await.unwrap();
    let started = Instant::now();
    let reply = app.put(&path, &json!({ "name": "renamed-while-locked" })).await;
    let waited = started.elapsed();
    reply.assert_error(503, "SMS.8007");
    assert!(reply.headers.get("retry-after").is_some(), "a 503 says when to retry");
    assert!(waited < Duration::from_secs(3), "answered after the 300 ms timeout, not after the lock: {waited:?}");
    holder.rollback().await.unwrap();

    assert_eq!(app.get(&path).await.assert_ok()["name"], name_before, "the timed-out update was rolled back");
    app.put(&path, &json!({ "name": "renamed" })).await.assert_ok();
    assert_eq!(app.get(&path).await.assert_ok()["name"], "renamed");
}

/// Sends `head` and the first bytes of a body that never completes, and returns the raw
/// answer and how long it took.
async fn send_slow_body(app: &TestApp, head: &str) -> (String, Duration) {
    let mut stream = TcpStream::connect(app.address.trim_start_matches("http://")).await.unwrap();
    stream
        .write_all(format!("{head}Content-Type: application/json\r\nContent-Length: 200\r\n\r\n{{\"na").as_bytes())
        .await
        .unwrap();
    let started = Instant::now();
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    // Until the server closes the connection, or 10 s.
    while let Ok(Ok(n)) = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buffer)).await {
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&buffer[..n]);
        if String::from_utf8_lossy(&answer).contains("\"error_msg\"") {
            break;
        }
    }
    (String::from_utf8_lossy(&answer).into_owned(), started.elapsed())
}

#[tokio::test]
async fn a_body_sent_too_slowly_is_answered_408_in_the_sms_shape() {
    let app = spawn_app_with(|s| s.server.body_timeout_secs = 1).await;
    let host = app.address.trim_start_matches("http://").to_string();
    // With a token (the JSON extractor reads the body) and signed (the signature check does).
    let token = format!("POST /v3/sources HTTP/1.1\r\nHost: {host}\r\nX-Auth-Token: {TOKEN_A}\r\n");
    let signed = format!(
        "POST /v3/sources HTTP/1.1\r\nHost: {host}\r\nX-Sdk-Date: {}\r\nAuthorization: SDK-HMAC-SHA256 \
         Access={AK_A}, SignedHeaders=content-type;host;x-sdk-date, Signature=00\r\n",
        chrono::Utc::now().format(sms_tasks::auth::signature::DATE_FORMAT)
    );
    for head in [token, signed] {
        let (answer, took) = send_slow_body(&app, &head).await;
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(answer.contains("\"error_code\":\"APIGW.0201\""), "{answer}");
        assert!(answer.to_ascii_lowercase().contains("x-request-id:"), "{answer}");
        assert!(took >= Duration::from_millis(900) && took < Duration::from_secs(5), "answered after {took:?}");
    }
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM servers").fetch_one(&app.pool).await.unwrap();
    assert_eq!(count, 0);
    // A whole body in time is served as usual.
    app.post("/v3/sources", &source_body("in-time")).await.assert_ok();
}

/// The refusals actix-web's HTTP/1 layer writes itself, before any code of ours runs, are as
/// the README's error table documents them (bare status, no body), and the server goes on.
#[tokio::test]
async fn request_heads_the_http_layer_refuses_are_answered_as_documented() {
    let app = spawn_app().await;
    let huge_header = "x".repeat(140 * 1024);
    let reply = app.client.get(app.url("/v3/tasks")).header("X-Padding", huge_header).send().await.unwrap();
    assert_eq!(reply.status(), 431);
    let mut many = app.client.get(app.url("/v3/tasks"));
    for i in 0..100 {
        many = many.header(format!("x-h{i}"), "1");
    }
    assert_eq!(many.send().await.unwrap().status(), 431, "more than 96 headers");
    // A long URI that fits the head is ours to answer: the SMS shape.
    let long = format!("/v3/tasks?name={}", "n".repeat(60 * 1024));
    app.get(&long).await.assert_invalid("name");
    app.get("/v3/tasks").await.assert_ok();
}
