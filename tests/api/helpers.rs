//! The test harness: a real server on port 0 over a fresh database per test.
//!
//! The PostgreSQL server is the one at `DATABASE_URL` (default 127.0.0.1:5432) when it answers,
//! else a private cluster started from the installed binaries under the target directory.
//! Each test creates its own database, migrated by the service's own code, and drops it when
//! the test ends (pass or fail), so tests run in parallel and leave nothing behind.

// Each test module uses its own subset of these helpers.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection, PgPool};
use tokio::sync::OnceCell;

use sms_tasks::db::reads::ListReads;
use sms_tasks::db::{LocalCluster, PoolConfig};
use sms_tasks::settings::{AccessKeySetting, Settings, TokenSetting};
use sms_tasks::startup::Application;

pub const TOKEN_A: &str = "token-of-domain-a";
pub const DOMAIN_A: &str = "domain-a";
pub const TOKEN_B: &str = "token-of-domain-b";
pub const DOMAIN_B: &str = "domain-b";
/// Bootstrap access keys (AK/SK) of domains A and B.
pub const AK_A: &str = "AKOFDOMAINA";
pub const SK_A: &str = "secret-key-of-domain-a";
pub const AK_B: &str = "AKOFDOMAINB";
pub const SK_B: &str = "secret-key-of-domain-b";

/// Every table of the schema, for "nothing left behind" checks.
pub const TABLES: &[&str] = &[
    "servers",
    "disks",
    "physical_volumes",
    "volume_groups",
    "logical_volumes",
    "btrfs_filesystems",
    "btrfs_subvolumes",
    "networks",
    "tasks",
    "subtasks",
    "special_configs",
    "task_clone_servers",
    "task_network_checks",
    "agent_commands",
    "task_speed_limits",
    "migprojects",
    "templates",
    "template_vpcs",
    "template_publicips",
    "template_nics",
    "template_security_groups",
    "template_disks",
];

static SERVER_URL: OnceCell<String> = OnceCell::const_new();

/// The URL of the server's maintenance database (`postgres`).
pub async fn server_url() -> &'static str {
    SERVER_URL
        .get_or_init(|| async {
            let configured =
                std::env::var("DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
            let options = PgConnectOptions::from_str(&configured).expect("DATABASE_URL is a postgres URL");
            let maintenance = options.database("postgres");
            let answers = tokio::time::timeout(Duration::from_secs(3), PgConnection::connect_with(&maintenance))
                .await
                .map(|r| r.is_ok())
                .unwrap_or(false);
            if answers {
                return configured_maintenance_url(&configured);
            }
            let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("postgres");
            let cluster = tokio::task::spawn_blocking(move || LocalCluster::start(&dir))
                .await
                .unwrap()
                .expect("no PostgreSQL answers and a private cluster could not start");
            // The cluster stops when the test process ends (parent-death signal); dropping the
            // handle does not stop it.
            cluster.url("postgres")
        })
        .await
}

fn configured_maintenance_url(url: &str) -> String {
    let mut parsed = url::Url::parse(url).expect("DATABASE_URL is a URL");
    parsed.set_path("/postgres");
    parsed.to_string()
}

/// The URL of `database` on the server of `server` (a URL).
pub fn database_url(server: &str, database: &str) -> String {
    let mut parsed = url::Url::parse(server).unwrap();
    parsed.set_path(&format!("/{database}"));
    parsed.to_string()
}

pub struct TestApp {
    pub address: String,
    /// `http://…` of the `/metrics` listener, when the test enabled it.
    pub metrics_address: Option<String>,
    pub client: reqwest::Client,
    /// A pool on the test's own database, for checks behind the API.
    pub pool: PgPool,
    /// Where the app reads list pages (its replica and fallback counters).
    pub list_reads: Arc<ListReads>,
    database: String,
    server: String,
    /// Whether this app created the database (and so drops it).
    owns_database: bool,
}

/// Starts the service on a fresh, migrated database.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// [`spawn_app`] with settings changed by `configure` (before the pool is built). The settings
/// come with `database.url` set to the test database; a test may point it elsewhere (say, at a
/// pooler in front of it): the app's pool follows, `TestApp::pool` stays on the database.
pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_app_on(server_url().await, configure).await
}

/// [`spawn_app_with`] on the PostgreSQL server of `server` (a URL of its maintenance database).
pub async fn spawn_app_on(server: &str, configure: impl FnOnce(&mut Settings)) -> TestApp {
    let database = format!("sms_test_{}", uuid::Uuid::new_v4().simple());
    let mut admin = PgConnection::connect(server).await.expect("connect to the test server");
    sqlx::query(&format!("CREATE DATABASE {database}")).execute(&mut admin).await.unwrap();
    admin.close().await.unwrap();
    let url = database_url(server, &database);
    sms_tasks::db::migrate(&url).await.expect("migrations apply");
    let mut app = start_instance(&url, configure).await;
    (app.database, app.server, app.owns_database) = (database, server.to_string(), true);
    app
}

impl TestApp {
    /// Another instance of the service on this app's database (it leaves the database to
    /// this app to drop).
    pub async fn another_instance(&self, configure: impl FnOnce(&mut Settings)) -> TestApp {
        let mut app = start_instance(&database_url(&self.server, &self.database), configure).await;
        (app.database, app.server) = (self.database.clone(), self.server.clone());
        app
    }
}

/// The service on the migrated database at `url`, with the test credentials.
async fn start_instance(url: &str, configure: impl FnOnce(&mut Settings)) -> TestApp {
    let mut settings = Settings::load(None).expect("default settings");
    settings.server.listen = "127.0.0.1:0".into();
    settings.server.workers = 2;
    settings.database.configured_url = Some(url.to_string());
    settings.auth.tokens = vec![
        TokenSetting { token: TOKEN_A.into(), domain_id: DOMAIN_A.into() },
        TokenSetting { token: TOKEN_B.into(), domain_id: DOMAIN_B.into() },
    ];
    settings.auth.access_keys = vec![
        AccessKeySetting { access_key: AK_A.into(), secret_key: SK_A.into(), domain_id: DOMAIN_A.into() },
        AccessKeySetting { access_key: AK_B.into(), secret_key: SK_B.into(), domain_id: DOMAIN_B.into() },
    ];
    // Patient, for a machine busy running every test at once; a test may shorten it.
    settings.database.connect_timeout_secs = 10;
    configure(&mut settings);
    if settings.metrics_addr().unwrap().is_some() {
        // sqlx reports pool acquire times through `tracing` only.
        sms_tasks::telemetry::init_metrics_only();
    }
    let config = PoolConfig::from(&settings.database);
    let pool = sms_tasks::db::pool(url, PoolConfig { prepared_statements: true, ..config }).await.unwrap();
    let app_pool = if settings.database.url() == url {
        pool.clone()
    } else {
        sms_tasks::db::pool(settings.database.url(), config).await.expect("the app's pool connects")
    };
    let app = Application::build(&settings, app_pool).await.expect("the application builds");
    let address = format!("http://{}", app.address());
    let metrics_address = app.metrics_address().map(|a| format!("http://{a}"));
    let list_reads = app.list_reads();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        metrics_address,
        client: reqwest::Client::new(),
        pool,
        list_reads,
        database: String::new(),
        server: String::new(),
        owns_database: false,
    }
}

impl Drop for TestApp {
    /// Drops the test's database, also when the test failed.
    ///
    /// The pool is not awaited closed: a connection the test just used is released by a task
    /// on the test's own runtime (sqlx pings it first), and that runtime is blocked here, so
    /// `pool.close().await` could wait forever. `WITH (FORCE)` ends every session instead.
    fn drop(&mut self) {
        if self.owns_database {
            drop_database_blocking(&self.server, &self.database);
        }
    }
}

/// Drops `database` on `server` (a URL) and ends its sessions, from any context, including a
/// `Drop` on a blocked runtime: it runs on a thread and runtime of its own.
pub fn drop_database_blocking(server: &str, database: &str) {
    let (server, database) = (server.to_string(), database.to_string());
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async move {
            if let Ok(mut admin) = PgConnection::connect(&server).await {
                let _ =
                    sqlx::query(&format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)")).execute(&mut admin).await;
            }
        });
    })
    .join()
    .ok();
}

/// A response: status, headers and JSON body (`Value::Null` when the body is not JSON).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    pub async fn from_response(response: reqwest::Response) -> Reply {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.unwrap();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply { status, headers, body }
    }

    /// Asserts an SMS error with `status` and `code` in the error shape; returns its `error_msg`.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) -> String {
        assert_eq!(self.status, status, "unexpected status; body: {}", self.body);
        assert_eq!(self.body["error_code"], code, "unexpected error code; body: {}", self.body);
        if let Err(problem) = self.check_error_shape() {
            panic!("{problem}");
        }
        self.body["error_msg"].as_str().expect("error_msg is a string").to_string()
    }

    /// An error body is `{"error_code", "error_msg"}` (a 403 also carries the authorization
    /// fields) and every reply carries an `X-Request-Id`.
    pub fn check_error_shape(&self) -> Result<(), String> {
        let Some(object) = self.body.as_object() else {
            return Err(format!("the error body is not a JSON object: {}", self.body));
        };
        if !object.get("error_code").is_some_and(Value::is_string)
            || !object.get("error_msg").is_some_and(Value::is_string)
        {
            return Err(format!("error_code and error_msg must be strings: {}", self.body));
        }
        if self.status != 403 && object.len() != 2 {
            return Err(format!("the error body has keys besides error_code and error_msg: {}", self.body));
        }
        if !self.headers.contains_key("x-request-id") {
            return Err(format!("no X-Request-Id header on a {} reply", self.status));
        }
        Ok(())
    }

    /// Checks a 400 `SMS.8001` whose message starts with `path:`, without panicking.
    pub fn check_invalid(&self, path: &str) -> Result<(), String> {
        if self.status != 400 || self.body["error_code"] != "SMS.8001" {
            return Err(format!("expected 400 SMS.8001, got {} {}", self.status, self.body));
        }
        self.check_error_shape()?;
        let message = self.body["error_msg"].as_str().unwrap_or_default();
        if !message.starts_with(&format!("{path}:")) {
            return Err(format!("error_msg does not start with {path:?}: {message:?}"));
        }
        Ok(())
    }

    /// Asserts a 400 `SMS.8001` naming `path`; returns its `error_msg`.
    #[track_caller]
    pub fn assert_invalid(&self, path: &str) -> String {
        if let Err(problem) = self.check_invalid(path) {
            panic!("{problem}");
        }
        self.body["error_msg"].as_str().unwrap_or_default().to_string()
    }

    #[track_caller]
    pub fn assert_ok(&self) -> &Value {
        assert_eq!(self.status, 200, "unexpected status; body: {}", self.body);
        &self.body
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        Reply::from_response(request.send().await.expect("the request is answered")).await
    }

    pub async fn get_as(&self, token: &str, path: &str) -> Reply {
        self.send(self.client.get(self.url(path)).header("X-Auth-Token", token)).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.get_as(TOKEN_A, path).await
    }

    pub async fn post_as(&self, token: &str, path: &str, body: &Value) -> Reply {
        self.send(self.client.post(self.url(path)).header("X-Auth-Token", token).json(body)).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Reply {
        self.post_as(TOKEN_A, path, body).await
    }

    pub async fn put_as(&self, token: &str, path: &str, body: &Value) -> Reply {
        self.send(self.client.put(self.url(path)).header("X-Auth-Token", token).json(body)).await
    }

    pub async fn put(&self, path: &str, body: &Value) -> Reply {
        self.put_as(TOKEN_A, path, body).await
    }

    /// Registers a source server for `token`'s domain; returns its id.
    pub async fn register_source_as(&self, token: &str, body: &Value) -> String {
        let reply = self.post_as(token, "/v3/sources", body).await;
        reply.assert_ok()["id"].as_str().expect("an id").to_string()
    }

    pub async fn register_source(&self) -> String {
        self.register_source_as(TOKEN_A, &source_body("src-1")).await
    }

    /// Creates a task from `body` and returns its id.
    pub async fn create_task(&self, body: &Value) -> String {
        self.post("/v3/tasks", body).await.assert_ok()["id"].as_str().expect("an id").to_string()
    }

    /// Registers a source and creates seed 003's example task for it; returns the task id.
    pub async fn create_example_task(&self) -> String {
        let source = self.register_source().await;
        self.create_task(&create_task_example(&source)).await
    }

    /// Rows in every table, read in one statement (one snapshot).
    pub async fn row_counts(&self) -> BTreeMap<&'static str, i64> {
        let sql = TABLES
            .iter()
            .map(|t| format!("SELECT '{t}'::text, count(*) FROM {t}"))
            .collect::<Vec<_>>()
            .join(" UNION ALL ");
        let rows: Vec<(String, i64)> = sqlx::query_as(&sql).fetch_all(&self.pool).await.unwrap();
        TABLES.iter().map(|t| (*t, rows.iter().find(|(name, _)| name == t).expect("every table counted").1)).collect()
    }

    /// Sends `body` as is, with `content_type` (none when `None`), as `TOKEN_A`.
    pub async fn post_raw(&self, path: &str, content_type: Option<&str>, body: impl Into<reqwest::Body>) -> Reply {
        let mut request = self.client.post(self.url(path)).header("X-Auth-Token", TOKEN_A).body(body);
        if let Some(content_type) = content_type {
            request = request.header(reqwest::header::CONTENT_TYPE, content_type);
        }
        self.send(request).await
    }

    /// Runs SQL statements on the test's own database (test fixtures such as triggers).
    pub async fn execute(&self, sql: &str) {
        sqlx::raw_sql(sql).execute(&self.pool).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}

/// A minimal valid source-server registration body.
pub fn source_body(name: &str) -> Value {
    json!({ "name": name, "os_type": "LINUX", "ip": "192.168.0.154", "os_version": "CENTOS_7_64BIT" })
}

/// A JSON fixture from `tests/fixtures/` (the example bodies of the API reference pages, kept in
/// the repository so that a clone tests on its own).
pub fn fixture(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

/// Seed 003's example create request, pointed at `source_id`.
pub fn create_task_example(source_id: &str) -> Value {
    let mut body = fixture("create_task_example.json");
    body["source_server"]["id"] = json!(source_id);
    body
}

/// Seed 004's example update request.
pub fn update_task_example() -> Value {
    fixture("update_task_example.json")
}
