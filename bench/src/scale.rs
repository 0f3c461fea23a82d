//! `--instances 1,2,3`: one seeded database served by 1, 2, 3 … `sms-tasks serve` processes at
//! once, the clients spread round-robin over them (as a load balancer would), for the figures
//! in docs/scaling.md. Per instance count: a list page, show and update, each checked once for
//! a correct answer before it is timed.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use serde_json::{json, Value};

use crate::load::{self, MakeRequest, Stats};
use crate::scenarios::Fixtures;
use crate::service::Service;
use crate::{db, DOMAIN, TOKEN};

/// Page size of the measured list (the console's and the SDK's usual page).
const PAGE: i64 = 50;
const READ_CLIENTS: usize = 32;
const WRITE_CLIENTS: usize = 8;

/// One timed run.
pub struct Row {
    instances: usize,
    scenario: &'static str,
    clients: usize,
    stats: Stats,
}

/// Measures every instance count in `instances` on `database` (holding `size` seeded tasks).
pub async fn measure(
    sms_tasks: &Path,
    dir: &Path,
    database: &db::BenchDatabase,
    size: usize,
    instances: &[usize],
    duration: Duration,
) -> anyhow::Result<Vec<Row>> {
    let pool = db::connect(&database.url, 2).await?;
    let fixtures = Fixtures::load(&pool, DOMAIN, size).await?;
    let expected: i64 =
        sqlx::query_scalar("SELECT count(*) FROM tasks WHERE domain_id = $1").bind(DOMAIN).fetch_one(&pool).await?;
    pool.close().await;
    let client = crate::load::http_client()?;
    let mut rows = Vec::new();
    for &n in instances {
        let mut services = Vec::new();
        for i in 0..n {
            let log = dir.join(format!("scale-{n}-{i}.log"));
            services.push(Service::start(sms_tasks, &database.url, &dir.join("config.toml"), &log).await?);
        }
        let bases: Arc<Vec<String>> = Arc::new(services.iter().map(|s| s.base_url.clone()).collect());
        eprintln!("bench: {n} instance(s): {}", bases.join(", "));
        let outcome = measure_instances(&client, &bases, &fixtures, expected, duration).await;
        for service in services {
            service.stop().await?;
        }
        for (scenario, clients, stats) in outcome? {
            rows.push(Row { instances: n, scenario, clients, stats });
        }
    }
    Ok(rows)
}

async fn measure_instances(
    client: &reqwest::Client,
    bases: &Arc<Vec<String>>,
    fixtures: &Fixtures,
    expected: i64,
    duration: Duration,
) -> anyhow::Result<Vec<(&'static str, usize, Stats)>> {
    let ids = Arc::new(fixtures.sample_ids.clone());
    let request = {
        let (client, bases) = (client.clone(), bases.clone());
        move |n: u64, method: reqwest::Method, path: String| {
            let base = &bases[n as usize % bases.len()];
            client.request(method, format!("{base}{path}")).header("X-Auth-Token", TOKEN)
        }
    };
    // Each instance answers right once before anything is timed.
    for base in bases.iter() {
        let page: Value = client
            .get(format!("{base}/v3/tasks?limit={PAGE}"))
            .header("X-Auth-Token", TOKEN)
            .send()
            .await?
            .json()
            .await
            .context("the list answer is not JSON")?;
        let rows = page["tasks"].as_array().map_or(0, Vec::len) as i64;
        if page["count"] != json!(expected) || rows != PAGE.min(expected) {
            bail!("{base} answered a wrong list page: count {}, {rows} rows; expected {expected}", page["count"]);
        }
    }
    let list: MakeRequest = {
        let request = request.clone();
        Arc::new(move |n| Some(request(n, reqwest::Method::GET, format!("/v3/tasks?limit={PAGE}"))))
    };
    let show: MakeRequest = {
        let (request, ids) = (request.clone(), ids.clone());
        Arc::new(move |n| Some(request(n, reqwest::Method::GET, format!("/v3/tasks/{}", ids[n as usize % ids.len()]))))
    };
    let update: MakeRequest = {
        let (request, ids) = (request.clone(), ids.clone());
        Arc::new(move |n| {
            let path = format!("/v3/tasks/{}", ids[n as usize % ids.len()]);
            Some(request(n, reqwest::Method::PUT, path).json(&json!({ "priority": n % 3 })))
        })
    };
    let mut out = Vec::new();
    for (scenario, clients, make) in
        [("list page", READ_CLIENTS, list), ("show", READ_CLIENTS, show), ("update", WRITE_CLIENTS, update)]
    {
        let warm = load::warm_up(clients, 20 * bases.len() as u64, make.clone()).await;
        if warm.errors > 0 {
            bail!("{scenario}: warm-up failed: {}", warm.first_error.unwrap_or_default());
        }
        eprintln!("bench: {} instance(s): {scenario}, {clients} clients", bases.len());
        out.push((scenario, clients, load::run(clients, duration, make).await));
    }
    Ok(out)
}

/// The figures as a markdown table, with the gain over one instance.
pub fn markdown(rows: &[Row], size: usize, command: &str) -> String {
    let mut text = format!(
        "### {size} tasks, instances behind round-robin clients\n\n`{command}`\n\n\
         | instances | scenario | clients | req/s | vs 1 instance | p50 ms | p99 ms | errors |\n\
         |---|---|---|---|---|---|---|---|\n"
    );
    for row in rows {
        let one = rows.iter().find(|r| r.instances == 1 && r.scenario == row.scenario).map(|r| r.stats.rate());
        let gain = one.map_or("".to_string(), |one| format!("{:.2}x", row.stats.rate() / one));
        text.push_str(&format!(
            "| {} | {} | {} | {:.0} | {gain} | {:.2} | {:.2} | {} |\n",
            row.instances,
            row.scenario,
            row.clients,
            row.stats.rate(),
            row.stats.p50_ms(),
            row.stats.p99_ms(),
            row.stats.errors
        ));
    }
    text
}

/// Whether every request succeeded.
pub fn clean(rows: &[Row]) -> bool {
    rows.iter().all(|r| r.stats.errors == 0)
}
