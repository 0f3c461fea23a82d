//! The task aggregate: a task, its target server tree, subtasks, special configs, clone
//! server and network check.

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::{insert_rows, servers, Table};
use crate::auth::DomainId;
use crate::error::ApiError;
use crate::model::now_ms;
use crate::model::server::{ServerRow, SourceBriefView};
use crate::model::task::{CreateTask, TaskRecord, TaskRow};
use crate::model::tree::TreeRows;

/// Creates a task and its whole tree in one transaction. `source_id` comes from the validated
/// body. Nothing is left behind when any statement fails.
pub async fn create(
    pool: &PgPool,
    domain: &DomainId,
    body: &CreateTask,
    source_id: Uuid,
) -> Result<Uuid, ApiError> {
    let mut tx = pool.begin().await?;
    // Lock the source row: a concurrent create for the same source waits here, then meets
    // the unique index on tasks.source_server_id.
    let connected: Option<bool> =
        sqlx::query_scalar("SELECT connected FROM servers WHERE domain_id = $1 AND id = $2 AND role = 'source' FOR UPDATE")
            .bind(domain.as_str())
            .bind(source_id)
            .fetch_optional(&mut *tx)
            .await?;
    match connected {
        None => return Err(ApiError::SourceServerMissing),
        Some(false) => return Err(ApiError::SourceServerNotConnected),
        Some(true) => {}
    }
    let now = now_ms();
    let task = TaskRow::new(body, Uuid::new_v4(), domain.as_str(), source_id, now);
    insert_rows(&mut tx, Table::Tasks, std::slice::from_ref(&task))
        .await
        .map_err(|err| match &err {
            sqlx::Error::Database(db) if db.constraint() == Some("tasks_source_server_id_key") => {
                ApiError::SourceServerHasTask
            }
            _ => err.into(),
        })?;
    let target_input = body
        .target_server
        .as_ref()
        .expect("validated: target_server is mandatory");
    let target = ServerRow::new(
        target_input,
        Uuid::new_v4(),
        domain.as_str(),
        Some(task.id),
        now,
    );
    servers::insert(&mut tx, domain, &target, target_input).await?;
    tx.commit().await?;
    Ok(task.id)
}

/// A task with its whole tree, in a fixed number of queries whatever the tree's size.
pub async fn find(
    conn: &mut PgConnection,
    domain: &DomainId,
    id: Uuid,
) -> Result<Option<TaskRecord>, ApiError> {
    let Some(task) =
        sqlx::query_as::<_, TaskRow>("SELECT * FROM tasks WHERE domain_id = $1 AND id = $2")
            .bind(domain.as_str())
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?
    else {
        return Ok(None);
    };
    let source = sqlx::query_as::<_, SourceBriefView>(
        "SELECT id, ip, name, os_type, os_version, oem_system, state, migration_cycle
         FROM servers WHERE domain_id = $1 AND id = $2",
    )
    .bind(domain.as_str())
    .bind(task.source_server_id)
    .fetch_optional(&mut *conn)
    .await?;
    let target = sqlx::query_as::<_, ServerRow>(
        "SELECT * FROM servers WHERE domain_id = $1 AND task_id = $2",
    )
    .bind(domain.as_str())
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    let target_tree = match &target {
        Some(server) => servers::load_trees(conn, domain, &[server.id]).await?,
        None => TreeRows::default(),
    };
    let clone_server = sqlx::query_as(
        "SELECT vm_id, name, clone_error, clone_state, error_msg FROM task_clone_servers WHERE domain_id = $1 AND task_id = $2",
    )
    .bind(domain.as_str())
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    let network_check =
        sqlx::query_as("SELECT * FROM task_network_checks WHERE domain_id = $1 AND task_id = $2")
            .bind(domain.as_str())
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
    let subtasks = sqlx::query_as(
        "SELECT * FROM subtasks WHERE domain_id = $1 AND task_id = $2 ORDER BY position",
    )
    .bind(domain.as_str())
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(Some(TaskRecord {
        task,
        source,
        target,
        target_tree,
        clone_server,
        network_check,
        subtasks,
    }))
}
