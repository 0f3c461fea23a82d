//! List pages from a streaming replica (`database.replica_url`): a private primary and a hot
//! standby made with `pg_basebackup -R`, both from PostgreSQL's own binaries. Lists are served
//! by the standby while it keeps up; while its replay is paused past the lag bound, or while it
//! is stopped, they come from the primary, correct, and the fallback is counted.
//!
//! Skipped, saying so, when the server binaries (`initdb`, `postgres`, `pg_basebackup`) are
//! missing.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sqlx::{Connection, PgConnection};

use sms_tasks::db::reads::{Fallback, ListReads};
use sms_tasks::db::LocalCluster;
use sms_tasks::db::PoolConfig;
use sms_tasks::settings::{Settings, TokenSetting};
use sms_tasks::startup::Application;

use crate::helpers::{create_task_example, source_body, DOMAIN_A, TOKEN_A};

/// A primary and its standby in a directory of their own; both stopped and the directory
/// removed on drop.
struct Pair {
    dir: PathBuf,
    primary: Option<LocalCluster>,
    standby: Option<LocalCluster>,
}

impl Drop for Pair {
    fn drop(&mut self) {
        for cluster in [self.standby.take(), self.primary.take()].into_iter().flatten() {
            cluster.stop();
        }
        if std::thread::panicking() {
            eprintln!("kept {} (server.log of each cluster) for the failure's diagnosis", self.dir.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// A service over `primary` reading lists from `standby`, with `max_lag_ms`.
struct Service {
    address: String,
    /// `http://…` of its `/metrics` listener.
    metrics: String,
    reads: Arc<ListReads>,
    client: reqwest::Client,
}

impl Service {
    async fn start(primary: &str, standby: &str, max_lag_ms: u64) -> Service {
        let mut settings = Settings::load(None).expect("default settings");
        settings.server.listen = "127.0.0.1:0".into();
        settings.server.workers = 2;
        settings.database.configured_url = Some(primary.into());
        settings.database.replica_url = Some(standby.into());
        settings.database.replica_max_lag_ms = max_lag_ms;
        settings.database.replica_check_interval_ms = 100;
        settings.server.metrics_listen = "127.0.0.1:0".into();
        settings.auth.tokens = vec![TokenSetting { token: TOKEN_A.into(), domain_id: DOMAIN_A.into() }];
        let pool = sms_tasks::db::pool(primary, PoolConfig::direct(5, Duration::from_secs(10))).await.unwrap();
        let app = Application::build(&settings, pool).await.expect("the application builds");
        let address = format!("http://{}", app.address());
        let reads = app.list_reads();
        let metrics = format!("http://{}", app.metrics_address().expect("metrics are on"));
        tokio::spawn(app.run_until_stopped());
        Service { address, metrics, reads, client: reqwest::Client::new() }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<&Value>) -> Value {
        let mut request =
            self.client.request(method, format!("{}{path}", self.address)).header("X-Auth-Token", TOKEN_A);
        if let Some(body) = body {
            request = request.json(body);
        }
        let reply = request.send().await.expect("answered");
        let status = reply.status();
        let body: Value = reply.json().await.unwrap_or(Value::Null);
        assert_eq!(status, 200, "{path}: {body}");
        body
    }

    /// Registers a source and creates a task for it; returns the task's id.
    async fn create_task(&self, name: &str) -> String {
        let source = self.call(reqwest::Method::POST, "/v3/sources", Some(&source_body(name))).await;
        let body = create_task_example(source["id"].as_str().unwrap());
        let task = self.call(reqwest::Method::POST, "/v3/tasks", Some(&body)).await;
        task["id"].as_str().unwrap().to_string()
    }

    /// The ids `GET /v3/tasks` lists, and its count.
    async fn list(&self) -> (Vec<String>, i64) {
        let page = self.call(reqwest::Method::GET, "/v3/tasks?limit=200", None).await;
        let ids = page["tasks"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap().to_string()).collect();
        (ids, page["count"].as_i64().unwrap())
    }
}

/// Lists until one is read from the standby (within 10 s: a check that catches a WAL record
/// the standby has not replayed yet sends one list to the primary); every list is complete.
async fn served_by_the_standby_soon(service: &Service, created: &[String]) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let before = service.reads.served_by_replica();
        let (ids, count) = service.list().await;
        assert_eq!((count, ids.len()), (created.len() as i64, created.len()));
        assert!(created.iter().all(|id| ids.contains(id)));
        if service.reads.served_by_replica() == before + 1 {
            return;
        }
        assert!(Instant::now() < deadline, "no list was read from the standby in 10 s");
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

async fn connect(url: &str) -> PgConnection {
    PgConnection::connect(url).await.unwrap_or_else(|e| panic!("connect {url}: {e}"))
}

/// Waits until the standby has replayed everything the primary has written so far.
async fn wait_for_replay(primary: &str, standby: &str) {
    let target: String =
        sqlx::query_scalar("SELECT pg_current_wal_lsn()::text").fetch_one(&mut connect(primary).await).await.unwrap();
    let mut standby = connect(standby).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let caught_up: bool = sqlx::query_scalar("SELECT pg_last_wal_replay_lsn() >= $1::text::pg_lsn")
            .bind(&target)
            .fetch_one(&mut standby)
            .await
            .unwrap();
        if caught_up {
            return;
        }
        assert!(Instant::now() < deadline, "the standby did not replay up to {target} in 30 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn lists_come_from_the_standby_and_from_the_primary_while_it_lags_or_is_down() {
    if let Err(why) = LocalCluster::replication_available() {
        eprintln!(
            "SKIPPED lists_come_from_the_standby_and_from_the_primary_while_it_lags_or_is_down: \
             PostgreSQL's server binaries are missing ({why:#}); apt-get install postgresql"
        );
        return;
    }
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("replica-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut pair = Pair { dir: dir.clone(), primary: None, standby: None };
    let primary_dir = dir.join("primary");
    let primary = tokio::task::spawn_blocking(move || LocalCluster::start(&primary_dir)).await.unwrap().unwrap();
    let primary_url = primary.url("sms_tasks");
    pair.primary = Some(primary);
    sms_tasks::db::create_database_if_missing(&primary_url).await.unwrap();
    sms_tasks::db::migrate(&primary_url).await.unwrap();
    let standby_dir = dir.join("standby");
    let primary_port = pair.primary.as_ref().unwrap().port();
    let standby = tokio::task::spawn_blocking(move || LocalCluster::start_standby(primary_port, &standby_dir))
        .await
        .unwrap()
        .expect("the standby starts");
    let standby_url = standby.url("sms_tasks");
    pair.standby = Some(standby);

    // `patient` tolerates a minute of lag; `strict` a quarter second.
    let patient = Service::start(&primary_url, &standby_url, 60_000).await;
    let strict = Service::start(&primary_url, &standby_url, 250).await;
    let mut created = vec![patient.create_task("r-0").await, patient.create_task("r-1").await];
    wait_for_replay(&primary_url, &standby_url).await;

    // 1. The standby serves the lists: both services count them as replica reads, and the
    // standby sees their connections.
    for service in [&patient, &strict] {
        served_by_the_standby_soon(service, &created).await;
    }
    let on_standby: i64 =
        sqlx::query_scalar("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'sms-tasks-lists'")
            .fetch_one(&mut connect(&standby_url).await)
            .await
            .unwrap();
    assert!(on_standby >= 2, "the services' list connections are not on the standby ({on_standby})");

    // 2. Replay paused: a new task is on the primary only.
    let mut standby_admin = connect(&standby_url).await;
    sqlx::query("SELECT pg_wal_replay_pause()").execute(&mut standby_admin).await.unwrap();
    created.push(patient.create_task("r-2").await);
    tokio::time::sleep(Duration::from_millis(600)).await;
    // Within its minute, `patient` still reads the standby: the page is the standby's, one
    // behind, which is what a replica read means.
    let replica_reads = patient.reads.served_by_replica();
    let (ids, count) = patient.list().await;
    assert_eq!((count, ids.len()), (2, 2), "the patient service did not read the paused standby");
    assert_eq!(patient.reads.served_by_replica(), replica_reads + 1);
    // `strict` sees more than a quarter second of lag and reads the primary: all three.
    let (ids, count) = strict.list().await;
    assert_eq!((count, ids.len()), (3, 3));
    assert!(created.iter().all(|id| ids.contains(id)));
    assert!(strict.reads.fallbacks(Fallback::Lag) >= 1, "the lag fallback was not counted");

    // 3. Replay resumed: the standby catches up and serves `strict` again.
    sqlx::query("SELECT pg_wal_replay_resume()").execute(&mut standby_admin).await.unwrap();
    standby_admin.close().await.unwrap();
    wait_for_replay(&primary_url, &standby_url).await;
    served_by_the_standby_soon(&strict, &created).await;

    // 4. Standby stopped: both services answer from the primary, and count why.
    let standby = pair.standby.take().unwrap();
    tokio::task::spawn_blocking(move || standby.stop()).await.unwrap();
    created.push(strict.create_task("r-3").await);
    for service in [&patient, &strict] {
        for _ in 0..3 {
            let (ids, count) = service.list().await;
            assert_eq!((count, ids.len()), (4, 4));
            assert!(created.iter().all(|id| ids.contains(id)));
        }
        let fallbacks = service.reads.fallbacks(Fallback::Unreachable) + service.reads.fallbacks(Fallback::Error);
        assert!(fallbacks >= 3, "the fallbacks to the primary were not counted ({fallbacks})");
        // And said so in the metrics.
        let scrape = service.client.get(format!("{}/metrics", service.metrics)).send().await.unwrap();
        let text = scrape.text().await.unwrap();
        let sample = |line: &str| line.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
        let exported: f64 = text.lines().filter(|l| l.starts_with("sms_replica_fallbacks_total{")).map(sample).sum();
        assert!(exported >= fallbacks as f64, "sms_replica_fallbacks_total {exported} < {fallbacks}:\n{text}");
        assert!(text.lines().any(|l| l == "sms_replica_in_use 0"), "the replica is not in use:\n{text}");
    }
    // Other list pages read the same way.
    let sources = patient.call(reqwest::Method::GET, "/v3/sources", None).await;
    assert_eq!(sources["count"], json!(4));
}
