//! Database faults: which errors mean "the database cannot serve this request right now" (a
//! 503 with `Retry-After`, never a 500), forgetting the pooled connections a fault killed, and
//! retrying a read once when its connection turned out dead.
//!
//! When PostgreSQL restarts, every idle pooled connection is dead, but nothing says so until
//! one is used. The pool does not ping before each checkout (a round trip per request), so
//! instead the first request that meets a dead connection marks the moment, and the pool
//! discards every connection opened before it (`before_acquire`, no round trip). A read that
//! met the dead connection runs once more, on a connection opened after the mark.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use sqlx::{PgConnection, PgPool};

/// Why the database could not serve a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// No connection could be had: refused, timed out, the server is starting or shutting
    /// down, too many connections, or the pool is closed.
    Unreachable,
    /// A connection that was handed out died under the request (the server restarted or
    /// terminated it, the network dropped it). Reads are retried once.
    ConnectionLost,
    /// A statement ran past `database.statement_timeout_ms` and was cancelled.
    StatementTimeout,
}

impl Fault {
    /// The name used in logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Fault::Unreachable => "unreachable",
            Fault::ConnectionLost => "connection_lost",
            Fault::StatementTimeout => "statement_timeout",
        }
    }
}

/// The fault behind `err`, if it is one: every way of not reaching the database, and a
/// cancelled statement. Anything else (a constraint, a bug) is not a fault.
pub fn classify(err: &sqlx::Error) -> Option<Fault> {
    match err {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => Some(Fault::Unreachable),
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::Protocol(_) | sqlx::Error::WorkerCrashed => {
            Some(Fault::ConnectionLost)
        }
        sqlx::Error::Database(db) => db.code().and_then(|code| classify_sqlstate(&code)),
        _ => None,
    }
}

/// SQLSTATEs that are faults of the database rather than of the request.
fn classify_sqlstate(code: &str) -> Option<Fault> {
    match code {
        // query_canceled: statement_timeout (or an operator's pg_cancel_backend).
        "57014" => Some(Fault::StatementTimeout),
        // admin_shutdown, crash_shutdown: the server terminated this connection.
        "57P01" | "57P02" => Some(Fault::ConnectionLost),
        // read_only_sql_transaction: the server this connection reached is now a standby
        // (a failover happened); connections opened after it reach the new primary.
        "25006" => Some(Fault::ConnectionLost),
        // cannot_connect_now (starting up), database_dropped.
        "57P03" | "57P04" => Some(Fault::Unreachable),
        // connection_exception (08xxx) and insufficient_resources (53xxx: too many
        // connections, out of memory or disk).
        c if c.starts_with("08") => Some(Fault::ConnectionLost),
        c if c.starts_with("53") => Some(Fault::Unreachable),
        _ => None,
    }
}

/// Errors that can tell whether they are a connection lost under a request.
pub trait MaybeConnectionLost {
    fn is_connection_lost(&self) -> bool;
}

impl MaybeConnectionLost for sqlx::Error {
    fn is_connection_lost(&self) -> bool {
        classify(self) == Some(Fault::ConnectionLost)
    }
}

impl MaybeConnectionLost for crate::store::StoreError {
    fn is_connection_lost(&self) -> bool {
        matches!(self, crate::store::StoreError::Database(err) if err.is_connection_lost())
    }
}

/// Runs a read. When its connection turned out dead, runs it once more: by then the pool
/// discards the connections opened before the loss, so the second run gets a fresh one.
/// Only for requests that change nothing (a write's outcome on a dead connection is unknown
/// to the client's retry logic, so it answers 503 instead).
pub async fn read<T, E: MaybeConnectionLost>(mut run: impl AsyncFnMut() -> Result<T, E>) -> Result<T, E> {
    match run().await {
        Err(err) if err.is_connection_lost() => {
            tracing::warn!("a pooled database connection was dead; retrying the read on a fresh one");
            note_connection_lost();
            run().await
        }
        outcome => outcome,
    }
}

/// [`read`] on a connection of `pool`.
pub async fn read_conn<T, E>(pool: &PgPool, mut run: impl AsyncFnMut(&mut PgConnection) -> Result<T, E>) -> Result<T, E>
where
    E: From<sqlx::Error> + MaybeConnectionLost,
{
    read(async || {
        let mut conn = pool.acquire().await?;
        run(&mut conn).await
    })
    .await
}

/// The process's clock origin for [`LOST_AT_NANOS`].
fn origin() -> Instant {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    *ORIGIN.get_or_init(Instant::now)
}

/// When a connection was last seen dead, in nanoseconds after [`origin`]; 0 = never. One
/// mark for the process: a fault is the server's, so it concerns every pool on it (a
/// spurious mark costs only reconnects).
static LOST_AT_NANOS: AtomicU64 = AtomicU64::new(0);

/// Notes that a connection was found dead now: connections opened before now are suspect.
pub fn note_connection_lost() {
    let now = origin().elapsed().as_nanos() as u64;
    LOST_AT_NANOS.fetch_max(now.max(1), Ordering::Relaxed);
}

/// Whether a pooled connection of age `age` was opened before the last loss, and so may be
/// dead too.
pub fn predates_last_loss(age: Duration) -> bool {
    let lost_at = LOST_AT_NANOS.load(Ordering::Relaxed);
    if lost_at == 0 {
        return false;
    }
    let now = origin().elapsed().as_nanos() as u64;
    let opened_at = now.saturating_sub(age.as_nanos() as u64);
    opened_at <= lost_at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlstates_of_unreachable_servers_and_timeouts_are_faults_and_others_are_not() {
        assert_eq!(classify_sqlstate("57P01"), Some(Fault::ConnectionLost));
        assert_eq!(classify_sqlstate("57P02"), Some(Fault::ConnectionLost));
        assert_eq!(classify_sqlstate("57P03"), Some(Fault::Unreachable));
        assert_eq!(classify_sqlstate("08006"), Some(Fault::ConnectionLost));
        assert_eq!(classify_sqlstate("53300"), Some(Fault::Unreachable));
        assert_eq!(classify_sqlstate("57014"), Some(Fault::StatementTimeout));
        assert_eq!(classify_sqlstate("25006"), Some(Fault::ConnectionLost));
        assert_eq!(classify_sqlstate("23505"), None, "a unique violation is the request's");
        assert_eq!(classify_sqlstate("42P01"), None, "a missing table is a bug, not a fault");
    }

    #[test]
    fn transport_errors_are_lost_connections_and_pool_errors_unreachable() {
        let io = sqlx::Error::Io(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset"));
        assert_eq!(classify(&io), Some(Fault::ConnectionLost));
        assert_eq!(classify(&sqlx::Error::PoolTimedOut), Some(Fault::Unreachable));
        assert_eq!(classify(&sqlx::Error::PoolClosed), Some(Fault::Unreachable));
        assert_eq!(classify(&sqlx::Error::RowNotFound), None);
    }

    #[test]
    fn connections_opened_before_a_loss_are_suspect_and_later_ones_are_not() {
        std::thread::sleep(Duration::from_millis(2));
        note_connection_lost();
        assert!(predates_last_loss(Duration::from_secs(3600)), "opened an hour ago");
        std::thread::sleep(Duration::from_millis(2));
        assert!(!predates_last_loss(Duration::from_micros(10)), "opened just now");
    }

    #[tokio::test]
    async fn a_read_is_retried_once_after_a_lost_connection_and_not_after_other_errors() {
        let lost = || sqlx::Error::Io(std::io::Error::new(std::io::ErrorKind::BrokenPipe, "gone"));
        let mut runs = 0;
        let outcome: Result<u8, sqlx::Error> = read(async || {
            runs += 1;
            if runs == 1 {
                Err(lost())
            } else {
                Ok(7)
            }
        })
        .await;
        assert_eq!((outcome.ok(), runs), (Some(7), 2));

        let mut runs = 0;
        let outcome: Result<u8, sqlx::Error> = read(async || {
            runs += 1;
            Err(lost())
        })
        .await;
        assert!(outcome.is_err());
        assert_eq!(runs, 2, "retried once, not more");

        let mut runs = 0;
        let outcome: Result<u8, sqlx::Error> = read(async || {
            runs += 1;
            Err(sqlx::Error::RowNotFound)
        })
        .await;
        assert!(outcome.is_err());
        assert_eq!(runs, 1, "not a fault: not retried");
    }
}
