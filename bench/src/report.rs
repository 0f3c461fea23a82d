//! The results as markdown tables (to paste into docs/performance.md), and the targets.

use std::fmt::Write as _;

use crate::load::Stats;

/// One timed run of one scenario at one concurrency.
pub struct Measurement {
    /// `list`, `show`, `create` or `put`; or the peer's (`peer::PEER_SHOW`, `peer::PEER_LIST`).
    pub op: &'static str,
    pub scenario: String,
    pub offset: Option<i64>,
    pub clients: usize,
    pub stats: Stats,
    pub notes: String,
}

/// The service's throughput next to pgbench's for the same statements.
pub struct Comparison {
    pub work: &'static str,
    pub clients: usize,
    pub service: f64,
    pub pgbench: f64,
}

impl Comparison {
    pub fn ratio(&self) -> f64 {
        self.service / self.pgbench
    }
}

/// The service's throughput next to a generic API's (peer.rs) for the same work.
pub struct PeerComparison {
    pub work: &'static str,
    pub clients: usize,
    pub service: f64,
    pub peer: f64,
}

impl PeerComparison {
    pub fn ratio(&self) -> f64 {
        self.service / self.peer
    }
}

/// Everything measured at one size.
pub struct SizeReport {
    pub size: usize,
    pub database: String,
    pub seed_secs: Option<f64>,
    pub measurements: Vec<Measurement>,
    pub comparisons: Vec<Comparison>,
    /// With `--peer`: the service against PostGraphile.
    pub peer: Vec<PeerComparison>,
    /// How the pgbench create script differs from the service's SQL (pgbench.rs `create_drift`).
    pub sql_drift: Vec<String>,
    pub peak_rss_kib: u64,
}

impl SizeReport {
    pub fn find(&self, op: &str, scenario: &str, offset: Option<i64>, clients: usize) -> Option<&Measurement> {
        self.measurements
            .iter()
            .find(|m| m.op == op && m.scenario == scenario && m.offset == offset && m.clients == clients)
    }

    /// Failed requests across all runs.
    pub fn errors(&self) -> u64 {
        self.measurements.iter().map(|m| m.stats.errors).sum()
    }
}

/// Where and how the numbers were taken.
pub struct Environment {
    pub command: String,
    pub cpus: usize,
    pub cpu_model: String,
    pub memory: String,
    pub postgres: String,
    pub duration_secs: u64,
}

impl Environment {
    pub fn markdown(&self) -> String {
        format!(
            "- command: `{}`\n- machine: {} × {}, {} RAM\n- PostgreSQL: {}\n- {} s per measurement; latency from the client, \
             each request's whole answer read; clients share one keep-alive HTTP client\n",
            self.command, self.cpus, self.cpu_model, self.memory, self.postgres, self.duration_secs
        )
    }
}

pub fn size_markdown(report: &SizeReport, env: &Environment) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "## {} tasks\n", report.size);
    out.push_str(&env.markdown());
    let seeded = match report.seed_secs {
        Some(secs) => format!("seeded with `sms-tasks seed` in {secs:.1} s"),
        None => "a kept database, reused".into(),
    };
    let _ = writeln!(out, "- database: `{}` ({seeded})", report.database);
    let _ = writeln!(out, "- service peak RSS (VmHWM, whole run): {}\n", mib(report.peak_rss_kib));
    out.push_str("| op | scenario | offset | clients | p50 ms | p99 ms | req/s | notes |\n");
    out.push_str("|---|---|---:|---:|---:|---:|---:|---|\n");
    for m in &report.measurements {
        let offset = m.offset.map_or_else(|| "-".into(), |o| o.to_string());
        let mut notes = m.notes.clone();
        if m.stats.errors > 0 {
            let first = m.stats.first_error.as_deref().unwrap_or_default();
            let _ = write!(notes, "{}{} errors (first: {first})", sep(&notes), m.stats.errors);
        }
        if m.stats.ran_out {
            let _ = write!(notes, "{}ran out of work after {:.1} s", sep(&notes), m.stats.elapsed.as_secs_f64());
        }
        let _ = writeln!(
            out,
            "| {} | {} | {offset} | {} | {:.2} | {:.2} | {:.1} | {} |",
            m.op,
            m.scenario,
            m.clients,
            m.stats.p50_ms(),
            m.stats.p99_ms(),
            m.stats.rate(),
            notes.replace('|', "\\|")
        );
    }
    out.push_str("\n| same SQL as | clients | service req/s | pgbench tps | service ÷ pgbench |\n");
    out.push_str("|---|---:|---:|---:|---:|\n");
    for c in &report.comparisons {
        let _ =
            writeln!(out, "| {} | {} | {:.1} | {:.1} | {:.2} |", c.work, c.clients, c.service, c.pgbench, c.ratio());
    }
    if !report.peer.is_empty() {
        out.push_str("\n| same work as | clients | service req/s | PostGraphile req/s | service ÷ PostGraphile |\n");
        out.push_str("|---|---:|---:|---:|---:|\n");
        for c in &report.peer {
            let _ =
                writeln!(out, "| {} | {} | {:.1} | {:.1} | {:.2} |", c.work, c.clients, c.service, c.peer, c.ratio());
        }
    }
    for drift in &report.sql_drift {
        let _ = writeln!(
            out,
            "\n**ERROR**: {drift}: the create comparison above is not like for like; bench/src/pgbench.rs must follow."
        );
    }
    out
}

fn sep(notes: &str) -> &'static str {
    if notes.is_empty() {
        ""
    } else {
        "; "
    }
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

/// The list scenarios the latency targets speak of: no filter and each equality filter.
fn equality_scenarios(report: &SizeReport) -> Vec<String> {
    let mut scenarios: Vec<String> = Vec::new();
    for m in &report.measurements {
        if m.op == "list" && !m.scenario.starts_with("name") && !scenarios.contains(&m.scenario) {
            scenarios.push(m.scenario.clone());
        }
    }
    scenarios
}

/// The growth table (largest size ÷ smallest, list at 1 client) and the targets of the issue,
/// checked at the largest size.
pub fn summary_markdown(reports: &[SizeReport]) -> String {
    let mut out = String::new();
    let (Some(small), Some(large)) = (reports.first(), reports.last()) else {
        return out;
    };
    if small.size != large.size {
        out.push_str(&growth_markdown(small, large));
    }
    let _ = writeln!(out, "\n## Targets (at {} tasks; the issue sets them for 1,000,000 tasks)\n", large.size);
    out.push_str("| target | measured | result |\n|---|---|---|\n");
    for target in targets(small, large) {
        let verdict = match target.pass {
            Some(true) => "PASS",
            Some(false) => "MISS",
            None => "n/a",
        };
        let _ = writeln!(out, "| {} | {} | {verdict} |", target.name, target.measured);
    }
    out
}

/// p50 at the largest size ÷ p50 at the smallest, for each list scenario at 1 client.
fn growth_markdown(small: &SizeReport, large: &SizeReport) -> String {
    let mut out = format!("## Growth: p50 at {} tasks ÷ p50 at {} tasks (list, 1 client)\n\n", large.size, small.size);
    out.push_str(&format!(
        "| scenario | offset | p50 ms at {} | p50 ms at {} | ratio |\n|---|---:|---:|---:|---:|\n",
        small.size, large.size
    ));
    for m in large.measurements.iter().filter(|m| m.op == "list" && m.clients == 1) {
        if let Some(base) = small.find("list", &m.scenario, m.offset, 1) {
            let (a, b) = (base.stats.p50_ms(), m.stats.p50_ms());
            let _ = writeln!(out, "| {} | {} | {a:.2} | {b:.2} | {:.2} |", m.scenario, m.offset.unwrap_or(0), b / a);
        }
    }
    out
}

struct Target {
    name: String,
    measured: String,
    /// `None`: not measured.
    pass: Option<bool>,
}

fn target(name: String, value: Option<f64>, unit: &str, ok: impl Fn(f64) -> bool) -> Target {
    match value {
        Some(v) if v.is_finite() => Target { name, measured: format!("{v:.2}{unit}"), pass: Some(ok(v)) },
        _ => Target { name, measured: "not measured".into(), pass: None },
    }
}

fn targets(small: &SizeReport, large: &SizeReport) -> Vec<Target> {
    let mut all = Vec::new();
    let p50 = |r: &SizeReport, s: &str, offset: i64| r.find("list", s, Some(offset), 1).map(|m| m.stats.p50_ms());
    for scenario in equality_scenarios(large) {
        let m = large.find("list", &scenario, Some(0), 1);
        all.push(target(
            format!("list {scenario}, offset 0, 1 client: p50 ≤ 10 ms"),
            m.map(|m| m.stats.p50_ms()),
            " ms",
            |v| v <= 10.0,
        ));
        all.push(target(
            format!("list {scenario}, offset 0, 1 client: p99 ≤ 25 ms"),
            m.map(|m| m.stats.p99_ms()),
            " ms",
            |v| v <= 25.0,
        ));
        if small.size != large.size {
            let growth = p50(large, &scenario, 0).zip(p50(small, &scenario, 0)).map(|(l, s)| l / s);
            all.push(target(
                format!("list {scenario}, offset 0: p50 at {} ≤ 1.5 × p50 at {}", large.size, small.size),
                growth,
                "×",
                |v| v <= 1.5,
            ));
        }
        all.push(target(
            format!("list {scenario}, offset 65000, 1 client: p50 ≤ 30 ms"),
            p50(large, &scenario, 65_000),
            " ms",
            |v| v <= 30.0,
        ));
    }
    let show = large.find("show", "standard tree", None, 1).map(|m| m.stats.p50_ms());
    all.push(target("show standard tree, 1 client: p50 ≤ 1.0 ms".into(), show, " ms", |v| v <= 1.0));
    for c in &large.comparisons {
        all.push(target(
            format!("{} at {} clients: service ≥ 0.7 × pgbench", c.work, c.clients),
            Some(c.ratio()),
            "×",
            |v| v >= 0.7,
        ));
    }
    for c in large.peer.iter().filter(|c| c.work.starts_with("show")) {
        all.push(target(
            format!("{} at {} clients: service ≥ 3 × PostGraphile", c.work, c.clients),
            Some(c.ratio()),
            "×",
            |v| v >= 3.0,
        ));
    }
    let create = large.find("create", "standard tree", None, 8).map(|m| m.stats.rate());
    all.push(target("create at 8 clients ≥ 400 tasks/s".into(), create, " tasks/s", |v| v >= 400.0));
    all.push(target(
        "peak RSS (32 clients) ≤ 100 MB".into(),
        Some(large.peak_rss_kib as f64 * 1024.0 / 1e6),
        " MB",
        |v| v <= 100.0,
    ));
    all
}
