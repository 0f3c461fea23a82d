//! The service's SQL as it runs, read back from PostgreSQL, so that the pgbench scripts
//! (pgbench.rs) are generated from it (list) or checked against it (create) instead of being
//! copies that could drift from the service silently.
//!
//! The service's own application (`sms_tasks::startup::Application`, the factory `serve` and
//! the tests use) runs in this process over a pool of one connection. sqlx sends every
//! statement as a named prepared statement, so after a request `pg_prepared_statements` on
//! that connection lists what the service ran: the exact text, in order, with the parameter
//! types sqlx declared. Each request gets a fresh application and connection, so it lists
//! every statement the request ran, not only those no earlier request ran.

use std::time::Duration;

use anyhow::{bail, Context};
use serde_json::Value;
use sms_tasks::db::PoolConfig;
use sms_tasks::settings::{Settings, TokenSetting};
use sms_tasks::startup::Application;
use sqlx::PgPool;
use uuid::Uuid;

use crate::bodies::{self, Tree, BENCH_PREFIX};

/// A statement the service prepared: its text (`$1`, `$2`, … for the parameters) and the
/// types of its parameters (`text`, `bigint`, `uuid[]`, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    pub sql: String,
    pub types: Vec<String>,
}

/// What the service runs for the requests the pgbench scripts stand for.
#[derive(Debug)]
pub struct ServiceSql {
    /// `GET /v3/tasks?limit=…&offset=0`: the auth lookup, the count, the page, its children.
    pub list: Vec<Prepared>,
    /// `GET /v3/tasks/{id}`: the auth lookup and the show statement.
    pub show: Vec<Prepared>,
    /// `POST /v3/tasks`, less the statements `GET /v3/tasks/{id}` also runs (the auth lookup,
    /// which the create script takes from `list`).
    pub create: Vec<Prepared>,
}

/// Runs a create (for a source inserted here, named with the bench prefix so that `--keep`
/// clears it), a show of the created task and a list page of `limit` tasks on `database_url`
/// as `domain`, each through the service's own code, and returns their statements. The
/// created task stays in the database.
pub async fn capture(database_url: &str, domain: &str, token: &str, limit: i64) -> anyhow::Result<ServiceSql> {
    let source = insert_source(database_url, domain).await?;
    let name = format!("{BENCH_PREFIX}sql-capture-{}", source.simple());
    let body = bodies::create_task(&name, &source.to_string(), Tree::Standard);
    let service = |method, path: String, body: Option<Value>| async move {
        request(database_url, domain, token, method, &path, body.as_ref())
            .await
            .with_context(|| format!("the service's SQL for {path}"))
    };
    let (post, created) = service(reqwest::Method::POST, "/v3/tasks".into(), Some(body)).await?;
    let id = created["id"].as_str().context("no id in the create answer")?;
    let (show, _) = service(reqwest::Method::GET, format!("/v3/tasks/{id}"), None).await?;
    let (list, _) = service(reqwest::Method::GET, format!("/v3/tasks?limit={limit}&offset=0"), None).await?;
    let create = post.into_iter().filter(|p| !show.iter().any(|s| s.sql == p.sql)).collect();
    Ok(ServiceSql { list, show, create })
}

/// A connected source of `domain` that no task uses yet.
async fn insert_source(database_url: &str, domain: &str) -> anyhow::Result<Uuid> {
    let pool = crate::db::connect(database_url, 1).await?;
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO servers (id, domain_id, role, name, ip, os_type, os_version, state, connected, add_date)
         VALUES ($1, $2, 'source', $3, '10.250.0.2', 'LINUX', 'CENTOS_7_64BIT', 'waiting', true,
                 (extract(epoch FROM clock_timestamp()) * 1000)::bigint)",
    )
    .bind(id)
    .bind(domain)
    .bind(format!("{BENCH_PREFIX}sql-capture-src-{}", id.simple()))
    .execute(&pool)
    .await
    .context("cannot insert the source of the SQL capture")?;
    pool.close().await;
    Ok(id)
}

/// One request to a fresh in-process service over one connection: the statements it
/// prepared on that connection while answering, and its JSON answer (which must be a 2xx).
async fn request(
    database_url: &str,
    domain: &str,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<&Value>,
) -> anyhow::Result<(Vec<Prepared>, Value)> {
    let mut settings = Settings::load(None)?;
    settings.server.listen = "127.0.0.1:0".into();
    settings.server.workers = 1;
    settings.database.configured_url = Some(database_url.into());
    settings.auth.tokens = vec![TokenSetting { token: token.into(), domain_id: domain.into() }];
    settings.auth.access_keys = Vec::new();
    let pool = sms_tasks::db::pool(database_url, PoolConfig::direct(1, Duration::from_secs(30))).await?;
    let app = Application::build(&settings, pool.clone()).await?;
    let url = format!("http://{}{path}", app.address());
    // Dropping the server (abort) stops its acceptor and worker.
    let server = tokio::spawn(app.run_until_stopped());
    let outcome = async {
        let before = prepared(&pool).await?;
        let mut request = reqwest::Client::new().request(method, &url).header("X-Auth-Token", token);
        if let Some(body) = body {
            request = request.header(reqwest::header::CONTENT_TYPE, "application/json").body(body.to_string());
        }
        let response = request.timeout(Duration::from_secs(60)).send().await?;
        let status = response.status();
        let answer = response.bytes().await?;
        if !status.is_success() {
            bail!("HTTP {status}: {}", String::from_utf8_lossy(&answer[..answer.len().min(500)]));
        }
        let after = prepared(&pool).await?;
        let new = after.into_iter().filter(|(name, _)| !before.iter().any(|(old, _)| old == name)).map(|p| p.1);
        Ok((new.collect(), serde_json::from_slice(&answer)?))
    }
    .await;
    server.abort();
    let _ = tokio::time::timeout(Duration::from_secs(5), pool.close()).await;
    outcome
}

/// The named prepared statements of the pool's one connection, in the order they were
/// prepared: (name, statement).
async fn prepared(pool: &PgPool) -> anyhow::Result<Vec<(String, Prepared)>> {
    let mut conn = pool.acquire().await?;
    // Unnamed (not persistent): this query does not list itself.
    let rows: Vec<(String, String, Vec<String>)> = sqlx::query_as(
        "SELECT name, statement, parameter_types::text[] FROM pg_prepared_statements
         WHERE statement NOT LIKE '%pg_prepared_statements%'
         ORDER BY prepare_time, length(name), name",
    )
    .persistent(false)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.into_iter().map(|(name, sql, types)| (name, Prepared { sql, types })).collect())
}

#[cfg(test)]
mod tests {
    use sqlx::Connection;

    use super::*;

    /// The service's SQL, read back from a fresh database: the list and create scripts are
    /// generated from it, and the create script, run by pgbench, writes the rows the service
    /// wrote. Fails when the service's SQL changed in a way the scripts do not follow (see
    /// pgbench.rs).
    #[tokio::test]
    async fn the_pgbench_scripts_follow_the_services_sql() {
        let configured =
            std::env::var("DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let cluster = crate::locate_server(&configured).await.expect("a PostgreSQL server");
        let server_url = cluster.as_ref().map_or(configured, |c| c.url("postgres"));
        let server = crate::db::Server::new(&server_url).unwrap();
        let name = format!("sms_bench_capture_{}", Uuid::new_v4().simple());
        let mut admin = sqlx::PgConnection::connect(&server.database_url("postgres")).await.unwrap();
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut admin).await.unwrap();
        let url = server.database_url(&name);
        let outcome = async {
            sms_tasks::db::migrate(&url).await?;
            let sql = capture(&url, "capture-domain", "sms-bench-capture-token-0123456789", 200).await?;
            let pool = crate::db::connect(&url, 1).await?;
            let script = crate::pgbench::list_script(&pool, "capture-domain", "t", 200, 0, &sql.list).await?;
            // The create script, from the task the capture created, run by pgbench for a second:
            // every task it creates has the template's rows, but for the fresh values.
            let template: Uuid = sqlx::query_scalar("SELECT id FROM tasks WHERE name LIKE 'zz-bench-sql-capture-%'")
                .fetch_one(&pool)
                .await?;
            let create =
                crate::pgbench::create_script(&pool, "capture-domain", "t", template, &sql.list, &sql.create).await?;
            let second = Duration::from_secs(1);
            crate::pgbench::insert_source_pool(&pool, "capture-domain", 2, second).await?;
            // The show script, on the template and on a task that does not exist (two scripts).
            let show = crate::pgbench::show_script("capture-domain", "t", &sql.show, &[template, Uuid::nil()])?;
            let dir = std::env::temp_dir().join(format!("{name}-scripts"));
            std::fs::create_dir_all(&dir)?;
            let pgbench = crate::pgbench::locate();
            let tps = crate::pgbench::run(&pgbench, &dir, &url, &create, 2, second).await;
            let show_tps = crate::pgbench::run(&pgbench, &dir, &url, &show, 2, second).await;
            let _ = std::fs::remove_dir_all(&dir);
            let tps = tps?;
            anyhow::ensure!(show_tps? > 0.0, "the pgbench show script ran nothing");
            let created: Vec<Uuid> =
                sqlx::query_scalar("SELECT id FROM tasks WHERE id <> $1 ORDER BY random() LIMIT 3")
                    .bind(template)
                    .fetch_all(&pool)
                    .await?;
            let expected = crate::pgbench::rows_but_fresh(&pool, template).await?;
            // Mismatches are errors, not panics, so that the database is dropped below either way.
            for task in &created {
                let rows = crate::pgbench::rows_but_fresh(&pool, *task).await?;
                anyhow::ensure!(rows == expected, "task {task}: {rows:?}\nexpected {expected:?}");
            }
            pool.close().await;
            anyhow::Ok((sql, script, show, create, tps, created.len()))
        }
        .await;
        sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut admin).await.unwrap();
        if let Some(cluster) = cluster {
            cluster.stop();
        }
        let (sql, script, show, create, tps, created) = outcome.expect("the capture and the scripts");
        // A show is one statement after the auth lookup, and its script runs it.
        assert_eq!(sql.show.len(), 2, "{:#?}", sql.show);
        assert!(show.text.contains(":tid0::uuid") && show.text.contains("FROM tasks t"), "{}", show.text);
        assert!(script.text.contains("FROM tasks"), "no page query in the list script:\n{}", script.text);
        assert!(script.text.contains("auth_tokens"), "no auth lookup in the list script:\n{}", script.text);
        assert_eq!(crate::pgbench::create_drift(&sql.create), Vec::<String>::new(), "{sql:#?}");
        for insert in sql.create.iter().filter(|p| p.sql.starts_with("INSERT INTO")) {
            let head = &insert.sql[..insert.sql.find("UNNEST(").expect("an UNNEST insert") + "UNNEST(".len()];
            assert!(create.text.contains(head), "{head} is not in the create script:\n{}", create.text);
        }
        assert!(tps > 0.0 && created == 3, "pgbench created {created} tasks at {tps} tps");
    }
}
