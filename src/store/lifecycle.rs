//! The task lifecycle in SQL: actions (`POST /v3/tasks/{id}/action`), the agent command
//! queue (poll and results), progress reports, and deleting tasks and source servers.
//!
//! Every operation is one transaction that locks the rows it changes in one order: tasks
//! first, then their source servers, then queued commands. Two concurrent actions on a task
//! run one after the other; the second sees the first's state.

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::{StoreError, StoreResult};
use crate::model::enums::{
    CommandName, CommandOutcome, LogCollectStatus, MigrateType, OsType, SourceState, TaskState, TaskType,
};
use crate::model::lifecycle::{
    completion, effect, is_busy, standard_subtasks, sync_subtask, ActionRequest, CommandResult, Effect, ProgressReport,
    SourceChange, SubtaskChange,
};
use crate::model::now_ms;
use crate::model::values::Text255;
use crate::model::DomainId;

/// A task locked for a change, with what the lifecycle needs to know of it.
#[derive(Debug, sqlx::FromRow)]
struct LockedTask {
    id: Uuid,
    name: String,
    state: TaskState,
    source_server_id: Uuid,
    syncing: bool,
    /// The task's OS type, else its source's (the kind's rule: `MigrateType::of`).
    os_type: Option<OsType>,
    #[sqlx(rename = "type")]
    task_type: TaskType,
}

impl LockedTask {
    fn kind(&self) -> MigrateType {
        MigrateType::of(self.os_type, self.task_type)
    }
}

async fn lock_task(conn: &mut PgConnection, domain: &DomainId, id: Uuid) -> StoreResult<LockedTask> {
    sqlx::query_as(
        "SELECT t.id, t.name, t.state, t.source_server_id, t.syncing, t.type,
                coalesce(t.os_type, s.os_type) AS os_type
           FROM tasks t JOIN servers s ON s.domain_id = t.domain_id AND s.id = t.source_server_id
          WHERE t.domain_id = $1 AND t.id = $2
            FOR UPDATE OF t",
    )
    .bind(domain)
    .bind(id)
    .fetch_optional(conn)
    .await?
    .ok_or(StoreError::TaskNotFound)
}

/// Applies an action: the task's and its source's new states, its subtasks, the agent's
/// command, all at once.
pub async fn act(pool: &PgPool, domain: &DomainId, id: Uuid, action: &ActionRequest) -> StoreResult<()> {
    let mut tx = pool.begin().await?;
    let task = lock_task(&mut tx, domain, id).await?;
    let effect = effect(action.operation, task.state).map_err(StoreError::Refused)?;
    if effect.clones {
        // A clone is made from a template of the caller's domain.
        let template = action.template_id.as_deref().and_then(|t| Uuid::parse_str(t).ok());
        let exists = match template {
            Some(template) => super::templates::exists(&mut tx, domain, template).await?,
            None => false,
        };
        if !exists {
            return Err(StoreError::NoSuchTemplate);
        }
    }
    apply(&mut tx, domain, &task, &effect, action.bucket()).await?;
    if effect.clones {
        // The clone made from the template: a server of our own naming, ready at once.
        sqlx::query(
            "INSERT INTO task_clone_servers (task_id, domain_id, vm_id, name, clone_state)
             VALUES ($2, $1, $3, $4, 'FINISHED')
             ON CONFLICT (task_id) DO UPDATE SET vm_id = EXCLUDED.vm_id, name = EXCLUDED.name,
                 clone_state = EXCLUDED.clone_state, clone_error = NULL, error_msg = NULL
             WHERE task_clone_servers.domain_id = EXCLUDED.domain_id",
        )
        .bind(domain)
        .bind(task.id)
        .bind(Uuid::new_v4().to_string())
        .bind(format!("{}-clone", task.name))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// `POST /v3/tasks/{id}/log`: the same as the `collect_log` action.
pub async fn collect_log(pool: &PgPool, domain: &DomainId, id: Uuid, bucket: &Text255) -> StoreResult<()> {
    let mut tx = pool.begin().await?;
    let task = lock_task(&mut tx, domain, id).await?;
    let effect = effect(crate::model::enums::Operation::CollectLog, task.state).map_err(StoreError::Refused)?;
    apply(&mut tx, domain, &task, &effect, Some(bucket)).await?;
    tx.commit().await?;
    Ok(())
}

async fn apply(
    conn: &mut PgConnection,
    domain: &DomainId,
    task: &LockedTask,
    effect: &Effect,
    bucket: Option<&Text255>,
) -> sqlx::Result<()> {
    let now = now_ms();
    sqlx::query(
        "UPDATE tasks SET state = coalesce($3, state),
                start_date = CASE WHEN $3 = 'RUNNING' THEN coalesce(start_date, $4) ELSE start_date END,
                finish_date = CASE WHEN $5 THEN NULL ELSE finish_date END,
                error_json = CASE WHEN $5 THEN NULL ELSE error_json END,
                need_migration_test = CASE WHEN $6 THEN true ELSE need_migration_test END,
                log_collect_status = CASE WHEN $7 THEN $8 ELSE log_collect_status END
          WHERE domain_id = $1 AND id = $2",
    )
    .bind(domain)
    .bind(task.id)
    .bind(effect.state)
    .bind(now)
    .bind(effect.clears_outcome)
    .bind(effect.need_migration_test)
    .bind(effect.collects_log)
    .bind(LogCollectStatus::Uploading)
    .execute(&mut *conn)
    .await?;
    change_source(conn, domain, task.source_server_id, effect.source).await?;
    change_subtasks(conn, domain, task, effect.subtasks).await?;
    if let Some(command) = effect.command {
        enqueue(conn, domain, task, command, bucket).await?;
    }
    Ok(())
}

async fn change_source(
    conn: &mut PgConnection,
    domain: &DomainId,
    source: Uuid,
    change: SourceChange,
) -> sqlx::Result<()> {
    if change == SourceChange::default() {
        return Ok(());
    }
    sqlx::query(
        "UPDATE servers SET state = coalesce($3, state), migration_cycle = coalesce($4, migration_cycle)
          WHERE domain_id = $1 AND id = $2",
    )
    .bind(domain)
    .bind(source)
    .bind(change.state)
    .bind(change.cycle)
    .execute(conn)
    .await?;
    Ok(())
}

async fn change_subtasks(
    conn: &mut PgConnection,
    domain: &DomainId,
    task: &LockedTask,
    change: SubtaskChange,
) -> sqlx::Result<()> {
    match change {
        SubtaskChange::Keep => {}
        SubtaskChange::StandardIfNone => add_standard_subtasks(conn, domain, task).await?,
        SubtaskChange::Reset => {
            add_standard_subtasks(conn, domain, task).await?;
            sqlx::query(
                "UPDATE subtasks SET progress = 0, start_date = NULL, end_date = NULL, migrate_speed = NULL
                  WHERE domain_id = $1 AND task_id = $2",
            )
            .bind(domain)
            .bind(task.id)
            .execute(conn)
            .await?;
        }
        SubtaskChange::SyncRound => start_sync_round(conn, domain, task).await?,
    }
    Ok(())
}

/// The standard subtasks of the task's kind, when it has none.
async fn add_standard_subtasks(conn: &mut PgConnection, domain: &DomainId, task: &LockedTask) -> sqlx::Result<()> {
    let names = standard_subtasks(task.kind());
    sqlx::query(
        "INSERT INTO subtasks (id, domain_id, task_id, position, name, progress)
         SELECT nextval('object_id_seq'), $1, $2, s.ord - 1, s.name, 0
           FROM unnest($3::text[]) WITH ORDINALITY AS s(name, ord)
          WHERE NOT EXISTS (SELECT 1 FROM subtasks WHERE domain_id = $1 AND task_id = $2)
          ORDER BY s.ord",
    )
    .bind(domain)
    .bind(task.id)
    .bind(names)
    .execute(conn)
    .await?;
    Ok(())
}

/// A sync round: the kind's sync subtask, appended when missing, back to 0.
async fn start_sync_round(conn: &mut PgConnection, domain: &DomainId, task: &LockedTask) -> sqlx::Result<()> {
    let name = sync_subtask(task.kind());
    let reset = sqlx::query(
        "UPDATE subtasks SET progress = 0, start_date = NULL, end_date = NULL, migrate_speed = NULL
          WHERE domain_id = $1 AND task_id = $2 AND name = $3",
    )
    .bind(domain)
    .bind(task.id)
    .bind(name)
    .execute(&mut *conn)
    .await?;
    if reset.rows_affected() == 0 {
        sqlx::query(
            "INSERT INTO subtasks (id, domain_id, task_id, position, name, progress)
             SELECT nextval('object_id_seq'), $1, $2,
                    coalesce((SELECT max(position) + 1 FROM subtasks WHERE domain_id = $1 AND task_id = $2), 0), $3, 0",
        )
        .bind(domain)
        .bind(task.id)
        .bind(name)
        .execute(conn)
        .await?;
    }
    Ok(())
}

async fn enqueue(
    conn: &mut PgConnection,
    domain: &DomainId,
    task: &LockedTask,
    command: CommandName,
    bucket: Option<&Text255>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO agent_commands (domain_id, source_id, task_id, name, bucket, queued_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(domain)
    .bind(task.source_server_id)
    .bind(task.id)
    .bind(command)
    .bind(bucket)
    .bind(now_ms())
    .execute(conn)
    .await?;
    Ok(())
}

/// The command at the head of a source's queue.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PendingCommand {
    pub name: CommandName,
    pub task_id: Option<Uuid>,
    pub bucket: Option<String>,
}

/// The oldest pending command of a source (`Ok(None)`: none), or `None` for a source that
/// does not exist in the domain: one statement, a probe of each index.
pub async fn next_command(
    conn: &mut PgConnection,
    domain: &DomainId,
    source: Uuid,
) -> StoreResult<Option<Option<PendingCommand>>> {
    let row: Option<(Option<CommandName>, Option<Uuid>, Option<String>)> = sqlx::query_as(
        "SELECT c.name, c.task_id, c.bucket
           FROM servers s
           LEFT JOIN LATERAL (SELECT name, task_id, bucket FROM agent_commands
                               WHERE domain_id = s.domain_id AND source_id = s.id ORDER BY id LIMIT 1) c ON true
          WHERE s.domain_id = $1 AND s.id = $2 AND s.role = 'source'",
    )
    .bind(domain)
    .bind(source)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(name, task_id, bucket)| name.map(|name| PendingCommand { name, task_id, bucket })))
}

/// Acknowledges the head of a source's queue with the agent's result. `Ok(false)`: the source
/// does not exist in the domain.
pub async fn command_result(
    pool: &PgPool,
    domain: &DomainId,
    source: Uuid,
    result: &CommandResult,
) -> StoreResult<bool> {
    let mut tx = pool.begin().await?;
    let exists: Option<bool> =
        sqlx::query_scalar("SELECT true FROM servers WHERE domain_id = $1 AND id = $2 AND role = 'source'")
            .bind(domain)
            .bind(source)
            .fetch_optional(&mut *tx)
            .await?;
    if exists.is_none() {
        return Ok(false);
    }
    let head: Option<(i64, CommandName, Option<Uuid>)> = sqlx::query_as(
        "SELECT id, name, task_id FROM agent_commands WHERE domain_id = $1 AND source_id = $2 ORDER BY id LIMIT 1",
    )
    .bind(domain)
    .bind(source)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((command_id, name, task_id)) = head else {
        return Err(StoreError::CommandMismatch(format!("no command is pending, not {}", result.command_name)));
    };
    if name != result.command_name {
        return Err(StoreError::CommandMismatch(format!("the pending command is {name}, not {}", result.command_name)));
    }
    // Lock order: the task before its commands (as actions and deletes do).
    let task = match task_id {
        Some(task_id) => match lock_task(&mut tx, domain, task_id).await {
            Ok(task) => Some(task),
            Err(StoreError::TaskNotFound) => None,
            Err(err) => return Err(err),
        },
        None => None,
    };
    let removed = sqlx::query("DELETE FROM agent_commands WHERE domain_id = $1 AND id = $2")
        .bind(domain)
        .bind(command_id)
        .execute(&mut *tx)
        .await?;
    if removed.rows_affected() == 0 {
        return Err(StoreError::CommandMismatch(format!("the {name} command was acknowledged already")));
    }
    if let Some(task) = task {
        record_outcome(&mut tx, domain, &task, name, result).await?;
    }
    tx.commit().await?;
    Ok(true)
}

/// What a command's outcome does to its task: a failed START or SYNC fails a task that runs
/// it; an UPLOAD_LOG result ends the log collection.
async fn record_outcome(
    conn: &mut PgConnection,
    domain: &DomainId,
    task: &LockedTask,
    name: CommandName,
    result: &CommandResult,
) -> sqlx::Result<()> {
    let failed = result.result == Some(CommandOutcome::Fail);
    match name {
        CommandName::Start | CommandName::Sync if failed => {
            let (running, failure) = match name {
                CommandName::Start => (TaskState::Running, TaskState::MigrateFail),
                _ => (TaskState::Syncing, TaskState::SyncFail),
            };
            if task.state != running {
                return Ok(());
            }
            sqlx::query("UPDATE tasks SET state = $3, error_json = $4 WHERE domain_id = $1 AND id = $2")
                .bind(domain)
                .bind(task.id)
                .bind(failure)
                .bind(result.detail_text())
                .execute(&mut *conn)
                .await?;
            change_source(
                conn,
                domain,
                task.source_server_id,
                SourceChange { state: Some(SourceState::Error), cycle: None },
            )
            .await?;
        }
        CommandName::UploadLog => {
            let status = if failed { LogCollectStatus::UploadFail } else { LogCollectStatus::Uploaded };
            sqlx::query("UPDATE tasks SET log_collect_status = $3 WHERE domain_id = $1 AND id = $2")
                .bind(domain)
                .bind(task.id)
                .bind(status)
                .execute(conn)
                .await?;
        }
        _ => {}
    }
    Ok(())
}

/// `PUT /v3/tasks/{id}/progress`: one subtask's progress and the task's figures; a round
/// whose every subtask is at 100 completes.
pub async fn report_progress(pool: &PgPool, domain: &DomainId, id: Uuid, report: &ProgressReport) -> StoreResult<()> {
    let mut tx = pool.begin().await?;
    let task = lock_task(&mut tx, domain, id).await?;
    if !matches!(task.state, TaskState::Running | TaskState::Syncing) {
        return Err(StoreError::NotRunning(task.state));
    }
    let now = now_ms();
    let updated = sqlx::query(
        "UPDATE subtasks SET progress = coalesce($4, progress), process_trace = $5,
                migrate_speed = coalesce($6, migrate_speed), start_date = coalesce(start_date, $7),
                end_date = CASE WHEN coalesce($4, progress) = 100 THEN coalesce(end_date, $7) ELSE end_date END
          WHERE domain_id = $1 AND task_id = $2 AND name = $3",
    )
    .bind(domain)
    .bind(task.id)
    .bind(&report.subtask_name)
    .bind(report.progress)
    .bind(&report.process_trace)
    .bind(report.migrate_speed)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if updated.rows_affected() == 0 {
        return Err(StoreError::NoSuchSubtask(report.subtask_name.to_string()));
    }
    sqlx::query(
        "UPDATE tasks SET migrate_speed = coalesce($3, migrate_speed), compress_rate = coalesce($4, compress_rate),
                remain_seconds = coalesce($5, remain_seconds), total_cpu_usage = coalesce($6, total_cpu_usage),
                agent_cpu_usage = coalesce($7, agent_cpu_usage), total_mem_usage = coalesce($8, total_mem_usage),
                agent_mem_usage = coalesce($9, agent_mem_usage), total_disk_io = coalesce($10, total_disk_io),
                agent_disk_io = coalesce($11, agent_disk_io),
                need_migration_test = coalesce($12, need_migration_test)
          WHERE domain_id = $1 AND id = $2",
    )
    .bind(domain)
    .bind(task.id)
    .bind(report.migrate_speed)
    .bind(report.compress_rate)
    .bind(report.remain_time)
    .bind(report.total_cpu_usage)
    .bind(report.agent_cpu_usage)
    .bind(report.total_mem_usage)
    .bind(report.agent_mem_usage)
    .bind(report.total_disk_io)
    .bind(report.agent_disk_io)
    .bind(report.need_migration_test)
    .execute(&mut *tx)
    .await?;
    let done: bool =
        sqlx::query_scalar("SELECT bool_and(progress = 100) FROM subtasks WHERE domain_id = $1 AND task_id = $2")
            .bind(domain)
            .bind(task.id)
            .fetch_one(&mut *tx)
            .await?;
    if done {
        complete(&mut tx, domain, &task, now).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// A round whose subtasks are all at 100: a migration succeeds, or (for a syncing task) goes
/// on syncing with a first sync round queued; a sync round succeeds.
async fn complete(conn: &mut PgConnection, domain: &DomainId, task: &LockedTask, now: i64) -> sqlx::Result<()> {
    let Some((state, source)) = completion(task.state, task.syncing) else {
        return Ok(());
    };
    sqlx::query(
        "UPDATE tasks SET state = $3,
                finish_date = CASE WHEN $3 = 'MIGRATE_SUCCESS' THEN $4 ELSE finish_date END
          WHERE domain_id = $1 AND id = $2",
    )
    .bind(domain)
    .bind(task.id)
    .bind(state)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    change_source(conn, domain, task.source_server_id, source).await?;
    if task.state == TaskState::Running && state == TaskState::Syncing {
        start_sync_round(conn, domain, task).await?;
        enqueue(conn, domain, task, CommandName::Sync, None).await?;
    }
    Ok(())
}

/// Deletes tasks of the domain and everything below them, all or none: an unknown id or a
/// busy task (running while its source is connected) leaves every task in place. Their
/// sources are free for new tasks (`waiting`).
pub async fn delete_tasks(pool: &PgPool, domain: &DomainId, ids: &[Uuid]) -> StoreResult<()> {
    let mut tx = pool.begin().await?;
    let found: Vec<(Uuid, TaskState, bool, Uuid)> = sqlx::query_as(
        "SELECT t.id, t.state, s.connected, t.source_server_id
           FROM tasks t JOIN servers s ON s.domain_id = t.domain_id AND s.id = t.source_server_id
          WHERE t.domain_id = $1 AND t.id = ANY($2)
          ORDER BY t.id
            FOR UPDATE OF t",
    )
    .bind(domain)
    .bind(ids)
    .fetch_all(&mut *tx)
    .await?;
    if let Some(missing) = ids.iter().find(|id| !found.iter().any(|t| t.0 == **id)) {
        return Err(StoreError::NoSuchTask(*missing));
    }
    if let Some(busy) = found.iter().find(|(_, state, connected, _)| *connected && is_busy(*state)) {
        return Err(StoreError::TaskBusy(busy.0));
    }
    sqlx::query("DELETE FROM tasks WHERE domain_id = $1 AND id = ANY($2)")
        .bind(domain)
        .bind(ids)
        .execute(&mut *tx)
        .await?;
    let sources: Vec<Uuid> = found.iter().map(|t| t.3).collect();
    sqlx::query("UPDATE servers SET state = 'waiting' WHERE domain_id = $1 AND id = ANY($2)")
        .bind(domain)
        .bind(&sources)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Deletes source servers of the domain with their trees, tasks and queued commands, all or
/// none, under the rule of [`delete_tasks`] for their tasks.
pub async fn delete_sources(pool: &PgPool, domain: &DomainId, ids: &[Uuid]) -> StoreResult<()> {
    let mut tx = pool.begin().await?;
    let tasks: Vec<(Uuid, TaskState, Uuid)> = sqlx::query_as(
        "SELECT id, state, source_server_id FROM tasks WHERE domain_id = $1 AND source_server_id = ANY($2)
          ORDER BY id FOR UPDATE",
    )
    .bind(domain)
    .bind(ids)
    .fetch_all(&mut *tx)
    .await?;
    let sources: Vec<(Uuid, bool)> = sqlx::query_as(
        "SELECT id, connected FROM servers WHERE domain_id = $1 AND role = 'source' AND id = ANY($2)
          ORDER BY id FOR UPDATE",
    )
    .bind(domain)
    .bind(ids)
    .fetch_all(&mut *tx)
    .await?;
    if let Some(missing) = ids.iter().find(|id| !sources.iter().any(|s| s.0 == **id)) {
        return Err(StoreError::NoSuchSourceServer(*missing));
    }
    let connected = |source: Uuid| sources.iter().any(|s| s.0 == source && s.1);
    if let Some(busy) = tasks.iter().find(|(_, state, source)| is_busy(*state) && connected(*source)) {
        return Err(StoreError::TaskBusy(busy.0));
    }
    // Cascades to the trees, the tasks (and their target servers) and the queued commands.
    sqlx::query("DELETE FROM servers WHERE domain_id = $1 AND role = 'source' AND id = ANY($2)")
        .bind(domain)
        .bind(ids)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}
