//! Credentials: access keys (AK/SK) and tokens, each tied to a domain.
//!
//! Each write is a transaction of its own, committed before the function returns: behind a
//! transaction pooler a statement outside one commits only when its connection goes back to
//! the pool (see `db::pool_options`), which may be after the caller has moved on.

use rand::distributions::{Alphanumeric, DistString};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use uuid::Uuid;

/// An access key allowed to sign.
pub struct ActiveKey {
    pub domain_id: String,
    pub secret_key: String,
    pub consecutive_failures: i32,
}

pub enum AccessKeyCheck {
    Unknown,
    Revoked,
    Locked,
    Active(ActiveKey),
}

pub async fn access_key(pool: &PgPool, access_key: &str) -> sqlx::Result<AccessKeyCheck> {
    let row: Option<(String, String, bool, bool, i32)> = sqlx::query_as(
        "SELECT domain_id, secret_key, revoked_at IS NOT NULL, coalesce(locked_until > now(), false), consecutive_failures
         FROM access_keys WHERE access_key = $1",
    )
    .bind(access_key)
    .fetch_optional(pool)
    .await?;
    Ok(match row {
        None => AccessKeyCheck::Unknown,
        Some((_, _, true, _, _)) => AccessKeyCheck::Revoked,
        Some((_, _, _, true, _)) => AccessKeyCheck::Locked,
        Some((domain_id, secret_key, false, false, consecutive_failures)) => {
            AccessKeyCheck::Active(ActiveKey { domain_id, secret_key, consecutive_failures })
        }
    })
}

/// Counts a failed signature; the `limit`-th failure in a row locks the key for `lock_secs`.
pub async fn record_failure(pool: &PgPool, access_key: &str, limit: i32, lock_secs: i64) -> sqlx::Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "UPDATE access_keys SET
             consecutive_failures = CASE WHEN consecutive_failures + 1 >= $2 THEN 0 ELSE consecutive_failures + 1 END,
             locked_until = CASE WHEN consecutive_failures + 1 >= $2 THEN now() + make_interval(secs => $3) ELSE locked_until END
         WHERE access_key = $1",
    )
    .bind(access_key)
    .bind(limit)
    .bind(lock_secs as f64)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

pub async fn reset_failures(pool: &PgPool, access_key: &str) -> sqlx::Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query("UPDATE access_keys SET consecutive_failures = 0 WHERE access_key = $1")
        .bind(access_key)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

/// A new AK/SK pair for `domain`; the SK is shown to the caller once.
pub async fn create_access_key(pool: &PgPool, domain: &str) -> sqlx::Result<(String, String)> {
    let access_key = Alphanumeric.sample_string(&mut rand::thread_rng(), 20).to_uppercase();
    let secret_key = Alphanumeric.sample_string(&mut rand::thread_rng(), 40);
    upsert_access_key(pool, &access_key, &secret_key, domain).await?;
    Ok((access_key, secret_key))
}

pub async fn upsert_access_key(pool: &PgPool, access_key: &str, secret_key: &str, domain: &str) -> sqlx::Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO access_keys (access_key, secret_key, domain_id) VALUES ($1, $2, $3)
         ON CONFLICT (access_key) DO UPDATE SET secret_key = EXCLUDED.secret_key, domain_id = EXCLUDED.domain_id, revoked_at = NULL",
    )
    .bind(access_key)
    .bind(secret_key)
    .bind(domain)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// Every access key, without secrets: (AK, domain, created, revoked).
pub async fn list_access_keys(pool: &PgPool) -> sqlx::Result<Vec<(String, String, String, Option<String>)>> {
    sqlx::query_as(
        "SELECT access_key, domain_id, to_char(created_at, 'YYYY-MM-DD\"T\"HH24:MI:SSOF'),
                to_char(revoked_at, 'YYYY-MM-DD\"T\"HH24:MI:SSOF')
         FROM access_keys ORDER BY created_at, access_key",
    )
    .fetch_all(pool)
    .await
}

/// Revokes an access key; `false` when there is no such (unrevoked) key.
pub async fn revoke_access_key(pool: &PgPool, access_key: &str) -> sqlx::Result<bool> {
    let mut tx = pool.begin().await?;
    let done = sqlx::query("UPDATE access_keys SET revoked_at = now() WHERE access_key = $1 AND revoked_at IS NULL")
        .bind(access_key)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(done.rows_affected() == 1)
}

fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// The domain of an unrevoked token.
pub async fn token_domain(pool: &PgPool, token: &str) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT domain_id FROM auth_tokens WHERE token_sha256 = $1 AND revoked_at IS NULL")
        .bind(token_hash(token))
        .fetch_optional(pool)
        .await
}

/// A new token for `domain`: (its id, the token, shown once).
pub async fn create_token(pool: &PgPool, domain: &str) -> sqlx::Result<(Uuid, String)> {
    let token = Alphanumeric.sample_string(&mut rand::thread_rng(), 48);
    let id = upsert_token(pool, &token, domain).await?;
    Ok((id, token))
}

pub async fn upsert_token(pool: &PgPool, token: &str, domain: &str) -> sqlx::Result<Uuid> {
    let mut tx = pool.begin().await?;
    let id = sqlx::query_scalar(
        "INSERT INTO auth_tokens (id, token_sha256, domain_id) VALUES ($1, $2, $3)
         ON CONFLICT (token_sha256) DO UPDATE SET domain_id = EXCLUDED.domain_id, revoked_at = NULL
         RETURNING id",
    )
    .bind(Uuid::new_v4())
    .bind(token_hash(token))
    .bind(domain)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Every token, without the token: (id, domain, created, revoked).
pub async fn list_tokens(pool: &PgPool) -> sqlx::Result<Vec<(Uuid, String, String, Option<String>)>> {
    sqlx::query_as(
        "SELECT id, domain_id, to_char(created_at, 'YYYY-MM-DD\"T\"HH24:MI:SSOF'),
                to_char(revoked_at, 'YYYY-MM-DD\"T\"HH24:MI:SSOF')
         FROM auth_tokens ORDER BY created_at, id",
    )
    .fetch_all(pool)
    .await
}

pub async fn revoke_token(pool: &PgPool, id: Uuid) -> sqlx::Result<bool> {
    let mut tx = pool.begin().await?;
    let done = sqlx::query("UPDATE auth_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(done.rows_affected() == 1)
}

/// Records an accepted signature until `expires_at` (Unix seconds); false when it was already recorded (a
/// replay). Also forgets a few expired signatures, skipping rows another request is
/// forgetting, so that the table stays the size of the clock-skew window without a sweeper.
pub async fn first_sighting(pool: &PgPool, signature: &str, expires_at: i64) -> sqlx::Result<bool> {
    let mut tx = pool.begin().await?;
    let recorded: Option<i32> = sqlx::query_scalar(
        "WITH expired AS (
             DELETE FROM seen_signatures WHERE signature IN (
                 SELECT signature FROM seen_signatures WHERE expires_at < now()
                 LIMIT 32 FOR UPDATE SKIP LOCKED))
         INSERT INTO seen_signatures (signature, expires_at) VALUES ($1, to_timestamp($2::float8))
         ON CONFLICT (signature) DO NOTHING
         RETURNING 1",
    )
    .bind(signature)
    .bind(expires_at)
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(recorded.is_some())
}
