//! The benchmark's databases: `sms_bench_<size>` on the configured server, seeded with
//! `sms-tasks seed`, reused when kept, and never any other database.

use std::path::Path;
use std::str::FromStr;
use std::time::Instant;

use anyhow::{bail, Context};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool};

use crate::bodies::BENCH_PREFIX;
use crate::service;

/// Every database the benchmark creates, drops or reuses has this prefix.
const DATABASE_PREFIX: &str = "sms_bench_";

/// The PostgreSQL server, by the URL of its maintenance database.
pub struct Server {
    url: url::Url,
}

/// A bench database ready for a run.
pub struct BenchDatabase {
    pub name: String,
    pub url: String,
    /// Seconds `sms-tasks seed` took (none when a kept database was reused).
    pub seed_secs: Option<f64>,
}

impl Server {
    /// `url` names the server; its database part is replaced by each bench database's name.
    pub fn new(url: &str) -> anyhow::Result<Server> {
        let mut url = url::Url::parse(url).with_context(|| format!("--database-url {url:?} is not a URL"))?;
        if !matches!(url.scheme(), "postgres" | "postgresql") {
            bail!("--database-url must be a postgres:// URL");
        }
        url.set_path("/postgres");
        Ok(Server { url })
    }

    pub fn database_url(&self, name: &str) -> String {
        let mut url = self.url.clone();
        url.set_path(&format!("/{name}"));
        url.to_string()
    }

    async fn admin(&self) -> anyhow::Result<PgConnection> {
        PgConnection::connect(self.url.as_str())
            .await
            .with_context(|| format!("cannot connect to {}", redact(&self.url)))
    }

    pub async fn version(&self) -> anyhow::Result<String> {
        let mut conn = self.admin().await?;
        Ok(sqlx::query_scalar("SELECT version()").fetch_one(&mut conn).await?)
    }

    async fn exists(&self, name: &str) -> anyhow::Result<bool> {
        let mut conn = self.admin().await?;
        Ok(sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(name)
            .fetch_one(&mut conn)
            .await?)
    }

    async fn create(&self, name: &str) -> anyhow::Result<()> {
        let mut conn = self.admin().await?;
        sqlx::query(&format!("CREATE DATABASE {}", bench_name(name)?)).execute(&mut conn).await?;
        Ok(())
    }

    /// Drops a bench database (only ever one named `sms_bench_…`).
    pub async fn drop_database(&self, name: &str) -> anyhow::Result<()> {
        let mut conn = self.admin().await?;
        sqlx::query(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", bench_name(name)?)).execute(&mut conn).await?;
        Ok(())
    }

    /// `sms_bench_<size>` holding exactly `size` tasks of `domain`: a kept one when it does,
    /// else a new one seeded by `sms-tasks seed` and vacuumed.
    pub async fn prepare(&self, size: usize, domain: &str, sms_tasks: &Path) -> anyhow::Result<BenchDatabase> {
        let name = format!("{DATABASE_PREFIX}{size}");
        let url = self.database_url(&name);
        if self.exists(&name).await? {
            match kept_tasks(&url, domain).await {
                Ok(n) if n == size as i64 => {
                    eprintln!("bench: reusing database {name} ({n} tasks)");
                    return Ok(BenchDatabase { name, url, seed_secs: None });
                }
                Ok(n) => eprintln!("bench: database {name} holds {n} tasks, not {size}: seeding it again"),
                Err(err) => eprintln!("bench: database {name} cannot be reused ({err:#}): seeding it again"),
            }
            self.drop_database(&name).await?;
        }
        self.create(&name).await?;
        eprintln!("bench: seeding {size} tasks into {name}");
        let started = Instant::now();
        service::seed(sms_tasks, &url, domain, size).await?;
        let seed_secs = started.elapsed().as_secs_f64();
        // A freshly COPYed table has no visibility map and no statistics: the first scans
        // would set hint bits (writes) and plan blind. Vacuum so every run starts alike.
        eprintln!("bench: VACUUM (ANALYZE) of {name}");
        let pool = connect(&url, 1).await?;
        sqlx::raw_sql("VACUUM (ANALYZE)").execute(&pool).await?;
        pool.close().await;
        Ok(BenchDatabase { name, url, seed_secs: Some(seed_secs) })
    }
}

/// The tasks of `domain` in a kept database, after deleting what an earlier run added.
async fn kept_tasks(url: &str, domain: &str) -> anyhow::Result<i64> {
    let pool = connect(url, 1).await?;
    remove_bench_rows(&pool, domain).await?;
    let n = sqlx::query_scalar("SELECT count(*) FROM tasks WHERE domain_id = $1").bind(domain).fetch_one(&pool).await?;
    sqlx::raw_sql("ANALYZE").execute(&pool).await?;
    pool.close().await;
    Ok(n)
}

/// Deletes the sources the benchmark registered, and with them (ON DELETE CASCADE) the tasks
/// it created and their trees; the count triggers follow. Seeded rows are left as they are.
pub async fn remove_bench_rows(pool: &PgPool, domain: &str) -> anyhow::Result<u64> {
    let deleted = sqlx::query("DELETE FROM servers WHERE domain_id = $1 AND role = 'source' AND name LIKE $2")
        .bind(domain)
        .bind(format!("{BENCH_PREFIX}%"))
        .execute(pool)
        .await?
        .rows_affected();
    Ok(deleted)
}

pub async fn connect(url: &str, connections: u32) -> anyhow::Result<PgPool> {
    let options = PgConnectOptions::from_str(url)?;
    PgPoolOptions::new()
        .max_connections(connections)
        .connect_with(options)
        .await
        .context("cannot connect to PostgreSQL")
}

/// `name` as an identifier, refusing anything but a bench database.
fn bench_name(name: &str) -> anyhow::Result<&str> {
    let ok = name.strip_prefix(DATABASE_PREFIX).is_some_and(|rest| rest.bytes().all(|b| b.is_ascii_digit()));
    if !ok {
        bail!("refusing to touch database {name:?}: the benchmark only manages {DATABASE_PREFIX}<size>");
    }
    Ok(name)
}

fn redact(url: &url::Url) -> String {
    let mut url = url.clone();
    if url.password().is_some() {
        let _ = url.set_password(Some("***"));
    }
    url.to_string()
}
