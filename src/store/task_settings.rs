//! SQL of a task's settings beside its row: speed-limit rules (`task_speed_limits`), special
//! configurations (`special_configs`), the network check report (`task_network_checks`) and
//! the passphrase (`tasks.passphrase`). Every statement binds the domain; every write runs in
//! one transaction that first locks the task row, so writes to one task apply one at a time.

use std::collections::HashMap;

use sqlx::types::Json;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::{allocate_ids, RowSet, StoreError, StoreResult, Table};
use crate::model::enums::{MigrateType, OsType, TaskType};
use crate::model::task::SpecialConfig;
use crate::model::task_settings::{ConfigItem, ConfigKey, ConfigSettingView, NetworkCheckReport, SpeedLimitRule};
use crate::model::DomainId;

/// Locks the domain's task `id` for the rest of the transaction; a missing task (or another
/// domain's) is [`StoreError::TaskNotFound`].
async fn lock_task(conn: &mut PgConnection, domain: &DomainId, id: Uuid) -> StoreResult<()> {
    sqlx::query_scalar::<_, Uuid>("SELECT id FROM tasks WHERE domain_id = $1 AND id = $2 FOR UPDATE")
        .bind(domain)
        .bind(id)
        .fetch_optional(conn)
        .await?
        .ok_or(StoreError::TaskNotFound)
        .map(drop)
}

/// The task's speed-limit rules in their order (empty when it has none).
pub async fn speed_limits(conn: &mut PgConnection, domain: &DomainId, task: Uuid) -> StoreResult<Vec<SpeedLimitRule>> {
    let rules: Option<Json<Vec<SpeedLimitRule>>> = sqlx::query_scalar(
        "SELECT (SELECT coalesce(json_agg(json_build_object('start', l.start_time, 'end', l.end_time, 'speed', l.speed,
                                                           'over_speed_threshold', l.over_speed_threshold)
                                          ORDER BY l.position), '[]'::json)
                   FROM task_speed_limits l WHERE l.domain_id = t.domain_id AND l.task_id = t.id)
           FROM tasks t WHERE t.domain_id = $1 AND t.id = $2",
    )
    .bind(domain)
    .bind(task)
    .fetch_optional(conn)
    .await?;
    rules.map(|r| r.0).ok_or(StoreError::TaskNotFound)
}

/// Replaces the task's speed-limit rules with `rules`, in one transaction.
pub async fn replace_speed_limits(
    pool: &PgPool,
    domain: &DomainId,
    task: Uuid,
    rules: &[SpeedLimitRule],
) -> StoreResult<()> {
    let mut tx = pool.begin().await?;
    lock_task(&mut tx, domain, task).await?;
    sqlx::query("DELETE FROM task_speed_limits WHERE domain_id = $1 AND task_id = $2")
        .bind(domain)
        .bind(task)
        .execute(&mut *tx)
        .await?;
    let mut set = RowSet::new(Table::TaskSpeedLimits, rules.len());
    set.column("domain_id", vec![domain; rules.len()])
        .column("task_id", vec![task; rules.len()])
        .column("position", (0..rules.len() as i32).collect())
        .column("start_time", rules.iter().map(|r| r.start).collect())
        .column("end_time", rules.iter().map(|r| r.end).collect())
        .column("speed", rules.iter().map(|r| r.speed).collect())
        .column("over_speed_threshold", rules.iter().map(|r| r.over_speed_threshold).collect());
    set.insert(&mut tx).await?;
    tx.commit().await?;
    Ok(())
}

/// Upserts the task's special configurations by key, in one transaction: a key the task has
/// keeps its row and position (its value and status are replaced); a new key is appended.
pub async fn upsert_configurations(
    pool: &PgPool,
    domain: &DomainId,
    task: Uuid,
    items: &[ConfigItem],
) -> StoreResult<()> {
    let mut tx = pool.begin().await?;
    lock_task(&mut tx, domain, task).await?;
    let existing: Vec<(String, i64, i32)> =
        sqlx::query_as("SELECT config_key, id, position FROM special_configs WHERE domain_id = $1 AND task_id = $2")
            .bind(domain)
            .bind(task)
            .fetch_all(&mut *tx)
            .await?;
    let mut next_position = existing.iter().map(|(_, _, p)| p + 1).max().unwrap_or(0);
    let existing: HashMap<String, (i64, i32)> = existing.into_iter().map(|(k, id, p)| (k, (id, p))).collect();
    let new_keys = items.iter().filter(|i| !existing.contains_key(i.config_key.as_str())).count();
    let mut fresh_ids = allocate_ids(&mut tx, new_keys).await?.into_iter();
    let (mut ids, mut positions) = (Vec::with_capacity(items.len()), Vec::with_capacity(items.len()));
    for item in items {
        let (id, position) = match existing.get(item.config_key.as_str()) {
            Some(&row) => row,
            None => {
                next_position += 1;
                (fresh_ids.next().expect("an id per new key"), next_position - 1)
            }
        };
        ids.push(id);
        positions.push(position);
    }
    let mut set = RowSet::new(Table::SpecialConfigs, items.len());
    set.column("id", ids)
        .column("domain_id", vec![domain; items.len()])
        .column("task_id", vec![task; items.len()])
        .column("position", positions)
        .column("config_key", items.iter().map(|i| i.config_key.as_str()).collect())
        .column("config_value", items.iter().map(|i| i.config_value.as_ref()).collect())
        .column("config_status", items.iter().map(|i| i.config_status.as_ref()).collect());
    set.upsert(&mut tx).await?;
    tx.commit().await?;
    Ok(())
}

/// The task's special configurations (only `key`'s, when given) in their order, with the
/// task's migrate type.
pub async fn configurations(
    conn: &mut PgConnection,
    domain: &DomainId,
    task: Uuid,
    key: Option<ConfigKey>,
) -> StoreResult<ConfigSettingView> {
    let kind: Option<(TaskType, Option<OsType>)> = sqlx::query_as(
        "SELECT t.type, coalesce(t.os_type, s.os_type) FROM tasks t
           LEFT JOIN servers s ON s.domain_id = t.domain_id AND s.id = t.source_server_id
          WHERE t.domain_id = $1 AND t.id = $2",
    )
    .bind(domain)
    .bind(task)
    .fetch_optional(&mut *conn)
    .await?;
    let (task_type, os_type) = kind.ok_or(StoreError::TaskNotFound)?;
    let configurations: Vec<SpecialConfig> = sqlx::query_as(
        "SELECT config_key, config_value, config_status FROM special_configs
          WHERE domain_id = $1 AND task_id = $2 AND ($3::text IS NULL OR config_key = $3) ORDER BY position",
    )
    .bind(domain)
    .bind(task)
    .bind(key.map(ConfigKey::as_str))
    .fetch_all(&mut *conn)
    .await?;
    Ok(ConfigSettingView { task_id: task, migrate_type: MigrateType::of(os_type, task_type), configurations })
}

/// Stores `report` as the task's network check, replacing the previous one, in one transaction.
pub async fn store_network_check(
    pool: &PgPool,
    domain: &DomainId,
    task: Uuid,
    report: &NetworkCheckReport,
) -> StoreResult<()> {
    let mut tx = pool.begin().await?;
    lock_task(&mut tx, domain, task).await?;
    sqlx::query(
        "INSERT INTO task_network_checks (task_id, domain_id, domain_connectivity, destination_connectivity,
                network_delay, network_jitter, migration_speed, loss_percentage, cpu_usage, mem_usage, evaluation_result)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (task_id) DO UPDATE SET domain_connectivity = EXCLUDED.domain_connectivity,
             destination_connectivity = EXCLUDED.destination_connectivity, network_delay = EXCLUDED.network_delay,
             network_jitter = EXCLUDED.network_jitter, migration_speed = EXCLUDED.migration_speed,
             loss_percentage = EXCLUDED.loss_percentage, cpu_usage = EXCLUDED.cpu_usage,
             mem_usage = EXCLUDED.mem_usage, evaluation_result = EXCLUDED.evaluation_result
         WHERE task_network_checks.domain_id = EXCLUDED.domain_id",
    )
    .bind(task)
    .bind(domain)
    .bind(report.domain_connectivity)
    .bind(report.destination_connectivity)
    .bind(report.network_delay)
    .bind(report.network_jitter)
    .bind(report.migration_speed)
    .bind(report.loss_percentage)
    .bind(report.cpu_usage)
    .bind(report.mem_usage)
    .bind(&report.evaluation_result)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The task's passphrase.
pub async fn passphrase(conn: &mut PgConnection, domain: &DomainId, task: Uuid) -> StoreResult<String> {
    sqlx::query_scalar("SELECT passphrase FROM tasks WHERE domain_id = $1 AND id = $2")
        .bind(domain)
        .bind(task)
        .fetch_optional(conn)
        .await?
        .ok_or(StoreError::TaskNotFound)
}
