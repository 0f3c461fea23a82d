//! SQL, one module per aggregate. Every function takes the caller's domain first: every query
//! is scoped by tenant.

pub mod credentials;
pub mod servers;
pub mod tasks;

use sqlx::{PgConnection, Postgres, QueryBuilder};
use uuid::Uuid;

use crate::auth::DomainId;

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
pub async fn insert_rows<T: serde::Serialize>(conn: &mut PgConnection, table: Table, rows: &[T]) -> sqlx::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let name = table.name();
    sqlx::query(&format!("INSERT INTO {name} SELECT * FROM jsonb_populate_recordset(NULL::{name}, $1)"))
        .bind(sqlx::types::Json(rows))
        .execute(conn)
        .await?;
    Ok(())
}

/// Inserts `rows` into `table`, updating in place the rows whose id already exists: one
/// statement, like [`insert_rows`].
pub async fn upsert_rows<T: serde::Serialize>(conn: &mut PgConnection, table: Table, rows: &[T]) -> sqlx::Result<()> {
    let Some(first) = rows.first() else {
        return Ok(());
    };
    // The columns are the fields of our own row type (never user input).
    let columns = match serde_json::to_value(first) {
        Ok(serde_json::Value::Object(map)) => map.keys().filter(|k| *k != "id").cloned().collect::<Vec<_>>(),
        _ => return Err(sqlx::Error::Protocol("a row must serialize to a JSON object".into())),
    };
    let sets = columns.iter().map(|c| format!("{c} = EXCLUDED.{c}")).collect::<Vec<_>>().join(", ");
    let name = table.name();
    sqlx::query(&format!(
        "INSERT INTO {name} SELECT * FROM jsonb_populate_recordset(NULL::{name}, $1) ON CONFLICT (id) DO UPDATE SET {sets}"
    ))
    .bind(sqlx::types::Json(rows))
    .execute(conn)
    .await?;
    Ok(())
}

/// A value for one column of a partial update.
#[derive(Debug, Clone)]
pub enum Column<'a> {
    Text(Option<&'a str>),
    Int(Option<i32>),
    Long(Option<i64>),
    Float(Option<f64>),
    Bool(Option<bool>),
}

/// `UPDATE {table} SET … WHERE domain_id = … AND {key} = …` for the columns given (none: no
/// statement). Column names come from our own code, values are bound.
pub async fn update_columns(
    conn: &mut PgConnection,
    table: Table,
    domain: &DomainId,
    key: (&str, Uuid),
    columns: &[(&str, Column<'_>)],
) -> sqlx::Result<()> {
    if columns.is_empty() {
        return Ok(());
    }
    let mut sql = QueryBuilder::<Postgres>::new(format!("UPDATE {} SET ", table.name()));
    for (i, (name, value)) in columns.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.push(format!("{name} = "));
        match value {
            Column::Text(v) => sql.push_bind(*v),
            Column::Int(v) => sql.push_bind(*v),
            Column::Long(v) => sql.push_bind(*v),
            Column::Float(v) => sql.push_bind(*v),
            Column::Bool(v) => sql.push_bind(*v),
        };
    }
    sql.push(" WHERE domain_id = ").push_bind(domain.as_str());
    sql.push(format!(" AND {} = ", key.0)).push_bind(key.1);
    sql.build().execute(conn).await?;
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
