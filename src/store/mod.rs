//! SQL, one module per aggregate. Every function takes the caller's domain first: every query
//! is scoped by tenant.

pub mod servers;
pub mod tasks;

use sqlx::PgConnection;

/// Takes `n` ids from the shared object sequence in one round trip.
pub async fn allocate_ids(conn: &mut PgConnection, n: usize) -> sqlx::Result<Vec<i64>> {
    if n == 0 {
        return Ok(Vec::new());
    }
    sqlx::query_scalar("SELECT nextval('object_id_seq') FROM generate_series(1, $1)")
        .bind(n as i64)
        .fetch_all(conn)
        .await
}

/// Inserts `rows` into `table` in one statement: the rows travel as one JSON array and
/// `jsonb_populate_recordset` turns it back into rows of the table's own type.
pub async fn insert_rows<T: serde::Serialize>(
    conn: &mut PgConnection,
    table: Table,
    rows: &[T],
) -> sqlx::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let name = table.name();
    sqlx::query(&format!(
        "INSERT INTO {name} SELECT * FROM jsonb_populate_recordset(NULL::{name}, $1)"
    ))
    .bind(sqlx::types::Json(rows))
    .execute(conn)
    .await?;
    Ok(())
}

/// The tables rows are inserted into (a closed list: table names are never user input).
#[derive(Debug, Clone, Copy)]
pub enum Table {
    Servers,
    Disks,
    PhysicalVolumes,
    VolumeGroups,
    LogicalVolumes,
    BtrfsFilesystems,
    BtrfsSubvolumes,
    Networks,
    Tasks,
    Subtasks,
    SpecialConfigs,
    TaskCloneServers,
    TaskNetworkChecks,
}

impl Table {
    pub fn name(self) -> &'static str {
        match self {
            Table::Servers => "servers",
            Table::Disks => "disks",
            Table::PhysicalVolumes => "physical_volumes",
            Table::VolumeGroups => "volume_groups",
            Table::LogicalVolumes => "logical_volumes",
            Table::BtrfsFilesystems => "btrfs_filesystems",
            Table::BtrfsSubvolumes => "btrfs_subvolumes",
            Table::Networks => "networks",
            Table::Tasks => "tasks",
            Table::Subtasks => "subtasks",
            Table::SpecialConfigs => "special_configs",
            Table::TaskCloneServers => "task_clone_servers",
            Table::TaskNetworkChecks => "task_network_checks",
        }
    }
}
