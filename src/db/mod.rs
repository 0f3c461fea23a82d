//! Reaching PostgreSQL: the pool, creating the database, running migrations, and falling back
//! to a private cluster when the configured server does not answer.

mod cluster;

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgConnection, PgPool};

pub use cluster::LocalCluster;

use crate::settings::DatabaseSettings;

mod embedded {
    refinery::embed_migrations!("migrations");
}

/// Any fixed number identifies our migration lock among advisory locks ("sms-task" in ASCII).
const MIGRATION_LOCK_KEY: i64 = 0x736d_732d_7461_736b;

/// Where the database is, and the private cluster that serves it, if we had to start one.
pub struct Database {
    pub url: String,
    pub cluster: Option<LocalCluster>,
}

impl Database {
    /// Finds a server for `settings.url`: that server if it answers, else (when allowed) a
    /// private cluster; then creates the database on it if it is missing.
    pub async fn locate(settings: &DatabaseSettings) -> anyhow::Result<Database> {
        let options = PgConnectOptions::from_str(&settings.url).context("invalid database.url")?;
        let database = options.get_database().unwrap_or("postgres").to_string();
        let timeout = Duration::from_secs(settings.connect_timeout_secs);
        let (url, cluster) = match server_answers(&options, timeout).await {
            Ok(()) => (settings.url.clone(), None),
            Err(err) if settings.local_cluster => {
                tracing::warn!(url = %redact(&settings.url), error = %err,
                    "the configured PostgreSQL does not answer; using a private cluster");
                let dir = settings.local_cluster_dir.clone();
                let cluster = tokio::task::spawn_blocking(move || LocalCluster::start(&dir)).await??;
                (cluster.url(&database), Some(cluster))
            }
            Err(err) => return Err(err.context(format!("PostgreSQL at {} does not answer", redact(&settings.url)))),
        };
        create_database_if_missing(&url).await?;
        Ok(Database { url, cluster })
    }

    pub async fn pool(&self, settings: &DatabaseSettings) -> anyhow::Result<PgPool> {
        pool(&self.url, settings.pool_size, Duration::from_secs(settings.connect_timeout_secs)).await
    }

    /// Stops the private cluster, if we started one.
    pub fn shutdown(self) {
        if let Some(cluster) = self.cluster {
            cluster.stop();
        }
    }
}

pub async fn pool(url: &str, size: u32, acquire_timeout: Duration) -> anyhow::Result<PgPool> {
    let options = PgConnectOptions::from_str(url)?
        .log_statements(tracing::log::LevelFilter::Trace)
        .log_slow_statements(tracing::log::LevelFilter::Warn, Duration::from_secs(1));
    PgPoolOptions::new()
        .max_connections(size)
        // No ping before each checkout: it is a round trip per request, and a dead connection
        // fails its query and is replaced anyway.
        .test_before_acquire(false)
        .acquire_timeout(acquire_timeout)
        .connect_with(options)
        .await
        .context("cannot connect to PostgreSQL")
}

async fn server_answers(options: &PgConnectOptions, timeout: Duration) -> anyhow::Result<()> {
    let maintenance = options.clone().database("postgres");
    let conn = tokio::time::timeout(timeout, PgConnection::connect_with(&maintenance)).await.context("timed out")??;
    conn.close().await?;
    Ok(())
}

/// Creates the URL's database, connecting to the server's `postgres` database to do so.
pub async fn create_database_if_missing(url: &str) -> anyhow::Result<()> {
    let options = PgConnectOptions::from_str(url)?;
    let name = options.get_database().unwrap_or("postgres").to_string();
    let mut conn = PgConnection::connect_with(&options.database("postgres")).await?;
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
        .bind(&name)
        .fetch_one(&mut conn)
        .await?;
    if !exists {
        let statement = format!("CREATE DATABASE \"{}\"", name.replace('"', "\"\""));
        match sqlx::query(&statement).execute(&mut conn).await {
            Ok(_) => tracing::info!(database = %name, "created the database"),
            // Another instance created it between our check and our CREATE: the database is
            // there, which is all we wanted.
            Err(sqlx::Error::Database(e)) if is_concurrent_create(e.code().as_deref()) => {
                tracing::info!(database = %name, "another instance created the database at the same time");
            }
            Err(e) => return Err(e).context(format!("cannot create database {name}")),
        }
    }
    conn.close().await?;
    Ok(())
}

/// Whether a `CREATE DATABASE` failed only because another session created the same database
/// concurrently: 42P04 (`duplicate_database`) when the other one committed before ours looked,
/// 23505 (`unique_violation` on `pg_database_datname_index`) when both inserted the catalog row
/// at the same time.
fn is_concurrent_create(sqlstate: Option<&str>) -> bool {
    matches!(sqlstate, Some("42P04" | "23505"))
}

/// Applies the migrations in `migrations/` under an advisory lock, so that instances starting
/// together apply them once.
pub async fn migrate(url: &str) -> anyhow::Result<()> {
    let (mut client, connection) =
        tokio_postgres::connect(url, tokio_postgres::NoTls).await.context("cannot connect to PostgreSQL to migrate")?;
    let connection = tokio::spawn(connection);
    client.execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK_KEY]).await?;
    let report = embedded::migrations::runner().run_async(&mut client).await;
    client.execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK_KEY]).await?;
    let report = report.context("migration failed")?;
    for migration in report.applied_migrations() {
        tracing::info!(migration = %migration, "applied migration");
    }
    drop(client);
    let _ = connection.await;
    Ok(())
}

/// The URL without its password, for logs.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("****"));
            parsed.to_string()
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_concurrent_creator_counts_as_success_and_other_errors_do_not() {
        assert!(is_concurrent_create(Some("42P04")));
        assert!(is_concurrent_create(Some("23505")));
        assert!(!is_concurrent_create(Some("42501")), "insufficient privilege is a real failure");
        assert!(!is_concurrent_create(None));
    }
}
