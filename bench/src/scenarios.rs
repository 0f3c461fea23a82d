//! The measured scenarios: list pages, show, create and update, each checked once for a
//! correct answer before it is timed.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use futures_util::{StreamExt, TryStreamExt};
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

use crate::bodies::{self, Tree, BENCH_PREFIX};
use crate::load::{self, MakeRequest, Stats};
use crate::report::Measurement;

pub const LIST_LIMIT: i64 = 200;
pub const LIST_OFFSETS: [i64; 3] = [0, 1_000, 65_000];
pub const LIST_CLIENTS: [usize; 3] = [1, 8, 32];
pub const WRITE_CLIENTS: usize = 8;
/// Untimed requests before each scenario: enough for every pooled connection (10 by default)
/// to prepare the scenario's statements.
const WARM_UP_REQUESTS: u64 = 20;
/// Sources registered per second of a create run; a run that uses them up ends early (and
/// says so), its rate still measured over the time it ran.
const CREATE_SOURCES_PER_SEC: usize = 2_000;

/// The service's API as the bench token's caller.
pub struct Api {
    client: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    pub fn new(base: &str, token: &str) -> anyhow::Result<Api> {
        // One client for all load clients: connections are kept alive and reused.
        // A stuck request fails the run instead of hanging it.
        let client = crate::load::http_client()?;
        Ok(Api { client, base: base.to_string(), token: token.to_string() })
    }

    fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.get(format!("{}{path}", self.base)).header("X-Auth-Token", &self.token)
    }

    fn send_json(&self, method: reqwest::Method, path: &str, body: String) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.base))
            .header("X-Auth-Token", &self.token)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
    }

    /// Sends one request and returns its JSON answer, which must be a 200.
    async fn json(&self, request: reqwest::RequestBuilder) -> anyhow::Result<Value> {
        let response = request.send().await?;
        let status = response.status();
        let body = response.bytes().await?;
        if status != reqwest::StatusCode::OK {
            bail!("HTTP {status}: {}", String::from_utf8_lossy(&body[..body.len().min(500)]));
        }
        Ok(serde_json::from_slice(&body)?)
    }

    async fn post(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        self.json(self.send_json(reqwest::Method::POST, path, body.to_string())).await
    }

    /// Registers `n` sources, 8 at a time (untimed); returns their ids.
    async fn register_sources(&self, first: usize, n: usize) -> anyhow::Result<Vec<String>> {
        futures_util::stream::iter(first..first + n)
            .map(|i| async move {
                let reply = self.post("/v3/sources", &bodies::source(i)).await?;
                reply["id"].as_str().map(str::to_string).context("no id in the registration answer")
            })
            .buffered(8)
            .try_collect()
            .await
    }

    /// Registers a source and creates a task for it; returns the task id.
    pub async fn create_task(&self, name: &str, source: usize, tree: Tree) -> anyhow::Result<Uuid> {
        let source_id = self.register_sources(source, 1).await?.remove(0);
        let reply = self.post("/v3/tasks", &bodies::create_task(name, &source_id, tree)).await?;
        Ok(reply["id"].as_str().context("no id in the create answer")?.parse()?)
    }
}

/// Runs `make` untimed (warm-up), then timed at each concurrency.
pub async fn measure(
    duration: Duration,
    clients: &[usize],
    make: MakeRequest,
    mut record: impl FnMut(usize, Stats),
) -> anyhow::Result<()> {
    let warm = load::warm_up(WRITE_CLIENTS, WARM_UP_REQUESTS, make.clone()).await;
    if warm.errors > 0 {
        bail!("warm-up failed: {}", warm.first_error.unwrap_or_default());
    }
    for &c in clients {
        record(c, load::run(c, duration, make.clone()).await);
    }
    Ok(())
}

/// A filter of `GET /v3/tasks`, with the count it must report.
pub struct ListFilter {
    /// `None`: no filter.
    pub key: Option<&'static str>,
    pub value: String,
    pub expected_count: i64,
}

impl ListFilter {
    /// The same at every size: ids differ between databases, so they are not in the label.
    pub fn label(&self) -> String {
        match self.key {
            None => "no filter".into(),
            Some(key @ ("id" | "source_server_id")) => format!("{key} (a seeded task)"),
            Some(key) => format!("{key}={}", self.value),
        }
    }

    fn query(&self) -> String {
        match self.key {
            None => String::new(),
            Some(key) => format!("&{key}={}", self.value),
        }
    }
}

/// The values the scenarios use, read from the seeded database.
pub struct Fixtures {
    pub filters: Vec<ListFilter>,
    /// Seeded tasks (the standard tree), a deterministic sample.
    pub sample_ids: Vec<Uuid>,
}

impl Fixtures {
    pub async fn load(pool: &PgPool, domain: &str, size: usize) -> anyhow::Result<Fixtures> {
        let (middle_id, middle_source): (Uuid, Uuid) = sqlx::query_as(
            "SELECT id, source_server_id FROM tasks WHERE domain_id = $1 AND name NOT LIKE $2
             ORDER BY create_date DESC, id DESC OFFSET $3 LIMIT 1",
        )
        .bind(domain)
        .bind(format!("{BENCH_PREFIX}%"))
        .bind((size / 2) as i64)
        .fetch_one(pool)
        .await
        .context("no seeded task in the middle of the list")?;
        let specs: [(Option<&'static str>, String, &str); 6] = [
            (None, String::new(), "TRUE"),
            (Some("state"), "RUNNING".into(), "state = $2"),
            (Some("enterprise_project_id"), "ep-finance".into(), "enterprise_project_id = $2"),
            (Some("id"), middle_id.to_string(), "id = $2::uuid"),
            (Some("source_server_id"), middle_source.to_string(), "source_server_id = $2::uuid"),
            // One of the 20 words seeded names draw from: about 5% of the tasks.
            (Some("name"), "kestrel".into(), "name ILIKE '%' || $2 || '%'"),
        ];
        let mut filters = Vec::new();
        for (key, value, condition) in specs {
            let expected_count: i64 =
                sqlx::query_scalar(&format!("SELECT count(*) FROM tasks WHERE domain_id = $1 AND ({condition})"))
                    .bind(domain)
                    .bind(&value)
                    .fetch_one(pool)
                    .await?;
            filters.push(ListFilter { key, value, expected_count });
        }
        // SYSTEM sampling reads a fraction of the pages, not the whole table.
        let percent = (100.0 * 5_000.0 / size.max(1) as f64).min(100.0) as f32;
        let sample_ids: Vec<Uuid> = sqlx::query_scalar(
            "SELECT id FROM tasks TABLESAMPLE SYSTEM ($2) REPEATABLE (42)
             WHERE domain_id = $1 AND name NOT LIKE $3 ORDER BY md5(id::text) LIMIT 1000",
        )
        .bind(domain)
        .bind(percent)
        .bind(format!("{BENCH_PREFIX}%"))
        .fetch_all(pool)
        .await?;
        if sample_ids.is_empty() {
            bail!("no seeded task to show or update");
        }
        Ok(Fixtures { filters, sample_ids })
    }
}

/// `GET /v3/tasks?limit=200&offset=…` for one filter at every offset and concurrency.
pub async fn list(
    api: &Arc<Api>,
    filter: &ListFilter,
    duration: Duration,
    out: &mut Vec<Measurement>,
) -> anyhow::Result<()> {
    for offset in LIST_OFFSETS {
        let path = format!("/v3/tasks?limit={LIST_LIMIT}&offset={offset}{}", filter.query());
        let answer = api.json(api.get(&path)).await.with_context(|| format!("GET {path}"))?;
        let count = answer["count"].as_i64().unwrap_or(-1);
        let rows = answer["tasks"].as_array().map_or(0, Vec::len) as i64;
        let expected_rows = (filter.expected_count - offset).clamp(0, LIST_LIMIT);
        let mut notes = format!("count {count}, {rows} rows");
        if count != filter.expected_count || rows != expected_rows {
            notes = format!(
                "WRONG ANSWER: count {count}, {rows} rows; expected {} and {expected_rows}",
                filter.expected_count
            );
        }
        let make: MakeRequest = {
            let api = api.clone();
            Arc::new(move |_| Some(api.get(&path)))
        };
        measure(duration, &LIST_CLIENTS, make, |clients, stats| {
            let mut stats = stats;
            if notes.starts_with("WRONG") {
                stats.errors += 1;
            }
            out.push(Measurement {
                op: "list",
                scenario: filter.label(),
                offset: Some(offset),
                clients,
                stats,
                notes: notes.clone(),
            })
        })
        .await?;
    }
    Ok(())
}

/// `GET /v3/tasks/{id}` on `ids` in turn; `disks` is what each answer's target must hold.
pub async fn show(
    api: &Arc<Api>,
    scenario: &str,
    ids: Vec<Uuid>,
    disks: usize,
    duration: Duration,
    out: &mut Vec<Measurement>,
) -> anyhow::Result<()> {
    let answer = api.json(api.get(&format!("/v3/tasks/{}", ids[0]))).await.context("GET /v3/tasks/{id}")?;
    let found = answer["target_server"]["disks"].as_array().map_or(0, Vec::len);
    let volumes: usize = answer["target_server"]["disks"]
        .as_array()
        .map_or(0, |d| d.iter().map(|d| d["physical_volumes"].as_array().map_or(0, Vec::len)).sum());
    let wrong = found != disks;
    let notes = if wrong {
        format!("WRONG ANSWER: {found} disks, expected {disks}")
    } else {
        format!("{found} disks, {volumes} physical volumes, {} bytes", answer.to_string().len())
    };
    let paths: Arc<Vec<String>> = Arc::new(ids.iter().map(|id| format!("/v3/tasks/{id}")).collect());
    let make: MakeRequest = {
        let api = api.clone();
        Arc::new(move |n| Some(api.get(&paths[n as usize % paths.len()])))
    };
    measure(duration, &LIST_CLIENTS, make, |clients, mut stats| {
        stats.errors += u64::from(wrong);
        out.push(Measurement {
            op: "show",
            scenario: scenario.into(),
            offset: None,
            clients,
            stats,
            notes: notes.clone(),
        })
    })
    .await
}

/// `POST /v3/tasks` with the standard tree at 8 clients, each task for a source registered
/// before the timed run. Returns a task it created (the template of pgbench's create).
pub async fn create(api: &Arc<Api>, duration: Duration, out: &mut Vec<Measurement>) -> anyhow::Result<Uuid> {
    let first_source = 1_000; // numbers below are the maximum-tree task's
    let probe = api.create_task(&format!("{BENCH_PREFIX}create-probe"), first_source, Tree::Standard).await?;
    let needed = CREATE_SOURCES_PER_SEC * duration.as_secs().max(1) as usize + WARM_UP_REQUESTS as usize;
    eprintln!("bench: registering {needed} sources for the create run (untimed)");
    let sources = api.register_sources(first_source + 1, needed).await?;
    let bodies: Arc<Vec<String>> = Arc::new(
        sources
            .iter()
            .enumerate()
            .map(|(i, source)| bodies::create_task(&format!("{BENCH_PREFIX}create-{i}"), source, Tree::Standard))
            .map(|body| body.to_string())
            .collect(),
    );
    // The warm-up takes the first bodies, the timed run the rest: each source is used once.
    let warm = load::warm_up(WRITE_CLIENTS, WARM_UP_REQUESTS, create_requests(api, &bodies, 0)).await;
    if warm.errors > 0 {
        bail!("create warm-up failed: {}", warm.first_error.unwrap_or_default());
    }
    let stats = load::run(WRITE_CLIENTS, duration, create_requests(api, &bodies, WARM_UP_REQUESTS as usize)).await;
    out.push(Measurement {
        op: "create",
        scenario: "standard tree".into(),
        offset: None,
        clients: WRITE_CLIENTS,
        stats,
        notes: "2 disks × 3 volumes, 1 group × 2 volumes, 1 Btrfs × 2 subvolumes".into(),
    });
    Ok(probe)
}

fn create_requests(api: &Arc<Api>, bodies: &Arc<Vec<String>>, skip: usize) -> MakeRequest {
    let (api, bodies) = (api.clone(), bodies.clone());
    Arc::new(move |n| {
        let body = bodies.get(skip + n as usize)?;
        Some(api.send_json(reqwest::Method::POST, "/v3/tasks", body.clone()))
    })
}

/// `PUT /v3/tasks/{id}` replacing the 5 subtasks of seeded tasks, at 8 clients.
pub async fn update(
    api: &Arc<Api>,
    ids: &[Uuid],
    duration: Duration,
    out: &mut Vec<Measurement>,
) -> anyhow::Result<()> {
    let paths: Arc<Vec<String>> = Arc::new(ids.iter().map(|id| format!("/v3/tasks/{id}")).collect());
    let bodies: Arc<Vec<String>> = Arc::new((0..100).map(|n| bodies::replace_subtasks(n).to_string()).collect());
    let make: MakeRequest = {
        let api = api.clone();
        Arc::new(move |n| {
            let n = n as usize;
            let body = bodies[n % bodies.len()].clone();
            Some(api.send_json(reqwest::Method::PUT, &paths[n % paths.len()], body))
        })
    };
    measure(duration, &[WRITE_CLIENTS], make, |clients, stats| {
        out.push(Measurement {
            op: "put",
            scenario: "replace 5 subtasks".into(),
            offset: None,
            clients,
            stats,
            notes: format!("{} seeded tasks in turn", ids.len()),
        })
    })
    .await
}
