//! The task aggregate: a task, its target server tree, subtasks, special configs, clone
//! server and network check.

use sqlx::types::Json;
use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder};
use uuid::Uuid;

use super::{allocate_ids, escape_like, insert_rows, servers, update_columns, upsert_rows, Column, Table};
use crate::auth::DomainId;
use crate::error::ApiError;
use crate::model::now_ms;
use crate::model::server::{ServerRow, SourceBriefView};
use crate::model::task::{CloneServerView, CreateTask, NetworkCheckView, SubtaskRow, TaskPage, TaskRecord, TaskRow};
use crate::model::tree::IdAssigner;
use crate::model::tree::TreeRows;
use crate::model::update::{Presence, SubtaskInput, TaskUpdate};

/// Creates a task and its whole tree in one transaction. `source_id` comes from the validated
/// body. Nothing is left behind when any statement fails.
pub async fn create(pool: &PgPool, domain: &DomainId, body: &CreateTask, source_id: Uuid) -> Result<Uuid, ApiError> {
    let mut tx = pool.begin().await?;
    // Lock the source row: a concurrent create for the same source waits here, then meets
    // the unique index on tasks.source_server_id.
    let connected: Option<bool> = sqlx::query_scalar(
        "SELECT connected FROM servers WHERE domain_id = $1 AND id = $2 AND role = 'source' FOR UPDATE",
    )
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
    insert_rows(&mut tx, Table::Tasks, std::slice::from_ref(&task)).await.map_err(|err| match &err {
        sqlx::Error::Database(db) if db.constraint() == Some("tasks_source_server_id_key") => {
            ApiError::SourceServerHasTask
        }
        _ => err.into(),
    })?;
    let target_input = body.target_server.as_ref().expect("validated: target_server is mandatory");
    let target = ServerRow::new(target_input, Uuid::new_v4(), domain.as_str(), Some(task.id), now);
    servers::insert(&mut tx, domain, &target, target_input).await?;
    tx.commit().await?;
    Ok(task.id)
}

/// A task with its whole tree in two statements, whatever the tree's size: the task with its
/// 1:1 parts and subtasks (as JSON of their rows), then its target server's tree.
pub async fn find(conn: &mut PgConnection, domain: &DomainId, id: Uuid) -> Result<Option<TaskRecord>, ApiError> {
    type Part<T> = Option<Json<T>>;
    #[allow(clippy::type_complexity)]
    let row: Option<(
        Json<TaskRow>,
        Part<SourceBriefView>,
        Part<ServerRow>,
        Part<CloneServerView>,
        Part<NetworkCheckView>,
        Json<Vec<SubtaskRow>>,
    )> = sqlx::query_as(
        "SELECT row_to_json(t),
                (SELECT row_to_json(s) FROM (SELECT id, ip, name, os_type, os_version, oem_system, state, migration_cycle
                                          FROM servers WHERE domain_id = t.domain_id AND id = t.source_server_id) s),
                (SELECT row_to_json(ts) FROM servers ts WHERE ts.domain_id = t.domain_id AND ts.task_id = t.id),
                (SELECT row_to_json(c) FROM task_clone_servers c WHERE c.domain_id = t.domain_id AND c.task_id = t.id),
                (SELECT row_to_json(n) FROM task_network_checks n WHERE n.domain_id = t.domain_id AND n.task_id = t.id),
                (SELECT coalesce(json_agg(st ORDER BY st.position), '[]'::json) FROM subtasks st
                  WHERE st.domain_id = t.domain_id AND st.task_id = t.id)
             FROM tasks t WHERE t.domain_id = $1 AND t.id = $2",
    )
    .bind(domain.as_str())
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((task, source, target, clone_server, network_check, subtasks)) = row else {
        return Ok(None);
    };
    let target = target.map(|t| t.0);
    let target_tree = match &target {
        Some(server) => servers::load_trees(conn, domain, &[server.id]).await?,
        None => TreeRows::default(),
    };
    Ok(Some(TaskRecord {
        task: task.0,
        source: source.map(|s| s.0),
        target,
        target_tree,
        clone_server: clone_server.map(|c| c.0),
        network_check: network_check.map(|n| n.0),
        subtasks: subtasks.0,
    }))
}

/// Filters of `GET /v3/tasks`; `None` matches everything.
#[derive(Debug, Default, Clone)]
pub struct TaskFilter {
    pub state: Option<String>,
    /// Case-insensitive substring; `%` and `_` match themselves.
    pub name: Option<String>,
    pub id: Option<Uuid>,
    pub source_server_id: Option<Uuid>,
    pub enterprise_project_id: Option<String>,
}

impl TaskFilter {
    /// Appends ` AND …` for each filter present. Only the filters present appear in the SQL,
    /// so each combination is its own prepared statement with its own index plan.
    fn push_conditions<'a>(&'a self, sql: &mut QueryBuilder<'a, Postgres>, domain: &'a DomainId) {
        sql.push(" WHERE domain_id = ").push_bind(domain.as_str());
        if let Some(state) = &self.state {
            sql.push(" AND state = ").push_bind(state);
        }
        if let Some(name) = &self.name {
            sql.push(" AND name ILIKE ").push_bind(format!("%{}%", escape_like(name)));
        }
        if let Some(id) = self.id {
            sql.push(" AND id = ").push_bind(id);
        }
        if let Some(source) = self.source_server_id {
            sql.push(" AND source_server_id = ").push_bind(source);
        }
        if let Some(project) = &self.enterprise_project_id {
            sql.push(" AND enterprise_project_id = ").push_bind(project);
        }
    }
}

/// The number of the domain's tasks that match `filter`, exactly.
///
/// With no filter, `state`, `enterprise_project_id` or both, it sums the counters kept by the
/// `task_counts` triggers (no scan of the matching rows); `id` and `source_server_id` match at
/// most one row through their indexes; `name` counts its matches through the trigram index.
pub async fn count(conn: &mut PgConnection, domain: &DomainId, filter: &TaskFilter) -> sqlx::Result<i64> {
    let by_counters = filter.name.is_none()
        && filter.id.is_none()
        && filter.source_server_id.is_none()
        // '' is the counters' "no enterprise project"; as a filter it matches no task.
        && filter.enterprise_project_id.as_deref() != Some("");
    if by_counters {
        let mut sql = QueryBuilder::new("SELECT coalesce(sum(n), 0)::bigint FROM task_counts WHERE domain_id = ");
        sql.push_bind(domain.as_str());
        if let Some(state) = &filter.state {
            sql.push(" AND state = ").push_bind(state);
        }
        if let Some(project) = &filter.enterprise_project_id {
            sql.push(" AND enterprise_project_id = ").push_bind(project);
        }
        return sql.build_query_scalar().fetch_one(conn).await;
    }
    let mut sql = QueryBuilder::new("SELECT count(*) FROM tasks");
    filter.push_conditions(&mut sql, domain);
    sql.build_query_scalar().fetch_one(conn).await
}

/// From this offset on, a page is read with a deferred join. Below it, reading the rows along
/// the index costs less than a primary-key lookup per row of the page (see docs/list-plans.md).
const DEFERRED_JOIN_FROM_OFFSET: i64 = 2_000;

/// The query of a page's task rows, in list order.
fn page_query<'a>(domain: &'a DomainId, filter: &'a TaskFilter, limit: i64, offset: i64) -> QueryBuilder<'a, Postgres> {
    let mut sql;
    if offset < DEFERRED_JOIN_FROM_OFFSET {
        sql = QueryBuilder::new("SELECT * FROM tasks");
        filter.push_conditions(&mut sql, domain);
        sql.push(" ORDER BY create_date DESC, id DESC LIMIT ").push_bind(limit).push(" OFFSET ").push_bind(offset);
    } else {
        // Deep pages: the page's ids come from the filter's index alone (an index-only scan
        // skips `offset` index entries, not table rows); only the page's rows are then read.
        sql = QueryBuilder::new("SELECT t.* FROM (SELECT id, create_date FROM tasks");
        filter.push_conditions(&mut sql, domain);
        sql.push(" ORDER BY create_date DESC, id DESC LIMIT ").push_bind(limit).push(" OFFSET ").push_bind(offset);
        sql.push(") page JOIN tasks t ON t.id = page.id ORDER BY page.create_date DESC, page.id DESC");
    }
    sql
}

/// One page of the domain's tasks matching `filter`, newest first (`create_date`, then `id`,
/// descending), with their children: one query per table for the whole page.
pub async fn page(
    conn: &mut PgConnection,
    domain: &DomainId,
    filter: &TaskFilter,
    limit: i64,
    offset: i64,
) -> sqlx::Result<TaskPage> {
    let mut sql = page_query(domain, filter, limit, offset);
    let tasks: Vec<TaskRow> = sql.build_query_as().fetch_all(&mut *conn).await?;
    let ids: Vec<Uuid> = tasks.iter().map(|t| t.id).collect();
    let source_ids: Vec<Uuid> = tasks.iter().map(|t| t.source_server_id).collect();
    let d = domain.as_str();
    if ids.is_empty() {
        return Ok(TaskPage {
            tasks,
            subtasks: vec![],
            special_configs: vec![],
            sources: vec![],
            targets: vec![],
            clone_servers: vec![],
            network_checks: vec![],
        });
    }
    let subtasks =
        sqlx::query_as("SELECT * FROM subtasks WHERE domain_id = $1 AND task_id = ANY($2) ORDER BY task_id, position")
            .bind(d)
            .bind(&ids)
            .fetch_all(&mut *conn)
            .await?;
    let special_configs = sqlx::query_as(
        "SELECT * FROM special_configs WHERE domain_id = $1 AND task_id = ANY($2) ORDER BY task_id, position",
    )
    .bind(d)
    .bind(&ids)
    .fetch_all(&mut *conn)
    .await?;
    let sources = sqlx::query_as(
        "SELECT id, ip, name, os_type, os_version, oem_system, state FROM servers WHERE domain_id = $1 AND id = ANY($2)",
    )
    .bind(d)
    .bind(&source_ids)
    .fetch_all(&mut *conn)
    .await?;
    let targets = sqlx::query_as(
        "SELECT id, task_id, vm_id, name, ip, os_type, os_version FROM servers WHERE domain_id = $1 AND task_id = ANY($2)",
    )
    .bind(d)
    .bind(&ids)
    .fetch_all(&mut *conn)
    .await?;
    let clone_servers = sqlx::query_as(
        "SELECT task_id, vm_id, name FROM task_clone_servers WHERE domain_id = $1 AND task_id = ANY($2)",
    )
    .bind(d)
    .bind(&ids)
    .fetch_all(&mut *conn)
    .await?;
    let network_checks = sqlx::query_as("SELECT * FROM task_network_checks WHERE domain_id = $1 AND task_id = ANY($2)")
        .bind(d)
        .bind(&ids)
        .fetch_all(&mut *conn)
        .await?;
    Ok(TaskPage { tasks, subtasks, special_configs, sources, targets, clone_servers, network_checks })
}

/// Applies a validated partial update in one transaction. The task row is locked first, so
/// concurrent updates of one task apply one after the other, each whole.
pub async fn update(pool: &PgPool, domain: &DomainId, id: Uuid, update: &TaskUpdate) -> Result<(), ApiError> {
    let mut tx = pool.begin().await?;
    let source_id: Uuid =
        sqlx::query_scalar("SELECT source_server_id FROM tasks WHERE domain_id = $1 AND id = $2 FOR UPDATE")
            .bind(domain.as_str())
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(ApiError::TaskNotFound)?;
    update_columns(&mut tx, Table::Tasks, domain, ("id", id), &task_columns(update)).await?;

    match update.presence("clone_server") {
        Presence::Absent => {}
        Presence::Null => {
            sqlx::query("DELETE FROM task_clone_servers WHERE domain_id = $1 AND task_id = $2")
                .bind(domain.as_str())
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        Presence::Value => {
            let clone = update.fields.clone_server.as_ref().expect("present");
            sqlx::query(
                "INSERT INTO task_clone_servers (task_id, domain_id, vm_id, name, clone_error, clone_state, error_msg)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (task_id) DO UPDATE SET vm_id = EXCLUDED.vm_id, name = EXCLUDED.name,
                     clone_error = EXCLUDED.clone_error, clone_state = EXCLUDED.clone_state, error_msg = EXCLUDED.error_msg",
            )
            .bind(id)
            .bind(domain.as_str())
            .bind(&clone.vm_id)
            .bind(&clone.name)
            .bind(&clone.clone_error)
            .bind(&clone.clone_state)
            .bind(&clone.error_msg)
            .execute(&mut *tx)
            .await?;
        }
    }

    if update.presence("sub_tasks") != Presence::Absent {
        replace_subtasks(&mut tx, domain, id, update.fields.sub_tasks.as_deref().unwrap_or_default()).await?;
    }

    if let (Some(keys), Some(source)) = (update.object("source_server"), &update.fields.source_server) {
        servers::update(&mut tx, domain, source_id, keys, source).await?;
    }

    let target_id: Option<Uuid> = sqlx::query_scalar("SELECT id FROM servers WHERE domain_id = $1 AND task_id = $2")
        .bind(domain.as_str())
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
    if let Some(target_id) = target_id {
        if let (Some(keys), Some(target)) = (update.object("target_server"), &update.fields.target_server) {
            servers::update(&mut tx, domain, target_id, keys, target).await?;
        }
        // The SDK's PutTaskReq carries these target-server attributes at the top level.
        let f = &update.fields;
        let top_level: Vec<_> = [
            ("image_disk_id", Column::Text(f.image_disk_id.as_deref())),
            ("snapshot_ids", Column::Text(f.snapshot_ids.as_deref())),
            ("cutovered_snapshot_ids", Column::Text(f.cutovered_snapshot_ids.as_deref())),
        ]
        .into_iter()
        .filter(|(key, _)| update.presence(key) != Presence::Absent)
        .collect();
        update_columns(&mut tx, Table::Servers, domain, ("id", target_id), &top_level).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The task columns an update sets: those whose key the body carries.
fn task_columns(update: &TaskUpdate) -> Vec<(&'static str, Column<'_>)> {
    let f = &update.fields;
    let all: Vec<(&'static str, &'static str, Column<'_>)> = vec![
        ("name", "name", Column::Text(f.name.as_deref())),
        ("type", "type", Column::Text(f.task_type.as_deref())),
        ("os_type", "os_type", Column::Text(f.os_type.as_deref())),
        ("priority", "priority", Column::Int(f.priority)),
        ("region_id", "region_id", Column::Text(f.region_id.as_deref())),
        ("start_target_server", "start_target_server", Column::Bool(f.start_target_server)),
        ("exist_server", "exist_server", Column::Bool(f.exist_server)),
        ("migration_ip", "migration_ip", Column::Text(f.migration_ip.as_deref())),
        ("region_name", "region_name", Column::Text(f.region_name.as_deref())),
        ("speed_limit", "speed_limit", Column::Int(f.speed_limit)),
        ("project_name", "project_name", Column::Text(f.project_name.as_deref())),
        ("project_id", "project_id", Column::Text(f.project_id.as_deref())),
        ("vm_template_id", "vm_template_id", Column::Text(f.vm_template_id.as_deref())),
        ("state", "state", Column::Text(f.state.as_deref())),
        ("estimate_complete_time", "estimate_complete_time", Column::Long(f.estimate_complete_time)),
        ("connected", "connected", Column::Bool(f.connected)),
        ("create_date", "create_date", Column::Long(f.create_date)),
        ("start_date", "start_date", Column::Long(f.start_date)),
        ("finish_date", "finish_date", Column::Long(f.finish_date)),
        ("migrate_speed", "migrate_speed", Column::Float(f.migrate_speed)),
        ("error_json", "error_json", Column::Text(f.error_json.as_deref())),
        ("total_time", "total_time", Column::Long(f.total_time)),
        ("float_ip", "float_ip", Column::Text(f.float_ip.as_deref())),
        ("remain_seconds", "remain_seconds", Column::Long(f.remain_seconds)),
        ("target_snapshot_id", "target_snapshot_id", Column::Text(f.target_snapshot_id.as_deref())),
        ("use_ipv6", "use_ipv6", Column::Bool(f.use_ipv6)),
        ("use_public_ip", "use_public_ip", Column::Bool(f.use_public_ip)),
        ("target_disk_ids", "target_disk_ids", Column::Text(f.target_disk_ids.as_deref())),
    ];
    let mut columns: Vec<_> = all
        .into_iter()
        .filter(|(key, _, _)| update.presence(key) != Presence::Absent)
        .map(|(_, column, value)| (column, value))
        .collect();
    // `enterprise_project_id`, or the SDK's alias `enterprise_project` (the former wins).
    if update.presence("enterprise_project_id") != Presence::Absent {
        columns.push(("enterprise_project_id", Column::Text(f.enterprise_project_id.as_deref())));
    } else if update.presence("enterprise_project") != Presence::Absent {
        columns.push(("enterprise_project_id", Column::Text(f.enterprise_project.as_deref())));
    }
    columns
}

/// Replaces a task's subtasks, keeping the ids of those that name an existing subtask.
async fn replace_subtasks(
    conn: &mut PgConnection,
    domain: &DomainId,
    task_id: Uuid,
    subtasks: &[SubtaskInput],
) -> sqlx::Result<()> {
    let existing: Vec<(i64, String)> = sqlx::query_as("SELECT id, task_id::text FROM subtasks WHERE task_id = $1")
        .bind(task_id)
        .fetch_all(&mut *conn)
        .await?;
    let fresh = allocate_ids(conn, subtasks.len()).await?;
    let mut ids = IdAssigner::keeping(fresh, existing.into_iter().collect());
    let parent = task_id.to_string();
    let rows: Vec<SubtaskRow> = subtasks
        .iter()
        .enumerate()
        .map(|(position, s)| SubtaskRow {
            id: ids.assign(s.id, &parent),
            domain_id: domain.as_str().to_string(),
            task_id,
            position: position as i32,
            name: s.name.clone(),
            progress: s.progress.unwrap_or(0),
            start_date: s.start_date,
            end_date: s.end_date,
            migrate_speed: s.migrate_speed,
            user_op: s.user_op.clone(),
            process_trace: s.process_trace.clone(),
        })
        .collect();
    servers::delete_missing(conn, "subtasks", "task_id = $1", task_id, rows.iter().map(|r| r.id)).await?;
    upsert_rows(conn, Table::Subtasks, &rows).await
}
