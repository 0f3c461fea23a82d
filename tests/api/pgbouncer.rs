//! The service behind PgBouncer in transaction pooling mode (`database.prepared_statements =
//! false`, migrations through `database.direct_url`): the smoke path, many requests at once,
//! through a private `pgbouncer` with fewer server connections than the app has clients, so
//! that server connections really change hands between transactions.
//!
//! Skipped, saying so, when no `pgbouncer` binary is installed (`apt-get install pgbouncer`;
//! `.ci/run` installs it).

use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use sqlx::Connection;
use tokio::task::JoinSet;

use crate::helpers::*;

/// `pgbouncer` on PATH, else Debian's `/usr/sbin/pgbouncer` (not on a user's PATH).
fn pgbouncer_binary() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).map(|dir| dir.join("pgbouncer")).collect::<Vec<_>>())
        .unwrap_or_default();
    on_path.into_iter().chain([PathBuf::from("/usr/sbin/pgbouncer")]).find(|p| p.is_file())
}

/// A private pgbouncer in front of the test server; killed and its directory removed on drop.
struct PgBouncer {
    child: Child,
    dir: PathBuf,
    port: u16,
}

impl PgBouncer {
    /// Starts `binary` with `pool_mode = transaction`, `server_pool_size` server connections
    /// per database, any client accepted (`auth_type = any`), in front of `server` (a URL).
    fn start(binary: &Path, server: &str, server_pool_size: u32) -> PgBouncer {
        let parsed = url::Url::parse(server).unwrap();
        let host = parsed.host_str().unwrap_or("127.0.0.1");
        let port = parsed.port().unwrap_or(5432);
        let user = if parsed.username().is_empty() { "postgres" } else { parsed.username() };
        let password = parsed.password().map(|p| format!(" password={p}")).unwrap_or_default();
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("pgbouncer-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let listen = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        // No ignore_startup_parameters: the service must not send what PgBouncer refuses.
        let ini = format!(
            "[databases]\n* = host={host} port={port} user={user}{password}\n\n\
             [pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {listen}\nunix_socket_dir =\n\
             auth_type = any\npool_mode = transaction\ndefault_pool_size = {server_pool_size}\n\
             min_pool_size = 0\nreserve_pool_size = 0\nmax_client_conn = 500\n\
             server_reset_query =\nlog_connections = 0\nlog_disconnections = 0\n"
        );
        let ini_path = dir.join("pgbouncer.ini");
        std::fs::write(&ini_path, ini).unwrap();
        // Run as root, pgbouncer must switch to another user (it refuses to run as root), who
        // must be able to read the file.
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(&ini_path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let mut command = Command::new(binary);
        if nix::unistd::Uid::effective().is_root() {
            let user = ["postgres", "nobody"]
                .into_iter()
                .find(|u| nix::unistd::User::from_name(u).ok().flatten().is_some())
                .expect("a user to run pgbouncer as");
            command.args(["-u", user]);
        }
        let log = std::fs::File::create(dir.join("pgbouncer.log")).unwrap();
        let child = command
            .arg(&ini_path)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("pgbouncer starts");
        let bouncer = PgBouncer { child, dir, port: listen };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", listen)).is_err() {
            assert!(Instant::now() < deadline, "pgbouncer does not listen after 20 s; its log:\n{}", bouncer.log());
            std::thread::sleep(Duration::from_millis(50));
        }
        bouncer
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("pgbouncer.log")).unwrap_or_default()
    }

    /// `direct` (a database URL on the server) with pgbouncer's host and port.
    fn url_for(&self, direct: &str) -> String {
        let mut parsed = url::Url::parse(direct).unwrap();
        parsed.set_host(Some("127.0.0.1")).unwrap();
        parsed.set_port(Some(self.port)).unwrap();
        parsed.to_string()
    }
}

impl Drop for PgBouncer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test]
async fn the_smoke_path_works_concurrently_through_pgbouncer_in_transaction_mode() {
    let Some(binary) = pgbouncer_binary() else {
        eprintln!(
            "SKIPPED the_smoke_path_works_concurrently_through_pgbouncer_in_transaction_mode: \
             no pgbouncer binary (apt-get install pgbouncer)"
        );
        return;
    };
    // 2 server connections for an app pool of 16: transactions of different clients share them.
    let bouncer = PgBouncer::start(&binary, server_url().await, 2);
    let app = spawn_app_with(|settings| {
        let direct = settings.database.url().to_string();
        settings.database.configured_url = Some(bouncer.url_for(&direct));
        settings.database.direct_url = Some(direct);
        settings.database.prepared_statements = false;
        settings.database.pool_size = 16;
    })
    .await;
    let app = std::sync::Arc::new(app);

    let mut workers = JoinSet::new();
    for worker in 0..12 {
        let app = app.clone();
        workers.spawn(async move {
            let token = [TOKEN_A, TOKEN_B][worker % 2];
            let mut kept = Vec::new();
            for round in 0..3 {
                let source = app.register_source_as(token, &source_body(&format!("bouncer-{worker}-{round}"))).await;
                let reply = app.post_as(token, "/v3/tasks", &create_task_example(&source)).await;
                let task = reply.assert_ok()["id"].as_str().unwrap().to_string();
                let shown = app.get_as(token, &format!("/v3/tasks/{task}")).await;
                assert_eq!(shown.assert_ok()["state"], "READY");
                let listed = app.get_as(token, &format!("/v3/tasks?source_server_id={source}")).await;
                assert_eq!(listed.assert_ok()["count"], 1, "{}", listed.body);
                let name = format!("renamed-{worker}-{round}");
                app.put_as(token, &format!("/v3/tasks/{task}"), &json!({ "name": name, "priority": 2 }))
                    .await
                    .assert_ok();
                let shown = app.get_as(token, &format!("/v3/tasks/{task}")).await;
                assert_eq!((&shown.body["name"], &shown.body["priority"]), (&json!(name), &json!(2)));
                let action =
                    app.post_as(token, &format!("/v3/tasks/{task}/action"), &json!({ "operation": "start" })).await;
                action.assert_ok();
                assert_eq!(app.get_as(token, &format!("/v3/tasks/{task}")).await.body["state"], "RUNNING");
                app.post_as(token, &format!("/v3/tasks/{task}/action"), &json!({ "operation": "stop" }))
                    .await
                    .assert_ok();
                if round == 1 {
                    kept.push(task);
                    continue;
                }
                let request = app.client.delete(app.url(&format!("/v3/tasks/{task}"))).header("X-Auth-Token", token);
                app.send(request).await.assert_ok();
                let gone = app.get_as(token, &format!("/v3/tasks/{task}")).await;
                assert_eq!(gone.status, 404, "{}", gone.body);
            }
            (token, kept)
        });
    }
    let mut kept_per_token = std::collections::BTreeMap::<&str, usize>::new();
    while let Some(outcome) = workers.join_next().await {
        let (token, kept) = outcome.unwrap_or_else(|e| panic!("{e}\npgbouncer's log:\n{}", bouncer.log()));
        *kept_per_token.entry(token).or_default() += kept.len();
    }
    for (token, kept) in kept_per_token {
        let listed = app.get_as(token, "/v3/tasks?limit=200").await;
        assert_eq!(listed.assert_ok()["count"], kept);
        assert_eq!(listed.body["tasks"].as_array().unwrap().len(), kept);
    }
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM tasks").fetch_one(&app.pool).await.unwrap();
    assert_eq!(rows, 12);
}

/// `sms-tasks serve` itself behind pgbouncer: it creates and migrates the missing database
/// through `direct_url` (a transaction pooler cannot hold the migration lock) and serves
/// through the pooler.
#[tokio::test]
async fn serve_migrates_through_the_direct_url_and_serves_through_pgbouncer() {
    use crate::startup::{sms_tasks, DropDatabase, Instance, WorkDir};

    let Some(binary) = pgbouncer_binary() else {
        eprintln!(
            "SKIPPED serve_migrates_through_the_direct_url_and_serves_through_pgbouncer: \
             no pgbouncer binary (apt-get install pgbouncer)"
        );
        return;
    };
    let server = server_url().await.to_string();
    let bouncer = PgBouncer::start(&binary, &server, 2);
    let name = format!("sms_test_bouncer_{}", uuid::Uuid::new_v4().simple());
    let _cleanup = DropDatabase { server: server.clone(), name: name.clone() };
    let direct = database_url(&server, &name);
    let pooled = bouncer.url_for(&direct);
    let dir = WorkDir::new();
    let config = dir.0.join("bouncer.toml");
    std::fs::write(&config, format!("[[auth.tokens]]\ntoken = \"{TOKEN_A}\"\ndomain_id = \"{DOMAIN_A}\"\n")).unwrap();
    let env = [
        ("DATABASE_URL", pooled.as_str()),
        ("SMS__DATABASE__DIRECT_URL", direct.as_str()),
        ("SMS__DATABASE__PREPARED_STATEMENTS", "false"),
        ("SMS_CONFIG", config.to_str().unwrap()),
        ("SMS__LOG__FORMAT", "json"),
        ("SMS__SERVER__WORKERS", "1"),
    ];
    let mut instance = Instance::spawn(sms_tasks(&dir.0, &["serve", "--listen", "127.0.0.1:0"], &env));
    let base = format!("http://{}", instance.listening_address(Duration::from_secs(90)));
    let client = reqwest::Client::new();
    let source: serde_json::Value = client
        .post(format!("{base}/v3/sources"))
        .header("X-Auth-Token", TOKEN_A)
        .json(&source_body("through-bouncer"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let body = create_task_example(source["id"].as_str().expect("a source id"));
    let created =
        client.post(format!("{base}/v3/tasks")).header("X-Auth-Token", TOKEN_A).json(&body).send().await.unwrap();
    assert_eq!(created.status(), 200);
    let page: serde_json::Value = client
        .get(format!("{base}/v3/tasks"))
        .header("X-Auth-Token", TOKEN_A)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["count"], 1, "{page}");
    // The schema came through the direct URL: its history is complete.
    let mut check = sqlx::PgConnection::connect(&direct).await.unwrap();
    let migrations: i64 =
        sqlx::query_scalar("SELECT count(*) FROM refinery_schema_history").fetch_one(&mut check).await.unwrap();
    let files = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations")).unwrap().count() as i64;
    assert_eq!(migrations, files);
    check.close().await.unwrap();
    drop(instance);
}
