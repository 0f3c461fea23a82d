//! Reaching PostgreSQL at start: waiting for a configured server, or starting a private cluster
//! in place of the embedded default; creating the database; running migrations; the pools (how
//! a connection is set up, also behind a transaction pooler). `reads` decides where list pages
//! are read: a streaming replica or the primary.

mod cluster;
pub mod fault;
pub mod reads;

use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, Executor, PgConnection, PgPool};

pub use cluster::LocalCluster;

use crate::settings::DatabaseSettings;

mod embedded {
    refinery::embed_migrations!("migrations");
}

/// Any fixed number identifies our migration lock among advisory locks ("sms-task" in ASCII).
const MIGRATION_LOCK_KEY: i64 = 0x736d_732d_7461_736b;

/// Where the database is, and the private cluster that serves it, if we had to start one.
pub struct Database {
    /// The server itself (`database.direct_url`, else `database.url`): for migrations.
    pub url: String,
    /// What the pool connects to: `database.url`, possibly a pooler in front of `url`.
    pub pool_url: String,
    pub cluster: Option<LocalCluster>,
}

impl Database {
    /// Finds the server of `settings.direct_url()` and creates the database on it if it is
    /// missing.
    ///
    /// With the embedded default URL (none configured) and `local_cluster`, a server that does
    /// not answer is replaced by a private cluster. Otherwise the server is waited for, with
    /// backoff, for `start_timeout_secs`, and never replaced.
    pub async fn locate(settings: &DatabaseSettings) -> anyhow::Result<Database> {
        let configured = settings.direct_url();
        let options = PgConnectOptions::from_str(configured).context("invalid database.url")?;
        let database = options.get_database().unwrap_or("postgres").to_string();
        let attempt_timeout = Duration::from_secs(settings.connect_timeout_secs);
        let (url, cluster) = if settings.may_start_local_cluster() {
            match server_answers(&options, attempt_timeout).await {
                Ok(()) => (configured.to_string(), None),
                Err(err) => {
                    tracing::warn!(url = %redact(configured), error = %format!("{err:#}"),
                        dir = %settings.local_cluster_dir.display(),
                        "no database.url is configured and the default PostgreSQL does not answer; \
                         using the private cluster");
                    let dir = settings.local_cluster_dir.clone();
                    let cluster = tokio::task::spawn_blocking(move || LocalCluster::start(&dir)).await??;
                    (cluster.url(&database), Some(cluster))
                }
            }
        } else {
            wait_for_server(settings, &options).await?;
            (configured.to_string(), None)
        };
        create_database_if_missing(&url).await?;
        // A private cluster stands in only for the embedded default, which names no pooler.
        let pool_url = if cluster.is_some() { url.clone() } else { settings.url().to_string() };
        Ok(Database { url, pool_url, cluster })
    }

    /// The service's pool, as `settings` configure it.
    pub async fn pool(&self, settings: &DatabaseSettings) -> anyhow::Result<PgPool> {
        pool(&self.pool_url, PoolConfig::from(settings)).await
    }

    /// A pool on the server itself (`url`), bypassing any pooler, with prepared statements
    /// and no statement timeout: for bulk work (`seed`).
    pub async fn direct_pool(&self, settings: &DatabaseSettings) -> anyhow::Result<PgPool> {
        let config = PoolConfig { prepared_statements: true, statement_timeout: None, ..PoolConfig::from(settings) };
        pool(&self.url, config).await
    }

    /// Stops the private cluster, if we started one.
    pub fn shutdown(self) {
        if let Some(cluster) = self.cluster {
            cluster.stop();
        }
    }
}

/// How a pool connects and what its connections allow.
#[derive(Debug, Clone, Copy)]
pub struct PoolConfig {
    pub size: u32,
    /// How long a request waits for a connection before it is answered 503.
    pub acquire_timeout: Duration,
    /// PostgreSQL's `statement_timeout` on every connection; `None` = no limit (bulk tools).
    pub statement_timeout: Option<Duration>,
    /// `false` behind a transaction pooler (see [`pool_options`]).
    pub prepared_statements: bool,
}

impl PoolConfig {
    /// A plain pool on the server itself: `size` connections, no statement timeout (tools,
    /// tests, the benchmark).
    pub fn direct(size: u32, acquire_timeout: Duration) -> PoolConfig {
        PoolConfig { size, acquire_timeout, statement_timeout: None, prepared_statements: true }
    }
}

impl From<&DatabaseSettings> for PoolConfig {
    fn from(settings: &DatabaseSettings) -> PoolConfig {
        PoolConfig {
            size: settings.pool_size,
            acquire_timeout: Duration::from_secs(settings.connect_timeout_secs),
            statement_timeout: (settings.statement_timeout_ms > 0)
                .then(|| Duration::from_millis(settings.statement_timeout_ms)),
            prepared_statements: settings.prepared_statements,
        }
    }
}

pub async fn pool(url: &str, config: PoolConfig) -> anyhow::Result<PgPool> {
    let options = pool_options(&config).connect_with(connect_options(url, &config)?);
    options.await.context("cannot connect to PostgreSQL")
}

/// How a connection to `url` is opened, for every pool of the service (primary and replica).
pub fn connect_options(url: &str, config: &PoolConfig) -> anyhow::Result<PgConnectOptions> {
    let mut options = PgConnectOptions::from_str(url)
        .with_context(|| format!("invalid database URL {}", redact(url)))?
        .log_statements(tracing::log::LevelFilter::Trace)
        .log_slow_statements(tracing::log::LevelFilter::Warn, Duration::from_secs(1));
    if !config.prepared_statements {
        // A transaction pooler serves a connection's transactions from different server
        // connections: a cached named statement would be missing there, or clash with another
        // client's of the same name. Note that capacity 0 alone does not make sqlx 0.8 send
        // unnamed statements (it still names each one, and never closes it): `pool_options`
        // deallocates them before a connection goes back. PgBouncer refuses startup parameters
        // it does not know, and `extra_float_digits` and `options` are such (results are binary
        // anyway; the statement timeout is set per checkout instead).
        options = options.statement_cache_capacity(0).extra_float_digits(None);
    } else if let Some(timeout) = config.statement_timeout {
        // A startup parameter, not a `SET` after connecting: no extra round trip, and it holds
        // for every statement of the connection's life.
        options = options.options([("statement_timeout", timeout.as_millis().to_string())]);
    }
    Ok(options)
}

/// The pool's own settings, and behind a transaction pooler (`prepared_statements = false`)
/// the checkout discipline that makes sqlx work there:
///
/// - No ping before each checkout: it is a round trip per request. A connection found dead
///   marks the moment, and the connections opened before it are dropped at checkout instead
///   (`db::fault`).
/// - sqlx runs a statement with parameters in two round trips (Parse/Describe/Sync, then
///   Bind/Execute/Sync). Outside a transaction a pooler may hand the second to another server
///   connection, where the statement does not exist, or is another client's unnamed one. So
///   each checkout is one transaction: `BEGIN` when the connection leaves the pool, `COMMIT`
///   when it comes back. A handler's own transaction (`pool.begin()`) then commits at its own
///   `COMMIT`, before the response, as without a pooler; the nested `BEGIN` only warns, and
///   `SET LOCAL client_min_messages` keeps that warning out of the logs. The statement
///   timeout is a `SET LOCAL` of that transaction.
/// - sqlx names every statement (`sqlx_s_1`, … per client connection, even with its cache
///   off) and never closes them, so a server connection can hold another client's statement
///   of the same name. A checkout starts with `DEALLOCATE ALL` inside its transaction, while
///   the server connection is ours; it ends with one too, so that idle server connections
///   hold none.
pub fn pool_options(config: &PoolConfig) -> PgPoolOptions {
    let options = PgPoolOptions::new()
        .max_connections(config.size)
        .test_before_acquire(false)
        // Reports each acquire's duration as a `tracing` event, which the metrics layer turns
        // into `sms_db_pool_acquire_seconds` (sqlx exposes it no other way).
        .acquire_time_level(tracing::log::LevelFilter::Trace)
        .acquire_timeout(config.acquire_timeout);
    if config.prepared_statements {
        return options.before_acquire(|_, meta| Box::pin(async move { Ok(!fault::predates_last_loss(meta.age)) }));
    }
    let begin = Arc::new(begin_checkout_statement(config.statement_timeout));
    let on_connect = begin.clone();
    options
        .after_connect(move |conn, _| {
            let begin = on_connect.clone();
            Box::pin(async move { conn.execute(begin.as_str()).await.map(drop) })
        })
        .before_acquire(move |conn, meta| {
            let begin = begin.clone();
            Box::pin(async move {
                if fault::predates_last_loss(meta.age) {
                    return Ok(false);
                }
                conn.execute(begin.as_str()).await.map(|_| true)
            })
        })
        .after_release(|conn, _| Box::pin(async move { end_checkout(conn).await.map(|()| true) }))
}

/// What starts a checkout behind a transaction pooler (see [`pool_options`]).
fn begin_checkout_statement(statement_timeout: Option<Duration>) -> String {
    let timeout_ms = statement_timeout.map_or(0, |t| t.as_millis());
    format!("BEGIN; SET LOCAL client_min_messages = error; SET LOCAL statement_timeout = {timeout_ms}; DEALLOCATE ALL")
}

/// Commits the checkout's transaction, if the handler did not end it itself (the `COMMIT`
/// would then warn: the setting, local to this query's implicit transaction, silences it). A
/// transaction that a failed statement aborted cannot run the first query: it is rolled back.
async fn end_checkout(conn: &mut PgConnection) -> sqlx::Result<()> {
    let ended = conn.execute("SELECT set_config('client_min_messages', 'error', true); DEALLOCATE ALL; COMMIT").await;
    match ended {
        Ok(_) => Ok(()),
        Err(sqlx::Error::Database(_)) => conn.execute("ROLLBACK").await.map(drop),
        Err(err) => Err(err),
    }
}

/// Waits until the server of `settings.url()` answers, retrying with [`backoff`] until
/// `start_timeout_secs` have passed; each failed attempt is a warning with its error. Fails at
/// once when the server refuses our credentials: waiting would not change that.
async fn wait_for_server(settings: &DatabaseSettings, options: &PgConnectOptions) -> anyhow::Result<()> {
    let url = redact(settings.url());
    let attempt_timeout = Duration::from_secs(settings.connect_timeout_secs);
    let start_timeout = Duration::from_secs(settings.start_timeout_secs);
    let deadline = Instant::now() + start_timeout;
    let mut attempt: u32 = 0;
    loop {
        attempt += 1;
        // An attempt does not outlast the start timeout, but always gets a fair second.
        let remaining = deadline.saturating_duration_since(Instant::now());
        let err = match server_answers(options, attempt_timeout.min(remaining.max(Duration::from_secs(1)))).await {
            Ok(()) => {
                if attempt > 1 {
                    tracing::info!(url = %url, attempt, "PostgreSQL answers");
                }
                return Ok(());
            }
            Err(err) => err,
        };
        if is_authentication_failure(&err) {
            return Err(err.context(format!("PostgreSQL at {url} refuses the credentials of the URL")));
        }
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            let why = if settings.configured_url.is_some() {
                "database.url is configured, so no private cluster replaces it"
            } else {
                "database.local_cluster is false, so no private cluster replaces it"
            };
            return Err(err.context(format!(
                "PostgreSQL at {url} did not answer within {} s (database.start_timeout_secs, {attempt} \
                 attempts); {why}",
                settings.start_timeout_secs
            )));
        }
        let delay = backoff(attempt).min(remaining);
        tracing::warn!(url = %url, attempt, error = %format!("{err:#}"), retry_in_ms = delay.as_millis() as u64,
            "PostgreSQL does not answer yet; retrying");
        tokio::time::sleep(delay).await;
    }
}

/// The pause after failed attempt `attempt` (from 1): 250 ms, doubling, at most 5 s. Short at
/// first, for a server that is restarting; capped, so that a server back up is noticed soon.
fn backoff(attempt: u32) -> Duration {
    let doublings = attempt.saturating_sub(1).min(16);
    Duration::from_millis((250u64 << doublings).min(5_000))
}

/// Whether PostgreSQL refused the login itself (SQLSTATE class 28: bad password, no such role,
/// no pg_hba entry), as opposed to not answering.
fn is_authentication_failure(err: &anyhow::Error) -> bool {
    matches!(err.downcast_ref::<sqlx::Error>(), Some(sqlx::Error::Database(e)) if e.code().is_some_and(|c| c.starts_with("28")))
}

async fn server_answers(options: &PgConnectOptions, timeout: Duration) -> anyhow::Result<()> {
    let maintenance = options.clone().database("postgres");
    let conn = tokio::time::timeout(timeout, PgConnection::connect_with(&maintenance))
        .await
        .map_err(|_| anyhow!("no answer within {timeout:?}"))??;
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

    #[test]
    fn backoff_doubles_from_a_quarter_second_up_to_five_seconds() {
        let delays: Vec<u64> = (1..=8).map(|a| backoff(a).as_millis() as u64).collect();
        assert_eq!(delays, [250, 500, 1000, 2000, 4000, 5000, 5000, 5000]);
        assert_eq!(backoff(u32::MAX), Duration::from_secs(5));
    }
}
