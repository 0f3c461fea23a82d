//! Where list pages are read: from a streaming replica (`database.replica_url`) while it is
//! reachable and close enough behind the primary, else from the primary.
//!
//! Only list pages come here (`GET /v3/tasks`, `/v3/sources`, `/v3/errors`,
//! `/v3/vm/templates`: a page and its count, read on one connection, so the count matches the
//! page). Every other read, and every read inside a write, uses the primary pool directly, so a
//! client always reads its own writes there; a list may be up to `replica_max_lag_ms` behind.
//!
//! The replica's state is checked at most once per `replica_check_interval_ms`, by the list
//! request that finds the last verdict too old (the others meanwhile use that verdict). A list
//! that fails on the replica is read again from the primary. Every list read from the primary
//! while a replica is configured counts in `sms_replica_fallbacks_total{reason}`; a change of
//! verdict is logged once, at WARN when the replica stops being used, at INFO when it is used
//! again.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sqlx::pool::PoolConnection;
use sqlx::{PgPool, Postgres};

use super::PoolConfig;
use crate::metrics::Metrics;
use crate::settings::DatabaseSettings;

/// Why a list was read from the primary although a replica is configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fallback {
    /// The replica does not answer (or its check failed).
    Unreachable,
    /// The replica's replay is more than `replica_max_lag_ms` behind the primary.
    Lag,
    /// The list query failed on the replica (for example a recovery conflict); it was read
    /// again from the primary.
    Error,
}

impl Fallback {
    pub const ALL: [Fallback; 3] = [Fallback::Unreachable, Fallback::Lag, Fallback::Error];

    /// The `reason` label.
    pub fn label(self) -> &'static str {
        match self {
            Fallback::Unreachable => "unreachable",
            Fallback::Lag => "lag",
            Fallback::Error => "error",
        }
    }
}

/// The pools list pages read from.
pub struct ListReads {
    primary: PgPool,
    replica: Option<Replica>,
}

struct Replica {
    pool: PgPool,
    max_lag: Duration,
    check_every: Duration,
    /// The last verdict (`None`: use the replica) and when it was taken; `None` before the
    /// first check.
    verdict: Mutex<Option<(Instant, Option<Fallback>)>>,
    /// Lists read from the primary, per [`Fallback::ALL`] index: the metric's values, kept here
    /// too so that tests and logs can read them without an exporter.
    fallbacks: [AtomicU64; 3],
    /// Lists read from the replica.
    served: AtomicU64,
    /// When a check last found the replica caught up with the primary.
    caught_up_at: Mutex<Option<Instant>>,
    metrics: Metrics,
}

impl ListReads {
    /// Lists from `primary` only.
    pub fn primary_only(primary: PgPool) -> ListReads {
        ListReads { primary, replica: None }
    }

    /// Lists from the replica of `settings.replica_url` when one is set. Its pool connects
    /// lazily: a replica that is down at start does not stop the service.
    pub fn new(primary: PgPool, settings: &DatabaseSettings, metrics: Metrics) -> anyhow::Result<ListReads> {
        let Some(url) = settings.replica_url.as_deref() else {
            return Ok(ListReads::primary_only(primary));
        };
        // A replica is not behind a transaction pooler of ours: it takes no writes, but the
        // same connection rules keep one configuration valid for both.
        let config = PoolConfig::from(settings);
        let options = super::connect_options(url, &config)?.application_name("sms-tasks-lists");
        let pool = super::pool_options(&config)
            // A list waits this long at most for a replica connection before using the primary.
            .acquire_timeout(Duration::from_secs(1))
            .connect_lazy_with(options);
        Ok(ListReads {
            primary,
            replica: Some(Replica {
                pool,
                max_lag: Duration::from_millis(settings.replica_max_lag_ms),
                check_every: Duration::from_millis(settings.replica_check_interval_ms),
                verdict: Mutex::new(None),
                fallbacks: Default::default(),
                served: AtomicU64::new(0),
                caught_up_at: Mutex::new(None),
                metrics,
            }),
        })
    }

    /// Runs `read` on a replica connection when the replica is usable, else (or when it fails
    /// there) on a primary connection.
    pub async fn read<T, E, F, Fut>(&self, read: F) -> Result<T, E>
    where
        F: Fn(PoolConnection<Postgres>) -> Fut,
        Fut: Future<Output = Result<T, E>>,
        E: From<sqlx::Error> + std::fmt::Display,
    {
        if let Some(replica) = &self.replica {
            let fallback = match replica.usable(&self.primary).await {
                Some(reason) => reason,
                None => match replica.pool.acquire().await {
                    Ok(conn) => match read(conn).await {
                        Ok(value) => {
                            replica.served.fetch_add(1, Ordering::Relaxed);
                            return Ok(value);
                        }
                        Err(err) => {
                            tracing::warn!(error = %err, "a list failed on the replica; reading it from the primary");
                            replica.mark(Fallback::Error);
                            Fallback::Error
                        }
                    },
                    Err(err) => {
                        tracing::debug!(error = %err, "no replica connection");
                        replica.mark(Fallback::Unreachable);
                        Fallback::Unreachable
                    }
                },
            };
            replica.fallbacks[fallback as usize].fetch_add(1, Ordering::Relaxed);
            replica.metrics.replica_fallback(fallback.label());
        }
        read(self.primary.acquire().await.map_err(E::from)?).await
    }

    /// Lists read from the primary for `reason` since start (0 without a replica).
    pub fn fallbacks(&self, reason: Fallback) -> u64 {
        self.replica.as_ref().map_or(0, |r| r.fallbacks[reason as usize].load(Ordering::Relaxed))
    }

    /// Lists read from the replica since start.
    pub fn served_by_replica(&self) -> u64 {
        self.replica.as_ref().map_or(0, |r| r.served.load(Ordering::Relaxed))
    }
}

impl Replica {
    /// `None` when lists may be read here, else why not; checks again when the last verdict is
    /// older than `check_every`.
    async fn usable(&self, primary: &PgPool) -> Option<Fallback> {
        {
            let mut verdict = self.verdict.lock().unwrap();
            match *verdict {
                Some((at, current)) if at.elapsed() < self.check_every => return current,
                // Claim the check: the requests meanwhile use the last verdict.
                Some((_, current)) => *verdict = Some((Instant::now(), current)),
                None => {}
            }
        }
        let checked = match tokio::time::timeout(Duration::from_secs(1), self.check(primary)).await {
            Ok(Ok(verdict)) => verdict,
            Ok(Err(err)) => {
                tracing::debug!(error = %err, "the replica check failed");
                Some(Fallback::Unreachable)
            }
            Err(_) => Some(Fallback::Unreachable),
        };
        self.set(checked);
        checked
    }

    /// Measures the replica: reachable, and how far its replay is behind the primary's flushed
    /// WAL. Caught up (replayed at least what the primary had flushed just before) is lag 0;
    /// otherwise the lag is the age of the last transaction it replayed, or the time since a
    /// check last found it caught up, whichever is less (it had everything then, so it is at
    /// most that stale). After a long idle period without checks the first write can look like
    /// lag for one interval: lists then come from the primary, which is always correct.
    async fn check(&self, primary: &PgPool) -> sqlx::Result<Option<Fallback>> {
        // A primary that does not answer cannot say how far behind the replica is; the lists
        // are then better served by the replica than not at all.
        let flushed: Option<i64> =
            sqlx::query_scalar("SELECT pg_wal_lsn_diff(pg_current_wal_flush_lsn(), '0/0')::bigint")
                .fetch_one(primary)
                .await
                .ok();
        let mut conn = self.pool.acquire().await?;
        let (in_recovery, replayed, age_ms): (bool, Option<i64>, Option<i64>) = sqlx::query_as(
            "SELECT pg_is_in_recovery(), pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0')::bigint, \
                    (extract(epoch FROM now() - pg_last_xact_replay_timestamp()) * 1000)::bigint",
        )
        .fetch_one(&mut *conn)
        .await?;
        if !in_recovery {
            // Promoted, or the primary itself: its data is current.
            return Ok(None);
        }
        let caught_up = matches!((replayed, flushed), (Some(r), Some(f)) if r >= f) || flushed.is_none();
        let mut caught_up_at = self.caught_up_at.lock().unwrap();
        if caught_up {
            *caught_up_at = Some(Instant::now());
            return Ok(None);
        }
        let replay_age = Duration::from_millis(age_ms.map_or(u64::MAX, |ms| ms.max(0) as u64));
        let lag = caught_up_at.map_or(replay_age, |at| replay_age.min(at.elapsed()));
        Ok((lag > self.max_lag).then_some(Fallback::Lag))
    }

    /// Records a failure seen by a list, so that the next lists use the primary at once.
    fn mark(&self, reason: Fallback) {
        self.set(Some(reason));
    }

    fn set(&self, new: Option<Fallback>) {
        let previous = self.verdict.lock().unwrap().replace((Instant::now(), new)).map(|(_, v)| v);
        let changed = match previous {
            Some(previous) => previous != new,
            None => new.is_some(),
        };
        if changed {
            match new {
                Some(reason) => tracing::warn!(
                    reason = reason.label(),
                    "list pages are read from the primary: the replica is {}",
                    match reason {
                        Fallback::Unreachable => "unreachable",
                        Fallback::Lag => "lagging",
                        Fallback::Error => "failing queries",
                    }
                ),
                None => tracing::info!("list pages are read from the replica again"),
            }
        }
        self.metrics.replica_in_use(new.is_none());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fallback_has_its_own_slot_and_label() {
        for (i, reason) in Fallback::ALL.iter().enumerate() {
            assert_eq!(*reason as usize, i);
        }
        let labels: Vec<_> = Fallback::ALL.iter().map(|r| r.label()).collect();
        assert_eq!(labels, ["unreachable", "lag", "error"]);
    }
}
