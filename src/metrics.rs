//! Prometheus metrics: one application's recorder, the request middleware that feeds it, the
//! scrape endpoint (`GET /metrics` on its own listener, `server.metrics_listen`), and the pool
//! acquire times that sqlx reports through `tracing`.
//!
//! Each [`Application`](crate::startup::Application) owns its recorder (no process-global one),
//! so that two applications in one process, as in the tests, never mix their figures. Values
//! that already live elsewhere (pool size, task counts) are sampled at scrape time rather than
//! tracked; the exposition format is `metrics-exporter-prometheus`'s.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, App, HttpResponse, HttpServer};
use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder};
use sqlx::PgPool;
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer};

use crate::db::fault::Fault;
use crate::error::ApiError;

/// The route label of a request that matched no route: a fixed value, so that unknown paths
/// (scanners, typos) cannot grow the number of series.
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// Request latency buckets, in seconds: this API answers in about a millisecond to tens of
/// milliseconds; the upper buckets catch lock waits and a slow database.
const REQUEST_BUCKETS: &[f64] = &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// Pool acquire buckets, in seconds: an idle connection is handed out in microseconds; opening
/// one takes milliseconds; anything longer is a wait for a busy pool.
const ACQUIRE_BUCKETS: &[f64] =
    &[0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

/// An acquire slower than this had to wait (for a connection to be returned or opened).
const ACQUIRE_WAIT_THRESHOLD_SECS: f64 = 0.001;

/// The scrape's database work (acquire and query) ends after this, and the task-count gauges
/// are then left out of that scrape.
const SCRAPE_DB_TIMEOUT: Duration = Duration::from_secs(2);

/// The task-count query's own statement timeout (the server stops it; a client-side timeout
/// alone would leave it running).
const SCRAPE_STATEMENT_TIMEOUT_MS: u32 = 1000;

/// At most this many (domain, state) series: bounds the scrape's size and cost whatever the
/// number of domains.
const MAX_TASK_COUNT_SERIES: i64 = 10_000;

/// sqlx's `tracing` target for pool acquisitions (enabled by `acquire_time_level` in
/// [`crate::db::pool`]); its field is spelled `aquired_after_secs` in sqlx 0.8.
const ACQUIRE_TARGET: &str = "sqlx::pool::acquire";
const ACQUIRE_FIELD: &str = "aquired_after_secs";

/// One application's metrics; disabled (every method does nothing) when
/// `server.metrics_listen` is empty.
#[derive(Clone, Default)]
pub struct Metrics {
    inner: Option<Arc<Inner>>,
}

struct Inner {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
}

impl Metrics {
    pub fn disabled() -> Metrics {
        Metrics { inner: None }
    }

    pub fn enabled() -> Metrics {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full("sms_http_request_duration_seconds".into()), REQUEST_BUCKETS)
            .and_then(|b| {
                b.set_buckets_for_metric(Matcher::Full("sms_db_pool_acquire_seconds".into()), ACQUIRE_BUCKETS)
            })
            .expect("the bucket lists are not empty")
            // Every gauge is set at scrape time; one that a scrape did not set (the task counts
            // when the database did not answer, a (domain, state) no longer counted) is dropped
            // from that scrape rather than shown with a stale value.
            .idle_timeout(metrics_util::MetricKindMask::GAUGE, Some(Duration::from_millis(1)));
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        let metrics = Metrics { inner: Some(Arc::new(Inner { recorder, handle })) };
        metrics.record(describe);
        // Counters that alerts watch exist from the start, at 0, so that `rate()` and
        // `increase()` see their first increment.
        metrics.record(|| {
            for kind in [Fault::Unreachable, Fault::ConnectionLost, Fault::StatementTimeout].map(Fault::as_str) {
                counter!("sms_db_unavailable_total", "kind" => kind).absolute(0);
            }
            counter!("sms_db_pool_acquire_waits_total").absolute(0);
        });
        metrics
    }

    pub fn is_enabled(&self) -> bool {
        self.inner.is_some()
    }

    /// Runs `f` with this application's recorder as the `metrics` macros' recorder.
    fn record(&self, f: impl FnOnce()) {
        if let Some(inner) = &self.inner {
            metrics::with_local_recorder(&inner.recorder, f);
        }
    }

    fn request(&self, route: String, method: &'static str, status: StatusCode, secs: f64) {
        self.record(|| {
            let status = status.as_str().to_owned();
            counter!("sms_http_requests_total", "route" => route.clone(), "method" => method, "status" => status)
                .increment(1);
            histogram!("sms_http_request_duration_seconds", "route" => route, "method" => method).record(secs);
        });
    }

    /// A 503 answer because of the database; `kind` names its `db::fault::Fault`.
    pub fn record_unavailable(&self, kind: &'static str) {
        self.record(|| counter!("sms_db_unavailable_total", "kind" => kind).increment(1));
    }

    /// A list page read from the primary although a replica is configured (`db::reads`).
    pub fn replica_fallback(&self, reason: &'static str) {
        self.record(|| counter!("sms_replica_fallbacks_total", "reason" => reason).increment(1));
    }

    /// Whether list pages are read from the replica now.
    pub fn replica_in_use(&self, in_use: bool) {
        self.record(|| gauge!("sms_replica_in_use").set(if in_use { 1.0 } else { 0.0 }));
    }

    /// An agent's `GET /v3/sources/{id}/command`: `command`, `empty`, or the SMS error code.
    pub fn agent_command_poll(&self, outcome: &'static str) {
        self.record(|| counter!("sms_agent_command_polls_total", "outcome" => outcome).increment(1));
    }

    /// An agent's `POST /v3/sources/{id}/command_result`: `ok` or the SMS error code.
    pub fn agent_command_result(&self, outcome: &'static str) {
        self.record(|| counter!("sms_agent_command_results_total", "outcome" => outcome).increment(1));
    }

    /// An agent's `PUT /v3/tasks/{id}/progress`: `ok` or the SMS error code.
    pub fn agent_progress_report(&self, outcome: &'static str) {
        self.record(|| counter!("sms_agent_progress_reports_total", "outcome" => outcome).increment(1));
    }

    fn pool_acquired(&self, secs: f64) {
        self.record(|| {
            histogram!("sms_db_pool_acquire_seconds").record(secs);
            if secs > ACQUIRE_WAIT_THRESHOLD_SECS {
                counter!("sms_db_pool_acquire_waits_total").increment(1);
            }
        });
    }

    /// Samples the gauges, then renders every series in the Prometheus text format.
    async fn scrape(&self, pool: &PgPool) -> String {
        let Some(inner) = &self.inner else { return String::new() };
        let counts = ACQUIRING.scope(self.clone(), tokio::time::timeout(SCRAPE_DB_TIMEOUT, task_counts(pool))).await;
        let counts = match counts {
            Ok(Ok(rows)) => Some(rows),
            Ok(Err(err)) => {
                tracing::warn!(error = %err, "metrics: the task counts could not be read; left out of this scrape");
                None
            }
            Err(_) => {
                tracing::warn!("metrics: the task counts took too long; left out of this scrape");
                None
            }
        };
        self.record(|| {
            // Sampled now: sqlx keeps these itself.
            gauge!("sms_db_pool_connections").set(pool.size() as f64);
            gauge!("sms_db_pool_idle_connections").set(pool.num_idle() as f64);
            gauge!("sms_db_pool_max_connections").set(pool.options().get_max_connections() as f64);
            gauge!("sms_task_counts_up").set(if counts.is_some() { 1.0 } else { 0.0 });
            for (domain_id, state, n) in counts.into_iter().flatten() {
                gauge!("sms_tasks", "domain_id" => domain_id, "state" => state).set(n as f64);
            }
        });
        inner.handle.render()
    }

    fn run_upkeep(&self) {
        if let Some(inner) = &self.inner {
            inner.handle.run_upkeep();
        }
    }
}

/// The `# HELP` lines (README, Metrics, has the same list).
fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!("sms_http_requests_total", "API requests answered, by route template, method and status");
    describe_histogram!(
        "sms_http_request_duration_seconds",
        Unit::Seconds,
        "API request latency, by route template and method"
    );
    describe_gauge!("sms_db_pool_connections", "Open connections of the database pool (in use and idle)");
    describe_gauge!("sms_db_pool_idle_connections", "Idle connections of the database pool");
    describe_gauge!("sms_db_pool_max_connections", "Largest size of the database pool (database.pool_size)");
    describe_histogram!(
        "sms_db_pool_acquire_seconds",
        Unit::Seconds,
        "Time to get a connection from the pool, per acquisition by a request or a scrape"
    );
    describe_counter!(
        "sms_db_pool_acquire_waits_total",
        "Acquisitions that took over 1 ms: they waited for a connection to be returned or opened"
    );
    describe_counter!(
        "sms_db_unavailable_total",
        "503 SMS.8007 answers because of the database, by kind (unreachable, statement_timeout)"
    );
    describe_gauge!("sms_tasks", "Tasks by domain and state, from the maintained task_counts (no scan)");
    describe_gauge!(
        "sms_task_counts_up",
        "1 when this scrape read the task counts, 0 when it could not (sms_tasks left out)"
    );
    describe_counter!(
        "sms_agent_command_polls_total",
        "Agent command polls, by outcome (command, empty, SMS error code)"
    );
    describe_counter!("sms_agent_command_results_total", "Agent command results, by outcome (ok, SMS error code)");
    describe_counter!("sms_agent_progress_reports_total", "Agent progress reports, by outcome (ok, SMS error code)");
    describe_counter!(
        "sms_replica_fallbacks_total",
        "List pages read from the primary although database.replica_url is set, by reason (unreachable, lag, error)"
    );
    describe_gauge!("sms_replica_in_use", "1 while list pages are read from the replica, 0 while from the primary");
}

/// The task counts per domain and state, from the counters the triggers of `task_counts`
/// maintain (the sum over their shards): a read of that small table, never of `tasks`.
async fn task_counts(pool: &PgPool) -> Result<Vec<(String, String, i64)>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query(&format!("SET LOCAL statement_timeout = {SCRAPE_STATEMENT_TIMEOUT_MS}")).execute(&mut *tx).await?;
    let rows: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT domain_id, state, sum(n)::bigint FROM task_counts \
         GROUP BY domain_id, state ORDER BY domain_id, state LIMIT $1",
    )
    .bind(MAX_TASK_COUNT_SERIES)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    if rows.len() as i64 == MAX_TASK_COUNT_SERIES {
        tracing::warn!(series = MAX_TASK_COUNT_SERIES, "metrics: sms_tasks is cut at its series limit");
    }
    Ok(rows)
}

/// The `kind` of a 503 answer about the database (`db::fault::Fault`: `unreachable`,
/// `connection_lost`, `statement_timeout`), `None` for any other error.
pub fn unavailable_kind(err: &ApiError) -> Option<&'static str> {
    match err {
        ApiError::Unavailable(fault, _) => Some(fault.as_str()),
        _ => None,
    }
}

/// The method label: the standard methods by name, anything else as `other` (a client may send
/// any token as a method).
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

tokio::task_local! {
    /// The metrics of the application whose request (or scrape) is being served, so that
    /// [`PoolAcquireLayer`] credits a pool acquisition to the right application.
    static ACQUIRING: Metrics;
}

/// Counts every request by route template, method and status, with its latency, and every 503
/// that the database caused. Registered around the whole app, inside the request-id middleware.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let metrics = req.app_data::<web::Data<Metrics>>().map(|m| m.get_ref().clone()).unwrap_or_default();
    if !metrics.is_enabled() {
        return next.call(req).await;
    }
    // The template (`/v3/tasks/{task_id}`), never the path: ids would make a series each.
    let route = req.match_pattern().unwrap_or_else(|| UNMATCHED_ROUTE.to_owned());
    let method = method_label(req.method());
    let started = Instant::now();
    let result = ACQUIRING.scope(metrics.clone(), next.call(req)).await;
    let secs = started.elapsed().as_secs_f64();
    let (status, error) = match &result {
        Ok(response) => (response.status(), response.response().error()),
        Err(err) => (err.as_response_error().status_code(), Some(err)),
    };
    if let Some(kind) = error.and_then(|e| e.as_error::<ApiError>()).and_then(unavailable_kind) {
        metrics.record_unavailable(kind);
    }
    metrics.request(route, method, status, secs);
    result
}

/// The outcome label of an agent request: `ok` when it succeeded, else its SMS error code.
pub fn outcome<T>(result: &Result<T, ApiError>, ok: &'static str) -> &'static str {
    match result {
        Ok(_) => ok,
        Err(err) => err.code(),
    }
}

/// `GET /metrics`.
async fn serve_scrape(metrics: web::Data<Metrics>, pool: web::Data<PgPool>) -> HttpResponse {
    let body = metrics.scrape(&pool).await;
    HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(body)
}

/// The `/metrics` listener: a one-worker server of its own, so that scrapes never queue behind
/// API requests and the API never serves metrics. It has no signal handling of its own:
/// [`Application::run_until_stopped`](crate::startup::Application::run_until_stopped) stops it
/// after the API server.
pub fn server(
    listener: TcpListener,
    metrics: Metrics,
    pool: PgPool,
    shutdown_timeout_secs: u64,
) -> std::io::Result<Server> {
    let metrics = web::Data::new(metrics);
    let pool = web::Data::new(pool);
    Ok(HttpServer::new(move || {
        App::new().app_data(metrics.clone()).app_data(pool.clone()).service(web::resource("/metrics").get(serve_scrape))
    })
    .workers(1)
    .disable_signals()
    .shutdown_timeout(shutdown_timeout_secs)
    .listen(listener)?
    .run())
}

/// Drains the histograms' recent samples into their buckets every few seconds, so that memory
/// stays flat between scrapes. Ends when the returned task is aborted.
pub fn spawn_upkeep(metrics: Metrics) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(Duration::from_secs(5));
        loop {
            interval.tick().await;
            metrics.run_upkeep();
        }
    })
}

/// A `tracing` layer that turns sqlx's "acquired connection" events into
/// `sms_db_pool_acquire_seconds` of the application being served (sqlx has no other way to
/// report the time spent waiting for a pool connection). Add it with
/// [`PoolAcquireLayer::filtered`], so that it sees nothing else.
pub struct PoolAcquireLayer;

impl PoolAcquireLayer {
    /// The layer with its own filter (sqlx's acquire target only), so that it neither widens nor
    /// narrows what the log layer sees.
    pub fn filtered<S>() -> impl Layer<S>
    where
        S: Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    {
        PoolAcquireLayer
            .with_filter(tracing_subscriber::filter::Targets::new().with_target(ACQUIRE_TARGET, tracing::Level::TRACE))
    }
}

impl<S: Subscriber> Layer<S> for PoolAcquireLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        struct Secs(Option<f64>);
        impl Visit for Secs {
            fn record_f64(&mut self, field: &Field, value: f64) {
                if field.name() == ACQUIRE_FIELD {
                    self.0 = Some(value);
                }
            }
            fn record_debug(&mut self, _field: &Field, _value: &dyn std::fmt::Debug) {}
        }
        let mut secs = Secs(None);
        event.record(&mut secs);
        if let Some(secs) = secs.0 {
            // Outside a request or a scrape (start-up work), there is no application to credit.
            let _ = ACQUIRING.try_with(|metrics| metrics.pool_acquired(secs));
        }
    }
}
