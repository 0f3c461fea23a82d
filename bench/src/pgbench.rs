//! PostgreSQL's own throughput for the work of a list page, a show and a create: `pgbench` runs the
//! statements the service runs (src/store/tasks.rs, src/store/mod.rs, src/auth), with the same
//! parameters, as prepared statements like sqlx's, at the same concurrency.
//!
//! What differs from the service, on purpose:
//! - List: the page's ids (the `= ANY($2)` arrays of the child queries) are read once before
//!   the run and passed with `-D`, instead of being carried from the page query with `\gset`:
//!   `\gset` needs a one-row result, so the page query would have to aggregate instead of
//!   sending its 200 rows, and PostgreSQL would do less work than it does for the service.
//!   Nothing writes during the list runs, so every page has these ids.
//! - Show: one script per shown task (100 seeded tasks), as a pgbench expression cannot pick a
//!   uuid, run with generic plans: each script is its own prepared statement, which PostgreSQL
//!   would plan anew for its first five runs, where the service's one statement is past those.
//! - Create: the rows are those of a task the service created (the template). Each
//!   `INSERT INTO {table} (…) SELECT * FROM UNNEST($1, …)` is the service's text, each `$n` a
//!   variable holding the array literal of that column's values (cast to the parameter's type,
//!   e.g. `:tpl_disks_c5::text[]`), as the service binds one typed array per column. The
//!   template's values are read once before the run and passed with `-D`; the values the
//!   service makes anew for each create (the task's and the target's uuids, the source, the
//!   date; the tree's object ids and parents) are computed in SQL and carried with `\gset`:
//!   - The source-row lock is the service's lock with two changes: its source is a fresh one
//!     from a pool inserted before the run (untimed), chosen by `:client_id` and a per-client
//!     counter (as each service create uses a fresh source), and its select list also returns,
//!     in the same round trip, the arrays of the new uuids (UUID v7, as the service makes them), of the
//!     source's id and of the date (`clock_timestamp()`), which the service makes in Rust.
//!   - The service's `nextval` batch runs as a subquery of a query that also hands out the ids:
//!     each tree table's id array and its parent array (the new ids of its disks, groups or
//!     filesystems), in the order `TreeRows::build` takes them. The service does this in Rust.
//!   - The script does not check `connected` (always true for pool sources): it does not
//!     branch on results, where the service stops at an unknown or disconnected source.
//! - Both run the token lookup the auth middleware runs for each request.
//!
//! Both scripts are generated from the statements the service itself ran (capture.rs). In the
//! list script, each `$n` becomes the pgbench variable of what it binds, told by what it is
//! compared with (see [`list_variable`]); a parameter it cannot tell fails the run. In the create
//! script, the lock ([`LOCK_SOURCE`]) and the id batch ([`ALLOCATE_IDS`]) must be exactly the
//! service's, and every other statement an `INSERT … SELECT * FROM UNNEST($1, …, $n)`, one
//! array per column, into a table [`TABLES`] knows (which columns get fresh values, how to read
//! the template's rows), so a changed column list flows through on its own. Anything else (a
//! statement of another shape, a new table, a fresh column the service no longer writes, a known
//! statement the service no longer runs) is reported by [`create_drift`]: the run then skips
//! the pgbench create, prints the difference and fails, and a test fails.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use sqlx::PgPool;
use uuid::Uuid;

use crate::capture::Prepared;

/// Highest pgbench `client_id` step: source `n` of client `c` is number `c * CLIENT_STEP + n`.
const CLIENT_STEP: u64 = 10_000_000;
/// Pool sources pgbench may use per second of a create run (far above what two cores do).
const CREATE_POOL_PER_SEC: u64 = 10_000;

/// `pgbench`: `pg_config --bindir`, else the newest `/usr/lib/postgresql/<version>/bin`, else
/// the PATH (as src/db/cluster.rs finds the server binaries).
pub fn locate() -> PathBuf {
    if let Ok(out) = std::process::Command::new("pg_config").arg("--bindir").output() {
        let bin = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()).join("pgbench");
        if out.status.success() && bin.exists() {
            return bin;
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin/pgbench"))))
        .filter(|(_, bin)| bin.exists())
        .collect();
    versions.sort();
    versions.pop().map_or_else(|| PathBuf::from("pgbench"), |(_, bin)| bin)
}

/// A script and the variables (`-D`) it reads.
pub struct Script {
    pub name: &'static str,
    pub text: String,
    /// More scripts run beside `text`, each as often (pgbench picks one per transaction): the
    /// same statements on other rows, where a row cannot be chosen by a pgbench expression.
    pub variants: Vec<String>,
    pub variables: Vec<(String, String)>,
    /// Settings of pgbench's sessions (`PGOPTIONS`), e.g. `-c plan_cache_mode=…`.
    pub options: Option<&'static str>,
}

/// The variables every script uses: the domain, and the token hash the auth lookup binds.
fn common_variables(domain: &str, token: &str) -> Vec<(String, String)> {
    use sha2::Digest;
    let hash = hex::encode(sha2::Sha256::digest(token.as_bytes()));
    vec![("dom".into(), domain.into()), ("tokhash".into(), format!("\\x{hash}"))]
}

/// The `$n` of `sql` (not the start of `$n0`…): its byte offset.
fn parameter_at(sql: &str, n: usize) -> Option<usize> {
    let needle = format!("${n}");
    sql.match_indices(&needle)
        .map(|(at, _)| at)
        .find(|&at| !sql[at + needle.len()..].starts_with(|c: char| c.is_ascii_digit()))
}

/// The pgbench variable that parameter `$n` of a list statement binds, told by what the
/// statement compares it with: `domain_id = $n`, `token_sha256 = $n`, `LIMIT $n`, `OFFSET $n`,
/// `task_id = ANY($n)` (the page's tasks) or `id = ANY($n)` (their sources); `id = $n` (the
/// shown task).
fn list_variable(sql: &str, n: usize) -> Option<&'static str> {
    let before = sql[..parameter_at(sql, n)?].trim_end();
    let last_word =
        |text: &str| text.rsplit(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).next().map(str::to_string);
    if let Some(rest) = before.strip_suffix("ANY(") {
        let column = last_word(rest.trim_end().strip_suffix('=')?.trim_end())?;
        return match column.as_str() {
            "task_id" => Some("ids"),
            "id" => Some("srcs"),
            _ => None,
        };
    }
    if let Some(rest) = before.strip_suffix('=') {
        return match last_word(rest.trim_end())?.as_str() {
            "domain_id" => Some("dom"),
            "token_sha256" => Some("tokhash"),
            "id" => Some("tid"),
            _ => None,
        };
    }
    match last_word(before)?.to_ascii_uppercase().as_str() {
        "LIMIT" => Some("lim"),
        "OFFSET" => Some("off"),
        _ => None,
    }
}

/// `statement` as a pgbench script command: each `$n` becomes `:variable::type`, with the type
/// the service declared for it.
fn pgbench_command(statement: &Prepared) -> anyhow::Result<String> {
    let mut sql = statement.sql.clone();
    // From the last: `$1` must not replace the start of `$10`.
    for (i, ty) in statement.types.iter().enumerate().rev() {
        let n = i + 1;
        let Some(variable) = list_variable(&statement.sql, n) else {
            bail!(
                "bench/src/pgbench.rs cannot tell what parameter ${n} of the service's statement binds \
                 (teach `list_variable`): {}",
                statement.sql
            );
        };
        sql = sql.replace(&format!("${n}"), &format!(":{variable}::{ty}"));
    }
    Ok(sql + ";")
}

/// The auth middleware's statements among `list` (those that bind the token hash).
fn auth_statements(list: &[Prepared]) -> Vec<&Prepared> {
    list.iter().filter(|p| (1..=p.types.len()).any(|n| list_variable(&p.sql, n) == Some("tokhash"))).collect()
}

/// `GET /v3/tasks?limit=…&offset=…` with no filter: `service_list`, the statements the service
/// ran for such a page (capture.rs), with their parameters as pgbench variables.
pub async fn list_script(
    pool: &PgPool,
    domain: &str,
    token: &str,
    limit: i64,
    offset: i64,
    service_list: &[Prepared],
) -> anyhow::Result<Script> {
    if auth_statements(service_list).is_empty() || !service_list.iter().any(|p| p.sql.contains("FROM tasks")) {
        bail!("the service's list SQL has no auth lookup or no page query: {service_list:#?}");
    }
    // Only to fill the variables: the page's ids and their sources, as the page query finds them.
    let page: Vec<(Uuid, Uuid)> = sqlx::query_as(
        "SELECT id, source_server_id FROM tasks WHERE domain_id = $1
         ORDER BY create_date DESC, id DESC LIMIT $2 OFFSET $3",
    )
    .bind(domain)
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await?;
    if page.is_empty() {
        bail!("the list page for pgbench is empty");
    }
    let array = |ids: Vec<Uuid>| format!("{{{}}}", ids.iter().map(Uuid::to_string).collect::<Vec<_>>().join(","));
    let mut variables = common_variables(domain, token);
    variables.push(("lim".into(), limit.to_string()));
    variables.push(("off".into(), offset.to_string()));
    variables.push(("ids".into(), array(page.iter().map(|p| p.0).collect())));
    variables.push(("srcs".into(), array(page.iter().map(|p| p.1).collect())));
    let mut text =
        String::from("-- The SQL the service ran for GET /v3/tasks (read back from PostgreSQL), in order.\n");
    for statement in service_list {
        text.push_str(&pgbench_command(statement)?);
        text.push('\n');
    }
    Ok(Script { name: "list", text, variants: Vec::new(), variables, options: None })
}

/// Tasks the show script shows, one script each (pgbench runs at most 128 scripts).
const SHOW_TASKS: usize = 100;

/// `GET /v3/tasks/{id}`: `service_show`, the statements the service ran for a show
/// (capture.rs), with their parameters as pgbench variables, on the first tasks of `ids` in
/// turn (one script per task, as `:tid` cannot be picked by a pgbench expression).
pub fn show_script(domain: &str, token: &str, service_show: &[Prepared], ids: &[Uuid]) -> anyhow::Result<Script> {
    if auth_statements(service_show).is_empty() || !service_show.iter().any(|p| p.sql.contains("FROM tasks")) {
        bail!("the service's show SQL has no auth lookup or no task query: {service_show:#?}");
    }
    let mut text =
        String::from("-- The SQL the service ran for GET /v3/tasks/{id} (read back from PostgreSQL), in order.\n");
    for statement in service_show {
        text.push_str(&pgbench_command(statement)?);
        text.push('\n');
    }
    let ids = &ids[..ids.len().min(SHOW_TASKS)];
    anyhow::ensure!(!ids.is_empty(), "no task to show");
    let mut variables = common_variables(domain, token);
    let mut scripts = Vec::new();
    for (k, id) in ids.iter().enumerate() {
        variables.push((format!("tid{k}"), id.to_string()));
        scripts.push(text.replace(":tid::", &format!(":tid{k}::")));
    }
    let text = scripts.remove(0);
    // Each of the scripts is its own prepared statement on each connection, planned anew for
    // its first five runs (custom plans) where the service's one statement runs its generic
    // plan after five runs: pgbench runs the service's steady state from the start.
    let options = Some("-c plan_cache_mode=force_generic_plan");
    Ok(Script { name: "show", text, variants: scripts, variables, options })
}

/// `servers::create`'s lock of the source row, as the service sends it. The script runs it
/// with the pool source and with the fresh uuids and date in its select list (see
/// [`lock_command`]).
pub const LOCK_SOURCE: &str =
    "SELECT connected FROM servers WHERE domain_id = $1 AND id = $2 AND role = 'source' FOR UPDATE";
/// `allocate_ids`, as the service sends it. The script runs it inside the query that hands the
/// ids to the tree's rows (see [`ids_command`]).
pub const ALLOCATE_IDS: &str = "SELECT nextval('object_id_seq') FROM generate_series(1, $1)";

/// A fresh value of a created row, computed in each transaction instead of taken from the
/// template task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fresh {
    /// The new task's uuid (a UUID v7 made in the lock statement).
    TaskId,
    /// The new target server's uuid (a UUID v7 made in the lock statement).
    TargetId,
    /// The locked pool source.
    SourceId,
    /// The create's time, in ms since the epoch.
    Now,
    /// A new object id, from the `nextval` batch, in the order `TreeRows::build` gives them.
    Id,
    /// The new object id of the row's parent (a disk, a volume group, a Btrfs filesystem).
    Parent,
}

/// What a table of the created tree is to the create script.
#[derive(Debug, Clone, Copy)]
enum Shape {
    /// The task row.
    Task,
    /// The target server row.
    Target,
    /// A row of the target server's tree, linked by `link` to the target server (`parent`
    /// `None`) or to a row of the tree table `parent`.
    Tree { link: &'static str, parent: Option<&'static str> },
}

/// The tables `POST /v3/tasks` writes, as the script knows them; tree tables in the order
/// `TreeRows::build` gives ids (each top-level row, then its children).
const TABLES: &[(&str, Shape)] = &[
    ("tasks", Shape::Task),
    ("servers", Shape::Target),
    ("disks", Shape::Tree { link: "server_id", parent: None }),
    ("physical_volumes", Shape::Tree { link: "disk_row_id", parent: Some("disks") }),
    ("volume_groups", Shape::Tree { link: "server_id", parent: None }),
    ("logical_volumes", Shape::Tree { link: "volume_group_id", parent: Some("volume_groups") }),
    ("btrfs_filesystems", Shape::Tree { link: "server_id", parent: None }),
    ("btrfs_subvolumes", Shape::Tree { link: "filesystem_id", parent: Some("btrfs_filesystems") }),
    ("networks", Shape::Tree { link: "server_id", parent: None }),
];

impl Shape {
    fn of(table: &str) -> Option<Shape> {
        TABLES.iter().find(|(t, _)| *t == table).map(|(_, shape)| *shape)
    }

    /// The columns that get fresh values, and which.
    fn fresh(self) -> Vec<(&'static str, Fresh)> {
        match self {
            Shape::Task => {
                vec![("id", Fresh::TaskId), ("source_server_id", Fresh::SourceId), ("create_date", Fresh::Now)]
            }
            Shape::Target => vec![("id", Fresh::TargetId), ("task_id", Fresh::TaskId), ("add_date", Fresh::Now)],
            Shape::Tree { link, parent: None } => vec![("id", Fresh::Id), (link, Fresh::TargetId)],
            Shape::Tree { link, parent: Some(_) } => vec![("id", Fresh::Id), (link, Fresh::Parent)],
        }
    }

    /// The template's rows of the table (alias `x`; `$1` the template task, `$2` its target
    /// server) and their order, the order the service writes them in.
    fn template_rows(self, table: &str) -> (String, &'static str) {
        match self {
            Shape::Task => (format!("{table} x WHERE x.id = $1"), "x.id"),
            Shape::Target => (format!("{table} x WHERE x.task_id = $1"), "x.id"),
            Shape::Tree { link, parent: None } => (format!("{table} x WHERE x.{link} = $2"), "x.position"),
            Shape::Tree { link, parent: Some(parent) } => (
                format!("{table} x JOIN {parent} p ON p.id = x.{link} WHERE p.server_id = $2"),
                "p.position, x.position",
            ),
        }
    }
}

/// A create statement of the service, as the script reproduces it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum CreateStatement {
    Lock,
    AllocateIds,
    /// `INSERT INTO {table} ({columns}) SELECT * FROM UNNEST($1, …, $n)`, one typed array per
    /// column.
    Insert {
        sql: String,
        table: String,
        columns: Vec<String>,
        types: Vec<String>,
    },
}

/// Whether `name` is a plain lower-case SQL identifier.
fn identifier(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

impl CreateStatement {
    /// What `statement` is to the create script, or why the script cannot reproduce it.
    fn parse(statement: &Prepared) -> Result<CreateStatement, String> {
        let sql = statement.sql.as_str();
        if sql == LOCK_SOURCE {
            return Ok(CreateStatement::Lock);
        }
        if sql == ALLOCATE_IDS {
            return Ok(CreateStatement::AllocateIds);
        }
        let unnest = || -> Option<(&str, Vec<&str>, &str)> {
            let (table, rest) = sql.strip_prefix("INSERT INTO ")?.split_once(" (")?;
            let (columns, rest) = rest.split_once(") SELECT * FROM UNNEST(")?;
            Some((table, columns.split(", ").collect(), rest.strip_suffix(')')?))
        };
        let Some((table, columns, parameters)) = unnest() else {
            return Err("not a statement shape it knows".into());
        };
        if !identifier(table) || !columns.iter().all(|c| identifier(c)) {
            return Err("not a statement shape it knows".into());
        }
        let expected: Vec<String> = (1..=columns.len()).map(|n| format!("${n}")).collect();
        if parameters != expected.join(", ") || statement.types.len() != columns.len() {
            return Err(format!("UNNEST does not take `$1, …, ${}`, one array per column", columns.len()));
        }
        if let Some(ty) = statement.types.iter().find(|ty| !ty.ends_with("[]")) {
            return Err(format!("a parameter of UNNEST is not an array ({ty})"));
        }
        let Some(shape) = Shape::of(table) else {
            return Err(format!("it does not know table {table} (teach `TABLES`)"));
        };
        if let Some((column, _)) = shape.fresh().into_iter().find(|(c, _)| !columns.contains(c)) {
            return Err(format!("column {column}, which it gives a fresh value, is not written"));
        }
        Ok(CreateStatement::Insert {
            sql: sql.into(),
            table: table.into(),
            columns: columns.into_iter().map(String::from).collect(),
            types: statement.types.clone(),
        })
    }
}

/// The service's create statements as the script reproduces them, or, when it cannot
/// reproduce some, [`create_drift`]'s complaints.
fn create_statements(service_create: &[Prepared]) -> Result<Vec<CreateStatement>, Vec<String>> {
    let mut drift = Vec::new();
    let mut statements = Vec::new();
    for p in service_create {
        match CreateStatement::parse(p) {
            Ok(CreateStatement::Insert { table, .. })
                if statements.iter().any(|s| matches!(s, CreateStatement::Insert { table: t, .. } if *t == table)) =>
            {
                drift.push(format!(
                    "the service runs `{}` for a create, a second statement writing {table}; the pgbench create \
                     script writes each table once",
                    p.sql
                ));
            }
            Ok(statement) => statements.push(statement),
            Err(why) => drift
                .push(format!("the service runs `{}` for a create; the pgbench create script does not ({why})", p.sql)),
        }
    }
    for (known, sql) in [(CreateStatement::Lock, LOCK_SOURCE), (CreateStatement::AllocateIds, ALLOCATE_IDS)] {
        if !statements.contains(&known) {
            drift.push(format!("the pgbench create script runs `{sql}`; the service no longer does"));
        }
    }
    if drift.is_empty() {
        Ok(statements)
    } else {
        Err(drift)
    }
}

/// How the create script differs from `service_create`, the statements the service ran for a
/// create (capture.rs): the statements it runs that the script cannot reproduce, and those of
/// the script it no longer runs. Empty when they agree.
pub fn create_drift(service_create: &[Prepared]) -> Vec<String> {
    create_statements(service_create).err().unwrap_or_default()
}

/// A table's rows of the template task, for the script: the array literal of each column
/// (`None` for the columns that get fresh values) and, for tree tables, the fresh-id numbers
/// (1-based, in the `nextval` batch) of each row and of its parent.
struct TemplateTable {
    rows: usize,
    literals: Vec<Option<String>>,
    ids: Vec<usize>,
    parents: Vec<usize>,
}

/// The template's rows of each table `statements` insert into (in `TABLES` order), and the
/// number of fresh ids they take.
async fn template_tables(
    pool: &PgPool,
    template_task: Uuid,
    statements: &[CreateStatement],
) -> anyhow::Result<(Vec<(&'static str, TemplateTable)>, usize)> {
    let target: Uuid = sqlx::query_scalar("SELECT id FROM servers WHERE task_id = $1")
        .bind(template_task)
        .fetch_one(pool)
        .await
        .context("the template task's target server")?;
    // Each table's number of rows and, in the service's order, (old id, old parent id) of the
    // tree's rows.
    let (mut counts, mut keys) = (Vec::<usize>::new(), Vec::<Vec<(i64, Option<i64>)>>::new());
    for &(table, shape) in TABLES {
        let (from, order) = shape.template_rows(table);
        let select = match shape {
            Shape::Tree { link, parent: Some(_) } => format!("SELECT x.id, x.{link} FROM {from} ORDER BY {order}"),
            Shape::Tree { parent: None, .. } => format!("SELECT x.id, NULL::bigint FROM {from} ORDER BY {order}"),
            // Not tree rows: no object ids.
            Shape::Task | Shape::Target => format!("SELECT NULL::bigint, NULL::bigint FROM {from}"),
        };
        let rows: Vec<(Option<i64>, Option<i64>)> = sqlx::query_as(&select)
            .bind(template_task)
            .bind(target)
            .fetch_all(pool)
            .await
            .with_context(|| format!("the template's rows of {table}"))?;
        counts.push(rows.len());
        keys.push(rows.into_iter().filter_map(|(id, parent)| Some((id?, parent))).collect());
    }
    // Fresh-id numbers as `TreeRows::build` takes them: each top-level row, then its children.
    let mut numbers: Vec<Vec<usize>> = keys.iter().map(|k| vec![0; k.len()]).collect();
    let mut parents: Vec<Vec<usize>> = keys.iter().map(|k| vec![0; k.len()]).collect();
    let mut next = 0usize;
    for (top, &(_, shape)) in TABLES.iter().enumerate() {
        if !matches!(shape, Shape::Tree { parent: None, .. }) {
            continue;
        }
        for row in 0..keys[top].len() {
            next += 1;
            numbers[top][row] = next;
            let (old_id, parent_number) = (keys[top][row].0, next);
            for (child, &(_, child_shape)) in TABLES.iter().enumerate() {
                if !matches!(child_shape, Shape::Tree { parent: Some(p), .. } if p == TABLES[top].0) {
                    continue;
                }
                for (i, key) in keys[child].iter().enumerate() {
                    if key.1 == Some(old_id) {
                        next += 1;
                        numbers[child][i] = next;
                        parents[child][i] = parent_number;
                    }
                }
            }
        }
    }
    let mut tables = Vec::new();
    for (i, &(table, shape)) in TABLES.iter().enumerate() {
        let rows = counts[i];
        let statement = statements.iter().find_map(|s| match s {
            CreateStatement::Insert { table: t, columns, types, .. } if t == table => Some((columns, types)),
            _ => None,
        });
        let Some((columns, types)) = statement else {
            if rows > 0 {
                bail!(
                    "the template task has {rows} rows in {table}, but the service wrote none for the captured \
                     create: the capture and the template must use the same tree"
                );
            }
            continue;
        };
        if rows == 0 {
            continue; // `RowSet::insert` sends nothing for no rows.
        }
        // Every column's values, cast to the parameter's type and written as an array literal.
        let fresh = shape.fresh();
        let (from, order) = shape.template_rows(table);
        let arrays: Vec<String> = columns
            .iter()
            .zip(types)
            .map(|(column, ty)| match fresh.iter().any(|(c, _)| c == column) {
                true => "NULL::text".to_string(),
                false => format!("array_agg(x.{column}::{} ORDER BY {order})::text", &ty[..ty.len() - 2]),
            })
            .collect();
        let literals: Vec<Option<String>> =
            sqlx::query_scalar(&format!("SELECT ARRAY[{}] FROM {from}", arrays.join(", ")))
                .bind(template_task)
                .bind(target)
                .fetch_one(pool)
                .await
                .with_context(|| format!("the template's values of {table}"))?;
        if let Some(unset) = numbers[i].iter().position(|&n| n == 0) {
            bail!("row {unset} of the template's {table} has no parent in the template");
        }
        tables.push((table, TemplateTable { rows, literals, ids: numbers[i].clone(), parents: parents[i].clone() }));
    }
    Ok((tables, next))
}

/// The variable of column `n` (1-based) of `table`: `tpl_…` for the template's values (`-D`),
/// `new_…` for fresh ones (`\gset`).
fn column_variable(table: &str, n: usize, fresh: bool) -> String {
    format!("{}_{table}_c{n}", if fresh { "new" } else { "tpl" })
}

/// The lock of the pool source, as the service's lock, returning in the same round trip (for
/// `\gset`) the fresh values of `lock_fresh`: (variable, value, rows).
fn lock_command(lock_fresh: &[(String, Fresh, usize)]) -> String {
    let mut select = String::from("SELECT connected");
    for (variable, fresh, rows) in lock_fresh {
        let value = match fresh {
            Fresh::TaskId => "f.new_task",
            Fresh::TargetId => "f.new_target",
            Fresh::SourceId => "servers.id",
            Fresh::Now => "f.now_ms",
            Fresh::Id | Fresh::Parent => unreachable!("object ids come from the nextval batch"),
        };
        let _ = write!(select, ",\n       array_fill({value}, ARRAY[{rows}])::text AS {variable}");
    }
    format!(
        "{select}
  FROM servers, (SELECT {UUID_V7} AS new_task, {UUID_V7} AS new_target,
                        (extract(epoch FROM clock_timestamp()) * 1000)::bigint AS now_ms) f
 WHERE domain_id = :dom::text AND id = {POOL_SOURCE_ID} AND role = 'source' FOR UPDATE OF servers \\gset"
    )
}

/// A new UUID v7 of the clock, as the service's `Uuid::now_v7()`: a v4's random bits under the
/// 48-bit Unix time in milliseconds, the version nibble turned from 4 into 7.
const UUID_V7: &str = "encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid()) PLACING \
     substring(int8send((extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3) FROM 1 FOR 6), 52, 1), 53, 1), \
     'hex')::uuid";

/// The service's `nextval` batch of `:nids` ids, handing each row of the tree its id and its
/// parent's (`ids_fresh`: variable, fresh-id numbers) as array literals, for `\gset`.
fn ids_command(ids_fresh: &[(String, Vec<usize>)]) -> String {
    let arrays: Vec<String> = ids_fresh
        .iter()
        .map(|(variable, numbers)| {
            let elements: Vec<String> = numbers.iter().map(|n| format!("a[{n}]")).collect();
            format!("ARRAY[{}]::text AS {variable}", elements.join(", "))
        })
        .collect();
    let batch = ALLOCATE_IDS.replace("$1", ":nids::bigint");
    format!("SELECT {}\n  FROM (SELECT array_agg(n) AS a FROM ({batch}) s(n)) ids \\gset", arrays.join(",\n       "))
}

/// `POST /v3/tasks` with the tree of `template_task` (a task the service created): the token
/// lookup, then the service's create statements (`service_create`, capture.rs) in its order, in
/// one transaction; each `INSERT … SELECT * FROM UNNEST($1, …)` exactly as the service sends
/// it, each `$n` a variable holding the array of the column's values.
///
/// `service_list` gives the auth lookup (the statements a list page ran, capture.rs).
pub async fn create_script(
    pool: &PgPool,
    domain: &str,
    token: &str,
    template_task: Uuid,
    service_list: &[Prepared],
    service_create: &[Prepared],
) -> anyhow::Result<Script> {
    let statements = create_statements(service_create).map_err(|drift| {
        anyhow::anyhow!("the pgbench create script cannot follow the service's SQL:\n{}", drift.join("\n"))
    })?;
    let (tables, id_count) = template_tables(pool, template_task, &statements).await?;

    let mut variables = common_variables(domain, token);
    variables.push(("nids".into(), id_count.to_string()));
    // Each insert, and the fresh values the lock and the id batch hand it.
    let mut inserts: Vec<(String, String)> = Vec::new();
    let mut lock_fresh: Vec<(String, Fresh, usize)> = Vec::new();
    let mut ids_fresh: Vec<(String, Vec<usize>)> = Vec::new();
    for statement in &statements {
        let CreateStatement::Insert { sql, table, columns, types } = statement else { continue };
        let Some((name, template)) = tables.iter().find(|(t, _)| t == table) else {
            continue; // no rows in the template: the service sends nothing either
        };
        let shape = Shape::of(table).context("a known table")?;
        let fresh = shape.fresh();
        let mut bound = Vec::new();
        for (i, (column, ty)) in columns.iter().zip(types).enumerate() {
            let n = i + 1;
            let kind = fresh.iter().find(|(c, _)| c == column).map(|(_, kind)| *kind);
            let variable = column_variable(name, n, kind.is_some());
            match kind {
                None => {
                    let literal =
                        template.literals[i].clone().with_context(|| format!("no values of {table}.{column}"))?;
                    variables.push((variable.clone(), literal));
                }
                Some(Fresh::Id) => ids_fresh.push((variable.clone(), template.ids.clone())),
                Some(Fresh::Parent) => ids_fresh.push((variable.clone(), template.parents.clone())),
                Some(kind) => lock_fresh.push((variable.clone(), kind, template.rows)),
            }
            bound.push((n, format!(":{variable}::{ty}")));
        }
        // From the last: `$1` must not replace the start of `$10`.
        let sql = bound.iter().rev().fold(sql.clone(), |sql, (n, value)| sql.replace(&format!("${n}"), value));
        inserts.push((table.clone(), sql + ";"));
    }
    let auth: Vec<String> =
        auth_statements(service_list).into_iter().map(pgbench_command).collect::<anyhow::Result<_>>()?;
    let mut text = format!(
        "-- The SQL of POST /v3/tasks (src/store/tasks.rs `create`, src/store/servers.rs `insert`), as the service \
         ran it (read back from PostgreSQL), in order.
\\set k :k + 1
\\set n :client_id * {CLIENT_STEP} + :k
{auth}
BEGIN;
",
        auth = auth.join("\n")
    );
    // Each fresh variable must be set (by the lock or the id batch) before an insert reads it.
    let (mut locked, mut allocated) = (false, false);
    for statement in &statements {
        match statement {
            CreateStatement::Lock => {
                locked = true;
                text.push_str(&lock_command(&lock_fresh));
            }
            CreateStatement::AllocateIds if id_count == 0 => continue, // `allocate_ids` sends nothing
            CreateStatement::AllocateIds => {
                allocated = true;
                text.push_str(&ids_command(&ids_fresh));
            }
            CreateStatement::Insert { table, .. } => {
                let Some((_, sql)) = inserts.iter().find(|(t, _)| t == table) else { continue };
                let needs_lock = lock_fresh.iter().any(|(v, _, _)| sql.contains(&format!(":{v}::")));
                let needs_ids = ids_fresh.iter().any(|(v, _)| sql.contains(&format!(":{v}::")));
                if (needs_lock && !locked) || (needs_ids && !allocated) {
                    bail!(
                        "the service writes {table} before it locks the source or allocates the ids its rows take; \
                         the pgbench create script cannot give them fresh values: {sql}"
                    );
                }
                text.push_str(sql);
            }
        }
        text.push('\n');
    }
    text.push_str("COMMIT;\n");
    variables.push(("k".into(), "0".into()));
    Ok(Script { name: "create", text, variants: Vec::new(), variables, options: None })
}

/// Columns the service does not write but the database fills with a random default (a task's
/// passphrase): they differ between any two rows, so the comparison leaves them out.
#[cfg(test)]
const RANDOM_DEFAULTS: &[(&str, &str)] = &[("tasks", "passphrase")];

/// Every row `POST /v3/tasks` wrote for `task`, as JSON without the columns the create script
/// gives fresh values (the same for every task created from one template), table by table,
/// then the order of the tree's ids (each row's rank among them).
#[cfg(test)]
pub async fn rows_but_fresh(
    pool: &PgPool,
    task: Uuid,
) -> anyhow::Result<Vec<(&'static str, Option<serde_json::Value>)>> {
    let target: Uuid =
        sqlx::query_scalar("SELECT id FROM servers WHERE task_id = $1").bind(task).fetch_one(pool).await?;
    let (mut tables, mut ids) = (Vec::new(), Vec::<Vec<i64>>::new());
    for &(table, shape) in TABLES {
        let (from, order) = shape.template_rows(table);
        let random = RANDOM_DEFAULTS.iter().filter(|(t, _)| *t == table).map(|(_, column)| *column);
        let fresh: String =
            shape.fresh().iter().map(|(column, _)| *column).chain(random).map(|c| format!(" - '{c}'")).collect();
        let rows = sqlx::query_scalar(&format!("SELECT jsonb_agg(to_jsonb(x){fresh} ORDER BY {order}) FROM {from}"))
            .bind(task)
            .bind(target)
            .fetch_one(pool)
            .await?;
        tables.push((table, rows));
        if matches!(shape, Shape::Tree { .. }) {
            let select = format!("SELECT coalesce(array_agg(x.id ORDER BY {order}), '{{}}') FROM {from}");
            ids.push(sqlx::query_scalar(&select).bind(task).bind(target).fetch_one(pool).await?);
        }
    }
    let mut all: Vec<i64> = ids.iter().flatten().copied().collect();
    all.sort_unstable();
    let ranks: Vec<Vec<usize>> =
        ids.iter().map(|table| table.iter().map(|id| all.binary_search(id).unwrap_or(usize::MAX)).collect()).collect();
    tables.push(("tree id ranks", Some(serde_json::json!(ranks))));
    Ok(tables)
}

/// The uuid of pool source `:n`.
const POOL_SOURCE_ID: &str = "('ffffffff-0000-4000-8000-' || lpad(:n::text, 12, '0'))::uuid";

/// Inserts the sources a create run of `clients` clients for `duration` may lock (untimed).
pub async fn insert_source_pool(pool: &PgPool, domain: &str, clients: usize, duration: Duration) -> anyhow::Result<()> {
    let per_client = (CREATE_POOL_PER_SEC * duration.as_secs().max(1)).div_ceil(clients as u64).max(100);
    // The same uuid as POOL_SOURCE_ID computes from `:n`.
    let id = format!("('ffffffff-0000-4000-8000-' || lpad((c * {CLIENT_STEP} + k)::text, 12, '0'))::uuid");
    sqlx::query(&format!(
        "INSERT INTO servers (id, domain_id, role, name, ip, os_type, os_version, state, connected, add_date)
         SELECT {id}, $1, 'source', $2 || (c * {CLIENT_STEP} + k), '10.250.0.1', 'LINUX', 'CENTOS_7_64BIT',
                'waiting', true, (extract(epoch FROM clock_timestamp()) * 1000)::bigint
         FROM generate_series(0, $3 - 1) c, generate_series(1, $4) k"
    ))
    .bind(domain)
    .bind(format!("{}pgb-", crate::bodies::BENCH_PREFIX))
    .bind(clients as i64)
    .bind(per_client as i64)
    .execute(pool)
    .await?;
    Ok(())
}

/// Runs `pgbench -n -M prepared -c C -j min(C,2) -T D` on `script`; returns its tps (without
/// the initial connection time).
pub async fn run(
    pgbench: &Path,
    dir: &Path,
    database_url: &str,
    script: &Script,
    clients: usize,
    duration: Duration,
) -> anyhow::Result<f64> {
    let file = dir.join(format!("pgbench-{}.sql", script.name));
    std::fs::write(&file, &script.text)?;
    let mut variants = Vec::new();
    for (k, text) in script.variants.iter().enumerate() {
        let variant = dir.join(format!("pgbench-{}-{}.sql", script.name, k + 1));
        std::fs::write(&variant, text)?;
        variants.push(variant);
    }
    let mut command = tokio::process::Command::new(pgbench);
    command.args(["-n", "-M", "prepared"]);
    command.args(["-c", &clients.to_string(), "-j", &clients.min(2).to_string()]);
    command.args(["-T", &duration.as_secs().max(1).to_string()]);
    for (name, value) in &script.variables {
        command.arg("-D").arg(format!("{name}={value}"));
    }
    command.arg("-f").arg(&file);
    for variant in &variants {
        command.arg("-f").arg(variant);
    }
    command.arg(database_url).kill_on_drop(true);
    if let Some(options) = script.options {
        command.env("PGOPTIONS", options);
    }
    // The same run by hand (with `--keep`, the files stay).
    let line: Vec<String> = std::iter::once(command.as_std().get_program())
        .chain(command.as_std().get_args())
        .map(|arg| shell_quote(&arg.to_string_lossy()))
        .collect();
    let env = script.options.map_or_else(String::new, |o| format!("env PGOPTIONS={} ", shell_quote(o)));
    std::fs::write(file.with_extension("sh"), format!("#!/bin/sh\nexec {env}{} \"$@\"\n", line.join(" ")))?;
    let output = tokio::time::timeout(duration + Duration::from_secs(120), command.output())
        .await
        .context("pgbench did not finish")?
        .with_context(|| format!("cannot run {}", pgbench.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let failed = stdout.lines().any(|l| l.starts_with("number of failed transactions:") && !l.contains(": 0 "));
    if !output.status.success() || failed || stderr.contains("aborted") {
        bail!("pgbench {} failed ({}):\n{stdout}\n{stderr}\nscript: {}", script.name, output.status, file.display());
    }
    parse_tps(&stdout).with_context(|| format!("no tps in the pgbench output:\n{stdout}"))
}

fn shell_quote(arg: &str) -> String {
    format!("'{}'", arg.replace('\'', "'\\''"))
}

fn parse_tps(output: &str) -> Option<f64> {
    output
        .lines()
        .find(|l| l.starts_with("tps = ") && l.contains("without initial connection time"))
        .and_then(|l| l.trim_start_matches("tps = ").split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prepared(sql: &str, types: &[&str]) -> Prepared {
        Prepared { sql: sql.into(), types: types.iter().map(|t| t.to_string()).collect() }
    }

    #[test]
    fn list_parameters_become_pgbench_variables() {
        let page = prepared(
            "SELECT * FROM tasks WHERE domain_id = $1 ORDER BY create_date DESC, id DESC LIMIT $2 OFFSET $3",
            &["text", "bigint", "bigint"],
        );
        assert_eq!(
            pgbench_command(&page).unwrap(),
            "SELECT * FROM tasks WHERE domain_id = :dom::text ORDER BY create_date DESC, id DESC \
             LIMIT :lim::bigint OFFSET :off::bigint;"
        );
        let sources = prepared("SELECT id FROM servers WHERE domain_id = $1 AND id = ANY($2)", &["text", "uuid[]"]);
        assert_eq!(
            pgbench_command(&sources).unwrap(),
            "SELECT id FROM servers WHERE domain_id = :dom::text AND id = ANY(:srcs::uuid[]);"
        );
        let children = prepared("SELECT * FROM subtasks WHERE task_id = ANY($2) AND domain_id=$1", &["text", "uuid[]"]);
        assert_eq!(
            pgbench_command(&children).unwrap(),
            "SELECT * FROM subtasks WHERE task_id = ANY(:ids::uuid[]) AND domain_id=:dom::text;"
        );
        let auth = prepared("SELECT domain_id FROM auth_tokens WHERE token_sha256 = $1", &["bytea"]);
        assert_eq!(auth_statements(&[page.clone(), auth.clone()]), vec![&auth]);
    }

    #[test]
    fn an_unknown_list_parameter_fails() {
        let unknown = prepared("SELECT * FROM tasks WHERE domain_id = $1 AND create_date < $2", &["text", "bigint"]);
        assert!(pgbench_command(&unknown).unwrap_err().to_string().contains("parameter $2"));
        let ten = prepared(&format!("SELECT 1 WHERE domain_id = $10{}", ""), &[]);
        assert_eq!(parameter_at(&ten.sql, 1), None);
    }

    #[test]
    fn create_drift_names_both_sides() {
        let service = [
            prepared(LOCK_SOURCE, &["text", "uuid"]),
            prepared(
                "INSERT INTO tasks (id, domain_id, source_server_id, name, create_date) SELECT * FROM UNNEST($1, $2, $3, $4, $5)",
                &["uuid[]", "text[]", "uuid[]", "text[]", "bigint[]"],
            ),
            prepared(ALLOCATE_IDS, &["bigint"]),
            prepared(
                "INSERT INTO disks (id, domain_id, server_id, position, name) SELECT * FROM UNNEST($1, $2, $3, $4, $5)",
                &["bigint[]", "text[]", "uuid[]", "integer[]", "text[]"],
            ),
        ];
        assert_eq!(create_drift(&service), Vec::<String>::new());
        // Any other shape, an unknown table, a fresh column the service no longer writes, a
        // parameter that is not an array, and a known statement the service no longer runs.
        let json = prepared("INSERT INTO disks SELECT * FROM jsonb_populate_recordset(NULL::disks, $1)", &["jsonb"]);
        let unknown = prepared("INSERT INTO gpus (id, name) SELECT * FROM UNNEST($1, $2)", &["bigint[]", "text[]"]);
        let no_date = prepared(
            "INSERT INTO tasks (id, domain_id, source_server_id) SELECT * FROM UNNEST($1, $2, $3)",
            &["uuid[]", "text[]", "uuid[]"],
        );
        let scalar =
            prepared("INSERT INTO networks (id, server_id) SELECT * FROM UNNEST($1, $2)", &["bigint", "uuid[]"]);
        let cast = prepared(
            "INSERT INTO networks (id, server_id) SELECT * FROM UNNEST($1::bigint[], $2)",
            &["bigint[]", "uuid[]"],
        );
        let drift = create_drift(&[service[0].clone(), json, unknown, no_date, scalar, cast]);
        assert_eq!(drift.len(), 6, "{drift:#?}");
        assert!(drift[0].contains("jsonb_populate_recordset") && drift[0].contains("shape"), "{drift:?}");
        assert!(drift[1].contains("table gpus"), "{drift:?}");
        assert!(drift[2].contains("column create_date"), "{drift:?}");
        assert!(drift[3].contains("not an array"), "{drift:?}");
        assert!(drift[4].contains("one array per column"), "{drift:?}");
        assert!(drift[5].contains("nextval") && drift[5].contains("no longer"), "{drift:?}");
        let twice = create_drift(&[service.to_vec(), vec![service[3].clone()]].concat());
        assert!(twice.len() == 1 && twice[0].contains("second statement writing disks"), "{twice:?}");
    }

    #[test]
    fn fresh_values_come_from_the_lock_and_the_id_batch() {
        let lock =
            lock_command(&[("new_tasks_c1".into(), Fresh::TaskId, 1), ("new_disks_c3".into(), Fresh::TargetId, 2)]);
        assert!(lock.starts_with("SELECT connected,\n       array_fill(f.new_task, ARRAY[1])::text AS new_tasks_c1,"));
        assert!(lock.contains("array_fill(f.new_target, ARRAY[2])::text AS new_disks_c3"), "{lock}");
        assert!(lock.ends_with("FOR UPDATE OF servers \\gset"), "{lock}");
        let ids =
            ids_command(&[("new_disks_c1".into(), vec![1, 4]), ("new_physical_volumes_c3".into(), vec![1, 1, 4])]);
        assert_eq!(
            ids,
            "SELECT ARRAY[a[1], a[4]]::text AS new_disks_c1,\n       ARRAY[a[1], a[1], a[4]]::text AS new_physical_volumes_c3\n  \
             FROM (SELECT array_agg(n) AS a FROM (SELECT nextval('object_id_seq') FROM generate_series(1, :nids::bigint)) s(n)) ids \\gset"
        );
    }

    #[test]
    fn reads_tps_without_connection_time() {
        let out = "latency average = 1.0 ms\ninitial connection time = 3.1 ms\ntps = 1234.567890 (without initial connection time)\n";
        assert_eq!(super::parse_tps(out), Some(1234.56789));
    }
}
