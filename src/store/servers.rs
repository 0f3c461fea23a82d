//! The server aggregate: a server row and its tree (disks → physical volumes, volume groups →
//! logical volumes, Btrfs → subvolumes, networks).

use sqlx::PgConnection;
use uuid::Uuid;

use super::{allocate_ids, insert_rows, Table};
use crate::auth::DomainId;
use crate::model::server::{ServerInput, ServerRow};
use crate::model::task::TaskRow;
use crate::model::tree::TreeRows;

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
    let rows = TreeRows::build(&tree, domain.as_str(), server.id, &mut ids.into_iter());
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

/// The trees of `server_ids`: one query per table, whatever their number and size.
pub async fn load_trees(
    conn: &mut PgConnection,
    domain: &DomainId,
    server_ids: &[Uuid],
) -> sqlx::Result<TreeRows> {
    let d = domain.as_str();
    let disks = sqlx::query_as("SELECT * FROM disks WHERE domain_id = $1 AND server_id = ANY($2) ORDER BY server_id, position")
        .bind(d)
        .bind(server_ids)
        .fetch_all(&mut *conn)
        .await?;
    let physical_volumes = sqlx::query_as(
        "SELECT pv.* FROM physical_volumes pv JOIN disks d ON d.id = pv.disk_row_id
         WHERE d.domain_id = $1 AND d.server_id = ANY($2) ORDER BY pv.disk_row_id, pv.position",
    )
    .bind(d)
    .bind(server_ids)
    .fetch_all(&mut *conn)
    .await?;
    let volume_groups = sqlx::query_as(
        "SELECT * FROM volume_groups WHERE domain_id = $1 AND server_id = ANY($2) ORDER BY server_id, position",
    )
    .bind(d)
    .bind(server_ids)
    .fetch_all(&mut *conn)
    .await?;
    let logical_volumes = sqlx::query_as(
        "SELECT lv.* FROM logical_volumes lv JOIN volume_groups g ON g.id = lv.volume_group_id
         WHERE g.domain_id = $1 AND g.server_id = ANY($2) ORDER BY lv.volume_group_id, lv.position",
    )
    .bind(d)
    .bind(server_ids)
    .fetch_all(&mut *conn)
    .await?;
    let btrfs = sqlx::query_as(
        "SELECT * FROM btrfs_filesystems WHERE domain_id = $1 AND server_id = ANY($2) ORDER BY server_id, position",
    )
    .bind(d)
    .bind(server_ids)
    .fetch_all(&mut *conn)
    .await?;
    let subvolumes = sqlx::query_as(
        "SELECT sv.* FROM btrfs_subvolumes sv JOIN btrfs_filesystems f ON f.id = sv.filesystem_id
         WHERE f.domain_id = $1 AND f.server_id = ANY($2) ORDER BY sv.filesystem_id, sv.position",
    )
    .bind(d)
    .bind(server_ids)
    .fetch_all(&mut *conn)
    .await?;
    let networks = sqlx::query_as("SELECT * FROM networks WHERE domain_id = $1 AND server_id = ANY($2) ORDER BY server_id, position")
        .bind(d)
        .bind(server_ids)
        .fetch_all(&mut *conn)
        .await?;
    Ok(TreeRows {
        disks,
        physical_volumes,
        volume_groups,
        logical_volumes,
        btrfs,
        subvolumes,
        networks,
    })
}

/// A source server of the domain, with its task if it has one.
pub async fn find_source(
    conn: &mut PgConnection,
    domain: &DomainId,
    id: Uuid,
) -> sqlx::Result<Option<(ServerRow, Option<TaskRow>)>> {
    let Some(server) = sqlx::query_as::<_, ServerRow>(
        "SELECT * FROM servers WHERE domain_id = $1 AND id = $2 AND role = 'source'",
    )
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

/// `value` as a literal inside a LIKE pattern: `%`, `_` and `\` match themselves.
pub fn escape_like(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for c in value.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}
