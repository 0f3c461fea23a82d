//! The task aggregate: a task, its target server tree, subtasks, special configs, clone
//! server and network check.

use std::sync::LazyLock;

use sqlx::types::Json;
use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder};
use uuid::Uuid;

use super::{allocate_ids, escape_like, servers, Assignments, RowSet, StoreError, StoreResult, Table};
use crate::model::enums::TaskState;
use crate::model::new_task::{NewTask, SourceServerId};
use crate::model::now_ms;
use crate::model::server::{ServerRow, SourceBriefView};
use crate::model::task::{CloneServer, NetworkCheck, SubtaskRow, TaskRecord, TaskRow, TaskTargetRow};
use crate::model::task_list::TaskPage;
use crate::model::task_patch::{SubtaskInput, TaskPatch};
use crate::model::tree::IdAssigner;
use crate::model::DomainId;

/// Creates a task and its whole tree in one transaction. Nothing is left behind when any
/// statement fails.
pub async fn create(pool: &PgPool, domain: &DomainId, body: &NewTask) -> StoreResult<Uuid> {
    let SourceServerId::Id(source_id) = body.source_server.id else {
        return Err(StoreError::NoSuchSource);
    };
    let mut tx = pool.begin().await?;
    // Lock the source row: a concurrent create for the same source waits here, then meets
    // the unique index on tasks.source_server_id.
    let connected: Option<bool> = sqlx::query_scalar(
        "SELECT connected FROM servers WHERE domain_id = $1 AND id = $2 AND role = 'source' FOR UPDATE",
    )
    .bind(domain)
    .bind(source_id)
    .fetch_optional(&mut *tx)
    .await?;
    match connected {
        None => return Err(StoreError::NoSuchSource),
        Some(false) => return Err(StoreError::SourceNotConnected),
        Some(true) => {}
    }
    let now = now_ms();
    // Time-ordered ids (UUID v7, `api-decisions.md` Ids): a create appends to the right edge of
    // every index keyed by a task or server id instead of dirtying a random leaf of each.
    let task = TaskRow::new(body, Uuid::now_v7(), domain, source_id, now);
    insert_task(&mut tx, &task).await.map_err(|err| match &err {
        sqlx::Error::Database(db) if db.constraint() == Some("tasks_source_server_id_key") => StoreError::SourceHasTask,
        _ => err.into(),
    })?;
    let target = ServerRow::target(&body.target_server, Uuid::now_v7(), domain, task.id, now);
    servers::insert(&mut tx, &target, &body.target_server.tree()).await?;
    tx.commit().await?;
    Ok(task.id)
}

async fn insert_task(conn: &mut PgConnection, task: &TaskRow) -> sqlx::Result<()> {
    let mut set = RowSet::new(Table::Tasks, 1);
    set.attributes(&[task]);
    set.insert(conn).await
}

/// `GET /v3/tasks/{id}`'s statement: the task, its 1:1 parts and subtasks (as JSON of their
/// rows) and its target server's tree ([`servers::tree_columns`]), in one round trip. The
/// target server is a lateral join on its unique `task_id`, so the tree's subqueries probe by
/// its id; every subquery binds the task's domain. `docs/performance.md` has its plan.
static SHOW_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT row_to_json(t) AS task,
                (SELECT row_to_json(s) FROM (SELECT id, ip, name, os_type, os_version, oem_system, state, migration_cycle
                                          FROM servers WHERE domain_id = t.domain_id AND id = t.source_server_id) s) AS source,
                row_to_json(ts) AS target,
                (SELECT row_to_json(c) FROM task_clone_servers c WHERE c.domain_id = t.domain_id AND c.task_id = t.id)
                  AS clone_server,
                (SELECT row_to_json(n) FROM task_network_checks n WHERE n.domain_id = t.domain_id AND n.task_id = t.id)
                  AS network_check,
                (SELECT coalesce(json_agg(st ORDER BY st.position), '[]'::json) FROM subtasks st
                  WHERE st.domain_id = t.domain_id AND st.task_id = t.id) AS subtasks,
                {tree}
           FROM tasks t
           LEFT JOIN LATERAL (SELECT id, vm_id, name, ip, os_type, os_version, system_dir, image_disk_id,
                                     cutovered_snapshot_ids
                                FROM servers WHERE domain_id = t.domain_id AND task_id = t.id) ts ON true
          WHERE t.domain_id = $1 AND t.id = $2",
        tree = servers::tree_columns("t.domain_id", "= ts.id"),
    )
});

/// A row of [`SHOW_SQL`].
#[derive(sqlx::FromRow)]
struct ShowRow {
    task: Json<TaskRow>,
    source: Option<Json<SourceBriefView>>,
    target: Option<Json<TaskTargetRow>>,
    clone_server: Option<Json<CloneServer>>,
    network_check: Option<Json<NetworkCheck>>,
    subtasks: Json<Vec<SubtaskRow>>,
    #[sqlx(flatten)]
    tree: servers::TreeJson,
}

/// A task with its whole tree in one statement, whatever the tree's size.
pub async fn find(conn: &mut PgConnection, domain: &DomainId, id: Uuid) -> StoreResult<Option<TaskRecord>> {
    let row: Option<ShowRow> = sqlx::query_as(&SHOW_SQL).bind(domain).bind(id).fetch_optional(conn).await?;
    Ok(row.map(|row| TaskRecord {
        task: row.task.0,
        source: row.source.map(|s| s.0),
        target: row.target.map(|t| t.0),
        target_tree: row.tree.into(),
        clone_server: row.clone_server.map(|c| c.0),
        network_check: row.network_check.map(|n| n.0),
        subtasks: row.subtasks.0,
    }))
}

/// Filters of `GET /v3/tasks`; `None` matches everything.
#[derive(Debug, Default, Clone)]
pub struct TaskFilter {
    pub state: Option<TaskState>,
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
        if let Some(state) = self.state {
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
        if let Some(state) = filter.state {
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
        return Ok(TaskPage { tasks, ..TaskPage::default() });
    }
    let subtasks =
        sqlx::query_as("SELECT * FROM subtasks WHERE domain_id = $1 AND task_id = ANY($2) ORDER BY task_id, position")
            .bind(d)
            .bind(&ids)
            .fetch_all(&mut *conn)
            .await?;
    let special_configs = sqlx::query_as(
        "SELECT task_id, config_key, config_value, config_status FROM special_configs
          WHERE domain_id = $1 AND task_id = ANY($2) ORDER BY task_id, position",
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

/// Applies a parsed partial update in one transaction. The task row is locked first, so
/// concurrent updates of one task apply one after the other, each whole.
pub async fn update(pool: &PgPool, domain: &DomainId, id: Uuid, patch: &TaskPatch) -> StoreResult<()> {
    let mut tx = pool.begin().await?;
    let source_id: Uuid =
        sqlx::query_scalar("SELECT source_server_id FROM tasks WHERE domain_id = $1 AND id = $2 FOR UPDATE")
            .bind(domain)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::TaskNotFound)?;
    let mut set = Assignments::new(Table::Tasks);
    set.value("name", &patch.name)
        .value("type", &patch.task_type)
        .patch("os_type", &patch.os_type)
        .value("priority", &patch.priority)
        .value("region_id", &patch.region_id)
        .value("start_target_server", &patch.start_target_server)
        .patch("enterprise_project_id", &patch.enterprise_project_id)
        .patch("exist_server", &patch.exist_server)
        .patch("migration_ip", &patch.migration_ip)
        .value("region_name", &patch.region_name)
        .value("speed_limit", &patch.speed_limit)
        .value("project_name", &patch.project_name)
        .value("project_id", &patch.project_id)
        .patch("vm_template_id", &patch.vm_template_id)
        .value("state", &patch.state)
        .patch("estimate_complete_time", &patch.estimate_complete_time)
        .value("connected", &patch.connected)
        .value("create_date", &patch.create_date)
        .patch("start_date", &patch.start_date)
        .patch("finish_date", &patch.finish_date)
        .patch("migrate_speed", &patch.migrate_speed)
        .patch("error_json", &patch.error_json)
        .patch("total_time", &patch.total_time)
        .patch("float_ip", &patch.float_ip)
        .patch("remain_seconds", &patch.remain_seconds)
        .patch("target_snapshot_id", &patch.target_snapshot_id)
        .value("use_ipv6", &patch.use_ipv6)
        .value("use_public_ip", &patch.use_public_ip)
        .patch("target_disk_ids", &patch.target_disk_ids);
    set.execute(&mut tx, domain, id).await?;

    match patch.clone_server.change() {
        None => {}
        Some(None) => {
            sqlx::query("DELETE FROM task_clone_servers WHERE domain_id = $1 AND task_id = $2")
                .bind(domain)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        Some(Some(clone)) => {
            sqlx::query(
                "INSERT INTO task_clone_servers (task_id, domain_id, vm_id, name, clone_error, clone_state, error_msg)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (task_id) DO UPDATE SET vm_id = EXCLUDED.vm_id, name = EXCLUDED.name,
                     clone_error = EXCLUDED.clone_error, clone_state = EXCLUDED.clone_state, error_msg = EXCLUDED.error_msg
                 WHERE task_clone_servers.domain_id = EXCLUDED.domain_id",
            )
            .bind(id)
            .bind(domain)
            .bind(&clone.vm_id)
            .bind(&clone.name)
            .bind(&clone.clone_error)
            .bind(&clone.clone_state)
            .bind(&clone.error_msg)
            .execute(&mut *tx)
            .await?;
        }
    }

    if let Some(subtasks) = patch.subtasks() {
        replace_subtasks(&mut tx, domain, id, subtasks).await?;
    }
    if let Some(source) = &patch.source_server {
        servers::update(&mut tx, domain, source_id, source).await?;
    }

    let target_id: Option<Uuid> = sqlx::query_scalar("SELECT id FROM servers WHERE domain_id = $1 AND task_id = $2")
        .bind(domain)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
    if let Some(target_id) = target_id {
        if let Some(target) = &patch.target_server {
            servers::update(&mut tx, domain, target_id, target).await?;
        }
        // The SDK's PutTaskReq carries these target-server attributes at the top level.
        let mut set = Assignments::new(Table::Servers);
        set.patch("image_disk_id", &patch.image_disk_id)
            .patch("snapshot_ids", &patch.snapshot_ids)
            .patch("cutovered_snapshot_ids", &patch.cutovered_snapshot_ids);
        set.execute(&mut tx, domain, target_id).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Replaces a task's subtasks, keeping the ids of those that name an existing subtask.
async fn replace_subtasks(
    conn: &mut PgConnection,
    domain: &DomainId,
    task_id: Uuid,
    subtasks: &[SubtaskInput],
) -> sqlx::Result<()> {
    let existing: Vec<(i64, String)> =
        sqlx::query_as("SELECT id, task_id::text FROM subtasks WHERE domain_id = $1 AND task_id = $2")
            .bind(domain)
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
            id: ids.assign(s.members.id.map(|id| id.get()), &parent),
            domain_id: domain.clone(),
            task_id,
            position: position as i32,
            attrs: s.attrs.clone(),
        })
        .collect();
    let kept: Vec<i64> = rows.iter().map(|r| r.id).collect();
    sqlx::query("DELETE FROM subtasks WHERE domain_id = $1 AND task_id = $2 AND id <> ALL($3)")
        .bind(domain)
        .bind(task_id)
        .bind(&kept)
        .execute(&mut *conn)
        .await?;
    let mut set = RowSet::new(Table::Subtasks, rows.len());
    set.column("id", kept)
        .column("domain_id", rows.iter().map(|r| &r.domain_id).collect::<Vec<_>>())
        .column("task_id", rows.iter().map(|r| r.task_id).collect::<Vec<_>>())
        .column("position", rows.iter().map(|r| r.position).collect::<Vec<_>>())
        .attributes(&rows.iter().map(|r| &r.attrs).collect::<Vec<_>>());
    set.upsert(conn).await
}
