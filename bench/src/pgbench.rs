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
//! The list script is generated from the statements the service itself ran for a list page
//! (capture.rs): each `$n` becomes the pgbench variable of what it binds, told by what it is
//! compared with (see [`list_variable`]); a parameter it cannot tell fails the run. The create
//! script sends its rows differently from the service (above), so it is written here, with the
//! generated auth lookup; [`create_drift`] compares what it reproduces ([`CREATE_STATEMENTS`])
//! with what the service ran for a create, and the run fails (and a test fails) on any
//! difference.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use serde_json::Value;
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
    pub variables: Vec<(String, String)>,
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
/// `task_id = ANY($n)` (the page's tasks) or `id = ANY($n)` (their sources).
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
    Ok(Script { name: "list", text, variables })
}

/// The statements of `POST /v3/tasks` that the create script reproduces (the service's
/// `tasks::create`, `servers::insert`, `insert_rows` and `allocate_ids`), as the service sends
/// them; `{t}` stands for a table name. The script gives them their parameters in SQL (see
/// the module comment).
pub const CREATE_STATEMENTS: &[&str] = &[
    "SELECT connected FROM servers WHERE domain_id = $1 AND id = $2 AND role = 'source' FOR UPDATE",
    "INSERT INTO {t} SELECT * FROM jsonb_populate_recordset(NULL::{t}, $1)",
    "SELECT nextval('object_id_seq') FROM generate_series(1, $1)",
];

/// Whether `sql` is `pattern` with one table name for every `{t}`.
fn matches(pattern: &str, sql: &str) -> bool {
    let mut parts = pattern.split("{t}");
    let Some(rest) = sql.strip_prefix(parts.next().unwrap_or_default()) else {
        return false;
    };
    let mut rest = rest;
    let mut table: Option<&str> = None;
    for part in parts {
        let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(rest.len());
        let (name, after) = rest.split_at(end);
        if name.is_empty() || table.is_some_and(|t| t != name) {
            return false;
        }
        table = Some(name);
        let Some(after) = after.strip_prefix(part) else {
            return false;
        };
        rest = after;
    }
    rest.is_empty()
}

/// How the create script differs from `service_create`, the statements the service ran for a
/// create (capture.rs): the statements it runs that the script does not reproduce, and those
/// of the script it no longer runs. Empty when they agree.
pub fn create_drift(service_create: &[Prepared]) -> Vec<String> {
    let mut drift: Vec<String> = service_create
        .iter()
        .filter(|p| !CREATE_STATEMENTS.iter().any(|pattern| matches(pattern, &p.sql)))
        .map(|p| format!("the service runs `{}` for a create; the pgbench create script does not", p.sql))
        .collect();
    drift.extend(
        CREATE_STATEMENTS
            .iter()
            .filter(|pattern| !service_create.iter().any(|p| matches(pattern, &p.sql)))
            .map(|pattern| format!("the pgbench create script runs `{pattern}`; the service no longer does")),
    );
    drift
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
///
/// `service_list` gives the auth lookup (the statements a list page ran, capture.rs).
pub async fn create_script(
    pool: &PgPool,
    domain: &str,
    token: &str,
    template_task: Uuid,
    service_list: &[Prepared],
) -> anyhow::Result<Script> {
    let task: Value = one_row(pool, "SELECT to_jsonb(t) FROM tasks t WHERE id = $1", template_task).await?;
    let target: Value = one_row(pool, "SELECT to_jsonb(s) FROM servers s WHERE task_id = $1", template_task).await?;
    let target_id: Uuid = target["id"].as_str().context("a target id")?.parse()?;
    let tree = template_tree(pool, target_id).await?;
    let id_count: usize = tree.iter().map(|t| t.rows.len()).sum();

    let mut variables = common_variables(domain, token);
    variables.push(("nids".into(), id_count.to_string()));
    variables.push(("tpl_task".into(), task.to_string()));
    variables.push(("tpl_target".into(), target.to_string()));
    let auth: Vec<String> =
        auth_statements(service_list).into_iter().map(pgbench_command).collect::<anyhow::Result<_>>()?;
    let auth = auth.join("\n");
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
        auth = auth
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
            prepared(CREATE_STATEMENTS[0], &["text", "uuid"]),
            prepared("INSERT INTO tasks SELECT * FROM jsonb_populate_recordset(NULL::tasks, $1)", &["jsonb"]),
            prepared("INSERT INTO disks SELECT * FROM jsonb_populate_recordset(NULL::disks, $1)", &["jsonb"]),
            prepared(CREATE_STATEMENTS[2], &["bigint"]),
        ];
        assert_eq!(create_drift(&service), Vec::<String>::new());
        assert!(!matches(
            CREATE_STATEMENTS[1],
            "INSERT INTO disks SELECT * FROM jsonb_populate_recordset(NULL::tasks, $1)"
        ));
        let unnest = prepared("INSERT INTO disks (id, name) SELECT * FROM UNNEST($1::bigint[], $2::text[])", &[]);
        let drift = create_drift(&[service[0].clone(), service[3].clone(), unnest]);
        assert_eq!(drift.len(), 2, "{drift:?}");
        assert!(drift[0].contains("UNNEST") && drift[1].contains("jsonb_populate_recordset"), "{drift:?}");
    }

    #[test]
    fn reads_tps_without_connection_time() {
        let out = "latency average = 1.0 ms\ninitial connection time = 3.1 ms\ntps = 1234.567890 (without initial connection time)\n";
        assert_eq!(super::parse_tps(out), Some(1234.56789));
    }
}
