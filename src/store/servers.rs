//! The server aggregate: a server row and its tree (disks → physical volumes, volume groups →
//! logical volumes, Btrfs → subvolumes, networks).

use sqlx::types::Json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{allocate_ids, escape_like, insert_rows, update_columns, upsert_rows, Column, Table};
use crate::auth::DomainId;
use crate::model::server::{ServerInput, ServerRow};
use crate::model::task::TaskRow;
use crate::model::tree::{
    BtrfsRow, DiskRow, IdAssigner, LogicalVolumeRow, NetworkRow, PhysicalVolumeRow, SubvolumeRow, TreeInput, TreeRows,
    VolumeGroupRow,
};

/// Inserts a server and its whole tree: one id allocation and one statement per table.
pub async fn insert(
    conn: &mut PgConnection,
    domain: &DomainId,
    server: &ServerRow,
    input: &ServerInput,
) -> sqlx::Result<()> {
    insert_rows(conn, Table::Servers, std::slice::from_ref(server)).await?;
    let tree = input.tree();
    let ids = allocate_ids(conn, TreeRows::id_count(&tree)).await?;
    let rows = TreeRows::build(&tree, domain.as_str(), server.id, &mut IdAssigner::fresh(ids));
    insert_tree(conn, &rows).await
}

pub async fn insert_tree(conn: &mut PgConnection, rows: &TreeRows) -> sqlx::Result<()> {
    insert_rows(conn, Table::Disks, &rows.disks).await?;
    insert_rows(conn, Table::PhysicalVolumes, &rows.physical_volumes).await?;
    insert_rows(conn, Table::VolumeGroups, &rows.volume_groups).await?;
    insert_rows(conn, Table::LogicalVolumes, &rows.logical_volumes).await?;
    insert_rows(conn, Table::BtrfsFilesystems, &rows.btrfs).await?;
    insert_rows(conn, Table::BtrfsSubvolumes, &rows.subvolumes).await?;
    insert_rows(conn, Table::Networks, &rows.networks).await
}

/// The trees of `server_ids` in one statement, whatever their number and size: each table's
/// rows come back as one JSON array (`json_agg` of the rows, so keys are the column names of
/// the row types) and are decoded into those types here.
pub async fn load_trees(conn: &mut PgConnection, domain: &DomainId, server_ids: &[Uuid]) -> sqlx::Result<TreeRows> {
    type Rows<T> = Json<Vec<T>>;
    #[allow(clippy::type_complexity)]
    let (disks, physical_volumes, volume_groups, logical_volumes, btrfs, subvolumes, networks): (
        Rows<DiskRow>,
        Rows<PhysicalVolumeRow>,
        Rows<VolumeGroupRow>,
        Rows<LogicalVolumeRow>,
        Rows<BtrfsRow>,
        Rows<SubvolumeRow>,
        Rows<NetworkRow>,
    ) = sqlx::query_as(
        "SELECT
           (SELECT coalesce(json_agg(d ORDER BY d.server_id, d.position), '[]'::json) FROM disks d
             WHERE d.domain_id = $1 AND d.server_id = ANY($2)),
           (SELECT coalesce(json_agg(pv ORDER BY pv.disk_row_id, pv.position), '[]'::json)
              FROM physical_volumes pv JOIN disks d ON d.id = pv.disk_row_id
             WHERE d.domain_id = $1 AND d.server_id = ANY($2)),
           (SELECT coalesce(json_agg(g ORDER BY g.server_id, g.position), '[]'::json) FROM volume_groups g
             WHERE g.domain_id = $1 AND g.server_id = ANY($2)),
           (SELECT coalesce(json_agg(lv ORDER BY lv.volume_group_id, lv.position), '[]'::json)
              FROM logical_volumes lv JOIN volume_groups g ON g.id = lv.volume_group_id
             WHERE g.domain_id = $1 AND g.server_id = ANY($2)),
           (SELECT coalesce(json_agg(f ORDER BY f.server_id, f.position), '[]'::json) FROM btrfs_filesystems f
             WHERE f.domain_id = $1 AND f.server_id = ANY($2)),
           (SELECT coalesce(json_agg(sv ORDER BY sv.filesystem_id, sv.position), '[]'::json)
              FROM btrfs_subvolumes sv JOIN btrfs_filesystems f ON f.id = sv.filesystem_id
             WHERE f.domain_id = $1 AND f.server_id = ANY($2)),
           (SELECT coalesce(json_agg(n ORDER BY n.server_id, n.position), '[]'::json) FROM networks n
             WHERE n.domain_id = $1 AND n.server_id = ANY($2))",
    )
    .bind(domain.as_str())
    .bind(server_ids)
    .fetch_one(conn)
    .await?;
    Ok(TreeRows {
        disks: disks.0,
        physical_volumes: physical_volumes.0,
        volume_groups: volume_groups.0,
        logical_volumes: logical_volumes.0,
        btrfs: btrfs.0,
        subvolumes: subvolumes.0,
        networks: networks.0,
    })
}

/// A source server of the domain, with its task if it has one.
pub async fn find_source(
    conn: &mut PgConnection,
    domain: &DomainId,
    id: Uuid,
) -> sqlx::Result<Option<(ServerRow, Option<TaskRow>)>> {
    let Some(server) =
        sqlx::query_as::<_, ServerRow>("SELECT * FROM servers WHERE domain_id = $1 AND id = $2 AND role = 'source'")
            .bind(domain.as_str())
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?
    else {
        return Ok(None);
    };
    let task = sqlx::query_as("SELECT * FROM tasks WHERE domain_id = $1 AND source_server_id = $2")
        .bind(domain.as_str())
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(Some((server, task)))
}

/// Filters of `GET /v3/sources`; `None` matches everything.
#[derive(Debug, Default)]
pub struct SourceFilter {
    pub state: Option<String>,
    pub name: Option<String>,
    pub id: Option<Uuid>,
    pub ip: Option<String>,
    pub connected: Option<bool>,
    pub enterprise_project_id: Option<String>,
}

/// A page of the domain's source servers, newest first, and the count of all that match.
pub async fn list_sources(
    conn: &mut PgConnection,
    domain: &DomainId,
    filter: &SourceFilter,
    limit: i64,
    offset: i64,
) -> sqlx::Result<(i64, Vec<ServerRow>)> {
    const WHERE: &str = "domain_id = $1 AND role = 'source'
        AND ($2::text IS NULL OR state = $2)
        AND ($3::text IS NULL OR name ILIKE '%' || $3 || '%' ESCAPE '\\')
        AND ($4::uuid IS NULL OR id = $4)
        AND ($5::text IS NULL OR ip = $5)
        AND ($6::boolean IS NULL OR connected = $6)
        AND ($7::text IS NULL OR enterprise_project_id = $7)";
    let name = filter.name.as_deref().map(escape_like);
    let count: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM servers WHERE {WHERE}"))
        .bind(domain.as_str())
        .bind(&filter.state)
        .bind(&name)
        .bind(filter.id)
        .bind(&filter.ip)
        .bind(filter.connected)
        .bind(&filter.enterprise_project_id)
        .fetch_one(&mut *conn)
        .await?;
    let rows = sqlx::query_as(&format!(
        "SELECT * FROM servers WHERE {WHERE} ORDER BY add_date DESC, id DESC LIMIT $8 OFFSET $9"
    ))
    .bind(domain.as_str())
    .bind(&filter.state)
    .bind(&name)
    .bind(filter.id)
    .bind(&filter.ip)
    .bind(filter.connected)
    .bind(&filter.enterprise_project_id)
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
    let existing: Vec<(i64, String)> = sqlx::query_as(
        "SELECT id, server_id::text FROM disks WHERE server_id = $1
         UNION ALL SELECT pv.id, pv.disk_row_id::text FROM physical_volumes pv JOIN disks d ON d.id = pv.disk_row_id WHERE d.server_id = $1
         UNION ALL SELECT id, server_id::text FROM volume_groups WHERE server_id = $1
         UNION ALL SELECT lv.id, lv.volume_group_id::text FROM logical_volumes lv JOIN volume_groups g ON g.id = lv.volume_group_id WHERE g.server_id = $1
         UNION ALL SELECT id, server_id::text FROM btrfs_filesystems WHERE server_id = $1
         UNION ALL SELECT id, server_id::text FROM networks WHERE server_id = $1",
    )
    .bind(server_id)
    .fetch_all(&mut *conn)
    .await?;
    let fresh = allocate_ids(conn, TreeRows::id_count(tree)).await?;
    let mut ids = IdAssigner::keeping(fresh, existing.into_iter().collect());
    let rows = TreeRows::build(tree, domain.as_str(), server_id, &mut ids);

    // Delete what the new collections no longer hold (cascading to their children).
    if tree.disks.is_some() {
        delete_missing(conn, "disks", "server_id = $1", server_id, rows.disks.iter().map(|r| r.id)).await?;
        let replaced: Vec<i64> =
            tree_parents(tree.disks, |d| d.physical_volumes.is_some(), rows.disks.iter().map(|r| r.id));
        delete_missing_below(
            conn,
            "physical_volumes",
            "disk_row_id",
            &replaced,
            rows.physical_volumes.iter().map(|r| r.id),
        )
        .await?;
    }
    if tree.volume_groups.is_some() {
        delete_missing(conn, "volume_groups", "server_id = $1", server_id, rows.volume_groups.iter().map(|r| r.id))
            .await?;
        let replaced =
            tree_parents(tree.volume_groups, |g| g.logical_volumes.is_some(), rows.volume_groups.iter().map(|r| r.id));
        delete_missing_below(
            conn,
            "logical_volumes",
            "volume_group_id",
            &replaced,
            rows.logical_volumes.iter().map(|r| r.id),
        )
        .await?;
    }
    if tree.btrfs_list.is_some() {
        delete_missing(conn, "btrfs_filesystems", "server_id = $1", server_id, rows.btrfs.iter().map(|r| r.id)).await?;
        let replaced = tree_parents(tree.btrfs_list, |f| f.subvolumn.is_some(), rows.btrfs.iter().map(|r| r.id));
        // Subvolumes have no id of their own in the API: a sent list replaces them all.
        delete_missing_below(conn, "btrfs_subvolumes", "filesystem_id", &replaced, std::iter::empty()).await?;
    }
    if tree.networks.is_some() {
        delete_missing(conn, "networks", "server_id = $1", server_id, rows.networks.iter().map(|r| r.id)).await?;
    }
    upsert_rows(conn, Table::Disks, &rows.disks).await?;
    upsert_rows(conn, Table::PhysicalVolumes, &rows.physical_volumes).await?;
    upsert_rows(conn, Table::VolumeGroups, &rows.volume_groups).await?;
    upsert_rows(conn, Table::LogicalVolumes, &rows.logical_volumes).await?;
    upsert_rows(conn, Table::BtrfsFilesystems, &rows.btrfs).await?;
    upsert_rows(conn, Table::BtrfsSubvolumes, &rows.subvolumes).await?;
    upsert_rows(conn, Table::Networks, &rows.networks).await
}

/// The ids of the parents whose nested collection was sent.
fn tree_parents<T>(inputs: Option<&Vec<T>>, sent: impl Fn(&T) -> bool, ids: impl Iterator<Item = i64>) -> Vec<i64> {
    inputs.into_iter().flatten().zip(ids).filter(|(input, _)| sent(input)).map(|(_, id)| id).collect()
}

/// Deletes the rows of `table` under `parent` whose ids are not in `kept`.
pub async fn delete_missing(
    conn: &mut PgConnection,
    table: &str,
    parent_condition: &str,
    parent: Uuid,
    kept: impl Iterator<Item = i64>,
) -> sqlx::Result<()> {
    let kept: Vec<i64> = kept.collect();
    sqlx::query(&format!("DELETE FROM {table} WHERE {parent_condition} AND id <> ALL($2)"))
        .bind(parent)
        .bind(&kept)
        .execute(conn)
        .await?;
    Ok(())
}

/// Deletes the rows of `table` whose `parent_column` is one of `parents` and whose ids are not
/// in `kept`.
async fn delete_missing_below(
    conn: &mut PgConnection,
    table: &str,
    parent_column: &str,
    parents: &[i64],
    kept: impl Iterator<Item = i64>,
) -> sqlx::Result<()> {
    if parents.is_empty() {
        return Ok(());
    }
    let kept: Vec<i64> = kept.collect();
    sqlx::query(&format!("DELETE FROM {table} WHERE {parent_column} = ANY($1) AND id <> ALL($2)"))
        .bind(parents)
        .bind(&kept)
        .execute(conn)
        .await?;
    Ok(())
}

/// The columns of `servers` that a partial update sets: those whose key is in `keys`.
pub fn server_columns<'a>(
    keys: &serde_json::Map<String, serde_json::Value>,
    s: &'a ServerInput,
) -> Vec<(&'static str, Column<'a>)> {
    let all: Vec<(&'static str, &'static str, Column<'a>)> = vec![
        ("ip", "ip", Column::Text(s.ip.as_deref())),
        ("ipv6", "ipv6", Column::Text(s.ipv6.as_deref())),
        ("name", "name", Column::Text(s.name.as_deref())),
        ("hostname", "hostname", Column::Text(s.hostname.as_deref())),
        ("os_type", "os_type", Column::Text(s.os_type.as_deref())),
        ("os_version", "os_version", Column::Text(s.os_version.as_deref())),
        ("virtualization_type", "virtualization_type", Column::Text(s.virtualization_type.as_deref())),
        ("linux_block_check", "linux_block_check", Column::Text(s.linux_block_check.as_deref())),
        ("firmware", "firmware", Column::Text(s.firmware.as_deref())),
        ("cpu_quantity", "cpu_quantity", Column::Int(s.cpu_quantity)),
        ("memory", "memory", Column::Long(s.memory)),
        ("domain_id", "reported_domain_id", Column::Text(s.domain_id.as_deref())),
        ("has_rsync", "has_rsync", Column::Bool(s.has_rsync)),
        ("paravirtualization", "paravirtualization", Column::Bool(s.paravirtualization)),
        ("raw_devices", "raw_devices", Column::Text(s.raw_devices.as_deref())),
        ("driver_files", "driver_files", Column::Bool(s.driver_files)),
        ("system_services", "system_services", Column::Bool(s.system_services)),
        ("account_rights", "account_rights", Column::Bool(s.account_rights)),
        ("boot_loader", "boot_loader", Column::Text(s.boot_loader.as_deref())),
        ("system_dir", "system_dir", Column::Text(s.system_dir.as_deref())),
        ("agent_version", "agent_version", Column::Text(s.agent_version.as_deref())),
        ("kernel_version", "kernel_version", Column::Text(s.kernel_version.as_deref())),
        ("migration_cycle", "migration_cycle", Column::Text(s.migration_cycle.as_deref())),
        ("state", "state", Column::Text(s.state.as_deref())),
        ("oem_system", "oem_system", Column::Bool(s.oem_system)),
        ("start_type", "start_type", Column::Text(s.start_type.as_deref())),
        ("io_read_wait", "io_read_wait", Column::Float(s.io_read_wait)),
        ("has_tc", "has_tc", Column::Bool(s.has_tc)),
        ("platform", "platform", Column::Text(s.platform.as_deref())),
        ("vm_id", "vm_id", Column::Text(s.vm_id.as_deref())),
        ("flavor", "flavor", Column::Text(s.flavor.as_deref())),
        ("image_disk_id", "image_disk_id", Column::Text(s.image_disk_id.as_deref())),
        ("snapshot_ids", "snapshot_ids", Column::Text(s.snapshot_ids.as_deref())),
        ("cutovered_snapshot_ids", "cutovered_snapshot_ids", Column::Text(s.cutovered_snapshot_ids.as_deref())),
    ];
    all.into_iter().filter(|(key, _, _)| keys.contains_key(*key)).map(|(_, column, value)| (column, value)).collect()
}

/// Applies a partial update of a server: the fields present in `keys`, and the collections
/// present (a `null` collection is emptied).
pub async fn update(
    conn: &mut PgConnection,
    domain: &DomainId,
    server_id: Uuid,
    keys: &serde_json::Map<String, serde_json::Value>,
    input: &ServerInput,
) -> sqlx::Result<()> {
    update_columns(conn, Table::Servers, domain, ("id", server_id), &server_columns(keys, input)).await?;
    let empty_disks = Vec::new();
    let empty_groups = Vec::new();
    let empty_btrfs = Vec::new();
    let empty_networks = Vec::new();
    let sent = |key: &str| keys.contains_key(key);
    let tree = TreeInput {
        disks: sent("disks").then(|| input.disks.as_ref().unwrap_or(&empty_disks)),
        volume_groups: sent("volume_groups").then(|| input.volume_groups.as_ref().unwrap_or(&empty_groups)),
        btrfs_list: sent("btrfs_list").then(|| input.btrfs_list.as_ref().unwrap_or(&empty_btrfs)),
        networks: sent("networks").then(|| input.networks.as_ref().unwrap_or(&empty_networks)),
    };
    replace_tree(conn, domain, server_id, &tree).await
}
