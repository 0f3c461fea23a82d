//! PostgreSQL's own throughput for the work of a list page and of a create: `pgbench` runs the
//! statements the service runs (src/store/tasks.rs, src/store/mod.rs, src/auth), with the same
//! parameters, as prepared statements like sqlx's, at the same concurrency.
//!
//! What differs from the service, on purpose:
//! - List: the page's ids (the `= ANY($2)` arrays of the child queries) are read once before
//!   the run and passed with `-D`, instead of being carried from the page query with `\gset`:
//!   `\gset` needs a one-row result, so the page query would have to aggregate instead of
//!   sending its 200 rows, and PostgreSQL would do less work than it does for the service.
//!   Nothing writes during the list runs, so every page has these ids.
//! - Create: the rows are those of a task the service created (read back with `to_jsonb`),
//!   sent as JSON text parameters and given fresh ids in SQL (`gen_random_uuid()`, the
//!   `nextval` batch carried with `\gset`), so `jsonb_populate_recordset` inserts the same
//!   rows. The source-row lock returns the new uuids in the same round trip. Each transaction
//!   locks a fresh source from a pool inserted before the run (untimed), chosen by
//!   `:client_id` and a per-client counter, as each service create uses a fresh source.
//! - Both run the token lookup the auth middleware runs for each request.
//!
//! The statements are copied from the service's source; [`drift`] checks, against the source
//! this binary was built from, that they are still there (the table warns, a test fails).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

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
    pub variables: Vec<(String, String)>,
}

/// The variables every script uses: the domain, and the token hash the auth lookup binds.
fn common_variables(domain: &str, token: &str) -> Vec<(String, String)> {
    use sha2::Digest;
    let hash = hex::encode(sha2::Sha256::digest(token.as_bytes()));
    vec![("dom".into(), domain.into()), ("tokhash".into(), format!("\\x{hash}"))]
}

/// A statement the service runs, and the pgbench variables of its parameters `$1`, `$2`, ….
struct Statement {
    /// The SQL as the service sends it.
    sql: &'static str,
    /// How it is written in the service's source: the literal itself (empty), or the pieces a
    /// `QueryBuilder` joins.
    pieces: &'static [&'static str],
    params: &'static [&'static str],
}

impl Statement {
    /// The statement with `:variables` for its parameters, as a pgbench script line.
    fn pgbench(&self) -> String {
        let mut sql = self.sql.to_string();
        // From the last: `$1` must not replace the start of `$10`.
        for (i, param) in self.params.iter().enumerate().rev() {
            sql = sql.replace(&format!("${}", i + 1), &format!(":{param}"));
        }
        sql + ";"
    }
}

const AUTH_LOOKUP: Statement = Statement {
    sql: "SELECT domain_id FROM auth_tokens WHERE token_sha256 = $1 AND revoked_at IS NULL",
    pieces: &[],
    params: &["tokhash::bytea"],
};

/// `GET /v3/tasks` with no filter at an offset below the deferred join (src/store/tasks.rs
/// `count`, `page_query`, `page`), after the auth middleware's token lookup.
const LIST_STATEMENTS: &[Statement] = &[
    AUTH_LOOKUP,
    Statement {
        sql: "SELECT coalesce(sum(n), 0)::bigint FROM task_counts WHERE domain_id = $1",
        pieces: &["SELECT coalesce(sum(n), 0)::bigint FROM task_counts WHERE domain_id = "],
        params: &["dom"],
    },
    Statement {
        sql: "SELECT * FROM tasks WHERE domain_id = $1 ORDER BY create_date DESC, id DESC LIMIT $2 OFFSET $3",
        pieces: &["SELECT * FROM tasks", " WHERE domain_id = ", " ORDER BY create_date DESC, id DESC LIMIT ", " OFFSET "],
        params: &["dom", "lim", "off"],
    },
    Statement {
        sql: "SELECT * FROM subtasks WHERE domain_id = $1 AND task_id = ANY($2) ORDER BY task_id, position",
        pieces: &[],
        params: &["dom", "ids::uuid[]"],
    },
    Statement {
        sql: "SELECT * FROM special_configs WHERE domain_id = $1 AND task_id = ANY($2) ORDER BY task_id, position",
        pieces: &[],
        params: &["dom", "ids::uuid[]"],
    },
    Statement {
        sql: "SELECT id, ip, name, os_type, os_version, oem_system, state FROM servers WHERE domain_id = $1 AND id = ANY($2)",
        pieces: &[],
        params: &["dom", "srcs::uuid[]"],
    },
    Statement {
        sql: "SELECT id, task_id, vm_id, name, ip, os_type, os_version FROM servers WHERE domain_id = $1 AND task_id = ANY($2)",
        pieces: &[],
        params: &["dom", "ids::uuid[]"],
    },
    Statement {
        sql: "SELECT task_id, vm_id, name FROM task_clone_servers WHERE domain_id = $1 AND task_id = ANY($2)",
        pieces: &[],
        params: &["dom", "ids::uuid[]"],
    },
    Statement {
        sql: "SELECT * FROM task_network_checks WHERE domain_id = $1 AND task_id = ANY($2)",
        pieces: &[],
        params: &["dom", "ids::uuid[]"],
    },
];

/// The statements of `POST /v3/tasks` the create script reproduces (src/store/tasks.rs
/// `create`, src/store/servers.rs `insert`, src/store/mod.rs `insert_rows` and
/// `allocate_ids`); the script gives them their parameters in SQL (see the module comment).
const CREATE_STATEMENTS: &[Statement] = &[
    AUTH_LOOKUP,
    Statement {
        sql: "SELECT connected FROM servers WHERE domain_id = $1 AND id = $2 AND role = 'source' FOR UPDATE",
        pieces: &[],
        params: &[],
    },
    Statement {
        sql: "INSERT INTO <table> SELECT * FROM jsonb_populate_recordset(NULL::<table>, $1)",
        pieces: &["INSERT INTO {name} SELECT * FROM jsonb_populate_recordset(NULL::{name}, $1)"],
        params: &[],
    },
    Statement { sql: "SELECT nextval('object_id_seq') FROM generate_series(1, $1)", pieces: &[], params: &[] },
];

/// The service's source, as this binary was built: the statements above must appear in it.
const SERVICE_SOURCE: [&str; 4] = [
    include_str!("../../src/store/tasks.rs"),
    include_str!("../../src/store/servers.rs"),
    include_str!("../../src/store/mod.rs"),
    include_str!("../../src/store/credentials.rs"),
];

/// The statements of the scripts that the service's source no longer contains: when the
/// service's SQL changes, the scripts must follow, or pgbench measures other work.
pub fn drift() -> Vec<&'static str> {
    let found = |piece: &str| SERVICE_SOURCE.iter().any(|source| source.contains(piece));
    LIST_STATEMENTS
        .iter()
        .chain(CREATE_STATEMENTS)
        .flat_map(|s| if s.pieces.is_empty() { std::slice::from_ref(&s.sql) } else { s.pieces })
        .copied()
        .filter(|piece| !found(piece))
        .collect()
}

/// `GET /v3/tasks?limit=…&offset=…` with no filter.
pub async fn list_script(pool: &PgPool, domain: &str, token: &str, limit: i64, offset: i64) -> anyhow::Result<Script> {
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
        String::from("-- The SQL of GET /v3/tasks (src/store/tasks.rs `count` and `page`), statement for statement.\n");
    for statement in LIST_STATEMENTS {
        text.push_str(&statement.pgbench());
        text.push('\n');
    }
    Ok(Script { name: "list", text, variables })
}

/// One table's rows of a created task: the JSON of each stored row, and the columns that get
/// new values in each transaction.
struct TableRows {
    table: &'static str,
    rows: Vec<TemplateRow>,
}

struct TemplateRow {
    json: Value,
    /// (column, SQL expression) overriding the template's value.
    fresh: Vec<(&'static str, String)>,
}

/// `POST /v3/tasks` with the tree of `template_task` (a task the service created): the token
/// lookup, then `tasks::create` and `servers::insert` in one transaction.
pub async fn create_script(pool: &PgPool, domain: &str, token: &str, template_task: Uuid) -> anyhow::Result<Script> {
    let task: Value = one_row(pool, "SELECT to_jsonb(t) FROM tasks t WHERE id = $1", template_task).await?;
    let target: Value = one_row(pool, "SELECT to_jsonb(s) FROM servers s WHERE task_id = $1", template_task).await?;
    let target_id: Uuid = target["id"].as_str().context("a target id")?.parse()?;
    let tree = template_tree(pool, target_id).await?;
    let id_count: usize = tree.iter().map(|t| t.rows.len()).sum();

    let mut variables = common_variables(domain, token);
    variables.push(("nids".into(), id_count.to_string()));
    variables.push(("tpl_task".into(), task.to_string()));
    variables.push(("tpl_target".into(), target.to_string()));
    let mut text = format!(
        "-- The SQL of POST /v3/tasks (src/store/tasks.rs `create`, src/store/servers.rs `insert`).
\\set k :k + 1
\\set n :client_id * {CLIENT_STEP} + :k
{auth}
BEGIN;
SELECT connected, id AS src, gen_random_uuid() AS task_id, gen_random_uuid() AS target_id,
       (extract(epoch FROM clock_timestamp()) * 1000)::bigint AS now_ms
  FROM servers WHERE domain_id = :dom AND id = {POOL_SOURCE_ID} AND role = 'source' FOR UPDATE \\gset
INSERT INTO tasks SELECT * FROM jsonb_populate_recordset(NULL::tasks, jsonb_build_array(:tpl_task::jsonb
  || jsonb_build_object('id', :task_id::uuid, 'source_server_id', :src::uuid, 'create_date', :now_ms::bigint)));
INSERT INTO servers SELECT * FROM jsonb_populate_recordset(NULL::servers, jsonb_build_array(:tpl_target::jsonb
  || jsonb_build_object('id', :target_id::uuid, 'task_id', :task_id::uuid, 'add_date', :now_ms::bigint)));
SELECT array_agg(n)::text AS ids FROM (SELECT nextval('object_id_seq') AS n FROM generate_series(1, :nids)) s \\gset
",
        auth = AUTH_LOOKUP.pgbench()
    );
    for table in &tree {
        if table.rows.is_empty() {
            continue; // `insert_rows` sends nothing for an empty collection.
        }
        let mut rows = Vec::new();
        for (i, row) in table.rows.iter().enumerate() {
            let var = format!("tpl_{}_{i}", table.table);
            let fresh: Vec<String> = row.fresh.iter().map(|(column, expr)| format!("'{column}', {expr}")).collect();
            rows.push(format!(":{var}::jsonb || jsonb_build_object({})", fresh.join(", ")));
            variables.push((var, row.json.to_string()));
        }
        let _ = writeln!(
            text,
            "INSERT INTO {t} SELECT * FROM jsonb_populate_recordset(NULL::{t}, jsonb_build_array(\n  {}));",
            rows.join(",\n  "),
            t = table.table
        );
    }
    text.push_str("COMMIT;\n");
    variables.push(("k".into(), "0".into()));
    Ok(Script { name: "create", text, variables })
}

/// The uuid of pool source `:n`.
const POOL_SOURCE_ID: &str = "('ffffffff-0000-4000-8000-' || lpad(:n::text, 12, '0'))::uuid";

async fn one_row(pool: &PgPool, sql: &str, id: Uuid) -> anyhow::Result<Value> {
    sqlx::query_scalar(sql).bind(id).fetch_one(pool).await.with_context(|| format!("template row: {sql}"))
}

/// The stored tree below `server_id`, table by table in the order `TreeRows::build` gives ids
/// (a disk, then its volumes, then the next disk, …), each row's id and parent made fresh.
async fn template_tree(pool: &PgPool, server_id: Uuid) -> anyhow::Result<Vec<TableRows>> {
    let rows = |sql: &'static str| async move {
        sqlx::query_scalar::<_, Value>(sql).bind(server_id).fetch_all(pool).await.with_context(|| sql.to_string())
    };
    let disks = rows("SELECT to_jsonb(d) FROM disks d WHERE server_id = $1 ORDER BY position").await?;
    let volumes = rows(
        "SELECT to_jsonb(pv) FROM physical_volumes pv JOIN disks d ON d.id = pv.disk_row_id
         WHERE d.server_id = $1 ORDER BY d.position, pv.position",
    )
    .await?;
    let groups = rows("SELECT to_jsonb(g) FROM volume_groups g WHERE server_id = $1 ORDER BY position").await?;
    let logical = rows(
        "SELECT to_jsonb(lv) FROM logical_volumes lv JOIN volume_groups g ON g.id = lv.volume_group_id
         WHERE g.server_id = $1 ORDER BY g.position, lv.position",
    )
    .await?;
    let btrfs = rows("SELECT to_jsonb(f) FROM btrfs_filesystems f WHERE server_id = $1 ORDER BY position").await?;
    let subvolumes = rows(
        "SELECT to_jsonb(sv) FROM btrfs_subvolumes sv JOIN btrfs_filesystems f ON f.id = sv.filesystem_id
         WHERE f.server_id = $1 ORDER BY f.position, sv.position",
    )
    .await?;
    let networks = rows("SELECT to_jsonb(n) FROM networks n WHERE server_id = $1 ORDER BY position").await?;

    let mut next_id = 0usize;
    let mut fresh_id = || {
        next_id += 1;
        format!("(:ids::bigint[])[{next_id}]")
    };
    let target = || ":target_id::uuid".to_string();
    let mut tables: Vec<TableRows> = [
        "disks",
        "physical_volumes",
        "volume_groups",
        "logical_volumes",
        "btrfs_filesystems",
        "btrfs_subvolumes",
        "networks",
    ]
    .into_iter()
    .map(|table| TableRows { table, rows: Vec::new() })
    .collect();
    // (parent table, child table, parent rows, child rows, the child's parent column)
    let parents = [
        (0, 1, disks, volumes, "disk_row_id"),
        (2, 3, groups, logical, "volume_group_id"),
        (4, 5, btrfs, subvolumes, "filesystem_id"),
    ];
    for (parent_table, child_table, parent_rows, child_rows, link) in parents {
        for parent in parent_rows {
            let parent_id_expr = fresh_id();
            let old_parent_id = parent["id"].clone();
            tables[parent_table].rows.push(TemplateRow {
                json: parent,
                fresh: vec![("id", parent_id_expr.clone()), ("server_id", target())],
            });
            for child in child_rows.iter().filter(|c| c[link] == old_parent_id) {
                tables[child_table].rows.push(TemplateRow {
                    json: child.clone(),
                    fresh: vec![("id", fresh_id()), (link, parent_id_expr.clone())],
                });
            }
        }
    }
    for network in networks {
        tables[6].rows.push(TemplateRow { json: network, fresh: vec![("id", fresh_id()), ("server_id", target())] });
    }
    Ok(tables)
}

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
    let mut command = tokio::process::Command::new(pgbench);
    command.args(["-n", "-M", "prepared"]);
    command.args(["-c", &clients.to_string(), "-j", &clients.min(2).to_string()]);
    command.args(["-T", &duration.as_secs().max(1).to_string()]);
    for (name, value) in &script.variables {
        command.arg("-D").arg(format!("{name}={value}"));
    }
    command.arg("-f").arg(&file).arg(database_url).kill_on_drop(true);
    // The same run by hand (with `--keep`, the files stay).
    let line: Vec<String> = std::iter::once(command.as_std().get_program())
        .chain(command.as_std().get_args())
        .map(|arg| shell_quote(&arg.to_string_lossy()))
        .collect();
    std::fs::write(file.with_extension("sh"), format!("#!/bin/sh\nexec {} \"$@\"\n", line.join(" ")))?;
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
    /// Fails when the service's SQL changed and the pgbench scripts did not follow.
    #[test]
    fn scripts_run_the_statements_of_the_service() {
        assert_eq!(super::drift(), Vec::<&str>::new());
    }

    #[test]
    fn reads_tps_without_connection_time() {
        let out = "latency average = 1.0 ms\ninitial connection time = 3.1 ms\ntps = 1234.567890 (without initial connection time)\n";
        assert_eq!(super::parse_tps(out), Some(1234.56789));
    }
}
