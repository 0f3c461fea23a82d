//! SQL, one module per aggregate (`servers`, `tasks`, `task_settings`, `credentials`), and what they share:
//! the closed list of tables, set-based typed inserts, partial updates, id allocation, and
//! the store's error type. Every statement that reads or writes tenant data binds the
//! caller's domain; every finder takes the domain first.

pub mod credentials;
pub mod lifecycle;
pub mod migprojects;
pub mod servers;
pub mod task_settings;
pub mod tasks;
pub mod templates;

use sqlx::postgres::{PgArguments, PgHasArrayType};
use sqlx::{Arguments, Encode, PgConnection, Postgres, QueryBuilder, Type};
use uuid::Uuid;

use crate::model::columns::{ColumnSink, Columns};
use crate::model::enums::TaskState;
use crate::model::lifecycle::Refusal;
use crate::model::values::Patch;
use crate::model::DomainId;

/// What a store operation can fail with. The API layer chooses the HTTP answer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the task does not exist in the domain")]
    TaskNotFound,
    /// A write named a source server that does not exist in the domain.
    #[error("the source server does not exist in the domain")]
    NoSuchSource,
    #[error("the source server is not connected")]
    SourceNotConnected,
    #[error("the source server already has a task")]
    SourceHasTask,
    /// A batch named a task that does not exist in the domain.
    #[error("task {0} does not exist in the domain")]
    NoSuchTask(Uuid),
    /// A batch named a source server that does not exist in the domain.
    #[error("source server {0} does not exist in the domain")]
    NoSuchSourceServer(Uuid),
    #[error("the action is refused in the task's state")]
    Refused(Refusal),
    /// A delete met a task that is running while its source is connected.
    #[error("task {0} is busy")]
    TaskBusy(Uuid),
    /// A progress report for a task that is not running.
    #[error("the task is not running")]
    NotRunning(TaskState),
    #[error("the task has no subtask {0}")]
    NoSuchSubtask(String),
    /// A write named a source server that does not exist in the domain (404, not a create's 400).
    #[error("the source server does not exist in the domain")]
    SourceServerNotFound,
    #[error("the migration project does not exist in the domain")]
    NoSuchMigProject,
    /// A `clone_test` whose `template_id` names no template of the domain.
    #[error("the template does not exist in the domain")]
    NoSuchTemplate,
    #[error("the migration project still has source servers")]
    MigProjectHasSources,
    /// A delete of the domain's default project.
    #[error("the default migration project cannot be deleted")]
    MigProjectIsDefault,
    /// An update that would leave the domain without a default project.
    #[error("the default migration project stays the default until another one becomes it")]
    MigProjectStaysDefault,
    /// A command result that is not for the command at the head of the source's queue.
    #[error("{0}")]
    CommandMismatch(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// The tables of tenant data (a closed list: table names are never user input).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    TaskSpeedLimits,
    MigProjects,
    Templates,
    TemplateVpcs,
    TemplatePublicips,
    TemplateNics,
    TemplateSecurityGroups,
    TemplateDisks,
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
            Table::TaskSpeedLimits => "task_speed_limits",
            Table::MigProjects => "migprojects",
            Table::Templates => "templates",
            Table::TemplateVpcs => "template_vpcs",
            Table::TemplatePublicips => "template_publicips",
            Table::TemplateNics => "template_nics",
            Table::TemplateSecurityGroups => "template_security_groups",
            Table::TemplateDisks => "template_disks",
        }
    }
}

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

/// Rows of one table written in one statement, column by column: each column travels as one
/// typed array and `UNNEST` turns the arrays back into rows. Columns are named by our code
/// (`model::columns`); values are bound.
pub struct RowSet {
    table: Table,
    len: usize,
    columns: Vec<&'static str>,
    args: PgArguments,
    error: Option<sqlx::error::BoxDynError>,
}

impl RowSet {
    pub fn new(table: Table, len: usize) -> RowSet {
        RowSet { table, len, columns: Vec::new(), args: PgArguments::default(), error: None }
    }

    /// Adds a column: one value per row, in row order.
    pub fn column<'q, T>(&mut self, name: &'static str, values: Vec<T>) -> &mut RowSet
    where
        T: Encode<'q, Postgres> + Type<Postgres> + PgHasArrayType + 'q,
    {
        debug_assert_eq!(values.len(), self.len, "column {name} of {}", self.table.name());
        self.columns.push(name);
        if let Err(err) = self.args.add(values) {
            self.error.get_or_insert(err);
        }
        self
    }

    /// Adds the columns of the attribute structs `rows`.
    pub fn attributes<A: Columns>(&mut self, rows: &[&A]) -> &mut RowSet {
        A::columns(rows, self);
        self
    }

    /// `INSERT … SELECT * FROM UNNEST(…)`.
    pub async fn insert(self, conn: &mut PgConnection) -> sqlx::Result<()> {
        self.execute(conn, "").await
    }

    /// Like [`RowSet::insert`], updating in place the rows whose id exists in the same domain.
    pub async fn upsert(self, conn: &mut PgConnection) -> sqlx::Result<()> {
        let table = self.table.name();
        let sets: Vec<String> =
            self.columns.iter().filter(|c| **c != "id").map(|c| format!("{c} = EXCLUDED.{c}")).collect();
        let conflict =
            format!(" ON CONFLICT (id) DO UPDATE SET {} WHERE {table}.domain_id = EXCLUDED.domain_id", sets.join(", "));
        self.execute(conn, &conflict).await
    }

    async fn execute(self, conn: &mut PgConnection, suffix: &str) -> sqlx::Result<()> {
        if self.len == 0 {
            return Ok(());
        }
        if let Some(err) = self.error {
            return Err(sqlx::Error::Encode(err));
        }
        let placeholders: Vec<String> = (1..=self.columns.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "INSERT INTO {} ({}) SELECT * FROM UNNEST({}){suffix}",
            self.table.name(),
            self.columns.join(", "),
            placeholders.join(", ")
        );
        sqlx::query_with(&sql, self.args).execute(conn).await?;
        Ok(())
    }
}

impl<'a> ColumnSink<'a> for RowSet {
    fn column<T>(&mut self, name: &'static str, values: Vec<T>)
    where
        T: Encode<'a, Postgres> + Type<Postgres> + PgHasArrayType + 'a,
    {
        RowSet::column(self, name, values);
    }
}

/// `UPDATE {table} SET …` of the fields a partial update changes, for one row of the domain.
pub struct Assignments<'a> {
    sql: QueryBuilder<'a, Postgres>,
    count: usize,
}

impl<'a> Assignments<'a> {
    pub fn new(table: Table) -> Assignments<'a> {
        Assignments { sql: QueryBuilder::new(format!("UPDATE {} SET ", table.name())), count: 0 }
    }

    fn push<T>(&mut self, column: &'static str, value: Option<&'a T>)
    where
        T: Encode<'a, Postgres> + Type<Postgres> + Sync + 'a,
    {
        if self.count > 0 {
            self.sql.push(", ");
        }
        self.sql.push(column).push(" = ").push_bind(value);
        self.count += 1;
    }

    /// Sets `column` when the field is present: to its value, or NULL.
    pub fn patch<T>(&mut self, column: &'static str, patch: &'a Patch<T>) -> &mut Assignments<'a>
    where
        T: Encode<'a, Postgres> + Type<Postgres> + Sync + 'a,
    {
        if let Some(value) = patch.change() {
            self.push(column, value);
        }
        self
    }

    /// Sets `column` when a field that cannot be cleared is present.
    pub fn value<T>(&mut self, column: &'static str, value: &'a Option<T>) -> &mut Assignments<'a>
    where
        T: Encode<'a, Postgres> + Type<Postgres> + Sync + 'a,
    {
        if let Some(value) = value {
            self.push(column, Some(value));
        }
        self
    }

    /// Runs the update of row `id` of the domain; no statement when nothing changes.
    pub async fn execute(mut self, conn: &mut PgConnection, domain: &'a DomainId, id: Uuid) -> sqlx::Result<()> {
        if self.count == 0 {
            return Ok(());
        }
        self.sql.push(" WHERE domain_id = ").push_bind(domain.as_str());
        self.sql.push(" AND id = ").push_bind(id);
        self.sql.build().execute(conn).await?;
        Ok(())
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
