//! The load benchmark of `sms-tasks`:
//!
//! ```text
//! cargo run --release -p sms-tasks-bench -- [--sizes 10000,1000000] [--duration-secs 5] [--keep]
//! cargo run --release -p sms-tasks-bench -- --smoke      # every scenario, tiny sizes, 1 s each (CI)
//! cargo run --release -p sms-tasks-bench -- --sizes 10000 --instances 1,2,3   # docs/scaling.md
//! cargo run --release -p sms-tasks-bench -- --peer postgraphile   # and PostGraphile beside it
//! ```
//!
//! For each size it seeds a database `sms_bench_<size>` with `sms-tasks seed` (or reuses a
//! kept one), starts the release `sms-tasks serve` on it, and measures from the client:
//! list pages (every filter, offsets 0 / 1,000 / 65,000, 1 / 8 / 32 clients), show (standard
//! and maximum tree), create and update at 8 clients, pgbench on the same SQL (list, show,
//! create), the service's peak RSS and, with `--peer postgraphile`, PostGraphile on the same
//! database (peer.rs). It prints markdown tables per size, then the growth between the
//! smallest and largest size and the issue's targets. It exits non-zero when a request
//! failed or an answer was wrong (never for a missed target: the numbers are noisy).

mod bodies;
mod capture;
mod db;
mod load;
mod peer;
mod pgbench;
mod report;
mod scale;
mod scenarios;
mod service;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use sms_tasks::db::LocalCluster;

use crate::bodies::{Tree, MAX_FANOUT};
use crate::report::{Comparison, Environment, PeerComparison, SizeReport};
use crate::scenarios::{Api, Fixtures, LIST_LIMIT, WRITE_CLIENTS};

/// The tenant every bench task belongs to, and the token that acts for it.
const DOMAIN: &str = "bench-domain";
const TOKEN: &str = "sms-bench-token-5b0f4c1e9d2a7e3f";

#[derive(Debug, Parser)]
#[command(name = "bench", about = "Load benchmark of the sms-tasks service (see docs/performance.md)")]
struct Args {
    /// Task counts to measure at, in one domain.
    #[arg(long, value_delimiter = ',', default_value = "10000,1000000")]
    sizes: Vec<usize>,
    /// Seconds per measurement.
    #[arg(long, default_value_t = 5)]
    duration_secs: u64,
    /// CI mode: sizes 200 and 1000, 1 s per measurement, every scenario.
    #[arg(long)]
    smoke: bool,
    /// The PostgreSQL server (its database part is replaced by `sms_bench_<size>`).
    #[arg(long, env = "DATABASE_URL", default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    database_url: String,
    /// Keep the seeded databases, to reuse them in the next run instead of seeding again.
    #[arg(long)]
    keep: bool,
    /// Instead of the scenarios: list, show and update against 1, 2, … `serve` processes on the
    /// same database (the first size), clients spread round-robin (docs/scaling.md).
    #[arg(long, value_delimiter = ',')]
    instances: Vec<usize>,
    /// Also measure a generic API over the same database (installed from npm when asked).
    #[arg(long, value_enum)]
    peer: Option<PeerKind>,
    /// Only show (and its pgbench and peer comparisons): a quick repeat of those figures.
    #[arg(long)]
    only_show: bool,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum PeerKind {
    /// PostGraphile 4.14 (`npm install postgraphile@4.14` into target/peer-postgraphile).
    Postgraphile,
}

/// What every size's run shares.
struct Bench {
    server: db::Server,
    sms_tasks: PathBuf,
    pgbench: PathBuf,
    /// Config file, service logs, pgbench scripts.
    dir: PathBuf,
    duration: Duration,
    keep: bool,
    /// PostGraphile's CLI, with `--peer postgraphile`.
    peer: Option<PathBuf>,
    only_show: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let mut args = Args::parse();
    if args.smoke {
        args.sizes = vec![200, 1_000];
        args.duration_secs = 1;
    }
    // Like the service and the tests: the server at --database-url when it answers, else a
    // private cluster from the installed PostgreSQL binaries (stopped when the bench ends).
    let cluster = match locate_server(&args.database_url).await {
        Ok(cluster) => cluster,
        Err(err) => {
            eprintln!("bench: {err:#}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(cluster) = &cluster {
        args.database_url = cluster.url("postgres");
    }
    let outcome = run(args).await;
    if let Some(cluster) = cluster {
        let _ = tokio::task::spawn_blocking(move || cluster.stop()).await;
    }
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!(
                "bench: some requests failed or answered wrongly, or the pgbench create script no longer \
                 runs the service's SQL (see the tables)"
            );
            ExitCode::FAILURE
        }
        Err(err) => {
            eprintln!("bench: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// The repository's root: the workspace of the service crate and of this one.
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("bench/ has a parent").to_path_buf()
}

/// `None` when the server at `url` answers (also used by capture.rs's test); else a private cluster started under
/// `target/bench-postgres`.
async fn locate_server(url: &str) -> anyhow::Result<Option<LocalCluster>> {
    let answers = tokio::time::timeout(Duration::from_secs(3), <sqlx::PgConnection as sqlx::Connection>::connect(url))
        .await
        .is_ok_and(|connected| connected.is_ok());
    if answers {
        return Ok(None);
    }
    let dir = workspace_root().join("target/bench-postgres");
    eprintln!("bench: no PostgreSQL answers at --database-url; starting a private cluster in {}", dir.display());
    let cluster = tokio::task::spawn_blocking(move || LocalCluster::start(&dir)).await??;
    Ok(Some(cluster))
}

/// Runs every size; `Ok(false)` when some request failed.
async fn run(args: Args) -> anyhow::Result<bool> {
    let mut sizes = args.sizes.clone();
    sizes.sort_unstable();
    sizes.dedup();
    anyhow::ensure!(!sizes.is_empty() && sizes[0] > 0, "--sizes needs at least one positive size");
    let server = db::Server::new(&args.database_url)?;
    let env = Environment {
        command: command_line(),
        cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
        cpu_model: cpu_model(),
        memory: total_memory(),
        postgres: server.version().await?,
        duration_secs: args.duration_secs,
    };
    let dir = std::env::temp_dir().join(format!("sms-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let bench = Bench {
        server,
        sms_tasks: service::build()?,
        pgbench: pgbench::locate(),
        dir: dir.clone(),
        duration: Duration::from_secs(args.duration_secs.max(1)),
        keep: args.keep,
        peer: match args.peer {
            Some(PeerKind::Postgraphile) => Some(peer::install()?),
            None => None,
        },
        only_show: args.only_show,
    };
    std::fs::write(
        bench.dir.join("config.toml"),
        format!("[[auth.tokens]]\ntoken = \"{TOKEN}\"\ndomain_id = \"{DOMAIN}\"\n"),
    )?;

    if !args.instances.is_empty() {
        return run_scale(&bench, sizes[0], &args.instances).await;
    }
    let mut reports = Vec::new();
    for &size in &sizes {
        match bench_size(&bench, size).await {
            Ok(report) => {
                println!("{}", report::size_markdown(&report, &env));
                reports.push(report);
            }
            Err(err) => {
                eprintln!("bench: service logs and pgbench scripts are in {}", dir.display());
                return Err(err.context(format!("at {size} tasks")));
            }
        }
    }
    println!("{}", report::summary_markdown(&reports));
    if args.keep {
        eprintln!("bench: pgbench scripts and service logs kept in {}", dir.display());
    } else {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(reports.iter().all(|r| r.errors() == 0 && r.sql_drift.is_empty()))
}

/// `--instances`: one database, served by each instance count in turn.
async fn run_scale(bench: &Bench, size: usize, instances: &[usize]) -> anyhow::Result<bool> {
    anyhow::ensure!(instances.iter().all(|&n| n > 0), "--instances needs positive counts");
    let database = bench.server.prepare(size, DOMAIN, &bench.sms_tasks).await?;
    let outcome = scale::measure(&bench.sms_tasks, &bench.dir, &database, size, instances, bench.duration).await;
    release_database(bench, &database).await?;
    let rows = outcome?;
    println!("{}", scale::markdown(&rows, size, &command_line()));
    let _ = std::fs::remove_dir_all(&bench.dir);
    Ok(scale::clean(&rows))
}

/// Ends a run's use of its database: with `--keep`, clears what the run added; else drops it.
async fn release_database(bench: &Bench, database: &db::BenchDatabase) -> anyhow::Result<()> {
    if bench.keep {
        let pool = db::connect(&database.url, 1).await?;
        db::remove_bench_rows(&pool, DOMAIN).await?;
        pool.close().await;
    } else {
        bench.server.drop_database(&database.name).await?;
    }
    Ok(())
}

/// One size: a seeded database, a fresh service, every scenario; then the database is dropped
/// (or, with `--keep`, cleared of what the run added).
async fn bench_size(bench: &Bench, size: usize) -> anyhow::Result<SizeReport> {
    let database = bench.server.prepare(size, DOMAIN, &bench.sms_tasks).await?;
    let outcome = serve_and_measure(bench, &database, size).await;
    release_database(bench, &database).await?;
    let mut report = outcome?;
    report.seed_secs = database.seed_secs;
    Ok(report)
}

async fn serve_and_measure(bench: &Bench, database: &db::BenchDatabase, size: usize) -> anyhow::Result<SizeReport> {
    let log = bench.dir.join(format!("service-{size}.log"));
    let service =
        service::Service::start(&bench.sms_tasks, &database.url, &bench.dir.join("config.toml"), &log).await?;
    eprintln!("bench: {size} tasks: service at {}", service.base_url);
    let outcome = measure(bench, database, &service.base_url, size).await;
    // Read before stopping: the high-water mark covers every run, the 32-client ones included.
    let peak_rss = service.peak_rss_kib();
    if outcome.is_err() {
        eprintln!("bench: the service's log ends with:\n{}", service.log_tail());
    }
    service.stop().await?;
    let mut report = outcome?;
    report.peak_rss_kib = peak_rss?;
    Ok(report)
}

async fn measure(
    bench: &Bench,
    database: &db::BenchDatabase,
    base_url: &str,
    size: usize,
) -> anyhow::Result<SizeReport> {
    // The service's own SQL for a list page and a create, run in-process (one more task).
    let service_sql = capture::capture(&database.url, DOMAIN, TOKEN, LIST_LIMIT).await?;
    let sql_drift = pgbench::create_drift(&service_sql.create);
    let pool = db::connect(&database.url, 2).await?;
    let api = Arc::new(Api::new(base_url, TOKEN)?);
    let duration = bench.duration;
    // The maximum tree exists before the list runs (one more task), so the expected counts,
    // read from the database next, include it.
    let max_task = api.create_task(&format!("{}max-tree", bodies::BENCH_PREFIX), 0, Tree::Maximum).await?;
    let fixtures = Fixtures::load(&pool, DOMAIN, size).await?;
    let mut rows = Vec::new();

    for filter in fixtures.filters.iter().filter(|_| !bench.only_show) {
        eprintln!("bench: {size} tasks: list, {}", filter.label());
        scenarios::list(&api, filter, duration, &mut rows).await?;
    }
    eprintln!("bench: {size} tasks: show");
    scenarios::show(&api, "standard tree", fixtures.sample_ids.clone(), 2, duration, &mut rows).await?;
    scenarios::show(&api, "maximum tree", vec![max_task], MAX_FANOUT, duration, &mut rows).await?;

    // pgbench on the list page and on show right after the service's, under the same conditions.
    let mut comparisons = Vec::new();
    let list_script = pgbench::list_script(&pool, DOMAIN, TOKEN, LIST_LIMIT, 0, &service_sql.list).await?;
    let show_script = pgbench::show_script(DOMAIN, TOKEN, &service_sql.show, &fixtures.sample_ids)?;
    let same_work = [
        ("list no filter, offset 0", &list_script, "list", "no filter", Some(0)),
        ("show standard tree", &show_script, "show", "standard tree", None),
    ];
    for (work, script, op, scenario, offset) in same_work.into_iter().filter(|w| !bench.only_show || w.2 == "show") {
        for clients in [1, WRITE_CLIENTS] {
            eprintln!("bench: {size} tasks: pgbench {}, {clients} clients", script.name);
            let tps = pgbench::run(&bench.pgbench, &bench.dir, &database.url, script, clients, duration).await?;
            let service = rate(&rows, op, scenario, offset, clients);
            comparisons.push(Comparison { work, clients, service, pgbench: tps });
        }
    }

    // The peer on the same database while the service idles, on the same tasks.
    let mut peer_comparisons = Vec::new();
    if let Some(cli) = &bench.peer {
        let log = bench.dir.join(format!("postgraphile-{size}.log"));
        let peer = peer::Peer::start(cli, &database.url, &log).await?;
        let everything = fixtures.filters.iter().find(|f| f.key.is_none()).map_or(-1, |f| f.expected_count);
        let measured = peer::measure(&peer, DOMAIN, &fixtures.sample_ids, everything, duration).await;
        peer.stop().await;
        for m in measured? {
            let (op, work) = match m.op {
                peer::PEER_SHOW => ("show", "show standard tree"),
                _ => ("list", "list no filter, offset 0"),
            };
            let service = rate(&rows, op, &m.scenario, m.offset, m.clients);
            peer_comparisons.push(PeerComparison { work, clients: m.clients, service, peer: m.stats.rate() });
            rows.push(m);
        }
    }

    // `--only-show` measures no writes.
    if !bench.only_show {
        eprintln!("bench: {size} tasks: create");
        let template = scenarios::create(&api, duration, &mut rows).await?;
        pgbench::insert_source_pool(&pool, DOMAIN, WRITE_CLIENTS, duration).await?;
        // A create statement the script cannot reproduce is reported (and fails the run) below.
        let tps = if sql_drift.is_empty() {
            let create_script =
                pgbench::create_script(&pool, DOMAIN, TOKEN, template, &service_sql.list, &service_sql.create).await?;
            eprintln!("bench: {size} tasks: pgbench create, {WRITE_CLIENTS} clients");
            pgbench::run(&bench.pgbench, &bench.dir, &database.url, &create_script, WRITE_CLIENTS, duration).await?
        } else {
            eprintln!("bench: {size} tasks: no pgbench create: its script cannot follow the service's SQL");
            f64::NAN
        };
        let service = rows.iter().find(|m| m.op == "create").map_or(f64::NAN, |m| m.stats.rate());
        comparisons.push(Comparison { work: "create standard tree", clients: WRITE_CLIENTS, service, pgbench: tps });

        eprintln!("bench: {size} tasks: update");
        scenarios::update(&api, &fixtures.sample_ids, duration, &mut rows).await?;
    }
    pool.close().await;
    Ok(SizeReport {
        size,
        database: database.name.clone(),
        seed_secs: None,
        measurements: rows,
        comparisons,
        peer: peer_comparisons,
        sql_drift,
        peak_rss_kib: 0,
    })
}

/// The service's requests/s for one measured scenario (NaN when it was not measured).
fn rate(rows: &[report::Measurement], op: &str, scenario: &str, offset: Option<i64>, clients: usize) -> f64 {
    rows.iter()
        .find(|m| m.op == op && m.scenario == scenario && m.offset == offset && m.clients == clients)
        .map_or(f64::NAN, |m| m.stats.rate())
}

/// How to run this again: the arguments as given, behind `cargo run`.
fn command_line() -> String {
    let args: Vec<String> = std::env::args().skip(1).collect();
    format!("cargo run --release -p sms-tasks-bench -- {}", args.join(" ")).trim_end().to_string()
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().into())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

fn total_memory() -> String {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
            let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(format!("{:.1} GiB", kib / 1024.0 / 1024.0))
        })
        .unwrap_or_else(|| "unknown".into())
}
