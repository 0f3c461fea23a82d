//! The server aggregate: a server row and its tree (disks → physical volumes, volume groups →
//! logical volumes, Btrfs → subvolumes, networks).

use std::sync::LazyLock;

use sqlx::types::Json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{allocate_ids, escape_like, Assignments, RowSet, StoreResult, Table};
use crate::model::enums::{MigrationCycle, SourceState};
use crate::model::server::{ServerPatch, ServerRow};
use crate::model::source_ops::{MigrationErrorPage, MigrationErrorView, NodeSettings, SourceNodes};
use crate::model::task::TaskRow;
use crate::model::tree::rows::{
    BtrfsRow, DiskRow, LogicalVolumeRow, NetworkRow, PhysicalVolumeRow, SubvolumeRow, VolumeGroupRow,
};
use crate::model::tree::{IdAssigner, TreeInput, TreeRows};
use crate::model::values::Text255;
use crate::model::DomainId;

/// Inserts a server and its whole tree: one id allocation and one statement per table.
pub async fn insert(conn: &mut PgConnection, server: &ServerRow, tree: &TreeInput<'_>) -> sqlx::Result<()> {
    insert_server(conn, server).await?;
    let ids = allocate_ids(conn, tree.node_count()).await?;
    let rows = TreeRows::build(tree, &server.domain_id, server.id, &mut IdAssigner::fresh(ids));
    write_tree(conn, &rows, Write::Insert).await
}

async fn insert_server(conn: &mut PgConnection, server: &ServerRow) -> sqlx::Result<()> {
    let mut set = RowSet::new(Table::Servers, 1);
    set.column("id", vec![server.id])
        .column("domain_id", vec![&server.domain_id])
        .column("role", vec![server.role])
        .column("task_id", vec![server.task_id])
        .column("enterprise_project_id", vec![&server.enterprise_project_id])
        .column("connected", vec![server.connected])
        .column("add_date", vec![server.add_date])
        .attributes(&[&server.attrs]);
    set.insert(conn).await
}

#[derive(Clone, Copy)]
enum Write {
    Insert,
    Upsert,
}

/// The rows of one tree table: the keys of each row (`id`, `domain_id`, the parent column,
/// `position`), then the columns of its attributes.
macro_rules! tree_rows {
    ($table:expr, $rows:expr, $parent:ident) => {{
        let rows = &$rows;
        let mut set = RowSet::new($table, rows.len());
        set.column("id", rows.iter().map(|r| r.id).collect::<Vec<_>>())
            .column("domain_id", rows.iter().map(|r| &r.domain_id).collect::<Vec<_>>())
            .column(stringify!($parent), rows.iter().map(|r| r.$parent).collect::<Vec<_>>())
            .column("position", rows.iter().map(|r| r.position).collect::<Vec<_>>())
            .attributes(&rows.iter().map(|r| &r.attrs).collect::<Vec<_>>());
        set
    }};
}

async fn write(conn: &mut PgConnection, set: RowSet, how: Write) -> sqlx::Result<()> {
    match how {
        Write::Insert => set.insert(conn).await,
        Write::Upsert => set.upsert(conn).await,
    }
}

/// Writes every table of `rows`, parents before children.
async fn write_tree(conn: &mut PgConnection, rows: &TreeRows, how: Write) -> sqlx::Result<()> {
    write(conn, tree_rows!(Table::Disks, rows.disks, server_id), how).await?;
    write(conn, tree_rows!(Table::PhysicalVolumes, rows.physical_volumes, disk_row_id), how).await?;
    write(conn, tree_rows!(Table::VolumeGroups, rows.volume_groups, server_id), how).await?;
    write(conn, tree_rows!(Table::LogicalVolumes, rows.logical_volumes, volume_group_id), how).await?;
    write(conn, tree_rows!(Table::BtrfsFilesystems, rows.btrfs, server_id), how).await?;
    write(conn, tree_rows!(Table::BtrfsSubvolumes, rows.subvolumes, filesystem_id), how).await?;
    write(conn, tree_rows!(Table::Networks, rows.networks, server_id), how).await
}

/// The columns of [`TreeRows`] in a `SELECT` list: one scalar subquery per table, whose rows
/// come back as one JSON array (`json_agg` of the rows, so keys are the column names of the
/// row types), for the servers of `domain` that `server` matches. Both are SQL: `domain` the
/// tenant (`$1`, `t.domain_id`), `server` a condition on a server id (`= ANY($2)`, `= ts.id`).
/// Each subquery binds the domain, and is an index probe on its table's `(parent, position)`
/// key. Read them back with [`TreeJson`].
pub(crate) fn tree_columns(domain: &str, server: &str) -> String {
    format!(
        "(SELECT coalesce(json_agg(d ORDER BY d.server_id, d.position), '[]'::json) FROM disks d
           WHERE d.domain_id = {domain} AND d.server_id {server}) AS disks,
         (SELECT coalesce(json_agg(pv ORDER BY pv.disk_row_id, pv.position), '[]'::json)
            FROM physical_volumes pv JOIN disks d ON d.id = pv.disk_row_id
           WHERE d.domain_id = {domain} AND d.server_id {server}) AS physical_volumes,
         (SELECT coalesce(json_agg(g ORDER BY g.server_id, g.position), '[]'::json) FROM volume_groups g
           WHERE g.domain_id = {domain} AND g.server_id {server}) AS volume_groups,
         (SELECT coalesce(json_agg(lv ORDER BY lv.volume_group_id, lv.position), '[]'::json)
            FROM logical_volumes lv JOIN volume_groups g ON g.id = lv.volume_group_id
           WHERE g.domain_id = {domain} AND g.server_id {server}) AS logical_volumes,
         (SELECT coalesce(json_agg(f ORDER BY f.server_id, f.position), '[]'::json) FROM btrfs_filesystems f
           WHERE f.domain_id = {domain} AND f.server_id {server}) AS btrfs,
         (SELECT coalesce(json_agg(sv ORDER BY sv.filesystem_id, sv.position), '[]'::json)
            FROM btrfs_subvolumes sv JOIN btrfs_filesystems f ON f.id = sv.filesystem_id
           WHERE f.domain_id = {domain} AND f.server_id {server}) AS subvolumes,
         (SELECT coalesce(json_agg(n ORDER BY n.server_id, n.position), '[]'::json) FROM networks n
           WHERE n.domain_id = {domain} AND n.server_id {server}) AS networks"
    )
}

/// The columns of [`tree_columns`] as read: each table's rows as one JSON array.
#[derive(sqlx::FromRow)]
pub(crate) struct TreeJson {
    disks: Json<Vec<DiskRow>>,
    physical_volumes: Json<Vec<PhysicalVolumeRow>>,
    volume_groups: Json<Vec<VolumeGroupRow>>,
    logical_volumes: Json<Vec<LogicalVolumeRow>>,
    btrfs: Json<Vec<BtrfsRow>>,
    subvolumes: Json<Vec<SubvolumeRow>>,
    networks: Json<Vec<NetworkRow>>,
}

impl From<TreeJson> for TreeRows {
    fn from(tree: TreeJson) -> TreeRows {
        TreeRows {
            disks: tree.disks.0,
            physical_volumes: tree.physical_volumes.0,
            volume_groups: tree.volume_groups.0,
            logical_volumes: tree.logical_volumes.0,
            btrfs: tree.btrfs.0,
            subvolumes: tree.subvolumes.0,
            networks: tree.networks.0,
        }
    }
}

/// The trees of `server_ids` in one statement, whatever their number and size.
pub async fn load_trees(conn: &mut PgConnection, domain: &DomainId, server_ids: &[Uuid]) -> sqlx::Result<TreeRows> {
    static SQL: LazyLock<String> = LazyLock::new(|| format!("SELECT {}", tree_columns("$1", "= ANY($2)")));
    let tree: TreeJson = sqlx::query_as(&SQL).bind(domain).bind(server_ids).fetch_one(conn).await?;
    Ok(tree.into())
}

/// A source server of the domain, with its task if it has one.
pub async fn find_source(
    conn: &mut PgConnection,
    domain: &DomainId,
    id: Uuid,
) -> StoreResult<Option<(ServerRow, Option<TaskRow>)>> {
    let Some(server) =
        sqlx::query_as::<_, ServerRow>("SELECT * FROM servers WHERE domain_id = $1 AND id = $2 AND role = 'source'")
            .bind(domain)
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?
    else {
        return Ok(None);
    };
    let task = sqlx::query_as("SELECT * FROM tasks WHERE domain_id = $1 AND source_server_id = $2")
        .bind(domain)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(Some((server, task)))
}

/// Filters of `GET /v3/sources`; `None` matches everything.
#[derive(Debug, Default)]
pub struct SourceFilter {
    pub state: Option<SourceState>,
    pub name: Option<String>,
    pub id: Option<Uuid>,
    pub ip: Option<String>,
    pub connected: Option<bool>,
    pub enterprise_project_id: Option<String>,
    /// Migration projects (issue 10): the sources of one project.
    pub migproject: Option<Uuid>,
}

/// A page of the domain's source servers, newest first, and the count of all that match.
pub async fn list_sources(
    conn: &mut PgConnection,
    domain: &DomainId,
    filter: &SourceFilter,
    limit: i64,
    offset: i64,
) -> StoreResult<(i64, Vec<ServerRow>)> {
    const WHERE: &str = "domain_id = $1 AND role = 'source'
        AND ($2::text IS NULL OR state = $2)
        AND ($3::text IS NULL OR name ILIKE '%' || $3 || '%' ESCAPE '\\')
        AND ($4::uuid IS NULL OR id = $4)
        AND ($5::text IS NULL OR ip = $5)
        AND ($6::boolean IS NULL OR connected = $6)
        AND ($7::text IS NULL OR enterprise_project_id = $7)
        AND ($8::uuid IS NULL OR migproject_id = $8)";
    let name = filter.name.as_deref().map(escape_like);
    let count: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM servers WHERE {WHERE}"))
        .bind(domain)
        .bind(filter.state)
        .bind(&name)
        .bind(filter.id)
        .bind(&filter.ip)
        .bind(filter.connected)
        .bind(&filter.enterprise_project_id)
        .bind(filter.migproject)
        .fetch_one(&mut *conn)
        .await?;
    let rows = sqlx::query_as(&format!(
        "SELECT * FROM servers WHERE {WHERE} ORDER BY add_date DESC, id DESC LIMIT $9 OFFSET $10"
    ))
    .bind(domain)
    .bind(filter.state)
    .bind(&name)
    .bind(filter.id)
    .bind(&filter.ip)
    .bind(filter.connected)
    .bind(&filter.enterprise_project_id)
    .bind(filter.migproject)
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *conn)
    .await?;
    Ok((count, rows))
}

/// Replaces the collections present in `tree` (`None` leaves one as it is) below `server_id`:
/// elements naming an existing child's id keep it and are updated in place, others get new
/// ids, children not sent are deleted. Nested collections (a disk's physical volumes, …) are
/// replaced the same way when present in their element, and kept when absent.
pub async fn replace_tree(
    conn: &mut PgConnection,
    domain: &DomainId,
    server_id: Uuid,
    tree: &TreeInput<'_>,
) -> sqlx::Result<()> {
    if tree.disks.is_none() && tree.volume_groups.is_none() && tree.btrfs_list.is_none() && tree.networks.is_none() {
        return Ok(());
    }
    let existing: Vec<(i64, String)> = sqlx::query_as(
        "SELECT id, server_id::text FROM disks WHERE domain_id = $1 AND server_id = $2
         UNION ALL SELECT pv.id, pv.disk_row_id::text FROM physical_volumes pv JOIN disks d ON d.id = pv.disk_row_id
                    WHERE d.domain_id = $1 AND d.server_id = $2
         UNION ALL SELECT id, server_id::text FROM volume_groups WHERE domain_id = $1 AND server_id = $2
         UNION ALL SELECT lv.id, lv.volume_group_id::text FROM logical_volumes lv
                    JOIN volume_groups g ON g.id = lv.volume_group_id WHERE g.domain_id = $1 AND g.server_id = $2
         UNION ALL SELECT id, server_id::text FROM btrfs_filesystems WHERE domain_id = $1 AND server_id = $2
         UNION ALL SELECT id, server_id::text FROM networks WHERE domain_id = $1 AND server_id = $2",
    )
    .bind(domain)
    .bind(server_id)
    .fetch_all(&mut *conn)
    .await?;
    let fresh = allocate_ids(conn, tree.node_count()).await?;
    let mut ids = IdAssigner::keeping(fresh, existing.into_iter().collect());
    let rows = TreeRows::build(tree, domain, server_id, &mut ids);

    // Delete what the new collections no longer hold (cascading to their children).
    if let Some(disks) = tree.disks {
        delete_missing(conn, domain, Child::Disks, server_id, rows.disks.iter().map(|r| r.id)).await?;
        let replaced = sent_parents(disks, |d| d.members.physical_volumes.is_some(), rows.disks.iter().map(|r| r.id));
        delete_missing_below(
            conn,
            domain,
            Nested::PhysicalVolumes,
            &replaced,
            rows.physical_volumes.iter().map(|r| r.id),
        )
        .await?;
    }
    if let Some(groups) = tree.volume_groups {
        delete_missing(conn, domain, Child::VolumeGroups, server_id, rows.volume_groups.iter().map(|r| r.id)).await?;
        let replaced =
            sent_parents(groups, |g| g.members.logical_volumes.is_some(), rows.volume_groups.iter().map(|r| r.id));
        delete_missing_below(
            conn,
            domain,
            Nested::LogicalVolumes,
            &replaced,
            rows.logical_volumes.iter().map(|r| r.id),
        )
        .await?;
    }
    if let Some(list) = tree.btrfs_list {
        delete_missing(conn, domain, Child::BtrfsFilesystems, server_id, rows.btrfs.iter().map(|r| r.id)).await?;
        let replaced = sent_parents(list, |f| f.members.subvolumn.is_some(), rows.btrfs.iter().map(|r| r.id));
        // Subvolumes have no id of their own in the API: a sent list replaces them all.
        delete_missing_below(conn, domain, Nested::Subvolumes, &replaced, std::iter::empty()).await?;
    }
    if tree.networks.is_some() {
        delete_missing(conn, domain, Child::Networks, server_id, rows.networks.iter().map(|r| r.id)).await?;
    }
    write_tree(conn, &rows, Write::Upsert).await
}

/// The ids of the parents whose nested collection was sent.
fn sent_parents<T>(inputs: &[T], sent: impl Fn(&T) -> bool, ids: impl Iterator<Item = i64>) -> Vec<i64> {
    inputs.iter().zip(ids).filter(|(input, _)| sent(input)).map(|(_, id)| id).collect()
}

/// The collections directly below a server.
#[derive(Clone, Copy)]
enum Child {
    Disks,
    VolumeGroups,
    BtrfsFilesystems,
    Networks,
}

impl Child {
    fn table(self) -> Table {
        match self {
            Child::Disks => Table::Disks,
            Child::VolumeGroups => Table::VolumeGroups,
            Child::BtrfsFilesystems => Table::BtrfsFilesystems,
            Child::Networks => Table::Networks,
        }
    }
}

/// The collections below a server's children, with their parent column.
#[derive(Clone, Copy)]
enum Nested {
    PhysicalVolumes,
    LogicalVolumes,
    Subvolumes,
}

impl Nested {
    fn table_and_parent(self) -> (Table, &'static str) {
        match self {
            Nested::PhysicalVolumes => (Table::PhysicalVolumes, "disk_row_id"),
            Nested::LogicalVolumes => (Table::LogicalVolumes, "volume_group_id"),
            Nested::Subvolumes => (Table::BtrfsSubvolumes, "filesystem_id"),
        }
    }
}

/// Deletes the domain's rows of `child` under server `parent` whose ids are not in `kept`.
async fn delete_missing(
    conn: &mut PgConnection,
    domain: &DomainId,
    child: Child,
    parent: Uuid,
    kept: impl Iterator<Item = i64>,
) -> sqlx::Result<()> {
    let kept: Vec<i64> = kept.collect();
    let table = child.table().name();
    sqlx::query(&format!("DELETE FROM {table} WHERE domain_id = $1 AND server_id = $2 AND id <> ALL($3)"))
        .bind(domain)
        .bind(parent)
        .bind(&kept)
        .execute(conn)
        .await?;
    Ok(())
}

/// Deletes the domain's rows of `nested` below one of `parents` whose ids are not in `kept`.
async fn delete_missing_below(
    conn: &mut PgConnection,
    domain: &DomainId,
    nested: Nested,
    parents: &[i64],
    kept: impl Iterator<Item = i64>,
) -> sqlx::Result<()> {
    if parents.is_empty() {
        return Ok(());
    }
    let kept: Vec<i64> = kept.collect();
    let (table, parent) = nested.table_and_parent();
    sqlx::query(&format!("DELETE FROM {} WHERE domain_id = $1 AND {parent} = ANY($2) AND id <> ALL($3)", table.name()))
        .bind(domain)
        .bind(parents)
        .bind(&kept)
        .execute(conn)
        .await?;
    Ok(())
}

/// Applies a partial update of a server: the attributes present, and the collections present.
pub async fn update(
    conn: &mut PgConnection,
    domain: &DomainId,
    server_id: Uuid,
    patch: &ServerPatch,
) -> sqlx::Result<()> {
    let mut set = Assignments::new(Table::Servers);
    set.patch("ip", &patch.ip)
        .patch("ipv6", &patch.ipv6)
        .patch("name", &patch.name)
        .patch("hostname", &patch.hostname)
        .patch("os_type", &patch.os_type)
        .patch("os_version", &patch.os_version)
        .patch("virtualization_type", &patch.virtualization_type)
        .patch("linux_block_check", &patch.linux_block_check)
        .patch("firmware", &patch.firmware)
        .patch("cpu_quantity", &patch.cpu_quantity)
        .patch("memory", &patch.memory)
        .patch("reported_domain_id", &patch.domain_id)
        .patch("has_rsync", &patch.has_rsync)
        .patch("paravirtualization", &patch.paravirtualization)
        .patch("raw_devices", &patch.raw_devices)
        .patch("driver_files", &patch.driver_files)
        .patch("system_services", &patch.system_services)
        .patch("account_rights", &patch.account_rights)
        .patch("boot_loader", &patch.boot_loader)
        .patch("system_dir", &patch.system_dir)
        .patch("agent_version", &patch.agent_version)
        .patch("kernel_version", &patch.kernel_version)
        .patch("migration_cycle", &patch.migration_cycle)
        .patch("state", &patch.state)
        .patch("oem_system", &patch.oem_system)
        .patch("start_type", &patch.start_type)
        .patch("io_read_wait", &patch.io_read_wait)
        .patch("has_tc", &patch.has_tc)
        .patch("platform", &patch.platform)
        .patch("vm_id", &patch.vm_id)
        .patch("flavor", &patch.flavor)
        .patch("image_disk_id", &patch.image_disk_id)
        .patch("snapshot_ids", &patch.snapshot_ids)
        .patch("cutovered_snapshot_ids", &patch.cutovered_snapshot_ids);
    set.execute(conn, domain, server_id).await?;
    replace_tree(conn, domain, server_id, &patch.tree()).await
}

/// Locks a source server of the domain for the rest of the transaction; `false` when the
/// domain has no such source.
pub async fn lock_source(conn: &mut PgConnection, domain: &DomainId, id: Uuid) -> sqlx::Result<bool> {
    let found: Option<Uuid> =
        sqlx::query_scalar("SELECT id FROM servers WHERE domain_id = $1 AND id = $2 AND role = 'source' FOR UPDATE")
            .bind(domain)
            .bind(id)
            .fetch_optional(conn)
            .await?;
    Ok(found.is_some())
}

/// Renames a server of the domain.
pub async fn rename(conn: &mut PgConnection, domain: &DomainId, id: Uuid, name: &Text255) -> sqlx::Result<()> {
    sqlx::query("UPDATE servers SET name = $3 WHERE domain_id = $1 AND id = $2")
        .bind(domain)
        .bind(id)
        .bind(name)
        .execute(conn)
        .await?;
    Ok(())
}

/// The ids of a server's disks, physical volumes, volume groups and logical volumes, with the
/// parent of each volume, in one statement.
pub async fn source_nodes(conn: &mut PgConnection, domain: &DomainId, server_id: Uuid) -> sqlx::Result<SourceNodes> {
    let rows: Vec<(String, i64, Option<i64>)> = sqlx::query_as(
        "SELECT 'disk', id, NULL::bigint FROM disks WHERE domain_id = $1 AND server_id = $2
         UNION ALL SELECT 'physical_volume', pv.id, pv.disk_row_id FROM physical_volumes pv
                    JOIN disks d ON d.id = pv.disk_row_id WHERE d.domain_id = $1 AND d.server_id = $2
         UNION ALL SELECT 'volume_group', id, NULL FROM volume_groups WHERE domain_id = $1 AND server_id = $2
         UNION ALL SELECT 'logical_volume', lv.id, lv.volume_group_id FROM logical_volumes lv
                    JOIN volume_groups g ON g.id = lv.volume_group_id WHERE g.domain_id = $1 AND g.server_id = $2",
    )
    .bind(domain)
    .bind(server_id)
    .fetch_all(conn)
    .await?;
    let mut nodes = SourceNodes::default();
    for (kind, id, parent) in rows {
        match (kind.as_str(), parent) {
            ("disk", _) => _ = nodes.disks.insert(id),
            ("volume_group", _) => _ = nodes.volume_groups.insert(id),
            ("physical_volume", Some(disk)) => _ = nodes.physical_volumes.insert(id, disk),
            ("logical_volume", Some(group)) => _ = nodes.logical_volumes.insert(id, group),
            _ => {}
        }
    }
    Ok(nodes)
}

/// Stores the migration settings of an update: one statement per table that has any, each
/// setting left as it is where the update does not say.
pub async fn set_node_settings(
    conn: &mut PgConnection,
    domain: &DomainId,
    settings: &NodeSettings,
) -> sqlx::Result<()> {
    for (table, rows) in [
        (Table::Disks, &settings.disks),
        (Table::PhysicalVolumes, &settings.physical_volumes),
        (Table::VolumeGroups, &settings.volume_groups),
        (Table::LogicalVolumes, &settings.logical_volumes),
    ] {
        if rows.is_empty() {
            continue;
        }
        let table = table.name();
        sqlx::query(&format!(
            "UPDATE {table} t SET need_migration = coalesce(s.need_migration, t.need_migration),
                                  adjust_size = coalesce(s.adjust_size, t.adjust_size)
               FROM UNNEST($2::bigint[], $3::boolean[], $4::bigint[]) AS s(id, need_migration, adjust_size)
              WHERE t.domain_id = $1 AND t.id = s.id"
        ))
        .bind(domain)
        .bind(rows.iter().map(|s| s.id).collect::<Vec<_>>())
        .bind(rows.iter().map(|s| s.need_migration).collect::<Vec<_>>())
        .bind(rows.iter().map(|s| s.adjust_size).collect::<Vec<_>>())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Sets a source server's state and, when given, its migration cycle; `false` when the domain
/// has no such source.
pub async fn set_copy_state(
    conn: &mut PgConnection,
    domain: &DomainId,
    id: Uuid,
    state: SourceState,
    cycle: Option<MigrationCycle>,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE servers SET state = $3, migration_cycle = coalesce($4, migration_cycle)
          WHERE domain_id = $1 AND id = $2 AND role = 'source'",
    )
    .bind(domain)
    .bind(id)
    .bind(state)
    .bind(cycle)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The domain's source servers per state, in one grouped statement: (state, sources, sources
/// without a task).
pub async fn count_sources_by_state(
    conn: &mut PgConnection,
    domain: &DomainId,
) -> sqlx::Result<Vec<(Option<SourceState>, i64, i64)>> {
    sqlx::query_as(
        "SELECT s.state, count(*), count(*) FILTER (WHERE t.id IS NULL)
           FROM servers s LEFT JOIN tasks t ON t.domain_id = s.domain_id AND t.source_server_id = s.id
          WHERE s.domain_id = $1 AND s.role = 'source'
          GROUP BY s.state",
    )
    .bind(domain)
    .fetch_all(conn)
    .await
}

/// A page of the domain's source servers whose task failed (`MIGRATE_FAIL`, `SYNC_FAIL`),
/// newest source first, with the count of all of them, in one statement (one snapshot).
/// `enterprise_project_id` filters on the task's.
pub async fn list_error_sources(
    conn: &mut PgConnection,
    domain: &DomainId,
    enterprise_project_id: Option<&str>,
    migproject: Option<Uuid>,
    limit: i64,
    offset: i64,
) -> sqlx::Result<MigrationErrorPage> {
    let (count, items): (i64, Json<Vec<MigrationErrorView>>) = sqlx::query_as(
        "WITH failed AS (
           SELECT s.id AS source_id, s.add_date, s.name, s.hostname AS host_name, s.ip AS source_ip,
                  t.error_json, target.ip AS target_ip
             FROM tasks t
             JOIN servers s ON s.domain_id = t.domain_id AND s.id = t.source_server_id
             LEFT JOIN servers target ON target.domain_id = t.domain_id AND target.task_id = t.id
            WHERE t.domain_id = $1 AND t.state IN ('MIGRATE_FAIL', 'SYNC_FAIL')
              AND ($2::text IS NULL OR t.enterprise_project_id = $2)
              AND ($5::uuid IS NULL OR s.migproject_id = $5)
         ), page AS (
           SELECT * FROM failed ORDER BY add_date DESC, source_id DESC LIMIT $3 OFFSET $4
         )
         SELECT (SELECT count(*) FROM failed),
                (SELECT coalesce(json_agg(json_build_object(
                          'error_json', error_json, 'host_name', host_name, 'name', name,
                          'source_id', source_id, 'source_ip', source_ip, 'target_ip', target_ip)
                        ORDER BY add_date DESC, source_id DESC), '[]'::json) FROM page)",
    )
    .bind(domain)
    .bind(enterprise_project_id)
    .bind(limit)
    .bind(offset)
    .bind(migproject)
    .fetch_one(conn)
    .await?;
    Ok(MigrationErrorPage { count, migration_errors: items.0 })
}
