//! Prometheus metrics on their own listener (`server.metrics_listen`), read back by scraping a
//! real server after real requests; and `sms-tasks healthcheck`, run as the real binary.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::json;

use crate::helpers::*;

/// One sample of the text exposition: name, labels, value.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

struct Scrape(Vec<Sample>);

impl Scrape {
    /// The samples of `name` whose labels include `labels`.
    fn matching(&self, name: &str, labels: &[(&str, &str)]) -> Vec<&Sample> {
        self.0
            .iter()
            .filter(|s| s.name == name && labels.iter().all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v)))
            .collect()
    }

    /// The value of the one sample of `name` with `labels`; panics when there is none or several.
    #[track_caller]
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        match self.matching(name, labels).as_slice() {
            [one] => one.value,
            other => panic!("expected one sample {name} {labels:?}, found {other:?}"),
        }
    }

    fn has(&self, name: &str) -> bool {
        self.0.iter().any(|s| s.name == name)
    }
}

/// Parses the Prometheus text format (the subset the exporter writes).
fn parse(text: &str) -> Scrape {
    let mut samples = Vec::new();
    for line in text.lines().filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("no value: {line}"));
        let value = match value {
            "+Inf" => f64::INFINITY,
            v => v.parse().unwrap_or_else(|_| panic!("bad value: {line}")),
        };
        let (name, labels) = match series.split_once('{') {
            None => (series.to_string(), BTreeMap::new()),
            Some((name, rest)) => (name.to_string(), parse_labels(rest.strip_suffix('}').expect("labels end with }"))),
        };
        samples.push(Sample { name, labels, value });
    }
    Scrape(samples)
}

fn parse_labels(mut text: &str) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    while !text.is_empty() {
        let (key, rest) = text.split_once("=\"").expect("key=\"value\"");
        let mut value = String::new();
        let mut chars = rest.char_indices();
        let end = loop {
            match chars.next().expect("a closing quote") {
                (_, '\\') => value.push(match chars.next().unwrap().1 {
                    'n' => '\n',
                    c => c,
                }),
                (i, '"') => break i,
                (_, c) => value.push(c),
            }
        };
        labels.insert(key.to_string(), value);
        text = rest[end + 1..].trim_start_matches(',');
    }
    labels
}

async fn spawn_with_metrics() -> TestApp {
    spawn_app_with(|s| s.server.metrics_listen = "127.0.0.1:0".into()).await
}

async fn scrape(app: &TestApp) -> Scrape {
    let address = app.metrics_address.as_ref().expect("metrics are on");
    let response = app.client.get(format!("{address}/metrics")).send().await.expect("the scrape is answered");
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap().to_string();
    assert!(content_type.starts_with("text/plain; version=0.0.4"), "{content_type}");
    parse(&response.text().await.unwrap())
}

#[tokio::test]
async fn metrics_are_off_when_the_setting_is_empty() {
    let app = spawn_app().await;
    assert_eq!(app.metrics_address, None);
    // Nor does the API listener serve them.
    app.send(app.client.get(app.url("/metrics"))).await.assert_error(404, "APIGW.0101");
}

#[tokio::test]
async fn requests_are_counted_by_route_template_method_and_status_with_latency_histograms() {
    let app = spawn_with_metrics().await;
    let missing = "00000000-0000-4000-8000-0000000000aa";
    for _ in 0..3 {
        app.get(&format!("/v3/tasks/{missing}")).await.assert_error(404, "SMS.8005");
    }
    let task = app.create_example_task().await;
    app.get(&format!("/v3/tasks/{task}")).await.assert_ok();
    app.send(app.client.get(app.url("/health"))).await;
    app.get("/v3/no/such/api").await.assert_error(404, "APIGW.0101");
    app.get("/nowhere").await.assert_error(404, "APIGW.0101");
    app.send(app.client.delete(app.url("/v3/tasks")).header("X-Auth-Token", TOKEN_A))
        .await
        .assert_error(405, "SMS.2003");
    app.send(app.client.get(app.url("/v3/tasks"))).await.assert_error(401, "APIGW.0301");
    app.get("/v3/sources/overview").await.assert_ok();

    let m = scrape(&app).await;
    let requests = |route: &str, method: &str, status: &str| {
        m.value("sms_http_requests_total", &[("route", route), ("method", method), ("status", status)])
    };
    assert_eq!(requests("/v3/tasks/{task_id}", "GET", "404"), 3.0);
    assert_eq!(requests("/v3/tasks/{task_id}", "GET", "200"), 1.0);
    assert_eq!(requests("/v3/tasks", "POST", "200"), 1.0);
    assert_eq!(requests("/v3/sources", "POST", "200"), 1.0);
    assert_eq!(requests("/health", "GET", "200"), 1.0);
    assert_eq!(requests("/v3/tasks", "DELETE", "405"), 1.0);
    assert_eq!(requests("/v3/tasks", "GET", "401"), 1.0);
    // A fixed path wins over the `{source_id}` template, as in routing.
    assert_eq!(requests("/v3/sources/overview", "GET", "200"), 1.0);
    assert_eq!(requests("unmatched", "GET", "404"), 2.0);
    // Templates only: no id and no unknown path becomes a label.
    let text_labels: Vec<&String> = m.0.iter().flat_map(|s| s.labels.values()).collect();
    for raw in [missing, task.as_str(), "/v3/no/such/api", "/nowhere"] {
        assert!(!text_labels.iter().any(|v| v.contains(raw)), "{raw} is a label value");
    }

    // The latency histogram of that route: every bucket, cumulative, ending at the count.
    let route = [("route", "/v3/tasks/{task_id}"), ("method", "GET")];
    let mut buckets: Vec<(f64, f64)> = m
        .matching("sms_http_request_duration_seconds_bucket", &route)
        .iter()
        .map(|s| (s.labels["le"].parse::<f64>().unwrap_or(f64::INFINITY), s.value))
        .collect();
    buckets.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap());
    let bounds: Vec<f64> = buckets.iter().map(|b| b.0).collect();
    assert_eq!(
        bounds,
        [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, f64::INFINITY]
    );
    assert!(buckets.windows(2).all(|w| w[0].1 <= w[1].1), "cumulative: {buckets:?}");
    assert_eq!(buckets.last().unwrap().1, 4.0);
    assert_eq!(m.value("sms_http_request_duration_seconds_count", &route), 4.0);
    let sum = m.value("sms_http_request_duration_seconds_sum", &route);
    assert!(sum > 0.0 && sum < 40.0, "{sum}");
}

#[tokio::test]
async fn pool_gauges_and_acquire_waits_are_exported() {
    let app = spawn_app_with(|s| {
        s.server.metrics_listen = "127.0.0.1:0".into();
        s.database.pool_size = 1;
    })
    .await;
    app.get("/v3/tasks").await.assert_ok();
    // Hold the pool's one connection: the next request waits for it.
    let held = app.pool.acquire().await.unwrap();
    let waiting = tokio::spawn({
        let (client, url) = (app.client.clone(), app.url("/v3/tasks"));
        async move { client.get(url).header("X-Auth-Token", TOKEN_A).send().await.unwrap().status() }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(held);
    assert_eq!(waiting.await.unwrap(), 200);

    let m = scrape(&app).await;
    assert_eq!(m.value("sms_db_pool_max_connections", &[]), 1.0);
    assert_eq!(m.value("sms_db_pool_connections", &[]), 1.0);
    let idle = m.value("sms_db_pool_idle_connections", &[]);
    assert!((0.0..=1.0).contains(&idle), "{idle}");
    // The requests' acquisitions (the scrape's own too), one of them after a wait of ≥ 300 ms.
    assert!(m.value("sms_db_pool_acquire_waits_total", &[]) >= 1.0);
    assert!(m.value("sms_db_pool_acquire_seconds_count", &[]) >= 2.0);
    let quick = m.value("sms_db_pool_acquire_seconds_bucket", &[("le", "0.25")]);
    let all = m.value("sms_db_pool_acquire_seconds_bucket", &[("le", "+Inf")]);
    assert!(all - quick >= 1.0, "one acquisition took longer than 0.25 s: {quick} of {all}");
    assert!(m.value("sms_db_pool_acquire_seconds_sum", &[]) >= 0.3);
}

#[tokio::test]
async fn task_counts_by_domain_and_state_match_the_api() {
    let app = spawn_with_metrics().await;
    let m = scrape(&app).await;
    assert_eq!(m.value("sms_task_counts_up", &[]), 1.0);
    assert!(!m.has("sms_tasks"), "no task yet");

    let mut started = Vec::new();
    for i in 0..3 {
        let source = app.register_source_as(TOKEN_A, &source_body(&format!("metrics-a-{i}"))).await;
        let task = app.create_task(&create_task_example(&source)).await;
        if i == 0 {
            app.post(&format!("/v3/tasks/{task}/action"), &json!({ "operation": "start" })).await.assert_ok();
            started.push(task);
        }
    }
    let source = app.register_source_as(TOKEN_B, &source_body("metrics-b")).await;
    app.post_as(TOKEN_B, "/v3/tasks", &create_task_example(&source)).await.assert_ok();

    let m = scrape(&app).await;
    let series = m.matching("sms_tasks", &[]);
    assert_eq!(series.len(), 3, "{series:?}");
    for (token, domain) in [(TOKEN_A, DOMAIN_A), (TOKEN_B, DOMAIN_B)] {
        let total = app.get_as(token, "/v3/tasks").await.assert_ok()["count"].as_f64().unwrap();
        let mut summed = 0.0;
        for sample in m.matching("sms_tasks", &[("domain_id", domain)]) {
            let state = &sample.labels["state"];
            let count = app.get_as(token, &format!("/v3/tasks?state={state}")).await.assert_ok()["count"].as_f64();
            assert_eq!(Some(sample.value), count, "{domain} {state}");
            summed += sample.value;
        }
        assert_eq!(summed, total, "{domain}");
    }
    assert_eq!(m.value("sms_tasks", &[("domain_id", DOMAIN_A), ("state", "RUNNING")]), 1.0);
    assert_eq!(m.value("sms_tasks", &[("domain_id", DOMAIN_A), ("state", "READY")]), 2.0);
    assert_eq!(m.value("sms_tasks", &[("domain_id", DOMAIN_B), ("state", "READY")]), 1.0);

    // When the counts cannot be read, the scrape still answers: without them, and says so.
    app.execute("ALTER TABLE task_counts RENAME TO task_counts_away").await;
    let m = scrape(&app).await;
    assert_eq!(m.value("sms_task_counts_up", &[]), 0.0);
    assert!(!m.has("sms_tasks"), "no stale counts");
    assert!(m.has("sms_db_pool_connections") && m.has("sms_http_requests_total"));
    app.execute("ALTER TABLE task_counts_away RENAME TO task_counts").await;
    let m = scrape(&app).await;
    assert_eq!(m.value("sms_task_counts_up", &[]), 1.0);
    assert_eq!(m.value("sms_tasks", &[("domain_id", DOMAIN_A), ("state", "RUNNING")]), 1.0);
}

#[tokio::test]
async fn agent_polls_results_and_progress_reports_are_counted_by_outcome() {
    let app = spawn_with_metrics().await;
    let source = app.register_source().await;
    let task = app.create_task(&create_task_example(&source)).await;
    let command = format!("/v3/sources/{source}/command");
    let progress = |subtask: &str, value: i64| json!({ "subtask_name": subtask, "progress": value, "replicatesize": 1, "totalsize": 4, "process_trace": "t" });
    let report = format!("/v3/tasks/{task}/progress");

    app.get(&command).await.assert_ok();
    app.put(&report, &progress("SSL_CONFIG", 10)).await.assert_error(400, "SMS.8009");
    app.post(&format!("/v3/tasks/{task}/action"), &json!({ "operation": "start" })).await.assert_ok();
    assert_eq!(app.get(&command).await.assert_ok()["command_name"], "START");
    let ack = json!({ "command_name": "START", "result": "success", "result_detail": {} });
    app.post(&format!("/v3/sources/{source}/command_result"), &ack).await.assert_ok();
    let unknown = "00000000-0000-4000-8000-0000000000bb";
    app.post(&format!("/v3/sources/{unknown}/command_result"), &ack).await.assert_error(404, "SMS.8006");
    app.get(&command).await.assert_ok();
    app.get(&format!("/v3/sources/{unknown}/command")).await.assert_error(404, "SMS.8006");
    for value in [20, 40] {
        app.put(&report, &progress("CREATE_CLOUD_SERVER", value)).await.assert_ok();
    }
    app.put(&report, &progress("NO_SUCH_SUBTASK", 5)).await.assert_invalid("subtask_name");
    app.put(&report, &json!({ "subtask_name": "SSL_CONFIG" })).await.assert_invalid("replicatesize");

    let m = scrape(&app).await;
    let polls = |outcome| m.value("sms_agent_command_polls_total", &[("outcome", outcome)]);
    assert_eq!((polls("empty"), polls("command"), polls("SMS.8006")), (2.0, 1.0, 1.0));
    let reports = |outcome| m.value("sms_agent_progress_reports_total", &[("outcome", outcome)]);
    assert_eq!((reports("ok"), reports("SMS.8009"), reports("SMS.8001")), (2.0, 1.0, 1.0));
    let results = |outcome| m.value("sms_agent_command_results_total", &[("outcome", outcome)]);
    assert_eq!((results("ok"), results("SMS.8006")), (1.0, 1.0));
    // A body that does not parse never reaches the handler: it is a 400 of the route only.
    assert_eq!(m.matching("sms_agent_progress_reports_total", &[]).len(), 3);
}

#[tokio::test]
async fn database_unavailable_answers_are_counted_by_kind() {
    let app = spawn_app_with(|s| {
        s.server.metrics_listen = "127.0.0.1:0".into();
        s.database.pool_size = 1;
    })
    .await;
    let m = scrape(&app).await;
    assert_eq!(m.value("sms_db_unavailable_total", &[("kind", "unreachable")]), 0.0);
    assert_eq!(m.value("sms_db_unavailable_total", &[("kind", "statement_timeout")]), 0.0);

    // With the pool's only connection held, readiness cannot reach the database: 503 SMS.8007.
    let held = app.pool.acquire().await.unwrap();
    let reply = app.send(app.client.get(app.url("/health/ready"))).await;
    drop(held);
    reply.assert_error(503, "SMS.8007");
    let m = scrape(&app).await;
    assert_eq!(m.value("sms_db_unavailable_total", &[("kind", "unreachable")]), 1.0);
    assert_eq!(m.value("sms_db_unavailable_total", &[("kind", "statement_timeout")]), 0.0);
    assert_eq!(m.value("sms_http_requests_total", &[("route", "/health/ready"), ("status", "503")]), 1.0);
}

#[tokio::test]
async fn a_statement_past_the_timeout_is_counted_as_a_statement_timeout() {
    let app = spawn_app_with(|s| {
        s.server.metrics_listen = "127.0.0.1:0".into();
        s.database.statement_timeout_ms = 200;
    })
    .await;
    let task = app.create_example_task().await;
    let mut holder = app.pool.begin().await.unwrap();
    sqlx::query("SELECT 1 FROM tasks WHERE id = $1::uuid FOR UPDATE").bind(&task).execute(&mut *holder).await.unwrap();
    app.put(&format!("/v3/tasks/{task}"), &serde_json::json!({ "name": "x" })).await.assert_error(503, "SMS.8007");
    holder.rollback().await.unwrap();
    let m = scrape(&app).await;
    assert_eq!(m.value("sms_db_unavailable_total", &[("kind", "statement_timeout")]), 1.0);
    assert_eq!(m.value("sms_db_unavailable_total", &[("kind", "unreachable")]), 0.0);
}

/// Runs the real `sms-tasks healthcheck` with `args`; its exit code and output.
async fn healthcheck(args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_sms-tasks"))
        .arg("healthcheck")
        .args(args)
        .envs(env.iter().copied())
        .env_remove("SMS_CONFIG")
        .output()
        .await
        .expect("the binary runs");
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.code().expect("an exit code"), text)
}

#[tokio::test]
async fn healthcheck_exits_0_when_ready_and_1_otherwise() {
    let app = spawn_app().await;
    let ready = app.url("/health/ready");
    let (code, text) = healthcheck(&["--url", &ready], &[]).await;
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("answered 200"), "{text}");

    // Without --url: /health/ready on server.listen.
    let listen = app.address.trim_start_matches("http://");
    let (code, text) = healthcheck(&[], &[("SMS__SERVER__LISTEN", listen)]).await;
    assert_eq!(code, 0, "{text}");

    // Another status than 200 (here 401) is not ready.
    let (code, text) = healthcheck(&["--url", &app.url("/v3/tasks")], &[]).await;
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("answered 401"), "{text}");

    // Nothing listening.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let (code, text) = healthcheck(&["--url", &format!("http://{closed}/health/ready")], &[]).await;
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("not ready") && text.contains("cannot connect"), "{text}");

    // A listener that never answers: the timeout ends the check.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/health/ready", silent.local_addr().unwrap());
    let (code, text) = healthcheck(&["--url", &url, "--timeout-secs", "1"], &[]).await;
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("no answer within 1 s"), "{text}");
}
